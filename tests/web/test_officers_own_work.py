"""Officers see their own work: the queue, the feed, the charts and the wall of their own area,
with who sent each scan, and links from a count to what it counts."""

import csv
import io

import msgspec
import pytest

from services.custody.batches import BatchPlan
from services.custody.plan import kit_plan
from services.wilayah import kecamatan_of
from tests.data import SERANG
from tests.web.conftest import Lacak
from tests.web.signin import sign_in

KRAMATWATU_TPS = SERANG.tps[0]  # 3604052001001, Kec. Kramatwatu 36.04.05
CIRUAS_TPS = next(t for t in SERANG.tps if t.code.startswith("360409"))  # Kec. Ciruas 36.04.09
PLANS = kit_plan(msgspec.structs.replace(SERANG, tps=(KRAMATWATU_TPS, CIRUAS_TPS)))
KRAMATWATU_BOX = next(p.label for p in PLANS if p.destination == KRAMATWATU_TPS.code)
CIRUAS_BOX = next(p.label for p in PLANS if p.destination == CIRUAS_TPS.code)
KRAMATWATU, CIRUAS = "36.04.05", "36.04.09"


@pytest.fixture
def plans() -> list[BatchPlan]:
    return PLANS


def receive_short(lacak: Lacak, label: str, kecamatan: str, n: int) -> str:
    """A box sent from the gudang and received short at its PPK: an open anomaly there."""
    for body in (
        {"action": "dispatch", "location": "36.04", "to": kecamatan},
        {"action": "receive", "location": kecamatan, "counted": 1, "officer": "Budi"},
    ):
        answer = lacak.client.post("/api/v1/scans", json={
            "scan_id": f"{label}-{n}-{body['action']}", "label": label,
            "occurred_at": "2024-02-12T09:00:00+07:00", **body})  # fmt: skip
        answer.raise_for_status()
    return answer.json()["anomalies"][0]


@pytest.fixture
def both(lacak: Lacak) -> tuple[Lacak, str, str]:
    """An open anomaly in Kramatwatu and one in Ciruas, projected."""
    mine = receive_short(lacak, KRAMATWATU_BOX, KRAMATWATU, 1)
    theirs = receive_short(lacak, CIRUAS_BOX, CIRUAS, 2)
    lacak.project()
    return lacak, mine, theirs


def as_officer(lacak: Lacak, role: str, scope: str):
    lacak.client.cookies.clear()
    return sign_in(lacak.client, lacak.settings, role=role, scope=scope)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("role", "scope"),
    [("ppk", KRAMATWATU), ("pps", KRAMATWATU_TPS.desa), ("kpps", KRAMATWATU_TPS.code)],
)
def test_an_officer_sees_the_queue_and_the_feed_of_their_own_area_only(both, role, scope):
    lacak, mine, theirs = both
    client = as_officer(lacak, role, scope)
    page = client.get("/anomali?status=open,acknowledged")
    assert page.status_code == 200
    assert mine in page.text and theirs not in page.text
    listed = client.get("/api/v1/anomalies").json()["anomalies"]
    assert [a["anomaly_id"] for a in listed] == [mine]
    feed = client.get("/api/v1/activity").json()["activity"]
    assert {item["label"] for item in feed} == {KRAMATWATU_BOX}
    assert KRAMATWATU_BOX in client.get("/aktivitas").text
    assert CIRUAS_BOX not in client.get("/aktivitas").text


def test_a_reader_of_another_kabupaten_sees_none_of_this_ones_lists(both):
    lacak, _, _ = both
    client = as_officer(lacak, "monitor", "36.03")  # Kabupaten Tangerang's monitor
    for path in ("/anomali", "/aktivitas", "/api/v1/anomalies", "/api/v1/activity"):
        assert client.get(path).status_code == 403, path
    assert client.get("/api/v1/anomalies?area=36.04.05").status_code == 403


def test_a_ppk_asking_for_their_own_kecamatan_gets_it_and_another_is_refused(both):
    lacak, mine, _ = both
    client = as_officer(lacak, "ppk", KRAMATWATU)
    own = client.get(f"/api/v1/anomalies?kecamatan={KRAMATWATU}")
    assert [a["anomaly_id"] for a in own.json()["anomalies"]] == [mine]
    other = client.get(f"/api/v1/anomalies?kecamatan={CIRUAS}")
    assert other.status_code == 403
    assert other.json()["detail"] == f"Wilayah {CIRUAS} di luar wilayah Anda ({KRAMATWATU})."


def test_an_officers_board_links_their_own_charts_and_wall_and_both_open(both):
    lacak, _, _ = both
    client = as_officer(lacak, "ppk", KRAMATWATU)
    board = client.get(f"/wilayah/{KRAMATWATU}").text
    assert f'href="/grafik?area={KRAMATWATU}"' in board
    assert f'href="/layar?area={KRAMATWATU}"' in board
    charts = client.get(f"/grafik?area={KRAMATWATU}")
    assert charts.status_code == 200 and "Grafik logistik · Kec. Kramatwatu" in charts.text
    wall = client.get(f"/layar?area={KRAMATWATU}")
    assert wall.status_code == 200 and "Kec. Kramatwatu" in wall.text
    assert "Desa " in client.get(f"/layar/kecamatan/0?area={KRAMATWATU}").text
    assert client.get(f"/grafik?area={CIRUAS}").status_code == 403


def test_a_count_of_anomalies_links_to_the_queue_of_that_area_and_a_label_to_its_timeline(both):
    lacak, _, _ = both
    board = lacak.client.get("/").text
    assert f'href="/anomali?area={KRAMATWATU}&amp;status=open,acknowledged"' in board
    tps = lacak.client.get(f"/tps/{KRAMATWATU_TPS.code}").text
    assert f'<a href="/kotak/{KRAMATWATU_BOX}"' in tps


def test_a_replacement_batch_shows_on_its_anomaly_with_a_link_to_print_its_label(both):
    lacak, mine, _ = both
    row = lacak.client.post(
        f"/anomali/{mine}/selesai", data={"by": "Sari", "replacement": "tambah"}
    )
    assert row.status_code == 200
    replacement = lacak.batches.batch(KRAMATWATU_BOX).replaced_by[0]
    assert f'href="/labels/kotak/{replacement}"' in row.text
    lacak.project()
    queue = lacak.client.get("/anomali?status=resolved").text
    assert f'href="/labels/kotak/{replacement}"' in queue
    sheet = lacak.client.get(f"/labels/kotak/{replacement}")
    assert sheet.status_code == 200 and sheet.text.count('<article class="label">') == 1
    assert replacement in sheet.text


def test_the_account_and_device_that_sent_a_scan_show_on_its_timeline_log_feed_and_csv(both):
    lacak, _, _ = both
    sent_by = lacak.batches.history(KRAMATWATU_BOX)[1]
    assert sent_by.user == "uji-admin"
    timeline = lacak.client.get(f"/kotak/{KRAMATWATU_BOX}").text
    assert "akun uji-admin" in timeline
    assert "akun uji-admin" in lacak.client.get("/aktivitas").text
    log = lacak.client.get("/log").text
    assert "uji-admin" in log
    rows = list(csv.DictReader(io.StringIO(lacak.client.get("/log.csv").text)))
    sent = [r for r in rows if r["label"] == KRAMATWATU_BOX and r["event"] != "BatchRegistered"]
    assert {row["account"] for row in sent} == {"uji-admin"}  # its scans and what they raised
    assert kecamatan_of(KRAMATWATU_TPS.code) == KRAMATWATU
