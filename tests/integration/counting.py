"""Board totals counted straight from the event store, independently of the projection code."""

import asyncio
import time
from collections import Counter
from datetime import datetime

from eventsourcing.persistence import ApplicationRecorder

import events
from services.messaging.projector import run_projection
from services.messaging.relay import run_relay
from services.settings import Settings
from services.views.board.reducer import count_in
from services.views.board.view import BoardView
from services.views.database import ViewDatabase, open_views
from services.wilayah import kecamatan_of

# What `count_from_event_store` counts per area, in its tuples' order.
COUNTED = (
    "planned",
    "dispatched",
    "received",
    "anomalies",
    "gudang",
    "transit",
    "ppk",
    "pps",
    "tps",
    "returned",
    "packed",
    "delivered",
    "undelivered_gudang",
    "undelivered_ppk",
    "undelivered_pps",
)
DIGITS_OF_LEVEL = {"kabupaten": 4, "kecamatan": 6, "desa": 10, "tps": 13}


def area_code(tps: str, level: str) -> str:
    """The code of the TPS's area at `level`: `36.04.05` for the kecamatan of `3604052001001`."""
    digits = tps[: DIGITS_OF_LEVEL[level]]
    if level == "tps":
        return digits
    parts = [digits[0:2], digits[2:4], digits[4:6], digits[6:10]]
    return ".".join(part for part in parts if part)


def count_from_event_store(
    recorder: ApplicationRecorder, level: str = "kecamatan"
) -> dict[str, tuple[int, ...]]:
    """area -> (planned, dispatched, received, open anomalies, then how many are now at the
    gudang, in transit, at a PPK, at a PPS, at a TPS, returned; then packed, delivered at their
    TPS, and those not delivered last received at the gudang (or never), a PPK, a PPS (or
    another TPS)), from every stored event."""
    registered: dict[str, str] = {}
    now_at: dict[str, str] = {}
    last_stop: dict[str, str] = {}
    been_at_tps: set[str] = set()
    moved_at: dict[str, datetime] = {}
    packed: set[str] = set()
    dispatched: set[str] = set()
    received: set[str] = set()
    open_anomalies: Counter[str] = Counter()
    start = 0
    while notifications := recorder.select_notifications(start, 1000, inclusive_of_start=False):
        for n in notifications:
            event = events.decode(n.state)
            batch = str(event.originator_id)
            kind = type(event).__name__
            if kind == "BatchRegistered":
                registered[batch] = event.destination
                now_at[batch] = "g"
                last_stop[batch] = "g"
            elif kind in ("BatchPacked", "BatchSealed"):
                packed.add(batch)
            elif kind in ("BatchDispatched", "BatchReceived"):
                (received if kind == "BatchReceived" else dispatched).add(batch)
                dots = event.location.count(".")
                if kind == "BatchReceived" and event.location == event.destination:
                    been_at_tps.add(batch)
                if batch in moved_at and event.occurred_at < moved_at[batch]:
                    continue  # synced late: it was already further along by the device clocks
                moved_at[batch] = event.occurred_at
                if kind == "BatchDispatched":
                    now_at[batch] = "t"
                    continue
                if dots == 0:
                    now_at[batch] = "s"
                elif dots == 1:
                    now_at[batch] = "x" if batch in been_at_tps else "g"
                else:
                    now_at[batch] = "k" if dots == 2 else "v"
                last_stop[batch] = {0: "v", 1: "g", 2: "k", 3: "v"}[dots]
            elif kind == "AnomalyRaised":
                open_anomalies[batch] += 1
            elif kind == "AnomalyResolved":
                open_anomalies[batch] -= 1
        start = notifications[-1].id
    totals: Counter[tuple[str, str]] = Counter()
    for batch, tps in registered.items():
        area = area_code(tps, level)
        moved = batch in dispatched or batch in received
        totals[(area, "p")] += 1
        totals[(area, "d")] += moved
        totals[(area, "r")] += batch in received
        totals[(area, "a")] += open_anomalies[batch]
        totals[(area, now_at[batch])] += 1
        totals[(area, "P")] += batch in packed or moved
        if batch in been_at_tps:
            totals[(area, "D")] += 1
        else:
            totals[(area, "u" + last_stop[batch])] += 1
    columns = ["p", "d", "r", "a", "g", "t", "k", "v", "s", "x", "P", "D", "ug", "uk", "uv"]
    return {a: tuple(totals[(a, c)] for c in columns) for a, _ in totals}


def count_notifications(recorder: ApplicationRecorder) -> int:
    count, start = 0, 0
    while notifications := recorder.select_notifications(start, 1000, inclusive_of_start=False):
        count += len(notifications)
        start = notifications[-1].id
    return count


def roll_up(per_tps: dict[str, tuple[int, ...]], level: str) -> dict[str, tuple[int, ...]]:
    """Counts per TPS added up per area of a level above."""
    totals: dict[str, list[int]] = {}
    for tps, counts in per_tps.items():
        area = totals.setdefault(area_code(tps, level), [0] * len(counts))
        for n, count in enumerate(counts):
            area[n] += count
    return {area: tuple(counts) for area, counts in totals.items()}


def assert_risk_kept_as_the_rule_counts(
    board: BoardView, kabupaten: list[str], now: datetime, deadline: datetime
) -> None:
    """The TPS at risk per area, from the tiers kept, equal those the rule finds in TPS rows."""
    at_risk = board.at_risk("", now, deadline)
    for level in ("nasional", "provinsi", "kabupaten"):
        assert board.at_risk_in("", level, now, deadline) == count_in(at_risk, level), level
    for code in kabupaten:
        for kecamatan in [row.area for row in board.children(code)]:
            for level in ("kecamatan", "desa", "tps"):
                expected = count_in([t for t in at_risk if kecamatan_of(t) == kecamatan], level)
                assert board.at_risk_in(kecamatan, level, now, deadline) == expected, level
        expected = count_in(
            [t for t in at_risk if t.startswith(code.replace(".", ""))], "kecamatan"
        )
        assert board.at_risk_in(code, "kecamatan", now, deadline) == expected


async def relayed_and_projected(
    settings: Settings, recorder: ApplicationRecorder, minutes: float
) -> tuple[ViewDatabase, BoardView]:
    """The board of a fresh view database, once the relay and its projection (both run here
    until then) have applied every event the store holds; the views stay open for the test."""
    views = open_views(settings)
    board = BoardView(views)
    board.setup()
    stop = asyncio.Event()
    workers = [
        asyncio.create_task(run_relay(settings, stop)),
        asyncio.create_task(run_projection(board, settings, stop)),
    ]
    stored = count_notifications(recorder)
    deadline = time.monotonic() + minutes * 60
    try:
        while await asyncio.to_thread(board.applied) < stored:
            assert time.monotonic() < deadline, f"the board did not catch up in {minutes} minutes"
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.gather(*workers)
    return views, board
