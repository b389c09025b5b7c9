"""Wilayah codes: one module says a code's level, its parent, the areas it lies in and a route."""

from services.wilayah import (
    ancestry,
    kabupaten_of,
    kecamatan_of,
    level_of,
    parent_of,
    route_of,
    within,
)

TPS = "3604052001001"
PROV, KAB, KEC, DESA = "36", "36.04", "36.04.05", "36.04.05.2001"


def test_a_tps_code_names_its_kecamatan_and_every_area_above_it():
    assert kecamatan_of(TPS) == KEC
    assert kabupaten_of(TPS) == KAB
    assert route_of(TPS) == (KAB, KEC, DESA, TPS)
    assert [level_of(a) for a in route_of(TPS)] == ["kabupaten", "kecamatan", "desa", "tps"]
    assert [parent_of(a) for a in route_of(TPS)] == [PROV, KAB, KEC, DESA]


def test_every_level_has_one_name_from_the_nation_down():
    codes = ["", PROV, KAB, KEC, DESA, TPS]
    assert [level_of(c) for c in codes] == [
        "nasional",
        "provinsi",
        "kabupaten",
        "kecamatan",
        "desa",
        "tps",
    ]
    assert [parent_of(c) for c in codes] == [None, "", PROV, KAB, KEC, DESA]


def test_a_code_lies_in_every_area_of_its_ancestry_and_a_scope_reaches_below_itself():
    assert ancestry(TPS) == (PROV, KAB, KEC, DESA, TPS)
    assert ancestry(KEC) == (PROV, KAB, KEC)
    assert ancestry("") == ()
    assert within("", TPS) and within(PROV, TPS) and within(KEC, DESA)
    assert not within(KEC, KAB)
    assert not within("36.04.09", TPS)
    assert kecamatan_of(DESA) == KEC and kecamatan_of(KEC) == KEC
