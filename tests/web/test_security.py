"""What a hostile tester tried, each shut: a corrector refused, formulas in a download, huge
numbers, bare 404s, login CSRF, scopes that cannot be, and a device token with an admin's role."""

import csv
import io
from datetime import timedelta

import pytest

from services.accounts.application import open_accounts
from services.custody.plan import kit_plan
from tests.data import ONE_TPS
from tests.web.conftest import Lacak
from tests.web.signin import PASSWORD, add_user, login_token_of, post_login, sign_in

LABEL = kit_plan(ONE_TPS)[1].label  # the DPR kotak suara of the first TPS
KECAMATAN = "36.04.05"


def scan(scan_id: str, action: str, location: str, **details) -> dict:
    return {"scan_id": scan_id, "label": LABEL, "action": action, "location": location,
            "occurred_at": "2024-02-12T09:00:00+07:00", **details}  # fmt: skip


def test_a_kpu_monitor_corrects_a_scan_as_the_readme_says_they_may(lacak: Lacak):
    wrong = lacak.client.post("/api/v1/scans", json=scan("s1", "dispatch", "36.04", to="36.04.09"))
    version = wrong.json()["version"]
    lacak.client.cookies.clear()
    monitor = sign_in(lacak.client, lacak.settings, role="monitor", scope="36.04")
    right = scan("s2", "dispatch", "36.04", to=KECAMATAN)
    answer = monitor.post(
        f"/api/v1/batches/{LABEL}/events/{version}/correct",
        json={"by": "Sari (monitor)", "reason": "tujuan salah ketik", "scan": right},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["location"] == "36.04"
    outside = monitor.post(
        f"/api/v1/batches/{LABEL}/events/{version}/correct",
        json={"by": "Sari", "reason": "x", "scan": scan("s3", "receive", "35.01.01")},
    )
    assert outside.status_code in (403, 422)


def test_a_csv_download_never_hands_a_spreadsheet_a_formula(lacak: Lacak):
    officer = "=cmd|' /C calc'!A0"
    lacak.client.post("/api/v1/scans", json=scan("s1", "dispatch", "36.04", officer=officer))
    lacak.project()
    rows = list(csv.DictReader(io.StringIO(lacak.client.get("/log.csv").text)))
    assert [row["officer"] for row in rows if row["event"] == "BatchDispatched"] == ["'" + officer]


@pytest.mark.parametrize("path", ["/anomali?before=9223372036854775808", "/anomali?before=0"])
def test_a_position_out_of_range_on_a_page_is_refused_not_a_500(client, path):
    assert client.get(path).status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/tidak-ada", 404), ("DELETE", "/api/v1/scans", 405), ("GET", "/static/x.css", 404)],
)
def test_the_routers_own_refusals_carry_the_security_headers(client, method, path, status):
    answer = client.request(method, path)
    assert answer.status_code == status
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_the_login_form_needs_its_own_token_so_another_site_cannot_log_a_browser_in(lacak):
    lacak.client.cookies.clear()
    add_user(lacak.settings, "rina", "monitor", "36.04")
    forged = lacak.client.post(
        "/masuk", data={"username": "rina", "password": PASSWORD}, follow_redirects=False
    )
    assert forged.status_code == 403 and "lacak_sesi" not in forged.headers.get("set-cookie", "")
    page = lacak.client.get("/masuk").text
    lacak.client.cookies.clear()  # the field without its cookie: another browser's form
    stolen = lacak.client.post(
        "/masuk",
        data={"username": "rina", "password": PASSWORD, "csrf_token": login_token_of(page)},
        follow_redirects=False,
    )
    assert stolen.status_code == 403
    assert post_login(lacak.client, "rina", PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("role", "scope", "says"),
    [
        ("ppk", "99.99.99", "Wilayah 99.99.99 tidak dikenal: tidak ada di data wilayah."),
        ("ppk", "36.04.05.2001", "PPK bertugas di tingkat kecamatan: wilayahnya satu kecamatan"),
        ("gudang", "36.04.05", "Petugas gudang bertugas di tingkat kabupaten/kota"),
        ("kpps", "", "KPPS bertugas di tingkat TPS: isi wilayah tugasnya, bukan nasional."),
    ],
)
def test_an_admin_cannot_give_an_officer_a_scope_that_cannot_be(client, role, scope, says):
    form = {"username": "petugas-baru", "name": "Baru", "role": role, "scope": scope,
            "password": "kata-sandi-baru-1"}  # fmt: skip
    answer = client.post("/admin/pengguna", data=form)
    assert answer.status_code == 400 and says in answer.text
    api = client.post("/api/v1/users", json={k: v for k, v in form.items() if k != "name"})
    assert api.status_code == 422 and says in api.json()["detail"]


@pytest.mark.parametrize("days", ["0", "²", "3651"])
def test_a_device_issued_from_the_admin_page_works_one_to_3650_days(client, days):
    form = {"name": "Pemindai", "username": "uji-admin", "scope": "", "days": days}
    answer = client.post("/admin/perangkat", data=form)
    assert answer.status_code == 400 and "1 sampai 3650 hari" in answer.text


def test_a_device_token_may_view_and_scan_but_never_administer_even_an_admins(lacak: Lacak):
    accounts = open_accounts(lacak.settings)
    try:
        _, token = accounts.issue_device("pemindai", "uji-admin", "", by="uji")
        now = accounts.clock()
        _, brief = accounts.issue_device(
            "sebentar", "uji-admin", "", by="uji", expires_at=now + timedelta(hours=1)
        )
        _, ended = accounts.issue_device(
            "kemarin", "uji-admin", "", by="uji", expires_at=now - timedelta(seconds=1)
        )
    finally:
        accounts.close()
    device = {"authorization": f"Bearer {token}"}
    lacak.client.cookies.clear()
    assert lacak.client.get("/api/v1/board", headers=device).status_code == 200
    scanned = lacak.client.post(
        "/api/v1/scans", json=scan("t1", "dispatch", "36.04"), headers=device
    )
    assert scanned.status_code == 201
    refused = lacak.client.get("/api/v1/users", headers=device)
    assert refused.status_code == 403
    assert "Token perangkat hanya untuk melihat dan memindai" in refused.json()["detail"]
    for path in ("/api/v1/devices", "/api/v1/access-log", "/api/v1/export/epcis"):
        assert lacak.client.get(path, headers=device).status_code == 403
    for token_, status in ((brief, 200), (ended, 401)):  # a token stops working when it says
        answer = lacak.client.get("/api/v1/board", headers={"authorization": f"Bearer {token_}"})
        assert answer.status_code == status
