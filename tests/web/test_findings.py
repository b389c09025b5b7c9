"""Bawaslu's findings through the API and the pages, on SQLite and PostgreSQL: filed by
Bawaslu, acknowledged and answered by KPU, closed by Bawaslu; every step by the right role,
in scope; a citizen's contact for Bawaslu's eyes only; steps out of turn refused."""

import base64
import re
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from litestar.testing import TestClient

from services.findings.application import Findings
from services.findings.contacts import Contacts
from services.findings.decisions import Said
from services.findings.hours import response_hours
from services.store.notifications import read_store
from services.views.eventlog import EventLogView, LogFilter
from services.views.findings import FindingView
from tests.data import ONE_TPS_PLANS
from tests.web.conftest import Lacak
from tests.web.projection import project_everything
from tests.web.signin import sign_in
from tests.web.test_board_stream import row_events, rows_in

TPS = "3604052001001"  # Kramatwatu
DESA = "36.04.05.2001"
LABEL = ONE_TPS_PLANS[1].label  # a kotak suara of it
# A 1x1 PNG, as a phone's camera would send a (much larger) one.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture
def lacak(settings, plans):
    """The app on each event store in turn (SQLite, then PostgreSQL)."""
    with Lacak(settings, plans) as lacak:
        yield lacak


def finding(command_id: str = "f1", **changes) -> dict:
    return {
        "command_id": command_id,
        "kind": "tanpa_saksi",
        "where": "36.04.05",
        "text": "Kotak dibuka di PPK tanpa saksi Panwascam.",
        "filed_by": "Siti (Panwascam Kramatwatu)",
        "labels": [],
        **changes,
    }


def step(command_id: str, **fields) -> dict:
    return {"command_id": command_id, "by": "Agus (KPU)", **fields}


def as_role(lacak: Lacak, role: str, scope: str) -> TestClient:
    client = lacak.client
    client.cookies.clear()
    sign_in(client, lacak.settings, role=role, scope=scope)
    return client


def project(lacak: Lacak) -> FindingView:
    view = FindingView(lacak.views)
    view.setup()
    project_everything(lacak.batches, view)
    return view


def test_a_finding_goes_from_bawaslu_to_kpu_and_back_to_be_closed(lacak: Lacak):
    client = as_role(lacak, "bawaslu", "36.04.05")  # a Panwaslu Kecamatan
    filed = client.post("/api/v1/findings", json=finding())
    assert filed.status_code == 201, filed.text
    number, due = filed.json()["finding"], datetime.fromisoformat(filed.json()["due_at"])
    assert number.startswith("TM-3604-")
    recorded = datetime.fromisoformat(filed.json()["recorded_at"])
    assert due - recorded == timedelta(hours=response_hours("")["tanpa_saksi"])
    assert client.post("/api/v1/findings", json=finding()).json() == filed.json()  # a retry
    too_early = client.post(f"/api/v1/findings/{number}/close", json=step("c0"))
    assert too_early.status_code == 422 and "belum dijawab" in too_early.json()["detail"]
    bawaslu_answers = client.post(f"/api/v1/findings/{number}/answer", json=step("a0", action="x"))
    assert bawaslu_answers.status_code == 403

    kpu = as_role(lacak, "monitor", "36.04")
    assert kpu.post(f"/api/v1/findings/{number}/acknowledge", json=step("k1")).status_code == 201
    again = kpu.post(f"/api/v1/findings/{number}/acknowledge", json=step("k2"))
    assert again.status_code == 422
    answered = kpu.post(
        f"/api/v1/findings/{number}/answer",
        json=step("a1", action="Petugas PPK ditegur; kotak disegel ulang di depan saksi."),
    )
    assert answered.status_code == 201
    assert kpu.post(f"/api/v1/findings/{number}/close", json=step("c1")).status_code == 403

    bawaslu = as_role(lacak, "bawaslu", "36.04.05")
    refused = bawaslu.post(f"/api/v1/findings/{number}/close", json=step("c2", accepted=False))
    assert refused.status_code == 422 and "alasan" in refused.json()["detail"]
    closed = bawaslu.post(
        f"/api/v1/findings/{number}/close",
        json=step("c3", accepted=False, note="Segel ulang tanpa berita acara."),
    )
    assert closed.status_code == 201
    late = as_role(lacak, "monitor", "36.04").post(
        f"/api/v1/findings/{number}/answer", json=step("a2", action="lagi")
    )
    assert late.status_code == 422 and "ditutup" in late.json()["detail"]

    view = project(lacak)
    [row] = view.rows("36.04")
    assert (row.status, row.accepted, row.answered_by) == ("closed", "tidak", "Agus (KPU)")
    page = as_role(lacak, "bawaslu", "36.04.05").get(f"/temuan/{number}")
    assert page.status_code == 200
    assert "Segel ulang tanpa berita acara." in page.text and "jawaban tidak diterima" in page.text
    assert as_role(lacak, "ppk", "36.04.09").get(f"/temuan/{number}").status_code == 403


