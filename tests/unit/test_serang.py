import re
from collections import Counter

from services.demo.serang import kabupaten_serang

KPU_KECAMATAN = {
    "Anyar",
    "Bandung",
    "Baros",
    "Binuang",
    "Bojonegara",
    "Carenang",
    "Cikande",
    "Cikeusal",
    "Cinangka",
    "Ciomas",
    "Ciruas",
    "Gunungsari",
    "Jawilan",
    "Kibin",
    "Kopo",
    "Kragilan",
    "Kramatwatu",
    "Lebakwangi",
    "Mancak",
    "Pabuaran",
    "Padarincang",
    "Pamarayan",
    "Petir",
    "Pontang",
    "Pulo Ampel",
    "Tanara",
    "Tirtayasa",
    "Tunjung Teja",
    "Waringin Kurung",
}


def test_kabupaten_serang_has_29_kecamatan_326_desa_and_4425_tps():
    serang = kabupaten_serang()
    assert (serang.code, serang.name) == ("36.04", "Kabupaten Serang")
    assert (len(serang.kecamatan), len(serang.desa), len(serang.tps)) == (29, 326, 4_425)


def test_its_tps_hold_1226201_voters_and_none_more_than_300():
    dpt = [t.dpt for t in kabupaten_serang().tps]
    assert sum(dpt) == 1_226_201
    assert max(dpt) <= 300
    assert min(dpt) >= 150


def test_the_kecamatan_are_the_29_on_the_kpu_list():
    assert {k.name for k in kabupaten_serang().kecamatan} == KPU_KECAMATAN


def test_kecamatan_and_desa_carry_their_kemendagri_codes():
    serang = kabupaten_serang()
    assert serang.kecamatan_by_code["36.04.05"].name == "Kramatwatu"
    assert serang.kecamatan_by_code["36.04.35"].name == "Lebakwangi"
    assert serang.desa_by_code["36.04.08.2009"].name == "Pulo Panjang"  # the island desa


def test_codes_are_well_formed_and_unique():
    serang = kabupaten_serang()
    codes = {
        r"36\.04\.\d\d": [k.code for k in serang.kecamatan],
        r"36\.04\.\d\d\.2\d\d\d": [d.code for d in serang.desa],
        r"3604\d\d2\d{6}": [t.code for t in serang.tps],
    }
    for pattern, found in codes.items():
        assert all(re.fullmatch(pattern, code) for code in found), pattern
        assert len(set(found)) == len(found), pattern


def test_each_tps_code_is_its_desa_code_without_dots_and_its_number():
    for tps in kabupaten_serang().tps:
        assert tps.code == tps.desa.replace(".", "") + f"{tps.number:03d}"


def test_tps_are_numbered_from_one_within_each_desa():
    numbers: dict[str, list[int]] = {}
    for tps in kabupaten_serang().tps:
        numbers.setdefault(tps.desa, []).append(tps.number)
    assert all(found == list(range(1, len(found) + 1)) for found in numbers.values())


def test_every_desa_lies_in_a_known_kecamatan_and_every_tps_in_a_known_desa():
    serang = kabupaten_serang()
    for desa in serang.desa:
        assert desa.kecamatan in serang.kecamatan_by_code
        assert desa.code.startswith(desa.kecamatan + ".")
    for tps in serang.tps:
        assert tps.desa in serang.desa_by_code


def test_every_kecamatan_has_a_desa_and_every_desa_a_tps():
    serang = kabupaten_serang()
    desa_per_kecamatan = Counter(d.kecamatan for d in serang.desa)
    tps_per_desa = Counter(t.desa for t in serang.tps)
    assert all(desa_per_kecamatan[k.code] >= 1 for k in serang.kecamatan)
    assert all(tps_per_desa[d.code] >= 1 for d in serang.desa)


def test_kecamatan_desa_and_tps_come_sorted_by_code():
    serang = kabupaten_serang()
    for level in (serang.kecamatan, serang.desa, serang.tps):
        codes = [item.code for item in level]
        assert codes == sorted(codes)


def test_a_rebuild_gives_the_same_kabupaten():
    first = kabupaten_serang()
    kabupaten_serang.cache_clear()
    second = kabupaten_serang()
    assert second is not first
    assert second == first
