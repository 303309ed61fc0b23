#!/usr/bin/env python
"""G5: slow bodies and slow readers straight at gunicorn: the former sync workers, then the
asyncio worker gunicorn.conf.py configures (app/asgi.py).

No proxy in front: the OpenShift router is not known to buffer request bodies, so the app server
itself must keep answering. Each configuration (sync first: `-k sync app.wsgi`, the same config
otherwise) gets a probe (GET /healthz every interval, its own connection, a deadline) for a
baseline, then the same probe during two attacks, one after the other:
- slow bodies: N connections send a valid POST / head declaring 1,000 bytes, then one body byte
  every 2 s (a connection the server answers or closes is opened again at once);
- slow readers: N connections, each with a 4 KB receive buffer, ask for a 205 KB static file
  (Chart.js, uncompressed) and read one byte a second.
Probe latency runs from its planned send time; a probe past its deadline counts as the deadline
and as timed out.

Figures: /healthz p50/p99 during each attack and the baseline, probes timed out, worker restarts
(sync workers are killed for silence after `timeout`, 30 s), slow connections the server closed.
Pass: with the asyncio worker, every probe answered during both attacks and p99 under 250 ms;
the sync figures are recorded (the finding this row came from).
"""

import asyncio
import socket
import tempfile
from dataclasses import dataclass

from bench.common import (
    drop_database,
    percentile,
    recreate_database,
    run_manage,
    start_gunicorn,
)
from bench.reliability.g4_slowloris import (
    Phase,
    probes,
    recovered,
    slow_client_arguments,
    watch_workers,
)
from bench.reliability.scenario import Outcome, main
from bench.server import children

LARGE_ANSWER = "/static/vendor/chart.js/chart.umd.js"
SLOW_BODY_HEAD = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n"
SLOW_READ_HEAD = f"GET {LARGE_ANSWER} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
CONFIGURATIONS = [
    ("sync", ("-k", "sync", "app.wsgi")),
    ("asgi", ()),  # gunicorn.conf.py's own
]


@dataclass
class Attack:
    """What the slow connections saw."""

    opened: int = 0
    closed_by_server: int = 0
    refused: int = 0


async def slow_connection(port: int, stop: asyncio.Event, attack: Attack, reader: bool) -> None:
    """Hold one slow connection (a slow body, or a slow `reader`); reopen it when it ends."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        sock = socket.socket()
        sock.setblocking(False)
        if reader:  # before connect(): the window offered to the server stays small
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            await loop.sock_connect(sock, ("127.0.0.1", port))
            attack.opened += 1
            await loop.sock_sendall(sock, SLOW_READ_HEAD if reader else SLOW_BODY_HEAD)
            if await hold(sock, stop, reader):
                attack.closed_by_server += 1
        except OSError:
            attack.refused += 1
            await asyncio.sleep(1)
        finally:
            sock.close()


async def hold(sock: socket.socket, stop: asyncio.Event, reader: bool) -> bool:
    """Read a byte a second, or send a body byte every 2 s, until `stop` (False) or until the
    server answers or closes (True)."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        if reader:
            await asyncio.sleep(1.0)
            if not await loop.sock_recv(sock, 1):
                return True  # the whole answer was read, or the server closed
            continue
        try:
            # Anything from the server (a 408, a 400, end of stream) ends this connection.
            await asyncio.wait_for(loop.sock_recv(sock, 1024), 2.0)
            return True
        except TimeoutError:
            await loop.sock_sendall(sock, b"x")
    return False


async def attack_phase(port: int, master: int, args, reader: bool) -> tuple[Phase, Attack, int]:
    """(probes during the attack, the attack's counts, gunicorn worker restarts)."""
    during, attack, stop = Phase(), Attack(), asyncio.Event()
    before = set(children(master))
    slow = [
        asyncio.create_task(slow_connection(port, stop, attack, reader))
        for _ in range(args.connections)
    ]
    watcher = asyncio.create_task(watch_workers(master, stop))
    try:
        await asyncio.sleep(1)  # every slow connection open and holding
        await probes(port, args.seconds - 1, args, during)
    finally:
        stop.set()
        await asyncio.gather(*slow, return_exceptions=True)
    return during, attack, len((await watcher) - before)


@dataclass
class Measured:
    baseline: Phase
    bodies: tuple[Phase, Attack, int]
    readers: tuple[Phase, Attack, int]


async def measure(port: int, master: int, args) -> Measured:
    baseline = Phase()
    await probes(port, args.baseline, args, baseline)
    bodies = await attack_phase(port, master, args, reader=False)
    await recovered(port, 60)
    readers = await attack_phase(port, master, args, reader=True)
    await recovered(port, 60)
    return Measured(baseline, bodies, readers)


def p50_p99(phase: Phase) -> str:
    return f"{percentile(phase.latencies, 0.5):.0f}/{phase.p99:.0f} ms"


def attacked(phase: Phase) -> str:
    return f"p50/p99 {p50_p99(phase)}, {phase.timed_out}/{len(phase.latencies)} timed out"


def details(name: str, measured: Measured) -> list[str]:
    lines = [f"{name}, baseline: {measured.baseline.text()}"]
    for label, (phase, attack, restarts) in (
        ("slow bodies", measured.bodies),
        ("slow readers", measured.readers),
    ):
        lines.append(
            f"{name}, {label}: p50 {percentile(phase.latencies, 0.5):.0f} ms, {phase.text()}; "
            f"slow connections opened {attack.opened}, ended by the server "
            f"{attack.closed_by_server}, refused {attack.refused}; {restarts} worker restarts"
        )
    return lines


def run(args) -> Outcome:
    name = "pulpanalytics_stress_g5"
    url = recreate_database(args.server, name)
    results: dict[str, Measured] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="pulpanalytics-g5-") as static_root:
            run_manage(url, "collectstatic", "--noinput", STATIC_ROOT=static_root)
            for label, options in CONFIGURATIONS:
                server = start_gunicorn(url, args.workers, options=options, STATIC_ROOT=static_root)
                try:
                    results[label] = asyncio.run(measure(server.port, server.pid, args))
                finally:
                    server.stop()
    finally:
        drop_database(args.server, name)
    sync, after = results["sync"], results["asgi"]
    attacks = (after.bodies[0], after.readers[0])
    passed = all(p.timed_out == 0 and p.failed == 0 and p.p99 < 250 for p in attacks)
    restarts = sync.bodies[2] + sync.readers[2]
    return Outcome(
        id="G5",
        scenario=f"slow clients straight at gunicorn ({args.workers} workers): "
        f"{args.connections} connections sending a body byte every 2 s, then {args.connections} "
        f"reading a 205 KB answer a byte a second, {args.seconds:g} s each",
        figure=f"asyncio worker: /healthz {attacked(after.bodies[0])} during slow bodies, "
        f"{attacked(after.readers[0])} during slow readers (baseline {p50_p99(after.baseline)}); "
        f"sync workers before: {attacked(sync.bodies[0])} and {attacked(sync.readers[0])} "
        f"(baseline {p50_p99(sync.baseline)}), {restarts} worker restarts",
        passed=passed,
        threshold="asyncio worker: every probe answered, p99 < 250 ms during both attacks; "
        "sync: recorded",
        detail="\n".join(details("sync", sync) + details("asgi", after)),
    )


def arguments(parser) -> None:
    slow_client_arguments(parser, seconds=40, probe_interval=0.5)


def checked(args) -> Outcome:
    if not 1 < args.seconds <= 120:
        raise SystemExit("--seconds must be within (1, 120]")
    return run(args)


if __name__ == "__main__":
    main(checked, __doc__, arguments)