def test_a_citizens_contact_is_shown_to_bawaslu_only(lacak: Lacak):
    client = as_role(lacak, "bawaslu", "36.04")
    report = finding("r1", source="laporan", kind="tidak_dijaga", where=TPS, reporter="0812-555-01")
    number = client.post("/api/v1/findings", json=report).json()["finding"]
    assert number.startswith("LP-3604-")
    contact = finding("r2", reporter="0812")  # a supervisor's own finding has no reporter
    assert client.post("/api/v1/findings", json=contact).status_code == 422
    again = client.post("/api/v1/findings", json=report)  # sent again: one contact kept
    assert again.json()["finding"] == number
    contacts = Contacts.of(lacak.settings)
    try:
        assert contacts.db.query("SELECT COUNT(*) FROM reporter_contacts") == [(1,)]
    finally:
        contacts.close()
    project(lacak)
    assert "0812-555-01" in client.get(f"/temuan/{number}").text
    assert client.get("/api/v1/findings?area=36.04").json()[0]["reporter"] == "0812-555-01"
    kpu = as_role(lacak, "monitor", "36.04")
    assert "0812-555-01" not in kpu.get(f"/temuan/{number}").text
    assert kpu.get("/api/v1/findings?area=36.04").json()[0]["reporter"] == ""
    assert "0812-555-01" not in kpu.get("/temuan?area=36.04").text
    lacak.project()  # the event log, where auditors look: the report, not the contact
    [logged] = lacak.event_log.page(LogFilter(kecamatan="36.04.05", event="FindingFiled"))
    assert logged.label == number and "0812-555-01" not in msgspec.json.encode(logged).decode()
    # Nor the event store, whose events auditors get byte for byte and which forgets nothing.
    assert not [data for _, data in read_store(lacak.settings) if b"0812-555-01" in data]


def test_a_citizens_contact_changed_in_the_database_after_filing_is_shown_as_altered(
    lacak: Lacak,
):
    client = as_role(lacak, "bawaslu", "36.04")
    report = finding("r1", source="laporan", kind="segel", where=TPS, reporter="0812-555-02")
    number = client.post("/api/v1/findings", json=report).json()["finding"]
    contacts = Contacts.of(lacak.settings)
    try:
        with contacts.db.transaction() as cursor:
            cursor.execute("UPDATE reporter_contacts SET contact = '0899-000-00'")
    finally:
        contacts.close()
    page = client.get(f"/temuan/{number}").text
    assert "0899-000-00 (DIUBAH: tidak cocok" in page and "0812-555-02" not in page


def test_outside_its_scope_or_at_an_unknown_place_a_finding_is_refused(lacak: Lacak):
    client = as_role(lacak, "bawaslu", "36.04.05")
    assert client.post("/api/v1/findings", json=finding(where="36.04.09")).status_code == 403
    assert client.post("/api/v1/findings", json=finding(where="36.04.99")).status_code == 404
    assert client.post("/api/v1/findings", json=finding(where="di sini")).status_code == 400
    ahead = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    assert client.post("/api/v1/findings", json=finding(occurred_at=ahead)).status_code == 422
    gudang = as_role(lacak, "gudang", "36.04")
    assert gudang.post("/api/v1/findings", json=finding("g")).status_code == 403


