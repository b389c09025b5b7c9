"""Tamper evidence: events changed, deleted, inserted or swapped straight in the database are
named by position, on SQLite and PostgreSQL; offline from an export file too. And what holds
against whoever controls the database: the signed checkpoints outside it."""

import asyncio
import re
import sqlite3
import uuid
from datetime import UTC, datetime

import msgspec
import psycopg
import pytest

import events
from services.audit.chain import CheckpointFile, chained
from services.audit.export import checkpoint_lines, export_lines, read_export
from services.audit.note import Signer, parse_checkpoint
from services.cli import main
from services.custody.batch import Scan, batch_id
from services.custody.batches import Batches
from services.custody.plan import kit_plan
from services.messaging.relay import run_relay
from services.processes import run_ledger_projection
from services.settings import Settings
from services.store.notifications import read_store, stored_at, stored_of
from services.views.database import open_views
from services.views.ledger import LedgerView
from services.wilayah import kecamatan_of
from tests.data import REGISTERED, SERANG
from tests.integration.test_relay_and_board import wait_for

TPS = msgspec.structs.replace(SERANG, tps=SERANG.tps[:4])
CHECKPOINT_EVERY = 20


def record_history(settings: Settings) -> int:
    """Batches of 4 TPS, each dispatched and received at its kecamatan: about 80 events."""
    batches = Batches(settings.store, wilayah=SERANG)
    plans = kit_plan(TPS)
    batches.register(plans, at=REGISTERED)
    at = datetime(2024, 2, 10, 1, tzinfo=UTC)
    for plan in plans:
        kecamatan = kecamatan_of(plan.destination)
        for action, location in (("dispatch", "36.04"), ("receive", kecamatan)):
            scan_id = str(uuid.uuid4())
            batches.scan(
                Scan(
                    scan_id=scan_id,
                    label=plan.label,
                    action=action,
                    location=location,
                    occurred_at=at,
                )
            )
    last = batches.recorder.max_notification_id()
    batches.close()
    return last


async def ledger_through_the_stream(settings: Settings, last: int) -> None:
    """Relay and ledger projection (signing, publishing) on real NATS, until the ledger has
    every event and a signed checkpoint covers the last one."""
    views = open_views(settings)
    ledger = LedgerView(views)
    ledger.setup()
    stop = asyncio.Event()
    parts = [
        asyncio.create_task(run_relay(settings, stop)),
        asyncio.create_task(run_ledger_projection(settings, stop)),
    ]
    try:
        await wait_for(lambda: ledger.applied() == last)
        await wait_for(lambda: (ledger.latest() or EMPTY).position == last)
        await asyncio.sleep(0.3)  # the last checkpoint reaches the LACAK_LEDGER stream
    finally:
        stop.set()
        await asyncio.gather(*parts)
        views.close()


class EMPTY:
    position = 0


