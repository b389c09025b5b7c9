"""The command line as KPU staff and auditors meet it: clear errors in Bahasa, never a traceback;
the kit plan registered without the demo; help in Bahasa."""

import os
import subprocess
import sys

import pytest

from services.cli import main
from services.custody.batches import Batches
from services.custody.labels import make_label
from services.custody.masterdata import MasterData, tps_csv
from services.custody.plan import kit_plan
from services.demo.bench.notices import file_and_answer
from services.messaging.server import free_port
from services.settings import Settings
from services.views.database import open_views
from services.views.findings import FindingView
from services.views.notices import NoticeView
from tests.data import ONE_TPS, SERANG
from tests.web.projection import project_everything


@pytest.fixture
def environment(store_env, monkeypatch) -> dict[str, str]:
    for key, value in store_env.items():
        monkeypatch.setenv(key, value)
    return store_env


def refused(capsys, *argv: str) -> str:
    """What a refused command says (it exits 2, with no traceback)."""
    with pytest.raises(SystemExit) as stopped:
        main(list(argv))
    assert stopped.value.code == 2
    said = capsys.readouterr().err
    assert "Traceback" not in said
    return said


def test_lacak_plan_registers_every_tps_kit_after_an_import_and_again_adds_nothing(
    environment, settings, capsys, tmp_path
):
    small = tmp_path / "tps.csv"
    small.write_bytes(tps_csv(ONE_TPS))
    main(["import", str(small), "--by", "Rina"])
    assert "Berikutnya: `lacak plan`" in capsys.readouterr().out
    main(["plan"])
    assert (
        f"{len(kit_plan(ONE_TPS))} kiriman terdaftar untuk Kabupaten Serang."
        in capsys.readouterr().out
    )
    main(["plan"])
    assert "sudah terdaftar; tidak ada yang ditambahkan" in capsys.readouterr().out
    batches = Batches(settings.store)
    assert all(batches.exists(p.label) for p in kit_plan(ONE_TPS))
    batches.close()


def test_a_provinces_file_is_written_imported_and_planned_kabupaten_by_kabupaten(
    environment, settings, capsys, tmp_path
):
    banten = tmp_path / "banten.csv"
    main(["wilayah", str(banten), "--wilayah", "36"])
    assert "8 kabupaten/kota, 35.716 TPS" in capsys.readouterr().out
    main(["import", str(banten), "--by", "Rina"])
    assert "8 kabupaten/kota, 35.716 TPS, DPT 8.842.646" in capsys.readouterr().out
    main(["plan", "--wilayah", "36.73"])  # one of them: Kota Serang
    assert "11.970 kiriman terdaftar untuk Kota Serang." in capsys.readouterr().out
    batches = Batches(settings.store)
    assert len(MasterData(batches).kabupaten(settings.election)) == 8
    assert batches.exists(make_label("36.73", 1))
    assert not batches.exists(make_label("36.04", 1))  # Kabupaten Serang's plan: not asked for
    batches.close()
    assert "Wilayah 99 tidak dikenal" in refused(capsys, "wilayah", str(banten), "--wilayah", "99")
    assert "di wilayah 32" in refused(capsys, "plan", "--wilayah", "32")


def test_bad_input_on_the_command_line_is_answered_in_bahasa_without_a_traceback(
    environment, capsys, tmp_path
):
    assert "tidak bisa dibaca" in refused(
        capsys, "import", str(tmp_path / "tidak-ada.csv"), "--by", "R"
    )
    assert "tidak bisa dibaca" in refused(capsys, "verify", "--export", str(tmp_path / "x.jsonl"))
    broken = tmp_path / "potong.jsonl"
    broken.write_text('{"position": 1, "event_hash": "ab", "chain": "cd", "event": {"type"')
    assert "tidak utuh: baris 1" in refused(capsys, "verify", "--export", str(broken))
    out = str(tmp_path / "tidak-ada" / "serang.jsonld")
    assert "Folder" in refused(capsys, "export-epcis", "--out", out)
    assert "Folder" in refused(capsys, "export", "--out", out)
    said = refused(capsys, "replay", "--until", "kemarin")  # argparse's refusal, in Bahasa
    assert "waktu 'kemarin' tidak dikenali: tulis seperti 2024-02-12T10:00" in said
    assert "cara pakai:" in said and "kesalahan" in said
    for days in ("0", "-3", "99999", "²"):  # a token is to work 1 to 3650 days, or until revoked
        said = refused(capsys, "device", "issue", "--username", "tidak-ada", "--days", days)
        assert "Masa berlaku token: 1 sampai 3650 hari" in said


