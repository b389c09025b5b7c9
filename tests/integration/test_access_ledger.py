"""The access log on its own signed ledger: logins, accounts and devices changed in the accounts'
store behind Lacak's back are named, as custody events are; the credentials' hashes stay out of
it. On SQLite and PostgreSQL, with the ledger process running on real NATS."""

import asyncio
import hashlib
import sqlite3

import msgspec
import psycopg
import pytest
from litestar.testing import TestClient

from services.accounts.application import open_accounts
from services.accounts.roles import LoginRefused
from services.audit.access import read_access
from services.custody.batches import Batches
from services.processes import run_ledger_projection
from services.settings import Settings
from services.store.notifications import ACCOUNTS, read_store, sqlite_file
from services.views.database import open_views
from services.views.ledger import AccessLedgerView, LedgerView
from tests.data import SERANG
from tests.integration.test_ledger import (
    broken_checkpoints,
    ledger_through_the_stream,
    record_history,
    verify_says,
)
from tests.integration.test_relay_and_board import wait_for
from tests.web.signin import sign_in
from web.app import create_app


def record_access(settings: Settings) -> int:
    """An admin made, a login, a failed one, a device issued and revoked, a logout."""
    accounts = open_accounts(settings)
    try:
        accounts.create_user("admin-akses", "Admin", "admin", "", "kata-sandi-panjang-1", by="uji")
        token, _ = accounts.login("admin-akses", "kata-sandi-panjang-1", "10.0.0.1")
        with pytest.raises(LoginRefused):
            accounts.login("admin-akses", "salah-sekali-ini", "10.0.0.2")
        device, _ = accounts.issue_device("pemindai 1", "admin-akses", "", by="admin-akses")
        accounts.revoke_device(device.device, by="admin-akses", reason="hilang")
        accounts.logout(token)
        return accounts.recorder.max_notification_id()
    finally:
        accounts.close()


async def ledgers_running(settings: Settings, last: int) -> None:
    """The ledger process until the access ledger has every access event and a signed
    checkpoint covers the last."""
    views = open_views(settings)
    access = AccessLedgerView(views)
    access.setup()
    stop = asyncio.Event()
    running = asyncio.create_task(run_ledger_projection(settings, stop))
    try:
        await wait_for(lambda: access.applied() == last)
        await wait_for(lambda: (access.latest() or EMPTY).position == last)
        await asyncio.sleep(0.6)  # the clock's next round publishes it
    finally:
        stop.set()
        await running
        views.close()


class EMPTY:
    position = 0


