"""G4: slowloris: 50 connections sending one header byte per second, with and without nginx.

Starts gunicorn with the production config (gunicorn.conf.py's workers: asyncio since G5) on a
throw-away PostgreSQL database and a minimal buffering nginx in front of it (a temporary
nginx.conf: loopback port, proxy_pass to gunicorn, proxy_request_buffering on; nginx reads a
whole request before it opens the upstream connection). Each case, the proxied one first: a
probe (GET /healthz, once a second, its own connection, a deadline) for a baseline, then the
same probe while N connections send a request line, then one header byte per second and never
end their headers (a connection the server closes is opened again at once). Probe latency runs
from its planned send time; a probe past its deadline counts as the deadline and as timed out.

Sync workers (the config before G5) read a request on a blocking socket, one connection per
worker (gunicorn's documented reason to run it behind a buffering proxy): without the proxy the
attack held every worker until the arbiter killed it for silence (`timeout`, 30 s) and the next
slow connection took its place. gunicorn's asyncio worker holds a slow head in a coroutine (it
has no deadline for a first request's head: the connections stay open, cheaply). Production
runs behind the OpenShift router (HAProxy), which buffers request headers like nginx here and
drops a client whose headers take too long (`timeout http-request`).

Figures: probe p99 during the attack against the baseline, and probes timed out (none free
worker), for both cases; gunicorn worker restarts seen during the attack.
Pass: with the proxy, probe p99 within 2x the baseline and no probe timed out; without it, the
figure is recorded (the known failure).
Needs nginx: /usr/sbin/nginx (Debian: apt-get install nginx-light, or nginx).
"""

import asyncio
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import (
    DEFAULT_SERVER,
    drop_database,
    free_port,
    percentile,
    recreate_database,
    start_gunicorn,
)
from bench.reliability.load import request
from bench.reliability.scenario import Outcome, gunicorn_arguments, main
from bench.server import children, stop_process

NGINX = Path("/usr/sbin/nginx")
NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_request_buffering on;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""


