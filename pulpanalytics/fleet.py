"""The demo fleet: a deterministic, realistic history of Pulp installations, written through ingest.

`manage.py simulate_fleet` (and so `make run`) fills an empty database with it. Every simulated
report is real Telemetry protobuf bytes handed to `ingest.ingest()` with the moment it was
"received", exactly as the POST view does; nothing here writes a row itself. What makes the fleet
look like the Pulp world (which plugins exist and how popular they are, how often they release,
how people upgrade) lives in this module and nowhere else: the product derives its plugin list
from the data.

The same seed, days, systems and end day give the same reports, byte for byte, in the same order.
"""

import random
import uuid
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from django.db import transaction

from pulpanalytics.ingest import ingest
from pulpanalytics.models import DailySummary, System
from pulpanalytics.telemetry_pb2 import Telemetry


@dataclass(frozen=True)
class Line:
    """A component's release line: how popular it is, where it starts, how fast it releases."""

    name: str
    share: float  # of long-lived installations that run it
    major: int
    first_minor: int  # the X.Y.0 out when the release history begins
    minor_every: tuple[int, int]  # days between two X.Y.0 releases (min, max)


LINES = (
    Line("core", 1.0, 3, 14, (14, 35)),
    Line("file", 0.55, 1, 10, (30, 75)),
    Line("rpm", 0.42, 3, 17, (21, 49)),
    Line("container", 0.38, 2, 10, (21, 56)),
    Line("ansible", 0.30, 0, 11, (28, 70)),
    Line("python", 0.28, 3, 5, (35, 90)),
    Line("deb", 0.10, 3, 0, (45, 120)),
    Line("certguard", 0.08, 1, 5, (90, 200)),
    Line("gem", 0.06, 0, 1, (60, 150)),
    Line("maven", 0.05, 0, 3, (60, 150)),
    Line("ostree", 0.05, 2, 0, (45, 120)),
    Line("galaxy", 0.05, 4, 5, (30, 75)),
    Line("npm", 0.03, 0, 1, (90, 200)),
    Line("cookbook", 0.015, 0, 1, (120, 300)),
)
PLUGINS = tuple(line for line in LINES if line.name != "core")
# galaxy_ng is built on pulp_ansible and pulp_container: it never runs without them.
REQUIRES = {"galaxy": ("ansible", "container")}

# Releases begin this many days before the first simulated day, so installations that already
# exist when the history starts can run versions that are years old.
RELEASE_HISTORY_DAYS = 1100
PATCH_EVERY = (5, 25)  # days between two patch releases of a supported X.Y

# The Telemetry fields pulpcore added over time (telemetry.proto), and UUIDv7 system ids.
POSTGRESQL_SINCE = (3, 22)
RBAC_SINCE = (3, 23)
UUID7_SINCE = (3, 25)

# What an installation is: a CI run that reports once, a trial that lives days or weeks, or a
# long-lived one (some of which are already running when the history begins).
CI_SHARE, TRIAL_SHARE = 0.20, 0.10
EXISTING_SHARE = 0.40  # of the long-lived ones
RECENT_SHARE = 0.70  # of those: installed within the last 540 days, the rest up to 3 years ago
TRIAL_DAYS = (1, 29)
MEAN_LIFETIME_DAYS = 500  # of a long-lived installation; those that end within the history churn
# Some long-lived installations go silent for weeks (switched off, a proxy that blocks the report,
# telemetry turned off and on again) and then report again: the fleet's returning systems.
SILENCE_SHARE, SILENCE_DAYS = 0.15, (15, 120)

