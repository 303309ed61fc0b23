"""B4: acknowledged means stored: unique reports while `kill -9` hits a gunicorn worker, 3 times.

Starts gunicorn with the production config (gunicorn.conf.py's worker count) on a throw-away
PostgreSQL database and sends N reports of distinct systems from a closed loop of C clients
(C above the worker count, so every worker always has a request in hand and each kill lands
mid-request). After each quarter of the requests (by default) it sends SIGKILL to the oldest
worker and times the respawn: until the master has the full worker count again,
with a new pid in place of the killed one. The client never retries.

Figures: lost acks (a 200 for a system whose row is missing), orphan rows (a stored system that
got no 2xx), requests in flight on the killed workers (answered by a broken connection; a sync
worker holds one request at a time) and the slowest respawn.
Pass: lost acks = 0; orphans <= requests in flight on the killed workers; respawn < 2 s.
"""

import asyncio
import os
import signal
import time

from bench.common import (
    DEFAULT_SERVER,
    drop_database,
    recreate_database,
    start_gunicorn,
)
from bench.reliability.load import (
    Answer,
    Sent,
    acked_systems,
    figures,
    lost_acks,
    mix,
    request,
    stored_hashes,
    system_hash,
)
from bench.reliability.scenario import Outcome, gunicorn_arguments, main
from bench.server import children


def oldest(pids: list[int]) -> int:
    """The worker started first: booted and serving, unlike a worker just respawned that may
    still be importing the app (a kill there would hit no request)."""

    def started(pid: int) -> int:
        with open(f"/proc/{pid}/stat") as stat:
            # Field 22, counted after the parenthesised command name, which may hold spaces.
            return int(stat.read().rpartition(")")[2].split()[19])

    return min(pids, key=started)


async def respawn_seconds(master: int, killed: int, workers: int, limit: float) -> float:
    """Seconds until the master has `workers` children again, none of them `killed`."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        pids = children(master)
        if len(pids) >= workers and killed not in pids:
            return time.perf_counter() - start
        await asyncio.sleep(0.005)
    return float("inf")


async def load_with_kills(
    port: int, master: int, bodies: list[Sent], args
) -> tuple[list[Answer], list[float], list[int]]:
    """(answers, respawn seconds per kill, killed pids): the closed loop and the killer."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    queue = iter(bodies)
    answers: list[Answer] = []
    finished = asyncio.Event()

    async def client() -> None:
        for sent in queue:
            began = loop.time()
            status, retry_after, text = await request(port, sent.body, timeout=args.timeout)
            answers.append(
                Answer(sent, status, began - start, loop.time() - began, retry_after, text)
            )

    async def killer() -> tuple[list[float], list[int]]:
        respawns: list[float] = []
        killed: list[int] = []
        for kill in range(1, args.kills + 1):
            mark = len(bodies) * kill // (args.kills + 1)
            while len(answers) < mark and not finished.is_set():
                await asyncio.sleep(0.002)
            if finished.is_set():
                break
            victim = oldest(children(master))
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
            respawns.append(await respawn_seconds(master, victim, args.workers, 10.0))
        return respawns, killed

    async def clients() -> None:
        await asyncio.gather(*(client() for _ in range(args.concurrency)))
        finished.set()

    _, (respawns, killed) = await asyncio.gather(clients(), killer())
    answers.sort(key=lambda answer: answer.started)
    return answers, respawns, killed


def run(args) -> Outcome:
    name = "pulpanalytics_stress_b4"
    url = recreate_database(args.server, name)
    server = start_gunicorn(url, args.workers)
    port = server.port
    try:
        bodies = mix(args.requests, seed=args.seed, first=0)
        answers, respawns, killed = asyncio.run(load_with_kills(port, server.pid, bodies, args))
        lost = lost_acks(url, answers)
        stored = stored_hashes(url)
    finally:
        server.stop()
        drop_database(args.server, name)
    acked = acked_systems(answers)
    orphans = sum(
        1
        for answer in answers
        if not answer.ok and answer.sent.system and system_hash(answer.sent.system) in stored
    )
    broken = sum(1 for answer in answers if not isinstance(answer.status, int))
    slowest = max(respawns, default=float("inf"))
    f = figures(answers)
    return Outcome(
        id="B4",
        scenario=f"{args.requests} unique reports from {args.concurrency} clients, "
        f"kill -9 of one of {args.workers} workers {len(killed)} times",
        figure=f"{lost} lost acks; {orphans} orphan rows; {broken} requests in flight on the "
        f"killed workers; respawn max {slowest:.2f} s "
        f"({', '.join(f'{seconds:.2f}' for seconds in respawns)})",
        passed=lost == 0 and orphans <= broken and len(killed) == args.kills and slowest < 2.0,
        threshold="lost acks = 0; orphans <= requests in flight on the killed worker; "
        "respawn < 2 s",
        detail=f"statuses {f.histogram()}; {len(acked)} acked systems, {len(stored)} stored; "
        f"p99 {f.p99_ms:.0f} ms",
    )


def arguments(parser) -> None:
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument(
        "--requests", type=int, default=500, help="unique reports (default: %(default)s)"
    )
    parser.add_argument(
        "--kills", type=int, default=3, help="workers killed (default: %(default)s)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="concurrent clients (default: %(default)s)"
    )
    gunicorn_arguments(parser, workers=None, timeout=10)
    parser.add_argument("--seed", type=int, default=1)


if __name__ == "__main__":
    main(run, __doc__, arguments)
