"""Time travel: the board replayed into memory equals the live view's increments, at any point."""

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from services.audit.replay import replay
from services.custody.batch import Scan, evolve
from services.custody.decisions import record_scan, register
from services.custody.plan import kit_plan
from services.views.board.reducer import COLUMNS, fold
from tests.data import SERANG

T = datetime(2024, 2, 1, tzinfo=UTC)


def a_busy_history(seed: int = 7) -> list:
    """Three TPS' batches scanned about at random, wrong places and voids included."""
    rng = random.Random(seed)
    plans = kit_plan(msgspec.structs.replace(SERANG, tps=SERANG.tps[:3]))
    history, batches = [], {}
    for plan in plans:
        registered = register(
            label=plan.label,
            destination=plan.destination,
            item=plan.item,
            ballot_type=plan.ballot_type,
            quantity=plan.quantity,
            at=T,
        )
        history.append(registered)
        batches[plan.label] = evolve(None, [registered])
    places = ["36.04", "36.04.05", "36.04.05.2001", SERANG.tps[0].code, "36.04.09"]
    for n in range(600):
        label = rng.choice(list(batches))
        action = rng.choice(["pack", "dispatch", "receive", "receive"])
        counted = rng.choice([None, 306, 250]) if action == "receive" else None
        scan = Scan(
            scan_id=f"s{n}",
            label=label,
            action=action,
            location=rng.choice(places),
            occurred_at=T + timedelta(minutes=rng.randrange(0, 6000)),
            quantity=300,
            counted=counted,
        )
        new = record_scan(batches[label], scan, at=T + timedelta(minutes=6000 + n))
        history += new
        batches[label] = evolve(batches[label], new)
    return history


def live_view_counts(events) -> Counter:
    """What the SQL view adds up: the incremental changes of `fold`, event by event."""
    lines, counts = {}, Counter()
    for event in events:
        counts.update(fold(lines, [event]).counts)
    return +counts


def test_a_replay_equals_the_live_views_increments_at_every_tenth_position():
    history = a_busy_history()
    numbered = list(enumerate(history, 1))
    for until in range(0, len(history) + 1, len(history) // 10):
        board, moment = replay(numbered, until_position=until)
        assert moment.events == until
        assert board.column_counts() == live_view_counts(history[:until])


def test_a_replay_stops_at_a_moment_by_the_servers_clock():
    history = a_busy_history()
    moment_of = history[300].recorded_at
    board, moment = replay(list(enumerate(history, 1)), until_time=moment_of)
    recorded_before = [e for e in history if e.recorded_at < moment_of]
    assert moment.events == len(recorded_before)
    assert board.column_counts() == live_view_counts(recorded_before)
    assert {c for _, c in board.column_counts()} <= set(COLUMNS)


def test_a_settled_replay_answers_the_same_without_its_lines():
    history = a_busy_history()
    board, _ = replay(list(enumerate(history, 1)))
    levels = ("nasional", "provinsi", "kabupaten", "kecamatan", "desa", "tps")
    before = {level: board.rows(level) for level in levels}
    arrivals = board.arrivals("36.04")
    behind = board.tps_behind("36.04")
    board.settle()
    assert not board.lines
    assert {level: board.rows(level) for level in levels} == before
    assert board.arrivals("36.04") == arrivals and board.tps_behind("36.04") == behind
    with pytest.raises(ValueError):
        board.apply(history[:1])
