"""`lacak bench nation`, shortened to one kota: every phase runs and counts what it should."""

from services.demo import nasional
from services.demo.bench.nation import bench_nation


def test_the_nation_benchmark_runs_its_phases_on_one_kota(capsys):
    kota = nasional.kabupaten_list()["36.73"]
    phases = bench_nation("sqlite", "36.73")
    counts = [phase.count for phase in phases]
    assert counts[:2] == [kota.tps, kota.tps * 7]  # TPS imported, batches registered
    parts = -(-kota.tps // 500)  # the tree in parts of 500 TPS
    assert counts[2] == kota.tps * 7 + 1 + parts + 1  # with the import's and the index's events
    assert [p.what.split(": ")[1] for p in phases[3:7]] == [
        "nasional (nasional)", "provinsi 36", "kabupaten 36.73", "kecamatan 36.73.01"
    ]  # fmt: skip
    # `lacak web` on that store: one kota's board starts at the kota, then the sweep
    pages, replays = phases[7:10], phases[10:]
    assert [p.what for p in pages] == [
        "web page GET /",
        "web page GET /wilayah/36.73.01",
        "web pages, every province and kabupaten",
    ]
    assert [p.count for p in pages] == [50, 50, 1]
    assert all(0 < p.p50_ms <= p.p99_ms and p.peak_mb > 0 for p in pages)
    assert [(p.what.split(": ")[0], p.count) for p in replays] == [
        ("time travel replay nasional (nasional)", counts[2]),
        ("time travel replay kabupaten 36.73", counts[2]),  # the kota holds every batch
    ]
    said = capsys.readouterr().out
    assert "40 million events at" in said and "minutes to rebuild" in said


def test_the_board_rebuilt_in_parts_applies_each_event_once(capsys):
    phases = bench_nation("sqlite", "36.73,51.71", parts=2)
    whole = next(p for p in phases if p.what.startswith("board projected"))
    parts = next(p for p in phases if p.what.startswith("board in 2 parts"))
    assert parts.count == whole.count  # every event applied by exactly one part
    said = capsys.readouterr().out
    assert "parts: 36 | 51" in said or "parts: 51 | 36" in said
