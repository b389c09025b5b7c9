"""The board's view: its rows in the view database, kept by the board projection from the
stream with the reducer (`reducer.py`); and the label catalogue and the truck loads' lines, kept
in the same transaction."""

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal

import msgspec

from events import BatchDispatched, BatchReceived, BatchRegistered, Event
from events.batch import BatchEvent
from services.custody.batch import batch_id as batch_id_of
from services.views.board.reducer import (
    COLUMNS,
    AreaCounts,
    BatchLine,
    BoardChanges,
    Place,
    fold,
    risky_columns,
)
from services.views.database import Cursor, chunked_in
from services.views.projection import Projection
from services.wilayah import (
    LEVELS,
    NATIONAL,
    Level,
    ancestry,
    kecamatan_of,
    level_of,
    parent_of,
    route_of,
    tps_prefix,
    within,
)


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


# Per area above a TPS: how many of its TPS wait for a batch still at the gudang; at the gudang
# or a PPK; anywhere. The H-1 rule puts a TPS at risk by one of these three, as the deadline
# nears (`risky_columns`), so an area's TPS at risk are a kept count, not a read of its TPS.
RISK_TIERS = ("behind_gudang", "behind_ppk", "behind_any")
UNDELIVERED = ("undelivered_gudang", "undelivered_ppk", "undelivered_pps")

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
    "parent TEXT, "
    + ", ".join(f"{c} INTEGER NOT NULL DEFAULT 0" for c in (*COLUMNS, *RISK_TIERS))
    + ")",
    "CREATE INDEX IF NOT EXISTS board_areas_by_parent ON board_areas (parent, area)",
    "CREATE INDEX IF NOT EXISTS board_areas_by_level ON board_areas (level, area)",
    """CREATE TABLE IF NOT EXISTS board_arrivals (
        area TEXT NOT NULL,
        hour TEXT NOT NULL,
        delivered INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (area, hour))""",
)
AREA_FIELDS = ("area", *COLUMNS)
SUMMED: tuple[Level, ...] = ("provinsi", "nasional")  # rows added up when read, not kept


def tps_under(area: str) -> tuple[str, tuple[str, ...]]:
    """SQL and its parameters for the TPS rows in an area (or the TPS itself): a range of their
    codes, which the (level, area) index reads, where LIKE would read every TPS of the country.
    TPS codes are 13 digits, so a prefix's codes lie from it up to the next number."""
    prefix = tps_prefix(area)
    if not prefix:
        return "level = 'tps'", ()
    return "level = 'tps' AND area >= ? AND area < ?", (prefix, str(int(prefix) + 1))


