"""The export file an auditor verifies offline: every event's bytes as stored, one JSON line
each, with its leaf hash and chain, then the signed checkpoints, one line each: a file that
carries its own proof, checked with the ledger's published key."""

from collections.abc import Iterable, Iterator
from pathlib import Path

import msgspec

from services.audit.chain import LedgerRow, chained
from services.audit.note import Checkpoint, NoteError, parse_checkpoint


class ExportLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line of an export file: the event's bytes as stored, with its ledger hashes."""

    position: int
    event_hash: str
    chain: str
    event: msgspec.Raw


def export_lines(stored: Iterable[tuple[int, bytes]]) -> Iterator[bytes]:
    """JSON lines of the event store: each event's bytes as stored (and as the ledger hashed
    them), with its hash and chain. Bytes that are no JSON at all (a row overwritten by hand)
    go in as a JSON string, which no longer matches: `verify` names the position."""
    encoder = msgspec.json.Encoder()
    entries = [(position, as_json(data)) for position, data in stored]
    for (position, data), (_, event_hash, chain) in zip(entries, chained(entries), strict=True):
        line = ExportLine(
            position=position,
            event_hash=event_hash.hex(),
            chain=chain.hex(),
            event=msgspec.Raw(data),
        )
        yield encoder.encode(line) + b"\n"


class CheckpointLine(msgspec.Struct, frozen=True, kw_only=True):
    """A line of an export after the events: a signed checkpoint, as its note."""

    checkpoint: str


def checkpoint_lines(checkpoints: Iterable[Checkpoint]) -> Iterator[bytes]:
    encoder = msgspec.json.Encoder()
    for checkpoint in checkpoints:
        yield encoder.encode(CheckpointLine(checkpoint=checkpoint.note)) + b"\n"


def as_json(data: bytes) -> bytes:
    try:
        msgspec.json.decode(data)
    except msgspec.DecodeError:
        return msgspec.json.encode(data.decode("utf-8", errors="replace"))
    return data


def read_export(
    path: Path,
) -> tuple[list[tuple[int, bytes]], list[LedgerRow], list[Checkpoint]]:
    """An export file as (position, event bytes) to recompute, the ledger rows it claims, and
    the checkpoints it carries (their signatures are checked by the caller)."""
    decoder = msgspec.json.Decoder(ExportLine)
    notes = msgspec.json.Decoder(CheckpointLine)
    actual, claimed, checkpoints = [], [], []
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                if line.startswith(b'{"checkpoint":'):
                    checkpoints.append(parse_checkpoint(notes.decode(line).checkpoint))
                    continue
                entry = decoder.decode(line)
                claimed.append(
                    (entry.position, bytes.fromhex(entry.event_hash), bytes.fromhex(entry.chain))
                )
            except (msgspec.DecodeError, NoteError, ValueError) as error:
                raise ValueError(f"baris {number}: {error}") from None
            actual.append((entry.position, bytes(entry.event)))
    return actual, claimed, checkpoints
