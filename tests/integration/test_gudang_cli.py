"""`lacak gudang` as a gudang's staff meet it: a supplier's delivery note refused on the command
line for what the API refuses it, nothing recorded; the stock as the gudang page reads it."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from events.gudang import ReceivedLine, StockLine
from services.cli import main
from services.custody.batches import Batches
from services.custody.masterdata import tps_csv
from services.gudang.application import Gudangs
from services.gudang.decisions import Said
from services.views.database import open_views
from services.views.gudang import GudangView
from tests.data import ONE_TPS
from tests.integration.test_cli import refused
from tests.web.projection import project_everything

NOTE = b"item,ballot_type,dapil,quantity\nsegel,,,5\n"


@pytest.fixture
def environment(store_env, monkeypatch) -> dict[str, str]:
    """The store's environment, set for `main` as a shell sets it for `lacak`."""
    for key, value in store_env.items():
        monkeypatch.setenv(key, value)
    return store_env


def imported(tmp_path: Path, capsys) -> None:
    """Kabupaten Serang's master data (one TPS), as KPU staff import it."""
    small = tmp_path / "tps.csv"
    small.write_bytes(tps_csv(ONE_TPS))
    main(["import", str(small), "--by", "Rina"])
    capsys.readouterr()


def notice(note: Path, **changed: str) -> list[str]:
    """`lacak gudang notice` as the API would take it, but for what is changed."""
    flags = {
        "--kabupaten": "36.04",
        "--delivery": "T1",
        "--stage": "1",
        "--supplier": "PT Contoh",
        "--expected-on": "2024-01-10",
        "--by": "Rina",
    }
    flags |= {f"--{name.replace('_', '-')}": value for name, value in changed.items()}
    return ["gudang", "notice", str(note), *(x for pair in flags.items() for x in pair)]


def test_a_notice_the_api_refuses_is_refused_on_the_command_line_and_nothing_recorded(
    environment, settings, capsys, tmp_path
):
    imported(tmp_path, capsys)
    note = tmp_path / "sj.csv"
    note.write_bytes(NOTE)
    batches = Batches(settings.store)
    before = batches.recorder.max_notification_id()
    assert "Wilayah 36.99 tidak dikenal" in refused(capsys, *notice(note, kabupaten="36.99"))
    assert "Wilayah 99.99 tidak dikenal" in refused(capsys, *notice(note, kabupaten="99.99"))
    assert "36 bukan kode kabupaten/kota" in refused(capsys, *notice(note, kabupaten="36"))
    said = refused(capsys, *notice(note, delivery="bad id with spaces"))
    assert "Nomor pengiriman 'bad id with spaces' tidak sah" in said
    assert "Tahap 0 tidak sah: 1 sampai 99" in refused(capsys, *notice(note, stage="0"))
    assert "Tahap -3 tidak sah" in refused(capsys, *notice(note, stage="-3"))
    assert batches.recorder.max_notification_id() == before
    main(notice(note, delivery="SJ/001-2024"))
    assert "Pemberitahuan SJ/001-2024 (tahap 1) dicatat" in capsys.readouterr().out
    assert list(Gudangs(batches, settings.election).state("36.04").notices) == ["SJ/001-2024"]
    batches.close()


def test_a_note_with_bad_lines_is_refused_naming_each_and_nothing_recorded(
    environment, settings, capsys, tmp_path
):
    imported(tmp_path, capsys)
    note = tmp_path / "sj.csv"
    note.write_bytes(
        b"item,ballot_type,dapil,quantity\nsegel,,,1,000\nsegel,,,1.5\n"
        b"bilik_suara,DPR,,3\nsurat_suara,DPR,,7\ntinta,,,40\n"
    )
    said = refused(capsys, *notice(note))
    assert "baris 2: jumlah kolom tidak sama dengan judul (4)" in said
    assert "baris 3: jumlah '1.5'" in said
    assert "baris 4: Jenis barang tidak mungkin: bilik_suara DPR" in said
    assert "baris 5: Jenis barang tidak mungkin: surat_suara DPR" in said
    assert "baris 6" not in said
    batches = Batches(settings.store)
    assert Gudangs(batches, settings.election).state("36.04").notices == {}
    batches.close()


def test_ballots_of_a_dapil_not_planned_here_are_printed_tertukar_not_waiting(
    environment, settings, capsys, tmp_path
):
    imported(tmp_path, capsys)
    main(["gudang", "plan", "--by", "Rina"])
    batches, views = Batches(settings.store), open_views(settings)
    try:
        gudangs, at = Gudangs(batches, settings.election), datetime(2024, 1, 10, tzinfo=UTC)
        planned = StockLine(item="surat_suara", ballot_type="DPR", dapil="BANTEN II", quantity=9)
        gudangs.announce(
            "36.04",
            Said(command_id="n1", occurred_at=at),
            delivery="T1",
            stage=1,
            supplier="PT Contoh",
            expected_on=date(2024, 1, 10),
            lines=[planned],
        )
        other = ReceivedLine(item="surat_suara", ballot_type="DPR", dapil="BANTEN I", quantity=9)
        answer = gudangs.receive(
            "36.04",
            Said(command_id="r1", occurred_at=at),
            delivery="T1",
            lines=[other],
            courier="Kurir",
            officer="Ani",
        )
        assert "tertukar" in {m.kind for m in answer.mismatches}
        view = GudangView(views)
        view.setup()
        project_everything(batches, view)
    finally:
        batches.close()
        views.close()
    capsys.readouterr()
    main(["gudang", "stock", "--wilayah", "36.04"])
    [row] = [x for x in capsys.readouterr().out.splitlines() if "BANTEN I " in f"{x} "]
    assert row.endswith("  dapil tertukar")  # as the gudang page says it, not "belum"
