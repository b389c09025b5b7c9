"""The board: planned, dispatched and received batches, and open anomalies, per kecamatan.

The logic is a pure reducer (`advance`, `counter_changes`) so that the SQL view below and an
in-memory replay produce the same board from the same events.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import Literal

import msgspec

from events import (
    AnomalyRaised,
    AnomalyResolved,
    BatchDispatched,
    BatchReceived,
    BatchRegistered,
    Event,
)
from events.batch import BatchEvent
from services.domain import batch_id as batch_id_of
from services.exceptions import SCHEMA as EXCEPTIONS_SCHEMA
from services.exceptions import record_exceptions
from services.viewdb import Cursor, ViewDatabase

Stage = Literal["planned", "dispatched", "received"]
STAGE_ORDER: dict[Stage, int] = {"planned": 0, "dispatched": 1, "received": 2}
# A batch counts in its own stage's column and every column before it.
COLUMNS_OF_STAGE: dict[Stage, tuple[str, ...]] = {
    "planned": ("planned",),
    "dispatched": ("planned", "dispatched"),
    "received": ("planned", "dispatched", "received"),
}


Place = Literal["gudang", "transit", "ppk", "pps", "tps", "returned"]
PLACES: tuple[Place, ...] = ("gudang", "transit", "ppk", "pps", "tps", "returned")
# Where a batch is now, by the shape of the code where it was last received.
PLACE_OF_LEVEL: dict[int, Place] = {2: "gudang", 3: "ppk", 4: "pps", 1: "tps"}
COLUMNS = ("planned", "dispatched", "received", "anomalies", *PLACES)


class BatchLine(msgspec.Struct, frozen=True):
    """What the board keeps of one batch."""

    kecamatan: str
    stage: Stage
    open_anomalies: int = 0
    place: Place = "gudang"  # where it is now
    delivered: bool = False  # has been at its TPS (a later receipt at the gudang is a return)
    moved_at: str = ""  # device time (UTC, ISO) of the scan that put it where it is


class BatchLabel(msgspec.Struct, frozen=True):
    """What a printed label says of its batch."""

    label: str
    destination: str
    item: str
    ballot_type: str
    quantity: int
    dapil: str


class ShipmentLine(msgspec.Struct, frozen=True, kw_only=True):
    """One batch of a truck load: as sent under its surat jalan, and as received."""

    label: str
    destination: str
    sent_from: str | None = None
    sent_to: str | None = None
    sent_at: str | None = None
    vehicle: str | None = None
    driver: str | None = None
    released_by: str | None = None
    received_at: str | None = None
    received_location: str | None = None
    counted: int | None = None
    condition: str | None = None
    seals: str | None = None
    received_by: str | None = None
    witness: str | None = None

    def status(
        self, load_arrived: bool
    ) -> Literal["lengkap", "belum diterima", "lebih", "di jalan"]:
        """Complete; not (yet) received from a load that has arrived; extra (not on the load);
        or on the way."""
        if self.sent_at and self.received_at:
            return "lengkap"
        if self.received_at:
            return "lebih"
        return "belum diterima" if load_arrived else "di jalan"


SHIPMENT_FIELDS = tuple(ShipmentLine.__struct_fields__)


class KecamatanCounts(msgspec.Struct, frozen=True, kw_only=True):
    kecamatan: str  # dotted Kemendagri code
    planned: int = 0
    dispatched: int = 0
    received: int = 0
    anomalies: int = 0  # open: raised, not yet resolved
    # Where the batches are now:
    gudang: int = 0
    transit: int = 0
    ppk: int = 0
    pps: int = 0
    tps: int = 0
    returned: int = 0

    @property
    def percent_received(self) -> float:
        return round(100 * self.received / self.planned, 1) if self.planned else 0.0


def kecamatan_of(tps_code: str) -> str:
    """`3604012001001` -> `36.04.01`."""
    return f"{tps_code[0:2]}.{tps_code[2:4]}.{tps_code[4:6]}"


def advance(line: BatchLine | None, event: Event) -> BatchLine | None:
    """The batch's line after the event; stages only move forward, a late scan never undoes one."""
    if line is None:  # placed by its destination, even if the board never saw it registered
        line = BatchLine(kecamatan_of(event.destination), "planned")
    match event:
        case BatchDispatched() | BatchReceived():
            received = isinstance(event, BatchReceived)
            place: Place = "transit"
            if received:
                place = PLACE_OF_LEVEL[len(event.location.split("."))]
                if place == "gudang" and line.delivered:
                    place = "returned"
            line = msgspec.structs.replace(
                line,
                stage=later(line.stage, "received" if received else "dispatched"),
                delivered=line.delivered or place == "tps",
            )
            moved_at = event.occurred_at.astimezone(UTC).isoformat()
            if moved_at >= line.moved_at:  # a scan synced late does not move it back in time
                line = msgspec.structs.replace(line, place=place, moved_at=moved_at)
            return line
        case AnomalyRaised():
            return msgspec.structs.replace(line, open_anomalies=line.open_anomalies + 1)
        case AnomalyResolved():
            return msgspec.structs.replace(line, open_anomalies=line.open_anomalies - 1)
    return line


