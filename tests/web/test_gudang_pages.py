"""The gudang through the API and its pages: a supplier's CSV notice, a receipt that is short,
a tally, the kabupaten's page, the Berita Acara, time travel, and bad input refused (a
province's page: tests/web/test_many_kabupaten.py)."""

from collections.abc import Iterator
from datetime import UTC, date, datetime

import msgspec
import pytest
from litestar.testing import TestClient

from services.custody.batches import Batches
from services.custody.election import Elections
from services.custody.masterdata import MasterData, parse_tps_csv, tps_csv
from services.demo import nasional
from services.gudang.application import Gudangs
from services.processes import load_places
from services.settings import Settings
from services.views.gudang import GudangView
from tests.web.conftest import Lacak
from tests.web.projection import project_everything
from tests.web.signin import sign_in
from web.app import create_app

NOTE = b"item;ballot_type;dapil;quantity\nsegel;;;5.000\nsurat_suara;DPR;BANTEN II;1000\n"
NOTICE = (
    "/api/v1/gudang/36.04/deliveries.csv"
    "?delivery=T1&stage=1&supplier=PT%20Contoh&expected_on=2024-01-10"
)


def receipt(command_id: str, dpr: int) -> dict:
    return {
        "command_id": command_id,
        "delivery": "T1",
        "occurred_at": "2024-01-10T09:00:00+07:00",
        "lines": [
            {"item": "segel", "quantity": 5000},
            {
                "item": "surat_suara",
                "ballot_type": "DPR",
                "dapil": "BANTEN II",
                "quantity": dpr,
                "damaged": 3,
            },
        ],
        "courier": "Kurir PT Contoh",
        "officer": "Ani",
        "witness": "Budi (Bawaslu)",
        "surat_jalan": "SJ-001",
    }


def tally(sheets: int, damaged: dict[str, int]) -> dict:
    """A morning's sortir-lipat of DPR BANTEN II by one team."""
    return {
        "command_id": "t1",
        "session": "pagi",
        "team": "Tim 1",
        "ballot_type": "DPR",
        "dapil": "BANTEN II",
        "sorted": sheets,
        "damaged": damaged,
    }


def project(lacak: Lacak) -> GudangView:
    view = GudangView(lacak.views)
    view.setup()
    project_everything(lacak.batches, view)
    return view


def test_a_gudang_officer_records_a_short_delivery_and_the_page_flags_it(lacak: Lacak):
    client = lacak.client
    client.cookies.clear()
    sign_in(client, lacak.settings, role="gudang", scope="36.04")
    noticed = client.post(NOTICE, content=NOTE, headers={"content-type": "text/csv"})
    assert noticed.status_code == 201, noticed.text
    again = client.post(NOTICE, content=NOTE, headers={"content-type": "text/csv"})
    assert again.json()["version"] == noticed.json()["version"]  # the same file: recorded once
    answer = client.post("/api/v1/gudang/36.04/receipts", json=receipt("r1", 900))
    assert answer.status_code == 201, answer.text
    kinds = [(m["kind"], m["expected"], m["counted"]) for m in answer.json()["mismatches"]]
    assert kinds == [("kurang", 1000, 900), ("rusak", 0, 3)]
    retried = client.post("/api/v1/gudang/36.04/receipts", json=receipt("r1", 900))
    assert retried.json() == answer.json()
    counted_twice = client.post("/api/v1/gudang/36.04/receipts", json=receipt("r2", 900))
    assert counted_twice.status_code == 422 and "sudah diterima" in counted_twice.json()["detail"]
    sorted_400 = tally(400, {"sobek": 2})
    assert client.post("/api/v1/gudang/36.04/tallies", json=sorted_400).status_code == 201
    project(lacak)

    page = client.get("/gudang?area=36.04")
    assert page.status_code == 200
    assert "Pengiriman T1 (tahap 1): kurang, rusak saat tiba" in page.text
    assert "DPR RI BANTEN II" in page.text and 'href="/gudang/36.04/ba?pengiriman=T1"' in page.text
    assert "Catat pekerjaan gudang" in page.text
    numbers = client.get("/api/v1/gudang?area=36.04").json()
    dpr = next(row for row in numbers["stock"] if row["dapil"] == "BANTEN II")
    assert (dpr["received"], dpr["damaged"], dpr["sorted"], dpr["in_stock"]) == (900, 5, 400, 895)
    record = client.get("/gudang/36.04/ba", params={"pengiriman": "T1"})
    assert record.status_code == 200
    assert "Berita Acara Penerimaan" in record.text and "Budi (Bawaslu)" in record.text
    assert client.get("/gudang/catat").status_code == 200  # the officer's own gudang


