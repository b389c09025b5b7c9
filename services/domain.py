"""Pure domain decisions for batches: state + command (+ time) -> events, or a domain error."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
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
    ScanVoided,
)

AnomalyStatus = Literal["open", "acknowledged", "resolved"]

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


class UnknownAnomalyError(DomainError):
    def __init__(self, anomaly_id: str):
        super().__init__(f"Anomali {anomaly_id!r} tidak dikenal.")
        self.anomaly_id = anomaly_id


class MissingDetailError(DomainError):
    def __init__(self, detail: str):
        super().__init__(f"Data kurang: {detail} wajib diisi untuk tindakan ini.")


class UnknownScanEventError(DomainError):
    def __init__(self, label: str, version: int):
        super().__init__(f"Kotak {label!r} tidak punya pindai dengan nomor urut {version}.")
        self.label = label
        self.version = version


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
    voided: bool = False  # declared wrong: on the record, no longer counted


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


def route_of(tps_code: str) -> tuple[str, str, str, str]:
    """`3604052001001` -> (`36.04`, `36.04.05`, `36.04.05.2001`, `3604052001001`)."""
    kabupaten = f"{tps_code[0:2]}.{tps_code[2:4]}"
    kecamatan = f"{kabupaten}.{tps_code[4:6]}"
    return kabupaten, kecamatan, f"{kecamatan}.{tps_code[6:10]}", tps_code


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
            )
            return settle(
                msgspec.structs.replace(batch, scans={**batch.scans, event.scan_id: record})
            )
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
    live = [r for r in batch.scans.values() if not r.voided]
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


def register(
    *,
    label: str,
    destination: str,
    item: str,
    ballot_type: str,
    quantity: int,
    at: datetime,
    dapil: str = "",
) -> BatchRegistered:
    return BatchRegistered(
        originator_id=batch_id(label),
        originator_version=1,
        label=label,
        destination=destination,
        item=item,
        ballot_type=ballot_type,
        quantity=quantity,
        dapil=dapil,
        occurred_at=at,
        recorded_at=at,
    )


def record_scan(batch: Batch, scan: Scan, at: datetime) -> list[Event]:
    """Record a pack, seal, dispatch or receipt where it happened, and flag what is wrong.

    A retried scan id records nothing. A scan sent late from an offline device keeps its true
    time; a time that cannot be true (before this system's era, or more than a day ahead of the
    server) is refused, and so is a pack without a count or a seal without seal numbers.
    """
    if scan.scan_id in batch.scans:
        return []
    if not EARLIEST_SCAN <= scan.occurred_at <= at + MAX_CLOCK_AHEAD:
        raise ImpossibleTimeError(scan.occurred_at)
    common = {
        "originator_id": batch.id,
        "label": batch.label,
        "destination": batch.destination,
        "occurred_at": scan.occurred_at,
        "recorded_at": at,
        "user": scan.user,
        "device": scan.device,
    }
    scanned = {
        **common,
        "originator_version": batch.version + 1,
        "scan_id": scan.scan_id,
        "location": scan.location,
        "officer": scan.officer,
        "corrects": scan.corrects,
    }
    event: Event
    match scan.action:
        case "pack":
            if scan.quantity is None:
                raise MissingDetailError("jumlah surat suara yang dikemas (quantity)")
            event = BatchPacked(**scanned, quantity=scan.quantity, dapil=scan.dapil)
        case "seal":
            if not scan.seals:
                raise MissingDetailError("nomor segel (seals)")
            event = BatchSealed(**scanned, seals=scan.seals)
        case "dispatch":
            event = BatchDispatched(
                **scanned,
                to=scan.to,
                surat_jalan=scan.surat_jalan,
                vehicle=scan.vehicle,
                driver=scan.driver,
            )
        case "account":
            if scan.used is None or scan.spoiled is None or scan.unused is None:
                raise MissingDetailError("jumlah surat suara terpakai, rusak dan sisa")
            event = BallotsAccounted(
                **scanned,
                received=batch.quantity,
                used=scan.used,
                spoiled=scan.spoiled,
                unused=scan.unused,
            )
        case "receive":
            event = BatchReceived(
                **scanned,
                counted=scan.counted,
                condition=scan.condition,
                seals=scan.seals,
                reasons=scan.reasons,
                witness=scan.witness,
                surat_jalan=scan.surat_jalan,
                handed_over_by=scan.handed_over_by,
            )
    events: list[Event] = [event]
    found: list[tuple[AnomalyKind, str, str]] = []
    if scan.action == "pack" and scan.quantity != batch.planned:  # not what the plan says
        found.append(count_anomaly(batch.planned, scan.quantity or 0))
    if scan.action == "pack" and batch.dapil and scan.dapil and scan.dapil != batch.dapil:
        found.append(("wrong_dapil", batch.dapil, scan.dapil))  # tertukar: another dapil's
    if scan.action == "dispatch" and scan.to and scan.to not in batch.route:
        found.append(("wrong_destination", next_stop(batch), scan.to))  # loaded for elsewhere
    if isinstance(event, BallotsAccounted):
        accounted = event.used + event.spoiled + event.unused
        if accounted != event.received:
            found.append(("accounting_mismatch", str(event.received), str(accounted)))
    if scan.action == "receive":
        found = [
            *receipt_anomalies(batch, scan.location, scan.occurred_at, scan.handed_over_by),
            *condition_anomalies(batch, scan),
        ]
    if batch.voided:  # the box is there, so record it; but it was withdrawn: say so
        found.append(("void_scanned", batch.voided, scan.location))
    for kind, expected, seen in found:
        version = batch.version + len(events) + 1
        events.append(
            AnomalyRaised(
                **common,
                originator_version=version,
                anomaly_id=f"{batch.label}-{version}",
                kind=kind,
                scan_id=scan.scan_id,
                expected=expected,
                found=seen,
            )
        )
    return events


def count_anomaly(expected: int, counted: int) -> tuple[AnomalyKind, str, str]:
    return ("count_short" if counted < expected else "count_over", str(expected), str(counted))


def condition_anomalies(batch: Batch, scan: Scan) -> list[tuple[AnomalyKind, str, str]]:
    """What the receiving officer found wrong with the batch itself: seals, count, condition."""
    anomalies: list[tuple[AnomalyKind, str, str]] = []
    if scan.seals is not None and (batch.seals or batch.item == "kotak_suara"):
        expected = ", ".join(sorted(batch.seals)) or "-"
        if not scan.seals:  # a kotak suara must arrive sealed, recorded at the gudang or not
            anomalies.append(("seal_missing", expected, "-"))
        elif sorted(scan.seals) != sorted(batch.seals):
            anomalies.append(("seal_mismatch", expected, ", ".join(sorted(scan.seals))))
    if scan.counted is not None and scan.counted != batch.quantity:
        anomalies.append(count_anomaly(batch.quantity, scan.counted))
    if scan.condition in ("rusak", "basah"):
        anomalies.append(("damaged", "baik", scan.condition))
    return anomalies


def next_stop(batch: Batch) -> str:
    """The first place down its route that has not received the batch (its TPS at the end)."""
    route = batch.route
    return next((stop for stop in route[1:] if stop not in batch.received_at), route[-1])


def receipt_anomalies(
    batch: Batch, location: str, occurred_at: datetime, handed_over_by: str = ""
) -> list[tuple[AnomalyKind, str, str]]:
    """What is wrong with the batch arriving at `location`: (kind, expected, found).

    A hand-to-hand handover names the one who gave it: that is its release, no dispatch needed.
    """
    route = batch.route
    if location not in route:
        return [("wrong_destination", next_stop(batch), location)]
    anomalies: list[tuple[AnomalyKind, str, str]] = []
    position = route.index(location)
    if position > 0:  # on the way down: every stop before this one must have received it
        missed = [stop for stop in route[1:position] if stop not in batch.received_at]
        if missed:
            anomalies.append(("skipped_hop", missed[0], location))
    # By the device clocks: was the last movement before this receipt a dispatch?
    moves = [
        r for r in batch.scans.values() if r.action in ("dispatch", "receive") and not r.voided
    ]
    earlier = [r for r in moves if r.occurred_at <= occurred_at]
    last = max(earlier, key=lambda r: (r.occurred_at, r.version), default=None)
    if not handed_over_by and (last is None or last.action == "receive"):
        anomalies.append(
            ("receipt_without_dispatch", last.location if last else route[0], location)
        )
    return anomalies


def flag_late(batch: Batch, deadline: datetime, at: datetime) -> list[Event]:
    """Past the deadline (H-1), a batch not yet received at its TPS is late; flagged once."""
    delivered = batch.delivered_at is not None and batch.delivered_at < deadline
    flagged = any(a.kind == "late" for a in batch.anomalies.values())
    if at < deadline or delivered or flagged or batch.voided:
        return []
    version = batch.version + 1
    return [
        AnomalyRaised(
            originator_id=batch.id,
            originator_version=version,
            label=batch.label,
            destination=batch.destination,
            occurred_at=deadline,
            recorded_at=at,
            anomaly_id=f"{batch.label}-{version}",
            kind="late",
            scan_id="",
            expected=deadline.isoformat(),
            found=batch.location or batch.route[0],
        )
    ]


def acknowledge(batch: Batch, anomaly_id: str, by: str, note: str, at: datetime) -> list[Event]:
    """Someone has seen the anomaly and is on it; acknowledging twice records nothing."""
    if _anomaly(batch, anomaly_id).status != "open":
        return []
    return [_anomaly_event(AnomalyAcknowledged, batch, anomaly_id, by, note, at)]


def resolve(
    batch: Batch, anomaly_id: str, by: str, note: str, at: datetime, replacement: str = ""
) -> list[Event]:
    """The anomaly is dealt with, with a replacement batch where one was sent (its label);
    resolving twice records nothing."""
    if _anomaly(batch, anomaly_id).status == "resolved":
        return []
    resolved = _anomaly_event(AnomalyResolved, batch, anomaly_id, by, note, at)
    return [msgspec.structs.replace(resolved, replacement=replacement)]


def replace_batch(batch: Batch, label: str, quantity: int | None, at: datetime) -> BatchRegistered:
    """A new batch for the same TPS, item, ballot type and dapil, naming the one it replaces."""
    registered = register(
        label=label,
        destination=batch.destination,
        item=batch.item,
        ballot_type=batch.ballot_type,
        quantity=batch.planned if quantity is None else quantity,
        dapil=batch.dapil,
        at=at,
    )
    return msgspec.structs.replace(registered, replaces=batch.label)


def void_batch(
    batch: Batch, reason: str, by: str, at: datetime, replaced_by: str = ""
) -> list[Event]:
    """Withdraw the batch from the plan; voiding twice records nothing."""
    if batch.voided:
        return []
    return [
        BatchVoided(
            originator_id=batch.id,
            originator_version=batch.version + 1,
            label=batch.label,
            destination=batch.destination,
            occurred_at=at,
            recorded_at=at,
            reason=reason,
            by=by,
            replaced_by=replaced_by,
        )
    ]


def void_scan(batch: Batch, version: int, reason: str, by: str, at: datetime) -> list[Event]:
    """Declare the scan recorded as event `version` wrong; the anomalies it raised are resolved.

    The scan stays on the record. Voiding it twice records nothing.
    """
    found = batch.scan_at(version)
    if found is None:
        raise UnknownScanEventError(batch.label, version)
    scan_id, record = found
    if record.voided:
        return []
    after = settle(
        msgspec.structs.replace(
            batch, scans={**batch.scans, scan_id: msgspec.structs.replace(record, voided=True)}
        )
    )
    live = [r for r in after.scans.values() if not r.voided]
    events: list[Event] = [
        ScanVoided(
            originator_id=batch.id,
            originator_version=batch.version + 1,
            label=batch.label,
            destination=batch.destination,
            occurred_at=at,
            recorded_at=at,
            voids=version,
            scan_id=scan_id,
            reason=reason,
            by=by,
            location=after.location or "",
            in_transit=after.in_transit,
            moved_at=after.moved_at,
            packed=any(r.action in ("pack", "seal") for r in live),
            dispatched=any(r.action == "dispatch" for r in live),
            received=any(r.action == "receive" for r in live),
            delivered_at=after.delivered_at,
        )
    ]
    note = f"pindai dibatalkan: {reason}"
    for anomaly_id in record.anomalies:
        if batch.anomalies[anomaly_id].status != "resolved":
            resolved = _anomaly_event(AnomalyResolved, batch, anomaly_id, by, note, at)
            events.append(
                msgspec.structs.replace(
                    resolved, originator_version=batch.version + len(events) + 1
                )
            )
    return events


def correct_scan(
    batch: Batch, version: int, scan: Scan, reason: str, by: str, at: datetime
) -> list[Event]:
    """Void the scan recorded as event `version` and record the right one in its place, naming
    the event it corrects. A retried correction (same scan id) records nothing."""
    if scan.scan_id in batch.scans:
        return []
    voided = void_scan(batch, version, reason, by, at)
    after = evolve(batch, voided)
    assert after is not None
    return [*voided, *record_scan(after, msgspec.structs.replace(scan, corrects=version), at)]


def _anomaly_event(
    kind: type[AnomalyAcknowledged | AnomalyResolved],
    batch: Batch,
    anomaly_id: str,
    by: str,
    note: str,
    at: datetime,
) -> AnomalyAcknowledged | AnomalyResolved:
    return kind(
        originator_id=batch.id,
        originator_version=batch.version + 1,
        label=batch.label,
        destination=batch.destination,
        occurred_at=at,
        recorded_at=at,
        anomaly_id=anomaly_id,
        by=by,
        note=note,
    )


def _anomaly(batch: Batch, anomaly_id: str) -> Anomaly:
    try:
        return batch.anomalies[anomaly_id]
    except KeyError:
        raise UnknownAnomalyError(anomaly_id) from None
