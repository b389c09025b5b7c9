"""A whole kabupaten's distribution, gudang to every TPS, with the failures of 2024 mixed in.

Deterministic for a seed, so tests and benchmarks can say exactly what went wrong where.
"""

import random
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec

from services.custody.batch import Scan
from services.custody.batches import Batches, BatchPlan
from services.custody.masterdata import MasterData, tps_csv
from services.custody.plan import kit_plan
from services.demo.serang import kabupaten_serang
from services.wilayah import Wilayah, route_of

START = datetime(2024, 2, 1, 7, 0, tzinfo=UTC)
# The stages of a journey, in the order a kabupaten works them: every box of a kecamatan is loaded
# before its truck leaves, every box is unloaded at the PPK before the PPS's loads go, and so on.
STAGES = ("pack", "seal", "load", "unload_wrong", "reload_wrong", "ppk", "to_pps", "pps",
          "to_tps", "tps")  # fmt: skip
NAMES = ("Rina", "Budi", "Siti", "Agus", "Dewi", "Eko", "Yanti", "Joko", "Nur", "Asep", "Lilis",
         "Dedi", "Wati", "Hendra", "Ujang", "Euis")  # fmt: skip


class Injected(msgspec.Struct, kw_only=True):
    """The labels each failure was given to."""

    damaged: set[str] = msgspec.field(default_factory=set)  # arrives wet at the PPK
    short: set[str] = msgspec.field(default_factory=set)  # counted short at the PPK
    misrouted: set[str] = msgspec.field(default_factory=set)  # first unloaded at a wrong PPK
    unsealed: set[str] = msgspec.field(default_factory=set)  # seals gone at the TPS
    late: set[str] = msgspec.field(default_factory=set)  # still at the PPS when voting starts
    mixed_up: set[str] = msgspec.field(default_factory=set)  # another dapil's ballots at the TPS


class Step(msgspec.Struct, frozen=True):
    """One scan of a journey, before it has a time: at which stage, what, where, with what."""

    stage: str
    action: str
    location: str
    details: dict[str, Any]


def person(place: str, salt: str = "") -> str:
    """A name for whoever works at a place (the same every time)."""
    return NAMES[zlib.crc32((salt + place).encode()) % len(NAMES)]


def truck(load: str) -> dict[str, str]:
    """The truck and driver of a load (the same every time)."""
    number = zlib.crc32(load.encode())
    return {"vehicle": f"A {1000 + number % 9000} KP", "driver": person(load, "sopir")}


def journey(
    plan: BatchPlan,
    serial: int,
    rng: random.Random,
    injected: Injected,
    kecamatan: list[str],
    dapil_choices: dict[str, list[str]],
    rate: float,
) -> list[Step]:
    """A batch's scans in order: packed and sealed (kotak suara), then every hop down, with the
    officers, witnesses, trucks and documents of each, and a failure now and then."""
    gudang, kec, desa, tps = route_of(plan.destination)
    steps: list[Step] = []
    seals = [f"S{serial:06d}A", f"S{serial:06d}B"]
    packer = {"officer": person(gudang, "gudang")}
    if plan.item == "kotak_suara":
        steps.append(
            Step("pack", "pack", gudang, {**packer, "quantity": plan.quantity, "dapil": plan.dapil})
        )
        steps.append(Step("seal", "seal", gudang, {**packer, "seals": seals}))
    load = "SJ-" + kec.replace(".", "")
    sent = {"surat_jalan": load, **truck(load), "officer": person(gudang, "gudang")}
    steps.append(Step("load", "dispatch", gudang, {**sent, "to": kec}))
    roll = rng.random()
    others = [k for k in kecamatan if k != kec]
    if roll < rate and others:  # a tree of one kecamatan has nowhere wrong to unload
        injected.misrouted.add(plan.label)
        wrong = rng.choice(others)
        steps.append(Step("unload_wrong", "receive", wrong, {"officer": person(wrong, "ppk")}))
        back = {"to": kec, "officer": person(wrong, "ppk"), **truck(wrong + kec)}
        steps.append(Step("reload_wrong", "dispatch", wrong, back))
    received = {
        "surat_jalan": load,
        "condition": "baik",
        "officer": person(kec, "ppk"),
        "witness": "Panwascam " + person(kec, "panwascam"),
    }
    if plan.item == "kotak_suara":
        received |= {"counted": plan.quantity, "seals": seals}
        if rate <= roll < 2 * rate:
            injected.damaged.add(plan.label)
            received |= {"condition": "basah", "reasons": ["basah"]}
        elif 2 * rate <= roll < 3 * rate:
            injected.short.add(plan.label)
            received |= {"counted": plan.quantity - 5, "reasons": ["kurang"]}
    steps.append(Step("ppk", "receive", kec, received))
    to_pps = "SJ-" + desa.replace(".", "")
    steps.append(
        Step(
            "to_pps",
            "dispatch",
            kec,
            {"to": desa, "surat_jalan": to_pps, "officer": person(kec, "ppk"), **truck(to_pps)},
        )
    )
    steps.append(
        Step("pps", "receive", desa, {"surat_jalan": to_pps, "officer": person(desa, "pps")})
    )
    if 3 * rate <= roll < 4 * rate:
        injected.late.add(plan.label)
        return steps
    handover = "BA-" + tps
    steps.append(
        Step(
            "to_tps",
            "dispatch",
            desa,
            {"to": tps, "surat_jalan": handover, "officer": person(desa, "pps")},
        )
    )
    at_tps: dict[str, Any] = {
        "surat_jalan": handover,
        "officer": person(tps, "kpps"),
        "witness": "Pengawas TPS " + person(tps, "ptps"),
    }
    if plan.item == "kotak_suara":
        at_tps |= {"seals": seals}
        if 4 * rate <= roll < 5 * rate:
            injected.unsealed.add(plan.label)
            at_tps |= {"seals": [], "reasons": ["segel_rusak"]}
        elif 5 * rate <= roll < 6 * rate and plan.dapil:
            injected.mixed_up.add(plan.label)  # tertukar: another dapil's ballots in the box
            others = [d for d in dapil_choices.get(plan.ballot_type, []) if d != plan.dapil]
            at_tps |= {"reasons": ["tertukar"], "dapil": rng.choice(others) if others else ""}
    steps.append(Step("tps", "receive", tps, at_tps))
    return steps


