"""A whole kabupaten's distribution, gudang to every TPS, with the failures of 2024 mixed in.

Deterministic for a seed, so tests and benchmarks can say exactly what went wrong where.
"""

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import msgspec

from services.custody.batch import Scan
from services.custody.batches import Batches, BatchPlan
from services.custody.masterdata import MasterData, tps_csv
from services.custody.plan import kit_plan
from services.demo.serang import kabupaten_serang
from services.wilayah import Wilayah, route_of

START = datetime(2024, 2, 1, 7, 0, tzinfo=UTC)


class Injected(msgspec.Struct, kw_only=True):
    """The labels each failure was given to."""

    damaged: set[str] = msgspec.field(default_factory=set)  # arrives wet at the PPK
    short: set[str] = msgspec.field(default_factory=set)  # counted short at the PPK
    misrouted: set[str] = msgspec.field(default_factory=set)  # first unloaded at a wrong PPK
    unsealed: set[str] = msgspec.field(default_factory=set)  # seals gone at the TPS
    late: set[str] = msgspec.field(default_factory=set)  # still at the PPS when voting starts


def journeys(
    wilayah: Wilayah, plans: list[BatchPlan], seed: int = 2024, rate: float = 0.01
) -> tuple[list[list[Scan]], Injected]:
    """Each batch's scans in order: packed and sealed (kotak suara), then every hop down."""
    rng = random.Random(seed)
    injected = Injected()
    kecamatan = [k.code for k in wilayah.kecamatan]
    all_journeys = []
    for n, plan in enumerate(plans):
        gudang, kec, desa, tps = route_of(plan.destination)
        at = START + timedelta(seconds=n)
        steps: list[tuple[str, str, dict]] = []
        seals = [f"S{n:06d}A", f"S{n:06d}B"]
        if plan.item == "kotak_suara":
            steps.append(("pack", gudang, {"quantity": plan.quantity, "dapil": plan.dapil}))
            steps.append(("seal", gudang, {"seals": seals}))
        sent = {"surat_jalan": "SJ-" + kec.replace(".", "")}
        steps.append(("dispatch", gudang, {**sent, "to": kec}))
        roll = rng.random()
        if roll < rate:
            injected.misrouted.add(plan.label)
            wrong = rng.choice([k for k in kecamatan if k != kec])
            steps.append(("receive", wrong, {}))
            steps.append(("dispatch", wrong, {"to": kec}))
        received = {**sent, "condition": "baik", "officer": "PPK", "witness": "Panwascam"}
        if plan.item == "kotak_suara":
            received |= {"counted": plan.quantity, "seals": seals}
            if rate <= roll < 2 * rate:
                injected.damaged.add(plan.label)
                received |= {"condition": "basah", "reasons": ["basah"]}
            elif 2 * rate <= roll < 3 * rate:
                injected.short.add(plan.label)
                received |= {"counted": plan.quantity - 5, "reasons": ["kurang"]}
        steps.append(("receive", kec, received))
        steps.append(("dispatch", kec, {"to": desa}))
        steps.append(("receive", desa, {}))
        if 3 * rate <= roll < 4 * rate:
            injected.late.add(plan.label)
        else:
            steps.append(("dispatch", desa, {"to": tps}))
            at_tps = {}
            if plan.item == "kotak_suara":
                at_tps = {"seals": seals}
                if 4 * rate <= roll < 5 * rate:
                    injected.unsealed.add(plan.label)
                    at_tps = {"seals": [], "reasons": ["segel_rusak"]}
            steps.append(("receive", tps, at_tps))
        all_journeys.append(
            [
                Scan(
                    scan_id=f"{plan.label}/{i}",
                    label=plan.label,
                    action=action,
                    location=location,
                    occurred_at=at + timedelta(hours=i),
                    **details,
                )
                for i, (action, location, details) in enumerate(steps)
            ]
        )
    return all_journeys, injected


QUEUE = 400  # batches whose scans are kept in one transaction, as a busy gudang's devices would


def record_scenario(
    batches: Batches, progress: Callable[[int, int], None] | None = None
) -> tuple[Wilayah, list[BatchPlan], Injected]:
    """Import Kab. Serang, register its kit plan and record every journey, then the H-1 check;
    return (wilayah, plans, injected)."""
    master_data = MasterData(batches)
    master_data.import_file("pemilu-2024", "tps.csv", tps_csv(kabupaten_serang()), "scenario")
    wilayah = master_data.wilayah("pemilu-2024", "36.04")
    assert wilayah is not None
    batches.wilayah = wilayah
    plans = kit_plan(wilayah)
    for start in range(0, len(plans), 5000):
        batches.register(plans[start : start + 5000])
    trips, injected = journeys(wilayah, plans)
    for start in range(0, len(trips), QUEUE):
        batches.scan_many([scan for trip in trips[start : start + QUEUE] for scan in trip])
        if progress is not None:
            progress(min(start + QUEUE, len(trips)), len(trips))
    voting_day = datetime(2024, 2, 14, tzinfo=timezone(timedelta(hours=7)))
    batches.flag_late([plan.label for plan in plans], deadline=voting_day)
    return wilayah, plans, injected
