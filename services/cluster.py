"""`lacak cluster`: the distributed stack on one machine, for development, staging and the fault
benchmark. Three nats-server nodes from the wheel, clustered on loopback (JetStream, streams of
three replicas); PostgreSQL from the settings; two or more `lacak web` replicas behind a small
round-robin front; the relay and every projector, each its own process. Every log in one folder;
a part that dies is started again a second later and the log says so (as systemd would); Ctrl-C
stops them all.
"""

import asyncio
import itertools
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import nats
from nats.errors import Error as NatsError

from services.console import Refused
from services.messaging.nats import NATS_DOWN, ensure_stream, sleep_or_stop
from services.messaging.server import (
    ClusterNode,
    EmbeddedNats,
    die_with_parent,
    free_port,
    stop_process,
)
from services.settings import Settings
from services.views.ledger import ensure_checkpoint_stream

log = logging.getLogger("lacak.cluster")

NODES = 3
REPLICAS = 3  # of every stream: a node may die and the stream goes on
PROJECTORS = ("board", "anomalies", "gudang", "findings", "ledger", "log", "notices")
RESTART_SECONDS = 1.0


class Part:
    """One process of the stack: its command, its log file and how often it was started."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], log_file: Path):
        self.name, self.argv, self.env, self.log_file = name, argv, dict(env), log_file
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.died_at: float | None = None

    def start(self) -> None:
        with self.log_file.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services", *self.argv],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
                process_group=0,  # Ctrl-C reaches the cluster, which stops its parts in order
            )
        self.starts += 1
        self.died_at = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=10)


class Cluster:
    """The nodes, the parts and the front of one `lacak cluster`."""

    def __init__(
        self, settings: Settings, folder: Path, replicas: int, port: int, app_name: str = "lacak"
    ):
        """`app_name` names every PostgreSQL connection of the parts (a fault can pick them)."""
        self.settings, self.folder, self.port = settings, folder, port
        self.app_name = app_name
        self.logs = folder / "logs"
        ports = [free_port() for _ in range(NODES)]
        routes = [free_port() for _ in range(NODES)]
        self.nodes = [
            EmbeddedNats(
                folder / f"nats-{n + 1}",
                port=ports[n],
                cluster=ClusterNode(
                    name=f"n{n + 1}",
                    port=routes[n],
                    routes=tuple(r for i, r in enumerate(routes) if i != n),
                ),
                log_file=self.logs / f"nats-{n + 1}.log",
            )
            for n in range(NODES)
        ]
        self.nats_url = ",".join(node.url for node in self.nodes)
        self.web_ports = [free_port() for _ in range(replicas)]
        env = {
            **os.environ,
            **settings.store,
            "LACAK_DATA_DIR": str(settings.data_dir),
            "LACAK_NATS_URL": self.nats_url,
            "LACAK_STREAM_REPLICAS": str(REPLICAS),
            "LACAK_HOST": "127.0.0.1",
            "PGAPPNAME": app_name,
        }
        self.parts = [
            Part(
                f"web-{i + 1}",
                ["web"],
                {**env, "LACAK_PORT": str(p)},
                self.logs / f"web-{i + 1}.log",
            )
            for i, p in enumerate(self.web_ports)
        ]
        self.parts.append(Part("relay", ["relay"], env, self.logs / "relay.log"))
        self.parts += [
            Part(f"project-{name}", ["project", name], env, self.logs / f"project-{name}.log")
            for name in PROJECTORS
        ]
        self.stopping = False
        self.turn = itertools.count()
        self.open: set[asyncio.StreamWriter] = set()  # the front's connections, both ends

    def part(self, name: str) -> Part:
        return next(p for p in self.parts if p.name == name)

    # Starting and stopping

    def start_nodes(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        for node in self.nodes:
            node.start()
        asyncio.run(self.streams_ready())

    async def streams_ready(self, timeout: float = 60.0) -> None:
        """Wait until the cluster has a JetStream leader and both streams have three replicas."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                nc = await nats.connect(
                    [node.url for node in self.nodes], connect_timeout=2, allow_reconnect=False
                )
                try:
                    await ensure_stream(nc, REPLICAS)
                    await ensure_checkpoint_stream(nc, REPLICAS)
                    return
                finally:
                    await nc.close()
            except (*NATS_DOWN, NatsError) as error:
                if time.monotonic() > deadline:
                    raise Refused(
                        f"Cluster NATS tidak membentuk JetStream dalam {timeout:.0f} detik "
                        f"({error}); lihat {self.logs}/nats-*.log."
                    ) from None
                await asyncio.sleep(0.5)

    def start_parts(self) -> None:
        for part in self.parts:
            part.start()

    def stop(self) -> None:
        self.stopping = True
        for part in self.parts:  # SIGTERM to all first, then wait: they end together
            if part.process is not None and part.process.poll() is None:
                part.process.terminate()
        for part in self.parts:
            part.stop()
        for node in self.nodes:
            node.stop()

    async def supervise(self, stop: asyncio.Event) -> None:
        """Start a part again a second after it died, saying so."""
        while not stop.is_set():
            now = time.monotonic()
            for part in self.parts:
                code = part.process.poll() if part.process else None
                if code is None or self.stopping:
                    continue
                if part.died_at is None:
                    part.died_at = now
                    log.warning("%s exited (%s); starting it again", part.name, exit_word(code))
                elif now - part.died_at >= RESTART_SECONDS:
                    part.start()
            await sleep_or_stop(stop, 0.25)

    # The front: round robin over the web replicas, by connection

    def replicas_in_turn(self) -> Iterator[int]:
        start = next(self.turn)
        for i in range(len(self.web_ports)):
            yield self.web_ports[(start + i) % len(self.web_ports)]

    async def front(self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter) -> None:
        for port in self.replicas_in_turn():  # a replica that does not answer: the next
            try:
                upstream, to_upstream = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                continue
        else:
            to_client.write(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
            await to_client.drain()
            to_client.close()
            return
        self.open.update((to_client, to_upstream))
        try:
            await asyncio.gather(pipe(client, to_upstream), pipe(upstream, to_client))
        except asyncio.CancelledError:  # the cluster stops with the connection open (live pages)
            to_client.close()
            to_upstream.close()
        finally:
            self.open.difference_update((to_client, to_upstream))

    async def serve_front(self, stop: asyncio.Event) -> None:
        server = await asyncio.start_server(self.front, self.settings.host, self.port)
        async with server:
            await stop.wait()
            for writer in list(self.open):  # live pages stay open: closing the server waits
                writer.transport.abort()  # for its connections (Python 3.12), so end them


def until_ready(url: str, timeout: float) -> str | None:
    """Ask a web replica's /readyz every half second until it answers 200 (None) or `timeout`
    seconds pass (then what it last said): `lacak ready` and the benchmarks wait with it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = httpx.get(url, timeout=2)
            if answer.status_code == 200:
                return None
            said = f"{answer.status_code} {answer.text[:200]}"
        except httpx.HTTPError as error:
            said = str(error) or type(error).__name__
        if time.monotonic() >= deadline:
            return said
        time.sleep(0.5)


async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        sink.close()


def exit_word(code: int) -> str:
    if code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"exit {code}"
