"""A batch's state, folded from its events: where it is, what it holds, its scans and anomalies.

`evolve` is the repository's projector function: the decisions (`decisions.py`) take this state.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Literal
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec

from events import (
    AnomalyAcknowledged,
    AnomalyKind,
    AnomalyRaised,
    AnomalyResolved,
    BallotsAccounted,
    BatchDispatched,
    BatchPacked,
    BatchReceived,
    BatchRegistered,
    BatchSealed,
    BatchVoided,
    Condition,
    Event,
    Reason,
    ScanAction,
    ScanRepeated,
    ScanVoided,
)
from services.wilayah import route_of

AnomalyStatus = Literal["open", "acknowledged", "resolved"]

LABEL_NAMESPACE = uuid5(NAMESPACE_URL, "https://lacak.id/label")


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
    officer: str = ""
    # pack
    quantity: int | None = None
    dapil: str = ""
    # seal, and the seals found on receipt (None: not checked)
    seals: list[str] | None = None
    # dispatch (and the surat jalan a receipt arrived with)
    to: str = ""
    surat_jalan: str = ""
    vehicle: str = ""
    driver: str = ""
    # receive
    counted: int | None = None
    condition: Condition | None = None
    reasons: list[Reason] = []
    witness: str = ""
    handed_over_by: str = ""  # a two-person handover: the one handing over, present
    # account (the KPPS's count at the close of voting)
    used: int | None = None
    spoiled: int | None = None
    unused: int | None = None
    corrects: int = 0  # a correction: the version of the scan event it replaces
    user: str = ""  # the account that sent it
    device: str = ""  # the scanner device it came from ("" from a browser session)


class ScanRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What a batch remembers of each scan, so a retry gets the first answer again."""

    action: ScanAction
    location: str
    occurred_at: datetime
    recorded_at: datetime
    version: int
    anomalies: tuple[str, ...] = ()  # ids of the anomalies this scan raised
    quantity: int | None = None  # sheets or pieces counted in (pack) or on arrival (receive)
    seals: tuple[str, ...] | None = None  # put on (seal)
    to: str = ""  # where it was sent (dispatch)
    surat_jalan: str = ""  # under which surat jalan (dispatch)
    voided: bool = False  # declared wrong: on the record, no longer counted
    repeats: int = 0  # a double read: the version of the scan it repeats (it counts nothing)

    @property
    def counts(self) -> bool:
        """Does it say where the batch is and what it holds: not voided, not a repeat."""
        return not self.voided and not self.repeats


