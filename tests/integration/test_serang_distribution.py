"""The Kabupaten Serang distribution through the real stack, failures and all: the whole
kabupaten on SQLite (recorded once for the suite), its first 600 TPS on PostgreSQL (the whole
of it there takes minutes of the suite's fifteen; `lacak bench replay` and the demo carry it)."""

import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from services.custody.batches import Batches
from services.demo.bench.faults import bench_wilayah
from services.demo.scenario import record_scenario
from services.views.board.reducer import count_at_risk
from tests.integration.counting import (
    count_from_event_store,
    count_notifications,
    relayed_and_projected,
    roll_up,
)
from tests.integration.test_relay_and_board import board_counts

POSTGRES_TPS = 600


async def test_every_batch_to_every_tps_with_the_2024_failures_ends_on_the_board(settings, request):
    started = time.perf_counter()
    if settings.postgres:
        batches = Batches(settings.store)
        tree = bench_wilayah(POSTGRES_TPS)
        _, plans, injected = record_scenario(batches, tree=tree)  # with the H-1 check at its end
        recording = time.perf_counter() - started
    else:  # recorded once for every SQLite test that needs the whole kabupaten
        serang = request.getfixturevalue("serang_sqlite")
        serang.copy_to(settings)
        batches = Batches(settings.store)
        plans, injected, recording = serang.plans, serang.injected, serang.seconds
    assert len(plans) == (POSTGRES_TPS if settings.postgres else 4_425) * 7  # 7 batches a TPS
    voting_day = datetime(2024, 2, 14, tzinfo=timezone(timedelta(hours=7)))
    labels = [plan.label for plan in plans]
    assert batches.flag_late(labels, deadline=voting_day) == 0  # flagged once
    recorded = time.perf_counter()

    views, board = await relayed_and_projected(settings, batches.recorder, minutes=10)
    projected = time.perf_counter()
    stored = count_notifications(batches.recorder)

    # The board equals a count made straight from the event store, at every level ...
    per_tps = count_from_event_store(batches.recorder, level="tps")
    assert board_counts(board, "tps") == per_tps
    for level in ("desa", "kecamatan", "kabupaten"):
        assert board_counts(board, level) == roll_up(per_tps, level), level
    # ... and what the scenario did: every batch at its TPS but the late ones, left at the PPS.
    columns = (
        "planned",
        "packed",
        "gudang",
        "transit",
        "ppk",
        "pps",
        "tps",
        "delivered",
        "anomalies",
    )
    total = {column: sum(getattr(row, column) for row in board.rows()) for column in columns}
    flagged = (
        injected.misrouted,
        injected.damaged,
        injected.short,
        injected.unsealed,
        injected.late,
        injected.mixed_up,
    )
    assert total == {
        "planned": len(plans),
        "packed": len(plans),
        "gudang": 0,
        "transit": 0,
        "ppk": 0,
        "pps": len(injected.late),
        "tps": len(plans) - len(injected.late),
        "delivered": len(plans) - len(injected.late),
        "anomalies": sum(map(len, flagged)),
    }
    # Every delivery is on the arrivals chart; after H-1 the TPS of the late ones are at risk.
    assert sum(n for _, n in board.arrivals("36.04")) == total["delivered"]
    late_tps = {plan.destination for plan in plans if plan.label in injected.late}
    deadline = voting_day  # midnight WIB at the start of voting day: the end of H-1
    at_risk = count_at_risk(board.tps_behind("36.04"), "kabupaten", deadline, deadline)
    assert at_risk == {"36.04": len(late_tps)}
    assert set(board.at_risk("36.04", deadline, deadline)) == late_tps  # as the pages ask it
    kinds = Counter(
        e.kind
        for n in batches.recorder.select_notifications(1, stored)
        if n.topic.endswith(":AnomalyRaised")
        for e in [batches.mapper.to_domain_event(n)]
    )
    assert kinds == {
        "wrong_destination": len(injected.misrouted),
        "damaged": len(injected.damaged),
        "count_short": len(injected.short),
        "seal_missing": len(injected.unsealed),
        "late": len(injected.late),
        "wrong_dapil": len(injected.mixed_up),  # tertukar, reported at the TPS
    }
    print(
        f"\n{settings.store['PERSISTENCE_MODULE']}: {stored:,} events "
        f"recorded in {recording:.1f} s, "
        f"relayed and projected in {projected - recorded:.1f} s more"
    )
    views.close()
    batches.close()