@pytest.fixture
def access_history(settings: Settings, store_env, monkeypatch) -> int:
    env = {**store_env, "LACAK_CHECKPOINT_EVERY": "3", "LACAK_CHECKPOINT_SECONDS": "0.5"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    last = record_access(settings)
    asyncio.run(ledgers_running(Settings.from_env(env), last))
    return last


class AccessTamper:
    """Direct SQL on the accounts' store, as someone with database access could."""

    def __init__(self, settings: Settings):
        self.postgres = settings.postgres
        if settings.postgres:
            self.table, self.id = "accounts_events", "notification_id"
            self.connection = psycopg.connect(settings.postgres_conninfo, autocommit=True)
        else:
            self.table, self.id = "stored_events", "rowid"
            path = sqlite_file(settings.store, ACCOUNTS)
            self.connection = sqlite3.connect(path, isolation_level=None)

    def run(self, sql: str, params=()) -> None:
        sql = sql.format(table=self.table, id=self.id)
        self.connection.execute(sql.replace("?", "%s") if self.postgres else sql, params)


def test_the_access_log_verifies_against_its_signed_checkpoints(access_history, capsys):
    code, out = verify_says(capsys, "--akses")
    assert code == 0, out
    assert f"{access_history} peristiwa dari log akses" in out
    assert f"s/d posisi {access_history}" in out
    assert "UTUH: setiap" in out


def test_no_credential_hash_is_in_what_the_access_log_hashes(settings, access_history):
    stored = dict(read_store(settings, app=ACCOUNTS))
    public = dict(read_access(settings))
    assert stored.keys() == public.keys()
    created = next(p for p, s in stored.items() if b"UserCreated" in s)
    argon2 = msgspec.json.decode(stored[created])["password_hash"]
    assert argon2.startswith("$argon2")  # the store keeps it
    leaf = msgspec.json.decode(public[created])
    assert leaf["username"] == "admin-akses" and leaf["role"] == "admin"
    assert leaf["password_hash"] == "sha256:" + hashlib.sha256(argon2.encode()).hexdigest()
    for data in public.values():
        assert b"$argon2" not in data
        token = msgspec.json.decode(data).get("token_hash")
        assert token is None or token.startswith("sha256:")


def test_a_password_hash_swapped_in_the_store_is_named(settings, access_history, capsys):
    """Whoever controls the database sets a password of their own: the log says where."""
    stored = dict(read_store(settings, app=ACCOUNTS))
    created = next(p for p, s in stored.items() if b"UserCreated" in s)
    event = msgspec.json.decode(stored[created])
    event["password_hash"] = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$Zm9yZ2VkZm9yZ2Vk"
    forged = msgspec.json.encode(event)
    AccessTamper(settings).run("UPDATE {table} SET state = ? WHERE {id} = ?", (forged, created))
    code, out = verify_says(capsys, "--akses")
    assert code == 1, out
    assert f"pada posisi {created}" in out


def test_a_login_rewritten_in_the_accounts_store_is_named(settings, access_history, capsys):
    """Someone turns the failed login's address into another: the tree signed no longer
    matches from there, and verify names it."""
    state = dict(read_store(settings, app=ACCOUNTS))
    failed = next(p for p, s in state.items() if b"LoginFailed" in s)
    forged = state[failed].replace(b"10.0.0.2", b"10.9.9.9")
    AccessTamper(settings).run("UPDATE {table} SET state = ? WHERE {id} = ?", (forged, failed))
    code, out = verify_says(capsys, "--akses")
    assert code == 1, out
    assert f"pada posisi {failed}" in out
    assert broken_checkpoints(out) and min(broken_checkpoints(out)) >= failed


def test_a_deleted_login_and_an_emptied_access_ledger_are_not_intact(
    settings, access_history, capsys
):
    state = dict(read_store(settings, app=ACCOUNTS))
    failed = next(p for p, s in state.items() if b"LoginFailed" in s)
    AccessTamper(settings).run("DELETE FROM {table} WHERE {id} = ?", (failed,))
    views = open_views(settings)
    with views.transaction() as cursor:
        for table in AccessLedgerView.tables:
            cursor.execute(f"DELETE FROM {table}")
    views.close()
    code, out = verify_says(capsys, "--akses")
    assert code == 1, out
    assert "TIDAK UTUH: buku besar pada posisi 0" in out
    assert broken_checkpoints(out)
    assert "UTUH: setiap" not in out


def test_both_logs_verify_from_one_stream_signed_by_one_key(
    settings, store_env, monkeypatch, capsys
):
    """One key signs both logs and one stream carries both: each verify takes its own
    checkpoints, and no checkpoint of the other log is read as a fork or a bad signature."""
    env = {**store_env, "LACAK_CHECKPOINT_EVERY": "20", "LACAK_CHECKPOINT_SECONDS": "0.5"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    custody_last = record_history(settings)
    access_last = record_access(settings)
    asyncio.run(ledger_through_the_stream(Settings.from_env(env), custody_last))
    asyncio.run(ledgers_running(Settings.from_env(env), access_last))
    for args, events in (([], custody_last), (["--akses"], access_last)):
        code, out = verify_says(capsys, *args)
        assert code == 0, out
        assert f"s/d posisi {events}" in out
        assert "titik periksa pada posisi" not in out
    views = open_views(settings)
    try:
        custody, access = LedgerView(views), AccessLedgerView(views)
        assert {c.origin for c in custody.checkpoints()} == {"lacak/pemilu-2024"}
        assert {c.origin for c in access.checkpoints()} == {"lacak/pemilu-2024/akses"}
    finally:
        views.close()


def test_the_access_page_shows_its_signed_log_and_verifies_it(settings, access_history):
    """/akses says how far the access log is signed and checks it on request: intact, then
    not once a login is rewritten."""
    Batches(settings.store, wilayah=SERANG).close()  # the custody store the web opens
    with TestClient(create_app(settings, SERANG)) as client:
        sign_in(client, settings, role="auditor")
        page = client.get("/akses").text
        assert "Log akses bertanda tangan" in page
        assert f"sampai posisi {access_history}" in page
        token = client.headers["x-csrf-token"]
        checked = client.post("/akses/periksa", data={"csrf_token": token}).text
        assert "<strong>UTUH.</strong>" in checked, checked
        state = dict(read_store(settings, app=ACCOUNTS))
        login = next(p for p, s in state.items() if b"LoginSucceeded" in s)
        forged = state[login].replace(b"10.0.0.1", b"10.6.6.6")
        AccessTamper(settings).run("UPDATE {table} SET state = ? WHERE {id} = ?", (forged, login))
        checked = client.post("/akses/periksa", data={"csrf_token": token}).text
        assert "<strong>TIDAK UTUH.</strong>" in checked
        assert f"pada posisi {login}" in checked
