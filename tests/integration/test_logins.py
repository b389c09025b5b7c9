"""Logins against brute force without locking people out: per name and address, a slowed name
under attack, and no login waiting for another's."""

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from services.accounts.application import (
    ATTACKED_NAME_PAUSE,
    MAX_ADDRESS_FAILURES,
    MAX_FAILURES,
    UNDER_ATTACK,
    Accounts,
    password_hasher,
)
from services.accounts.roles import LoginRefused
from services.accounts.sessions import Sessions
from services.settings import Settings
from services.views.database import SqliteViews
from tests.conftest import LiveLacak, settings_env
from tests.web.signin import PASSWORD as SIGNIN_PASSWORD
from tests.web.signin import add_user, login_token_of

PASSWORD = "kata-sandi-rina-1"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 2, 10, 8, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(tmp_path: Path, clock: Clock):
    store = {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
             "SQLITE_DBNAME": str(tmp_path / "accounts.sqlite")}  # fmt: skip
    app = Accounts(store, Sessions(SqliteViews(tmp_path / "accounts.sqlite")), clock=clock,
                   hasher=password_hasher())  # fmt: skip
    app.create_user("rina", "Rina", "monitor", "36.04", PASSWORD)
    yield app
    app.close()


def fail(accounts: Accounts, address: str, times: int, username: str = "rina") -> None:
    for _ in range(times):
        with pytest.raises(LoginRefused):
            accounts.login(username, "bukan-sandinya", address)


def test_failures_from_one_address_lock_the_name_there_and_not_for_its_owner_elsewhere(accounts):
    fail(accounts, "203.0.113.9", MAX_FAILURES)
    with pytest.raises(LoginRefused) as locked:
        accounts.login("rina", PASSWORD, "203.0.113.9")  # the right password, from there
    assert locked.value.locked
    token, session = accounts.login("rina", PASSWORD, "10.0.0.7")  # from her own desk
    assert session.username == "rina" and token


def test_a_name_tried_from_many_addresses_is_named_on_the_access_log_and_slowed(accounts, clock):
    for n in range(UNDER_ATTACK):
        fail(accounts, f"198.51.100.{n}", 1)
    assert accounts.names_under_attack() == [("rina", UNDER_ATTACK, UNDER_ATTACK)]
    with pytest.raises(LoginRefused) as slowed:  # an attacking address at once: not checked
        accounts.login("rina", PASSWORD, "198.51.100.3")
    assert slowed.value.locked and "beberapa detik lagi" in str(slowed.value)
    _, session = accounts.login("rina", PASSWORD, "10.0.0.7")  # her own desk: checked at once
    assert session.username == "rina"
    clock.now += ATTACKED_NAME_PAUSE + timedelta(seconds=1)
    _, session = accounts.login("rina", PASSWORD, "198.51.100.3")  # a moment later, checked
    assert session.username == "rina"


def test_the_addresses_of_one_ipv6_64_count_as_one_client(accounts):
    for n in range(MAX_FAILURES):
        fail(accounts, f"2001:db8:1:2::{n + 1:x}", 1)
    with pytest.raises(LoginRefused) as locked:
        accounts.login("rina", PASSWORD, "2001:db8:1:2::ffff")
    assert locked.value.locked
    _, session = accounts.login("rina", PASSWORD, "2001:db8:1:3::1")  # another /64
    assert session.username == "rina"


def test_logins_sent_at_once_from_one_address_get_no_more_tries_than_its_limit(accounts):
    """Forty wrong logins of forty names from one address, all at once: the address's count is
    read and written under its lock, so exactly its limit is checked and recorded."""
    names = [f"nama{n}" for n in range(2 * MAX_ADDRESS_FAILURES)]
    refusals: list[LoginRefused] = []

    def try_once(name: str) -> None:
        try:
            accounts.login(name, "bukan-sandinya", "192.0.2.50")
        except LoginRefused as refused:
            refusals.append(refused)

    workers = [threading.Thread(target=try_once, args=(name,)) for name in names]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert len(refusals) == len(names)
    assert sum(not r.locked for r in refusals) == MAX_ADDRESS_FAILURES  # checked, and wrong
    assert accounts.sessions.failures(accounts.clock(), address="192.0.2.50") == (
        MAX_ADDRESS_FAILURES
    )


def test_a_login_does_not_wait_for_another_names_login(accounts):
    stripes = accounts._stripes
    held = stripes[hash("rina") % len(stripes)]
    name = next(
        f"budi{n}" for n in range(100) if stripes[hash(f"budi{n}") % len(stripes)] is not held
    )
    accounts.create_user(name, "Budi", "monitor", "36.04", PASSWORD)
    done = threading.Event()
    with held:  # rina's login is under way (as if her password were being hashed)
        worker = threading.Thread(
            target=lambda: (accounts.login(name, PASSWORD, "10.0.0.8"), done.set())
        )
        worker.start()
        worker.join(timeout=20)
    assert done.is_set(), "a login waited for another name's"


def login_over_http(base_url: str, password: str, forwarded_for: str) -> httpx.Response:
    """The login form, posted through a real uvicorn as a browser behind a proxy would."""
    with httpx.Client(base_url=base_url, timeout=10) as browser:
        token = login_token_of(browser.get("/masuk").text)
        form = {"username": "rina", "password": password, "csrf_token": token}
        return browser.post("/masuk", data=form, headers={"x-forwarded-for": forwarded_for})


@pytest.mark.parametrize("trusted", ["", "127.0.0.1"], ids=["no-proxy", "behind-a-proxy"])
def test_a_forwarded_address_counts_only_from_a_trusted_proxy(tmp_path, nats_server, trusted):
    """Without trusted proxies, a new X-Forwarded-For each try does not escape the limit of the
    one real address; behind a named proxy, each client is counted at its own address."""
    (tmp_path / "data").mkdir()
    settings = Settings.from_env(settings_env("sqlite", tmp_path, nats_server.url, None))
    lacak = LiveLacak(settings.replace(trusted_proxies=trusted)).start()
    try:
        add_user(lacak.settings, "rina", "monitor", "36.04")
        for n in range(MAX_FAILURES):
            assert login_over_http(lacak.base_url, "salah", f"10.9.0.{n}").status_code == 401
        answer = login_over_http(lacak.base_url, SIGNIN_PASSWORD, "10.9.0.200")
        assert answer.status_code == (303 if trusted else 429), answer.text  # 429: locked there
    finally:
        lacak.stop()
