"""The kit plan: ballots DPT + 2% per type, five kotak suara, bilik and tinta bundles per TPS."""

from collections import Counter

import msgspec
import pytest

from services.custody.labels import parse_label
from services.custody.plan import KitRules, ballots_for, kit_plan
from tests.data import SERANG


@pytest.mark.parametrize(
    ("dpt", "rounding", "sheets"),
    [(300, "up", 306), (277, "up", 283), (277, "half_up", 283), (277, "down", 282), (0, "up", 0)],
)
def test_each_ballot_type_gets_dpt_plus_two_percent_rounded_as_set(dpt, rounding, sheets):
    assert ballots_for(dpt, KitRules(rounding=rounding)) == sheets


def test_a_tps_gets_five_kotak_suara_a_bundle_of_four_bilik_and_one_of_two_tinta():
    tps = SERANG.tps[0]
    plans = kit_plan(msgspec.structs.replace(SERANG, tps=(tps,)))
    assert [(p.item, p.ballot_type) for p in plans] == [
        ("kotak_suara", "PPWP"),
        ("kotak_suara", "DPR"),
        ("kotak_suara", "DPD"),
        ("kotak_suara", "DPRD_PROV"),
        ("kotak_suara", "DPRD_KAB"),
        ("bilik_suara", ""),
        ("tinta", ""),
    ]
    assert [p.quantity for p in plans] == [ballots_for(tps.dpt)] * 5 + [4, 2]
    assert {p.destination for p in plans} == {tps.code}


def test_without_a_dprd_kab_kota_a_tps_gets_four_kotak_suara():
    plans = kit_plan(msgspec.structs.replace(SERANG, tps=SERANG.tps[:1]), KitRules(dprd_kab=False))
    assert Counter(p.item for p in plans)["kotak_suara"] == 4
    assert "DPRD_KAB" not in {p.ballot_type for p in plans}


def test_the_kabupaten_plan_labels_every_batch_once_with_a_valid_code():
    plans = kit_plan(SERANG)
    assert len(plans) == 4_425 * 7
    labels = [p.label for p in plans]
    assert len(set(labels)) == len(labels)
    assert all(parse_label(label) == label for label in labels[:: len(labels) // 500])


def test_each_legislative_kotak_suara_carries_the_dapil_of_its_tps():
    tps = SERANG.tps[0]
    plans = kit_plan(msgspec.structs.replace(SERANG, tps=(tps,)))
    assert {p.ballot_type: p.dapil for p in plans if p.item == "kotak_suara"} == {
        "PPWP": "",
        "DPR": tps.dapil_dpr,
        "DPD": "",
        "DPRD_PROV": tps.dapil_dprd_prov,
        "DPRD_KAB": tps.dapil_dprd_kab,
    }


def test_a_tps_without_a_dprd_kab_kota_dapil_gets_four_kotak_suara():
    tps = msgspec.structs.replace(SERANG.tps[0], dapil_dprd_kab="")
    plans = kit_plan(msgspec.structs.replace(SERANG, tps=(tps,)))
    assert [p.ballot_type for p in plans if p.item == "kotak_suara"] == [
        "PPWP",
        "DPR",
        "DPD",
        "DPRD_PROV",
    ]


def test_the_first_labels_of_kabupaten_serang_are_pinned():
    assert [p.label for p in kit_plan(SERANG)[:3]] == ["3604-0001-7", "3604-0002-5", "3604-0003-3"]
