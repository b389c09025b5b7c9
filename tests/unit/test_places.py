"""The scanning screens' location picker finds places by code or by name."""

from services.custody.places import Place, find_places, place
from tests.data import SERANG


def test_an_exact_code_names_its_place_at_every_level():
    assert place(SERANG, "36.04") == Place("36.04", "gudang Kabupaten Serang", "gudang")
    assert place(SERANG, "36.04.05") == Place("36.04.05", "Kec. Kramatwatu", "kecamatan")
    assert place(SERANG, "36.04.05.2001").level == "desa"
    assert place(SERANG, "3604052001001") == Place("3604052001001", "TPS 001 Kramatwatu", "tps")


def test_a_code_that_is_not_in_the_master_data_is_no_place():
    assert place(SERANG, "36.04.99") is None
    assert place(SERANG, "3604052001999") is None


def test_a_name_finds_the_kecamatan_before_its_desa_and_tps():
    found = find_places(SERANG, "kramatwatu")
    assert [p.level for p in found[:3]] == ["kecamatan", "desa", "tps"]
    assert found[0] == Place("36.04.05", "Kec. Kramatwatu", "kecamatan")


def test_a_code_typed_without_dots_finds_the_places_under_it():
    found = find_places(SERANG, "36040520010", limit=5)
    assert found and all(p.code.startswith("36040520010") for p in found)
    assert all(p.level == "tps" for p in found)


def test_the_search_answers_at_most_the_limit():
    assert len(find_places(SERANG, "", limit=7)) == 7
    assert len(find_places(SERANG, "TPS", limit=15)) == 15
