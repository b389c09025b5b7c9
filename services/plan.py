"""The kit plan of this first slice: one labelled batch per kotak suara, five per TPS."""

from collections.abc import Iterator

from services.batches import BatchPlan
from services.wilayah import Wilayah

# One kotak suara per ballot type (2024); DKI Jakarta has no DPRD Kab/Kota (issue 3 plans that).
BALLOT_TYPES = ("PPWP", "DPR", "DPD", "DPRD_PROV", "DPRD_KAB")


def kotak_suara_label(tps_code: str, ballot_type: str) -> str:
    return f"KS-{tps_code}-{ballot_type}"


def kotak_suara_plan(wilayah: Wilayah) -> Iterator[BatchPlan]:
    for tps in wilayah.tps:
        for ballot_type in BALLOT_TYPES:
            yield BatchPlan(
                label=kotak_suara_label(tps.code, ballot_type),
                destination=tps.code,
                item="kotak_suara",
                ballot_type=ballot_type,
            )