# How installations upgrade: name, share, days between two upgrades (None: never).
#   eager: to the newest release within days; regular: every few months; patch: only to newer
#   patch releases of the X.Y it installed; frozen: stays on what it installed.
POLICIES = (
    ("eager", 0.20, (3, 10)),
    ("regular", 0.40, (30, 120)),
    ("patch", 0.15, (14, 45)),
    ("frozen", 0.25, None),
)
# Some upgrades go wrong: the installation goes back to what it ran a few days later and stays
# there until its next upgrade (so the upgrades page shows downgrades, as real fleets have).
# Drawn from an RNG of their own: the rest of the fleet is the same with or without them.
ROLLBACK_SHARE, ROLLBACK_AFTER_DAYS = 0.04, (1, 5)
# Some new installations start from an older release (a pinned installer, an old how-to).
OLD_INSTALL_SHARE, OLD_INSTALL_DAYS = 0.25, (14, 150)

# libpq server_version_num with weights: installations from before the history run older
# PostgreSQL than new ones. A few clients send 0 (unknown); clients before 3.22 send nothing.
POSTGRESQL_EXISTING = (
    (100023, 2),
    (110022, 3),
    (120018, 12),
    (130012, 18),
    (130014, 8),
    (140010, 12),
    (150004, 10),
    (150006, 8),
    (160002, 4),
)
POSTGRESQL_NEW = (
    (130014, 10),
    (140010, 10),
    (150006, 18),
    (150008, 12),
    (160002, 14),
    (160004, 14),
    (170002, 8),
)
POSTGRESQL_UNKNOWN_SHARE = 0.02

# Reporting habits: (share, lowest and highest chance of reporting on a given day).
RELIABILITY = ((0.75, 0.97, 1.0), (0.20, 0.75, 0.95), (0.05, 0.30, 0.70))
WEEKDAYS_ONLY_SHARE = 0.08  # machines switched off at weekends
DUPLICATE_SHARE = 0.02  # a restart makes pulpcore send a second report that day
ADD_PLUGIN_CHANCE = 0.002  # per reporting day
SCALE_CHANCE = 0.003  # per reporting day: more workers from now on
WORKER_DOWN_CHANCE = 0.03  # per report: one worker is restarting and not online
NEW_USER_CHANCE = 0.01  # per report of an installation with users

# Incidents for the watchdog (watchdog.py) to find, in the last INCIDENT_DAYS of the history:
#   version-stops: every installation on one core X.Y stops reporting (a release whose telemetry
#     broke); the X.Y is the most common one run by at most VERSION_STOPS_MAX_SHARE of the fleet
#     (more would be a drop of the whole fleet) and by at least VERSION_STOPS_MIN_SYSTEMS;
#   reports-drop: two installations of every three stop reporting (the site was unreachable).
INCIDENTS = ("version-stops", "reports-drop")
INCIDENT_DAYS = 3
VERSION_STOPS_MAX_SHARE = 0.06
VERSION_STOPS_MIN_SYSTEMS = 12


T = TypeVar("T")


class FleetError(Exception):
    """The simulation cannot run, or ingest refused a simulated report (a bug in this module)."""


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


class Releases:
    """When each X.Y.Z of one line came out, on simulation day numbers (0 = the first day)."""

    def __init__(self, line: Line, rng: random.Random, *, until: int) -> None:
        self.major = line.major
        starts: list[int] = []
        day = -RELEASE_HISTORY_DAYS
        while day <= until:
            starts.append(day)
            day += rng.randint(*line.minor_every)
        self.starts = starts
        self.first_minor = line.first_minor
        # patch_days[i][p]: the day X.(first_minor + i).p came out.
        self.patch_days: list[list[int]] = []
        for index, start in enumerate(starts):
            # An X.Y gets patch releases until the X.Y two minors later comes out.
            supported_until = starts[index + 2] if index + 2 < len(starts) else until
            days = [start]
            day = start + rng.randint(*PATCH_EVERY)
            while day < supported_until:
                days.append(day)
                day += rng.randint(*PATCH_EVERY)
            self.patch_days.append(days)

    def _version(self, index: int, day: int) -> str:
        patch = max(bisect_right(self.patch_days[index], day) - 1, 0)
        return f"{self.major}.{self.first_minor + index}.{patch}"

    def newest(self, day: int) -> str:
        """The newest release out on `day`."""
        return self._version(max(bisect_right(self.starts, day) - 1, 0), day)

    def newest_patch(self, version: str, day: int) -> str:
        """The newest patch release of `version`'s X.Y out on `day` (never older than `version`)."""
        index = version_tuple(version)[1] - self.first_minor
        newest = self._version(index, day)
        return max(version, newest, key=version_tuple)