def test_bad_input_is_refused_with_a_reason_and_nothing_recorded(lacak: Lacak):
    client = lacak.client
    before = lacak.batches.recorder.max_notification_id()
    bad_csv = b"item,ballot_type,dapil,quantity\nkursi,,,5\nsegel,,,lima\n"
    refused = client.post(NOTICE, content=bad_csv, headers={"content-type": "text/csv"})
    assert refused.status_code == 422
    assert "baris 2: kolom item" in refused.json()["detail"]
    assert "baris 3: jumlah 'lima'" in refused.json()["detail"]
    negative = receipt("r9", -5)
    assert client.post("/api/v1/gudang/36.04/receipts", json=negative).status_code == 400
    ahead = {**receipt("r8", 10), "occurred_at": datetime(2099, 1, 1, tzinfo=UTC).isoformat()}
    assert client.post("/api/v1/gudang/36.04/receipts", json=ahead).status_code == 422
    not_a_gudang = client.post("/api/v1/gudang/36.04.05/receipts", json=receipt("r7", 10))
    assert not_a_gudang.status_code == 404
    no_witness = {
        "command_id": "d1",
        "record": "BA-1",
        "lines": [{"item": "surat_suara", "ballot_type": "DPR", "dapil": "X", "quantity": 5}],
        "officer": "Ketua",
        "witnesses": [" "],
    }
    answer = client.post("/api/v1/gudang/36.04/destructions", json=no_witness)
    assert answer.status_code == 422 and "saksi" in answer.json()["detail"]
    assert lacak.batches.recorder.max_notification_id() == before


def test_an_officer_of_another_gudang_or_a_ppk_may_not_record_here(lacak: Lacak):
    client = lacak.client
    client.cookies.clear()
    sign_in(client, lacak.settings, role="gudang", scope="36.73")
    assert client.post("/api/v1/gudang/36.04/receipts", json=receipt("x", 1)).status_code == 403
    client.cookies.clear()
    sign_in(client, lacak.settings, role="ppk", scope="36.04.05")
    assert client.post("/api/v1/gudang/36.04/receipts", json=receipt("y", 1)).status_code == 403
    page = client.get("/gudang")  # the gudang their boxes come from, live like anyone's
    assert page.status_code == 200 and 'sse-connect="/gudang/stream?area=36.04"' in page.text
    trail = page.text.split('<nav class="trail"', 1)[1].split("</nav>", 1)[0]
    assert "Kabupaten Serang" in trail and "Serang</a>" not in trail  # above them: no link
    assert client.get("/api/v1/gudang", params={"area": "36.04"}).status_code == 200
    client.cookies.clear()
    sign_in(client, lacak.settings, role="bawaslu", scope="36")
    assert client.get("/gudang?area=36.04").status_code == 200  # Bawaslu watches
    assert client.get("/gudang/catat?area=36.04").status_code == 403


def test_an_auditor_sees_the_gudang_as_it_stood_before_a_delivery_was_counted(lacak: Lacak):
    client = lacak.client
    client.post(NOTICE, content=NOTE, headers={"content-type": "text/csv"})
    before = lacak.batches.recorder.max_notification_id()
    client.post("/api/v1/gudang/36.04/receipts", json=receipt("r1", 900))
    then = client.get(f"/waktu/gudang?area=36.04&posisi={before}")
    assert then.status_code == 200 and "pada waktu lampau" in then.text
    assert "belum tiba" in then.text and "sse-connect" not in then.text
    assert "diperbarui langsung" not in then.text  # a replay: nothing moves on it
    assert "Angka diperbarui langsung" in client.get("/gudang?area=36.04").text
    now = client.get("/waktu/gudang?area=36.04")
    assert "belum tiba" not in now.text
    assert "Pengiriman T1 (tahap 1): kurang" in now.text and "Pengiriman T1" not in then.text
    assert client.get("/waktu/gudang?area=36.04&pada=kemarin").status_code == 400


def test_the_same_note_for_another_delivery_is_a_notice_of_its_own(lacak: Lacak):
    client = lacak.client
    first = client.post(NOTICE, content=NOTE, headers={"content-type": "text/csv"})
    other = NOTICE.replace("delivery=T1&stage=1", "delivery=T2&stage=2")
    second = client.post(other, content=NOTE, headers={"content-type": "text/csv"})
    assert second.status_code == 201 and second.json()["version"] == first.json()["version"] + 1
    state = gudangs_of(lacak).state("36.04")
    assert sorted(state.notices) == ["T1", "T2"]


