"""The board: per area (kabupaten, kecamatan, desa, TPS) where the batches are and what is wrong.

The logic is a pure reducer (`advance`, `counter_changes`, `arrival_changes`, `fold`) so that the
SQL view below and an in-memory replay produce the same board from the same events. Every batch
counts in each area of its destination: its kabupaten, kecamatan, desa and TPS.

Whether a TPS is at risk of missing the H-1 deadline depends on the clock, so it is not stored:
`tps_at_risk` decides it at read time from the TPS's stored counts (see its docstring).
"""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

import msgspec

from events import (
    AnomalyRaised,
    AnomalyResolved,
    BatchDispatched,
    BatchPacked,
    BatchReceived,
    BatchRegistered,
    BatchSealed,
    BatchVoided,
    Event,
    ScanVoided,
)
from events.batch import BatchEvent
from services import tracking
from services.domain import batch_id as batch_id_of
from services.exceptions import SCHEMA as EXCEPTIONS_SCHEMA
from services.exceptions import record_exceptions
from services.viewdb import Cursor, ViewDatabase, chunked_in

Stage = Literal["planned", "packed", "dispatched", "received"]
STAGE_ORDER: dict[Stage, int] = {"planned": 0, "packed": 1, "dispatched": 2, "received": 3}
# A batch counts in its own stage's column and every column before it: a batch on its way was
# packed, even when nobody scanned the packing (bundles of bilik and tinta are not counted in).
COLUMNS_OF_STAGE: dict[Stage, tuple[str, ...]] = {
    "planned": ("planned",),
    "packed": ("planned", "packed"),
    "dispatched": ("planned", "packed", "dispatched"),
    "received": ("planned", "packed", "dispatched", "received"),
}


Place = Literal["gudang", "transit", "ppk", "pps", "tps", "returned"]
PLACES: tuple[Place, ...] = ("gudang", "transit", "ppk", "pps", "tps", "returned")
# Where a batch is now, by the shape of the code where it was last received.
PLACE_OF_LEVEL: dict[int, Place] = {2: "gudang", 3: "ppk", 4: "pps", 1: "tps"}
# Hops still to go to its TPS, by the shape of the code where it was last received.
HOPS_OF_LEVEL: dict[int, int] = {2: 3, 3: 2, 4: 1, 1: 1}  # at a TPS not its own: back via a PPS
# Batches not yet delivered, by the hops they still have to go (for the H-1 risk).
UNDELIVERED: dict[int, str] = {3: "undelivered_gudang", 2: "undelivered_ppk", 1: "undelivered_pps"}
COLUMNS = (
    "planned",
    "packed",
    "dispatched",
    "received",
    "delivered",
    "anomalies",
    *PLACES,
    *UNDELIVERED.values(),
)

Level = Literal["kabupaten", "kecamatan", "desa", "tps"]
LEVELS: tuple[Level, ...] = ("kabupaten", "kecamatan", "desa", "tps")

WIB = timezone(timedelta(hours=7), "WIB")
# The H-1 risk rule (`tps_at_risk`): how close to the deadline a batch may still be where it is.
RISK_AT_GUDANG = timedelta(days=3)
RISK_BEFORE_PPS = timedelta(days=1)


class BatchLine(msgspec.Struct, frozen=True, gc=False):
    """What the board keeps of one batch (no containers, so the garbage collector can skip it).

    Its times are the events' own datetimes: the SQL view stores them as UTC ISO text
    (`_store`, `_load_lines`), and a replay does not format a time per scan."""

    destination: str  # its 13-digit TPS code
    stage: Stage
    open_anomalies: int = 0
    place: Place = "gudang"  # where it is now
    delivered: bool = False  # has been at its TPS (a later receipt at the gudang is a return)
    moved_at: datetime | None = None  # device time of the scan that put it where it is
    hops_left: int = 3  # to its TPS from where it was last received (a truck counts where it left)
    delivered_at: datetime | None = None  # device time of its first receipt at its TPS
    location: str = ""  # wilayah code of the scan that put it where it is
    voided: bool = False  # withdrawn from the plan: counted nowhere


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
    handed_over_by: str | None = None  # a hand-to-hand handover: who gave it at the receipt

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