@pytest.fixture
def history(settings: Settings, store_env, monkeypatch) -> int:
    env = {
        **store_env,
        "LACAK_CHECKPOINT_EVERY": str(CHECKPOINT_EVERY),
        "LACAK_CHECKPOINT_SECONDS": "0.5",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    last = record_history(settings)
    asyncio.run(ledger_through_the_stream(Settings.from_env(env), last))
    return last


def verify_says(capsys, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        main(["verify", *args])
    said = capsys.readouterr()
    return exit_.value.code, said.out + said.err


def broken_checkpoints(out: str) -> list[int]:
    """The positions of the signed checkpoints `verify` says the events no longer reach."""
    return [int(p) for p in re.findall(r"TIDAK UTUH: titik periksa pada posisi (\d+)", out)]


class Tamper:
    """Direct SQL on the event store's table, as someone with database access could."""

    def __init__(self, settings: Settings):
        self.settings = settings
        if settings.postgres:
            self.table, self.id = "batches_events", "notification_id"
            self.connection = psycopg.connect(settings.postgres_conninfo, autocommit=True)
        else:
            self.table, self.id = "stored_events", "rowid"
            self.connection = sqlite3.connect(settings.store["SQLITE_DBNAME"], isolation_level=None)

    def run(self, sql: str, params=()) -> None:
        sql = sql.format(table=self.table, id=self.id)
        if self.settings.postgres:
            sql = sql.replace("?", "%s")
        self.connection.execute(sql, params)

    def state(self, position: int) -> bytes:
        sql = f"SELECT state FROM {self.table} WHERE {self.id} = {int(position)}"
        return bytes(self.connection.execute(sql).fetchone()[0])

    def move(self, old: int, new: int) -> None:
        self.run("UPDATE {table} SET {id} = ? WHERE {id} = ?", (new, old))


def test_an_untouched_store_verifies_against_the_ledger_and_its_checkpoints(history, capsys):
    code, out = verify_says(capsys)
    assert code == 0, out
    assert "UTUH" in out and f"{history} peristiwa" in out.replace(".", "")


def test_a_changed_event_is_named_by_its_position(settings, history, capsys):
    tamper = Tamper(settings)
    event = events.decode(tamper.state(40))
    forged = msgspec.structs.replace(event, occurred_at=datetime(2024, 2, 1, tzinfo=UTC))
    tamper.run("UPDATE {table} SET state = ? WHERE {id} = 40", (events.encode(forged),))
    code, out = verify_says(capsys)
    assert code == 1
    assert "TIDAK UTUH: diubah pada posisi 40" in out
    assert broken_checkpoints(out) and min(broken_checkpoints(out)) >= 40  # the signed trees too


def test_a_deleted_event_is_named_by_its_position(settings, history, capsys):
    Tamper(settings).run("DELETE FROM {table} WHERE {id} = 33")
    code, out = verify_says(capsys)
    assert (code, "TIDAK UTUH: hilang pada posisi 33" in out) == (1, True), out


def test_an_inserted_event_is_named_by_its_position(settings, history, capsys):
    tamper = Tamper(settings)
    for position in range(history, 24, -1):  # make room at 25, as a forger would
        tamper.move(position, position + 1)
    forged = events.decode(tamper.state(26))
    forged = msgspec.structs.replace(forged, originator_id=uuid.uuid4(), originator_version=1)
    tamper.run(
        "INSERT INTO {table} ({id}, originator_id, originator_version, topic, state) "
        "VALUES (25, ?, 1, ?, ?)",
        (
            str(forged.originator_id) if not tamper.settings.postgres else forged.originator_id,
            "events.batch:BatchReceived",
            events.encode(forged),
        ),
    )
    code, out = verify_says(capsys)
    assert (code, "TIDAK UTUH: disisipkan pada posisi 25" in out) == (1, True), out


def test_two_swapped_events_are_named_as_reordered(settings, history, capsys):
    tamper = Tamper(settings)
    tamper.move(50, -1)
    tamper.move(51, 50)
    tamper.move(-1, 51)
    code, out = verify_says(capsys)
    assert (code, "TIDAK UTUH: ditukar urutannya pada posisi 50" in out) == (1, True), out


def test_an_export_verifies_offline_and_a_change_in_it_is_named(
    settings, history, capsys, tmp_path
):
    export, checkpoints = tmp_path / "log.jsonl", tmp_path / "checkpoints.json"
    main(["export", "--out", str(export)])
    main(["checkpoints", "--out", str(checkpoints)])
    views = open_views(settings)
    try:
        signed = len(LedgerView(views).checkpoints())
    finally:
        views.close()  # a pool left open warns when the collector finds it
    assert signed > history // CHECKPOINT_EVERY  # each 20 events, and the tail by the clock
    assert f"{signed} titik periksa ditulis" in capsys.readouterr().out
    offline = ["--export", str(export), "--checkpoints", str(checkpoints)]
    code, out = verify_says(capsys, *offline)
    assert code == 0, out
    lines = export.read_bytes().splitlines(keepends=True)
    lines[29] = lines[29].replace(b'"label":"', b'"label":"X', 1)  # position 30
    export.write_bytes(b"".join(lines))
    code, out = verify_says(capsys, *offline)
    assert (code, "TIDAK UTUH: diubah pada posisi 30" in out) == (1, True), out
    assert broken_checkpoints(out) and min(broken_checkpoints(out)) >= 30


def test_the_store_is_read_in_notification_order(settings, history):
    positions = [position for position, _ in read_store(settings)]
    assert positions == sorted(positions) and len(positions) == history


def test_events_recorded_after_the_ledger_are_left_for_the_next_check(settings, history, capsys):
    """A check while scans come in: the store is read as far as the ledger has chained, so the
    events it has not reached yet are neither `extra` nor, once it has, taken for `removed`."""
    batches = Batches(settings.store, wilayah=SERANG)
    label = kit_plan(TPS)[0].label
    batches.scan(
        Scan(
            scan_id="late-1",
            label=label,
            action="dispatch",
            location="36.04",
            occurred_at=datetime(2024, 2, 11, tzinfo=UTC),
        )
    )
    assert batches.recorder.max_notification_id() > history
    batches.close()
    code, out = verify_says(capsys)
    assert code == 0, out
    assert f"{history} peristiwa" in out.replace(".", "")
    Tamper(settings).run(f"DELETE FROM {{table}} WHERE {{id}} = {history}")
    code, out = verify_says(capsys)
    assert (code, f"TIDAK UTUH: hilang pada posisi {history}" in out) == (1, True), out


# What holds against whoever controls the database: the signed checkpoints outside it.


def ledger_key(capsys) -> str:
    main(["ledger-key"])
    return capsys.readouterr().out.strip()


def test_an_emptied_ledger_view_and_a_changed_event_are_not_intact(settings, history, capsys):
    tamper = Tamper(settings)
    event = events.decode(tamper.state(20))
    forged = msgspec.structs.replace(event, occurred_at=datetime(2024, 2, 1, tzinfo=UTC))
    tamper.run("UPDATE {table} SET state = ? WHERE {id} = 20", (events.encode(forged),))
    views = open_views(settings)
    with views.transaction() as cursor:
        for table in ("ledger_entries", "ledger_checkpoints", "ledger_nodes", "ledger_tree"):
            cursor.execute(f"DELETE FROM {table}")
    views.close()
    code, out = verify_says(capsys)
    assert code == 1, out
    assert "TIDAK UTUH: buku besar pada posisi 0" in out  # the view was emptied, and says so
    assert f"{history} peristiwa" in out.replace(".", "")  # every signed event was read
    assert broken_checkpoints(out) and min(broken_checkpoints(out)) >= 20
    assert "UTUH: setiap" not in out


def test_the_last_event_changed_with_its_ledger_row_fails_against_the_kept_checkpoints(
    settings, history, capsys, tmp_path
):
    kept = tmp_path / "kept.json"
    main(["checkpoints", "--out", str(kept)])
    tamper = Tamper(settings)
    event = events.decode(tamper.state(history))
    forged = events.encode(
        msgspec.structs.replace(event, occurred_at=datetime(2024, 2, 1, tzinfo=UTC))
    )
    tamper.run("UPDATE {table} SET state = ? WHERE {id} = ?", (forged, history))
    views = open_views(settings)  # the ledger's row redone to match, as the attacker would
    ledger = LedgerView(views)
    [(_, _, previous)] = ledger.rows_after(history - 2, 1)
    [(_, leaf, chain)] = chained([(history, forged)], previous)
    with views.transaction() as cursor:
        cursor.execute(
            "UPDATE ledger_entries SET event_hash = ?, chain = ? WHERE position = ?",
            (leaf, chain, history),
        )
    views.close()
    for source in (["--checkpoints", str(kept)], []):  # the file kept, and the stream
        code, out = verify_says(capsys, *source)
        assert code == 1, out
        assert history in broken_checkpoints(out), out


def test_an_export_of_a_tampered_store_fails_offline_though_its_chain_was_recomputed(
    settings, history, capsys, tmp_path
):
    key = ledger_key(capsys)
    honest, forged = tmp_path / "honest.jsonl", tmp_path / "forged.jsonl"
    main(["export", "--out", str(honest)])
    offline = ["--export", str(honest), "--log-key", key]
    assert verify_says(capsys, *offline)[0] == 0
    # By hand: one event changed, every line's hash and chain redone by the published algorithm.
    stored, _, carried = read_export(honest)
    stored[29] = (stored[29][0], stored[29][1].replace(b'"label":"', b'"label":"X', 1))
    forged.write_bytes(b"".join([*export_lines(stored), *checkpoint_lines(carried)]))
    code, out = verify_says(capsys, "--export", str(forged), "--log-key", key)
    assert code == 1 and min(broken_checkpoints(out)) >= 30, out
    # Without the signed checkpoints, nothing is proven.
    forged.write_bytes(b"".join(export_lines(stored)))
    code, out = verify_says(capsys, "--export", str(forged), "--log-key", key)
    assert (code, "TIDAK UTUH: tanpa tanda tangan" in out) == (1, True), out
    # From a tampered store, `lacak export` recomputes the chain: the signatures still hold it.
    tamper = Tamper(settings)
    event = events.decode(tamper.state(50))
    changed = msgspec.structs.replace(event, occurred_at=datetime(2024, 2, 1, tzinfo=UTC))
    tamper.run("UPDATE {table} SET state = ? WHERE {id} = 50", (events.encode(changed),))
    main(["export", "--out", str(forged)])
    code, out = verify_says(capsys, "--export", str(forged), "--log-key", key)
    assert code == 1 and min(broken_checkpoints(out)) >= 50, out


def test_checkpoints_signed_with_another_key_are_refused(settings, history, capsys, tmp_path):
    kept = tmp_path / "kept.json"
    main(["checkpoints", "--out", str(kept)])
    file = msgspec.json.decode(kept.read_bytes(), type=CheckpointFile)
    other = Signer.generate(settings.ledger_origin)  # the same name, not the same key
    notes = [parse_checkpoint(note) for note in file.checkpoints]
    resigned = [c.text + "\n" + other.sign(c.text) for c in notes]
    forged = msgspec.structs.replace(file, checkpoints=resigned)
    kept.write_bytes(msgspec.json.encode(forged))
    code, out = verify_says(capsys, "--checkpoints", str(kept))
    assert code == 1, out
    assert "tidak sah untuk kunci" in out  # the stream's own checkpoints still check
    # ...and a file that names the forger's key does not override the key the auditor gives.
    forged = msgspec.structs.replace(forged, log_key=str(other.verifier))
    kept.write_bytes(msgspec.json.encode(forged))
    code, out = verify_says(capsys, "--checkpoints", str(kept), "--log-key", ledger_key(capsys))
    assert code == 1 and "tidak sah untuk kunci" in out, out


def test_one_event_and_one_boxs_events_are_read_as_stored(settings, history):
    """What inclusion proofs carry: the bytes the ledger hashed, on either store."""
    everything = dict(read_store(settings))
    assert stored_at(settings, 7) == [(7, everything[7])]
    assert stored_at(settings, history + 100) == []
    label = kit_plan(TPS)[0].label
    box = stored_of(settings, batch_id(label))
    assert len(box) == 3  # registered, dispatched, received
    assert all(everything[position] == data for position, data in box)
    assert [p for p, _ in box] == sorted(p for p, _ in box)
