"""The anomaly queue and the activity feed in the view database: a projection of their own
(durable consumer `anomalies`), with the queries the queue's and the feed's pages ask."""

from collections.abc import Iterable, Sequence

import msgspec

from events import Event
from services.views.anomalies.reducer import (
    ACTIVITY_FIELDS,
    ACTIVITY_KEPT,
    ANOMALY_FIELDS,
    PAGE,
    ActivityItem,
    AnomalyRow,
    ScanKey,
    fold_queue,
    needed,
)
from services.views.database import Cursor, chunked_in
from services.views.projection import Projection
from services.wilayah import tps_prefix

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS anomaly_queue (
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
        resolve_note TEXT NOT NULL DEFAULT '',
        replacement TEXT NOT NULL DEFAULT '')""",
    "CREATE INDEX IF NOT EXISTS anomaly_queue_by_position ON anomaly_queue (position)",
    "CREATE INDEX IF NOT EXISTS anomaly_queue_by_change ON anomaly_queue (changed)",
    """CREATE INDEX IF NOT EXISTS anomaly_queue_by_kecamatan
        ON anomaly_queue (kecamatan, position)""",
    """CREATE INDEX IF NOT EXISTS anomaly_queue_by_destination
        ON anomaly_queue (destination, position)""",
    """CREATE TABLE IF NOT EXISTS activity_feed (
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
        account TEXT NOT NULL DEFAULT '',
        device TEXT NOT NULL DEFAULT '',
        anomalies TEXT NOT NULL DEFAULT '')""",
    """CREATE INDEX IF NOT EXISTS activity_feed_by_scan
        ON activity_feed (batch_id, scan_id)""",
    "CREATE INDEX IF NOT EXISTS activity_feed_by_change ON activity_feed (changed)",
)


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
            f"SELECT {', '.join(ANOMALY_FIELDS)} FROM anomaly_queue WHERE anomaly_id IN ({marks})",
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
            f"SELECT {', '.join(ACTIVITY_FIELDS)} FROM activity_feed "
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
            f"INSERT INTO anomaly_queue ({', '.join(ANOMALY_FIELDS)}) "
            f"VALUES ({', '.join('?' * len(ANOMALY_FIELDS))}) ON CONFLICT (anomaly_id) "
            f"DO UPDATE SET {', '.join(f'{f} = excluded.{f}' for f in updated)}",
            values,
        )


def _store_activity(cursor: Cursor, items: Iterable[ActivityItem]) -> None:
    values = [(*msgspec.structs.astuple(item)[:-1], ",".join(item.anomalies)) for item in items]
    if values:
        updated = [f for f in ACTIVITY_FIELDS if f != "position"]
        cursor.executemany(
            f"INSERT INTO activity_feed ({', '.join(ACTIVITY_FIELDS)}) "
            f"VALUES ({', '.join('?' * len(ACTIVITY_FIELDS))}) ON CONFLICT (position) "
            f"DO UPDATE SET {', '.join(f'{f} = excluded.{f}' for f in updated)}",
            values,
        )


class AnomalyView(Projection):
    """The queue and the feed: kept from the stream, and read by their pages."""

    name = (
        "anomalies"  # one projector: the live feed follows its rows in one order (web/anomalies.py)
    )
    version = 2  # 2: the replacement batch, and who sent each scan
    schema = SCHEMA
    tables = ("anomaly_queue", "activity_feed")

    def write(self, cursor: Cursor, fresh: Sequence[tuple[int, Event]]) -> set[str]:
        """The rows the fresh events change in the queue and the feed; the kecamatan touched."""
        anomaly_ids, scan_keys = needed(fresh)
        anomalies = _load_anomalies(cursor, anomaly_ids)
        activity = _load_activity(cursor, scan_keys)
        changed_anomalies, changed_activity = fold_queue(anomalies, activity, fresh)
        _store_anomalies(cursor, changed_anomalies.values())
        _store_activity(cursor, changed_activity.values())
        if changed_activity:
            cursor.execute(
                "DELETE FROM activity_feed WHERE position <= (SELECT position FROM "
                "activity_feed ORDER BY position DESC LIMIT 1 OFFSET ?)",
                (ACTIVITY_KEPT,),
            )
        return {row.kecamatan for row in changed_anomalies.values()} | {
            item.kecamatan for item in changed_activity.values()
        }

    def anomalies(
        self,
        *,
        kinds: Sequence[str] = (),
        kecamatan: str = "",
        statuses: Sequence[str] = ("open",),
        within: str = "",
        before: int | None = None,
        limit: int = PAGE,
    ) -> list[AnomalyRow]:
        """The queue, newest first, filtered (`within`: of the batches bound for that area);
        `before` a position, for the next page."""
        where, params = _filters(kinds, kecamatan, statuses, within)
        if before is not None:
            where.append("position < ?")
            params.append(before)
        sql = f"SELECT {', '.join(ANOMALY_FIELDS)} FROM anomaly_queue"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.db.query(sql + " ORDER BY position DESC LIMIT ?", [*params, limit])
        return [_anomaly_row(row) for row in rows]

    def anomaly(self, anomaly_id: str) -> AnomalyRow | None:
        rows = self.db.query(
            f"SELECT {', '.join(ANOMALY_FIELDS)} FROM anomaly_queue WHERE anomaly_id = ?",
            (anomaly_id,),
        )
        return _anomaly_row(rows[0]) if rows else None

    def anomalies_changed_after(self, changed: int, limit: int = 500) -> list[AnomalyRow]:
        """Rows changed after a notification id, oldest change first."""
        rows = self.db.query(
            f"SELECT {', '.join(ANOMALY_FIELDS)} FROM anomaly_queue WHERE changed > ? "
            "ORDER BY changed LIMIT ?",
            (changed, limit),
        )
        return [_anomaly_row(row) for row in rows]

    def activity(
        self, before: int | None = None, limit: int = 50, label: str = "", within: str = ""
    ) -> list[ActivityItem]:
        """The latest scans, newest first; of one batch when `label` is given; of the batches
        bound for an area `within` (a wilayah code) when given."""
        where: list[str] = []
        params: list[object] = []
        if within:
            where.append("destination LIKE ?")
            params.append(tps_prefix(within) + "%")
        if before is not None:
            where.append("position < ?")
            params.append(before)
        if label:
            where.append("label = ?")
            params.append(label)
        sql = f"SELECT {', '.join(ACTIVITY_FIELDS)} FROM activity_feed"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.db.query(sql + " ORDER BY position DESC LIMIT ?", [*params, limit])
        return [_activity_item(row) for row in rows]

    def activity_changed_after(self, changed: int, limit: int = 500) -> list[ActivityItem]:
        rows = self.db.query(
            f"SELECT {', '.join(ACTIVITY_FIELDS)} FROM activity_feed WHERE changed > ? "
            "ORDER BY changed LIMIT ?",
            (changed, limit),
        )
        return [_activity_item(row) for row in rows]

    def last_change(self) -> int:
        """The newest notification id either table has applied (0 when empty)."""
        rows = self.db.query(
            "SELECT MAX(m) FROM (SELECT MAX(changed) AS m FROM anomaly_queue "
            "UNION ALL SELECT MAX(changed) AS m FROM activity_feed) AS changes"
        )
        return rows[0][0] or 0


def _filters(
    kinds: Sequence[str], kecamatan: str, statuses: Sequence[str], within: str = ""
) -> tuple[list[str], list[object]]:
    where: list[str] = []
    params: list[object] = []
    if within:
        where.append("destination LIKE ?")
        params.append(tps_prefix(within) + "%")
    for column, values in (("kind", kinds), ("status", statuses)):
        if values:
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    if kecamatan:
        where.append("kecamatan = ?")
        params.append(kecamatan)
    return where, params