class BoardView(Projection):
    """The board projection and its queries: the board's rows, the label catalogue and the
    truck loads' lines."""

    name = "board"
    partitionable = True  # an area's rows are its province's: see Projection
    version = 6  # 4: the anomaly queue and the feed became a projection of their own; 5: arrivals
    # per desa too; 6: each area's TPS behind, by risk tier
    schema = SCHEMA
    tables = (
        "board_batches",
        "board_areas",
        "board_arrivals",
        "batch_labels",
        "shipment_lines",
        "board_kecamatan",  # before version 2
        "exception_anomalies",  # before version 4: the queue's tables
        "exception_activity",
    )

    def write(self, cursor: Cursor, fresh: Sequence[tuple[int, Event]]) -> set[str]:
        """The board's rows, labels and loads after the fresh events; the areas changed."""
        new = [event for _, event in fresh]
        batches = {str(e.originator_id) for e in new if isinstance(e, BatchEvent)}
        changes = fold(_load_lines(cursor, batches), new)
        _store(cursor, changes)
        _catalogue(cursor, [e for e in new if isinstance(e, BatchRegistered)])
        _shipments(cursor, new)
        # The province and the nation are added up when read: their pages hear of them too.
        above = {ancestry(area)[0] for area in changes.areas if level_of(area) == "kabupaten"}
        return changes.areas | above | ({NATIONAL} if above else set())

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

    def packing_plan(self, area: str) -> dict[str, int]:
        """Label -> sheets planned, of every kotak suara bound for the area (what is packed)."""
        rows = self.db.query(
            "SELECT label, quantity FROM batch_labels WHERE item = 'kotak_suara' "
            "AND destination LIKE ? ORDER BY label",
            (tps_prefix(area) + "%",),
        )
        return dict(rows)

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
        if level in SUMMED:
            return self._summed(level)
        return self._areas("level = ?", (level,))

    def areas(self, codes: Iterable[str]) -> list[AreaCounts]:
        """These areas, by code (those without a batch are left out)."""
        codes = list(codes)
        found: list[AreaCounts] = []
        for level in SUMMED:
            wanted = {code for code in codes if level_of(code) == level}
            if wanted:
                found += [row for row in self._summed(level) if row.area in wanted]
        for marks, chunk in chunked_in(c for c in codes if level_of(c) not in SUMMED):
            found += self._areas(f"area IN ({marks})", chunk)
        return sorted(found, key=lambda row: row.area)

    def children(self, code: str) -> list[AreaCounts]:
        """The areas one level below `code`, by code."""
        if code == NATIONAL:
            return self._summed("provinsi")
        return self._areas("parent = ?", (code,))

    def _summed(self, level: Level) -> list[AreaCounts]:
        """The provinces' rows (or the nation's), added up from their kabupaten/kota's when
        asked: the projection keeps no row they would all write to, so projectors of
        different provinces never wait for one another."""
        sums = ", ".join(f"SUM({c})" for c in COLUMNS)
        if level == "provinsi":
            rows = self.db.query(
                f"SELECT substr(area, 1, 2), {sums} FROM board_areas WHERE level = 'kabupaten' "
                "GROUP BY substr(area, 1, 2) ORDER BY substr(area, 1, 2)"
            )
        else:
            rows = [
                (NATIONAL, *row)
                for row in self.db.query(
                    f"SELECT {sums} FROM board_areas WHERE level = 'kabupaten'"
                )
                if row[0] is not None  # no kabupaten yet: no row, as for any area
            ]
        return [
            AreaCounts(**dict(zip(AREA_FIELDS, (area, *map(int, counts)), strict=True)))
            for area, *counts in rows
        ]

    def tps_behind(self, under: str) -> list[AreaCounts]:
        """The TPS in an area (or the TPS itself) with a batch not yet delivered."""
        where, params = tps_under(under)
        return self._areas(
            f"{where} AND undelivered_gudang + undelivered_ppk + undelivered_pps > 0", params
        )

    def at_risk(self, under: str, now: datetime, deadline: datetime) -> list[str]:
        """The TPS in an area (or the TPS itself) at risk at `now`, by code: the rule asked of
        SQL, so that a board page does not read every TPS still waiting for a batch."""
        columns = risky_columns(now, deadline)
        if not columns:
            return []
        where, params = tps_under(under)
        rows = self.db.query(
            f"SELECT area FROM board_areas WHERE {where} AND {' + '.join(columns)} > 0 "
            "ORDER BY area",
            params,
        )
        return [area for (area,) in rows]

    def at_risk_in(
        self, under: str, level: Level, now: datetime, deadline: datetime
    ) -> Counter[str]:
        """The TPS at risk in an area, counted in their areas at `level` (its children, say):
        from the tiers kept per area (a desa's own TPS rows for TPS), so a page reads a row per
        area it shows, never one per TPS of a kabupaten, a province or the nation."""
        columns = risky_columns(now, deadline)
        if not columns:
            return Counter()
        tier = RISK_TIERS[len(columns) - 1]
        if level == "tps":
            where, params = tps_under(under)
            rows = self.db.query(
                f"SELECT area, 1 FROM board_areas WHERE {where} AND {' + '.join(columns)} > 0",
                params,
            )
        elif level == "provinsi":
            rows = self.db.query(
                f"SELECT substr(area, 1, 2), SUM({tier}) FROM board_areas "
                f"WHERE level = 'kabupaten' AND {tier} > 0 GROUP BY substr(area, 1, 2)"
            )
        elif level == "nasional":
            rows = self.db.query(
                f"SELECT '', SUM({tier}) FROM board_areas WHERE level = 'kabupaten' AND {tier} > 0"
            )
        elif LEVELS.index(level) == LEVELS.index(level_of(under)) + 1:  # its children
            rows = self.db.query(
                f"SELECT area, {tier} FROM board_areas WHERE parent = ? AND {tier} > 0",
                (under,),
            )
        else:
            rows = self.db.query(
                f"SELECT area, {tier} FROM board_areas WHERE level = ? AND {tier} > 0", (level,)
            )
        return Counter({area: int(n) for area, n in rows if n and within(under, area)})

    def arrivals(self, area: str) -> list[tuple[str, int]]:
        """(UTC hour `2024-02-12T02`, batches first delivered at their TPS in it), by hour; a
        province's and the nation's added up from their kabupaten/kota's."""
        if level_of(area) in SUMMED:
            province = "AND substr(area, 1, 2) = ? " if area else ""
            rows = self.db.query(
                "SELECT hour, SUM(delivered) FROM board_arrivals WHERE length(area) = 5 "
                f"{province}GROUP BY hour HAVING SUM(delivered) <> 0 ORDER BY hour",
                (area,) if area else (),
            )
            return [(hour, int(n)) for hour, n in rows]
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
                label=label,
                item=item,
                ballot_type=ballot_type,
                place=place or "gudang",
                location=location or "",
                moved_at=moved_at or "",
                delivered=bool(delivered),
                open_anomalies=anomalies or 0,
            )
            for label, item, ballot_type, place, location, moved_at, delivered, anomalies in rows
        ]


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


