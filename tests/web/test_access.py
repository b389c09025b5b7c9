"""Who may do what, on every route, on SQLite and PostgreSQL: roles, scopes, sessions, devices,
CSRF, and the record of it all."""

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
import pytest
from litestar.testing import TestClient

from services.accounts.application import MAX_ADDRESS_FAILURES, MAX_FAILURES, open_accounts
from services.custody.batches import Batches
from services.custody.plan import kit_plan
from services.settings import Settings
from tests.data import REGISTERED, SERANG
from tests.web.signin import PASSWORD, add_user, csrf_of, post_login, sign_in
from web.app import create_app

KRAMATWATU_TPS = SERANG.tps[0]  # 3604052001001, Kec. Kramatwatu 36.04.05
CIRUAS_TPS = next(t for t in SERANG.tps if t.code.startswith("360409"))  # Kec. Ciruas 36.04.09
PLANS = kit_plan(msgspec.structs.replace(SERANG, tps=(KRAMATWATU_TPS, CIRUAS_TPS)))
LABEL = PLANS[1].label  # a kotak suara of the Kramatwatu TPS
CIRUAS_LABEL = next(p.label for p in PLANS if p.destination == CIRUAS_TPS.code)

EVERYONE = frozenset(("admin", "gudang", "ppk", "pps", "kpps", "monitor", "auditor", "bawaslu"))
SCANNERS = frozenset(("admin", "gudang", "ppk", "pps", "kpps"))
HANDLERS = frozenset(("admin", "monitor"))  # acknowledge, resolve; void and correct
AUDITORS = frozenset(("admin", "monitor", "auditor", "bawaslu"))
ADMINS = frozenset(("admin",))
GUDANG = frozenset(("admin", "gudang"))  # the gudang's work before packing
SUPERVISORS = frozenset(("admin", "bawaslu"))  # file findings, close them once answered

