"""Fixtures for real servers: a private nats-server per test, SQLite in tmp_path, PostgreSQL."""

import asyncio
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from events.accounts import Role
from services.accounts.application import open_accounts
from services.cli import run_demo_stack
from services.messaging.server import EmbeddedNats, free_port
from services.settings import Settings
from tests.data import SERANG
from tests.web.signin import PASSWORD, add_user, csrf_of

POSTGRES = {
    "host": "127.0.0.1",
    "port": "5432",
    "dbname": "test",
    "user": os.environ.get("LACAK_TEST_POSTGRES_USER", "postgres"),
}


def postgres_or_skip() -> None:
    """PostgreSQL must be there under CI=true; elsewhere its absence skips the test."""
    try:
        psycopg.connect(**POSTGRES, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        reason = f"PostgreSQL at 127.0.0.1:5432 (database test) is not reachable: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[EmbeddedNats]:
    with EmbeddedNats(tmp_path / "nats") as server:
        yield server


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A fresh schema in database `test`, dropped afterwards."""
    postgres_or_skip()
    schema = f"lacak_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(**POSTGRES, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield schema
    with psycopg.connect(**POSTGRES, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def settings_env(store: str, tmp_path: Path, nats_url: str, schema: str | None) -> dict[str, str]:
    env = {"LACAK_DATA_DIR": str(tmp_path / "data"), "LACAK_NATS_URL": nats_url}
    if store == "postgres":
        env |= {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": POSTGRES["dbname"],
            "POSTGRES_HOST": POSTGRES["host"],
            "POSTGRES_PORT": POSTGRES["port"],
            "POSTGRES_USER": POSTGRES["user"],
            "POSTGRES_PASSWORD": "",
            "POSTGRES_SCHEMA": schema or "",
        }
    return env


@pytest.fixture(params=["sqlite", "postgres"])
def store_env(request: pytest.FixtureRequest, tmp_path: Path, nats_server: EmbeddedNats):
    """The environment of a Lacak process on each event store: SQLite, then PostgreSQL."""
    schema = request.getfixturevalue("postgres_schema") if request.param == "postgres" else None
    (tmp_path / "data").mkdir()
    return settings_env(request.param, tmp_path, nats_server.url, schema)


@pytest.fixture
def settings(store_env: dict[str, str]) -> Settings:
    return Settings.from_env(store_env)


@pytest.fixture
def sqlite_settings(tmp_path: Path, nats_server: EmbeddedNats) -> Settings:
    """Settings of the embedded default: SQLite files in tmp_path and the test's nats-server."""
    (tmp_path / "data").mkdir(exist_ok=True)
    return Settings.from_env(settings_env("sqlite", tmp_path, nats_server.url, None))


class LiveLacak:
    """Web, relay and board projection running in a thread, as `lacak demo` runs them.

    `api` is a client with an admin's scanner token, as a device talks to the API; `signed_in`
    and `session_cookie` give a person's session, as a browser holds one."""

    def __init__(self, settings: Settings, port: int | None = None):
        self.settings = settings.replace(port=port or free_port())
        self.base_url = f"http://127.0.0.1:{self.settings.port}"
        add_user(self.settings, "uji-admin", "admin")
        accounts = open_accounts(self.settings)
        try:
            _, token = accounts.issue_device("alat uji", "uji-admin", "", by="uji")
        finally:
            accounts.close()
        self.api = httpx.Client(
            base_url=self.base_url, headers={"authorization": f"Bearer {token}"}, timeout=30
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="live-lacak", daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            await run_demo_stack(self.settings, SERANG, self._stop)

        asyncio.run(main())

    def start(self) -> "LiveLacak":
        self._thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base_url + "/masuk", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError("the live Lacak did not answer in 30 s")

    def session_cookie(self, role: Role = "admin", scope: str = "") -> dict[str, str]:
        """A logged-in person's session cookie, for a browser context's `add_cookies`."""
        username = f"uji-{role}{scope.replace('.', '')}"
        add_user(self.settings, username, role, scope)
        accounts = open_accounts(self.settings)
        try:
            token, _ = accounts.login(username, PASSWORD, "127.0.0.1")
        finally:
            accounts.close()
        return {"name": "lacak_sesi", "value": token, "url": self.base_url}

    def signed_in(self, role: Role = "admin", scope: str = "", timeout: float = 10) -> httpx.Client:
        """A client that logged in through the form and sends its CSRF token."""
        cookie = self.session_cookie(role, scope)
        client = httpx.Client(
            base_url=self.base_url, timeout=timeout, cookies={cookie["name"]: cookie["value"]}
        )
        page = httpx.get(self.base_url + "/masuk", cookies=client.cookies, timeout=timeout)
        client.headers["x-csrf-token"] = csrf_of(page.text)
        return client

    def stop(self) -> None:
        """Stop web, relay and projection (once: a test may stop it before the fixture does)."""
        self.api.close()
        if not self._thread.is_alive():
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)


@pytest.fixture
def live_lacak(tmp_path: Path, nats_server: EmbeddedNats) -> Iterator[LiveLacak]:
    """Web, relay and projections on SQLite and the test's own nats-server."""
    (tmp_path / "data").mkdir(exist_ok=True)
    settings = Settings.from_env(settings_env("sqlite", tmp_path, nats_server.url, None))
    lacak = LiveLacak(settings).start()
    yield lacak
    lacak.stop()
