"""The board's reducer: per area (kabupaten, kecamatan, desa, TPS) where the batches are and
what is wrong, as pure functions of the events.

`advance`, `counter_changes`, `arrival_changes` and `fold` drive the SQL view (`view.py`) and an
in-memory replay (`MemoryBoard`) alike, so both give the same board from the same events. Every
batch counts in each area of its destination: its kabupaten, kecamatan, desa and TPS.

Whether a TPS is at risk of missing the H-1 deadline depends on the clock, so it is not stored:
`tps_at_risk` decides it at read time from the TPS's stored counts (see its docstring).
"""

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from sys import intern
from typing import Any, Literal

import msgspec

from events import (
    AnomalyRaised,
    AnomalyResolved,
    BatchDispatched,
    BatchPacked,
    BatchReceived,
    BatchSealed,
    BatchVoided,
    Event,
    ScanVoided,
)
from events.batch import BatchEvent
from services.wilayah import LEVELS, NATIONAL, Level, ancestry, level_of, route_of, within

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
# Where a batch is now, by the level of the place where it was last received.
PLACE_OF_LEVEL: dict[str, Place] = {
    "kabupaten": "gudang",
    "kecamatan": "ppk",
    "desa": "pps",
    "tps": "tps",
}
# Hops still to go to its TPS, by the level of the place where it was last received.
HOPS_OF_LEVEL: dict[str, int] = {
    "kabupaten": 3,
    "kecamatan": 2,
    "desa": 1,
    "tps": 1,  # at a TPS not its own: back via a PPS
}
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
COLUMN_INDEX = {column: n for n, column in enumerate(COLUMNS)}
ENUMERATED = tuple(enumerate(COLUMNS))

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


def ancestor_at(tps_code: str, level: Level) -> str:
    """The area of a TPS at a level of the board, the nation to the TPS itself."""
    return ancestry(tps_code)[LEVELS.index(level) - 1] if level != "nasional" else NATIONAL


def advance(line: BatchLine | None, event: Event) -> BatchLine:
    """The batch's line after the event; stages only move forward, a late scan never undoes one."""
    if line is None:  # placed by its destination, even if the board never saw it registered
        # one string per TPS, shared by its batches' lines: a national replay holds 5.7 million
        line = BatchLine(intern(event.destination), "planned")
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
    level = level_of(location)
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
        line.destination,
        "received",
        line.open_anomalies,
        place,
        delivered_at is not None,
        at,
        hops,
        delivered_at,
        location,
        line.voided,
    )


def dispatched(line: BatchLine, event: BatchDispatched) -> BatchLine:
    """On a truck from where it was dispatched; a truck counts where it left for the hops."""
    at = event.occurred_at
    stage: Stage = "received" if line.stage == "received" else "dispatched"
    if line.moved_at is not None and at < line.moved_at:  # a scan synced late does not move it
        return line if stage == line.stage else msgspec.structs.replace(line, stage=stage)
    return BatchLine(
        line.destination,
        stage,
        line.open_anomalies,
        "transit",
        line.delivered,
        at,
        line.hops_left,
        line.delivered_at,
        intern(event.location),
        line.voided,
    )


def standing_after_void(line: BatchLine, event: ScanVoided) -> BatchLine:
    """The line as the scans that still count leave it (the void says where that is)."""
    stage: Stage = "planned"
    for flag, name in (
        (event.packed, "packed"),
        (event.dispatched, "dispatched"),
        (event.received, "received"),
    ):
        if flag:
            stage = name  # type: ignore[assignment]
    place: Place = "gudang"
    hops = 3
    if event.location:
        level = level_of(event.location)
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
        location=intern(event.location),
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
        areas = route_of(line.destination)
        for column, n in diff.items():
            if n:
                for area in areas:
                    changes[(area, column)] += n
    return changes


