"""The gudang view: stock on hand per kabupaten/kota, item, ballot type and dapil, the deliveries
stage by stage, and the sortir-lipat day by day; a province and the nation add their kabupaten up.

Stock is received, plus replacements, minus damaged, minus packed. What packing needs is what
the registered batches hold; the PSU reserve is kept apart from it. A kind packed past its stock
is flagged, never refused: the packing happened.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import msgspec

from events import BatchPacked, BatchRegistered, BatchVoided, Event, ScanVoided
from events.gudang import (
    BoxesAssembled,
    DeliveryAnnounced,
    DeliveryReceived,
    ProcurementPlanned,
    ReplacementRequested,
    SheetsDestroyed,
    SortingTallied,
    SupplierContracted,
)
from services.views.database import Cursor
from services.views.projection import Projection
from services.wilayah import NATIONAL, ancestry, kabupaten_of, local_time_of

COUNTS = (
    "planned",  # to receive for packing (procurement plan)
    "reserve",  # PSU reserve, on top and kept apart
    "announced",  # in delivery notices (replacements included)
    "received",  # counted in from planned stages
    "replaced",  # counted in from replacement deliveries
    "damaged",  # unusable: on arrival or found in the sortir-lipat
    "requested",  # asked to be replaced
    "destroyed",  # destroyed with a Berita Acara pemusnahan
    "sorted",  # sorted and folded, good
    "assembled",  # kotak suara put together
    "need",  # what the registered batches take
    "packed",  # put in them
    "withdrawn",  # put in batches later withdrawn (wet, destroyed, lost): gone, and not packing
)
ITEM_ORDER = ("surat_suara", "kotak_suara", "bilik_suara", "tinta", "segel", "formulir")
BALLOT_ORDER = ("PPWP", "DPR", "DPD", "DPRD_PROV", "DPRD_KAB")

SCHEMA = (
    f"""CREATE TABLE IF NOT EXISTS gudang_stock (
        kabupaten TEXT NOT NULL, item TEXT NOT NULL, ballot_type TEXT NOT NULL,
        dapil TEXT NOT NULL, {", ".join(f"{c} BIGINT NOT NULL DEFAULT 0" for c in COUNTS)},
        PRIMARY KEY (kabupaten, item, ballot_type, dapil))""",
    """CREATE TABLE IF NOT EXISTS gudang_batches (
        label TEXT PRIMARY KEY, kabupaten TEXT NOT NULL, item TEXT NOT NULL,
        ballot_type TEXT NOT NULL, dapil TEXT NOT NULL, quantity BIGINT NOT NULL,
        packed BIGINT NOT NULL DEFAULT 0, packs TEXT NOT NULL DEFAULT '',
        withdrawn INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS gudang_deliveries (
        kabupaten TEXT NOT NULL, delivery TEXT NOT NULL, stage INTEGER NOT NULL,
        supplier TEXT NOT NULL, expected_on TEXT NOT NULL, replaces TEXT NOT NULL,
        announced BIGINT NOT NULL, received BIGINT, damaged BIGINT, received_at TEXT,
        mismatches TEXT NOT NULL DEFAULT '', PRIMARY KEY (kabupaten, delivery))""",
    """CREATE TABLE IF NOT EXISTS gudang_contracts (
        kabupaten TEXT NOT NULL, contract TEXT NOT NULL, supplier TEXT NOT NULL,
        kinds INTEGER NOT NULL, quantity BIGINT NOT NULL, PRIMARY KEY (kabupaten, contract))""",
    """CREATE TABLE IF NOT EXISTS gudang_sorting (
        kabupaten TEXT NOT NULL, day TEXT NOT NULL, sorted BIGINT NOT NULL,
        damaged BIGINT NOT NULL, PRIMARY KEY (kabupaten, day))""",
)


class StockRow(msgspec.Struct, frozen=True, kw_only=True):
    """One kind of goods in an area's gudang(s), and what follows from its counts."""

    item: str
    ballot_type: str
    dapil: str  # "" for ballots added up over their dapil (a province's, the nation's rows)
    planned: int = 0
    reserve: int = 0
    announced: int = 0
    received: int = 0
    replaced: int = 0
    damaged: int = 0
    requested: int = 0
    destroyed: int = 0
    sorted: int = 0
    assembled: int = 0
    need: int = 0
    packed: int = 0
    withdrawn: int = 0
    # A row added up over kabupaten and dapil: how many of those kinds there are, how many
    # are siap kemas and how many packed past their stock (0: a row of one kind).
    parts: int = 0
    parts_ready: int = 0
    parts_over: int = 0

    @property
    def in_stock(self) -> int:
        """On hand now: received and replaced, less damaged (or destroyed, if more were: those
        are gone too), packed and packed in batches since withdrawn (below 0: over-packed)."""
        gone = max(self.damaged, self.destroyed)
        return self.received + self.replaced - gone - self.packed - self.withdrawn

    @property
    def wanted(self) -> int:
        """What packing takes of it: what the registered batches hold, or, for what no batch
        counts (segel, formulir), the plan."""
        return self.need or self.planned

    @property
    def to_pack(self) -> int:
        """What packing still takes."""
        return max(self.wanted - self.packed, 0)

    @property
    def usable(self) -> int:
        """What packing may take: for kotak suara those assembled, for ballots the stock less
        the PSU reserve."""
        if self.item == "kotak_suara":
            return min(self.in_stock, self.assembled - self.packed)
        return self.in_stock - self.reserve

    @property
    def ready(self) -> bool:
        """Siap kemas: enough on hand for what is still to pack (and something to pack); added
        up, every kind it adds up is (a surplus of one dapil covers no other's lack)."""
        if self.parts:
            return self.parts_ready == self.parts
        return self.wanted > 0 and self.usable >= self.to_pack

    @property
    def over_packed(self) -> bool:
        return self.parts_over > 0 if self.parts else self.in_stock < 0

    @property
    def awaiting_replacement(self) -> int:
        return max(self.requested - self.replaced, 0)

    @property
    def unreported(self) -> int:
        """Damaged sheets not yet asked to be replaced."""
        return max(self.damaged - self.requested, 0)

    @property
    def to_destroy(self) -> int:
        return max(self.damaged - self.destroyed, 0)

    @property
    def over_destroyed(self) -> int:
        """Sheets destroyed beyond those counted damaged: good ones, or a miscount."""
        return max(self.destroyed - self.damaged, 0)

    @property
    def over_sorted(self) -> int:
        """Good sheets tallied in sortir-lipat beyond what came in and was not damaged."""
        return max(self.sorted - (self.received + self.replaced - self.damaged), 0)

    @property
    def short_of_plan(self) -> int:
        return max(self.planned + self.reserve - self.received - self.replaced, 0)


class DeliveryRow(msgspec.Struct, frozen=True, kw_only=True):
    kabupaten: str
    delivery: str
    stage: int
    supplier: str
    expected_on: str
    replaces: str
    announced: int
    received: int | None
    damaged: int | None
    received_at: str | None
    mismatches: str  # "kurang,rusak": the kinds flagged on its receipt


class ContractRow(msgspec.Struct, frozen=True, kw_only=True):
    kabupaten: str
    contract: str
    supplier: str
    kinds: int  # kinds of goods it covers
    quantity: int  # pieces and sheets, all kinds together


class SortingDay(msgspec.Struct, frozen=True, kw_only=True):
    day: str
    sorted: int
    damaged: int


def has_plan(rows: Iterable[StockRow]) -> bool:
    """Has a procurement plan been recorded for these kinds (else no ballots are out of it)?"""
    return any(row.planned for row in rows)


def out_of_plan(row: StockRow, planned: bool) -> bool:
    """Ballots of a dapil the plan here does not name: another district's (tertukar). Without a
    plan, nothing is out of it."""
    return planned and row.item == "surat_suara" and not row.planned


def added_up(kinds: Sequence[StockRow]) -> list[StockRow]:
    """Kinds of several kabupaten added up by item and ballot type (a province's, the
    nation's rows), each saying how many of the kinds it adds up are ready or over-packed."""
    groups: dict[tuple[str, str], list[StockRow]] = {}
    for kind in kinds:
        groups.setdefault((kind.item, kind.ballot_type), []).append(kind)
    rows = []
    for (item, ballot_type), group in groups.items():
        wanted = [k for k in group if k.wanted]  # ballots out of the plan count in no part
        counts = {c: sum(getattr(k, c) for k in group) for c in COUNTS}
        rows.append(
            StockRow(
                item=item,
                ballot_type=ballot_type,
                dapil="",
                **counts,
                parts=len(wanted),
                parts_ready=sum(1 for k in wanted if k.ready),
                parts_over=sum(1 for k in group if k.over_packed),
            )
        )
    return sorted(rows, key=_order)


def kabupaten_like(area: str) -> tuple[str, list[str]]:
    """A WHERE clause on `kabupaten` for an area: the nation, a province or a kabupaten."""
    if not area:
        return "1 = 1", []
    if "." in area:
        return "kabupaten = ?", [kabupaten_of(area)]
    return "kabupaten LIKE ?", [area + ".%"]


class GudangView(Projection):
    """The gudang projection and its queries."""

    name = "gudang"
    version = 2  # 2: packs voided and batches withdrawn
    schema = SCHEMA
    tables = (
        "gudang_stock",
        "gudang_batches",
        "gudang_deliveries",
        "gudang_contracts",
        "gudang_sorting",
    )

    def write(self, cursor: Cursor, fresh: Sequence[tuple[int, Event]]) -> set[str]:
        changed: set[str] = set()
        registered: list[BatchRegistered] = []  # a plan's thousands, written together
        for _, event in fresh:
            if isinstance(event, BatchRegistered):
                registered.append(event)
                continue
            changed |= _register(cursor, registered)
            registered = []
            changed.add(_apply(cursor, event))
        changed |= _register(cursor, registered)
        kabupaten = changed - {""}
        return (
            kabupaten | {ancestry(k)[0] for k in kabupaten} | ({NATIONAL} if kabupaten else set())
        )

    def stock(self, area: str) -> list[StockRow]:
        """The area's goods by kind, added up over its kabupaten, in the plan's order."""
        where, params = kabupaten_like(area)
        rows = self.db.query(
            f"SELECT item, ballot_type, dapil, {', '.join(f'SUM({c})' for c in COUNTS)} "
            f"FROM gudang_stock WHERE {where} GROUP BY item, ballot_type, dapil",
            params,
        )
        found = [
            StockRow(**dict(zip(("item", "ballot_type", "dapil", *COUNTS), _ints(r), strict=True)))
            for r in rows
        ]
        return sorted(found, key=_order)

    def by_kabupaten(self, area: str) -> dict[str, list[StockRow]]:
        """Each kabupaten's goods in the area, for a province's or the nation's roll-up."""
        where, params = kabupaten_like(area)
        rows = self.db.query(
            f"SELECT kabupaten, item, ballot_type, dapil, {', '.join(COUNTS)} "
            f"FROM gudang_stock WHERE {where} ORDER BY kabupaten",
            params,
        )
        found: dict[str, list[StockRow]] = {}
        for row in rows:
            fields = dict(
                zip(("item", "ballot_type", "dapil", *COUNTS), _ints(row[1:]), strict=True)
            )
            found.setdefault(row[0], []).append(StockRow(**fields))
        return found

    def deliveries(self, area: str) -> list[DeliveryRow]:
        where, params = kabupaten_like(area)
        rows = self.db.query(
            f"SELECT {', '.join(DeliveryRow.__struct_fields__)} FROM gudang_deliveries "
            f"WHERE {where} ORDER BY kabupaten, stage, expected_on, delivery",
            params,
        )
        return [
            DeliveryRow(**dict(zip(DeliveryRow.__struct_fields__, r, strict=True))) for r in rows
        ]

    def contracts(self, area: str) -> list[ContractRow]:
        """The suppliers' contracts of the area's gudang(s)."""
        where, params = kabupaten_like(area)
        rows = self.db.query(
            f"SELECT {', '.join(ContractRow.__struct_fields__)} FROM gudang_contracts "
            f"WHERE {where} ORDER BY kabupaten, supplier, contract",
            params,
        )
        return [
            ContractRow(**dict(zip(ContractRow.__struct_fields__, r, strict=True))) for r in rows
        ]

    def sorting(self, area: str) -> list[SortingDay]:
        where, params = kabupaten_like(area)
        rows = self.db.query(
            f"SELECT day, SUM(sorted), SUM(damaged) FROM gudang_sorting WHERE {where} "
            "GROUP BY day ORDER BY day",
            params,
        )
        return [SortingDay(day=d, sorted=int(s), damaged=int(x)) for d, s, x in rows]


def _ints(row: Sequence[Any]) -> list[Any]:
    """A row with its sums as ints (PostgreSQL adds BIGINTs up as NUMERIC)."""
    return [v if isinstance(v, str) else int(v or 0) for v in row]


def _order(row: StockRow) -> tuple[int, int, str]:
    ballot = BALLOT_ORDER.index(row.ballot_type) if row.ballot_type in BALLOT_ORDER else 9
    return (ITEM_ORDER.index(row.item) if row.item in ITEM_ORDER else 9, ballot, row.dapil)


def _add(cursor: Cursor, kabupaten: str, key: tuple[str, str, str], **counts: int) -> None:
    columns = ", ".join(counts)
    cursor.execute(
        f"INSERT INTO gudang_stock (kabupaten, item, ballot_type, dapil, {columns}) "
        f"VALUES (?, ?, ?, ?, {', '.join('?' * len(counts))}) "
        "ON CONFLICT (kabupaten, item, ballot_type, dapil) DO UPDATE SET "
        + ", ".join(f"{c} = gudang_stock.{c} + excluded.{c}" for c in counts),
        (kabupaten, *key, *counts.values()),
    )


def _contents(item: str, ballot_type: str, dapil: str) -> tuple[str, str, str]:
    """The kind a batch's quantity is of: a kotak suara's, its ballots; a bundle's, its item."""
    if item == "kotak_suara":
        return ("surat_suara", ballot_type, dapil)
    return (item, "", "")


def _register(cursor: Cursor, registered: Sequence[BatchRegistered]) -> set[str]:
    """Registered batches: what each takes is what packing needs; the kabupaten changed."""
    if not registered:
        return set()
    cursor.executemany(
        "INSERT INTO gudang_batches (label, kabupaten, item, ballot_type, dapil, quantity) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (label) DO NOTHING",
        [
            (e.label, kabupaten_of(e.destination), e.item, e.ballot_type, e.dapil, e.quantity)
            for e in registered
        ],
    )
    need: Counter[tuple[str, tuple[str, str, str]]] = Counter()
    for e in registered:
        kabupaten = kabupaten_of(e.destination)
        need[kabupaten, _contents(e.item, e.ballot_type, e.dapil)] += e.quantity
        if e.item == "kotak_suara":
            need[kabupaten, ("kotak_suara", "", "")] += 1
    for (kabupaten, key), quantity in sorted(need.items()):
        _add(cursor, kabupaten, key, need=quantity)
    return {kabupaten for kabupaten, _ in need}


def _apply(cursor: Cursor, event: Event) -> str:
    """Write one event's change; the kabupaten it changed ("" for none)."""
    match event:
        case BatchPacked() | ScanVoided() | BatchVoided():
            return _packing(cursor, event)
        case ProcurementPlanned():
            cursor.execute(
                "UPDATE gudang_stock SET planned = 0, reserve = 0 WHERE kabupaten = ?",
                (event.kabupaten,),
            )
            for line in event.lines:
                key = (line.item, line.ballot_type, line.dapil)
                _add(cursor, event.kabupaten, key, planned=line.quantity, reserve=line.reserve)
            return event.kabupaten
        case SupplierContracted():  # a contract recorded again replaces the earlier
            cursor.execute(
                "INSERT INTO gudang_contracts (kabupaten, contract, supplier, kinds, quantity) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (kabupaten, contract) DO UPDATE SET "
                "supplier = excluded.supplier, kinds = excluded.kinds, "
                "quantity = excluded.quantity",
                (
                    event.kabupaten,
                    event.contract,
                    event.supplier,
                    len(event.lines),
                    sum(line.quantity for line in event.lines),
                ),
            )
            return event.kabupaten
        case DeliveryAnnounced():
            for line in event.lines:
                key = (line.item, line.ballot_type, line.dapil)
                _add(cursor, event.kabupaten, key, announced=line.quantity)
            cursor.execute(
                "INSERT INTO gudang_deliveries (kabupaten, delivery, stage, supplier, "
                "expected_on, replaces, announced) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (kabupaten, delivery) DO NOTHING",
                (
                    event.kabupaten,
                    event.delivery,
                    event.stage,
                    event.supplier,
                    event.expected_on.isoformat(),
                    event.replaces,
                    sum(line.quantity for line in event.lines),
                ),
            )
            return event.kabupaten
        case DeliveryReceived():
            return _received(cursor, event)
        case SortingTallied():
            key = ("surat_suara", event.ballot_type, event.dapil)
            damaged = sum(event.damaged.values())
            _add(cursor, event.kabupaten, key, sorted=event.sorted, damaged=damaged)
            cursor.execute(
                "INSERT INTO gudang_sorting (kabupaten, day, sorted, damaged) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kabupaten, day) DO UPDATE SET "
                "sorted = gudang_sorting.sorted + excluded.sorted, "
                "damaged = gudang_sorting.damaged + excluded.damaged",
                (event.kabupaten, _day(event.kabupaten, event.occurred_at), event.sorted, damaged),
            )
            return event.kabupaten
        case ReplacementRequested():
            for line in event.lines:
                key = (line.item, line.ballot_type, line.dapil)
                _add(cursor, event.kabupaten, key, requested=line.quantity)
            return event.kabupaten
        case SheetsDestroyed():
            for line in event.lines:
                key = (line.item, line.ballot_type, line.dapil)
                _add(cursor, event.kabupaten, key, destroyed=line.quantity)
            return event.kabupaten
        case BoxesAssembled():
            _add(cursor, event.kabupaten, ("kotak_suara", "", ""), assembled=event.count)
            return event.kabupaten
    return ""


def _received(cursor: Cursor, event: DeliveryReceived) -> str:
    cursor.execute(
        "SELECT replaces FROM gudang_deliveries WHERE kabupaten = ? AND delivery = ?",
        (event.kabupaten, event.delivery),
    )
    found = cursor.fetchone()
    replacement = bool(found and found[0])
    for line in event.lines:
        key = (line.item, line.ballot_type, line.dapil)
        good = {"replaced" if replacement else "received": line.quantity}
        _add(cursor, event.kabupaten, key, damaged=line.damaged, **good)
    kinds = ",".join(sorted({m.kind for m in event.mismatches}))
    counted = sum(line.quantity for line in event.lines)
    damaged = sum(line.damaged for line in event.lines)
    at = event.occurred_at.isoformat()
    if found is None:  # arrived without a notice: on the list all the same
        cursor.execute(
            "INSERT INTO gudang_deliveries (kabupaten, delivery, stage, supplier, expected_on, "
            "replaces, announced) VALUES (?, ?, 0, '', '', '', 0)",
            (event.kabupaten, event.delivery),
        )
    cursor.execute(
        "UPDATE gudang_deliveries SET received = ?, damaged = ?, received_at = ?, mismatches = ? "
        "WHERE kabupaten = ? AND delivery = ?",
        (counted, damaged, at, kinds, event.kabupaten, event.delivery),
    )
    return event.kabupaten


def _packing(cursor: Cursor, event: BatchPacked | ScanVoided | BatchVoided) -> str:
    """A pack, a repack (which replaces the count: the last pack standing counts), a voided pack
    (the one before it counts again), a withdrawn batch (its need is gone, and what was packed
    in it is withdrawn, not packed)."""
    cursor.execute(
        "SELECT kabupaten, item, ballot_type, dapil, quantity, packed, packs, withdrawn "
        "FROM gudang_batches WHERE label = ?",
        (event.label,),
    )
    found = cursor.fetchone()
    if found is None:
        return ""
    kabupaten, item, ballot_type, dapil, quantity, packed, packs_text, withdrawn = found
    contents = _contents(item, ballot_type, dapil)
    column = "withdrawn" if withdrawn else "packed"
    if isinstance(event, BatchVoided):
        if withdrawn:
            return ""
        cursor.execute("UPDATE gudang_batches SET withdrawn = 1 WHERE label = ?", (event.label,))
        _add(cursor, kabupaten, contents, need=-quantity, packed=-packed, withdrawn=packed)
        if item == "kotak_suara":
            box = 1 if packed else 0
            _add(cursor, kabupaten, ("kotak_suara", "", ""), need=-1, packed=-box, withdrawn=box)
        return kabupaten
    packs = [tuple(map(int, p.split(":"))) for p in packs_text.split(";") if p]
    if isinstance(event, BatchPacked):
        packs.append((event.originator_version, event.quantity))
    else:  # a void: of one of its packs, or of another scan (nothing to do here)
        kept = [p for p in packs if p[0] != event.voids]
        if len(kept) == len(packs):
            return ""
        packs = kept
    now = packs[-1][1] if packs else 0
    cursor.execute(
        "UPDATE gudang_batches SET packed = ?, packs = ? WHERE label = ?",
        (now, ";".join(f"{v}:{q}" for v, q in packs), event.label),
    )
    if now == packed:
        return ""
    _add(cursor, kabupaten, contents, **{column: now - packed})
    if item == "kotak_suara" and bool(now) != bool(packed):  # one box more, or one less
        _add(cursor, kabupaten, ("kotak_suara", "", ""), **{column: 1 if now else -1})
    return kabupaten


def _day(kabupaten: str, moment: datetime) -> str:
    """The day in the gudang's own time zone."""
    return moment.astimezone(local_time_of(kabupaten)).date().isoformat()
