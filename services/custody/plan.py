"""The kit plan: what each TPS gets, as labelled batches (KPU 2024 quantities)."""

import math
from collections.abc import Callable
from typing import Literal

import msgspec

from services.custody.batches import Batches, BatchPlan
from services.custody.labels import make_label
from services.wilayah import Wilayah

# One kotak suara per ballot type; where there is no DPRD Kab/Kota (DKI Jakarta), four.
BALLOT_TYPES = ("PPWP", "DPR", "DPD", "DPRD_PROV", "DPRD_KAB")
# Ballots printed per dapil; PPWP (national) and DPD (province) are the same everywhere.
DAPIL_OF_BALLOT = {
    "DPR": lambda tps: tps.dapil_dpr,
    "DPRD_PROV": lambda tps: tps.dapil_dprd_prov,
    "DPRD_KAB": lambda tps: tps.dapil_dprd_kab,
}
BILIK_PER_TPS = 4
TINTA_PER_TPS = 2


class KitRules(msgspec.Struct, frozen=True, kw_only=True):
    reserve_percent: int = 2  # ballots per type: DPT + 2%
    rounding: Literal["up", "half_up", "down"] = "up"  # of the reserve (up: one PPK's practice)
    dprd_kab: bool = True  # False in DKI Jakarta: no DPRD Kab/Kota ballot, four kotak
    psu_reserve: int = 1000  # sheets per ballot type a kabupaten keeps apart for re-votes (PSU)
    segel_per_tps: int = 20  # unverified: seals of all kinds a TPS's kit takes


KPU_2024 = KitRules()


def ballots_for(dpt: int, rules: KitRules = KPU_2024) -> int:
    """Sheets of one ballot type for a TPS: 300 voters -> 306."""
    reserve = dpt * rules.reserve_percent / 100
    if rules.rounding == "up":
        rounded = math.ceil(reserve)
    elif rules.rounding == "half_up":
        rounded = math.floor(reserve + 0.5)
    else:
        rounded = math.floor(reserve)
    return dpt + rounded


def kit_plan(wilayah: Wilayah, rules: KitRules = KPU_2024) -> list[BatchPlan]:
    """Per TPS, in TPS order: a kotak suara per ballot type, a bundle of bilik, one of tinta.

    Labels are numbered in that order, so the same master data always gives the same labels.
    """
    plans: list[BatchPlan] = []
    for tps in wilayah.tps:
        # No DPRD Kab/Kota where the rules say so, or where the TPS has no such dapil (DKI).
        has_dprd_kab = rules.dprd_kab and bool(tps.dapil_dprd_kab)
        ballot_types = BALLOT_TYPES if has_dprd_kab else BALLOT_TYPES[:-1]
        sheets = ballots_for(tps.dpt, rules)
        items = [("kotak_suara", ballot_type, sheets) for ballot_type in ballot_types]
        items += [("bilik_suara", "", BILIK_PER_TPS), ("tinta", "", TINTA_PER_TPS)]
        for item, ballot_type, quantity in items:
            plans.append(
                BatchPlan(
                    label=make_label(wilayah.code, len(plans) + 1),
                    destination=tps.code,
                    item=item,
                    ballot_type=ballot_type,
                    quantity=quantity,
                    dapil=DAPIL_OF_BALLOT.get(ballot_type, lambda tps: "")(tps),
                )
            )
    return plans


Progress = Callable[[int, int], None]  # (done, total)


def register_plan(
    batches: Batches, wilayah: Wilayah, progress: Progress | None = None, chunk: int = 2500
) -> int:
    """Register the kit plan's batches for every TPS; chunks already registered are skipped, so
    a registration that was interrupted finishes when it is run again. How many it registered."""
    plans = kit_plan(wilayah)
    if not plans or batches.exists(plans[-1].label):  # chunks go in order: all are there
        return 0
    registered = 0
    for start in range(0, len(plans), chunk):
        group = plans[start : start + chunk]
        if not batches.exists(group[0].label):  # a chunk is one transaction: all or nothing
            registered += batches.register(group)
            if progress is not None:
                progress(start + len(group), len(plans))
    return registered