GUDANG_POSTS = (
    "contracts",
    "deliveries",
    "deliveries.csv",
    "receipts",
    "tallies",
    "replacements",
    "destructions",
    "assemblies",
    "plan",
)
# Every route of the app and who may use it, written from the issue, not from the code's table.
# Path parameters are real where the handler needs them, harmless otherwise: the question is
# only whether the request gets past the guard (any answer but 401/403) or not (403).
MATRIX: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/"): EVERYONE,
    ("GET", "/wilayah/36.04.05"): EVERYONE,
    ("GET", f"/tps/{KRAMATWATU_TPS.code}"): EVERYONE,
    ("GET", "/grafik"): EVERYONE,
    ("GET", "/papan/menyusul"): EVERYONE,
    ("GET", "/layar"): EVERYONE,
    ("GET", "/layar/kecamatan/1"): EVERYONE,
    ("GET", "/api/v1/board"): EVERYONE,
    ("GET", "/anomali"): EVERYONE,
    ("GET", "/aktivitas"): EVERYONE,
    ("GET", "/api/v1/anomalies"): EVERYONE,
    ("GET", "/api/v1/activity"): EVERYONE,
    ("GET", "/shipments/SJ-1"): EVERYONE,
    ("GET", "/kotak"): EVERYONE,
    ("GET", f"/kotak/{LABEL}"): EVERYONE,
    ("GET", f"/api/v1/batches/{LABEL}/timeline"): EVERYONE,
    ("POST", "/api/v1/scans"): SCANNERS,
    ("POST", "/api/v1/scans/queue"): SCANNERS,
    ("GET", "/labels/36.04.05"): SCANNERS,
    ("GET", f"/labels/kotak/{LABEL}"): SCANNERS,
    ("GET", "/pindai"): SCANNERS,
    ("GET", "/muatan"): SCANNERS,
    ("GET", "/muatan/rekap"): SCANNERS,
    ("GET", "/api/v1/places"): SCANNERS,
    ("GET", "/api/v1/places/36.04.05"): SCANNERS,
    ("GET", f"/api/v1/labels/{LABEL}"): SCANNERS,
    ("GET", "/api/v1/plan"): SCANNERS,
    ("GET", "/gudang"): EVERYONE,
    ("GET", "/api/v1/gudang"): EVERYONE,
    ("GET", "/gudang/36.04/ba"): EVERYONE,
    ("GET", "/gudang/36.04/pemusnahan"): EVERYONE,
    ("GET", "/gudang/catat"): GUDANG,
    **{("POST", f"/api/v1/gudang/36.04/{what}"): GUDANG for what in GUDANG_POSTS},
    ("GET", "/temuan"): EVERYONE,
    ("GET", "/temuan/TM-3604-x"): EVERYONE,
    ("GET", "/api/v1/findings"): EVERYONE,
    ("GET", "/temuan/baru"): SUPERVISORS,
    ("POST", "/temuan"): SUPERVISORS,
    ("POST", "/api/v1/findings"): SUPERVISORS,
    ("POST", "/api/v1/photos"): SUPERVISORS,
    ("GET", "/foto/" + "0" * 64): EVERYONE,
    ("POST", "/temuan/TM-3604-x/tutup"): SUPERVISORS,
    ("POST", "/api/v1/findings/TM-3604-x/close"): SUPERVISORS,
    ("POST", "/temuan/TM-3604-x/tangani"): HANDLERS,
    ("POST", "/temuan/TM-3604-x/jawab"): HANDLERS,
    ("POST", "/api/v1/findings/TM-3604-x/acknowledge"): HANDLERS,
    ("POST", "/api/v1/findings/TM-3604-x/answer"): HANDLERS,
    ("POST", "/anomali/x/tangani"): HANDLERS,
    ("POST", "/anomali/x/selesai"): HANDLERS,
    ("POST", "/api/v1/anomalies/x/acknowledge"): HANDLERS,
    ("POST", "/api/v1/anomalies/x/resolve"): HANDLERS,
    ("POST", f"/api/v1/batches/{LABEL}/events/1/void"): HANDLERS,
    ("POST", f"/api/v1/batches/{LABEL}/events/1/correct"): HANDLERS,
    ("POST", f"/api/v1/batches/{LABEL}/void"): HANDLERS,
    ("GET", "/log"): AUDITORS,
    ("GET", "/log.csv"): AUDITORS,
    ("GET", "/api/v1/events"): AUDITORS,
    ("GET", "/waktu"): AUDITORS,
    ("GET", "/waktu/gudang"): AUDITORS,
    ("GET", "/waktu/temuan"): AUDITORS,
    ("GET", "/audit"): AUDITORS,
    ("POST", "/audit/periksa"): AUDITORS,
    ("GET", "/api/v1/ledger/checkpoints"): AUDITORS,
    ("GET", "/api/v1/ledger/proof/1"): AUDITORS,
    ("GET", f"/kotak/{LABEL}/bukti"): AUDITORS,
    ("GET", "/api/v1/export/epcis"): AUDITORS,
    ("GET", "/akses"): AUDITORS,
    ("POST", "/akses/periksa"): AUDITORS,
    ("GET", "/api/v1/access-log"): AUDITORS,
    ("GET", "/admin/pengguna"): ADMINS,
    ("POST", "/admin/pengguna"): ADMINS,
    ("POST", "/admin/pengguna/tidak-ada/ubah"): ADMINS,
    ("GET", "/admin/perangkat"): ADMINS,
    ("POST", "/admin/perangkat"): ADMINS,
    ("POST", "/admin/perangkat/00000000/cabut"): ADMINS,
    ("GET", "/api/v1/users"): ADMINS,
    ("POST", "/api/v1/users"): ADMINS,
    ("GET", "/api/v1/devices"): ADMINS,
    ("POST", "/api/v1/devices"): ADMINS,
    ("POST", "/api/v1/devices/00000000/revoke"): ADMINS,
    ("GET", "/langganan"): EVERYONE,
    ("POST", "/langganan"): EVERYONE,
    ("POST", "/langganan/00000000/akhiri"): EVERYONE,
    ("GET", "/pemberitahuan"): EVERYONE,
    ("GET", "/api/v1/notices"): EVERYONE,
    ("GET", "/api/v1/subscriptions"): EVERYONE,
    ("POST", "/api/v1/subscriptions"): EVERYONE,
    ("POST", "/api/v1/subscriptions/00000000/end"): EVERYONE,
    ("GET", "/admin/kiriman"): ADMINS,
    ("GET", "/api/v1/notice-deliveries"): ADMINS,
    ("GET", "/schema/openapi.json"): ADMINS,
    ("GET", "/schema/openapi.yaml"): ADMINS,
    ("GET", "/schema/openapi.yml"): ADMINS,
    ("GET", "/schema"): ADMINS,
    ("GET", "/schema/x"): ADMINS,  # the schema router's catch-all
}
# Every role: tested live.
STREAMS = (
    "/board/stream",
    "/anomali/stream",
    "/aktivitas/stream",
    "/gudang/stream",
    "/temuan/stream",
    "/pemberitahuan/stream",
)
NOT_IN_MATRIX = {("POST", "/keluar")}  # everyone; it ends the session: tested on its own
PUBLIC = {("GET", "/masuk"), ("POST", "/masuk")}
# For a load balancer and Prometheus: counts and timings, no place, label or name.
PUBLIC |= {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}
# The transparency log's own: sizes, hashes and the key, as any log publishes them; a
# cosignature is checked by its signature (tests/web/test_transparency_log.py).
PUBLIC |= {
    ("GET", "/api/v1/ledger/key"),
    ("GET", "/api/v1/ledger/checkpoint"),
    ("GET", "/api/v1/ledger/consistency"),
    ("POST", "/api/v1/ledger/cosignatures"),
}