def _tier_changes(
    cursor: Cursor, changes: BoardChanges, touched: list[str]
) -> dict[str, list[int]]:
    """How the touched TPS's undelivered counts move each area above them between risk tiers:
    area -> (change of TPS behind at the gudang, at the gudang or a PPK, anywhere). Read before
    the TPS rows are updated."""
    before: dict[str, tuple[int, ...]] = {}
    for marks, chunk in chunked_in(touched):
        cursor.execute(
            f"SELECT area, {', '.join(UNDELIVERED)} FROM board_areas WHERE area IN ({marks})",
            chunk,
        )
        before |= {area: tuple(counts) for area, *counts in cursor.fetchall()}
    tiers: dict[str, list[int]] = {}
    for tps in touched:
        was = before.get(tps, (0, 0, 0))
        now = tuple(n + changes.counts[(tps, c)] for n, c in zip(was, UNDELIVERED, strict=True))
        moved = [int(behind(now, n)) - int(behind(was, n)) for n in (1, 2, 3)]
        if any(moved):
            for area in route_of(tps)[:3]:  # its kabupaten, kecamatan and desa
                kept = tiers.setdefault(area, [0, 0, 0])
                for n, delta in enumerate(moved):
                    kept[n] += delta
    return {area: deltas for area, deltas in tiers.items() if any(deltas)}


def behind(undelivered: tuple[int, ...], tier: int) -> bool:
    """Does a TPS wait for a batch at one of its first `tier` stops (gudang, PPK, PPS)?"""
    return sum(undelivered[:tier]) > 0


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
            (
                event.surat_jalan,
                str(event.originator_id),
                event.label,
                event.destination,
                *fields.values(),
            ),
        )


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
    tiers = _tier_changes(cursor, changes, [a for a in areas if level_of(a) == "tps"])
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
    if tiers:
        cursor.executemany(
            "UPDATE board_areas SET "
            + ", ".join(f"{t} = {t} + ?" for t in RISK_TIERS)
            + " WHERE area = ?",
            [(*deltas, area) for area, deltas in sorted(tiers.items())],
        )
    arrivals = sorted(changes.arrivals.items())
    if arrivals:
        cursor.executemany(
            "INSERT INTO board_arrivals (area, hour, delivered) VALUES (?, ?, ?) "
            "ON CONFLICT (area, hour) DO UPDATE SET delivered = board_arrivals.delivered + "
            "excluded.delivered",
            [(area, hour, n) for (area, hour), n in arrivals],
        )