def later(stage: Stage, other: Stage) -> Stage:
    return other if STAGE_ORDER[other] > STAGE_ORDER[stage] else stage


def counter_changes(before: BatchLine | None, after: BatchLine | None) -> Counter[tuple[str, str]]:
    """(kecamatan, column) -> +n / -n between two lines of one batch."""
    changes: Counter[tuple[str, str]] = Counter()
    for line, sign in ((before, -1), (after, 1)):
        if line is not None:
            for column in COLUMNS_OF_STAGE[line.stage]:
                changes[(line.kecamatan, column)] += sign
            changes[(line.kecamatan, "anomalies")] += sign * line.open_anomalies
            changes[(line.kecamatan, line.place)] += sign
    return changes


def fold(
    lines: dict[str, BatchLine], events: Iterable[Event]
) -> tuple[dict[str, BatchLine], Counter[tuple[str, str]]]:
    """Advance `lines` (by batch id) through the events; return the changed lines and counts."""
    changed: dict[str, BatchLine] = {}
    counts: Counter[tuple[str, str]] = Counter()
    for event in events:
        if not isinstance(event, BatchEvent):  # master data is not on the board
            continue
        key = str(event.originator_id)
        before = lines.get(key)
        after = advance(before, event)
        if after != before and after is not None:
            lines[key] = changed[key] = after
            counts.update(counter_changes(before, after))
    return changed, counts


class MemoryBoard:
    """The board held in memory, for replays and tests."""

    def __init__(self) -> None:
        self.lines: dict[str, BatchLine] = {}
        self.counts: Counter[tuple[str, str]] = Counter()

    def apply(self, events: Iterable[Event]) -> None:
        self.counts.update(fold(self.lines, events)[1])

    def rows(self) -> list[KecamatanCounts]:
        kecamatan = sorted({k for k, _ in self.counts})
        return [
            KecamatanCounts(kecamatan=k, **{c: self.counts[(k, c)] for c in COLUMNS})
            for k in kecamatan
        ]


SCHEMA = (
    """CREATE TABLE IF NOT EXISTS board_batches (
        batch_id TEXT PRIMARY KEY,
        kecamatan TEXT NOT NULL,
        stage TEXT NOT NULL,
        open_anomalies INTEGER NOT NULL DEFAULT 0,
        place TEXT NOT NULL DEFAULT 'gudang',
        delivered INTEGER NOT NULL DEFAULT 0,
        moved_at TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS batch_labels (
        batch_id TEXT PRIMARY KEY,
        label TEXT NOT NULL,
        destination TEXT NOT NULL,
        kecamatan TEXT NOT NULL,
        item TEXT NOT NULL,
        ballot_type TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        dapil TEXT NOT NULL DEFAULT '')""",
    "CREATE INDEX IF NOT EXISTS batch_labels_by_kecamatan ON batch_labels (kecamatan, label)",
    """CREATE TABLE IF NOT EXISTS shipment_lines (
        surat_jalan TEXT NOT NULL,
        batch_id TEXT NOT NULL,
        label TEXT NOT NULL,
        destination TEXT NOT NULL,
        sent_from TEXT,
        sent_to TEXT,
        sent_at TEXT,
        vehicle TEXT,
        driver TEXT,
        released_by TEXT,
        received_at TEXT,
        received_location TEXT,
        counted INTEGER,
        condition TEXT,
        seals TEXT,
        received_by TEXT,
        witness TEXT,
        PRIMARY KEY (surat_jalan, batch_id))""",
    """CREATE TABLE IF NOT EXISTS board_kecamatan (
        kecamatan TEXT PRIMARY KEY,
        planned INTEGER NOT NULL DEFAULT 0,
        dispatched INTEGER NOT NULL DEFAULT 0,
        received INTEGER NOT NULL DEFAULT 0,
        anomalies INTEGER NOT NULL DEFAULT 0,
        gudang INTEGER NOT NULL DEFAULT 0,
        transit INTEGER NOT NULL DEFAULT 0,
        ppk INTEGER NOT NULL DEFAULT 0,
        pps INTEGER NOT NULL DEFAULT 0,
        tps INTEGER NOT NULL DEFAULT 0,
        returned INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS projection_tracking (
        projection TEXT PRIMARY KEY,
        position BIGINT NOT NULL,
        stream_sequence BIGINT NOT NULL,
        applied BIGINT NOT NULL)""",
)


