"""The TPS list import: a good file becomes the kabupaten's tree; a bad one is refused whole."""

from datetime import UTC, datetime

import msgspec
import pytest

from services.custody.masterdata import (
    COLUMNS,
    ImportRefusedError,
    import_events,
    parse_tps_csv,
    tps_csv,
    wilayah_from,
)
from tests.data import SERANG

SMALL = msgspec.structs.replace(SERANG, tps=SERANG.tps[:3])
T = datetime(2023, 12, 1, tzinfo=UTC)


def lines_of(wilayah=SMALL) -> list[str]:
    return tps_csv(wilayah).decode().splitlines()


def refusal(lines: list[str]) -> list[str]:
    with pytest.raises(ImportRefusedError) as refused:
        parse_tps_csv("\n".join(lines).encode())
    return refused.value.faults


def test_the_demo_file_reads_back_as_kabupaten_serang():
    assert parse_tps_csv(tps_csv(SERANG)) == SERANG


def test_a_missing_column_refuses_the_file_at_line_1():
    _, *rows = lines_of()
    without_dpt = [",".join(c for c in COLUMNS if c != "dpt"), *rows]
    assert refusal(without_dpt) == [
        "baris 1: kolom tidak ada: dpt (judul harus dipisah koma, atau titik koma seperti Excel)"
    ]


def test_a_duplicate_tps_is_refused_with_its_line_number_and_the_line_it_was_first_on():
    lines = lines_of()
    assert refusal([*lines, lines[1]]) == [f"baris 5: TPS {SMALL.tps[0].code} sudah ada di baris 2"]


def test_a_file_saved_by_excel_with_indonesian_settings_semicolons_is_read():
    semicolons = "\n".join(line.replace(",", ";") for line in lines_of()).encode()
    assert parse_tps_csv(semicolons) == parse_tps_csv(tps_csv(SMALL))


def test_a_file_not_in_utf8_is_refused_at_the_line_and_column_of_the_first_bad_byte():
    header, first, second, third = lines_of()
    latin1 = "\n".join([header, first, second.replace("Kramatwatu", "Kramatwatü"), third])
    with pytest.raises(ImportRefusedError) as refused:
        parse_tps_csv(latin1.encode("latin-1"))
    column = second.index("Kramatwatu") + len("Kramatwat") + 1
    assert refused.value.faults == [
        f"baris 3: bukan UTF-8 (kolom ke-{column}): simpan berkas sebagai CSV UTF-8 "
        "(Excel: CSV UTF-8)"
    ]


def test_a_negative_dpt_is_called_negative():
    header, first, *rest = lines_of()
    negative = first.split(",")
    negative[COLUMNS.index("dpt")] = "-5"
    assert refusal([header, ",".join(negative), *rest]) == [
        "baris 2: dpt -5 negatif: jumlah pemilih tidak bisa kurang dari 0"
    ]


def test_dpt_over_the_limit_is_refused():
    header, first, *rest = lines_of()
    over = first.split(",")
    over[COLUMNS.index("dpt")] = "301"
    assert refusal([header, ",".join(over), *rest]) == [
        "baris 2: dpt 301 melebihi batas 300 pemilih per TPS"
    ]


def test_codes_that_do_not_fit_together_are_refused_line_by_line():
    header, first, second, third = lines_of()
    bad_code = first.split(",")
    bad_code[COLUMNS.index("kode_tps")] = "3604052001999"
    other_kabupaten = second.replace("36.04", "36.03").replace("3604", "3603")
    assert refusal([header, ",".join(bad_code), other_kabupaten, third]) == [
        "baris 2: kode_tps '3604052001999' tidak sesuai kode desa dan nomor TPS",
        "baris 3: kabupaten 36.03 lain: satu berkas untuk satu kabupaten",
    ]


def test_a_file_that_is_not_utf8_is_refused():
    with pytest.raises(ImportRefusedError, match="bukan UTF-8"):
        parse_tps_csv(b"\xff\xfe" + tps_csv(SMALL))


def test_an_import_is_kept_as_a_summary_and_parts_and_the_latest_import_wins():
    first = import_events(
        SERANG,
        election="pemilu-2024",
        file_name="a.csv",
        file_sha256="aa",
        imported_by="Rina",
        last_version=0,
        at=T,
    )
    assert (first[0].tps_count, first[0].dpt_total) == (4_425, 1_226_201)
    assert len(first) == 1 + 9  # 4,425 TPS in parts of 500
    assert wilayah_from(first) == SERANG
    second = import_events(
        SMALL,
        election="pemilu-2024",
        file_name="b.csv",
        file_sha256="bb",
        imported_by="Rina",
        last_version=len(first),
        at=T,
    )
    assert wilayah_from([*first, *second]) == SMALL


def test_a_row_with_a_field_missing_or_one_too_many_is_refused_not_stored_broken():
    header, first, second, third = lines_of()
    short = first.rsplit(",", 1)[0]  # no dapil_dprd_kab, not even empty
    assert refusal([header, short, second, third + ",extra"]) == [
        "baris 2: jumlah kolom tidak sama dengan judul (12)",
        "baris 4: jumlah kolom tidak sama dengan judul (12)",
    ]


def test_digits_that_are_not_0_to_9_are_refused():
    header, first, *rest = lines_of()
    odd = first.split(",")
    odd[COLUMNS.index("dpt")] = "²"
    assert refusal([header, ",".join(odd), *rest]) == ["baris 2: dpt '²' bukan angka"]


def test_a_fault_is_reported_at_its_physical_line_after_a_blank_one():
    header, first, second, third = lines_of()
    broken = second.replace(",BANTEN II,", ",,")
    assert refusal([header, first, "", broken, third]) == ["baris 4: dapil_dpr kosong"]
