"""Pure domain decisions for batches: state + command (+ time) -> events, or a domain error."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec

from events import BatchDispatched, BatchReceived, BatchRegistered, Event, ScanAction

LABEL_NAMESPACE = uuid5(NAMESPACE_URL, "https://lacak.id/label")
EARLIEST_SCAN = datetime(2020, 1, 1, tzinfo=UTC)
MAX_CLOCK_AHEAD = timedelta(days=1)


class DomainError(Exception):
    """A command that cannot be true or is not allowed; nothing is recorded."""


class UnknownLabelError(DomainError):
    def __init__(self, label: str):
        super().__init__(f"Label {label!r} tidak dikenal: tidak ada kotak dengan label ini.")
        self.label = label


class UnknownLocationError(DomainError):
    def __init__(self, location: str):
        super().__init__(f"Lokasi {location!r} tidak dikenal: bukan kode wilayah yang terdaftar.")
        self.location = location


class ImpossibleTimeError(DomainError):
    def __init__(self, occurred_at: datetime):
        super().__init__(
            f"Waktu pindai {occurred_at.isoformat()} tidak mungkin benar: periksa jam perangkat."
        )
        self.occurred_at = occurred_at


class LabelTakenError(DomainError):
    def __init__(self, label: str):
        super().__init__(f"Label {label!r} sudah terdaftar.")
        self.label = label


def batch_id(label: str) -> UUID:
    """A batch's id is derived from its label, so a scan finds it without an index."""
    return uuid5(LABEL_NAMESPACE, label)


class Scan(msgspec.Struct, frozen=True, kw_only=True):
    """A device's scan of a label: the command behind `POST /api/v1/scans`."""

    scan_id: str
    label: str
    action: ScanAction
    location: str
    occurred_at: datetime


class ScanRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What a batch remembers of each scan, so a retry gets the first answer again."""

    action: ScanAction
    location: str
    occurred_at: datetime
    recorded_at: datetime
    version: int


class Batch(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    version: int
    label: str
    destination: str
    item: str
    ballot_type: str
    location: str | None = None  # last place it was scanned
    in_transit: bool = False
    scans: dict[str, ScanRecord] = {}


def evolve(batch: Batch | None, events: Iterable[Event]) -> Batch | None:
    """Fold events into the batch's state (the repository's projector function)."""
    for event in events:
        batch = _apply(batch, event)
    return batch


def _apply(batch: Batch | None, event: Event) -> Batch:
    match event:
        case BatchRegistered():
            return Batch(
                id=event.originator_id,
                version=event.originator_version,
                label=event.label,
                destination=event.destination,
                item=event.item,
                ballot_type=event.ballot_type,
            )
        case BatchDispatched() | BatchReceived():
            assert batch is not None, "a scan event before its batch was registered"
            action: ScanAction = "dispatch" if isinstance(event, BatchDispatched) else "receive"
            record = ScanRecord(
                action=action,
                location=event.location,
                occurred_at=event.occurred_at,
                recorded_at=event.recorded_at,
                version=event.originator_version,
            )
            return msgspec.structs.replace(
                batch,
                version=event.originator_version,
                location=event.location,
                in_transit=action == "dispatch",
                scans={**batch.scans, event.scan_id: record},
            )


def register(
    *, label: str, destination: str, item: str, ballot_type: str, quantity: int, at: datetime
) -> BatchRegistered:
    return BatchRegistered(
        originator_id=batch_id(label),
        originator_version=1,
        label=label,
        destination=destination,
        item=item,
        ballot_type=ballot_type,
        quantity=quantity,
        occurred_at=at,
        recorded_at=at,
    )


def record_scan(batch: Batch, scan: Scan, at: datetime) -> list[Event]:
    """Record a dispatch or receipt where it happened; a retried scan id records nothing.

    A scan sent late from an offline device keeps its true time; a time that cannot be true
    (before this system's era, or more than a day ahead of the server) is refused.
    """
    if scan.scan_id in batch.scans:
        return []
    if not EARLIEST_SCAN <= scan.occurred_at <= at + MAX_CLOCK_AHEAD:
        raise ImpossibleTimeError(scan.occurred_at)
    event_class = BatchDispatched if scan.action == "dispatch" else BatchReceived
    return [
        event_class(
            originator_id=batch.id,
            originator_version=batch.version + 1,
            label=batch.label,
            destination=batch.destination,
            occurred_at=scan.occurred_at,
            recorded_at=at,
            scan_id=scan.scan_id,
            location=scan.location,
        )
    ]
