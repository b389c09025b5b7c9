"""The findings view: each Bawaslu finding or citizen's report with where it stands (waiting for
KPU, acknowledged, answered, closed), when KPU's answer is due, and KPU's answer; per area, how
many are open and how many overdue."""

from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec

from events import Event
from events.findings import FindingAcknowledged, FindingAnswered, FindingClosed, FindingFiled
from services.views.database import Cursor
from services.views.projection import Projection
from services.wilayah import NATIONAL, ancestry, tps_prefix

FIELDS = (
    "number",
    "place",
    "source",
    "kind",
    "text",
    "labels",
    "surat_jalan",
    "filed_by",
    "contact",
    "filed_at",
    "due_at",
    "status",
    "acknowledged_by",
    "acknowledged_at",
    "answer",
    "answered_by",
    "answered_at",
    "closed_by",
    "closed_at",
    "accepted",
    "close_note",
    "account",
    "photos",
)
SCHEMA = (
    f"""CREATE TABLE IF NOT EXISTS findings (
        position BIGINT NOT NULL, area_key TEXT NOT NULL,
        {", ".join(f"{f} TEXT NOT NULL DEFAULT ''" for f in FIELDS[1:])},
        number TEXT PRIMARY KEY)""",
    "CREATE INDEX IF NOT EXISTS findings_by_area ON findings (area_key, position)",
)
UNANSWERED = ("filed", "acknowledged")  # waiting for KPU's answer: overdue past its due time


