"""The event log browser: filter by time, kecamatan, type, officer, anomaly; page; as CSV."""

import asyncio
import csv
import io
import itertools
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Annotated
from urllib.parse import urlencode

import msgspec
from litestar import Router, get
from litestar.datastructures import State
from litestar.exceptions import ClientException, ValidationException
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream, Template

from events import AnomalyKind
from services.eventlog import EVENT_TYPES, FIELDS, PAGE, EventLogView, LogFilter, LogRow
from services.timeline import WHAT
from web.errors import error_responses
from web.params import Position, Time, one_of, unreadable_time

WIB = timezone(timedelta(hours=7), "WIB")
Text = Annotated[str, QueryParameter(max_length=64)]
ANOMALY_KINDS = AnomalyKind.__args__  # type: ignore[attr-defined]
EVENT_NAMES = {cls.__name__: what for cls, what in WHAT.items()}


class LogPage(msgspec.Struct, frozen=True, kw_only=True):
    events: list[LogRow]
    before: int | None  # pass it back for the next, older page


def moment(value: str, name: str) -> datetime | None:
    """`2024-02-10T08:00` from a form (WIB, Kab. Serang's time) or an ISO time with its offset."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise unreadable_time(value, f"{name}: waktu {value!r} tidak bisa dibaca.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=WIB)


def log_filter(
    state: State, since: str, until: str, kecamatan: str, event: str, officer: str, anomaly: str,
    label: str,
) -> LogFilter:  # fmt: skip
    if kecamatan and kecamatan not in state.wilayah.kecamatan_by_code:
        raise ClientException(f"Kecamatan {kecamatan!r} tidak dikenal.", status_code=422)
    if event and event not in EVENT_TYPES:
        raise ValidationException(f"Jenis peristiwa {event!r} tidak dikenal.")
    if anomaly and anomaly not in ANOMALY_KINDS:
        raise ValidationException(f"Jenis anomali {anomaly!r} tidak dikenal.")
    return LogFilter(
        since=moment(since, "dari"),
        until=moment(until, "sampai"),
        kecamatan=kecamatan,
        event=event,
        officer=officer.strip(),
        anomaly_kind=anomaly,
        label=label.strip().upper(),
    )


def view_of(state: State) -> EventLogView:
    return EventLogView(state.views)


@get("/log", name="event-log", opt={"need": "audit"})
async def log_page(
    state: State,
    dari: FromQuery[Text] = "",
    sampai: FromQuery[Text] = "",
    kecamatan: FromQuery[Text] = "",
    jenis: FromQuery[Text] = "",
    petugas: FromQuery[Text] = "",
    anomali: FromQuery[Text] = "",
    label: FromQuery[Text] = "",
    before: Position = None,
) -> Template:
    """Every event, newest first, as filtered; a page at a time; the same as CSV."""
    where = log_filter(state, dari, sampai, kecamatan, jenis, petugas, anomali, label)
    rows = await asyncio.to_thread(view_of(state).page, where, before)
    query = {"dari": dari, "sampai": sampai, "kecamatan": kecamatan, "jenis": jenis,
             "petugas": petugas, "anomali": anomali, "label": label}  # fmt: skip
    query = {k: v for k, v in query.items() if v}
    return Template(
        template_name="log.html",
        context={
            "rows": rows,
            "query": query,
            "csv_url": "/log.csv?" + urlencode(query),
            "older_url": "/log?" + urlencode({**query, "before": rows[-1].position})
            if len(rows) == PAGE
            else "",
            "event_names": EVENT_NAMES,
            "anomaly_kinds": ANOMALY_KINDS,
            "kecamatan": state.wilayah.kecamatan,
            "place": state.wilayah.place_name,
        },
    )


@get("/log.csv", name="event-log-csv", opt={"need": "audit"})
async def log_csv(
    state: State,
    dari: FromQuery[Text] = "",
    sampai: FromQuery[Text] = "",
    kecamatan: FromQuery[Text] = "",
    jenis: FromQuery[Text] = "",
    petugas: FromQuery[Text] = "",
    anomali: FromQuery[Text] = "",
    label: FromQuery[Text] = "",
) -> Stream:
    """Every matching event, oldest first, as CSV (UTF-8, one header row)."""
    where = log_filter(state, dari, sampai, kecamatan, jenis, petugas, anomali, label)
    view = view_of(state)

    async def lines() -> AsyncIterator[bytes]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(FIELDS)
        rows = view.all(where)
        while True:
            chunk = await asyncio.to_thread(lambda: list(itertools.islice(rows, 2000)))
            for row in chunk:
                writer.writerow([getattr(row, f) for f in FIELDS])
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
            if len(chunk) < 2000:
                return

    return Stream(
        lines(),
        media_type="text/csv",  # Litestar adds the charset
        headers={"Content-Disposition": 'attachment; filename="lacak-log.csv"'},
    )


@get("/api/v1/events", name="api-event-log", opt={"need": "audit"}, responses=error_responses(422))
async def log_json(
    state: State,
    since: Time = "",
    until: Time = "",
    kecamatan: FromQuery[Text] = "",
    event: Annotated[str, QueryParameter(max_length=64, schema_extra=one_of(EVENT_TYPES))] = "",
    officer: FromQuery[Text] = "",
    anomaly: Annotated[str, QueryParameter(max_length=64, schema_extra=one_of(ANOMALY_KINDS))] = "",
    label: FromQuery[Text] = "",
    before: Position = None,
) -> LogPage:
    """The event log, newest first, 50 at a time; pass `before` for the next page."""
    where = log_filter(state, since, until, kecamatan, event, officer, anomaly, label)
    rows = await asyncio.to_thread(view_of(state).page, where, before)
    return LogPage(events=rows, before=rows[-1].position if len(rows) == PAGE else None)


log_router = Router(path="/", route_handlers=[log_page, log_csv, log_json])
