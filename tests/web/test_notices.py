"""Subscriptions and notices through the pages and the API, on SQLite and PostgreSQL: a person
subscribes within their scope (a webhook's key shown once, never on the access log), sees the
notices that reach them, ends the subscription; admins see the delivery log; bad input is
refused saying why and records nothing."""

import re

import pytest

from services.findings.application import Findings
from services.findings.decisions import Said
from services.findings.hours import response_hours
from services.views.notices import NoticeView
from tests.web.conftest import Lacak
from tests.web.projection import project_everything
from tests.web.test_board_stream import row_events
from tests.web.test_findings import as_role, finding

HOOK = {"kinds": ["temuan", "temuan_dijawab"], "channel": "webhook", "target": "https://x.id/h"}


@pytest.fixture
def lacak(settings, plans):
    with Lacak(settings, plans) as lacak:
        yield lacak


def file_one(lacak: Lacak, where: str = "36.04.05") -> str:
    findings = Findings(lacak.batches, response_hours(""))
    said = Said(command_id=f"n-{where}", occurred_at=lacak.batches.clock())
    filed = findings.file(
        said, source="temuan", kind="segel", where=where, text="Segel diganti", filed_by="Siti"
    )
    view = NoticeView(lacak.views)
    view.setup()
    project_everything(lacak.batches, view)
    return filed.finding


def test_a_bawaslu_account_subscribes_sees_its_notices_and_ends_it(lacak: Lacak):
    client = as_role(lacak, "bawaslu", "36.04.05")
    made = client.post("/api/v1/subscriptions", json=HOOK)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["secret"].startswith("whsec_") and body["area"] == "36.04.05"  # its scope
    assert made.headers["cache-control"] == "no-store"
    listed = client.get("/api/v1/subscriptions").json()
    assert [s["subscription"] for s in listed] == [body["subscription"]]
    assert listed[0]["secret"] is None  # shown once
    number = file_one(lacak)
    file_one(lacak, where="36.04.09")  # another kecamatan: not theirs
    notices = client.get("/api/v1/notices").json()
    assert [n["link"] for n in notices] == [f"/temuan/{number}"]
    page = client.get("/pemberitahuan")
    assert page.status_code == 200 and f"/temuan/{number}" in page.text
    ended = client.post(f"/api/v1/subscriptions/{body['subscription']}/end", json={})
    assert ended.status_code == 200 and ended.json()["active"] is False
    assert client.get("/api/v1/notices").json() == []
    # The access log names the subscription and where it sends, never its key.
    admin = as_role(lacak, "admin", "")
    log = admin.get("/api/v1/access-log").text
    assert body["subscription"] in log and body["secret"] not in log
    assert admin.get("/admin/kiriman").status_code == 200


def test_a_subscription_beyond_the_scope_or_unsendable_is_refused_and_nothing_recorded(
    lacak: Lacak,
):
    ppk = as_role(lacak, "ppk", "36.04.05")  # the server POSTs where a webhook points
    refused = ppk.post("/api/v1/subscriptions", json=HOOK)
    assert refused.status_code == 422 and "Webhook hanya untuk" in refused.json()["detail"]
    assert ppk.post("/api/v1/subscriptions", json={**HOOK, "channel": "halaman"}).status_code == 201
    client = as_role(lacak, "monitor", "36.04.05")
    beyond = client.post("/api/v1/subscriptions", json={**HOOK, "area": "36.04.09"})
    assert beyond.status_code == 422 and "36.04.09" in beyond.json()["detail"]
    for wrong in (
        {**HOOK, "target": "ftp://x.id/h"},
        {**HOOK, "channel": "email", "target": "bukan-alamat"},
        {**HOOK, "kinds": []},
        {**HOOK, "kinds": ["semua"]},
        {**HOOK, "area": "36.04.05; DROP"},
    ):
        answer = client.post("/api/v1/subscriptions", json=wrong)
        assert answer.status_code in (400, 422), (wrong, answer.text)
    assert client.get("/api/v1/subscriptions").json() == []
    other = client.post("/api/v1/subscriptions/00000000/end", json={})
    assert other.status_code == 404


def test_the_page_form_subscribes_shows_the_key_once_and_keeps_what_was_typed_when_refused(
    lacak: Lacak,
):
    client = as_role(lacak, "monitor", "36.04")
    page = client.get("/langganan")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    # The monitor's suggested kinds are ticked.
    assert re.search(r'value="temuan_lewat" checked', page.text)
    refused = client.post(
        "/langganan",
        data={"csrf_token": csrf, "kinds": "anomali", "channel": "email", "target": "siti@"},
    )
    assert refused.status_code == 400 and "tidak sah" in refused.text
    assert 'value="siti@"' in refused.text  # what was typed stays
    made = client.post(
        "/langganan",
        data={
            "csrf_token": csrf,
            "kinds": ["anomali", "anomali_lama"],
            "channel": "webhook",
            "target": "https://pantau.kpu.example/lacak",
        },
    )
    assert made.status_code == 200 and "whsec_" in made.text
    again = client.get("/langganan")
    assert "pantau.kpu.example" in again.text and "whsec_" not in again.text
    # Someone else's subscription cannot be ended by another account.
    number = client.get("/api/v1/subscriptions").json()[0]["subscription"]
    other = as_role(lacak, "auditor", "36.04.05")
    assert other.post(f"/api/v1/subscriptions/{number}/end", json={}).status_code == 403


def test_a_form_post_that_is_not_a_form_is_refused_not_a_500(lacak: Lacak):
    client = as_role(lacak, "pps", "36.04.05.2001")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/langganan").text).group(1)
    answer = client.post("/langganan", json={}, headers={"x-csrf-token": csrf})
    assert answer.status_code == 400, answer.text


def test_a_notice_reaches_an_open_notices_page_by_its_stream(live_lacak):
    with (
        live_lacak.signed_in(role="bawaslu", scope="36.04.05") as reader,
        live_lacak.signed_in(role="bawaslu", scope="36.04") as filer,
    ):
        made = reader.post("/api/v1/subscriptions", json={**HOOK, "channel": "halaman"})
        assert made.status_code == 201, made.text
        page = reader.get("/pemberitahuan")
        assert 'sse-connect="/pemberitahuan/stream"' in page.text
        with reader.stream("GET", "/pemberitahuan/stream") as stream:
            lists = row_events(stream.iter_lines(), "papan")
            assert "Belum ada pemberitahuan" in next(lists)  # the list at once: none yet
            filed = filer.post("/api/v1/findings", json=finding("stream", where="36.04.05"))
            number = filed.raise_for_status().json()["finding"]
            swapped = next(html for html in lists if f"/temuan/{number}" in html)
    assert swapped.startswith('<ol class="notices" id="notice-list" hx-swap-oob="true">')
