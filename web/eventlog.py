"""The event log browser: filter by time, kecamatan, type, officer, anomaly; page; as CSV."""

import asyncio
import csv
import io
import itertools
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import urlencode

import msgspec
from litestar import Router, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ClientException, ValidationException
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream, Template

from events import AnomalyKind
from events.gudang import GudangEvent
from services import bahasa
from services.audit.timeline import WHAT
from services.views.eventlog import EVENT_TYPES, FIELDS, PAGE, EventLogView, LogFilter, LogRow
from services.wilayah import Served, above_kabupaten, ancestry, known_kecamatan, level_of, within
from web.anomalies import reader_area
from web.auth import Principal
from web.errors import error_responses
from web.params import Position, Time, moment, one_of

Text = Annotated[str, QueryParameter(max_length=64)]
ANOMALY_KINDS = AnomalyKind.__args__  # type: ignore[attr-defined]
EVENT_NAMES = (
    {cls.__name__: what for cls, what in WHAT.items()}
    | bahasa.GUDANG_EVENT_WORDS
    | bahasa.SUPERVISION_EVENT_WORDS
)

# a delivery's or a Berita Acara's number is no box: the log does not link it to one
GUDANG_EVENTS = frozenset(kind.__name__ for kind in GudangEvent.__subclasses__())


class LogPage(msgspec.Struct, frozen=True, kw_only=True):
    events: list[LogRow]
    before: int | None  # pass it back for the next, older page


class LogQuery(msgspec.Struct, frozen=True, kw_only=True):
    """The log's filter, and the query that asked for it (for the page's own links)."""

    where: LogFilter
    query: dict[str, str]


def log_filter(
    wilayah: Served,
    since: str,
    until: str,
    kecamatan: str,
    event: str,
    officer: str,
    anomaly: str,
    label: str,
) -> LogFilter:
    if kecamatan and not known_kecamatan(wilayah, kecamatan):
        raise ClientException(bahasa.UNKNOWN_KECAMATAN.format(code=kecamatan), status_code=422)
    if event and event not in EVENT_TYPES:
        raise ValidationException(bahasa.UNKNOWN_EVENT_TYPE.format(event=event))
    if anomaly and anomaly not in ANOMALY_KINDS:
        raise ValidationException(bahasa.UNKNOWN_ANOMALY_KIND.format(kind=anomaly))
    return LogFilter(
        since=moment(since, "dari"),
        until=moment(until, "sampai"),
        kecamatan=kecamatan,
        event=event,
        officer=officer.strip(),
        anomaly_kind=anomaly,
        label=label.strip().upper(),
    )


def page_query(
    wilayah: NamedDependency[Served],
    dari: FromQuery[Text] = "",
    sampai: FromQuery[Text] = "",
    kecamatan: FromQuery[Text] = "",
    jenis: FromQuery[Text] = "",
    petugas: FromQuery[Text] = "",
    anomali: FromQuery[Text] = "",
    label: FromQuery[Text] = "",
) -> LogQuery:
    """The filter of the log's page and its CSV, as the page's form names it (in Bahasa)."""
    where = log_filter(wilayah, dari, sampai, kecamatan, jenis, petugas, anomali, label)
    query = {
        "dari": dari,
        "sampai": sampai,
        "kecamatan": kecamatan,
        "jenis": jenis,
        "petugas": petugas,
        "anomali": anomali,
        "label": label,
    }
    return LogQuery(where=where, query={k: v for k, v in query.items() if v})


def api_filter(
    wilayah: NamedDependency[Served],
    since: Time = "",
    until: Time = "",
    kecamatan: FromQuery[Text] = "",
    event: Annotated[str, QueryParameter(max_length=64, schema_extra=one_of(EVENT_TYPES))] = "",
    officer: FromQuery[Text] = "",
    anomaly: Annotated[str, QueryParameter(max_length=64, schema_extra=one_of(ANOMALY_KINDS))] = "",
    label: FromQuery[Text] = "",
) -> LogFilter:
    """The filter of the log's JSON, with the API's English names."""
    return log_filter(wilayah, since, until, kecamatan, event, officer, anomaly, label)


