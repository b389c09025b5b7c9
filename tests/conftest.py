"""Fixtures for real servers: a private nats-server per test, SQLite in tmp_path, PostgreSQL."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from services.messaging import EmbeddedNats
from services.settings import Settings

POSTGRES = {"host": "127.0.0.1", "port": "5432", "dbname": "test", "user": os.environ.get(
    "LACAK_TEST_POSTGRES_USER", "postgres")}  # fmt: skip


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
