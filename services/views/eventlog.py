"""The event log: one indexed row per event, for auditors to filter, page and download.

A projection of its own (durable consumer `log`), so its indexes never slow the board. Rows keep
what a filter needs (time, kecamatan, type, officer, anomaly kind) and a one-line summary; the
event itself stays in the event store.
"""

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from events import (
    AnomalyRaised,
    BatchDispatched,
    BatchReceived,
    Event,
)
from events.batch import BatchEvent
from events.findings import (
    FindingAcknowledged,
    FindingAnswered,
    FindingClosed,
    FindingEvent,
    FindingFiled,
)
from events.gudang import (
    BoxesAssembled,
    DeliveryAnnounced,
    DeliveryReceived,
    GudangEvent,
    ReplacementRequested,
    SheetsDestroyed,
    SortingTallied,
    SupplierContracted,
)
from services import bahasa
from services.audit.timeline import WHAT, details, who
from services.views.database import Cursor, ViewDatabase
from services.views.projection import Projection
from services.wilayah import Places, kecamatan_of, level_of

EVENT_TYPES = (
    *(cls.__name__ for cls in WHAT),
    *bahasa.GUDANG_EVENT_WORDS,
    *bahasa.SUPERVISION_EVENT_WORDS,
)
PAGE = 50


class LogRow(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    event: str  # class name
    label: str
    destination: str
    kecamatan: str  # of the destination
    location: str  # where it happened ("" for anomaly life and voids)
    occurred_at: str  # device time, UTC ISO
    recorded_at: str  # server time, UTC ISO
    officer: str
    anomaly_kind: str  # for AnomalyRaised
    summary: str  # Bahasa, one line
    account: str = ""  # the account that sent it ("" from the server's own check)
    device: str = ""  # the scanner it came from ("" from a browser)


class LogFilter(msgspec.Struct, frozen=True, kw_only=True):
    since: datetime | None = None  # device time, inclusive
    until: datetime | None = None  # device time, exclusive
    kecamatan: str = ""
    event: str = ""
    officer: str = ""  # a part of the name, any case
    anomaly_kind: str = ""
    label: str = ""


FIELDS = tuple(LogRow.__struct_fields__)


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def log_row(position: int, event: BatchEvent, wilayah: Places | None) -> LogRow:
    """The event as a row; `wilayah` names places in the summary (codes without it)."""
    kecamatan = kecamatan_of(event.destination)
    location = getattr(event, "location", "")
    parts = [WHAT[type(event)]]
    if location:
        parts.append(f"di {wilayah.place_name(location) if wilayah else location}")
    if isinstance(event, BatchDispatched) and event.to:
        parts.append(f"ke {wilayah.place_name(event.to) if wilayah else event.to}")
    if wilayah is not None:
        shown = [f"{k} {v}" for k, v in details(event, wilayah) if v not in ("-", "")]
        if isinstance(event, BatchReceived | BatchDispatched | AnomalyRaised):
            parts.append("; ".join(shown[:4]))
    return LogRow(
        position=position,
        event=type(event).__name__,
        label=event.label,
        destination=event.destination,
        kecamatan=kecamatan,
        location=location,
        occurred_at=utc(event.occurred_at),
        recorded_at=utc(event.recorded_at),
        officer=who(event),
        anomaly_kind=event.kind if isinstance(event, AnomalyRaised) else "",
        summary=" ".join(p for p in parts if p),
        account=event.user,
        device=event.device,
    )


def gudang_row(position: int, event: GudangEvent, wilayah: Places | None) -> LogRow:
    """A gudang's event as a row: its place is the kabupaten, its label the delivery, request
    or Berita Acara it is about."""
    where = wilayah.place_name(event.kabupaten) if wilayah else f"gudang {event.kabupaten}"
    parts = [bahasa.GUDANG_EVENT_WORDS[type(event).__name__], f"di {where}"]
    label, officer = "", ""
    match event:
        case SupplierContracted():
            parts.append(f"{event.supplier}, kontrak {event.contract}")
        case DeliveryAnnounced():
            label = event.delivery
            parts.append(f"tahap {event.stage} dari {event.supplier}, {_sum(event.lines)} barang")
        case DeliveryReceived():
            label, officer = event.delivery, event.officer
            parts.append(f"{_sum(event.lines)} barang")
            if event.mismatches:
                kinds = sorted({m.kind for m in event.mismatches})
                parts.append("selisih: " + ", ".join(bahasa.MISMATCH_NAMES[k] for k in kinds))
        case SortingTallied():
            parts.append(
                f"{event.team}, {event.ballot_type} {event.dapil}: {event.sorted} baik, "
                f"{sum(event.damaged.values())} rusak"
            )
        case ReplacementRequested():
            label = event.request
            parts.append(f"{_sum(event.lines)} lembar")
        case SheetsDestroyed():
            label, officer = event.record, event.officer
            parts.append(f"{_sum(event.lines)} lembar, saksi {', '.join(event.witnesses)}")
        case BoxesAssembled():
            parts.append(f"{event.team}: {event.count}")
    return LogRow(
        position=position,
        event=type(event).__name__,
        label=label,
        destination=event.kabupaten,
        kecamatan=event.kabupaten,  # no kecamatan: the gudang is the kabupaten's
        location=event.kabupaten,
        occurred_at=utc(event.occurred_at),
        recorded_at=utc(event.recorded_at),
        officer=officer,
        anomaly_kind="",
        summary=" ".join(parts),
        account=event.user,
        device=event.device,
    )


def finding_row(position: int, event: FindingEvent, wilayah: Places | None) -> LogRow:
    """A finding's event as a row: its label the finding's number, its place where it is
    about. A citizen's contact is never in the log."""
    where = wilayah.place_name(event.where) if wilayah else event.where
    officer, parts = "", [bahasa.SUPERVISION_EVENT_WORDS[type(event).__name__], event.finding]
    match event:
        case FindingFiled():
            officer = event.filed_by
            parts += [f"({bahasa.SUPERVISION_KINDS[event.kind]})", f"di {where}"]
        case FindingAcknowledged() | FindingAnswered():
            officer = event.by
        case FindingClosed():
            officer = event.by
            parts.append("jawaban diterima" if event.accepted else "jawaban tidak diterima")
    below = level_of(event.where) not in ("provinsi", "kabupaten")
    return LogRow(
        position=position,
        event=type(event).__name__,
        label=event.finding,
        destination=event.where,
        kecamatan=kecamatan_of(event.where) if below else event.where,
        location=event.where,
        occurred_at=utc(event.occurred_at),
        recorded_at=utc(event.recorded_at),
        officer=officer,
        anomaly_kind="",
        summary=" ".join(parts),
        account=event.user,
        device=event.device,
    )


def _sum(lines: Sequence[Any]) -> str:
    return bahasa.thousands(sum(line.quantity for line in lines))


SCHEMA = (
    f"""CREATE TABLE IF NOT EXISTS event_log (
        position BIGINT PRIMARY KEY,
        {", ".join(f"{f} TEXT NOT NULL" for f in FIELDS[1:])})""",
    "CREATE INDEX IF NOT EXISTS event_log_by_time ON event_log (occurred_at)",
    "CREATE INDEX IF NOT EXISTS event_log_by_kecamatan ON event_log (kecamatan, position)",
    "CREATE INDEX IF NOT EXISTS event_log_by_type ON event_log (event, position)",
    "CREATE INDEX IF NOT EXISTS event_log_by_label ON event_log (label, position)",
    "CREATE INDEX IF NOT EXISTS event_log_by_anomaly ON event_log (anomaly_kind, position)",
)


class EventLogView(Projection):
    """The log projection and its queries."""

    name = "log"
    version = 4  # 2: who sent each event (account, device); 3: the gudang's; 4: findings
    schema = SCHEMA
    tables = ("event_log",)

    def __init__(self, db: ViewDatabase, wilayah: Places | None = None):
        super().__init__(db)
        self.wilayah = wilayah

    def write(self, cursor: Cursor, fresh: Sequence[tuple[int, Event]]) -> set[str]:
        rows = [
            log_row(p, e, self.wilayah)
            if isinstance(e, BatchEvent)
            else gudang_row(p, e, self.wilayah)
            if isinstance(e, GudangEvent)
            else finding_row(p, e, self.wilayah)
            for p, e in fresh
            if isinstance(e, BatchEvent | GudangEvent | FindingEvent)
        ]
        if rows:
            cursor.executemany(
                f"INSERT INTO event_log ({', '.join(FIELDS)}) "
                f"VALUES ({', '.join('?' * len(FIELDS))})",
                [tuple(getattr(r, f) for f in FIELDS) for r in rows],
            )
        return set()

    def page(self, where: LogFilter, before: int | None = None, limit: int = PAGE) -> list[LogRow]:
        """Newest first, `limit` rows older than position `before`."""
        sql, params = _where(where)
        if before is not None:
            sql += " AND position < ?"
            params.append(before)
        rows = self.db.query(
            f"SELECT {', '.join(FIELDS)} FROM event_log WHERE {sql} ORDER BY position DESC LIMIT ?",
            [*params, limit],
        )
        return [LogRow(**dict(zip(FIELDS, row, strict=True))) for row in rows]

    def all(self, where: LogFilter, chunk: int = 5000) -> Iterator[LogRow]:
        """Every matching row, oldest first, a chunk at a time (for a download)."""
        after = 0
        while True:
            sql, params = _where(where)
            rows = self.db.query(
                f"SELECT {', '.join(FIELDS)} FROM event_log WHERE {sql} AND position > ? "
                "ORDER BY position LIMIT ?",
                [*params, after, chunk],
            )
            if not rows:
                return
            for row in rows:
                yield LogRow(**dict(zip(FIELDS, row, strict=True)))
            after = rows[-1][0]


def _where(where: LogFilter) -> tuple[str, list[object]]:
    clauses, params = ["1 = 1"], []
    if where.since is not None:
        clauses.append("occurred_at >= ?")
        params.append(utc(where.since))
    if where.until is not None:
        clauses.append("occurred_at < ?")
        params.append(utc(where.until))
    if where.kecamatan and level_of(where.kecamatan) == "kecamatan":
        clauses.append("kecamatan = ?")
        params.append(where.kecamatan)
    elif where.kecamatan:  # a kabupaten's or a province's kecamatan (digits and dots: no escape)
        clauses.append("(kecamatan = ? OR kecamatan LIKE ?)")  # and a kabupaten's gudang
        params.extend((where.kecamatan, where.kecamatan + ".%"))
    for column in ("event", "anomaly_kind", "label"):
        value = getattr(where, column)
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if where.officer:
        clauses.append("LOWER(officer) LIKE ?")
        params.append("%" + where.officer.lower().replace("%", "").replace("_", "") + "%")
    return " AND ".join(clauses), params
