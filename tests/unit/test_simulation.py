"""The demo's simulation tells the truth: the whole chain, gudang to every TPS, with officers,
trucks, surat jalan, counts and seals, and now and then a failure of 2024."""

import io
from collections import Counter
from contextlib import redirect_stderr

from services.console import progress
from services.custody.plan import kit_plan
from services.demo.simulation import ISLANDS_FIRST, body_of, kabupaten_script, scan_script
from services.wilayah import is_tps, kecamatan_of, route_of
from tests.data import SERANG

SCRIPT = scan_script(SERANG)


def steps_of(label: str):
    return [s.step for s in SCRIPT if s.label == label]


def test_a_kotak_suara_goes_all_the_way_to_its_tps_with_people_trucks_papers_counts_and_seals():
    plan = next(p for p in kit_plan(SERANG) if p.item == "kotak_suara" and p.label in
                {s.label for s in SCRIPT if s.step.stage == "tps"})  # fmt: skip
    steps = steps_of(plan.label)
    gudang, kec, desa, tps = route_of(plan.destination)
    assert [(s.action, s.location) for s in steps] == [
        ("pack", gudang), ("seal", gudang), ("dispatch", gudang), ("receive", kec),
        ("dispatch", kec), ("receive", desa), ("dispatch", desa), ("receive", tps),
    ]  # fmt: skip
    assert all(s.details.get("officer") for s in steps)
    load = steps[2].details
    assert load["surat_jalan"] and load["vehicle"].startswith("A ") and load["driver"]
    assert steps[3].details["counted"] == plan.quantity and steps[3].details["witness"]
    assert steps[1].details["seals"] == steps[3].details["seals"]


def test_the_script_goes_one_kecamatan_at_a_time_stage_by_stage_islands_first():
    destination = {p.label: p.destination for p in kit_plan(SERANG)}
    blocks = [kecamatan_of(destination[s.label]) for s in SCRIPT]
    runs = [k for n, k in enumerate(blocks) if n == 0 or k != blocks[n - 1]]
    assert len(runs) == len(set(runs)) == 29  # each kecamatan once, all of it together
    assert runs[:2] == list(ISLANDS_FIRST)  # Pulau Tunda and Pulau Panjang first
    first = [s.step.stage for s in SCRIPT if kecamatan_of(destination[s.label]) == runs[0]]
    assert max(i for i, s in enumerate(first) if s == "load") < first.index("ppk")
    assert max(i for i, s in enumerate(first) if s == "ppk") < first.index("tps")


def test_a_small_rate_of_each_2024_failure_is_in_the_script():
    reasons = Counter(r for s in SCRIPT for r in s.step.details.get("reasons", []))
    assert set(reasons) == {"basah", "kurang", "segel_rusak", "tertukar"}
    total = len({s.label for s in SCRIPT})
    assert all(0 < n < total * 0.03 for n in reasons.values())
    wrong_ppk = [s for s in SCRIPT if s.step.stage == "unload_wrong"]
    assert 0 < len(wrong_ppk) < total * 0.03
    left_at_pps = total - len({s.label for s in SCRIPT if s.step.stage == "tps"})
    assert 0 < left_at_pps < total * 0.03


def test_every_scan_of_the_script_has_its_own_fixed_id_so_a_restart_resends_the_same():
    ids = [s.scan_id for s in SCRIPT]
    assert len(ids) == len(set(ids)) and ids == [s.scan_id for s in scan_script(SERANG)]
    sent = body_of(SCRIPT[0])  # what is posted carries the script's id, not a fresh one
    assert (sent["scan_id"], sent["label"], sent["action"]) == (
        SCRIPT[0].scan_id,
        SCRIPT[0].label,
        SCRIPT[0].step.action,
    )


def test_a_progress_bar_is_drawn_on_a_terminal_only_a_log_gets_the_last_line():
    log = io.StringIO()
    with redirect_stderr(log):
        for done in range(0, 101, 10):
            progress("Mendaftarkan kiriman", done, 100)
    assert log.getvalue() == "Mendaftarkan kiriman: 100/100\n"


def test_a_kabupaten_of_a_wider_demo_moves_in_waves_that_reach_their_tps_early():
    script = list(kabupaten_script(SERANG))
    at_tps = (s.step.action == "receive" and is_tps(s.step.location) for s in script)
    assert next(n for n, there in enumerate(at_tps) if there) < 1_500  # the first wave's
    assert {s.label for s in script} == {plan.label for plan in kit_plan(SERANG)}  # every box
    assert len({s.scan_id for s in script}) == len(script)