def test_a_dapil_is_written_as_the_plan_writes_it(lacak: Lacak):
    client = lacak.client
    client.post(NOTICE, content=NOTE, headers={"content-type": "text/csv"})
    loose = receipt("r1", 1000)
    loose["lines"][1]["dapil"] = " banten  ii "
    answer = client.post("/api/v1/gudang/36.04/receipts", json=loose)
    assert answer.status_code == 201 and answer.json()["mismatches"] == [
        {"kind": "rusak", "item": "surat_suara", "ballot_type": "DPR", "dapil": "BANTEN II",
         "expected": 0, "counted": 3}
    ]  # fmt: skip


def gudangs_of(lacak: Lacak) -> Gudangs:
    return Gudangs(lacak.batches, lacak.settings.election)


def test_more_destroyed_than_damaged_or_sorted_than_received_is_recorded_and_flagged(
    lacak: Lacak,
):
    client = lacak.client
    client.cookies.clear()
    sign_in(client, lacak.settings, role="gudang", scope="36.04")
    assert client.post(NOTICE, content=NOTE, headers={"content-type": "text/csv"}).is_success
    assert client.post("/api/v1/gudang/36.04/receipts", json=receipt("r1", 1000)).is_success
    dpr = {"item": "surat_suara", "ballot_type": "DPR", "dapil": "BANTEN II"}
    destruction = {
        "command_id": "m1",
        "record": "BA-M-1",
        "lines": [{**dpr, "quantity": 50}],  # 3 were damaged on arrival
        "officer": "Ani",
        "witnesses": ["Budi (Bawaslu)"],
    }
    assert client.post("/api/v1/gudang/36.04/destructions", json=destruction).status_code == 201
    too_many = tally(1500, {})  # 1,000 came in
    assert client.post("/api/v1/gudang/36.04/tallies", json=too_many).status_code == 201
    project(lacak)
    numbers = client.get("/api/v1/gudang?area=36.04").json()
    row = next(row for row in numbers["stock"] if row["dapil"] == "BANTEN II")
    assert (row["damaged"], row["destroyed"], row["in_stock"]) == (3, 50, 950)  # all 50 gone
    page = client.get("/gudang?area=36.04").text
    assert "DPR RI BANTEN II: dimusnahkan 47 melebihi yang tercatat rusak" in page
    assert "DPR RI BANTEN II: disortir 503 melebihi yang diterima" in page


def test_a_destruction_has_its_berita_acara_to_print_linked_from_the_gudang_page(lacak: Lacak):
    client = lacak.client
    client.cookies.clear()
    sign_in(client, lacak.settings, role="gudang", scope="36.04")
    dpr = {"item": "surat_suara", "ballot_type": "DPR", "dapil": "BANTEN II"}
    destruction = {
        "command_id": "m1",
        "record": "BA/M/001",
        "lines": [{**dpr, "quantity": 1234}, {"item": "surat_suara", "ballot_type": "PPWP",
                                              "quantity": 7}],
        "officer": "Ani Suryani",
        "witnesses": ["Budi (Bawaslu)", "Aiptu Cahyo (Polres)"],
        "method": "dicacah",
        "occurred_at": "2024-01-20T10:00:00+07:00",
    }  # fmt: skip
    assert client.post("/api/v1/gudang/36.04/destructions", json=destruction).status_code == 201
    project(lacak)

    page = client.get("/gudang?area=36.04").text
    assert 'href="/gudang/36.04/pemusnahan?nomor=BA%2FM%2F001"' in page
    record = client.get("/gudang/36.04/pemusnahan", params={"nomor": "BA/M/001"})
    assert record.status_code == 200
    text = record.text
    assert "Berita Acara Pemusnahan" in text and "BA/M/001" in text
    assert "DPR RI BANTEN II" in text and "1.234" in text and "PPWP (Presiden)" in text
    assert "1.241" in text  # the lines added up
    assert "dicacah" in text and "20-01-2024" in text
    for person in ("Ani Suryani", "Budi (Bawaslu)", "Aiptu Cahyo (Polres)"):
        assert f'<div class="sign">{person}</div>' in text  # a line to sign on, each
    unknown = client.get("/gudang/36.04/pemusnahan", params={"nomor": "BA/M/999"})
    assert unknown.status_code == 404 and "BA/M/999" in unknown.text
    client.cookies.clear()
    sign_in(client, lacak.settings, role="gudang", scope="36.73")
    assert client.get("/gudang/36.04/pemusnahan", params={"nomor": "BA/M/001"}).status_code == 403


