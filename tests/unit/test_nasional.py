"""The whole country's trees: real codes and names, synthetic TPS and DPT summing to KPU's
totals, each kabupaten/kota built alone and the same every time."""

import pytest

from services.custody.masterdata import parse_tps_csv, tps_csv
from services.demo import nasional, serang
from services.wilayah import is_tps


def test_the_country_has_kpus_totals_at_home():
    every = nasional.kabupaten_list()
    assert len(every) == 514
    assert len({k.code[:2] for k in every.values()}) == 38
    assert sum(k.tps for k in every.values()) == nasional.TPS_AT_HOME == 820_161
    assert sum(k.dpt for k in every.values()) == nasional.DPT_AT_HOME == 203_056_748


def test_a_province_whose_dpt_is_on_record_has_exactly_that():
    every = nasional.kabupaten_list().values()
    for province, dpt in nasional.PROVINCE_DPT.items():
        assert sum(k.dpt for k in every if k.code[:2] == province) == dpt, province


def test_every_kabupaten_can_seat_its_voters_within_the_legal_cap():
    for k in nasional.kabupaten_list().values():
        assert k.tps >= k.desa  # a TPS in every desa at least
        assert nasional.DPT_MIN * k.tps <= k.dpt <= nasional.DPT_MAX * k.tps, k.code


def test_a_wilayah_names_its_kabupaten_and_kota():
    banten = nasional.kabupaten_of_wilayah("36")
    assert len(banten) == 8 and "36.04" in banten and "36.73" in banten
    assert nasional.kabupaten_of_wilayah("36.73") == ["36.73"]
    assert len(nasional.kabupaten_of_wilayah("nasional")) == 514


def test_kabupaten_serang_is_the_demos_own_tree():
    assert nasional.kabupaten_tree("36.04") is serang.kabupaten_serang()


@pytest.mark.parametrize("code", ["36.73", "31.71", "94.01"])
def test_a_kabupatens_tree_sums_to_its_share_and_is_the_same_every_time(code: str):
    share = nasional.kabupaten_list()[code]
    tree = nasional.kabupaten_tree(code)
    assert tree == nasional.kabupaten_tree(code)
    assert tree.code == code and tree.name == share.name
    assert len(tree.tps) == share.tps and sum(t.dpt for t in tree.tps) == share.dpt
    assert {t.desa for t in tree.tps} == {d.code for d in tree.desa}  # every desa votes
    assert all(is_tps(t.code) and t.code.startswith(code.replace(".", "")) for t in tree.tps)
    assert len({t.code for t in tree.tps}) == len(tree.tps)
    assert all(nasional.DPT_MIN <= t.dpt <= nasional.DPT_MAX for t in tree.tps)
    assert all(t.dapil_dpr and t.dapil_dprd_prov for t in tree.tps)
    assert all(bool(t.dapil_dprd_kab) == (code[:2] != "31") for t in tree.tps)  # DKI: none
    assert parse_tps_csv(tps_csv(tree)) == tree  # what `lacak import` takes
