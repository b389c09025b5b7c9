"""What the benchmarks share: a scratch store that leaves nothing behind, a device token, a
percentile."""

import os
import secrets
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from services import bahasa
from services.accounts.application import open_accounts
from services.console import Refused
from services.settings import Settings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_token(settings: Settings) -> dict[str, str]:
    """Headers with a scanner token of a `bench` admin: the benchmarks post as devices do."""
    accounts = open_accounts(settings)
    try:
        if accounts.user("bench") is None:
            accounts.create_user("bench", "Benchmark", "admin", "", secrets.token_urlsafe(16))
        _, token = accounts.issue_device("bench", "bench", "", by="bench")
    finally:
        accounts.close()
    return {"authorization": f"Bearer {token}"}


def stack_env(settings: Settings, nats_url: str, port: int) -> dict[str, str]:
    """The environment of a `lacak` process of the bench's stack: its store and data folder,
    its private nats-server, its port."""
    return {
        **os.environ,
        **settings.store,
        "LACAK_DATA_DIR": str(settings.data_dir),
        "LACAK_NATS_URL": nats_url,
        "LACAK_PORT": str(port),
    }


def scratch_schema(settings: Settings) -> tuple[Settings, str]:
    """The settings on a fresh schema of their PostgreSQL database."""
    schema = f"lacak_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(settings.postgres_conninfo, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    store = {**settings.store, "POSTGRES_SCHEMA": schema}
    return settings.replace(store=store), schema


def drop_schema(settings: Settings, schema: str) -> None:
    with psycopg.connect(settings.postgres_conninfo, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@contextmanager
def scratch(command: str) -> Iterator[Settings]:
    """The settings' PostgreSQL in a schema of its own and a fresh folder, both gone after: a
    benchmark's stack leaves nothing behind. Refused on SQLite."""
    settings = Settings.from_env()
    if not settings.postgres:
        raise Refused(bahasa.NEEDS_POSTGRES.format(command=command))
    settings, schema = scratch_schema(settings)
    try:
        with tempfile.TemporaryDirectory(prefix="lacak-bench-") as folder:
            data = Path(folder)
            yield settings.replace(
                data_dir=data, views_db=data / "views.sqlite", ledger_key=data / "ledger.key"
            )
    finally:
        drop_schema(settings, schema)


@contextmanager
def bench_store(store: str, command: str) -> Iterator[Settings]:
    """Fresh settings on the asked store ("sqlite", "postgres", or "" the environment's), gone
    after the run: SQLite in a temporary folder, PostgreSQL in a schema of its own."""
    settings = Settings.from_env()
    if store == "sqlite" or (not store and not settings.postgres):
        with tempfile.TemporaryDirectory(prefix="lacak-bench-") as folder:
            yield Settings.from_env({"LACAK_DATA_DIR": folder})
        return
    with scratch(command) as fresh:
        yield fresh