def test_bare_gudang_shows_the_readers_own_area_within_what_is_served(lacak: Lacak):
    client = lacak.client
    client.cookies.clear()
    sign_in(client, lacak.settings, role="bawaslu", scope="36")  # above the kabupaten served
    for asked in ("/gudang", "/gudang?area=36"):  # bare, and as the menu links it
        page = client.get(asked)
        assert page.status_code == 200, (asked, page.text)
        assert "Gudang logistik · Kabupaten Serang" in page.text
    assert client.get("/api/v1/gudang").json()["area"] == "36.04"
    client.cookies.clear()
    sign_in(client, lacak.settings, role="gudang", scope="36.73")  # another kabupaten's
    assert client.get("/gudang").status_code == 403


@pytest.fixture
def banten(web_settings: Settings) -> Iterator[TestClient]:
    """A web serving the province: Kabupaten Serang and Kota Serang imported, a few TPS each."""
    batches = Batches(web_settings.store)
    trees = []
    for code in ("36.04", "36.73"):
        tree = nasional.kabupaten_tree(code)
        trees.append(parse_tps_csv(tps_csv(msgspec.structs.replace(tree, tps=tree.tps[:3]))))
    header, _ = tps_csv(trees[0]).split(b"\n", 1)
    rows = b"".join(tps_csv(tree).split(b"\n", 1)[1] for tree in trees)
    MasterData(batches).import_many(
        web_settings.election, "banten.csv", header + b"\n" + rows, "Rina"
    )
    Elections(batches).declare(web_settings.election, "Pemilu uji", date(2024, 2, 14), "uji")
    batches.close()
    with TestClient(create_app(web_settings, load_places(web_settings))) as client:
        yield client


def test_a_kabupatens_gudang_officer_in_a_province_gets_their_own_gudang(
    banten: TestClient, web_settings: Settings
):
    sign_in(banten, web_settings, role="gudang", scope="36.04")
    page = banten.get("/gudang")
    assert page.status_code == 200, page.text
    assert "Gudang logistik · Kabupaten Serang" in page.text
    assert "Catat pekerjaan gudang" in page.text
    assert banten.get("/gudang/catat").status_code == 200
    assert banten.get("/gudang?area=36.73").status_code == 403  # Kota Serang's is not theirs
    banten.cookies.clear()
    sign_in(banten, web_settings, role="monitor", scope="36", username="kpu-banten")
    assert "Gudang logistik · Provinsi Banten" in banten.get("/gudang").text  # the province's


def test_a_suppliers_contract_is_recorded_once_and_listed_on_the_gudang_page(lacak: Lacak):
    client = lacak.client
    client.cookies.clear()
    sign_in(client, lacak.settings, role="gudang", scope="36.04")
    contract = {
        "command_id": "k1",
        "supplier": "PT Percetakan Contoh",
        "contract": "SP-001/KPU-3604/2024",
        "lines": [
            {"item": "surat_suara", "ballot_type": "DPR", "dapil": "banten ii", "quantity": 2500},
            {"item": "segel", "quantity": 40_000},
        ],
    }
    answer = client.post("/api/v1/gudang/36.04/contracts", json=contract)
    assert answer.status_code == 201, answer.text
    assert answer.json()["event"] == "SupplierContracted"
    again = client.post("/api/v1/gudang/36.04/contracts", json=contract)
    assert again.json() == answer.json()  # sent again: recorded once
    lines = gudangs_of(lacak).history("36.04")[-1].lines
    assert [(x.item, x.dapil, x.quantity) for x in lines] == [
        ("surat_suara", "BANTEN II", 2500),
        ("segel", "", 40_000),
    ]
    blank = {**contract, "command_id": "k2", "supplier": "  "}
    assert client.post("/api/v1/gudang/36.04/contracts", json=blank).status_code == 400
    dpr_of_no_dapil = {"item": "surat_suara", "ballot_type": "DPR", "quantity": 5}
    no_dapil = {**contract, "command_id": "k3", "lines": [dpr_of_no_dapil]}
    refused = client.post("/api/v1/gudang/36.04/contracts", json=no_dapil)
    assert refused.status_code == 422 and "DPR" in refused.json()["detail"]
    project(lacak)
    page = client.get("/gudang?area=36.04").text
    assert "PT Percetakan Contoh: kontrak SP-001/KPU-3604/2024, 2 jenis barang" in page
    form = client.get("/gudang/catat").text
    assert 'data-endpoint="/api/v1/gudang/36.04/contracts"' in form
    client.cookies.clear()
    sign_in(client, lacak.settings)
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert "post" in paths["/api/v1/gudang/{code}/contracts"]
