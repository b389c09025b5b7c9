"""Pure decisions on batches: state + command (+ time) -> events, or a refusal."""

from datetime import UTC, datetime, timedelta

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
    Event,
    ScanRepeated,
    ScanVoided,
)
from services import bahasa
from services.custody.batch import Anomaly, Batch, Scan, ScanRecord, batch_id, evolve, settle
from services.custody.errors import (
    ImpossibleTimeError,
    MissingDetailError,
    UnknownAnomalyError,
    UnknownScanEventError,
)

EARLIEST_SCAN = datetime(2020, 1, 1, tzinfo=UTC)
MAX_CLOCK_AHEAD = timedelta(days=1)
# A scan that reaches the server within this of its device time came straight from the device (a
# queue synced after an outage comes later); its time may not go back before the box's last scan
# or its registration by more than `CLOCK_TOLERANCE`, which two devices' clocks may differ by.
SENT_AT_ONCE = timedelta(minutes=10)
CLOCK_TOLERANCE = timedelta(minutes=10)
Found = tuple[AnomalyKind, str, str]  # kind, what was expected, what was found


def check_time(occurred_at: datetime, at: datetime) -> None:
    """ImpossibleTimeError for a device's time that cannot be true: before this system's era,
    or more than a day ahead of the server's `at` (a scan's, a gudang's, a finding's)."""
    if not EARLIEST_SCAN <= occurred_at <= at + MAX_CLOCK_AHEAD:
        raise ImpossibleTimeError(occurred_at)


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


def again_here(batch: Batch, scan: Scan) -> ScanRecord | None:
    """The box's last scan, if `scan` is the same action at the same place."""
    last = batch.last_scan()
    if last is None or (last.action, last.location) != (scan.action, scan.location):
        return None
    return last


def tells_more(last: ScanRecord, scan: Scan) -> bool:
    """Does a scan of the same action at the same place say something the last one did not?
    A scanner's double read carries the screen's defaults; new seal numbers, a new count, a
    receipt's findings (a count, a condition, reasons, seals checked, another dapil) or another
    truck are facts. The KPPS's count at the close is changed by a correction, not a rescan."""
    match scan.action:
        case "seal":
            return tuple(scan.seals or ()) != last.seals
        case "pack":
            return scan.quantity is not None and scan.quantity != last.quantity
        case "dispatch":
            return (scan.to or last.to, scan.surat_jalan or last.surat_jalan) != (
                last.to,
                last.surat_jalan,
            )
        case "receive":
            return (
                scan.counted not in (None, last.quantity)
                or scan.condition not in (None, "baik")
                or bool(scan.reasons)
                or scan.seals is not None
                or bool(scan.dapil)
            )
    return False


def record_scan(batch: Batch, scan: Scan, at: datetime) -> list[Event]:
    """Record a pack, seal, dispatch or receipt where it happened, and flag what is wrong.

    A retried scan id records nothing; the same action at the same place as the box's last scan
    that tells nothing more (a scanner's double read) is recorded as a repeat that counts
    nothing. A scan sent late from an offline device keeps its true time; a time that cannot be
    true (before this system's era, or more than a day ahead of the server) is refused, and so
    is a pack without a count or a seal without seal numbers.
    """
    if scan.scan_id in batch.scans:
        return []
    check_time(scan.occurred_at, at)
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
    last = again_here(batch, scan)
    if last is not None and not tells_more(last, scan):  # a double read
        return [
            ScanRepeated(
                **common,
                originator_version=batch.version + 1,
                scan_id=scan.scan_id,
                action=scan.action,
                location=scan.location,
                repeats=last.version,
                officer=scan.officer,
            )
        ]
    event: Event
    match scan.action:
        case "pack":
            if scan.quantity is None:
                raise MissingDetailError(bahasa.PACK_QUANTITY)
            event = BatchPacked(**scanned, quantity=scan.quantity, dapil=scan.dapil)
        case "seal":
            if not scan.seals:
                raise MissingDetailError(bahasa.SEAL_NUMBERS)
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
                raise MissingDetailError(bahasa.ACCOUNT_COUNTS)
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
                dapil=scan.dapil,
            )
    events: list[Event] = [event]
    found = scan_anomalies(batch, scan, event, at, already_here=last is not None)
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


def scan_anomalies(
    batch: Batch, scan: Scan, event: Event, at: datetime, already_here: bool = False
) -> list[Found]:
    """What the scan shows to be wrong; the scan is recorded all the same. A second receipt
    where the box was just received (what the officer found on opening it) is checked for what
    it found, not for the box's route."""
    found: list[Found] = []
    match scan.action:
        case "pack":
            if scan.quantity != batch.planned:  # not what the plan says
                found.append(count_anomaly(batch.planned, scan.quantity or 0))
            if batch.dapil and scan.dapil and scan.dapil != batch.dapil:
                found.append(("wrong_dapil", batch.dapil, scan.dapil))  # tertukar: another's
        case "dispatch":
            if scan.to and scan.to not in batch.route:
                found.append(
                    ("wrong_destination", next_stop(batch), scan.to)
                )  # loaded for elsewhere
            where = batch.location if not batch.in_transit else None
            if batch.location is None and scan.location != batch.route[0]:
                where = batch.route[0]  # never scanned: it is at the gudang
            if where is not None and where != scan.location:  # it is not there
                found.append(("impossible_move", where, scan.location))
        case "account":
            assert isinstance(event, BallotsAccounted)
            accounted = event.used + event.spoiled + event.unused
            if accounted != event.received:
                found.append(("accounting_mismatch", str(event.received), str(accounted)))
        case "receive":
            if not already_here:
                found += receipt_anomalies(
                    batch, scan.location, scan.occurred_at, scan.handed_over_by
                )
            found += condition_anomalies(batch, scan)
    found += clock_anomalies(batch, scan.occurred_at, at)
    if batch.voided:  # the box is there, so record it; but it was withdrawn: say so
        found.append(("void_scanned", batch.voided, scan.location))
    return found


def clock_anomalies(batch: Batch, occurred_at: datetime, at: datetime) -> list[Found]:
    """A scan sent at once whose time is before the box's registration or its last scan: the
    device's clock is wrong, or the order is impossible. A queue synced late is not flagged:
    its scans keep their true, earlier times."""
    sent_at_once = at - occurred_at <= SENT_AT_ONCE
    before = None
    if batch.registered_at is not None and occurred_at < batch.registered_at - CLOCK_TOLERANCE:
        before = batch.registered_at
    elif sent_at_once and batch.moved_at and occurred_at < batch.moved_at - CLOCK_TOLERANCE:
        before = batch.moved_at
    if before is None:
        return []
    return [("clock_backwards", before.isoformat(), occurred_at.isoformat())]


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
    if batch.dapil and scan.dapil and scan.dapil != batch.dapil:  # another dapil's ballots
        anomalies.append(("wrong_dapil", batch.dapil, scan.dapil))
    elif "tertukar" in scan.reasons:  # found mixed up, the dapil not written down
        anomalies.append(("wrong_dapil", batch.dapil or "-", "-"))
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
    moves = [r for r in batch.scans.values() if r.action in ("dispatch", "receive") and r.counts]
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
    live = [r for r in after.scans.values() if r.counts]
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
    note = bahasa.VOID_NOTE.format(reason=reason)
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