@dataclass
class Install:
    """One simulated Pulp installation and what it will report."""

    system_id: str
    first: int  # day number of its first report
    last: int  # day number of its last possible report (beyond the history: it never churns)
    reliability: float  # chance of reporting on a later day
    weekdays_only: bool
    policy: str
    upgrade_every: tuple[int, int] | None
    next_upgrade: int
    snapshot: int  # the day whose releases it last installed (plugins added later match it)
    versions: dict[str, str]
    postgresql: int
    workers: list[int]  # processes, hosts
    content_apps: list[int]
    rbac: dict[str, int]
    second: int  # the second of the UTC day its daily report goes out
    rollback: tuple[int, dict[str, str]] | None = None  # (day, the versions it goes back to)
    silence: tuple[int, int] | None = None  # days [start, end) it sends nothing

    def telemetry(self, *, workers_down: int) -> bytes:
        report = Telemetry(system_id=self.system_id)
        report.online_workers.processes = max(self.workers[0] - workers_down, 0)
        report.online_workers.hosts = self.workers[1]
        report.online_content_apps.processes = self.content_apps[0]
        report.online_content_apps.hosts = self.content_apps[1]
        for name, version in self.versions.items():
            report.components.add(name=name, version=version)
        core = version_tuple(self.versions["core"])[:2]
        # Older clients do not know the later fields; a present 0 is sent as such.
        if core >= POSTGRESQL_SINCE:
            report.postgresql_version = self.postgresql
        if core >= RBAC_SINCE:
            for measure, number in self.rbac.items():
                setattr(report.rbac_stats, measure, number)
        return report.SerializeToString()


@dataclass
class DayDone:
    """Progress after one simulated day (its reports are committed)."""

    number: int  # 1-based
    days: int
    date: date
    reports: int  # stored that day
    stored: int  # stored so far


@dataclass
class FleetReport:
    start: date
    end: date
    systems: int
    stored: int = 0
    duplicates: int = 0
    days: int = 0
    incident: str = ""  # what the incident did, if there was one

    def last_line(self) -> str:
        return (
            f"Simulated {self.days} day{'s' * (self.days != 1)} ({self.start} to {self.end}) of "
            f"{self.systems:,} installations: {self.stored:,} reports stored, "
            f"{self.duplicates:,} same-day repeats answered as duplicates"
        ) + (f"; {self.incident}" if self.incident else "")


def database_is_empty() -> bool:
    """No system has ever reported and no day is summarized (raw rows may be pruned; these stay)."""
    return not System.objects.exists() and not DailySummary.objects.exists()


