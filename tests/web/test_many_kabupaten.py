"""One web serving three kabupaten/kota of two provinces, as `lacak web` does when several are
imported: the nation's board, a province's, an officer's own area at `/`, the scopes of KPU RI,
KPU Provinsi and a PPK, the place picker, and each province's H-1 on its own clock."""

import json
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import msgspec
import pytest
from litestar.testing import TestClient

from events.batch import BatchEvent
from services.audit.replay import bound_for, decoded, replay_apart, replay_store, settled_replay
from services.custody.atlas import Atlas
from services.custody.batch import Scan
from services.custody.batches import Batches
from services.custody.election import Elections
from services.custody.masterdata import MasterData, parse_tps_csv, tps_csv
from services.custody.plan import ballots_for, kit_plan, register_plan
from services.demo import nasional
from services.demo.first_stage import first_stage
from services.demo.simulation import body_of, scan_body, scan_script
from services.gudang.application import Gudangs
from services.processes import load_places
from services.settings import Settings
from services.store.notifications import read_store
from services.views.anomalies.view import AnomalyView
from services.views.board.view import BoardView
from services.views.database import open_views
from services.views.eventlog import EventLogView
from services.views.gudang import GudangView
from services.wilayah import WITA, Wilayah, kecamatan_of, within
from tests.web.projection import project_everything
from tests.web.signin import sign_in
from web.app import create_app

TPS_EACH = 12
KABUPATEN = ("36.04", "36.73", "51.71")  # Kabupaten Serang, Kota Serang (Banten); Denpasar (Bali)


def first_tps(code: str) -> Wilayah:
    tree = nasional.kabupaten_tree(code)
    return parse_tps_csv(tps_csv(msgspec.structs.replace(tree, tps=tree.tps[:TPS_EACH])))