class TpsBatch(msgspec.Struct, frozen=True, kw_only=True):
    """One batch bound for a TPS, as its page lists it."""

    label: str
    item: str
    ballot_type: str
    place: Place
    location: str  # wilayah code of its last scan ("" before any)
    moved_at: str
    delivered: bool
    open_anomalies: int


class AreaCounts(msgspec.Struct, frozen=True, kw_only=True):
    """The board's numbers for one area: a kabupaten, kecamatan, desa or TPS."""

    area: str  # dotted Kemendagri code, or the 13-digit TPS code
    planned: int = 0
    packed: int = 0  # packed or sealed, or already on its way
    dispatched: int = 0  # have left the gudang
    received: int = 0  # have been received somewhere down the chain
    delivered: int = 0  # have been received at their own TPS
    anomalies: int = 0  # open: raised, not yet resolved
    # Where the batches are now:
    gudang: int = 0
    transit: int = 0
    ppk: int = 0
    pps: int = 0
    tps: int = 0
    returned: int = 0
    # Not yet delivered, by the last stop that received them (a truck counts where it left):
    undelivered_gudang: int = 0
    undelivered_ppk: int = 0
    undelivered_pps: int = 0

    @property
    def percent_received(self) -> float:
        return round(100 * self.received / self.planned, 1) if self.planned else 0.0

    @property
    def percent_ready(self) -> float:
        """Delivered at their TPS, of those planned."""
        return round(100 * self.delivered / self.planned, 1) if self.planned else 0.0

    @property
    def undelivered(self) -> int:
        return self.undelivered_gudang + self.undelivered_ppk + self.undelivered_pps


def kecamatan_of(tps_code: str) -> str:
    """`3604012001001` -> `36.04.01`."""
    return f"{tps_code[0:2]}.{tps_code[2:4]}.{tps_code[4:6]}"


def areas_of(tps_code: str) -> tuple[str, str, str, str]:
    """`3604012001001` -> (`36.04`, `36.04.01`, `36.04.01.2001`, `3604012001001`)."""
    kabupaten = f"{tps_code[0:2]}.{tps_code[2:4]}"
    kecamatan = f"{kabupaten}.{tps_code[4:6]}"
    return kabupaten, kecamatan, f"{kecamatan}.{tps_code[6:10]}", tps_code


def level_of(code: str) -> Level:
    """`36.04` kabupaten, `36.04.01` kecamatan, `36.04.01.2001` desa, `3604012001001` TPS."""
    return LEVELS[code.count(".") - 1] if "." in code else "tps"


def parent_of(code: str) -> str | None:
    """The area one level up: a TPS's desa, a desa's kecamatan, a kecamatan's kabupaten."""
    if "." not in code:
        return areas_of(code)[2]
    return code.rsplit(".", 1)[0] if code.count(".") > 1 else None


def ancestor_at(tps_code: str, level: Level) -> str:
    return areas_of(tps_code)[LEVELS.index(level)]


def advance(line: BatchLine | None, event: Event) -> BatchLine:
    """The batch's line after the event; stages only move forward, a late scan never undoes one."""
    if line is None:  # placed by its destination, even if the board never saw it registered
        line = BatchLine(event.destination, "planned")
    step = STEPS.get(type(event))  # one lookup, not a match over every event class in turn
    return line if step is None else step(line, event)


def packed(line: BatchLine, event: BatchPacked | BatchSealed) -> BatchLine:
    if STAGE_ORDER[line.stage] >= STAGE_ORDER["packed"]:
        return line  # sealed after packing, or a late scan
    return msgspec.structs.replace(line, stage="packed")


def voided(line: BatchLine, event: BatchVoided) -> BatchLine:
    return msgspec.structs.replace(line, voided=True)


def raised(line: BatchLine, event: AnomalyRaised) -> BatchLine:
    return msgspec.structs.replace(line, open_anomalies=line.open_anomalies + 1)


def resolved(line: BatchLine, event: AnomalyResolved) -> BatchLine:
    return msgspec.structs.replace(line, open_anomalies=line.open_anomalies - 1)


# `received` and `dispatched` run for most events, so each builds its one new line directly.


