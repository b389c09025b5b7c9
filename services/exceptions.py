"""The exceptions queue (one row per anomaly) and the activity feed (the latest custody scans).

Both are kept by the board projection in its own transaction: `fold_exceptions` is the pure
reducer, `record_exceptions` loads what it needs, runs it and writes the rows. Every row keeps the
notification id of its last change (`changed`), so a live page catches up by asking for what
changed after the last id it has shown, whatever notices it missed.

An anomaly belongs to the kecamatan of its batch's destination, as on the board's count.
"""

from collections.abc import Iterable, Sequence
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
from services.domain import ACTION_OF_EVENT, AnomalyStatus, route_of
from services.viewdb import Cursor, ViewDatabase, chunked_in

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
        kecamatan=route_of(event.destination)[1],
        action=ACTION_OF_EVENT[type(event)],
        location=event.location,
        officer=event.officer,
        occurred_at=utc(event.occurred_at),
        recorded_at=utc(event.recorded_at),
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
        kecamatan=route_of(event.destination)[1],
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
            row, changed=position, status="resolved", resolved_by=event.by, resolved_at=at,
            resolve_note=event.note,
        )  # fmt: skip
    status: AnomalyStatus = "resolved" if row.status == "resolved" else "acknowledged"
    return msgspec.structs.replace(
        row, changed=position, status=status, acknowledged_by=event.by, acknowledged_at=at,
        acknowledge_note=event.note,
    )  # fmt: skip


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


