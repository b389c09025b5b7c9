"""The load generator of `lacak bench scans`, in a process of its own.

It reads a `Load` (msgpack) on stdin: where to post, the headers, the bodies already encoded, how
many clients post at once. Each client holds one keep-alive HTTP/1.1 connection and posts the next
body as soon as its last answer came; the answers' statuses and latencies go back as a `Result` on
stdout. Plain asyncio streams, not an HTTP library: the generator must cost the machine far less
than the server it measures.
"""

import asyncio
import sys
import time

import msgspec


class Load(msgspec.Struct, frozen=True):
    host: str
    port: int
    path: str
    headers: dict[str, str]
    bodies: list[bytes]
    clients: int


class Result(msgspec.Struct):
    elapsed: float
    latencies: list[float]  # seconds, one per answered request
    statuses: dict[int, int]  # status -> how many
    errors: list[str]  # connections that broke, and why (at most a few)


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
    result = Result(elapsed=0.0, latencies=[], statuses={}, errors=[])
    taken = iter(requests)

    async def client() -> None:
        reader, writer = await asyncio.open_connection(load.host, load.port)
        try:
            for request in taken:
                started = time.perf_counter()
                writer.write(request)
                status, length = await answer_head(reader)
                await reader.readexactly(length)
                result.latencies.append(time.perf_counter() - started)
                result.statuses[status] = result.statuses.get(status, 0) + 1
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            if len(result.errors) < 5:
                result.errors.append(repr(error))
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(load.clients)))
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