def test_an_export_for_a_kecamatan_that_does_not_exist_is_refused_not_empty(
    environment, settings, capsys, tmp_path
):
    batches = Batches(settings.store)
    MasterData(batches).import_file("pemilu-2024", "tps.csv", tps_csv(SERANG), "Rina")
    batches.close()
    said = refused(
        capsys, "export-epcis", "--out", str(tmp_path / "x.jsonld"), "--kecamatan", "99.99"
    )
    assert "Kecamatan '99.99' tidak dikenal." in said


def test_keeping_checkpoints_from_a_nats_without_the_ledgers_stream_fails_loudly(
    environment, capsys, tmp_path
):
    said = refused(capsys, "checkpoints", "--out", str(tmp_path / "kept.json"))
    assert "Aliran LACAK_LEDGER tidak ada" in said
    assert not (tmp_path / "kept.json").exists()


def test_checkpoints_from_a_nats_that_is_not_there_say_so(
    environment, monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv("LACAK_NATS_URL", f"nats://127.0.0.1:{free_port()}")
    assert "tidak bisa dihubungi" in refused(
        capsys, "checkpoints", "--out", str(tmp_path / "k.json")
    )


def test_the_help_speaks_bahasa(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    said = capsys.readouterr().out
    assert said.startswith("cara pakai: lacak")
    assert "perintah" in said and "tampilkan bantuan ini lalu keluar" in said
    with pytest.raises(SystemExit):
        main(["import"])
    assert "argumen ini wajib diisi" in capsys.readouterr().err


def test_lacak_web_with_postgresql_unreachable_says_so_within_seconds(tmp_path):
    env = {**os.environ, "PERSISTENCE_MODULE": "eventsourcing.postgres",
           "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": str(free_port()),
           "POSTGRES_DBNAME": "test", "POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "",
           "LACAK_DATA_DIR": str(tmp_path / "data")}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "services", "web"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "PostgreSQL 127.0.0.1" in done.stderr and "tidak bisa dihubungi" in done.stderr
    assert "Traceback" not in done.stderr


def test_findings_and_notices_are_printed_and_a_bad_area_refused(environment, capsys, tmp_path):
    settings = Settings.from_env(environment)
    small = tmp_path / "tps.csv"
    small.write_bytes(tps_csv(ONE_TPS))
    main(["import", str(small), "--by", "Rina"])
    capsys.readouterr()
    [number] = file_and_answer(settings, 1)
    batches, views = Batches(settings.store), open_views(settings)
    try:
        for view in (FindingView(views), NoticeView(views)):
            view.setup()
            project_everything(batches, view)
    finally:
        batches.close()
        views.close()
    main(["findings", "--wilayah", "36.04"])
    listed = capsys.readouterr().out
    assert number in listed and "dijawab" in listed
    main(["notices"])
    assert "Pemberitahuan tercatat: 2" in capsys.readouterr().out
    assert "tidak dikenal" in refused(capsys, "findings", "--wilayah", "36.04;x")
    # Well formed but not in the master data (a typo): refused, not "no findings here".
    assert "36.40 tidak dikenal" in refused(capsys, "findings", "--wilayah", "36.40")
    assert "36.40 tidak dikenal" in refused(capsys, "gudang", "stock", "--wilayah", "36.40")