def test_a_finding_filed_from_the_form_lands_on_its_page_and_in_the_queue(lacak: Lacak):
    client = as_role(lacak, "bawaslu", "36.04")
    form = client.get("/temuan/baru?area=36.04.05")
    assert form.status_code == 200 and 'value="36.04.05"' in form.text
    csrf = client.headers["x-csrf-token"]
    del client.headers["x-csrf-token"]  # a browser's form sends the token as a field
    posted = client.post(
        "/temuan",
        data={
            "csrf_token": csrf,
            "command_id": "form-1",
            "source": "temuan",
            "kind": "segel",
            "where": "36.04.05",
            "text": "Segel kotak DPR diganti tanpa berita acara.",
            "labels": LABEL,
            "filed_by": "Rudi",
            "occurred_at": "",
        },
        files=[("photos", ("segel.png", PNG, "image/png"))],
        follow_redirects=False,
    )
    client.headers["x-csrf-token"] = csrf
    assert posted.status_code == 303, posted.text
    page = client.get(posted.headers["location"])
    assert "Segel kotak DPR diganti" in page.text
    [photo] = re.findall(r'src="(/foto/[0-9a-f]{64})"', page.text)
    shown = client.get(photo)
    assert (shown.content, shown.headers["content-type"]) == (PNG, "image/png")
    project(lacak)
    timeline = client.get(f"/kotak/{LABEL}")  # the box's timeline shows it, photo and all
    assert "Segel kotak DPR diganti" in timeline.text and photo in timeline.text
    queue = as_role(lacak, "monitor", "36.04").get("/temuan?area=36.04")
    assert "segel rusak atau diganti" in queue.text and "menunggu KPU" in queue.text


def test_a_finding_filed_from_the_form_with_no_photo_chosen_is_recorded(lacak: Lacak):
    """A browser sends the file box even when no photo is chosen: an empty part with an empty
    filename (found in a walkthrough: it was refused as a bad request)."""
    client = as_role(lacak, "bawaslu", "36.04")
    csrf = client.headers.pop("x-csrf-token")
    posted = client.post(
        "/temuan",
        data={
            "csrf_token": csrf,
            "command_id": "form-2",
            "source": "laporan",
            "kind": "tidak_dijaga",
            "where": "36.04.05",
            "text": "Kotak suara di teras PPK tanpa penjaga.",
            "filed_by": "Rudi",
            "reporter": "0812-555-03",
        },
        files=[("photos", ("", b"", "application/octet-stream"))],
        follow_redirects=False,
    )
    client.headers["x-csrf-token"] = csrf
    assert posted.status_code == 303, posted.text
    page = client.get(posted.headers["location"]).text
    assert "tanpa penjaga" in page and "0812-555-03" in page and "/foto/" not in page


def test_an_unanswered_finding_past_its_time_is_overdue(lacak: Lacak):
    findings = Findings(lacak.batches, {**response_hours(""), "lain": 1})
    long_ago = datetime.now(UTC) - timedelta(hours=3)
    findings.clock = lambda: long_ago
    findings.file(
        Said(command_id="old", occurred_at=long_ago),
        source="temuan",
        kind="lain",
        where="36.04",
        text="Atap gudang bocor di atas tumpukan kotak.",
        filed_by="Rudi",
    )
    view = project(lacak)
    [row] = view.rows("36", ("filed", "acknowledged"))  # the province's, of its kabupaten
    assert row.overdue(datetime.now(UTC)) and not row.overdue(long_ago)
    page = as_role(lacak, "monitor", "36.04").get("/temuan?area=36.04")
    assert "lewat batas" in page.text


def test_only_images_of_a_size_are_kept_and_a_finding_names_only_kept_ones(lacak: Lacak):
    client = as_role(lacak, "bawaslu", "36.04")
    kept = client.post("/api/v1/photos", content=PNG, headers={"content-type": "image/png"})
    assert kept.status_code == 201
    digest = kept.json()["sha256"]
    again = client.post("/api/v1/photos", content=PNG, headers={"content-type": "image/png"})
    assert again.json()["sha256"] == digest  # kept once
    text = client.post("/api/v1/photos", content=b"<html>bukan foto</html>")
    assert text.status_code == 422 and "Hanya foto" in text.json()["detail"]
    big = client.post("/api/v1/photos", content=b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024))
    assert big.status_code == 413
    unknown = finding("p1", photos=["0" * 64])
    refused = client.post("/api/v1/findings", json=unknown)
    assert refused.status_code == 422 and "belum diunggah" in refused.json()["detail"]
    filed = client.post("/api/v1/findings", json=finding("p2", photos=[digest, digest]))
    assert filed.status_code == 201
    page = client.get(f"/temuan/{filed.json()['finding']}")
    assert page.text.count(f'src="/foto/{digest}"') == 1  # one photo, named twice
    assert as_role(lacak, "monitor", "36.04").get(f"/foto/{digest}").content == PNG
    assert client.get("/foto/" + "0" * 64).status_code == 404


