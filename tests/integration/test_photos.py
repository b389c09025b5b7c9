"""The evidence photos' table beside the event store, on SQLite and PostgreSQL: web replicas
starting together each find it, and each finds the photos another kept."""

import threading
from concurrent.futures import ThreadPoolExecutor

from services.findings.photos import Photos
from services.settings import Settings

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_web_replicas_starting_together_each_open_the_photos_and_see_each_others(
    settings: Settings,
):
    """Six at once: PostgreSQL refuses a concurrent CREATE TABLE IF NOT EXISTS to all but one
    (a web worker died of it at start), unless they take turns."""
    ready = threading.Barrier(6)

    def start(n: int) -> Photos:
        ready.wait()
        return Photos(settings)

    with ThreadPoolExecutor(6) as pool:
        replicas = list(pool.map(start, range(6)))
    try:
        digests = {replica.keep(PNG + bytes([n])) for n, replica in enumerate(replicas)}
        for replica in replicas:
            assert replica.missing(sorted(digests)) == []
            assert replica.get(min(digests)) is not None
        assert replicas[0].missing(["0" * 64]) == ["0" * 64]
    finally:
        for replica in replicas:
            replica.close()