class Country:
    """The three imported from one file, their kits registered, a part of each distributed."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.trees = [first_tps(code) for code in KABUPATEN]
        self.batches = Batches(settings.store)
        master_data = MasterData(self.batches)
        rows = b"".join(tps_csv(tree).split(b"\n", 1)[1] for tree in self.trees)
        header = tps_csv(self.trees[0]).split(b"\n", 1)[0] + b"\n"
        master_data.import_many(settings.election, "tiga.csv", header + rows, "Rina")
        Elections(self.batches).declare(settings.election, "Pemilu uji", date(2024, 2, 14), "uji")
        self.batches.wilayah = Atlas(master_data, settings.election)
        for tree in self.trees:
            register_plan(self.batches, tree)
            for scripted in scan_script(tree)[: TPS_EACH * 10]:
                self.batches.scan(msgspec.convert(body_of(scripted), Scan))
        for stray, elsewhere in ((1, 0), (0, 1)):  # a box of each Serang found in the other
            label = kit_plan(self.trees[stray])[-1].label
            at = self.trees[elsewhere].kecamatan[0].code
            self.batches.scan(msgspec.convert(scan_body(label, "receive", at), Scan))
        self.views = open_views(settings)
        self.board = BoardView(self.views)
        self.board.setup()
        self.anomalies = AnomalyView(self.views)
        self.event_log = EventLogView(self.views, self.batches.wilayah)
        for view in (self.anomalies, self.event_log):
            view.setup()
        project_everything(self.batches, self.board, self.anomalies, self.event_log)

    def client(self) -> TestClient:
        return TestClient(create_app(self.settings, load_places(self.settings)))

    def close(self) -> None:
        self.views.close()
        self.batches.close()


@pytest.fixture
def country(settings: Settings) -> Iterator[Country]:
    found = Country(settings)
    yield found
    found.close()


def test_several_kabupaten_are_served_from_the_area_they_share(country):
    places = load_places(country.settings)
    assert isinstance(places, Atlas) and places.code == ""  # two provinces: the nation
    assert places.children_of("") == ["36", "51"]
    assert places.children_of("36") == ["36.04", "36.73"]
    assert places.short_name("36") == "Banten" and places.short_name("51.71") == "Kota Denpasar"


def test_kpu_ri_sees_the_nation_and_each_province_adds_up_its_kabupaten(country):
    with country.client() as client:
        sign_in(client, country.settings, "monitor", "", username="kpu-ri")
        page = client.get("/")
        assert page.status_code == 200, page.text
        assert "Nasional" in page.text and "Banten" in page.text and "Bali" in page.text
        nation = client.get("/api/v1/board").json()
        assert nation["level"] == "nasional"
        provinces = {row["code"]: row for row in nation["provinsi"]}
        assert set(provinces) == {"36", "51"}
        banten = client.get("/api/v1/board", params={"area": "36"}).json()
        kabupaten = {row["code"]: row for row in banten["kabupaten"]}
        assert set(kabupaten) == {"36.04", "36.73"}
        for column in ("planned", "packed", "dispatched", "received", "gudang", "transit"):
            assert provinces["36"][column] == sum(k[column] for k in kabupaten.values())
            assert banten["provinsi"][column] == provinces["36"][column]
            assert nation["nasional"][column] == sum(p[column] for p in provinces.values())
        assert provinces["36"]["planned"] == 2 * TPS_EACH * 7  # the kit of each TPS, both
        assert provinces["36"]["packed"] > 0  # the distribution moved
        for area in ("36", "36.73", "51.71"):
            assert client.get("/wilayah/" + area).status_code == 200, area
        assert client.get("/grafik", params={"area": "36"}).status_code == 200
        assert client.get("/layar", params={"area": ""}).status_code == 200
        assert client.get("/wilayah/52").status_code == 404  # nothing of it imported


def test_each_province_keeps_its_own_h1(country):
    with country.client() as client:
        sign_in(client, country.settings, "monitor", "", username="kpu-ri")
        bali = client.get("/api/v1/board", params={"area": "51.71"}).json()
        banten = client.get("/api/v1/board", params={"area": "36.04"}).json()
    bali_h1 = datetime.fromisoformat(bali["deadline"])
    banten_h1 = datetime.fromisoformat(banten["deadline"])
    assert bali_h1.utcoffset() == WITA.utcoffset(None)
    assert banten_h1 - bali_h1 == timedelta(hours=1)  # midnight in Bali comes an hour sooner


def test_kpu_provinsi_and_a_ppk_land_on_their_own_area(country):
    with country.client() as client:
        sign_in(client, country.settings, "monitor", "36", username="kpu-banten")
        home = client.get("/", follow_redirects=False)
        assert home.status_code == 303 and home.headers["location"] == "/wilayah/36"
        assert "Kota Serang" in client.get("/wilayah/36").text
        assert client.get("/wilayah/36.73").status_code == 200
        assert client.get("/wilayah/51").status_code == 403  # Bali is not theirs
        assert client.get("/api/v1/board", params={"area": "51.71"}).status_code == 403
    kecamatan = country.trees[1].kecamatan[0].code
    with country.client() as client:
        sign_in(client, country.settings, "ppk", kecamatan, username="ppk-kota-serang")
        home = client.get("/", follow_redirects=False)
        assert home.status_code == 303 and home.headers["location"] == f"/wilayah/{kecamatan}"
        assert client.get("/wilayah/36").status_code == 403


def test_the_place_picker_and_a_scan_reach_every_kabupaten(country):
    denpasar = country.trees[2]
    with country.client() as client:
        sign_in(client, country.settings)  # an admin: the nation
        gudang = client.get("/api/v1/places", params={"q": "denpasar"}).json()
        assert gudang == [{"code": "51.71", "name": "gudang Kota Denpasar", "level": "gudang"}]
        inside = client.get("/api/v1/places", params={"q": "5171"}).json()
        assert inside and all(p["code"].replace(".", "").startswith("5171") for p in inside)
        tps = denpasar.tps[-1].code
        assert client.get(f"/api/v1/places/{tps}").json()["level"] == "tps"
        assert client.get("/api/v1/places/52.01").status_code == 404
        label = client.get("/api/v1/board", params={"area": tps}).json()["batches"][0]["label"]
        scan = client.post(
            "/api/v1/scans",
            json={
                "scan_id": "uji-denpasar-1",
                "label": label,
                "action": "receive",
                "location": denpasar.kecamatan[0].code,
                "occurred_at": datetime.now().astimezone().isoformat(),
            },
        )
        assert scan.status_code in (200, 201), scan.text


def test_a_province_queue_offers_its_kabupaten_and_filters_by_one(country):
    with country.client() as client:
        sign_in(client, country.settings, "monitor", "36", username="kpu-banten")
        queue = client.get("/anomali")
        assert queue.status_code == 200
        assert '<option value="36.73">Kota Serang</option>' in queue.text
        assert "Kota Denpasar" not in queue.text  # another province's: not theirs
        every = client.get("/api/v1/anomalies").json()["anomalies"]
        assert {row["destination"][:4] for row in every} == {"3604", "3673"}
        one = client.get("/api/v1/anomalies", params={"area": "36.73"}).json()["anomalies"]
        assert one and all(row["destination"].startswith("3673") for row in one)
        assert client.get("/api/v1/anomalies", params={"area": "51.71"}).status_code == 403


def test_time_travel_replays_a_province_and_the_nation(country):
    with country.client() as client:
        sign_in(client, country.settings, "auditor", "", username="auditor-ri")
        nation = client.get("/waktu", params={"posisi": "999999"})
        assert nation.status_code == 200, nation.text
        assert "Banten" in nation.text and "Bali" in nation.text
        banten = client.get("/waktu", params={"posisi": "999999", "area": "36"})
        assert banten.status_code == 200 and "Kota Serang" in banten.text


def test_the_event_log_and_the_export_filter_by_a_province_or_a_kabupaten(country):
    with country.client() as client:
        sign_in(client, country.settings, "auditor", "", username="auditor-ri")
        page = client.get("/log")
        assert page.status_code == 200
        assert '<option value="51">Provinsi Bali</option>' in page.text  # the nation's provinces
        bali = client.get("/log.csv", params={"kecamatan": "51"}).text.splitlines()[1:]
        kota = client.get("/log.csv", params={"kecamatan": "36.73"}).text.splitlines()[1:]
        assert bali and kota
        assert all(",5171" in row or ",51.71" in row for row in bali)
        assert not set(bali) & set(kota)
        export = client.get("/api/v1/export/epcis", params={"kecamatan": "36.73"}).json()
        bound = export["epcisBody"]["eventList"]
        boxes = [json.dumps(event) for event in bound]  # a box's label begins with its kabupaten
        assert boxes and all("batch:3673-" in box for box in boxes)
        assert not any("batch:3604-" in box or "batch:5171-" in box for box in boxes)
        assert client.get("/log.csv", params={"kecamatan": "52"}).status_code == 422


def test_a_kabupaten_time_travel_replays_that_kabupaten_only(country):
    whole, _ = replay_store(country.settings)
    kota, moment = replay_store(country.settings, area="36.73")
    assert {row.area for row in kota.rows("kabupaten")} == {"36.73"}  # nothing else in memory
    assert kota.area("36.73") == whole.area("36.73")  # and that one as the whole replay has it
    stored = list(read_store(country.settings))
    assert 0 < moment.events < len(stored)
    for area in ("36.73", "36", "36.73.01", "51"):  # passed over undecoded: exactly the others'
        kept = [position for position, _ in bound_for(stored, area)]
        needed = [
            position
            for position, event in decoded(stored)
            if not isinstance(event, BatchEvent) or within(area, event.destination)
        ]
        assert kept == needed and len(needed) < len(stored)


def test_the_berita_acara_of_a_load_opens_for_its_own_kabupaten(country):
    kota = country.trees[1]
    label = kit_plan(kota)[-2].label
    load = {"surat_jalan": "SJ-UJI-3673", "vehicle": "A 1 B", "driver": "Budi", "officer": "Asep"}
    dispatch = scan_body(label, "dispatch", "36.73", to=kota.kecamatan[0].code, **load)
    country.batches.scan(msgspec.convert(dispatch, Scan))
    project_everything(country.batches, country.board)
    with country.client() as client:
        sign_in(client, country.settings, "gudang", "36.73", username="gudang-kota")
        page = client.get("/shipments/SJ-UJI-3673")
        assert page.status_code == 200 and "KOTA SERANG" in page.text
    with country.client() as client:
        sign_in(client, country.settings, "gudang", "36.04", username="gudang-kabupaten")
        assert client.get("/shipments/SJ-UJI-3673").status_code == 403  # another KPU's load


def test_a_board_page_gives_its_h1_on_its_own_provinces_clock(country):
    with country.client() as client:
        sign_in(client, country.settings, "monitor", "", username="kpu-ri")
        assert "14-02-2024 00:00 WITA" in client.get("/wilayah/51.71").text
        assert "14-02-2024 00:00 WIB" in client.get("/wilayah/36.04").text


def test_the_gudang_of_a_province_and_the_nation_adds_up_each_kabupatens(country):
    gudangs = Gudangs(country.batches, country.settings.election)
    for tree in country.trees:
        first_stage(gudangs, tree, date(2024, 2, 14))
    view = GudangView(country.views)
    view.setup()
    project_everything(country.batches, view)
    with country.client() as client:
        sign_in(client, country.settings, "monitor", "36", username="kpu-banten")
        banten = client.get("/api/v1/gudang", params={"area": "36"}).json()
        assert [k["code"] for k in banten["kabupaten"]] == ["36.04", "36.73"]
        each = [
            client.get("/api/v1/gudang", params={"area": code}).json()
            for code in ("36.04", "36.73")
        ]
        for row in banten["stock"]:
            kinds = [
                r for one in each for r in one["stock"]
                if (r["item"], r["ballot_type"]) == (row["item"], row["ballot_type"])
            ]  # fmt: skip
            for column in ("planned", "received", "damaged", "replaced", "need", "packed"):
                assert row[column] == sum(r[column] for r in kinds), (row["item"], column)
            assert row["dapil"] == ""  # a province's rows add the dapil up
        page = client.get("/gudang", params={"area": "36"})
        assert page.status_code == 200 and "Per kabupaten/kota" in page.text
        assert "Kota Serang: Pengiriman T3 (tahap 3): kurang" in page.text
        assert client.get("/gudang", params={"area": "51.71"}).status_code == 403  # not Banten's
        client.cookies.clear()
        sign_in(client, country.settings, "monitor", "", username="kpu-ri")
        nation = client.get("/api/v1/gudang", params={"area": ""}).json()
        assert [k["code"] for k in nation["kabupaten"]] == ["36.04", "36.73", "51.71"]
        ppwp = next(r for r in nation["stock"] if r["ballot_type"] == "PPWP")
        assert ppwp["planned"] == sum(
            ballots_for(t.dpt) for tree in country.trees for t in tree.tps
        )


def trail_of(page: str) -> str:
    return re.search(r'<nav class="trail".*?</nav>', page, re.S)[0]


def test_a_ppks_trail_names_the_areas_above_it_and_links_only_those_it_may_open(country):
    tps = country.trees[1].tps[0]
    kecamatan, desa = kecamatan_of(tps.code), tps.desa
    linked = {  # each page's trail: what it links to
        f"/wilayah/{kecamatan}": [],
        f"/grafik?area={kecamatan}": [f"/wilayah/{kecamatan}"],
        f"/tps/{tps.code}": [f"/wilayah/{kecamatan}", f"/wilayah/{desa}"],
    }
    with country.client() as client:
        sign_in(client, country.settings, "ppk", kecamatan, username="ppk-trail")
        for path, links in linked.items():
            trail = trail_of(client.get(path).text)
            assert "Provinsi Banten" in trail and "Kota Serang" in trail, path
            assert re.findall(r'<a href="([^"]+)"', trail) == links, path
            for link in links:
                assert client.get(link).status_code == 200, (path, link)
    with country.client() as client:
        sign_in(client, country.settings, "monitor", "", username="kpu-ri")
        trail = trail_of(client.get(f"/wilayah/{kecamatan}").text)
        assert re.findall(r'<a href="([^"]+)"', trail) == ["/", "/wilayah/36", "/wilayah/36.73"]


def test_a_province_auditors_time_travel_trail_links_only_within_the_province(country):
    kecamatan = country.trees[1].kecamatan[0].code
    with country.client() as client:
        sign_in(client, country.settings, "auditor", "36", username="auditor-banten")
        trail = trail_of(client.get("/waktu", params={"area": kecamatan}).text)
        assert "Nasional" in trail
        links = re.findall(r'<a href="([^"]+)"', trail)
        assert links == ["/waktu?&amp;area=36", "/waktu?&amp;area=36.73"]
        for link in links:
            assert client.get(link.replace("&amp;", "&")).status_code == 200


def test_a_refusal_of_an_area_outside_the_readers_names_the_area(country):
    bali = country.trees[2].kecamatan[0].code
    with country.client() as client:
        sign_in(client, country.settings, "auditor", "36", username="auditor-banten")
        for path, area in (("/waktu?area=51", "51"), (f"/log?kecamatan={bali}", bali)):
            page = client.get(path, headers={"accept": "text/html"})
            assert page.status_code == 403, path
            assert f"Wilayah {area} di luar wilayah Anda (36)." in page.text
        assert client.get("/log", params={"kecamatan": "36.73"}).status_code == 200
        own = client.get("/log", headers={"accept": "text/html"}, follow_redirects=False)
        assert own.status_code == 303 and own.headers["location"] == "/log?kecamatan=36"


def test_the_time_travel_names_each_moment_in_wib_and_its_first_column(country):
    with country.client() as client:
        sign_in(client, country.settings, "auditor", "", username="auditor-ri")
        asked = {"area": "36", "pada": "2024-02-13T08:30", "banding_posisi": "5"}
        page = client.get("/waktu", params=asked).text
    headings = re.findall(r"<h2>([^<]*)</h2>", page)
    assert headings == ["13-02-2024 08:30 WIB", "Posisi 5"]
    assert '<th scope="col" rowspan="2">Kabupaten/kota</th>' in page


def test_the_log_names_anomalies_in_bahasa_and_offers_the_kecamatan_of_a_kabupaten(country):
    kota = country.trees[1].kecamatan
    with country.client() as client:
        sign_in(client, country.settings, "auditor", "", username="auditor-ri")
        page = client.get("/log").text
        assert '<option value="wrong_dapil">Salah dapil</option>' in page
        assert ">wrong_dapil<" not in page and ">accounting_mismatch<" not in page
        assert f'<option value="{kota[0].code}">' not in page  # thousands: a kabupaten's first
        chosen = client.get("/log", params={"kecamatan": "36.73"}).text
        assert f'<option value="{kota[0].code}">Kec. {kota[0].name}</option>' in chosen
        assert '<input name="kecamatan" value="36.73"' in chosen
        for form in (page, client.get("/audit").text):  # a kecamatan is typed by its code
            assert '<input name="kecamatan" value=""' in form
        assert client.get("/log", params={"kecamatan": kota[0].code}).status_code == 200
        export = client.get("/api/v1/export/epcis", params={"kecamatan": kota[0].code})
        assert export.status_code == 200


def test_the_nations_anomaly_queue_is_headed_nasional_capitalised(country):
    with country.client() as client:
        sign_in(client, country.settings, "monitor", "", username="kpu-ri")
        assert "<h1>Antrean anomali · Nasional</h1>" in client.get("/anomali").text


def test_a_province_replayed_apart_is_the_same_board_as_one_replayed_here(country):
    here, moment = settled_replay(country.settings, None, None, "36")
    apart, moment_apart = replay_apart(country.settings, None, None, "36")
    assert apart.settled and not apart.lines  # only the sums come back from the other process
    assert moment_apart == moment and moment.events > 0
    assert [apart.area(code) for code in ("36", "36.04", "36.73")] == [
        here.area(code) for code in ("36", "36.04", "36.73")
    ]