def route_pattern(path: str) -> str:
    return "^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"


@pytest.fixture
def batches(settings: Settings) -> Iterator[Batches]:
    app = Batches(settings.store, wilayah=SERANG)
    app.register(PLANS, at=REGISTERED)
    yield app
    app.close()


@pytest.fixture
def app(settings: Settings, batches: Batches):
    return create_app(settings, SERANG)


def body_for(method: str, path: str) -> dict:
    """An empty body: a request that passes the guard is then refused as incomplete, and
    changes nothing."""
    if method == "GET":
        return {}
    if path.startswith(("/anomali/", "/admin/", "/audit/", "/temuan")):
        return {"data": {}}
    return {"json": [] if path.endswith("/queue") else {}}


def test_every_route_of_the_app_is_in_the_matrix(app):
    routes = {
        (m, r.path)
        for r in app.routes
        for h in getattr(r, "route_handlers", [])
        for m in h.http_methods
        if m != "OPTIONS"
    }
    covered = [*MATRIX, *NOT_IN_MATRIX, *PUBLIC, *(("GET", s) for s in STREAMS)]
    static = {route for route in routes if route[1].startswith("/static")}
    missing = [
        route
        for route in routes - static
        if not any(m == route[0] and re.match(route_pattern(route[1]), p) for m, p in covered)
    ]
    assert not missing, f"routes with no row in the matrix: {sorted(missing)}"


def test_each_role_gets_past_the_guard_exactly_on_its_routes(settings: Settings, app):
    """8 roles x 57 routes, each a session with its CSRF token, scoped to the kabupaten."""
    wrong: list[str] = []
    with TestClient(app) as client:
        for role in sorted(EVERYONE):
            client.cookies.clear()
            sign_in(client, settings, role=role, scope="36.04")
            for (method, path), allowed in MATRIX.items():
                status = client.request(method, path, **body_for(method, path)).status_code
                if role in allowed and (status in (401, 403) or status >= 500):
                    wrong.append(f"{role} refused {status}: {method} {path}")
                elif role not in allowed and status != 403:
                    wrong.append(f"{role} let through ({status}): {method} {path}")
    assert not wrong, "\n".join(wrong)


def test_without_a_session_a_browser_is_sent_to_login_and_an_api_client_gets_401(app):
    with TestClient(app) as client:
        for method, path in [*MATRIX, *(("GET", s) for s in STREAMS)]:
            answer = client.request(
                method,
                path,
                headers={"accept": "text/html"},
                follow_redirects=False,
                **body_for(method, path),
            )
            if method == "GET" and not path.startswith("/api/"):
                assert answer.status_code == 303, path
                assert answer.headers["location"].startswith("/masuk?lanjut=")
            else:
                assert answer.status_code == 401, f"{method} {path}: {answer.status_code}"
        page = client.get("/masuk")
        assert page.status_code == 200 and 'name="password"' in page.text


def scan(label: str, action: str, location: str, n: int = 1) -> dict:
    return {
        "scan_id": f"{label}-{action}-{location}-{n}",
        "label": label,
        "action": action,
        "location": location,
        "occurred_at": "2024-02-10T08:00:00+07:00",
    }