class Anomaly(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kind: AnomalyKind
    expected: str
    found: str
    status: AnomalyStatus = "open"
    replacement: str = ""  # the label of the batch sent in its place


class Batch(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    version: int
    label: str
    destination: str
    item: str
    ballot_type: str
    planned: int = 0  # sheets (or pieces) the plan gave it
    quantity: int = 0  # what it should hold now: as planned, then as counted in when packed
    dapil: str = ""  # the dapil its ballots must be for
    seals: tuple[str, ...] = ()  # as sealed
    location: str | None = None  # last place it was scanned
    in_transit: bool = False
    moved_at: datetime | None = None  # device time of the scan that put it where it is
    received_at: frozenset[str] = frozenset()  # every place that has received it
    delivered_at: datetime | None = None  # when its TPS first received it (device clock)
    scans: dict[str, ScanRecord] = {}
    anomalies: dict[str, Anomaly] = {}
    voided: str = ""  # the reason it was withdrawn; "" while it is part of the plan
    replaces: str = ""  # the label of the batch it replaces
    replaced_by: tuple[str, ...] = ()  # labels of the batches registered to replace it
    registered_at: datetime | None = None  # server time of its registration

    def counting_scans(self) -> list["ScanRecord"]:
        """Its scans that still count (not voided, not a double read), in recorded order."""
        return sorted((r for r in self.scans.values() if r.counts), key=lambda r: r.version)

    def last_scan(self) -> "ScanRecord | None":
        """The last scan that counts, in recorded order."""
        return max(
            (r for r in self.scans.values() if r.counts), key=lambda r: r.version, default=None
        )

    def scan_at(self, version: int) -> tuple[str, ScanRecord] | None:
        """The scan recorded as event `version`, with its scan id."""
        return next(((i, r) for i, r in self.scans.items() if r.version == version), None)

    @property
    def route(self) -> tuple[str, str, str, str]:
        """gudang (kabupaten), PPK (kecamatan), PPS (desa), TPS: the way down the chain."""
        return route_of(self.destination)


ACTION_OF_EVENT: dict[type, ScanAction] = {
    BatchPacked: "pack",
    BatchSealed: "seal",
    BatchDispatched: "dispatch",
    BatchReceived: "receive",
    BallotsAccounted: "account",
}


def evolve(batch: Batch | None, events: Iterable[Event]) -> Batch | None:
    """Fold events into the batch's state (the repository's projector function)."""
    for event in events:
        batch = _apply(batch, event)
    return batch


def _apply(batch: Batch | None, event: Event) -> Batch:
    if isinstance(event, BatchRegistered):
        return Batch(
            id=event.originator_id,
            version=event.originator_version,
            label=event.label,
            destination=event.destination,
            item=event.item,
            ballot_type=event.ballot_type,
            planned=event.quantity,
            quantity=event.quantity,
            dapil=event.dapil,
            replaces=event.replaces,
            registered_at=event.recorded_at,
        )
    assert batch is not None, "an event before its batch was registered"
    batch = msgspec.structs.replace(batch, version=event.originator_version)
    match event:
        case (
            BatchPacked() | BatchSealed() | BatchDispatched() | BatchReceived() | BallotsAccounted()
        ):
            quantity = event.quantity if isinstance(event, BatchPacked) else None
            if isinstance(event, BatchReceived):
                quantity = event.counted
            record = ScanRecord(
                action=ACTION_OF_EVENT[type(event)],
                location=event.location,
                occurred_at=event.occurred_at,
                recorded_at=event.recorded_at,
                version=event.originator_version,
                quantity=quantity,
                seals=tuple(event.seals) if isinstance(event, BatchSealed) else None,
                to=event.to if isinstance(event, BatchDispatched) else "",
                surat_jalan=event.surat_jalan if isinstance(event, BatchDispatched) else "",
            )
            return settle(
                msgspec.structs.replace(batch, scans={**batch.scans, event.scan_id: record})
            )
        case ScanRepeated():
            record = ScanRecord(
                action=event.action,
                location=event.location,
                occurred_at=event.occurred_at,
                recorded_at=event.recorded_at,
                version=event.originator_version,
                repeats=event.repeats,
            )
            return msgspec.structs.replace(batch, scans={**batch.scans, event.scan_id: record})
        case ScanVoided():
            record = msgspec.structs.replace(batch.scans[event.scan_id], voided=True)
            return settle(
                msgspec.structs.replace(batch, scans={**batch.scans, event.scan_id: record})
            )
        case BatchVoided():
            replaced_by = batch.replaced_by
            if event.replaced_by and event.replaced_by not in replaced_by:
                replaced_by = (*replaced_by, event.replaced_by)
            return msgspec.structs.replace(batch, voided=event.reason, replaced_by=replaced_by)
        case AnomalyRaised():
            anomaly = Anomaly(
                id=event.anomaly_id, kind=event.kind, expected=event.expected, found=event.found
            )
            scans = batch.scans
            if event.scan_id in scans:  # raised by a scan: its retry answers with it too
                record = scans[event.scan_id]
                record = msgspec.structs.replace(record, anomalies=(*record.anomalies, anomaly.id))
                scans = {**scans, event.scan_id: record}
            return msgspec.structs.replace(
                batch, scans=scans, anomalies={**batch.anomalies, anomaly.id: anomaly}
            )
        case AnomalyAcknowledged() | AnomalyResolved():
            status: AnomalyStatus = (
                "resolved" if isinstance(event, AnomalyResolved) else "acknowledged"
            )
            anomaly = msgspec.structs.replace(batch.anomalies[event.anomaly_id], status=status)
            replaced_by = batch.replaced_by
            if isinstance(event, AnomalyResolved) and event.replacement:
                replaced_by = (*replaced_by, event.replacement)
                anomaly = msgspec.structs.replace(anomaly, replacement=event.replacement)
            return msgspec.structs.replace(
                batch, anomalies={**batch.anomalies, anomaly.id: anomaly}, replaced_by=replaced_by
            )
    raise TypeError(f"not a batch event: {type(event).__name__}")


def settle(batch: Batch) -> Batch:
    """Where the batch is, what it holds and its seals, from the scans that still count.

    Where it is now follows the device clocks: a scan synced late from an offline device joins
    the history without moving the batch back in time. What it holds follows the order recorded.
    """
    live = [r for r in batch.scans.values() if r.counts]
    last = max(live, key=lambda r: (r.occurred_at, r.version), default=None)
    receipts = [r for r in live if r.action == "receive"]
    at_tps = [r.occurred_at for r in receipts if r.location == batch.destination]
    quantity, seals = batch.planned, ()
    for record in sorted(live, key=lambda r: r.version):
        if record.quantity is not None and record.action in ("pack", "receive"):
            quantity = record.quantity
        if record.seals is not None:
            seals = record.seals
    return msgspec.structs.replace(
        batch,
        location=last.location if last else None,
        in_transit=last is not None and last.action == "dispatch",
        moved_at=last.occurred_at if last else None,
        received_at=frozenset(r.location for r in receipts),
        delivered_at=min(at_tps, default=None),
        quantity=quantity,
        seals=seals,
    )