def area_choices(places: Served, reach: str, chosen: str) -> list[tuple[str, str]]:
    """(code, name) of the areas the log's Wilayah box offers a reader: those one level below
    the area they reach (the provinces of the nation, a province's kabupaten/kota, a kabupaten's
    kecamatan), then those below each area on the way down to the one chosen, so a kabupaten
    chosen offers its kecamatan. Any other is typed by its code."""
    choices: list[tuple[str, str]] = []
    for area in (reach, *(a for a in ancestry(chosen) if a != reach and within(reach, a))):
        if above_kabupaten(area):
            choices += [(code, places.area_name(code)) for code in places.children_of(area)]
        elif level_of(area) == "kabupaten":
            choices += [(k.code, places.area_name(k.code)) for k in places.kecamatan_in(area)]
    return choices


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A cell a spreadsheet will not run as a formula (OWASP's advice on CSV injection): text
    that starts like one gets a leading apostrophe, which Excel and LibreOffice show as text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


PAGE_QUERY = {"asked": Provide(page_query, sync_to_thread=False)}
# The area asked for is the `kecamatan` filtered by, which the reader's scope must reach.
LOG_ACCESS = {"need": "audit", "area": "kecamatan"}


@get("/log", name="event-log", opt=LOG_ACCESS, dependencies=PAGE_QUERY)
async def log_page(
    event_log: NamedDependency[EventLogView],
    wilayah: NamedDependency[Served],
    principal: NamedDependency[Principal | None],
    asked: NamedDependency[LogQuery],
    before: Position = None,
) -> Template:
    """Every event, newest first, as filtered; a page at a time; the same as CSV."""
    rows = await asyncio.to_thread(event_log.page, asked.where, before)
    reach = reader_area(principal, "", wilayah.code)
    query = asked.query
    older = ""
    if len(rows) == PAGE:
        older = "/log?" + urlencode({**query, "before": rows[-1].position})
    return Template(
        template_name="log.html",
        context={
            "rows": rows,
            "query": query,
            "csv_url": "/log.csv?" + urlencode(query),
            "older_url": older,
            "event_names": EVENT_NAMES,
            "anomaly_kinds": ANOMALY_KINDS,
            "gudang_events": GUDANG_EVENTS,
            "areas": await asyncio.to_thread(area_choices, wilayah, reach, asked.where.kecamatan),
            "place": wilayah.place_name,
        },
    )


@get("/log.csv", name="event-log-csv", opt=LOG_ACCESS, dependencies=PAGE_QUERY)
async def log_csv(
    event_log: NamedDependency[EventLogView], asked: NamedDependency[LogQuery]
) -> Stream:
    """Every matching event, oldest first, as CSV (UTF-8, one header row)."""

    async def lines() -> AsyncIterator[bytes]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(FIELDS)
        rows = event_log.all(asked.where)
        while True:
            chunk = await asyncio.to_thread(lambda: list(itertools.islice(rows, 2000)))
            for row in chunk:
                writer.writerow([spreadsheet_safe(getattr(row, f)) for f in FIELDS])
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


@get(
    "/api/v1/events",
    name="api-event-log",
    opt=LOG_ACCESS,
    dependencies={"where": Provide(api_filter, sync_to_thread=False)},
    responses=error_responses(422),
)
async def log_json(
    event_log: NamedDependency[EventLogView],
    where: NamedDependency[LogFilter],
    before: Position = None,
) -> LogPage:
    """The event log, newest first, 50 at a time; pass `before` for the next page."""
    rows = await asyncio.to_thread(event_log.page, where, before)
    return LogPage(events=rows, before=rows[-1].position if len(rows) == PAGE else None)


log_router = Router(path="/", route_handlers=[log_page, log_csv, log_json])