def file_then(lacak: Lacak, command_id: str, where: str, hours_ago: int) -> str:
    """A finding filed `hours_ago` with an hour for KPU to answer: overdue after that hour."""
    then = datetime.now(UTC) - timedelta(hours=hours_ago)
    findings = Findings(lacak.batches, {**response_hours(""), "lain": 1}, clock=lambda: then)
    filing = Said(command_id=command_id, occurred_at=then)
    filed = findings.file(
        filing, source="temuan", kind="lain", where=where, text="Atap bocor.", filed_by="Rudi"
    )
    return filed.finding


def said(command_id: str) -> Said:
    return Said(command_id=command_id, occurred_at=datetime.now(UTC))


def findings_cells(html: str, row_id: str) -> tuple[str, str, str]:
    """A board row's open findings, of them the overdue, and where the open count links."""
    [row] = re.findall(rf'<tr id="{row_id}"[^>]*>(.*?)</tr>', html, flags=re.DOTALL)
    [open_cell] = re.findall(r'<td class="n findings[^"]*">(.*?)</td>', row)
    [overdue] = re.findall(r'<td class="n overdue-findings[^"]*">(.*?)</td>', row)
    [link] = re.findall(r'href="([^"]*)"', open_cell) or [""]
    return re.sub(r"<[^>]+>", "", open_cell), overdue, link


def test_the_board_counts_each_areas_open_and_overdue_findings_beside_its_anomalies(
    lacak: Lacak,
):
    file_then(lacak, "fresh", "36.04.05", hours_ago=0)  # open, an hour left
    file_then(lacak, "late-at-tps", TPS, hours_ago=3)  # overdue
    file_then(lacak, "late-at-gudang", "36.04", hours_ago=3)  # the kabupaten's own: its total
    answered = file_then(lacak, "answered", "36.04.05", hours_ago=3)  # open, not overdue
    closed = file_then(lacak, "closed", "36.04.06", hours_ago=3)
    findings = Findings(lacak.batches, response_hours(""))
    findings.answer(answered, "Agus", "Atap ditambal.", said("a1"))
    findings.answer(closed, "Agus", "Atap ditambal.", said("a2"))
    findings.close(closed, "Rudi", True, "", said("c1"))
    project(lacak)
    client = as_role(lacak, "monitor", "36.04")

    board = client.get("/").text
    assert findings_cells(board, "kecamatan-360405") == ("3", "1", "/temuan?area=36.04.05")
    assert findings_cells(board, "kecamatan-360406") == ("0", "0", "")  # closed: not counted
    assert findings_cells(board, "total") == ("4", "2", "/temuan?area=36.04")
    assert 'class="n findings alert"' in board  # overdue: the open count is marked too
    kecamatan = client.get("/wilayah/36.04.05").text
    assert findings_cells(kecamatan, "desa-3604052001") == ("1", "1", f"/temuan?area={DESA}")
    assert findings_cells(kecamatan, "total") == ("3", "1", "/temuan?area=36.04.05")
    desa = client.get(f"/wilayah/{DESA}").text
    assert findings_cells(desa, f"tps-{TPS}") == ("1", "1", f"/temuan?area={TPS}")
    tps = client.get(f"/tps/{TPS}").text
    assert findings_cells(tps, "total") == ("1", "1", f"/temuan?area={TPS}")
    [first] = client.get("/api/v1/board").json()["kecamatan"][:1]
    assert (first["code"], first["findings"]) == ("36.04.05", {"open": 3, "overdue": 1})


