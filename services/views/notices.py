"""The notices: a projection (durable consumer `notices`) that turns events into notices, and
beside it the outbox of their deliveries.

Each notice gets the next `seq` as it is written; every receiver (a webhook, an e-mail address,
the NATS subjects) has a cursor: the last `seq` it was given. A receiver that is down keeps its
cursor where it was and is given everything after it, in order, when it is back; its cursor
moves only after it took a notice, in the same process that wrote the notices (the projector
runs once: its lease), so nothing is skipped. The notice's id travels with it: a receiver that
took a notice twice (the process killed between its answer and the cursor's move) sees the same
id. Every attempt, taken or not, is a row of the delivery log, with how long after its event
the notice arrived.

Time makes notices too (a finding past its due time, an anomaly open too long): the notices
process looks at the findings' and anomalies' views and writes each such notice once.
"""

import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from events import Event
from services.notices.rules import (
    Notice,
    Subscription,
    notices_of,
    overdue_notice,
    reaches,
    stale_notice,
)
from services.views.database import Cursor
from services.views.projection import Projection
from services.wilayah import NATIONAL, ancestry

NOTICE_FIELDS = ("seq", "notice_id", "kind", "area", "found", "title", "text", "link", "at")
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS notices (
        seq BIGINT PRIMARY KEY, notice_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
        area TEXT NOT NULL, found TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL,
        link TEXT NOT NULL, at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS notice_cursors (
        receiver TEXT PRIMARY KEY, seq BIGINT NOT NULL, failures INTEGER NOT NULL DEFAULT 0,
        next_at TEXT NOT NULL DEFAULT '', sent_at TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS notice_deliveries (
        receiver TEXT NOT NULL, attempt_at TEXT NOT NULL, seq BIGINT NOT NULL,
        username TEXT NOT NULL, channel TEXT NOT NULL, target TEXT NOT NULL,
        notices TEXT NOT NULL, ok BOOLEAN NOT NULL, detail TEXT NOT NULL,
        delay_ms BIGINT NOT NULL, PRIMARY KEY (receiver, attempt_at, seq))""",
    "CREATE INDEX IF NOT EXISTS notice_deliveries_by_time ON notice_deliveries (attempt_at)",
)
NATS_RECEIVER = "nats"  # the cursor of the publisher to `lacak.notify.>`


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """One attempt to hand notices to a receiver, as the delivery log shows it."""

    receiver: str
    attempt_at: str
    seq: int
    username: str
    channel: str
    target: str
    notices: str  # their ids, comma-separated
    ok: bool
    detail: str  # the receiver's answer, or why it failed
    delay_ms: int  # from the newest notice's event to this attempt


DELIVERY_FIELDS = Delivery.__struct_fields__


class Position(msgspec.Struct, frozen=True, kw_only=True):
    """Where a receiver stands: its cursor, failures in a row, when to try again."""

    seq: int
    failures: int = 0
    next_at: str = ""
    sent_at: str = ""


def areas_of(notices: Iterable[Notice]) -> set[str]:
    """Every area whose readers these notices may reach: where each is about and where it was
    found, with all above them (none for none)."""
    areas = {area for n in notices for area in (*ancestry(n.area), *ancestry(n.found))}
    return areas | ({NATIONAL} if areas else set())


class NoticeView(Projection):
    """The notices projection, their outbox and the delivery log."""

    name = "notices"
    schema = SCHEMA
    tables = ("notices", "notice_cursors", "notice_deliveries")

    def __init__(self, db: Any):
        super().__init__(db)
        self.writing = threading.Lock()  # the projector and the clock take `seq`s in turn

    def apply(self, notifications: Sequence[tuple[int, Any]], stream_sequence: int) -> Any:
        with self.writing:
            return super().apply(notifications, stream_sequence)

    def write(self, cursor: Cursor, fresh: Sequence[tuple[int, Event]]) -> set[str]:
        made = [notice for position, event in fresh for notice in notices_of(position, event)]
        return self._insert(cursor, made)

    def add(self, notices: Iterable[Notice]) -> set[str]:
        """Write notices made by time passing (each once, by its id); the areas they are of."""
        made = list(notices)
        if not made:
            return set()
        with self.writing, self.db.transaction() as cursor:
            return self._insert(cursor, made)

    @staticmethod
    def _insert(cursor: Cursor, made: list[Notice]) -> set[str]:
        if not made:
            return set()
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM notices")
        (seq,) = cursor.fetchone()
        inserted = []
        for notice in made:
            cursor.execute("SELECT 1 FROM notices WHERE notice_id = ?", (notice.id,))
            if cursor.fetchone() is not None:
                continue  # made once already
            seq += 1
            cursor.execute(
                f"INSERT INTO notices ({', '.join(NOTICE_FIELDS)}) "
                f"VALUES ({', '.join('?' * len(NOTICE_FIELDS))})",
                (seq, *row_of(notice)),
            )
            inserted.append(notice)
        return areas_of(inserted)

    # Time: what has waited too long

    def overdue_findings(self, now: datetime, limit: int = 1000) -> list[Notice]:
        """Findings past their due time without KPU's answer, not yet noticed."""
        rows = self.db.query(
            "SELECT number, place, due_at FROM findings "
            "WHERE status IN ('filed', 'acknowledged') AND due_at < ? AND NOT EXISTS "
            "(SELECT 1 FROM notices WHERE notice_id = 'lewat-' || number) "
            "ORDER BY due_at LIMIT ?",
            (utc(now), limit),
        )
        return [overdue_notice(n, place, datetime.fromisoformat(due)) for n, place, due in rows]

    def stale_anomalies(self, now: datetime, minutes: int, limit: int = 1000) -> list[Notice]:
        """Anomalies nobody has taken up `minutes` after they were raised, not yet noticed."""
        before = utc(now.timestamp() - minutes * 60)
        rows = self.db.query(
            "SELECT anomaly_id, kind, label, destination, recorded_at FROM anomaly_queue "
            "WHERE status = 'open' AND recorded_at < ? AND NOT EXISTS "
            "(SELECT 1 FROM notices WHERE notice_id = 'lama-' || anomaly_id) "
            "ORDER BY position LIMIT ?",
            (before, limit),
        )
        return [
            stale_notice(a, kind, label, place, datetime.fromisoformat(at), minutes)
            for a, kind, label, place, at in rows
        ]

    # Reading the notices

    def after(
        self, seq: int, kinds: Sequence[str] = (), limit: int = 500, upto: int | None = None
    ) -> list[tuple[int, Notice]]:
        """The notices after `seq` (up to `upto`; of these kinds), oldest first."""
        sql = f"SELECT {', '.join(NOTICE_FIELDS)} FROM notices WHERE seq > ?"
        params: list[object] = [seq]
        if upto is not None:
            sql += " AND seq <= ?"
            params.append(upto)
        if kinds:
            sql += f" AND kind IN ({', '.join('?' * len(kinds))})"
            params += list(kinds)
        return [
            notice_of(row) for row in self.db.query(sql + " ORDER BY seq LIMIT ?", [*params, limit])
        ]

    def last_seq(self) -> int:
        return self.db.query("SELECT COALESCE(MAX(seq), 0) FROM notices")[0][0]

    def first_seq_since(self, moment: datetime) -> int:
        """The cursor a new receiver starts at: just before the first notice of `moment` or
        later (the clock's notices tell of earlier times in later places: those it passes
        over one by one), or past them all."""
        rows = self.db.query(
            "SELECT MIN(seq) - 1, (SELECT COALESCE(MAX(seq), 0) FROM notices) FROM notices "
            "WHERE at >= ?",
            (utc(moment),),
        )
        first, last = rows[0]
        return last if first is None else first

    def reaching(
        self, subscriptions: Sequence[tuple[Subscription, str]], limit: int = 100
    ) -> list[Notice]:
        """The newest notices that reach any of these (subscription, scope), newest first."""
        kinds = sorted({kind for s, _ in subscriptions for kind in s.kinds})
        if not kinds:
            return []
        rows = self.db.query(
            f"SELECT {', '.join(NOTICE_FIELDS)} FROM notices "
            f"WHERE kind IN ({', '.join('?' * len(kinds))}) ORDER BY seq DESC LIMIT ?",
            [*kinds, limit * 20],
        )
        found = [notice for _, notice in map(notice_of, rows)]
        return [n for n in found if any(reaches(s, scope, n) for s, scope in subscriptions)][:limit]

    # The receivers' cursors and the delivery log

    def position_of(self, receiver: str, start: int) -> Position:
        """Where a receiver stands; a new one starts at `start`."""
        with self.db.transaction() as cursor:
            cursor.execute(
                "INSERT INTO notice_cursors (receiver, seq) VALUES (?, ?) "
                "ON CONFLICT (receiver) DO NOTHING",
                (receiver, start),
            )
            cursor.execute(
                "SELECT seq, failures, next_at, sent_at FROM notice_cursors WHERE receiver = ?",
                (receiver,),
            )
            seq, failures, next_at, sent_at = cursor.fetchone()
        return Position(seq=seq, failures=failures, next_at=next_at, sent_at=sent_at)

    def delivered(self, receiver: str, seq: int, attempt: Delivery | None, at: datetime) -> None:
        """The receiver took everything up to `seq`: its cursor moves, its failures end."""
        with self.db.transaction() as cursor:
            cursor.execute(
                "UPDATE notice_cursors SET seq = ?, failures = 0, next_at = '', sent_at = ? "
                "WHERE receiver = ?",
                (seq, utc(at), receiver),
            )
            if attempt is not None:
                _log(cursor, attempt)

    def passed(self, receiver: str, seq: int) -> None:
        """The receiver has nothing to take up to `seq` (none of its kinds, area or time): its
        cursor moves, and nothing else (a failing receiver still waits, a mail's window stays)."""
        with self.db.transaction() as cursor:
            cursor.execute(
                "UPDATE notice_cursors SET seq = ? WHERE receiver = ? AND seq < ?",
                (seq, receiver, seq),
            )

    def failed(self, receiver: str, attempt: Delivery, next_at: datetime) -> None:
        """The receiver did not take it: tried again at `next_at`; its cursor stays."""
        with self.db.transaction() as cursor:
            cursor.execute(
                "UPDATE notice_cursors SET failures = failures + 1, next_at = ? WHERE receiver = ?",
                (utc(next_at), receiver),
            )
            _log(cursor, attempt)

    def deliveries(
        self, limit: int = 200, receiver: str = "", failed: bool = False
    ) -> list[Delivery]:
        """The delivery log, newest first (of one receiver, or only failures)."""
        sql = f"SELECT {', '.join(DELIVERY_FIELDS)} FROM notice_deliveries WHERE 1 = 1"
        params: list[object] = []
        if receiver:
            sql += " AND receiver = ?"
            params.append(receiver)
        if failed:
            sql += " AND NOT ok"
        rows = self.db.query(sql + " ORDER BY attempt_at DESC LIMIT ?", [*params, limit])
        return [
            msgspec.structs.replace(
                Delivery(**dict(zip(DELIVERY_FIELDS, row, strict=True))), ok=bool(row[7])
            )
            for row in rows
        ]

    def positions(self) -> dict[str, Position]:
        """Every receiver's cursor, for the admin's page."""
        rows = self.db.query("SELECT receiver, seq, failures, next_at, sent_at FROM notice_cursors")
        return {r[0]: Position(seq=r[1], failures=r[2], next_at=r[3], sent_at=r[4]) for r in rows}


def _log(cursor: Cursor, attempt: Delivery) -> None:
    values = msgspec.structs.astuple(attempt)
    cursor.execute(
        f"INSERT INTO notice_deliveries ({', '.join(DELIVERY_FIELDS)}) "
        f"VALUES ({', '.join('?' * len(values))}) ON CONFLICT DO NOTHING",
        values,
    )


def row_of(notice: Notice) -> tuple[str, ...]:
    return (
        notice.id,
        notice.kind,
        notice.area,
        notice.found,
        notice.title,
        notice.text,
        notice.link,
        utc(notice.at),
    )


def notice_of(row: Sequence[Any]) -> tuple[int, Notice]:
    seq, notice_id, kind, area, found, title, text, link, at = row
    return seq, Notice(
        id=notice_id,
        kind=kind,
        area=area,
        found=found,
        title=title,
        text=text,
        link=link,
        at=datetime.fromisoformat(at),
    )


def utc(moment: datetime | float) -> str:
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).isoformat()