def test_a_ppk_officer_of_ciruas_cannot_receive_at_kramatwatu_and_is_told_why(
    settings: Settings, app
):
    with TestClient(app) as client:
        sign_in(client, settings, role="ppk", scope="36.04.09")
        refused = client.post("/api/v1/scans", json=scan(LABEL, "receive", "36.04.05"))
        assert refused.status_code == 403
        assert "36.04.05 di luar wilayah tugas Anda (36.04.09)" in refused.json()["detail"]
        at_the_gudang = client.post("/api/v1/scans", json=scan(LABEL, "receive", "36.04"))
        assert at_the_gudang.status_code == 403  # in scope? no: and not a PPK's level either
        own = client.post("/api/v1/scans", json=scan(CIRUAS_LABEL, "receive", "36.04.09"))
        assert own.status_code == 201, own.text
        assert client.get("/wilayah/36.04.09").status_code == 200
        other = client.get("/wilayah/36.04.05", headers={"accept": "text/html"})
        assert other.status_code == 403 and "di luar wilayah Anda" in other.text
        assert client.get("/api/v1/board").status_code == 403  # the kabupaten is beyond a PPK
        assert client.get(f"/tps/{CIRUAS_TPS.code}").status_code == 200
        assert client.get(f"/kotak/{CIRUAS_LABEL}").status_code == 200  # a box bound for Ciruas
        assert client.get(f"/kotak/{LABEL}").status_code == 403  # one bound for Kramatwatu
        home = client.get("/", headers={"accept": "text/html"}, follow_redirects=False)
        assert (home.status_code, home.headers["location"]) == (303, "/wilayah/36.04.09")
        html = {"accept": "text/html"}
        for menu in ("/temuan", "/grafik", "/layar"):  # the menu's links: no area
            own = client.get(menu, headers=html, follow_redirects=False)
            assert (own.status_code, own.headers["location"]) == (303, f"{menu}?area=36.04.09")
            page = client.get(own.headers["location"], headers=html)
            assert page.status_code == 200
            if '<nav class="trail"' in page.text:  # what is above their kecamatan: no links
                trail = page.text.split('<nav class="trail"', 1)[1].split("</nav>", 1)[0]
                assert "Kabupaten Serang" in trail and "Serang</a>" not in trail, menu
        kept = client.get("/temuan?status=open", headers=html, follow_redirects=False)
        assert kept.headers["location"] == "/temuan?status=open&area=36.04.09"
        assert client.get("/api/v1/findings").status_code == 403  # an API client is told


def test_an_officer_scans_only_at_the_level_of_their_role(
    settings: Settings, app, batches: Batches
):
    desa = KRAMATWATU_TPS.desa
    with TestClient(app) as client:
        sign_in(client, settings, role="pps", scope=desa)
        at_a_tps = client.post("/api/v1/scans", json=scan(LABEL, "receive", KRAMATWATU_TPS.code))
        assert at_a_tps.status_code == 403  # in the desa, but a TPS is the KPPS's to scan at
        assert "PPS memindai di tingkat desa/kelurahan" in at_a_tps.json()["detail"]
        assert client.post("/api/v1/scans", json=scan(LABEL, "receive", desa)).status_code == 201
        client.cookies.clear()
        sign_in(client, settings, role="kpps", scope=KRAMATWATU_TPS.code)
        here = scan(LABEL, "receive", KRAMATWATU_TPS.code)
        queue = [here, scan(CIRUAS_LABEL, "receive", CIRUAS_TPS.code)]
        before = len(batches.history(LABEL))
        assert client.post("/api/v1/scans/queue", json=queue).status_code == 403  # all or none
        assert len(batches.history(LABEL)) == before  # the scan inside the scope was not kept
        assert client.post("/api/v1/scans", json=here).status_code == 201
        assert len(batches.history(LABEL)) > before  # the receipt, with the anomalies it raised


def test_a_monitor_of_the_province_sees_the_kabupaten_but_cannot_scan_or_administer(
    settings: Settings, app
):
    with TestClient(app) as client:
        sign_in(client, settings, role="monitor", scope="36")
        assert client.get("/api/v1/board").status_code == 200
        refused = client.post("/api/v1/scans", json=scan(LABEL, "dispatch", "36.04"))
        assert refused.status_code == 403 and "tidak boleh memindai" in refused.json()["detail"]
        assert client.get("/admin/pengguna").status_code == 403


