/*
 * Draws every chart of a page with Chart.js. The page lists its charts in a json_script element
 * (#chart-specs: canvas id, data URL, kind, stacked, percent, axis titles); each chart's data
 * comes from the chart API. Templates hold no JavaScript, so a strict Content-Security-Policy
 * (script-src 'self') holds.
 *
 * Colour is never the only cue: the Okabe-Ito palette (safe for the common colour-vision
 * deficiencies) plus a dash pattern and point style per line, and a fill pattern per area,
 * bar or slice.
 */
(function () {
  "use strict";

  const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"];
  const DASHES = [[], [8, 4], [2, 3], [12, 3, 3, 3], [4, 4], [1, 5], [16, 4], [6, 2, 2, 2]];
  const POINTS = ["circle", "triangle", "rect", "rectRot", "star", "crossRot", "cross", "rectRounded"];
  // Lines with this many points or more are drawn without point markers (they would merge).
  const MAX_MARKED_POINTS = 120;

  function pick(list, index) {
    return list[index % list.length];
  }

  // A repeating tile: the colour, with white marks whose shape depends on the index.
  function pattern(index) {
    const size = 10;
    const tile = document.createElement("canvas");
    tile.width = size;
    tile.height = size;
    const ctx = tile.getContext("2d");
    ctx.fillStyle = pick(PALETTE, index);
    ctx.fillRect(0, 0, size, size);
    ctx.strokeStyle = "rgba(255, 255, 255, 0.85)";
    ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
    ctx.lineWidth = 1.5;
    const shape = Math.floor(index / PALETTE.length) % 2 === 0 ? index % 8 : (index + 4) % 8;
    ctx.beginPath();
    switch (shape) {
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

  function formatted(value, percent) {
    if (value === null || value === undefined) {
      return "no value";
    }
    const text = Number(value).toLocaleString("en", { maximumFractionDigits: 2 });
    return percent ? text + "%" : text;
  }

  function styleDatasets(spec, data) {
    const marked = data.labels.length < MAX_MARKED_POINTS;
    data.datasets.forEach(function (dataset, index) {
      const colour = pick(PALETTE, index);
      if (spec.kind === "pie" || spec.kind === "doughnut") {
        dataset.backgroundColor = dataset.data.map(function (_, slice) { return pattern(slice); });
        dataset.borderColor = "#ffffff";
        dataset.borderWidth = 2;
      } else if (spec.kind === "bar") {
        dataset.backgroundColor = pattern(index);
        dataset.borderColor = colour;
        dataset.borderWidth = 1;
      } else if (spec.stacked) {
        dataset.backgroundColor = pattern(index);
        dataset.borderColor = colour;
        dataset.borderWidth = 1.5;
        dataset.fill = index === 0 ? "origin" : "-1";
        dataset.pointRadius = 0;
        dataset.pointStyle = pick(POINTS, index);
      } else {
        dataset.borderColor = colour;
        dataset.backgroundColor = colour;
        dataset.borderWidth = 2;
        dataset.borderDash = pick(DASHES, index);
        dataset.pointStyle = pick(POINTS, index);
        dataset.pointRadius = marked ? 3 : 0;
        dataset.spanGaps = false;
      }
    });
    return data;
  }

  function axis(title, options) {
    return Object.assign({ title: { display: true, text: title }, grid: { color: "#e3e3e3" } }, options);
  }

  function configure(spec, data) {
    const pie = spec.kind === "pie" || spec.kind === "doughnut";
    const horizontal = spec.kind === "bar";
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
      interaction: pie ? { mode: "nearest", intersect: true } : { mode: "index", intersect: false },
      plugins: {
        legend: {
          display: pie || data.datasets.length > 1,
          position: "bottom",
          labels: { usePointStyle: !spec.stacked && !pie && !horizontal },
        },
        tooltip: {
          callbacks: {
            label: function (item) {
              const name = pie ? item.label : item.dataset.label;
              return name + ": " + formatted(item.raw, spec.percent);
            },
          },
        },
      },
    };
    const markers = (spec.markers || []).filter(function (m) { return data.labels.indexOf(m.label) >= 0; });
    if (!pie && markers.length) {
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
    if (!pie) {
      const labelAxis = axis(spec.x_title, { stacked: spec.stacked, ticks: { autoSkip: true, maxRotation: 60 } });
      const values = axis(spec.y_title, valueAxis);
      options.indexAxis = horizontal ? "y" : "x";
      options.scales = horizontal ? { x: values, y: labelAxis } : { x: labelAxis, y: values };
    }
    return { type: pie ? spec.kind : horizontal ? "bar" : "line", data: styleDatasets(spec, data), options: options };
  }

  function fail(canvas, message) {
    const note = document.createElement("p");
    note.className = "empty";
    note.textContent = "The chart could not be drawn (" + message + "); the numbers are in the table below.";
    canvas.parentElement.replaceWith(note);
  }

  function draw(spec) {
    const canvas = document.getElementById(spec.canvas);
    if (!canvas) {
      return Promise.resolve();
    }
    // A chart made on the page (release adoption) brings its data in the spec.
    const loaded = spec.data
      ? Promise.resolve(spec.data)
      : fetch(spec.url, { headers: { Accept: "application/json" } }).then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      });
    return loaded
      .then(function (data) {
        if (spec.kind === "bar") {
          // Horizontal bars: give each label a row of its own.
          canvas.parentElement.style.height = Math.max(12, data.labels.length * 1.8 + 5) + "rem";
        }
        new window.Chart(canvas, configure(spec, data));
      })
      .catch(function (error) {
        fail(canvas, error.message);
        throw error;
      });
  }

  function start() {
    const element = document.getElementById("chart-specs");
    if (!element || !window.Chart) {
      return;
    }
    window.Chart.defaults.color = "#1b1b1b";
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    const specs = JSON.parse(element.textContent);
    document.documentElement.dataset.charts = "loading";
    Promise.all(specs.map(draw)).then(
      function () { document.documentElement.dataset.charts = "drawn"; },
      function (error) {
        document.documentElement.dataset.charts = "failed";
        console.error("pulpanalytics: a chart failed:", error);
      }
    );
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
