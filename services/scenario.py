"""A whole kabupaten's distribution, gudang to every TPS, with the failures of 2024 mixed in.

Deterministic for a seed, so tests and benchmarks can say exactly what went wrong where.
"""

import random
from datetime import UTC, datetime, timedelta

import msgspec

from services.batches import BatchPlan
from services.domain import Scan, route_of
from services.wilayah import Wilayah

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