def test_a_session_must_send_its_csrf_token_and_a_device_token_needs_none(settings: Settings, app):
    with TestClient(app) as client:
        sign_in(client, settings)
        token = client.headers.pop("x-csrf-token")
        missing = client.post("/api/v1/scans", json=scan(LABEL, "dispatch", "36.04"))
        assert missing.status_code == 403 and "CSRF" in missing.json()["detail"]
        forged = client.post(
            "/api/v1/scans",
            json=scan(LABEL, "dispatch", "36.04"),
            headers={"x-csrf-token": token[:-2] + "xx"},
        )
        assert forged.status_code == 403
        form = client.post("/audit/periksa", data={"csrf_token": token})
        assert form.status_code == 200  # the form field does as well as the header
        assert client.post("/audit/periksa", data={"csrf_token": "palsu"}).status_code == 403
        sent = client.post(
            "/api/v1/scans", json=scan(LABEL, "dispatch", "36.04"), headers={"x-csrf-token": token}
        )
        assert sent.status_code == 201
        issued = client.post(
            "/api/v1/devices",
            json={"username": "uji-admin", "name": "hp"},
            headers={"x-csrf-token": token},
        )
        assert issued.status_code == 201
    with TestClient(app) as device:
        device.headers["authorization"] = f"Bearer {issued.json()['token']}"
        answer = device.post("/api/v1/scans", json=scan(LABEL, "receive", "36.04.05"))
        assert answer.status_code == 201, answer.text


def test_a_revoked_device_token_is_refused_and_every_event_names_user_and_device(
    settings: Settings, batches: Batches
):
    # A token's account is asked again after this long: a revocation recorded by another
    # process (here, the test's own Accounts) is refused from then on.
    settings = settings.replace(token_cache_seconds=0.5)
    app = create_app(settings, SERANG)
    add_user(settings, "petugas-gudang", "gudang", "36.04")
    accounts = open_accounts(settings)
    device, token = accounts.issue_device("pemindai 1", "petugas-gudang", "", by="uji")
    accounts.close()
    assert device.scope == "36.04"  # the user's, unless narrower
    with TestClient(app) as client:
        client.headers["authorization"] = f"Bearer {token}"
        assert (
            client.post(
                "/api/v1/scans", json=scan(LABEL, "pack", "36.04") | {"quantity": 500}
            ).status_code
            == 201
        )
        [*_, packed] = batches.history(LABEL)
        assert (packed.user, packed.device) == ("petugas-gudang", device.device)
        accounts = open_accounts(settings)
        accounts.revoke_device(device.device, by="uji-admin", reason="hilang")
        accounts.close()
        time.sleep(settings.token_cache_seconds)
        again = client.post("/api/v1/scans", json=scan(LABEL, "dispatch", "36.04"))
        assert again.status_code == 401
        client.headers.pop("authorization")
        sign_in(client, settings, role="gudang", scope="36.04", username="petugas-gudang")
        assert (
            client.post("/api/v1/scans", json=scan(LABEL, "dispatch", "36.04")).status_code == 201
        )
        [*_, dispatched] = batches.history(LABEL)
        assert (dispatched.user, dispatched.device) == ("petugas-gudang", "")


def test_an_expired_session_is_over_and_logout_ends_one(settings: Settings, app):
    with TestClient(app) as client:
        sign_in(client, settings, role="auditor")
        assert client.get("/api/v1/board").status_code == 200
        accounts = open_accounts(settings)
        with accounts.sessions.db.transaction() as cursor:
            past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
            cursor.execute("UPDATE lacak_sessions SET expires_at = ?", (past,))
        assert client.get("/api/v1/board").status_code == 401
        assert any(e.expired for e in accounts.access_log() if type(e).__name__ == "LoggedOut")
        accounts.close()
        sign_in(client, settings, role="auditor")
        out = client.post("/keluar", follow_redirects=False)
        assert out.status_code == 303 and out.headers["location"] == "/masuk"
        assert client.get("/api/v1/board").status_code == 401