def received(line: BatchLine, event: BatchReceived) -> BatchLine:
    """Where the receipt was says where the batch is and how many hops it still has to go."""
    at, location = event.occurred_at, event.location
    level = location.count(".") + 1  # see `level_of_location`
    place, hops = PLACE_OF_LEVEL[level], HOPS_OF_LEVEL[level]
    delivered_at = line.delivered_at
    if location == line.destination:
        hops = 0
        if delivered_at is None or at < delivered_at:
            delivered_at = at
    if place == "gudang" and line.delivered:
        place = "returned"
    if line.moved_at is not None and at < line.moved_at:  # a scan synced late does not move it
        place, location, at, hops = line.place, line.location, line.moved_at, line.hops_left
    return BatchLine(
        line.destination, "received", line.open_anomalies, place, delivered_at is not None, at,
        hops, delivered_at, location, line.voided,
    )  # fmt: skip


def dispatched(line: BatchLine, event: BatchDispatched) -> BatchLine:
    """On a truck from where it was dispatched; a truck counts where it left for the hops."""
    at = event.occurred_at
    stage: Stage = "received" if line.stage == "received" else "dispatched"
    if line.moved_at is not None and at < line.moved_at:  # a scan synced late does not move it
        return line if stage == line.stage else msgspec.structs.replace(line, stage=stage)
    return BatchLine(
        line.destination, stage, line.open_anomalies, "transit", line.delivered, at,
        line.hops_left, line.delivered_at, event.location, line.voided,
    )  # fmt: skip


def level_of_location(location: str) -> int:
    """Parts of a wilayah code (`36.04.01` -> 3; a TPS's `3604012001001` -> 1)."""
    return location.count(".") + 1


def standing_after_void(line: BatchLine, event: ScanVoided) -> BatchLine:
    """The line as the scans that still count leave it (the void says where that is)."""
    stage: Stage = "planned"
    for flag, name in ((event.packed, "packed"), (event.dispatched, "dispatched"),
                       (event.received, "received")):  # fmt: skip
        if flag:
            stage = name  # type: ignore[assignment]
    place: Place = "gudang"
    hops = 3
    if event.location:
        level = level_of_location(event.location)
        place, hops = PLACE_OF_LEVEL[level], HOPS_OF_LEVEL[level]
        if event.location == line.destination:
            hops = 0
        if place == "gudang" and event.delivered_at:
            place = "returned"
    if event.in_transit:
        place = "transit"  # a truck counts where it left
    return msgspec.structs.replace(
        line,
        stage=stage,
        place=place,
        hops_left=hops,
        delivered=event.delivered_at is not None,
        delivered_at=event.delivered_at,
        location=event.location,
        moved_at=event.moved_at,
    )


# What each kind of event does to a line; the others (a registration, an acknowledgement, a
# count at the close of voting) leave it as it is.
STEPS: dict[type, Callable[[BatchLine, Any], BatchLine]] = {
    BatchReceived: received,
    BatchDispatched: dispatched,
    BatchPacked: packed,
    BatchSealed: packed,
    ScanVoided: standing_after_void,
    BatchVoided: voided,
    AnomalyRaised: raised,
    AnomalyResolved: resolved,
}


def later(stage: Stage, other: Stage) -> Stage:
    return other if STAGE_ORDER[other] > STAGE_ORDER[stage] else stage


def line_columns(line: BatchLine) -> Counter[str]:
    """The columns one batch counts in, in every area of its TPS."""
    if line.voided:
        return Counter()
    columns = Counter(COLUMNS_OF_STAGE[line.stage])
    columns[line.place] += 1
    columns["anomalies"] += line.open_anomalies
    columns["delivered" if line.delivered else UNDELIVERED[line.hops_left]] += 1
    return columns


def counter_changes(before: BatchLine | None, after: BatchLine | None) -> Counter[tuple[str, str]]:
    """(area, column) -> +n / -n between two lines of one batch, for each area of its TPS."""
    diff: Counter[str] = Counter()
    if after is not None:
        diff.update(line_columns(after))
    if before is not None:
        diff.subtract(line_columns(before))
    changes: Counter[tuple[str, str]] = Counter()
    line = after or before
    if line is not None:
        areas = areas_of(line.destination)
        for column, n in diff.items():
            if n:
                for area in areas:
                    changes[(area, column)] += n
    return changes


