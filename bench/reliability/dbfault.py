"""What the database-fault scenarios (C1, C3, C4, D8) share: gunicorn's environment, a watch on
its worker processes, and the check for reports stored without all their components."""

import asyncio

from bench.common import query
from bench.server import children

# The limits' counters live in the database too; high enough that no scenario meets them (they
# stay on, so their database round trips fail with the database like in production).
UNLIMITED = {"REPORT_RATE_LIMIT": "1000000", "NEW_SYSTEM_RATE_LIMIT": "1000000"}
COMPONENTS_PER_REPORT = 8  # load.report()'s bodies, like a current pulpcore's


class WorkerWatch:
    """Every gunicorn worker pid seen while `watch()` runs: a timeout or crash shows up as a new
    pid (the master respawns the worker)."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.initial = set(children(master))
        self.seen = set(self.initial)

    async def watch(self, done: asyncio.Event, interval: float = 0.2) -> None:
        while not done.is_set():
            self.seen.update(children(self.master))
            await asyncio.sleep(interval)
        self.seen.update(children(self.master))

    @property
    def respawned(self) -> int:
        return len(self.seen - self.initial)


def partial_rows(url: str) -> tuple[int, int, int]:
    """(reports without any component, reports, components) of the database at `url`."""
    (row,) = query(
        url,
        "SELECT (SELECT count(*) FROM pulpanalytics_report r WHERE NOT EXISTS"
        " (SELECT 1 FROM pulpanalytics_component c WHERE c.report_id = r.id)),"
        " (SELECT count(*) FROM pulpanalytics_report),"
        " (SELECT count(*) FROM pulpanalytics_component)",
    )
    return row