class BoardView:
    """The board's rows in the view database, with the position it has applied up to."""

    name = "board"

    def __init__(self, db: ViewDatabase):
        self.db = db

    def setup(self) -> None:
        self.db.create(SCHEMA + EXCEPTIONS_SCHEMA)
        with self.db.transaction() as cursor:
            cursor.execute(
                "INSERT INTO projection_tracking (projection, position, stream_sequence, applied) "
                "VALUES (?, 0, 0, 0) ON CONFLICT (projection) DO NOTHING",
                (self.name,),
            )

    def stream_sequence(self) -> int:
        rows = self.db.query(
            "SELECT stream_sequence FROM projection_tracking WHERE projection = ?", (self.name,)
        )
        return rows[0][0] if rows else 0

    def apply(self, notifications: Sequence[tuple[int, Event]], stream_sequence: int) -> set[str]:
        """Apply events past the stored position, in one transaction; the kecamatan changed."""
        with self.db.transaction() as cursor:
            # Locks the tracking row: a second projector by mistake waits, then sees our position.
            cursor.execute(
                "UPDATE projection_tracking SET applied = applied WHERE projection = ? "
                "RETURNING position",
                (self.name,),
            )
            (position,) = cursor.fetchone()
            fresh, applied = [], 0
            for notification_id, event in notifications:
                if notification_id > position:
                    applied += 1
                    position = notification_id
                    fresh.append(event)
            counts: Counter[tuple[str, str]] = Counter()
            # The fresh notifications are the last `applied` ones: ids only ascend.
            touched = record_exceptions(cursor, notifications[len(notifications) - applied :])
            if fresh:
                batches = {str(e.originator_id) for e in fresh if isinstance(e, BatchEvent)}
                lines = _load_lines(cursor, batches)
                changed_lines, counts = fold(lines, fresh)
                _store(cursor, changed_lines, counts)
                _catalogue(cursor, [e for e in fresh if isinstance(e, BatchRegistered)])
                _shipments(cursor, fresh)
            cursor.execute(
                "UPDATE projection_tracking SET position = ?, stream_sequence = ?, "
                "applied = applied + ? WHERE projection = ?",
                (position, stream_sequence, applied, self.name),
            )
        return {kecamatan for kecamatan, _ in counts} | touched

    def applied(self) -> int:
        """How many events the view has applied: each once, however often it was delivered."""
        rows = self.db.query(
            "SELECT applied FROM projection_tracking WHERE projection = ?", (self.name,)
        )
        return rows[0][0]

    def labels(self, kecamatan: str, desa: str | None = None) -> list[BatchLabel]:
        """The registered batches bound for a kecamatan (or one desa of it), by label."""
        sql = (
            "SELECT label, destination, item, ballot_type, quantity, dapil FROM batch_labels "
            "WHERE kecamatan = ?"
        )
        params = [kecamatan]
        if desa:
            sql += " AND destination LIKE ?"
            params.append(desa.replace(".", "") + "%")
        rows = self.db.query(sql + " ORDER BY label", params)
        return [BatchLabel(*row) for row in rows]

    def label(self, label: str) -> BatchLabel | None:
        """One registered batch by its canonical label, or None."""
        rows = self.db.query(
            "SELECT label, destination, item, ballot_type, quantity, dapil FROM batch_labels "
            "WHERE batch_id = ?",
            (str(batch_id_of(label)),),  # the primary key: the id is derived from the label
        )
        return BatchLabel(*rows[0]) if rows else None

    def shipment(self, surat_jalan: str) -> list[ShipmentLine]:
        """Every batch sent or received under one surat jalan, by label."""
        rows = self.db.query(
            f"SELECT {', '.join(SHIPMENT_FIELDS)} FROM shipment_lines "
            "WHERE surat_jalan = ? ORDER BY label",
            (surat_jalan,),
        )
        return [ShipmentLine(**dict(zip(SHIPMENT_FIELDS, row, strict=True))) for row in rows]

    def rows(self, kecamatan: Iterable[str] | None = None) -> list[KecamatanCounts]:
        sql = f"SELECT kecamatan, {', '.join(COLUMNS)} FROM board_kecamatan"
        params: list[str] = []
        if kecamatan is not None:
            params = sorted(kecamatan)
            if not params:
                return []
            sql += f" WHERE kecamatan IN ({', '.join('?' * len(params))})"
        rows = self.db.query(sql + " ORDER BY kecamatan", params)
        return [
            KecamatanCounts(kecamatan=row[0], **dict(zip(COLUMNS, row[1:], strict=True)))
            for row in rows
        ]