class Fleet:
    """The plan of a fleet: release history and installations, all drawn from one seeded RNG."""

    def __init__(
        self, *, days: int, systems: int, seed: int, end: date, incident: str | None = None
    ) -> None:
        if days < 1 or systems < 1:
            raise FleetError("a fleet needs at least one day and one system")
        if incident is not None and incident not in INCIDENTS:
            raise FleetError(f"no incident {incident!r}; choose from {', '.join(INCIDENTS)}")
        if incident is not None and days <= INCIDENT_DAYS + 7:
            raise FleetError(f"an incident needs more than {INCIDENT_DAYS + 7} days of history")
        self.incident = incident
        # The installations that do not report from the incident's first day on.
        self.silenced: set[str] = set()
        self.days, self.end = days, end
        self.start = end - timedelta(days=days - 1)
        self.rng = random.Random(seed)
        self.rollbacks = random.Random(f"rollbacks-{seed}")
        # Silences come from an RNG of their own: the rest of the plan is the same without them.
        self.silences = random.Random(seed * 7919 + 1)
        self.releases = {line.name: Releases(line, self.rng, until=days) for line in LINES}
        installs = [self._plan() for _ in range(systems)]
        for install in installs:
            install.silence = self._silence(install)
        # Stable sort: installs of the same first day keep their planned order.
        self.installs = sorted(installs, key=lambda install: install.first)

    def moment(self, day: int, second: int) -> datetime:
        midnight = datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)
        return midnight + timedelta(days=day, seconds=min(max(second, 0), 86399))

    def _arrival(self) -> int:
        # Half uniform, half the later of two uniform draws: new installations arrive at a rate
        # that grows threefold over the history.
        draw = self.rng.random()
        if self.rng.random() < 0.5:
            draw = max(draw, self.rng.random())
        return min(int(draw * self.days), self.days - 1)

    def _choose(self, options: Sequence[tuple[T, float]]) -> T:
        values, weights = zip(*options, strict=True)
        return self.rng.choices(values, weights=weights)[0]

    def _plugins(self, kind: str) -> list[str]:
        rng = self.rng
        if kind == "ci":
            # Plugin CI installs one plugin; installer and image CI installs all of them.
            if rng.random() < 0.5:
                return [rng.choice(PLUGINS).name]
            return [line.name for line in PLUGINS]
        names = [line.name for line in PLUGINS if rng.random() < line.share]
        for name, needed in REQUIRES.items():
            if name in names:
                names += [other for other in needed if other not in names]
        if not names:
            names = [line.name for line in PLUGINS[:3] if rng.random() < 0.5] or ["file"]
        order = [line.name for line in PLUGINS]
        return sorted(names, key=order.index)

    def _versions(self, names: list[str], day: int) -> dict[str, str]:
        return {name: self.releases[name].newest(day) for name in ["core", *names]}

    def _plan(self) -> Install:
        rng = self.rng
        draw = rng.random()
        kind = "ci" if draw < CI_SHARE else "trial" if draw < CI_SHARE + TRIAL_SHARE else "long"
        existing = kind == "long" and rng.random() < EXISTING_SHARE
        _, low, high = self._choose(tuple((habit, habit[0]) for habit in RELIABILITY))
        reliability = rng.uniform(low, high)
        weekdays_only = kind == "long" and rng.random() < WEEKDAYS_ONLY_SHARE
        if existing:
            first = self._first_report(reliability, weekdays_only)
            # Mostly installed within the last year and a half, some years ago.
            installed = (
                -rng.randint(1, 540) if rng.random() < RECENT_SHARE else -rng.randint(541, 1090)
            )
        else:
            first = rng.randrange(self.days) if kind != "long" else self._arrival()
            installed = first
            if kind != "ci" and rng.random() < OLD_INSTALL_SHARE:
                installed = first - rng.randint(*OLD_INSTALL_DAYS)
        if kind == "ci":
            last = first
        elif kind == "trial":
            last = first + rng.randint(*TRIAL_DAYS)
        else:
            last = first + int(rng.expovariate(1 / MEAN_LIFETIME_DAYS))
        policy, _, every = self._choose(tuple((policy, policy[1]) for policy in POLICIES))
        snapshot = installed
        if existing and every is not None:
            # It has been upgrading before the history began; its last upgrade was recently.
            snapshot = max(installed, -rng.randint(0, every[1]))
        names = self._plugins(kind)
        versions = self._versions(names, installed)
        if policy == "patch":
            versions = {
                name: self.releases[name].newest_patch(version, snapshot)
                for name, version in versions.items()
            }
        elif snapshot != installed:
            versions = self._versions(names, snapshot)
        second = rng.randrange(86400)
        created = self.moment(installed, second)
        core = version_tuple(self.releases["core"].newest(installed))[:2]
        system_id = uuid7(created, rng) if core >= UUID7_SINCE else uuid4(rng)
        postgresql = self._choose(POSTGRESQL_EXISTING if installed < 0 else POSTGRESQL_NEW)
        if rng.random() < POSTGRESQL_UNKNOWN_SHARE:
            postgresql = 0
        hosts = 1 if rng.random() < 0.7 else rng.randint(2, 6)
        workers = [hosts * rng.choice((1, 1, 2, 2, 2, 4, 4, 8)), hosts]
        apps_hosts = 1 if rng.random() < 0.8 else rng.randint(2, 3)
        content_apps = [apps_hosts * rng.choice((1, 1, 2, 4)), apps_hosts]
        return Install(
            system_id=system_id,
            first=first,
            last=last,
            reliability=reliability,
            weekdays_only=weekdays_only,
            policy=policy,
            upgrade_every=every,
            next_upgrade=first + rng.randint(*every) if every else self.days,
            snapshot=snapshot,
            versions=versions,
            postgresql=postgresql,
            workers=workers,
            content_apps=content_apps,
            rbac=self._rbac(),
            second=second,
        )

    def _silence(self, install: Install) -> tuple[int, int] | None:
        """Days a long-lived installation sends nothing, then comes back (if it lives on)."""
        rng = self.silences
        draw, start_draw, length = rng.random(), rng.random(), rng.randint(*SILENCE_DAYS)
        life = install.last - install.first  # beyond the history for most
        # Trials and CI runs (a life of at most TRIAL_DAYS) have none.
        if life <= TRIAL_DAYS[1] or draw >= SILENCE_SHARE:
            return None
        start = install.first + 1 + int(start_draw * (life - 1))
        return start, start + length

    def _first_report(self, reliability: float, weekdays_only: bool) -> int:
        """The first day an already running installation reports, given its habits."""
        day = 0
        while day < self.days - 1 and (
            (weekdays_only and (self.start + timedelta(days=day)).weekday() >= 5)
            or self.rng.random() >= reliability
        ):
            day += 1
        return day

    def _rbac(self) -> dict[str, int]:
        # Present-and-zero is the common case for everything but users.
        rng = self.rng
        return {
            "users": 0 if rng.random() < 0.2 else int(rng.lognormvariate(2.0, 1.2)) + 1,
            "groups": 0 if rng.random() < 0.45 else int(rng.lognormvariate(1.0, 0.9)) + 1,
            "domains": 0 if rng.random() < 0.93 else rng.randint(1, 12),
            "custom_access_policies": 0 if rng.random() < 0.9 else rng.randint(1, 5),
            "custom_roles": 0 if rng.random() < 0.75 else rng.randint(1, 6),
        }

    def _live(self, install: Install, day: int) -> None:
        """What changed since the installation's last report: upgrades, plugins, scale, users."""
        rng = self.rng
        if install.rollback and day >= install.rollback[0]:
            install.versions, install.rollback = install.rollback[1], None
        if install.upgrade_every and day >= install.next_upgrade:
            install.next_upgrade = day + rng.randint(*install.upgrade_every)
            if install.policy == "patch":
                install.versions = {
                    name: self.releases[name].newest_patch(version, day)
                    for name, version in install.versions.items()
                }
            else:
                before = dict(install.versions)
                install.snapshot = day
                install.versions = self._versions(list(install.versions)[1:], day)
                if before != install.versions and self.rollbacks.random() < ROLLBACK_SHARE:
                    back = day + self.rollbacks.randint(*ROLLBACK_AFTER_DAYS)
                    install.rollback = (back, before)
        if rng.random() < ADD_PLUGIN_CHANCE:
            missing = [line for line in PLUGINS if line.name not in install.versions]
            if missing:
                line = rng.choices(missing, weights=[m.share for m in missing])[0]
                install.versions[line.name] = self.releases[line.name].newest(install.snapshot)
        if rng.random() < SCALE_CHANCE:
            install.workers[0] += install.workers[1] * rng.randint(1, 2)
        if install.rbac["users"] and rng.random() < NEW_USER_CHANCE:
            install.rbac["users"] += 1

    def _start_incident(self, day: int) -> str:
        """Silence the installations the incident stops; what it did, for the last line."""
        active = [i for i in self.installs if i.first <= day <= i.last]
        since = self.start + timedelta(days=day)
        if self.incident == "reports-drop":
            self.silenced = {i.system_id for n, i in enumerate(active) if n % 3}
            return (
                f"incident reports-drop: {len(self.silenced):,} installations silent from {since}"
            )
        by_xy: dict[str, list[str]] = {}
        for install in active:
            xy = ".".join(install.versions["core"].split(".")[:2])
            by_xy.setdefault(xy, []).append(install.system_id)
        limit = VERSION_STOPS_MAX_SHARE * len(active)
        fitting = [
            (len(ids), xy)
            for xy, ids in by_xy.items()
            if VERSION_STOPS_MIN_SYSTEMS <= len(ids) <= limit
        ]
        if not fitting:
            raise FleetError("no core X.Y fits a version-stops incident: simulate more systems")
        count, xy = max(fitting)
        self.silenced = set(by_xy[xy])
        return f"incident version-stops: core {xy} ({count:,} installations) silent from {since}"

    def _reports_on(self, install: Install, day: int, weekday: int) -> bool:
        if install.system_id in self.silenced:
            return False
        if day == install.first:
            return True
        if day < install.first or day > install.last:
            return False
        if install.silence and install.silence[0] <= day < install.silence[1]:
            return False
        if install.weekdays_only and weekday >= 5:
            return False
        return self.rng.random() < install.reliability

    def run(self, *, progress: Callable[[DayDone], None]) -> FleetReport:
        """Ingest every simulated report, one transaction per day; `progress` after each day."""
        result = FleetReport(start=self.start, end=self.end, systems=len(self.installs))
        for day in range(self.days):
            today = self.start + timedelta(days=day)
            if self.incident and day == self.days - INCIDENT_DAYS:
                result.incident = self._start_incident(day)
            stored = 0
            # One transaction per day: ingest's own atomic becomes a savepoint, so each report is
            # still all or nothing, but SQLite syncs its file once a day instead of per report.
            with transaction.atomic():
                for install in self.installs:
                    if install.first > day:
                        break  # sorted by first day
                    if not self._reports_on(install, day, today.weekday()):
                        continue
                    self._live(install, day)
                    down = 1 if self.rng.random() < WORKER_DOWN_CHANCE else 0
                    body = install.telemetry(workers_down=down)
                    second = install.second + self.rng.randint(0, 600)
                    self._ingest(body, self.moment(day, second), expect="stored")
                    stored += 1
                    if self.rng.random() < DUPLICATE_SHARE:
                        later = second + self.rng.randint(60, 7200)
                        if later < 86400:
                            self._ingest(body, self.moment(day, later), expect="duplicate")
                            result.duplicates += 1
            result.stored += stored
            result.days = day + 1
            progress(DayDone(day + 1, self.days, today, stored, result.stored))
        return result

    @staticmethod
    def _ingest(body: bytes, received_at: datetime, *, expect: str) -> None:
        outcome = ingest(body=body, received_at=received_at)
        if outcome.kind != expect:
            raise FleetError(
                f"ingest answered {outcome.status} {outcome.message!r} to a simulated report "
                f"received at {received_at.isoformat()} (expected {expect})"
            )


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def uuid7(created: datetime, rng: random.Random) -> str:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, version 7, variant 10, random rest."""
    millis = int(created.timestamp() * 1000) & ((1 << 48) - 1)
    value = (millis << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64)
    value |= (0b10 << 62) | rng.getrandbits(62)
    return str(uuid.UUID(int=value))


def simulate(
    *,
    days: int,
    systems: int,
    seed: int,
    end: date,
    incident: str | None = None,
    progress: Callable[[DayDone], None] = lambda done: None,
) -> FleetReport:
    """Plan a fleet of `systems` installations over `days` days ending on `end` and ingest it
    (with an incident of INCIDENTS in its last days, if asked)."""
    fleet = Fleet(days=days, systems=systems, seed=seed, end=end, incident=incident)
    return fleet.run(progress=progress)
