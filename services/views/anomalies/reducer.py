"""The anomaly queue and the activity feed, as pure functions of the events.

The queue has one row per anomaly with its life so far; the feed one row per custody scan (the
newest are kept), which an anomaly's row names as where it was seen. `fold_queue` advances both.
Every row keeps the notification id of its last change (`changed`), so a live page catches up by
asking for what changed after the last id it has shown, whatever notices it missed. An anomaly
belongs to the kecamatan of its batch's destination, as on the board's count.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

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
    BatchSealed,
    Event,
    ScanAction,
)
from services.custody.batch import ACTION_OF_EVENT, AnomalyStatus
from services.wilayah import kecamatan_of

ACTIVITY_KEPT = 1000  # the feed keeps the newest scans only; the event store keeps them all
PAGE = 25
ScanEvent = BatchPacked | BatchSealed | BatchDispatched | BatchReceived | BallotsAccounted


class AnomalyRow(msgspec.Struct, frozen=True, kw_only=True):
    """One anomaly in the exceptions queue, with its life so far."""

    anomaly_id: str
    position: int  # notification id of the raise: the queue's order, newest first
    changed: int  # notification id of the last change
    batch_id: str
    label: str
    destination: str  # the TPS the batch is packed for
    kecamatan: str  # of the destination
    kind: AnomalyKind
    expected: str
    found: str
    location: str  # where the scan that showed it happened ("" unknown)
    scan_id: str  # "" when raised by a check (late)
    occurred_at: str  # device time, UTC ISO
    recorded_at: str  # server time, UTC ISO
    status: AnomalyStatus = "open"
    acknowledged_by: str = ""
    acknowledged_at: str = ""
    acknowledge_note: str = ""
    resolved_by: str = ""
    resolved_at: str = ""
    resolve_note: str = ""
    replacement: str = ""  # the label of the batch sent in its place, if one was


class ActivityItem(msgspec.Struct, frozen=True, kw_only=True):
    """One custody scan in the activity feed."""

    position: int  # notification id of the scan: the feed's order, newest first
    changed: int
    batch_id: str
    scan_id: str
    label: str
    destination: str
    kecamatan: str
    action: ScanAction
    location: str
    officer: str
    occurred_at: str  # device time, UTC ISO
    recorded_at: str  # server time, UTC ISO
    account: str = ""  # the account that sent it
    device: str = ""  # the scanner it came from ("" from a browser)
    anomalies: tuple[AnomalyKind, ...] = ()  # the kinds this scan raised


ANOMALY_FIELDS = tuple(AnomalyRow.__struct_fields__)
ACTIVITY_FIELDS = tuple(ActivityItem.__struct_fields__)
assert ACTIVITY_FIELDS[-1] == "anomalies"  # stored last, as a comma-separated text
ScanKey = tuple[str, str]  # (batch id, scan id): scan ids are unique per batch


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def scan_item(position: int, event: ScanEvent, batch_id: str) -> ActivityItem:
    return ActivityItem(
        position=position,
        changed=position,
        batch_id=batch_id,
        scan_id=event.scan_id,
        label=event.label,
        destination=event.destination,
        kecamatan=kecamatan_of(event.destination),
        action=ACTION_OF_EVENT[type(event)],
        location=event.location,
        officer=event.officer,
        occurred_at=utc(event.occurred_at),
        recorded_at=utc(event.recorded_at),
        account=event.user,
        device=event.device,
    )


def raised_row(position: int, event: AnomalyRaised, scan: ActivityItem | None) -> AnomalyRow:
    """A new open anomaly; where it was seen comes from its scan, or, for a check, `found`."""
    location = scan.location if scan else ""
    if not event.scan_id:  # late: `found` is where the batch was last seen
        location = event.found
    return AnomalyRow(
        anomaly_id=event.anomaly_id,
        position=position,
        changed=position,
        batch_id=str(event.originator_id),
        label=event.label,
        destination=event.destination,
        kecamatan=kecamatan_of(event.destination),
        kind=event.kind,
        expected=event.expected,
        found=event.found,
        location=location,
        scan_id=event.scan_id,
        occurred_at=utc(event.occurred_at),
        recorded_at=utc(event.recorded_at),
    )


def acted_row(
    row: AnomalyRow, position: int, event: AnomalyAcknowledged | AnomalyResolved
) -> AnomalyRow:
    """The row after someone acknowledged or resolved it; a resolved anomaly stays resolved."""
    at = utc(event.recorded_at)
    if isinstance(event, AnomalyResolved):
        return msgspec.structs.replace(
            row,
            changed=position,
            status="resolved",
            resolved_by=event.by,
            resolved_at=at,
            resolve_note=event.note,
            replacement=event.replacement or row.replacement,
        )
    status: AnomalyStatus = "resolved" if row.status == "resolved" else "acknowledged"
    return msgspec.structs.replace(
        row,
        changed=position,
        status=status,
        acknowledged_by=event.by,
        acknowledged_at=at,
        acknowledge_note=event.note,
    )


def needed(notifications: Iterable[tuple[int, Event]]) -> tuple[set[str], set[ScanKey]]:
    """The anomaly rows and scans from earlier that these events change or refer to."""
    anomaly_ids: set[str] = set()
    scans: set[tuple[UUID, str]] = set()
    scanned_here: set[tuple[UUID, str]] = set()  # the scan that raised it usually comes with it
    for _, event in notifications:
        if isinstance(event, AnomalyAcknowledged | AnomalyResolved):
            anomaly_ids.add(event.anomaly_id)
        elif isinstance(event, AnomalyRaised) and event.scan_id:
            scans.add((event.originator_id, event.scan_id))
        elif isinstance(event, ScanEvent):
            scanned_here.add((event.originator_id, event.scan_id))
    return anomaly_ids, {(str(batch), scan) for batch, scan in scans - scanned_here}


def fold_queue(
    anomalies: dict[str, AnomalyRow],
    activity: dict[ScanKey, ActivityItem],
    notifications: Iterable[tuple[int, Event]],
) -> tuple[dict[str, AnomalyRow], dict[ScanKey, ActivityItem]]:
    """Advance the rows (anomalies by id, scans by batch and scan id) through the events;
    return the rows that changed."""
    changed_anomalies: dict[str, AnomalyRow] = {}
    changed_activity: dict[ScanKey, ActivityItem] = {}
    for position, event in notifications:
        match event:
            case (
                BatchPacked()
                | BatchSealed()
                | BatchDispatched()
                | BatchReceived()
                | BallotsAccounted()
            ):
                key = (str(event.originator_id), event.scan_id)
                activity[key] = changed_activity[key] = scan_item(position, event, key[0])
            case AnomalyRaised():
                key = (str(event.originator_id), event.scan_id)
                scan = activity.get(key)
                row = raised_row(position, event, scan)
                anomalies[row.anomaly_id] = changed_anomalies[row.anomaly_id] = row
                if scan is not None:
                    scan = msgspec.structs.replace(
                        scan, changed=position, anomalies=(*scan.anomalies, event.kind)
                    )
                    activity[key] = changed_activity[key] = scan
            case AnomalyAcknowledged() | AnomalyResolved():
                row = anomalies.get(event.anomaly_id)
                if row is not None:  # always there, unless the view was rebuilt from a gap
                    row = acted_row(row, position, event)
                    anomalies[row.anomaly_id] = changed_anomalies[row.anomaly_id] = row
    return changed_anomalies, changed_activity