def arrival_changes(before: BatchLine | None, after: BatchLine | None) -> Counter[tuple[str, str]]:
    """(area, hour) -> +n / -n of batches first delivered at their TPS in that hour (UTC, by
    the device's clock), for its kabupaten and kecamatan."""
    changes: Counter[tuple[str, str]] = Counter()
    for line, sign in ((before, -1), (after, 1)):
        if line is not None and line.delivered_at is not None and not line.voided:
            hour = line.delivered_at.astimezone(UTC).strftime("%Y-%m-%dT%H")
            for area in areas_of(line.destination)[:2]:
                changes[(area, hour)] += sign
    return changes


class BoardChanges(msgspec.Struct, frozen=True):
    """What a run of events changed: batch lines by id, area counts and arrivals per hour."""

    lines: dict[str, BatchLine]
    counts: Counter[tuple[str, str]]
    arrivals: Counter[tuple[str, str]]

    @property
    def areas(self) -> set[str]:
        return {area for area, _ in self.counts}


def fold(lines: dict[str, BatchLine], events: Iterable[Event]) -> BoardChanges:
    """Advance `lines` (by batch id) through the events; return what changed."""
    changes = BoardChanges({}, Counter(), Counter())
    for event in events:
        if not isinstance(event, BatchEvent):  # master data is not on the board
            continue
        key = str(event.originator_id)
        before = lines.get(key)
        after = advance(before, event)
        if after != before and after is not None:
            lines[key] = changes.lines[key] = after
            changes.counts.update(counter_changes(before, after))
            changes.arrivals.update(arrival_changes(before, after))
    return changes


def risky_columns(now: datetime, deadline: datetime) -> tuple[str, ...]:
    """The H-1 risk rule, as the columns of which one above zero puts a TPS at risk at `now`:
    a batch not yet delivered
    - anywhere at all, once the deadline has passed;
    - that has not reached its PPS (at the gudang, a PPK, or on a truck from one) within
      `RISK_BEFORE_PPS` (1 day) of the deadline;
    - still at the gudang (or on a truck from it) within `RISK_AT_GUDANG` (3 days) of it."""
    left = deadline - now
    if left <= timedelta(0):
        return ("undelivered_gudang", "undelivered_ppk", "undelivered_pps")
    if left <= RISK_BEFORE_PPS:
        return ("undelivered_gudang", "undelivered_ppk")
    if left <= RISK_AT_GUDANG:
        return ("undelivered_gudang",)
    return ()


def tps_at_risk(tps: AreaCounts, now: datetime, deadline: datetime) -> bool:
    """Is this TPS at risk of missing the H-1 deadline? (The rule: `risky_columns`.)"""
    return any(getattr(tps, column) for column in risky_columns(now, deadline))


def count_in(tps_codes: Iterable[str], level: Level) -> Counter[str]:
    """TPS counted in their area at `level`."""
    return Counter(ancestor_at(tps, level) for tps in tps_codes)


def count_at_risk(
    tps_rows: Iterable[AreaCounts], level: Level, now: datetime, deadline: datetime
) -> Counter[str]:
    """TPS at risk, counted in their area at `level`."""
    return count_in((tps.area for tps in tps_rows if tps_at_risk(tps, now, deadline)), level)


