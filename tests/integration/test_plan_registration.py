"""Registering the kit plan: one batch per kotak suara, finished when run again if cut short."""

import msgspec

from services.custody.batches import Batches
from services.custody.plan import kit_plan, register_plan
from tests.data import SERANG
from tests.integration.counting import count_from_event_store

TEN_TPS = msgspec.structs.replace(SERANG, tps=SERANG.tps[:10])


def test_an_interrupted_registration_finishes_when_run_again_without_registering_twice(settings):
    batches = Batches(settings.store, wilayah=TEN_TPS)
    plans = kit_plan(TEN_TPS)
    batches.register(plans[:20])  # the first chunk went in before the demo was stopped
    assert register_plan(batches, TEN_TPS, chunk=20) == 50
    assert register_plan(batches, TEN_TPS, chunk=20) == 0
    counts = count_from_event_store(batches.recorder)
    assert sum(row[0] for row in counts.values()) == 70
    batches.close()