def test_repeated_failed_logins_lock_the_name_and_all_of_it_is_on_the_access_log(
    settings: Settings, app
):
    add_user(settings, "pps-ciruas", "pps", "36.04.09.2001")
    with TestClient(app) as client:
        for _ in range(MAX_FAILURES):
            wrong = post_login(client, "pps-ciruas", "salah")
            assert wrong.status_code == 401 and "salah" in wrong.text
        locked = post_login(client, "pps-ciruas", PASSWORD)
        assert locked.status_code == 429 and "Terlalu banyak" in locked.text
        sign_in(client, settings, role="auditor")
        log = client.get("/api/v1/access-log").json()
        failures = [e for e in log if e["kind"] == "LoginFailed" and e["username"] == "pps-ciruas"]
        assert [e["detail"].split(",")[0] for e in failures] == [
            "terkunci setelah gagal berulang",
            *["kata sandi salah"] * MAX_FAILURES,
        ]
        assert "password_hash" not in str(log) and "$argon2" not in str(log)
        page = client.get("/akses").text
        assert "gagal masuk" in page and "pps-ciruas" in page


def test_an_admin_creates_a_user_and_a_device_from_the_pages(settings: Settings, app):
    with TestClient(app) as client:
        sign_in(client, settings)
        token = client.headers["x-csrf-token"]
        made = client.post(
            "/admin/pengguna",
            data={
                "csrf_token": token,
                "username": "kpps-01",
                "name": "Siti",
                "role": "kpps",
                "scope": KRAMATWATU_TPS.code,
                "password": "kata-sandi-siti-1",
            },
        )
        assert made.status_code == 200 and "Pengguna kpps-01 dibuat." in made.text
        short = client.post(
            "/admin/pengguna",
            data={"csrf_token": token, "username": "kpps-02", "role": "kpps", "password": "pendek"},
        )
        assert short.status_code == 400 and "paling sedikit 10" in short.text
        issued = client.post(
            "/admin/perangkat", data={"csrf_token": token, "username": "kpps-01", "name": "HP Siti"}
        )
        token_shown = re.search(r'<pre class="token-value">([^<]+)</pre>', issued.text)[1]
        assert "tidak akan ditampilkan lagi" in issued.text
        assert issued.headers["cache-control"] == "no-store"
        listed = client.get("/admin/perangkat")
        assert (
            listed.status_code == 200
            and f'id="device-{token_shown.partition(".")[0]}"' in listed.text
        )
        assert token_shown not in listed.text
        device = token_shown.partition(".")[0]
        bearer = {"authorization": f"Bearer {token_shown}"}
        assert client.get("/api/v1/places", headers=bearer).status_code == 200  # now known
        revoked = client.post(
            f"/admin/perangkat/{device}/cabut", data={"csrf_token": token, "reason": "rusak"}
        )
        assert f"Perangkat {device} dicabut." in revoked.text
        # revoked on this process: refused at once, however recently the token was seen
        assert client.get("/api/v1/places", headers=bearer).status_code == 401
        changed = client.post(
            "/admin/pengguna/kpps-01/ubah",
            data={
                "csrf_token": token,
                "role": "kpps",
                "scope": KRAMATWATU_TPS.code,
                "active": "tidak",
            },
        )
        assert changed.status_code == 200
        users = client.get("/admin/pengguna")
        assert users.status_code == 200 and 'id="user-kpps-01"' in users.text
    with TestClient(app) as siti:
        refused = post_login(siti, "kpps-01", "kata-sandi-siti-1")
        assert refused.status_code == 401 and "dinonaktifkan" in refused.text


def test_every_answer_carries_the_security_headers_and_a_csp_without_inline_script(app):
    with TestClient(app) as client:
        for path in ("/masuk", "/static/lacak.css", "/api/v1/board"):
            headers = client.get(path).headers
            csp = headers["content-security-policy"]
            assert "script-src 'self' 'wasm-unsafe-eval'" in csp and "unsafe-inline" not in csp
            assert "frame-ancestors 'none'" in csp
            assert headers["x-content-type-options"] == "nosniff"
        login = client.get("/masuk").text
        assert not re.search(r"<script(?![^>]*\bsrc=)", login)  # no inline script


def test_the_session_cookie_is_httponly_samesite_and_secure_behind_tls(settings: Settings):
    add_user(settings, "uji-admin", "admin")
    with TestClient(create_app(settings, SERANG)) as client:
        cookie = post_login(client, "uji-admin", PASSWORD).headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    behind_tls = settings.replace(secure_cookies=True)
    with TestClient(create_app(behind_tls, SERANG)) as client:
        cookie = post_login(client, "uji-admin", PASSWORD).headers["set-cookie"]
        assert "Secure" in cookie


