"""The election record: declared once, moved by a new declaration, read by the H-1 check."""

from datetime import date

import pytest

from services.cli import main
from services.custody.batches import Batches
from services.custody.election import Election, Elections
from services.custody.masterdata import MasterData, tps_csv
from services.custody.plan import kit_plan
from services.demo.serang import kabupaten_serang
from tests.data import REGISTERED


def test_the_latest_declaration_of_an_election_stands(settings):
    batches = Batches(settings.store)
    assert Elections(batches).get("pemilu-2024") is None
    Elections(batches).declare("pemilu-2024", "Pemilihan Umum 2024", date(2024, 2, 14), "Rina")
    Elections(batches).declare("pemilu-2024", "Pemilihan Umum 2024", date(2024, 2, 15), "Rina")
    assert Elections(batches).get("pemilu-2024") == Election(
        election="pemilu-2024", name="Pemilihan Umum 2024", voting_day=date(2024, 2, 15)
    )
    assert Elections(batches).get("pilkada-2024") is None
    batches.close()


def test_check_late_takes_the_deadline_from_the_election_record(
    store_env, settings, monkeypatch, capsys
):
    for key, value in store_env.items():
        monkeypatch.setenv(key, value)
    serang = kabupaten_serang()
    batches = Batches(settings.store, wilayah=serang)
    MasterData(batches).import_file("pemilu-2024", "tps.csv", tps_csv(serang), "Rina")
    plans = [p for p in kit_plan(serang) if p.destination.startswith("3604012001")]  # one desa
    batches.register(plans, at=REGISTERED)
    batches.close()
    with pytest.raises(SystemExit):
        main(["check-late"])
    assert "belum dicatat" in capsys.readouterr().err
    main(["election", "--name", "Pemilihan Umum 2024", "--voting-day", "2024-02-14", "--by", "R"])
    assert "sebelum 14-02-2024 00:00 WIB" in capsys.readouterr().out
    main(["check-late"])
    assert "pada batas 14-02-2024 00:00 WIB" in capsys.readouterr().out
    batches = Batches(settings.store, wilayah=serang)
    late = [a for p in plans for a in batches.batch(p.label).anomalies.values()]
    assert [a.kind for a in late] == ["late"] * len(plans)
    batches.close()