class MemoryBoard:
    """The board held in memory, for replays and tests.

    Replays only advance each batch's line; the counts are summed from the lines when asked
    for. That is what the live view's increments add up to (`counter_changes` is the difference
    of the same `line_columns`), without the per-event bookkeeping a replay does not need.
    """

    def __init__(self) -> None:
        self.lines: dict[int, BatchLine] = {}  # by batch id (as an int)
        self._counts: Counter[tuple[str, str]] | None = None
        self._arrivals: Counter[tuple[str, str]] | None = None

    def apply(self, events: Iterable[Event]) -> None:
        lines, line_of, step, batch_event = self.lines, self.lines.get, advance, BatchEvent
        for event in events:
            if isinstance(event, batch_event):  # master data is not on the board
                key = event.originator_id.int  # a UUID's own hash and == run in Python
                lines[key] = step(line_of(key), event)
        self._counts = self._arrivals = None

    @property
    def counts(self) -> Counter[tuple[str, str]]:
        """(area, column) -> batches, in every area of each batch's TPS."""
        if self._counts is None:
            per_tps: dict[str, Counter[str]] = {}
            for line in self.lines.values():
                per_tps.setdefault(line.destination, Counter()).update(line_columns(line))
            counts: Counter[tuple[str, str]] = Counter()
            for tps, columns in per_tps.items():
                for area in areas_of(tps):
                    for column, n in columns.items():
                        counts[(area, column)] += n
            self._counts = counts
        return self._counts

    @property
    def arrival_counts(self) -> Counter[tuple[str, str]]:
        """(area, hour) -> batches first delivered at their TPS in that hour."""
        if self._arrivals is None:
            self._arrivals = Counter()
            for line in self.lines.values():
                self._arrivals.update(arrival_changes(None, line))
        return self._arrivals

    def area(self, code: str) -> AreaCounts:
        return AreaCounts(area=code, **{c: self.counts[(code, c)] for c in COLUMNS})

    def rows(self, level: Level = "kecamatan") -> list[AreaCounts]:
        areas = sorted({a for a, _ in self.counts if level_of(a) == level})
        return [self.area(a) for a in areas]

    def arrivals_of(self, area: str) -> list[tuple[str, int]]:
        return sorted((hour, n) for (a, hour), n in self.arrival_counts.items() if a == area and n)

    # The queries a board page asks of BoardView, so replayed boards use the same pages.

    def areas(self, codes: Iterable[str]) -> list[AreaCounts]:
        known = {area for area, _ in self.counts}
        return [self.area(code) for code in sorted(codes) if code in known]

    def tps_behind(self, under: str) -> list[AreaCounts]:
        prefix = under.replace(".", "")
        rows = [r for r in self.rows("tps") if r.area.startswith(prefix)]
        return [r for r in rows if r.undelivered_gudang + r.undelivered_ppk + r.undelivered_pps]

    def at_risk(self, under: str, now: datetime, deadline: datetime) -> list[str]:
        return [r.area for r in self.tps_behind(under) if tps_at_risk(r, now, deadline)]

    def arrivals(self, area: str) -> list[tuple[str, int]]:
        return self.arrivals_of(area)


SCHEMA_VERSION = 3  # of the board's tables: a change rebuilds them from the stream
BOARD_TABLES = (
    "board_kecamatan",  # before version 2
    "board_batches",
    "board_areas",
    "board_arrivals",
    "batch_labels",
    "shipment_lines",
    "exception_anomalies",
    "exception_activity",
)
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS board_batches (
        batch_id TEXT PRIMARY KEY,
        destination TEXT NOT NULL,
        stage TEXT NOT NULL,
        open_anomalies INTEGER NOT NULL DEFAULT 0,
        place TEXT NOT NULL DEFAULT 'gudang',
        delivered INTEGER NOT NULL DEFAULT 0,
        moved_at TEXT NOT NULL DEFAULT '',
        hops_left INTEGER NOT NULL DEFAULT 3,
        delivered_at TEXT NOT NULL DEFAULT '',
        location TEXT NOT NULL DEFAULT '',
        voided INTEGER NOT NULL DEFAULT 0)""",
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
    "CREATE INDEX IF NOT EXISTS batch_labels_by_tps ON batch_labels (destination, label)",
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
        handed_over_by TEXT,
        PRIMARY KEY (surat_jalan, batch_id))""",
    "CREATE TABLE IF NOT EXISTS board_areas (area TEXT PRIMARY KEY, level TEXT NOT NULL, "
    "parent TEXT, " + ", ".join(f"{c} INTEGER NOT NULL DEFAULT 0" for c in COLUMNS) + ")",
    "CREATE INDEX IF NOT EXISTS board_areas_by_parent ON board_areas (parent, area)",
    "CREATE INDEX IF NOT EXISTS board_areas_by_level ON board_areas (level, area)",
    """CREATE TABLE IF NOT EXISTS board_arrivals (
        area TEXT NOT NULL,
        hour TEXT NOT NULL,
        delivered INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (area, hour))""",
    """CREATE TABLE IF NOT EXISTS projection_versions (
        projection TEXT PRIMARY KEY,
        version INTEGER NOT NULL)""",
)
AREA_FIELDS = ("area", *COLUMNS)