def arrival_changes(before: BatchLine | None, after: BatchLine | None) -> Counter[tuple[str, str]]:
    """(area, hour) -> +n / -n of batches first delivered at their TPS in that hour (UTC, by
    the device's clock), for its kabupaten, kecamatan and desa."""
    changes: Counter[tuple[str, str]] = Counter()
    for line, sign in ((before, -1), (after, 1)):
        if line is not None and line.delivered_at is not None and not line.voided:
            hour = line.delivered_at.astimezone(UTC).strftime("%Y-%m-%dT%H")
            for area in route_of(line.destination)[:3]:
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
        self.settled = False
        self._counts: dict[str, list[int]] | None = None
        self._arrivals: Counter[tuple[str, str]] | None = None

    def apply(self, events: Iterable[Event]) -> None:
        if self.settled:
            raise ValueError("a settled board takes no more events")
        lines, line_of, step, batch_event = self.lines, self.lines.get, advance, BatchEvent
        for event in events:
            if isinstance(event, batch_event):  # master data is not on the board
                key = event.originator_id.int  # a UUID's own hash and == run in Python
                lines[key] = step(line_of(key), event)
        self._counts = self._arrivals = None

    @property
    def counts(self) -> dict[str, list[int]]:
        """area -> its batches in each of `COLUMNS`, in every area of each batch's TPS
        (kabupaten down, as the board's table keeps them). A list per area, not a count per
        (area, column): a national replay holds 911,000 areas, not 7 million keys."""
        if self._counts is None:
            counts: dict[str, list[int]] = {}
            empty = [0] * len(COLUMNS)
            for line in self.lines.values():
                columns = line_columns(line)
                if not columns:  # voided: counted nowhere, not even as an area
                    continue
                row = counts.get(line.destination)
                if row is None:
                    row = counts[line.destination] = empty.copy()
                for column, n in columns.items():
                    row[COLUMN_INDEX[column]] += n
            for tps, row in list(counts.items()):
                for area in route_of(tps)[:3]:  # its kabupaten, kecamatan and desa
                    total = counts.get(area)
                    if total is None:
                        counts[area] = row.copy()
                    else:
                        for i, n in enumerate(row):
                            total[i] += n
            self._counts = counts
        return self._counts

    def column_counts(self) -> Counter[tuple[str, str]]:
        """(area, column) -> batches, where not 0: the shape of the live view's increments."""
        return Counter(
            {
                (area, column): n
                for area, row in self.counts.items()
                for column, n in zip(COLUMNS, row, strict=True)
                if n
            }
        )

    @property
    def arrival_counts(self) -> Counter[tuple[str, str]]:
        """(area, hour) -> batches first delivered at their TPS in that hour."""
        if self._arrivals is None:
            self._arrivals = Counter()
            for line in self.lines.values():
                self._arrivals.update(arrival_changes(None, line))
        return self._arrivals

    def area(self, code: str) -> AreaCounts:
        if level_of(code) in ("provinsi", "nasional"):  # added up, as BoardView does
            inside = [self.counts[k] for k in self._kabupaten() if within(code, k)]
            return AreaCounts(
                area=code, **{c: sum(row[i] for row in inside) for i, c in ENUMERATED}
            )
        row = self.counts.get(code)
        if row is None:
            return AreaCounts(area=code)
        return AreaCounts(area=code, **dict(zip(COLUMNS, row, strict=True)))

    def rows(self, level: Level = "kecamatan") -> list[AreaCounts]:
        return [self.area(a) for a in sorted(self._at(level))]

    def _kabupaten(self) -> set[str]:
        """The kabupaten counted: those with a batch counted."""
        return {area for area in self.counts if level_of(area) == "kabupaten"}

    def settle(self) -> "MemoryBoard":
        """A finished replay: its sums made, its batches' lines let go (a national replay's are
        most of its memory); what it answers stays the same, but it takes no more events."""
        self.counts, self.arrival_counts  # noqa: B018 (made now, kept)
        self.lines = {}
        self.settled = True
        return self

    def _at(self, level: Level) -> set[str]:
        if level == "provinsi":
            return {k[:2] for k in self._kabupaten()}
        if level == "nasional":
            return {NATIONAL} if self._kabupaten() else set()
        return {a for a in self.counts if level_of(a) == level}

    def arrivals_of(self, area: str) -> list[tuple[str, int]]:
        """(hour, batches delivered), by hour; a province's and the nation's summed from their
        kabupaten/kota's."""
        if level_of(area) in ("provinsi", "nasional"):
            summed: Counter[str] = Counter()
            for (a, hour), n in self.arrival_counts.items():
                if level_of(a) == "kabupaten" and within(area, a):
                    summed[hour] += n
            return sorted((hour, n) for hour, n in summed.items() if n)
        return sorted((hour, n) for (a, hour), n in self.arrival_counts.items() if a == area and n)

    # The queries a board page asks of BoardView, so replayed boards use the same pages.

    def areas(self, codes: Iterable[str]) -> list[AreaCounts]:
        known = self.counts.keys() | self._at("provinsi") | self._at("nasional")
        return [self.area(code) for code in sorted(codes) if code in known]

    def tps_behind(self, under: str) -> list[AreaCounts]:
        prefix, waiting = under.replace(".", ""), [COLUMN_INDEX[c] for c in UNDELIVERED.values()]
        return [
            self.area(tps)
            for tps, row in sorted(self.counts.items())
            if level_of(tps) == "tps" and tps.startswith(prefix) and any(row[i] for i in waiting)
        ]

    def at_risk(self, under: str, now: datetime, deadline: datetime) -> list[str]:
        return [r.area for r in self.tps_behind(under) if tps_at_risk(r, now, deadline)]

    def at_risk_in(
        self, under: str, level: Level, now: datetime, deadline: datetime
    ) -> Counter[str]:
        return count_in(self.at_risk(under, now, deadline), level)

    def arrivals(self, area: str) -> list[tuple[str, int]]:
        return self.arrivals_of(area)