def test_a_session_survives_a_restart_of_the_web_process(settings: Settings, batches: Batches):
    with TestClient(create_app(settings, SERANG)) as client:
        sign_in(client, settings, role="bawaslu", scope="36")
        cookies, csrf = dict(client.cookies), client.headers["x-csrf-token"]
    with TestClient(create_app(settings, SERANG), cookies=cookies) as restarted:
        assert restarted.get("/api/v1/board").status_code == 200
        assert csrf_of(restarted.get("/masuk").text) == csrf


def test_every_role_opens_the_live_streams(live_lacak):
    for role in sorted(EVERYONE):
        with live_lacak.signed_in(role=role, scope="36.04") as client:
            for path in STREAMS:
                with client.stream("GET", path, timeout=10) as stream:
                    assert stream.status_code == 200, f"{role} {path}"
    with httpx.stream("GET", live_lacak.base_url + STREAMS[0], timeout=10) as anonymous:
        assert anonymous.status_code == 401


def test_a_scoped_officer_cannot_reach_beyond_the_scope_by_the_back_doors(settings: Settings, app):
    """Found in review: a second `area`, another area's stream views, a malformed place."""
    with TestClient(app) as client:
        sign_in(client, settings, role="ppk", scope="36.04.09")
        twice = client.get("/api/v1/board", params=[("area", "36.04.09"), ("area", "36.04.05")])
        assert twice.status_code == 400 and "hanya boleh satu" in twice.json()["detail"]
        charts = client.get("/board/stream", params={"area": "36.04.05", "view": "charts"})
        assert charts.status_code == 403  # the charts of their own area only
        odd = client.post("/api/v1/scans", json=scan(CIRUAS_LABEL, "receive", "36.04.09.2001.1"))
        assert odd.status_code == 422 and "36.04.09.2001.1" in odd.json()["detail"]


def test_a_device_stops_working_when_its_users_scope_no_longer_holds_its_own(
    settings: Settings,
):
    settings = settings.replace(token_cache_seconds=0.5)  # the change is another process's
    app = create_app(settings, SERANG)
    add_user(settings, "gudang-2", "gudang", "36.04")
    accounts = open_accounts(settings)
    _, token = accounts.issue_device("pemindai 2", "gudang-2", "", by="uji")
    with TestClient(app) as client:
        client.headers["authorization"] = f"Bearer {token}"
        assert client.get("/api/v1/board").status_code == 200
        accounts.change_user("gudang-2", "kpps", KRAMATWATU_TPS.code, True, by="uji-admin")
        accounts.close()
        time.sleep(settings.token_cache_seconds)
        assert client.get("/api/v1/board").status_code == 401
        refused = client.post("/api/v1/scans", json=scan(CIRUAS_LABEL, "receive", CIRUAS_TPS.code))
        assert refused.status_code == 401


def test_a_refused_change_of_a_user_changes_nothing(settings: Settings, app):
    add_user(settings, "ppk-ciruas", "ppk", "36.04.09")
    with TestClient(app) as client:
        sign_in(client, settings)
        answer = client.post(
            "/admin/pengguna/ppk-ciruas/ubah",
            data={"role": "admin", "scope": "", "active": "ya", "password": "pendek"},
        )
        assert answer.status_code == 400 and "paling sedikit 10" in answer.text
    accounts = open_accounts(settings)
    user = accounts.user("ppk-ciruas")
    accounts.close()
    assert (user.role, user.scope) == ("ppk", "36.04.09")


def test_an_address_with_many_failed_logins_is_locked_and_stops_filling_the_record(
    settings: Settings, app
):
    with TestClient(app) as client:
        for n in range(MAX_ADDRESS_FAILURES):  # a different name each time: each its own count
            answer = post_login(client, f"tebak-{n}", "x")
            assert answer.status_code == 401
        accounts = open_accounts(settings)
        recorded = len(accounts.access_log(1000))
        locked = post_login(client, "tebak-lagi", "x")
        assert locked.status_code == 429 and "dari alamat ini" in locked.text
        assert len(accounts.access_log(1000)) == recorded
        accounts.close()