class BoardView:
    """The board's rows in the view database, with the position it has applied up to."""

    name = "board"

    def __init__(self, db: ViewDatabase):
        self.db = db

    def setup(self) -> None:
        """Create the tables; tables of an older shape are dropped and rebuilt by replay."""
        self.db.create((tracking.SCHEMA, *SCHEMA, *EXCEPTIONS_SCHEMA))
        with self.db.transaction() as cursor:
            cursor.execute(
                "INSERT INTO projection_versions (projection, version) VALUES (?, 0) "
                "ON CONFLICT (projection) DO NOTHING",
                (self.name,),
            )
            cursor.execute(  # locks the row: a second process waits, then sees it done
                "UPDATE projection_versions SET version = version WHERE projection = ? "
                "RETURNING version",
                (self.name,),
            )
            (version,) = cursor.fetchone()
            if version != SCHEMA_VERSION:
                for table in BOARD_TABLES:
                    cursor.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in SCHEMA + EXCEPTIONS_SCHEMA:
                    cursor.execute(statement)
                cursor.execute("DELETE FROM projection_tracking WHERE projection = ?", (self.name,))
                cursor.execute(
                    "UPDATE projection_versions SET version = ? WHERE projection = ?",
                    (SCHEMA_VERSION, self.name),
                )
            tracking.start(cursor, self.name)

    def stream_sequence(self) -> int:
        return tracking.stream_sequence(self.db, self.name)

    def apply(self, notifications: Sequence[tuple[int, Event]], stream_sequence: int) -> set[str]:
        """Apply events past the stored position, in one transaction; the areas changed."""
        with self.db.transaction() as cursor:
            position = tracking.lock_position(cursor, self.name)
            fresh, applied = [], 0
            for notification_id, event in notifications:
                if notification_id > position:
                    applied += 1
                    position = notification_id
                    fresh.append(event)
            changed: set[str] = set()
            # The fresh notifications are the last `applied` ones: ids only ascend.
            touched = record_exceptions(cursor, notifications[len(notifications) - applied :])
            if fresh:
                batches = {str(e.originator_id) for e in fresh if isinstance(e, BatchEvent)}
                changes = fold(_load_lines(cursor, batches), fresh)
                _store(cursor, changes)
                _catalogue(cursor, [e for e in fresh if isinstance(e, BatchRegistered)])
                _shipments(cursor, fresh)
                changed = changes.areas
            tracking.save_position(cursor, self.name, position, stream_sequence, applied)
        return changed | touched

    def applied(self) -> int:
        """How many events the view has applied: each once, however often it was delivered."""
        return tracking.applied(self.db, self.name)

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

    def _areas(self, where: str, params: Sequence[str]) -> list[AreaCounts]:
        rows = self.db.query(
            f"SELECT {', '.join(AREA_FIELDS)} FROM board_areas WHERE {where} ORDER BY area", params
        )
        return [AreaCounts(**dict(zip(AREA_FIELDS, row, strict=True))) for row in rows]

    def rows(self, level: Level = "kecamatan") -> list[AreaCounts]:
        """Every area of one level, by code."""
        return self._areas("level = ?", (level,))

    def areas(self, codes: Iterable[str]) -> list[AreaCounts]:
        """These areas, by code (those without a batch are left out)."""
        found: list[AreaCounts] = []
        for marks, chunk in chunked_in(codes):
            found += self._areas(f"area IN ({marks})", chunk)
        return found

    def children(self, code: str) -> list[AreaCounts]:
        """The areas one level below `code`, by code."""
        return self._areas("parent = ?", (code,))

    def tps_behind(self, under: str) -> list[AreaCounts]:
        """The TPS in an area (or the TPS itself) with a batch not yet delivered."""
        return self._areas(
            "level = 'tps' AND area LIKE ? "
            "AND undelivered_gudang + undelivered_ppk + undelivered_pps > 0",
            (under.replace(".", "") + "%",),
        )

    def at_risk(self, under: str, now: datetime, deadline: datetime) -> list[str]:
        """The TPS in an area (or the TPS itself) at risk at `now`, by code: the rule asked of
        SQL, so that a board page does not read every TPS still waiting for a batch."""
        columns = risky_columns(now, deadline)
        if not columns:
            return []
        rows = self.db.query(
            f"SELECT area FROM board_areas WHERE level = 'tps' AND area LIKE ? "
            f"AND {' + '.join(columns)} > 0",
            (under.replace(".", "") + "%",),
        )
        return [area for (area,) in rows]

    def arrivals(self, area: str) -> list[tuple[str, int]]:
        """(UTC hour `2024-02-12T02`, batches first delivered at their TPS in it), by hour."""
        rows = self.db.query(
            "SELECT hour, delivered FROM board_arrivals WHERE area = ? AND delivered <> 0 "
            "ORDER BY hour",
            (area,),
        )
        return [(hour, n) for hour, n in rows]

    def tps_batches(self, tps: str) -> list[TpsBatch]:
        """The batches bound for one TPS, by label: where each is now."""
        rows = self.db.query(
            "SELECT l.label, l.item, l.ballot_type, b.place, b.location, b.moved_at, b.delivered, "
            "b.open_anomalies FROM batch_labels l "
            "LEFT JOIN board_batches b ON b.batch_id = l.batch_id "
            "WHERE l.destination = ? ORDER BY l.label",
            (tps,),
        )
        return [
            TpsBatch(
                label=label, item=item, ballot_type=ballot_type, place=place or "gudang",
                location=location or "", moved_at=moved_at or "", delivered=bool(delivered),
                open_anomalies=anomalies or 0,
            )
            for label, item, ballot_type, place, location, moved_at, delivered, anomalies in rows
        ]  # fmt: skip


