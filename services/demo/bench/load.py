"""The load generator of `lacak bench scans`, in a process of its own.

It reads a `Load` (msgpack) on stdin: where to post, the headers, the bodies already encoded, how
many clients post at once. Each client holds one keep-alive HTTP/1.1 connection (to the ports in
turn, as a load balancer spreads them over web replicas) and posts the next body as soon as its
last answer came; or, given a rate, the bodies go out at that pace over at most `clients`
connections, however long the answers take (an open loop: a slow server is not asked less), until
they run out or SIGTERM comes. The answers' statuses and latencies go back as a `Result` on
stdout. Plain asyncio streams, not an HTTP library: the generator must cost the machine far less
than the server it measures.
"""

import asyncio
import itertools
import signal
import sys
import time
from collections.abc import Iterator

import msgspec


class Load(msgspec.Struct, frozen=True):
    host: str
    ports: list[int]  # connections go to each in turn
    path: str
    headers: dict[str, str]
    bodies: list[bytes]
    clients: int
    rate: float = 0.0  # > 0: requests a second, at most `clients` at once


class Result(msgspec.Struct):
    elapsed: float
    latencies: list[float]  # seconds, one per answered request
    statuses: dict[int, int]  # status -> how many
    errors: list[str]  # connections that broke, and why (at most a few)
    answered_at: list[float]  # time.monotonic() of each 2xx answer (the same clock everywhere)


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]
BROKEN = (OSError, asyncio.IncompleteReadError, ValueError)


async def run(load: Load) -> Result:
    head = "".join(f"{k}: {v}\r\n" for k, v in load.headers.items())
    requests = [
        (
            f"POST {load.path} HTTP/1.1\r\nhost: {load.host}\r\n{head}"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for body in load.bodies
    ]
    result = Result(elapsed=0.0, latencies=[], statuses={}, errors=[], answered_at=[])
    turn = itertools.cycle(load.ports)

    async def exchange(connection: Connection, request: bytes) -> None:
        reader, writer = connection
        started = time.perf_counter()
        writer.write(request)
        status, length = await answer_head(reader)
        await reader.readexactly(length)
        result.latencies.append(time.perf_counter() - started)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        if status < 300:
            result.answered_at.append(time.monotonic())

    def broke(error: Exception) -> None:
        if len(result.errors) < 5:
            result.errors.append(repr(error))

    async def client(taken: Iterator[bytes]) -> None:
        connection = await asyncio.open_connection(load.host, next(turn))
        try:
            for request in taken:
                await exchange(connection, request)
        except BROKEN as error:
            broke(error)
        finally:
            connection[1].close()

    idle: list[Connection] = []
    freed = asyncio.Condition()
    opened = 0

    async def one(request: bytes) -> None:  # at the rate: an idle connection, a new one, or wait
        nonlocal opened
        async with freed:
            while not idle and opened >= load.clients:
                await freed.wait()
            if idle:
                connection: Connection | None = idle.pop()
            else:
                opened += 1
                connection = None
        # a kept-alive connection the server closed while idle breaks as it is reused: the
        # request goes again on a new one, as an HTTP client does (a scan_id is stored once)
        for attempt in range(2):
            reused = connection is not None
            try:
                if connection is None:
                    connection = await asyncio.open_connection(load.host, next(turn))
                await exchange(connection, request)
                break
            except BROKEN as error:
                if connection is not None:
                    connection[1].close()
                connection = None
                if not reused or attempt:
                    broke(error)
                    break
        async with freed:
            if connection is None:
                opened -= 1
            else:
                idle.append(connection)
            freed.notify()

    started = time.perf_counter()
    if load.rate > 0:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        sent: set[asyncio.Task[None]] = set()
        for n, request in enumerate(requests):
            if stop.is_set():
                break
            await asyncio.sleep(max(0.0, started + n / load.rate - time.perf_counter()))
            task = asyncio.create_task(one(request))
            sent.add(task)
            task.add_done_callback(sent.discard)
        await asyncio.gather(*sent)
        for _, writer in idle:
            writer.close()
    else:
        taken = iter(requests)
        await asyncio.gather(*(client(taken) for _ in range(load.clients)))
    result.elapsed = time.perf_counter() - started
    return result


async def answer_head(reader: asyncio.StreamReader) -> tuple[int, int]:
    """The status and content-length of the next answer (the server always sends a length)."""
    lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return status, int(value)
    raise ValueError(f"an answer without content-length: {lines[0]!r}")


def main() -> None:
    load = msgspec.msgpack.decode(sys.stdin.buffer.read(), type=Load)
    sys.stdout.buffer.write(msgspec.msgpack.encode(asyncio.run(run(load))))


if __name__ == "__main__":
    main()