class FindingRow(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    place: str  # the wilayah code it is about
    source: str
    kind: str
    text: str
    labels: str  # comma-separated
    surat_jalan: str
    filed_by: str
    contact: str  # the reference of a citizen's contact (services/findings/contacts.py)
    filed_at: str  # UTC ISO
    due_at: str
    status: str  # filed, acknowledged, answered, closed
    acknowledged_by: str
    acknowledged_at: str
    answer: str
    answered_by: str
    answered_at: str
    closed_by: str
    closed_at: str
    accepted: str  # "ya", "tidak", "" while open
    close_note: str
    account: str  # the account that filed it
    photos: str  # SHA-256 of each photo, comma-separated

    def overdue(self, now: datetime) -> bool:
        """Past its due time with no answer from KPU yet."""
        return self.status in UNANSWERED and _utc(now) > self.due_at

    @property
    def answered_late(self) -> bool:
        return bool(self.answered_at) and self.answered_at > self.due_at


class FindingCount(msgspec.Struct, frozen=True):
    """An area's findings not closed yet, and how many of them are overdue."""

    open: int = 0
    overdue: int = 0


def area_key(place: str) -> str:
    """A key that every area above a place is a prefix of: a TPS by its desa's digits."""
    return tps_prefix(place) if place else ""


class FindingView(Projection):
    """The findings projection and its queries."""

    name = "findings"
    version = 2  # 2: a citizen's contact by reference, kept beside the store
    schema = SCHEMA
    tables = ("findings",)

    def write(self, cursor: Cursor, fresh: Sequence[tuple[int, Event]]) -> set[str]:
        changed: set[str] = set()
        for position, event in fresh:
            match event:
                case FindingFiled():
                    values = {
                        "place": event.where,
                        "source": event.source,
                        "kind": event.kind,
                        "text": event.text,
                        "labels": ",".join(event.labels),
                        "surat_jalan": ",".join(event.surat_jalan),
                        "filed_by": event.filed_by,
                        "contact": event.contact,
                        "filed_at": _utc(event.occurred_at),
                        "due_at": _utc(event.due_at),
                        "status": "filed",
                        "account": event.user,
                        "photos": ",".join(event.photos),
                    }
                    columns = ["number", "position", "area_key", *values]
                    cursor.execute(
                        f"INSERT INTO findings ({', '.join(columns)}) "
                        f"VALUES ({', '.join('?' * len(columns))}) "
                        "ON CONFLICT (number) DO NOTHING",
                        (event.finding, position, area_key(event.where), *values.values()),
                    )
                case FindingAcknowledged():
                    self._update(
                        cursor,
                        event.finding,
                        "CASE WHEN status = 'filed' THEN 'acknowledged' ELSE status END",
                        acknowledged_by=event.by,
                        acknowledged_at=_utc(event.occurred_at),
                    )
                case FindingAnswered():
                    self._update(
                        cursor,
                        event.finding,
                        "'answered'",
                        answer=event.action,
                        answered_by=event.by,
                        answered_at=_utc(event.occurred_at),
                    )
                case FindingClosed():
                    self._update(
                        cursor,
                        event.finding,
                        "'closed'",
                        closed_by=event.by,
                        closed_at=_utc(event.occurred_at),
                        accepted="ya" if event.accepted else "tidak",
                        close_note=event.note,
                    )
                case _:
                    continue
            changed.update(ancestry(event.where))
            changed.add(NATIONAL)
        return changed

    @staticmethod
    def _update(cursor: Cursor, number: str, status: str, **values: str) -> None:
        cursor.execute(
            f"UPDATE findings SET status = {status}, "
            + ", ".join(f"{column} = ?" for column in values)
            + " WHERE number = ?",
            (*values.values(), number),
        )

    def rows(
        self, area: str, statuses: Sequence[str] = (), source: str = "", limit: int = 200
    ) -> list[FindingRow]:
        """The area's findings, newest first; of these statuses and source, if given."""
        sql = f"SELECT {', '.join(FIELDS)} FROM findings WHERE area_key LIKE ?"
        params: list[object] = [area_key(area) + "%"]
        if statuses:
            sql += f" AND status IN ({', '.join('?' * len(statuses))})"
            params += list(statuses)
        if source:
            sql += " AND source = ?"
            params.append(source)
        found = self.db.query(sql + " ORDER BY position DESC LIMIT ?", [*params, limit])
        return [FindingRow(**dict(zip(FIELDS, row, strict=True))) for row in found]

    def open_in(self, area: str, children: Sequence[str], now: datetime) -> dict[str, FindingCount]:
        """The open and overdue findings of an area and of each of its children (areas one
        level down), in one grouped query; an area with none is left out."""
        width = len(area_key(children[0])) if children else len(area_key(area))
        found = self.db.query(
            f"SELECT CASE WHEN length(area_key) >= {width} THEN substr(area_key, 1, {width}) "
            "ELSE '' END AS below, COUNT(*), "
            "SUM(CASE WHEN status IN (?, ?) AND due_at < ? THEN 1 ELSE 0 END) "
            "FROM findings WHERE area_key LIKE ? AND status <> 'closed' GROUP BY below",
            (*UNANSWERED, _utc(now), area_key(area) + "%"),
        )
        below = {key: FindingCount(open=int(n), overdue=int(late)) for key, n, late in found}
        counts = {child: below[area_key(child)] for child in children if area_key(child) in below}
        if below:
            counts[area] = FindingCount(
                open=sum(c.open for c in below.values()),
                overdue=sum(c.overdue for c in below.values()),
            )
        return counts

    def naming(self, label: str) -> list[FindingRow]:
        """The findings that name a box, oldest first (for its timeline)."""
        found = self.db.query(
            f"SELECT {', '.join(FIELDS)} FROM findings "
            "WHERE (',' || labels || ',') LIKE ? ORDER BY position",
            (f"%,{label},%",),
        )
        return [FindingRow(**dict(zip(FIELDS, row, strict=True))) for row in found]

    def one(self, number: str) -> FindingRow | None:
        found = self.db.query(
            f"SELECT {', '.join(FIELDS)} FROM findings WHERE number = ?", (number,)
        )
        return FindingRow(**dict(zip(FIELDS, found[0], strict=True))) if found else None


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