LINE_FIELDS = tuple(BatchLine.__struct_fields__)
LINE_TIMES = ("moved_at", "delivered_at")


def _load_lines(cursor: Cursor, batch_ids: set[str]) -> dict[str, BatchLine]:
    lines: dict[str, BatchLine] = {}
    for marks, chunk in chunked_in(batch_ids):
        cursor.execute(
            f"SELECT batch_id, {', '.join(LINE_FIELDS)} FROM board_batches "
            f"WHERE batch_id IN ({marks})",
            chunk,
        )
        for batch_id, *values in cursor.fetchall():
            line = dict(zip(LINE_FIELDS, values, strict=True))
            flags = {"delivered": bool(line["delivered"]), "voided": bool(line["voided"])}
            times = {f: datetime.fromisoformat(line[f]) if line[f] else None for f in LINE_TIMES}
            lines[batch_id] = BatchLine(**line | flags | times)
    return lines


def _stored(value: object) -> object:
    """A line's field as its column holds it: flags as 0/1, times as UTC ISO text ("" if none)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return "" if value is None else value


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
                "handed_over_by": event.handed_over_by or None,
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


def _store(cursor: Cursor, changes: BoardChanges) -> None:
    if changes.lines:
        cursor.executemany(
            f"INSERT INTO board_batches (batch_id, {', '.join(LINE_FIELDS)}) "
            f"VALUES (?{', ?' * len(LINE_FIELDS)}) ON CONFLICT (batch_id) DO UPDATE SET "
            + ", ".join(f"{f} = excluded.{f}" for f in LINE_FIELDS),
            [
                (key, *(_stored(v) for v in msgspec.structs.astuple(line)))
                for key, line in changes.lines.items()
            ],
        )
    areas = sorted(changes.areas)
    if areas:
        cursor.executemany(
            f"INSERT INTO board_areas (area, level, parent, {', '.join(COLUMNS)}) "
            f"VALUES (?, ?, ?{', ?' * len(COLUMNS)}) ON CONFLICT (area) DO UPDATE SET "
            + ", ".join(f"{c} = board_areas.{c} + excluded.{c}" for c in COLUMNS),
            [
                (a, level_of(a), parent_of(a), *(changes.counts[(a, c)] for c in COLUMNS))
                for a in areas
            ],
        )
    arrivals = sorted(changes.arrivals.items())
    if arrivals:
        cursor.executemany(
            "INSERT INTO board_arrivals (area, hour, delivered) VALUES (?, ?, ?) "
            "ON CONFLICT (area, hour) DO UPDATE SET delivered = board_arrivals.delivered + "
            "excluded.delivered",
            [(area, hour, n) for (area, hour), n in arrivals],
        )