def fold_exceptions(
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


SCHEMA = (
    """CREATE TABLE IF NOT EXISTS exception_anomalies (
        anomaly_id TEXT PRIMARY KEY,
        position BIGINT NOT NULL,
        changed BIGINT NOT NULL,
        batch_id TEXT NOT NULL,
        label TEXT NOT NULL,
        destination TEXT NOT NULL,
        kecamatan TEXT NOT NULL,
        kind TEXT NOT NULL,
        expected TEXT NOT NULL,
        found TEXT NOT NULL,
        location TEXT NOT NULL,
        scan_id TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        status TEXT NOT NULL,
        acknowledged_by TEXT NOT NULL DEFAULT '',
        acknowledged_at TEXT NOT NULL DEFAULT '',
        acknowledge_note TEXT NOT NULL DEFAULT '',
        resolved_by TEXT NOT NULL DEFAULT '',
        resolved_at TEXT NOT NULL DEFAULT '',
        resolve_note TEXT NOT NULL DEFAULT '')""",
    "CREATE INDEX IF NOT EXISTS exception_anomalies_by_position ON exception_anomalies (position)",
    "CREATE INDEX IF NOT EXISTS exception_anomalies_by_change ON exception_anomalies (changed)",
    """CREATE INDEX IF NOT EXISTS exception_anomalies_by_kecamatan
        ON exception_anomalies (kecamatan, position)""",
    """CREATE TABLE IF NOT EXISTS exception_activity (
        position BIGINT PRIMARY KEY,
        changed BIGINT NOT NULL,
        batch_id TEXT NOT NULL,
        scan_id TEXT NOT NULL,
        label TEXT NOT NULL,
        destination TEXT NOT NULL,
        kecamatan TEXT NOT NULL,
        action TEXT NOT NULL,
        location TEXT NOT NULL,
        officer TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        anomalies TEXT NOT NULL DEFAULT '')""",
    """CREATE INDEX IF NOT EXISTS exception_activity_by_scan
        ON exception_activity (batch_id, scan_id)""",
    "CREATE INDEX IF NOT EXISTS exception_activity_by_change ON exception_activity (changed)",
)


def record_exceptions(cursor: Cursor, notifications: Sequence[tuple[int, Event]]) -> set[str]:
    """Write what the new events change in the queue and the feed; the kecamatan they touched.

    Called inside the board projection's transaction, after its position check."""
    anomaly_ids, scan_keys = needed(notifications)
    anomalies = _load_anomalies(cursor, anomaly_ids)
    activity = _load_activity(cursor, scan_keys)
    changed_anomalies, changed_activity = fold_exceptions(anomalies, activity, notifications)
    _store_anomalies(cursor, changed_anomalies.values())
    _store_activity(cursor, changed_activity.values())
    if changed_activity:
        cursor.execute(
            "DELETE FROM exception_activity WHERE position <= (SELECT position FROM "
            "exception_activity ORDER BY position DESC LIMIT 1 OFFSET ?)",
            (ACTIVITY_KEPT,),
        )
    return {row.kecamatan for row in changed_anomalies.values()} | {
        item.kecamatan for item in changed_activity.values()
    }


def _anomaly_row(row: Sequence[object]) -> AnomalyRow:
    return AnomalyRow(**dict(zip(ANOMALY_FIELDS, row, strict=True)))  # type: ignore[arg-type]


def _activity_item(row: Sequence[object]) -> ActivityItem:
    fields = dict(zip(ACTIVITY_FIELDS, row, strict=True))
    kinds = str(fields["anomalies"])
    fields["anomalies"] = tuple(kinds.split(",")) if kinds else ()
    return ActivityItem(**fields)  # type: ignore[arg-type]


def _load_anomalies(cursor: Cursor, anomaly_ids: set[str]) -> dict[str, AnomalyRow]:
    rows: dict[str, AnomalyRow] = {}
    for marks, chunk in chunked_in(anomaly_ids):
        cursor.execute(
            f"SELECT {', '.join(ANOMALY_FIELDS)} FROM exception_anomalies "
            f"WHERE anomaly_id IN ({marks})",
            chunk,
        )
        for found in cursor.fetchall():
            row = _anomaly_row(found)
            rows[row.anomaly_id] = row
    return rows


def _load_activity(cursor: Cursor, keys: set[ScanKey]) -> dict[ScanKey, ActivityItem]:
    items: dict[ScanKey, ActivityItem] = {}
    for batch, scan in sorted(keys):  # a handful per batch of events: one indexed look-up each
        cursor.execute(
            f"SELECT {', '.join(ACTIVITY_FIELDS)} FROM exception_activity "
            "WHERE batch_id = ? AND scan_id = ? ORDER BY position DESC LIMIT 1",
            (batch, scan),
        )
        found = cursor.fetchone()
        if found is not None:
            items[(batch, scan)] = _activity_item(found)
    return items


def _store_anomalies(cursor: Cursor, rows: Iterable[AnomalyRow]) -> None:
    values = [msgspec.structs.astuple(row) for row in rows]
    if values:
        updated = [f for f in ANOMALY_FIELDS if f != "anomaly_id"]
        cursor.executemany(
            f"INSERT INTO exception_anomalies ({', '.join(ANOMALY_FIELDS)}) "
            f"VALUES ({', '.join('?' * len(ANOMALY_FIELDS))}) ON CONFLICT (anomaly_id) "
            f"DO UPDATE SET {', '.join(f'{f} = excluded.{f}' for f in updated)}",
            values,
        )


def _store_activity(cursor: Cursor, items: Iterable[ActivityItem]) -> None:
    values = [(*msgspec.structs.astuple(item)[:-1], ",".join(item.anomalies)) for item in items]
    if values:
        updated = [f for f in ACTIVITY_FIELDS if f != "position"]
        cursor.executemany(
            f"INSERT INTO exception_activity ({', '.join(ACTIVITY_FIELDS)}) "
            f"VALUES ({', '.join('?' * len(ACTIVITY_FIELDS))}) ON CONFLICT (position) "
            f"DO UPDATE SET {', '.join(f'{f} = excluded.{f}' for f in updated)}",
            values,
        )


class ExceptionsView:
    """Reads the exceptions queue and the activity feed from the view database."""

    def __init__(self, db: ViewDatabase):
        self.db = db

    def anomalies(
        self,
        *,
        kinds: Sequence[str] = (),
        kecamatan: str = "",
        statuses: Sequence[str] = ("open",),
        before: int | None = None,
        limit: int = PAGE,
    ) -> list[AnomalyRow]:
        """The queue, newest first, filtered; `before` a position, for the next page."""
        where, params = _filters(kinds, kecamatan, statuses)
        if before is not None:
            where.append("position < ?")
            params.append(before)
        sql = f"SELECT {', '.join(ANOMALY_FIELDS)} FROM exception_anomalies"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.db.query(sql + " ORDER BY position DESC LIMIT ?", [*params, limit])
        return [_anomaly_row(row) for row in rows]

    def anomaly(self, anomaly_id: str) -> AnomalyRow | None:
        rows = self.db.query(
            f"SELECT {', '.join(ANOMALY_FIELDS)} FROM exception_anomalies WHERE anomaly_id = ?",
            (anomaly_id,),
        )
        return _anomaly_row(rows[0]) if rows else None

    def anomalies_changed_after(self, changed: int, limit: int = 500) -> list[AnomalyRow]:
        """Rows changed after a notification id, oldest change first."""
        rows = self.db.query(
            f"SELECT {', '.join(ANOMALY_FIELDS)} FROM exception_anomalies WHERE changed > ? "
            "ORDER BY changed LIMIT ?",
            (changed, limit),
        )
        return [_anomaly_row(row) for row in rows]

    def activity(
        self, before: int | None = None, limit: int = 50, label: str = ""
    ) -> list[ActivityItem]:
        """The latest scans, newest first; of one batch when `label` is given."""
        where: list[str] = []
        params: list[object] = []
        if before is not None:
            where.append("position < ?")
            params.append(before)
        if label:
            where.append("label = ?")
            params.append(label)
        sql = f"SELECT {', '.join(ACTIVITY_FIELDS)} FROM exception_activity"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.db.query(sql + " ORDER BY position DESC LIMIT ?", [*params, limit])
        return [_activity_item(row) for row in rows]

    def activity_changed_after(self, changed: int, limit: int = 500) -> list[ActivityItem]:
        rows = self.db.query(
            f"SELECT {', '.join(ACTIVITY_FIELDS)} FROM exception_activity WHERE changed > ? "
            "ORDER BY changed LIMIT ?",
            (changed, limit),
        )
        return [_activity_item(row) for row in rows]

    def last_change(self) -> int:
        """The newest notification id either table has applied (0 when empty)."""
        rows = self.db.query(
            "SELECT MAX(m) FROM (SELECT MAX(changed) AS m FROM exception_anomalies "
            "UNION ALL SELECT MAX(changed) AS m FROM exception_activity) AS changes"
        )
        return rows[0][0] or 0


def _filters(
    kinds: Sequence[str], kecamatan: str, statuses: Sequence[str]
) -> tuple[list[str], list[object]]:
    where: list[str] = []
    params: list[object] = []
    for column, values in (("kind", kinds), ("status", statuses)):
        if values:
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    if kecamatan:
        where.append("kecamatan = ?")
        params.append(kecamatan)
    return where, params