def journeys_of(
    wilayah: Wilayah, plans: list[BatchPlan], seed: int = 2024, rate: float = 0.01
) -> tuple[list[list[Step]], Injected]:
    """Every batch's journey, deterministic for a seed."""
    rng = random.Random(seed)
    injected = Injected()
    kecamatan = [k.code for k in wilayah.kecamatan]
    dapil_choices: dict[str, list[str]] = {}
    for plan in plans:
        if plan.dapil and plan.dapil not in dapil_choices.setdefault(plan.ballot_type, []):
            dapil_choices[plan.ballot_type].append(plan.dapil)
    trips = [
        journey(plan, n, rng, injected, kecamatan, dapil_choices, rate)
        for n, plan in enumerate(plans)
    ]
    return trips, injected


def journeys(
    wilayah: Wilayah, plans: list[BatchPlan], seed: int = 2024, rate: float = 0.01
) -> tuple[list[list[Scan]], Injected]:
    """Each batch's scans in order, an hour apart, the first a second after the last batch's."""
    trips, injected = journeys_of(wilayah, plans, seed, rate)
    return [
        [
            Scan(
                scan_id=f"{plan.label}/{i}",
                label=plan.label,
                action=step.action,
                location=step.location,
                occurred_at=START + timedelta(seconds=n, hours=i),
                **step.details,
            )
            for i, step in enumerate(trip)
        ]
        for n, (plan, trip) in enumerate(zip(plans, trips, strict=True))
    ], injected


QUEUE = 400  # batches whose scans are kept in one transaction, as a busy gudang's devices would


def record_scenario(
    batches: Batches,
    progress: Callable[[int, int], None] | None = None,
    tree: Wilayah | None = None,
) -> tuple[Wilayah, list[BatchPlan], Injected]:
    """Import Kab. Serang (or `tree`: a part of it), register its kit plan and record every
    journey, then the H-1 check; return (wilayah, plans, injected)."""
    registered = START - timedelta(days=1)  # the master data and the plan, the day before
    master_data = MasterData(batches, clock=lambda: registered)
    source = tps_csv(tree or kabupaten_serang())
    master_data.import_file("pemilu-2024", "tps.csv", source, "scenario")
    wilayah = master_data.wilayah("pemilu-2024", "36.04")
    assert wilayah is not None
    batches.wilayah = wilayah
    plans = kit_plan(wilayah)
    for start in range(0, len(plans), 5000):
        batches.register(plans[start : start + 5000], at=registered)
    trips, injected = journeys(wilayah, plans)
    for start in range(0, len(trips), QUEUE):
        batches.scan_many([scan for trip in trips[start : start + QUEUE] for scan in trip])
        if progress is not None:
            progress(min(start + QUEUE, len(trips)), len(trips))
    voting_day = datetime(2024, 2, 14, tzinfo=timezone(timedelta(hours=7)))
    batches.flag_late([plan.label for plan in plans], deadline=voting_day)
    return wilayah, plans, injected
