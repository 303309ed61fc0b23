/*
 * Draws every chart of a page with Chart.js. The page lists its charts in a json_script element
 * (#chart-specs: canvas id, data URL, kind, stacked, percent, parts, axis titles); each chart's
 * data comes from the chart API. Templates hold no JavaScript, so a strict
 * Content-Security-Policy (script-src 'self') holds.
 *
 * Readable at a glance: a chart draws at most MAX_SHOWN series (or bars, or slices) at first,
 * the largest on the window's latest day, and one "other" for the rest (a button shows them
 * all; the table under the chart always has every number). Each name has one look on the whole
 * page: the Okabe-Ito palette (safe for the common colour-vision deficiencies) times a dash,
 * point style and fill pattern, so colour is never the only cue and 64 names look apart. The
 * legend is HTML under the canvas, so it never takes the plot's room on a phone.
 */
(function () {
  "use strict";

  const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#B8A200"];
  const DASHES = [[], [8, 4], [2, 3], [12, 3, 3, 3], [4, 4], [1, 5], [16, 4], [6, 2, 2, 2]];
  const POINTS = ["circle", "triangle", "rect", "rectRot", "star", "crossRot", "cross", "rectRounded"];
  const LOOKS = PALETTE.length * DASHES.length;
  // The look of "other" (the folded rest, or the small counts the public data folds).
  const OTHER_LOOK = -1;
  const OTHER_COLOUR = "#7a7a7a";
  const OTHER = "other";
  const MAX_SHOWN = 12;
  // Lines with this many points or more are drawn without point markers (they would merge);
  // a phone has room for fewer.
  const MAX_MARKED_POINTS = 120;
  const MAX_MARKED_POINTS_NARROW = 40;

  /* Looks: each name keeps one look on the page; a version ("16.2", "3.45.2") takes the colour
   * of its family ("16", "3.45") when the page charts that. A look is a number: its colour is
   * look % 8, its variant (dash, point style, fill pattern) look / 8. */
  function Looks() {
    this.byName = new Map();
    this.next = 0;
  }

  Looks.prototype.of = function (name) {
    if (name === OTHER || name.indexOf(OTHER + " (") === 0) {
      return OTHER_LOOK;
    }
    if (!this.byName.has(name)) {
      const family = this.family(name);
      this.byName.set(name, family === null ? this.fresh() : family);
    }
    return this.byName.get(name);
  };

  Looks.prototype.fresh = function () {
    const look = this.next % LOOKS;
    this.next += 1;
    return look;
  };

  Looks.prototype.family = function (name) {
    const parts = name.split(".");
    for (let length = parts.length - 1; length > 0; length -= 1) {
      const prefix = parts.slice(0, length).join(".");
      if (this.byName.has(prefix)) {
        return this.byName.get(prefix);
      }
    }
    return null;
  };

  // The looks of the names of one chart: the page's, but never twice in the chart (a second
  // version of one family takes the family's colour with another variant).
  Looks.prototype.distinct = function (names) {
    const taken = new Set();
    const self = this;
    return names.map(function (name) {
      let look = self.of(name);
      if (look === OTHER_LOOK) {
        return look;
      }
      for (let tries = 0; taken.has(look) && tries < LOOKS; tries += 1) {
        look = (look + PALETTE.length) % LOOKS;
      }
      taken.add(look);
      return look;
    });
  };

  function colourOf(look) {
    return look === OTHER_LOOK ? OTHER_COLOUR : PALETTE[look % PALETTE.length];
  }

  function variantOf(look) {
    // The first eight looks differ in every cue; later ones repeat a colour, not a variant.
    if (look === OTHER_LOOK) {
      return 4;
    }
    const colour = look % PALETTE.length;
    return (colour + Math.floor(look / PALETTE.length)) % DASHES.length;
  }

  function dashOf(look) {
    return look === OTHER_LOOK ? [3, 3] : DASHES[variantOf(look)];
  }

  function pointOf(look) {
    return look === OTHER_LOOK ? "line" : POINTS[variantOf(look)];
  }

  // A repeating tile: the colour, with white marks whose shape is the look's variant.
  function pattern(look) {
    const size = 10;
    const tile = document.createElement("canvas");
    tile.width = size;
    tile.height = size;
    const ctx = tile.getContext("2d");
    ctx.fillStyle = colourOf(look);
    ctx.fillRect(0, 0, size, size);
    ctx.strokeStyle = "rgba(255, 255, 255, 0.85)";
    ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    switch (variantOf(look)) {
      case 0: break; // solid
      case 1: ctx.moveTo(0, size); ctx.lineTo(size, 0); break; // diagonal
      case 2: ctx.arc(size / 2, size / 2, 1.8, 0, 2 * Math.PI); ctx.fill(); break; // dots
      case 3: ctx.moveTo(0, size / 2); ctx.lineTo(size, size / 2); break; // horizontal
      case 4: ctx.moveTo(0, 0); ctx.lineTo(size, size); ctx.moveTo(0, size); ctx.lineTo(size, 0); break;
      case 5: ctx.moveTo(size / 2, 0); ctx.lineTo(size / 2, size); break; // vertical
      case 6: ctx.moveTo(0, 0); ctx.lineTo(size, size); break; // anti-diagonal
      default: ctx.rect(2, 2, size - 4, size - 4); break; // squares
    }
    ctx.stroke();
    return ctx.createPattern(tile, "repeat");
  }

  // One format per kind: percentages with one decimal, counts whole, averages one decimal.
  function formatted(value, percent) {
    if (value === null || value === undefined) {
      return "no value";
    }
    const number = Number(value);
    if (percent) {
      return number.toLocaleString("en", { minimumFractionDigits: 1, maximumFractionDigits: 1 }) + "%";
    }
    return number.toLocaleString("en", { maximumFractionDigits: Number.isInteger(number) ? 0 : 1 });
  }

  /* Folding: the rest beyond the largest into one "other". */

  // The series' value on the window's latest day that has one.
  function latestValue(values) {
    for (let index = values.length - 1; index >= 0; index -= 1) {
      if (values[index] !== null && values[index] !== undefined) {
        return Number(values[index]);
      }
    }
    return 0;
  }

  // The indexes of the `count` largest `sizes` (ties: the first), in their own order.
  function largest(sizes, count) {
    const ranked = sizes.map(function (size, index) { return index; });
    ranked.sort(function (a, b) { return sizes[b] - sizes[a] || a - b; });
    return ranked.slice(0, count).sort(function (a, b) { return a - b; });
  }

  function sum(values) {
    const known = values.filter(function (v) { return v !== null && v !== undefined; });
    return known.length ? known.reduce(function (a, b) { return a + Number(b); }, 0) : null;
  }

  function otherLabel(count) {
    return OTHER + " (" + count + " more)";
  }

  // {data, hidden}: what the chart draws by default, and how many of its series or labels are
  // left out (folded into "other" when they are parts of one whole, else only in the table).
  function folded(spec, data) {
    const many = data.datasets.length > 1;
    const count = many ? data.datasets.length : data.labels.length;
    if (count <= MAX_SHOWN || (!many && data.datasets.length === 0)) {
      return { data: data, hidden: 0 };
    }
    const keep = spec.parts ? MAX_SHOWN - 1 : MAX_SHOWN;
    if (many) {
      const sizes = data.datasets.map(function (d) {
        return d.label === OTHER ? -Infinity : latestValue(d.data);
      });
      const kept = largest(sizes, keep);
      const datasets = kept.map(function (index) { return data.datasets[index]; });
      const rest = data.datasets.filter(function (_, index) { return kept.indexOf(index) < 0; });
      if (spec.parts) {
        datasets.push({
          label: otherLabel(rest.length),
          data: data.labels.map(function (_, day) {
            return sum(rest.map(function (d) { return d.data[day]; }));
          }),
        });
      }
      return { data: Object.assign({}, data, { datasets: datasets }), hidden: rest.length };
    }
    const values = data.datasets[0].data;
    const sizes = values.map(function (value, index) {
      if (data.labels[index] === OTHER) {
        return -Infinity;
      }
      // "This version or newer": the bars that add the most, not those that add up the most.
      const before = spec.cumulative && index > 0 ? Number(values[index - 1]) : 0;
      return Number(value) - before;
    });
    const kept = largest(sizes, keep);
    const labels = kept.map(function (index) { return data.labels[index]; });
    const shown = kept.map(function (index) { return values[index]; });
    const restCount = data.labels.length - kept.length;
    if (spec.parts) {
      labels.push(otherLabel(restCount));
      shown.push(sum(values.filter(function (_, index) { return kept.indexOf(index) < 0; })));
    }
    const dataset = Object.assign({}, data.datasets[0], { data: shown });
    return { data: Object.assign({}, data, { labels: labels, datasets: [dataset] }), hidden: restCount };
  }

  /* Styling. */

  function pie(spec) {
    return spec.kind === "pie" || spec.kind === "doughnut";
  }

  // The names that carry a look: the series, or the labels of a chart of one series.
  function names(data) {
    if (data.datasets.length > 1) {
      return data.datasets.map(function (d) { return d.label; });
    }
    return data.labels.slice();
  }

  function styleDatasets(spec, data, looks) {
    const narrow = window.matchMedia("(max-width: 40rem)").matches;
    const marked = data.labels.length < (narrow ? MAX_MARKED_POINTS_NARROW : MAX_MARKED_POINTS);
    const many = data.datasets.length > 1;
    const each = looks.distinct(names(data));
    data.datasets.forEach(function (dataset, index) {
      if (!many && (pie(spec) || spec.kind === "bar")) {
        // One series: each slice or bar takes the look of its label.
        dataset.looks = each;
        dataset.backgroundColor = each.map(pattern);
        dataset.borderColor = pie(spec) ? "#ffffff" : each.map(colourOf);
        dataset.borderWidth = pie(spec) ? 2 : 1;
        return;
      }
      const look = each[index];
      const colour = colourOf(look);
      dataset.look = look; // (read by the browser tests: one look per name on the page)
      if (spec.kind === "bar" || spec.stacked) {
        dataset.backgroundColor = pattern(look);
        dataset.borderColor = colour;
        dataset.borderWidth = spec.stacked ? 1.5 : 1;
        if (spec.stacked) {
          dataset.fill = index === 0 ? "origin" : "-1";
          dataset.pointRadius = 0;
          dataset.pointStyle = pointOf(look);
        }
      } else {
        dataset.borderColor = colour;
        dataset.backgroundColor = colour;
        dataset.borderWidth = 2.5;
        dataset.borderDash = dashOf(look);
        dataset.pointStyle = pointOf(look);
        dataset.pointRadius = marked ? 3 : 0;
        dataset.spanGaps = false;
        // Later lines are drawn over earlier ones ("persistent" over "all"), their dashes
        // showing where they run on the same values.
        dataset.order = data.datasets.length - index;
      }
    });
    return each;
  }

  function axis(title, options) {
    return Object.assign({ title: { display: true, text: title }, grid: { color: "#e3e3e3" } }, options);
  }

  function periodLabel(data, label) {
    const days = data.partial && data.partial[label];
    return days ? label + " (partial: " + days + " day" + (days === 1 ? "" : "s") + ")" : label;
  }

  function configure(spec, data, looks) {
    const horizontal = spec.kind === "bar";
    const narrow = window.matchMedia("(max-width: 40rem)").matches;
    const each = styleDatasets(spec, data, looks);
    const valueAxis = {
      beginAtZero: true,
      stacked: spec.stacked,
      // Whole-number ticks: counts of systems never come in halves (averages may, between them).
      ticks: { precision: 0, callback: function (value) { return formatted(value, spec.percent); } },
    };
    if (spec.percent) {
      valueAxis.max = 100;
    }
    const options = {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: pie(spec) ? { mode: "nearest", intersect: true } : { mode: "index", intersect: false },
      plugins: {
        // The legend is HTML under the canvas (legend()): it never takes the plot's room.
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: function (items) {
              return items.length && !pie(spec) ? periodLabel(data, items[0].label) : undefined;
            },
            label: function (item) {
              const many = item.chart.data.datasets.length > 1;
              const name = many ? item.dataset.label : item.label;
              return name + ": " + formatted(item.raw, spec.percent);
            },
          },
        },
      },
    };
    const markers = (spec.markers || []).filter(function (m) { return data.labels.indexOf(m.label) >= 0; });
    if (!pie(spec) && markers.length) {
      // chartjs-plugin-annotation: a dashed vertical line at each marked label (a new core X.Y).
      options.plugins.annotation = { annotations: markers.map(function (marker, index) {
        return {
          type: "line",
          scaleID: "x",
          value: marker.label,
          borderColor: "#4a4a4a",
          borderWidth: 1,
          borderDash: [4, 4],
          label: {
            display: true,
            content: marker.text,
            position: index % 2 ? "end" : "start",
            backgroundColor: "rgba(255, 255, 255, 0.85)",
            color: "#1b1b1b",
            font: { size: 10 },
            padding: 2,
          },
        };
      }) };
    }
    if (!pie(spec)) {
      const labelAxis = axis(spec.x_title, {
        stacked: spec.stacked,
        ticks: {
          autoSkip: true,
          maxRotation: narrow ? 50 : 60,
          callback: function (value) {
            const label = this.getLabelForValue(value);
            return data.partial && data.partial[label] ? label + " (partial)" : label;
          },
        },
      });
      const values = axis(narrow ? "" : spec.y_title, valueAxis);
      values.title.display = !narrow;
      options.indexAxis = horizontal ? "y" : "x";
      options.scales = horizontal ? { x: values, y: labelAxis } : { x: labelAxis, y: values };
    }
    const type = pie(spec) ? spec.kind : horizontal ? "bar" : "line";
    return { config: { type: type, data: data, options: options }, each: each };
  }

  /* The HTML legend: one button per series (or slice) that hides or shows it. */

  function swatch(look, line) {
    const canvas = document.createElement("canvas");
    canvas.width = 28;
    canvas.height = 12;
    canvas.className = "swatch";
    canvas.setAttribute("aria-hidden", "true");
    const ctx = canvas.getContext("2d");
    if (line) {
      ctx.strokeStyle = colourOf(look);
      ctx.lineWidth = 2.5;
      ctx.setLineDash(dashOf(look));
      ctx.beginPath();
      ctx.moveTo(0, 6);
      ctx.lineTo(28, 6);
      ctx.stroke();
    } else {
      ctx.fillStyle = pattern(look);
      ctx.fillRect(0, 0, 28, 12);
      ctx.strokeStyle = colourOf(look);
      ctx.strokeRect(0.5, 0.5, 27, 11);
    }
    return canvas;
  }

  function legend(spec, chart, each) {
    const list = document.createElement("ul");
    list.className = "legend";
    const many = chart.data.datasets.length > 1;
    if (!many && !pie(spec)) {
      return list; // bars of one series: the axis names them
    }
    const line = many && !spec.stacked && spec.kind === "line";
    names(chart.data).forEach(function (name, index) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.setAttribute("aria-pressed", "true");
      button.title = "Hide or show " + name;
      button.appendChild(swatch(each[index], line));
      button.appendChild(document.createTextNode(name));
      button.addEventListener("click", function () {
        const shown = button.getAttribute("aria-pressed") === "true";
        if (many) {
          chart.setDatasetVisibility(index, !shown);
        } else {
          chart.toggleDataVisibility(index);
        }
        button.setAttribute("aria-pressed", shown ? "false" : "true");
        chart.update();
      });
      item.appendChild(button);
      list.appendChild(item);
    });
    return list;
  }

  function fail(canvas, message) {
    const note = document.createElement("p");
    note.className = "empty";
    note.textContent = "The chart could not be drawn (" + message + "); the numbers are in the table below.";
    canvas.parentElement.replaceWith(note);
  }

  function fetchData(spec) {
    // A chart made on the page (release adoption) brings its data in the spec.
    if (spec.data) {
      return Promise.resolve(spec.data);
    }
    return fetch(spec.url, { headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  }

  // Draws the chart, folded or whole; returns the Chart.
  function render(spec, canvas, data, looks, whole) {
    const box = canvas.parentElement;
    const shown = whole ? { data: data, hidden: 0 } : folded(spec, data);
    const copy = JSON.parse(JSON.stringify(shown.data));
    if (spec.kind === "bar") {
      // Horizontal bars: give each label a row of its own.
      box.style.height = Math.max(12, copy.labels.length * 1.8 + 5) + "rem";
    }
    const previous = window.Chart.getChart(canvas);
    if (previous) {
      previous.destroy();
    }
    const configured = configure(spec, copy, looks);
    const chart = new window.Chart(canvas, configured.config);
    const old = box.parentElement.querySelector(".chart-extras");
    const extras = document.createElement("div");
    extras.className = "chart-extras";
    extras.appendChild(legend(spec, chart, configured.each));
    if (whole || shown.hidden) {
      const count = data.datasets.length > 1 ? data.datasets.length : data.labels.length;
      const note = document.createElement("p");
      note.className = "folded";
      if (!whole) {
        note.textContent = spec.parts
          ? "The " + (MAX_SHOWN - 1) + " largest on the latest day, and the other " + shown.hidden + " added up. "
          : "The " + MAX_SHOWN + " largest on the latest day; " + shown.hidden + " more are in the table. ";
      }
      const button = document.createElement("button");
      button.type = "button";
      button.className = "show-all";
      button.textContent = whole ? "Show the " + MAX_SHOWN + " largest" : "Show all " + count;
      button.setAttribute("aria-expanded", whole ? "true" : "false");
      button.addEventListener("click", function () {
        render(spec, canvas, data, looks, !whole);
        const again = box.parentElement.querySelector(".show-all");
        if (again) {
          again.focus();
        }
      });
      note.appendChild(button);
      extras.appendChild(note);
    }
    if (old) {
      old.replaceWith(extras);
    } else {
      box.after(extras);
    }
    return chart;
  }

  function draw(spec, data, looks) {
    const canvas = document.getElementById(spec.canvas);
    render(spec, canvas, data, looks, false);
    // With the chart drawn, its table waits behind "The numbers" (open without JavaScript).
    const numbers = canvas.closest("section").querySelector("details.numbers");
    if (numbers) {
      numbers.open = false;
    }
  }

  function start() {
    const element = document.getElementById("chart-specs");
    if (!element || !window.Chart) {
      return;
    }
    window.Chart.defaults.color = "#1b1b1b";
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    const specs = JSON.parse(element.textContent).filter(function (spec) {
      return document.getElementById(spec.canvas);
    });
    document.documentElement.dataset.charts = "loading";
    const looks = new Looks();
    Promise.all(specs.map(function (spec) {
      return fetchData(spec).then(
        function (data) { return { spec: spec, data: data }; },
        function (error) { return { spec: spec, error: error }; }
      );
    })).then(function (results) {
      // Series names first, in page order, so that a version's slice or bar finds its family.
      results.forEach(function (result) {
        if (result.data && result.data.datasets.length > 1) {
          looks.distinct(names(folded(result.spec, result.data).data));
        }
      });
      let failed = null;
      results.forEach(function (result) {
        const canvas = document.getElementById(result.spec.canvas);
        try {
          if (result.error) {
            throw result.error;
          }
          draw(result.spec, result.data, looks);
        } catch (error) {
          fail(canvas, error.message);
          failed = failed || error;
        }
      });
      if (failed) {
        document.documentElement.dataset.charts = "failed";
        console.error("pulpanalytics: a chart failed:", failed);
      } else {
        document.documentElement.dataset.charts = "drawn";
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