def _load_lines(cursor: Cursor, batch_ids: set[str]) -> dict[str, BatchLine]:
    lines: dict[str, BatchLine] = {}
    ids = sorted(batch_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        cursor.execute(
            "SELECT batch_id, kecamatan, stage, open_anomalies, place, delivered, moved_at "
            f"FROM board_batches WHERE batch_id IN ({', '.join('?' * len(chunk))})",
            chunk,
        )
        for batch_id, kecamatan, stage, anomalies, place, delivered, moved in cursor.fetchall():
            lines[batch_id] = BatchLine(kecamatan, stage, anomalies, place, bool(delivered), moved)
    return lines


def _catalogue(cursor: Cursor, registered: list[BatchRegistered]) -> None:
    if registered:
        cursor.executemany(
            "INSERT INTO batch_labels (batch_id, label, destination, kecamatan, item, ballot_type, "
            "quantity, dapil) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (batch_id) DO NOTHING",
            [
                (
                    str(e.originator_id),
                    e.label,
                    e.destination,
                    kecamatan_of(e.destination),
                    e.item,
                    e.ballot_type,
                    e.quantity,
                    e.dapil,
                )
                for e in registered
            ],
        )


def _shipments(cursor: Cursor, events: list[Event]) -> None:
    """A dispatch under a surat jalan puts the batch on that load; a receipt under it ticks it."""
    for event in events:
        if isinstance(event, BatchDispatched) and event.surat_jalan:
            fields = {
                "sent_from": event.location,
                "sent_to": event.to,
                "sent_at": event.occurred_at.isoformat(),
                "vehicle": event.vehicle,
                "driver": event.driver,
                "released_by": event.officer,
            }
        elif isinstance(event, BatchReceived) and event.surat_jalan:
            fields = {
                "received_at": event.occurred_at.isoformat(),
                "received_location": event.location,
                "counted": event.counted,
                "condition": event.condition,
                "seals": None if event.seals is None else ", ".join(event.seals),
                "received_by": event.officer,
                "witness": event.witness,
            }
        else:
            continue
        names = ["surat_jalan", "batch_id", "label", "destination", *fields]
        cursor.execute(
            f"INSERT INTO shipment_lines ({', '.join(names)}) "
            f"VALUES ({', '.join('?' * len(names))}) ON CONFLICT (surat_jalan, batch_id) "
            f"DO UPDATE SET {', '.join(f'{f} = excluded.{f}' for f in fields)}",
            (event.surat_jalan, str(event.originator_id), event.label, event.destination,
             *fields.values()),
        )  # fmt: skip


def _store(cursor: Cursor, lines: dict[str, BatchLine], counts: Counter[tuple[str, str]]) -> None:
    if lines:
        cursor.executemany(
            "INSERT INTO board_batches (batch_id, kecamatan, stage, open_anomalies, place, "
            "delivered, moved_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (batch_id) DO UPDATE "
            "SET stage = excluded.stage, open_anomalies = excluded.open_anomalies, "
            "place = excluded.place, delivered = excluded.delivered, moved_at = excluded.moved_at",
            [
                (
                    key,
                    line.kecamatan,
                    line.stage,
                    line.open_anomalies,
                    line.place,
                    int(line.delivered),
                    line.moved_at,
                )
                for key, line in lines.items()
            ],
        )
    per_kecamatan = sorted({kecamatan for kecamatan, _ in counts})
    if per_kecamatan:
        cursor.executemany(
            f"INSERT INTO board_kecamatan (kecamatan, {', '.join(COLUMNS)}) "
            f"VALUES (?{', ?' * len(COLUMNS)}) ON CONFLICT (kecamatan) DO UPDATE SET "
            + ", ".join(f"{c} = board_kecamatan.{c} + excluded.{c}" for c in COLUMNS),
            [(k, *(counts[(k, column)] for column in COLUMNS)) for k in per_kecamatan],
        )
