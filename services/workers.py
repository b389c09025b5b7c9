"""`lacak web --workers N`: N web processes answering on one listening socket.

The parent binds the address once and hands the socket to each worker (`lacak web --listen-fd`);
the kernel gives each new connection to one of the processes waiting on it. Each worker is a whole
`lacak web` (its own commit queue, connections, live pages). A worker that dies is started again
after a second, saying so; SIGTERM or Ctrl-C stops them all.
"""

import logging
import os
import signal
import socket
import subprocess
import sys
import time

from services.messaging.server import die_with_parent, stop_process
from services.settings import Settings

log = logging.getLogger("lacak")
RESTART_SECONDS = 1.0


def listening_socket(settings: Settings) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve_workers(settings: Settings, workers: int) -> None:
    """Run `workers` web processes on the settings' address until a signal."""
    sock = listening_socket(settings)
    stopping = False

    def start(n: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "services", "web", "--listen-fd", str(sock.fileno())],
            pass_fds=(sock.fileno(),),
            preexec_fn=die_with_parent,
            env={**os.environ, "LACAK_WORKER": str(n)},
        )

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    processes = [start(n + 1) for n in range(workers)]
    died_at: dict[int, float] = {}
    log.info("lacak web: %d processes on http://%s:%d", workers, settings.host, settings.port)
    try:
        while not stopping:
            for n, process in enumerate(processes):
                code = process.poll()
                if code is None:
                    continue
                if n not in died_at:
                    died_at[n] = time.monotonic()
                    log.warning("web worker %d exited (%s); starting it again", n + 1, code)
                elif time.monotonic() - died_at[n] >= RESTART_SECONDS:
                    del died_at[n]
                    processes[n] = start(n + 1)
            time.sleep(0.2)
    finally:
        for process in processes:  # SIGTERM to all first, then wait: they end together
            if process.poll() is None:
                process.terminate()
        for process in processes:
            stop_process(process, timeout=10)
        sock.close()
