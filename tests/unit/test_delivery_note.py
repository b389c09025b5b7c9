"""A supplier's delivery note as CSV: its lines read whole, or refused whole with each bad line
named; a notice's other fields held to the API's limits."""

import pytest

from events.gudang import StockLine
from services.gudang.decisions import GudangError
from services.gudang.delivery_note import check_notice, parse_delivery_note

HEADER = b"item,ballot_type,dapil,quantity\n"


def refusal(data: bytes) -> str:
    with pytest.raises(GudangError) as refused:
        parse_delivery_note(data)
    return str(refused.value)


def test_quantities_are_plain_digits_or_groups_of_three_between_dots():
    note = HEADER + b"segel,,,1.234.567\ntinta,,,40\nsurat_suara,DPR,Banten  ii,1.000\n"
    assert parse_delivery_note(note) == [
        StockLine(item="segel", quantity=1_234_567),
        StockLine(item="tinta", quantity=40),
        StockLine(item="surat_suara", ballot_type="DPR", dapil="BANTEN II", quantity=1000),
    ]
    semicolons = b"item;ballot_type;dapil;quantity\nsegel;;;5.000\n"
    assert parse_delivery_note(semicolons) == [StockLine(item="segel", quantity=5000)]


def test_a_row_with_more_or_fewer_cells_than_the_header_is_refused_by_its_line():
    said = refusal(HEADER + b"tinta,,,4\nsegel,,,1,000\nformulir,,\n")
    assert "baris 3: jumlah kolom tidak sama dengan judul (4)" in said
    assert "baris 4: jumlah kolom tidak sama dengan judul (4)" in said
    assert "baris 2" not in said


def test_a_note_may_carry_more_columns_of_its_own():
    note = b"item,ballot_type,dapil,quantity,catatan\nsegel,,,5,dus 1\n"
    assert parse_delivery_note(note) == [StockLine(item="segel", quantity=5)]


@pytest.mark.parametrize("quantity", ["1.5", "1.23", "1.2345", "1..000", ".500", "12.", "1 000"])
def test_a_dot_that_does_not_separate_thousands_is_refused_by_its_line(quantity: str):
    said = refusal(HEADER + b"tinta,,,4\n" + f"segel,,,{quantity}\n".encode())
    assert f"baris 3: jumlah {quantity!r}" in said


def test_every_impossible_kind_is_named_by_its_line_in_one_refusal():
    said = refusal(HEADER + b"bilik_suara,DPR,,3\nsegel,,,5\nsurat_suara,DPR,,7\n")
    assert "baris 2: Jenis barang tidak mungkin: bilik_suara DPR" in said
    assert "baris 4: Jenis barang tidak mungkin: surat_suara DPR" in said
    assert "baris 3" not in said


def test_a_line_of_nothing_is_named_by_its_line():
    assert "baris 3: jumlah harus lebih dari 0" in refusal(HEADER + b"segel,,,5\ntinta,,,0\n")


def test_faults_of_every_kind_come_together_each_on_its_own_line():
    said = refusal(HEADER + b"kursi,,,5\nsegel,,,lima\nsegel,,,1,000\nbilik_suara,PPWP,,2\n")
    faults = [line for line in said.splitlines() if line.startswith("baris ")]
    assert [f.split(":")[0] for f in faults] == ["baris 2", "baris 3", "baris 4", "baris 5"]


def test_more_lines_than_the_api_takes_are_refused():
    note = HEADER + b"".join(f"segel,,,{n}\n".encode() for n in range(1, 202))
    assert "paling banyak 200" in refusal(note)


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("delivery", "bad id with spaces", "Nomor pengiriman 'bad id with spaces' tidak sah"),
        ("delivery", "", "Nomor pengiriman '' tidak sah"),
        ("delivery", "T" * 65, "tidak sah"),
        ("stage", 0, "Tahap 0 tidak sah"),
        ("stage", -3, "Tahap -3 tidak sah"),
        ("stage", 100, "Tahap 100 tidak sah"),
        ("supplier", "P" * 121, "Nama penyedia"),
        ("contract", "K" * 121, "Nomor kontrak"),
    ],
)
def test_a_notice_is_held_to_the_apis_limits(field: str, value: object, said: str):
    notice = {"delivery": "SJ/001-2024", "stage": 1, "supplier": "PT Contoh", "contract": ""}
    check_notice(**notice)  # as the API takes it
    with pytest.raises(GudangError) as refused:
        check_notice(**{**notice, field: value})
    assert said in str(refused.value)
