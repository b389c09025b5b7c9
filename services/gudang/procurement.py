"""The procurement plan: what a kabupaten/kota's gudang must receive, from its master data."""

from collections import Counter
from typing import TypeVar

from events.gudang import PlannedLine
from services.custody.plan import (
    BALLOT_TYPES,
    BILIK_PER_TPS,
    DAPIL_OF_BALLOT,
    KPU_2024,
    TINTA_PER_TPS,
    KitRules,
    ballots_for,
)
from services.wilayah import Wilayah

K = TypeVar("K")


def procurement_plan(wilayah: Wilayah, rules: KitRules = KPU_2024) -> list[PlannedLine]:
    """Ballots per type and dapil (DPT + 2% per TPS, plus the PSU reserve shared among the
    type's dapil by DPT), then kotak suara, bilik, tinta, segel and a set of forms per TPS."""
    sheets: Counter[tuple[str, str]] = Counter()
    voters: Counter[tuple[str, str]] = Counter()
    kotak = 0
    for tps in wilayah.tps:
        types = BALLOT_TYPES if rules.dprd_kab and tps.dapil_dprd_kab else BALLOT_TYPES[:-1]
        kotak += len(types)
        for ballot_type in types:
            key = (ballot_type, DAPIL_OF_BALLOT.get(ballot_type, lambda tps: "")(tps))
            sheets[key] += ballots_for(tps.dpt, rules)
            voters[key] += tps.dpt
    reserve: dict[tuple[str, str], int] = {}
    for ballot_type in BALLOT_TYPES:
        keys = sorted(key for key in sheets if key[0] == ballot_type)
        reserve.update(shares(rules.psu_reserve, {key: voters[key] for key in keys}))
    tps = len(wilayah.tps)
    return [
        *(
            PlannedLine(
                item="surat_suara",
                ballot_type=ballot_type,
                dapil=dapil,
                quantity=sheets[ballot_type, dapil],
                reserve=reserve[ballot_type, dapil],
            )
            for ballot_type, dapil in sorted(sheets, key=lambda k: (BALLOT_TYPES.index(k[0]), k[1]))
        ),
        PlannedLine(item="kotak_suara", quantity=kotak),
        PlannedLine(item="bilik_suara", quantity=BILIK_PER_TPS * tps),
        PlannedLine(item="tinta", quantity=TINTA_PER_TPS * tps),
        PlannedLine(item="segel", quantity=rules.segel_per_tps * tps),
        PlannedLine(item="formulir", quantity=tps),
    ]


def shares(total: int, weights: dict[K, int]) -> dict[K, int]:
    """`total` split by weight (evenly when all weigh nothing), the remainders to the largest
    fractions: the parts sum to it."""
    if not weights:
        return {}
    if not any(weights.values()):
        weights = dict.fromkeys(weights, 1)
    whole = sum(weights.values())
    exact = {k: total * w / whole for k, w in weights.items()}
    parts = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: parts[k] - exact[k])[: total - sum(parts.values())]:
        parts[k] += 1
    return parts