def start_nginx(tmp: Path, upstream: int) -> tuple[subprocess.Popen, int]:
    """nginx in the foreground on a free loopback port, everything it writes under `tmp`."""
    port = free_port()
    # As root the master hands its workers to an unprivileged user, who must reach `tmp`.
    user = "user nobody nogroup;" if os.geteuid() == 0 else ""
    tmp.chmod(0o755)
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(user=user, tmp=tmp, port=port, upstream=upstream))
    process = subprocess.Popen(
        [str(NGINX), "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    for _ in range(100):
        status, _, _ = asyncio.run(request(port, None, method="GET", path="/healthz", timeout=1))
        if status == 200:
            return process, port
        if process.poll() is not None:
            raise SystemExit(f"nginx exited: {process.stderr.read().decode().strip()}")
        time.sleep(0.1)
    stop_process(process, signal.SIGTERM, 5)
    raise SystemExit("nginx did not answer /healthz through to gunicorn within 10 s")


@dataclass
class Attack:
    """What the slow connections saw."""

    opened: int = 0
    closed_by_server: int = 0
    refused: int = 0


@dataclass
class Phase:
    """Probe latencies (ms; a timed-out probe counts as its deadline) and timeouts."""

    latencies: list[float] = field(default_factory=list)
    timed_out: int = 0
    failed: int = 0  # answered, but not 200

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99)

    def text(self) -> str:
        return (
            f"p99 {self.p99:.0f} ms, max {max(self.latencies, default=0):.0f} ms, "
            f"{self.timed_out}/{len(self.latencies)} probes timed out, {self.failed} non-200"
        )


async def slow_connection(port: int, stop: asyncio.Event, attack: Attack) -> None:
    """Hold one connection whose headers never end; open another when the server closes it."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            attack.refused += 1
            await asyncio.sleep(1)
            continue
        attack.opened += 1
        try:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            await writer.drain()
            while not stop.is_set():
                try:
                    # Anything from the server (a 408, or end of stream) ends this connection.
                    await asyncio.wait_for(reader.read(1024), 1.0)
                    attack.closed_by_server += 1
                    break
                except TimeoutError:
                    writer.write(b"a")
                    await writer.drain()
        except OSError:
            attack.closed_by_server += 1
        finally:
            writer.close()


async def probes(port: int, seconds: float, args, phase: Phase) -> None:
    """One GET /healthz every interval for `seconds`, open loop."""
    loop = asyncio.get_running_loop()
    start = loop.time()

    async def one(index: int) -> None:
        planned = start + index * args.probe_interval
        await asyncio.sleep(max(0.0, planned - loop.time()))
        status, _, _ = await request(
            port, None, method="GET", path="/healthz", timeout=args.probe_timeout
        )
        phase.latencies.append((loop.time() - planned) * 1000)
        if status == "timeout":
            phase.timed_out += 1
        elif status != 200:
            phase.failed += 1

    await asyncio.gather(*(one(i) for i in range(int(seconds / args.probe_interval))))


async def watch_workers(master: int, stop: asyncio.Event) -> set[int]:
    """Every gunicorn worker pid seen until `stop`."""
    seen: set[int] = set()
    while not stop.is_set():
        seen.update(children(master))
        await asyncio.sleep(0.5)
    return seen


async def case(port: int, master: int, args) -> tuple[Phase, Phase, Attack, int]:
    """(baseline, during the attack, the attack's counts, worker restarts during the attack)."""
    baseline, during, attack = Phase(), Phase(), Attack()
    await probes(port, args.baseline, args, baseline)
    stop = asyncio.Event()
    before = set(children(master))
    slow = [
        asyncio.create_task(slow_connection(port, stop, attack)) for _ in range(args.connections)
    ]
    watcher = asyncio.create_task(watch_workers(master, stop))
    try:
        await asyncio.sleep(1)  # every slow connection open and holding
        await probes(port, args.seconds - 1, args, during)
    finally:
        stop.set()
        await asyncio.gather(*slow, return_exceptions=True)
    restarts = len((await watcher) - before)
    return baseline, during, attack, restarts


async def recovered(port: int, limit: float) -> float:
    """Seconds until /healthz answers 200 again."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while loop.time() - start < limit:
        status, _, _ = await request(port, None, method="GET", path="/healthz", timeout=1)
        if status == 200:
            return loop.time() - start
        await asyncio.sleep(0.2)
    return float("inf")


def run(args) -> Outcome:
    if not NGINX.exists():
        raise SystemExit(f"G4 needs {NGINX}: apt-get install nginx-light (or nginx) as root")
    name = "pulpanalytics_stress_g4"
    url = recreate_database(args.server, name)
    # The proxied case counts the client as nginx saw it, as production does behind the router.
    server = start_gunicorn(url, args.workers, TRUSTED_PROXY_COUNT="1")
    port = server.port
    nginx = None
    try:
        with tempfile.TemporaryDirectory(prefix="pulpanalytics-g4-") as tmp:
            nginx, proxy_port = start_nginx(Path(tmp), port)
            proxied = asyncio.run(case(proxy_port, server.pid, args))
            stop_process(nginx, signal.SIGTERM, 5)  # SIGTERM: nginx's fast shutdown
            nginx = None
        direct = asyncio.run(case(port, server.pid, args))
        recovery = asyncio.run(recovered(port, 60))
    finally:
        if nginx is not None:
            stop_process(nginx, signal.SIGTERM, 5)  # SIGTERM: nginx's fast shutdown
        server.stop()
        drop_database(args.server, name)
    (p_base, p_during, p_attack, p_restarts) = proxied
    (d_base, d_during, d_attack, d_restarts) = direct
    ratio = p_during.p99 / p_base.p99 if p_base.p99 else float("inf")
    d_ratio = d_during.p99 / d_base.p99 if d_base.p99 else float("inf")
    return Outcome(
        id="G4",
        scenario=f"slowloris: {args.connections} connections, one header byte per second for "
        f"{args.seconds:g} s, {args.workers} workers",
        figure=f"with nginx: probe p99 {p_during.p99:.0f} ms vs {p_base.p99:.0f} ms baseline "
        f"({ratio:.1f}x), {p_during.timed_out}/{len(p_during.latencies)} probes timed out; "
        f"without: p99 {d_during.p99:.0f} ms vs {d_base.p99:.0f} ms ({d_ratio:.1f}x), "
        f"{d_during.timed_out}/{len(d_during.latencies)} probes timed out, "
        f"{d_restarts} worker restarts",
        passed=ratio <= 2 and p_during.timed_out == 0 and p_during.failed == 0,
        threshold="with the proxy: probe p99 within 2x baseline; without it: failure recorded",
        detail="\n".join(
            [
                f"with nginx, baseline: {p_base.text()}",
                f"with nginx, attack: {p_during.text()}; slow connections opened "
                f"{p_attack.opened}, closed by the server {p_attack.closed_by_server}; "
                f"{p_restarts} gunicorn worker restarts",
                f"without, baseline: {d_base.text()}",
                f"without, attack: {d_during.text()}; slow connections opened "
                f"{d_attack.opened}, closed by the server {d_attack.closed_by_server}; "
                f"{d_restarts} gunicorn worker restarts (WORKER TIMEOUT); "
                f"/healthz answered {recovery:.1f} s after the attack ended",
            ]
        ),
    )


def slow_client_arguments(parser, *, seconds: float, probe_interval: float) -> None:
    """The command line of a slow-client scenario (G4, G5): the database, the attack, the
    /healthz probes and gunicorn's workers."""
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument(
        "--connections", type=int, default=50, help="slow connections (default: %(default)s)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=seconds,
        help="attack time per case, at most 120 (default: %(default)s; above gunicorn's 30 s "
        "worker timeout)",
    )
    parser.add_argument(
        "--baseline", type=float, default=10, help="probe-only seconds first (default: %(default)s)"
    )
    parser.add_argument(
        "--probe-interval",
        type=float,
        default=probe_interval,
        help="seconds between probes (default: %(default)s)",
    )
    parser.add_argument(
        "--probe-timeout", type=float, default=5.0, help="probe deadline (default: %(default)s)"
    )
    gunicorn_arguments(parser, workers=None)


def arguments(parser) -> None:
    slow_client_arguments(parser, seconds=45, probe_interval=1.0)


def checked(args) -> Outcome:
    if not 0 < args.seconds <= 120:
        raise SystemExit("--seconds must be within (0, 120]")
    return run(args)


if __name__ == "__main__":
    main(checked, __doc__, arguments)
