"""The demo's seed: one batch per kotak suara, finished on the next start if it was cut short."""

import msgspec

from services.batches import Batches
from services.cli import seed
from services.plan import kit_plan
from services.serang import kabupaten_serang
from tests.integration.counting import count_from_event_store

SERANG = kabupaten_serang()
TEN_TPS = msgspec.structs.replace(SERANG, tps=SERANG.tps[:10])


def test_an_interrupted_seed_finishes_on_the_next_start_without_registering_twice(settings):
    batches = Batches(settings.store, wilayah=TEN_TPS)
    plans = kit_plan(TEN_TPS)
    batches.register(plans[:20])  # the first chunk went in before the demo was stopped
    assert seed(batches, chunk=20) == 50
    assert seed(batches, chunk=20) == 0
    counts = count_from_event_store(batches.recorder)
    assert sum(row[0] for row in counts.values()) == 70
    batches.close()