def test_a_finding_filed_reaches_an_open_list_of_its_area_and_the_boards_row_live(live_lacak):
    kecamatan_row = "kecamatan-360405"
    with (
        live_lacak.signed_in(role="monitor", scope="36.04") as kpu,
        kpu.stream("GET", "/temuan/stream?area=36.04.05&status=open") as listed,
        kpu.stream("GET", "/board/stream?area=36.04") as board,
    ):
        lists = row_events(listed.iter_lines(), "papan")
        rows = row_events(board.iter_lines(), "papan")
        assert "Tidak ada temuan." in next(lists)  # every row at once: none yet
        assert '<td class="n findings">0</td>' in rows_in(next(rows))[kecamatan_row]
        with live_lacak.signed_in(role="bawaslu", scope="36.04.05") as bawaslu:
            filed = bawaslu.post("/api/v1/findings", json=finding("live", where=TPS))
            number = filed.raise_for_status().json()["finding"]
        swapped = next(html for html in lists if number in html)
        changed = next(rows_in(html) for html in rows if kecamatan_row in html)
    assert swapped.startswith('<section id="temuan-list" hx-swap-oob="true">')
    assert '<a href="/temuan?area=36.04.05"' in changed[kecamatan_row]
    assert "total" in changed and "kecamatan-360406" not in changed  # only what changed


def test_the_list_of_findings_listens_to_its_own_areas_stream(lacak: Lacak):
    page = as_role(lacak, "monitor", "36.04").get("/temuan?area=36.04.05&status=answered")
    assert 'hx-ext="sse"' in page.text
    assert 'sse-connect="/temuan/stream?area=36.04.05&amp;status=answered"' in page.text
    outside = as_role(lacak, "ppk", "36.04.09").get("/temuan/stream?area=36.04.05")
    assert outside.status_code == 403
    assert lacak.client.get("/temuan/stream?area=36.04.09&status=nope").status_code == 400


def test_an_auditor_sees_the_findings_as_they_stood_before_kpu_answered(lacak: Lacak):
    client = as_role(lacak, "bawaslu", "36.04")
    number = client.post("/api/v1/findings", json=finding("tt1")).json()["finding"]
    kpu = as_role(lacak, "monitor", "36.04")
    answered = kpu.post(
        f"/api/v1/findings/{number}/answer", json=step("tt2", action="Saksi dihadirkan")
    )
    assert answered.status_code == 201, answered.text
    filed_at = lacak.batches.recorder.max_notification_id() - 1  # the answer is the last one
    auditor = as_role(lacak, "auditor", "")
    before = auditor.get(f"/waktu/temuan?area=36.04&posisi={filed_at}")
    assert before.status_code == 200 and number in before.text
    assert "menunggu KPU" in before.text and "dijawab" not in before.text.split(number)[-1][:400]
    now = auditor.get("/waktu/temuan?area=36.04")
    assert number in now.text and "dijawab KPU" in now.text.split(number)[-1][:400]
    assert "2 peristiwa temuan" in now.text and "1 peristiwa temuan" in before.text
    assert auditor.get("/waktu/temuan?area=36.04&posisi=x").status_code == 400


def test_the_store_gives_the_findings_time_travel_only_findings_events(lacak: Lacak):
    client = as_role(lacak, "bawaslu", "36.04")
    number = client.post("/api/v1/findings", json=finding("t1")).json()["finding"]
    everything = list(read_store(lacak.settings))
    picked = list(read_store(lacak.settings, module="events.findings"))
    assert len(everything) > len(picked) == 1  # the plans' events are skipped by the database
    [(position, data)] = picked
    assert (position, data) in everything and number.encode() in data


def test_the_event_log_links_a_finding_to_its_page_and_a_delivery_to_no_box(lacak: Lacak):
    client = as_role(lacak, "bawaslu", "36.04.05")
    number = client.post("/api/v1/findings", json=finding()).json()["finding"]
    log = EventLogView(lacak.views)
    log.setup()
    project_everything(lacak.batches, log)
    client = as_role(lacak, "auditor", "")
    page = client.get("/log", params={"kecamatan": "36.04.05"})
    assert page.status_code == 200
    assert f'<a href="/temuan/{number}">{number}</a>' in page.text
    assert f"/kotak/{number}" not in page.text
