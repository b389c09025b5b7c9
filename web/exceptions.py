"""The exceptions queue (`/anomali`) and the activity feed (`/aktivitas`): pages, streams, JSON.

Both read the rows the board projection keeps (services/exceptions.py). The live streams are
driven by the same core-NATS board notices as the board: a notice only wakes the feed, which then
reads every row changed after the last notification id it has sent, so a lost notice is made up
by the next one, and a browser that reconnects catches up from the id it last saw.
"""

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Literal

import jinja2
import msgspec
import psycopg
from litestar import Litestar, Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.exceptions import ClientException, ValidationException
from litestar.params import FromPath, FromQuery, QueryParameter, URLEncodedBody
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import ServerSentEvent, ServerSentEventMessage, Template
from nats.aio.msg import Msg

from services.batches import ANOMALY_MESSAGES, Replacement, anomaly_message
from services.domain import Anomaly, DomainError, UnknownAnomalyError
from services.exceptions import PAGE, ActivityItem, AnomalyRow, ExceptionsView
from services.messaging import BOARD_CHANGED, connect
from services.settings import Settings
from services.wilayah import Wilayah
from web.auth import actor_of
from web.errors import error_responses
from web.params import Position, list_of

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
CLIENT_QUEUE = 64
ACTIVITY_SHOWN = 50  # the feed page shows this many; the view keeps more
KINDS: tuple[str, ...] = tuple(ANOMALY_MESSAGES)
STATUSES = ("open", "acknowledged", "resolved")
MAX_OFFICER = 120
MAX_NOTE = 2000


class Change(msgspec.Struct, frozen=True):
    """A row changed in the view, rendered once for every open page."""

    row: AnomalyRow | ActivityItem
    html: str


class QueueFilter(msgspec.Struct, frozen=True, kw_only=True):
    kinds: tuple[str, ...] = ()
    kecamatan: str = ""
    statuses: tuple[str, ...] = ("open",)

    def admits(self, row: AnomalyRow) -> bool:
        return (
            (not self.kinds or row.kind in self.kinds)
            and (not self.kecamatan or row.kecamatan == self.kecamatan)
            and (not self.statuses or row.status in self.statuses)
        )

    def query(self) -> str:
        """The filter as the page's URL says it."""
        return (
            f"kind={','.join(self.kinds)}&kecamatan={self.kecamatan}"
            f"&status={','.join(self.statuses)}"
        )


def parse_filter(kind: str, kecamatan: str, status: str, wilayah: Wilayah) -> QueueFilter:
    """The query's filter, or a 4xx that says in Bahasa what is not known: a word outside the
    vocabulary is a 400, a well-formed kecamatan code the master data lacks a 422."""
    kinds = tuple(k for k in kind.split(",") if k)
    statuses = tuple(s for s in status.split(",") if s) or ("open",)
    unknown = [k for k in kinds if k not in KINDS] + [s for s in statuses if s not in STATUSES]
    if unknown:
        raise ValidationException(f"Jenis atau status anomali tidak dikenal: {', '.join(unknown)}.")
    if kecamatan and kecamatan not in wilayah.kecamatan_by_code:
        raise ClientException(f"Kecamatan {kecamatan!r} tidak dikenal.", status_code=422)
    return QueueFilter(kinds=kinds, kecamatan=kecamatan, statuses=statuses)


class ActionForm(msgspec.Struct, frozen=True, kw_only=True):
    """What a person typed into a row's form, and what is wrong with it (in Bahasa)."""

    by: str = ""
    note: str = ""
    replacement: Literal["", "tambah", "ganti"] = ""  # none; top up; replace and withdraw
    errors: tuple[str, ...] = ()


def read_action_form(data: dict[str, str]) -> ActionForm:
    by, note = data.get("by", "").strip(), data.get("note", "").strip()
    replacement = data.get("replacement", "")
    errors = []
    if replacement not in ("", "tambah", "ganti"):
        errors.append("Pilihan kotak pengganti tidak dikenal.")
        replacement = ""
    if not by:
        errors.append("Isi nama petugas yang menangani.")
    elif len(by) > MAX_OFFICER:
        errors.append(f"Nama petugas terlalu panjang (paling banyak {MAX_OFFICER} huruf).")
    if len(note) > MAX_NOTE:
        errors.append(f"Catatan terlalu panjang (paling banyak {MAX_NOTE} huruf).")
    return ActionForm(by=by, note=note, replacement=replacement, errors=tuple(errors))


def acted_on(
    row: AnomalyRow, action: Literal["acknowledge", "resolve"], form: ActionForm, at: datetime
) -> AnomalyRow:
    """The row as the command left it, before the projection has caught up with it."""
    if row.status == "resolved" or (action == "acknowledge" and row.status != "open"):
        return row  # done before: the command recorded nothing
    if action == "resolve":
        return msgspec.structs.replace(
            row, status="resolved", resolved_by=form.by, resolved_at=at.isoformat(),
            resolve_note=form.note,
        )  # fmt: skip
    return msgspec.structs.replace(
        row, status="acknowledged", acknowledged_by=form.by, acknowledged_at=at.isoformat(),
        acknowledge_note=form.note,
    )  # fmt: skip


class Renderers(msgspec.Struct, frozen=True):
    anomaly: Callable[..., str]
    activity: Callable[[ActivityItem], str]


def renderers(templates: jinja2.Environment, wilayah: Wilayah) -> Renderers:
    anomaly_template = templates.get_template("_anomaly_row.html")
    activity_template = templates.get_template("_activity_item.html")

    def message(row: AnomalyRow) -> str:
        anomaly = Anomaly(id=row.anomaly_id, kind=row.kind, expected=row.expected, found=row.found)
        return anomaly_message(anomaly, wilayah)

    def render_anomaly(row: AnomalyRow, form: ActionForm | None = None) -> str:
        return anomaly_template.render(
            row=row, message=message(row), place=wilayah.place_name, form=form
        )

    def render_activity(item: ActivityItem) -> str:
        return activity_template.render(item=item, place=wilayah.place_name)

    return Renderers(anomaly=render_anomaly, activity=render_activity)


class ExceptionsFeed:
    """Reads what changed after the last notice, renders each row once, hands it to every
    open stream; busy bursts coalesce into one read."""

    def __init__(self, view: ExceptionsView, render: Renderers):
        self.view = view
        self.render = render
        self.clients: set[asyncio.Queue[list[Change] | None]] = set()
        self.sent = 0  # the last notification id handed to the streams
        self._wake = asyncio.Event()

    def changes_after(self, changed: int) -> list[Change]:
        """Every row changed after `changed`, anomalies and scans, in the order they changed."""
        rows: list[AnomalyRow | ActivityItem] = [
            *self.view.anomalies_changed_after(changed),
            *self.view.activity_changed_after(changed),
        ]
        rows.sort(key=lambda row: row.changed)
        return [
            Change(row, self.render.anomaly(row) if isinstance(row, AnomalyRow)
                   else self.render.activity(row))
            for row in rows
        ]  # fmt: skip

    def notice(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        self.sent = await asyncio.to_thread(self.view.last_change)
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self.clients:  # nobody to tell; a stream that opens catches up by itself
                latest = await asyncio.to_thread(self.view.last_change)
                if not self.clients:  # (one that opened meanwhile may have read less)
                    self.sent = latest
                    continue
            try:
                changes = await asyncio.to_thread(self.changes_after, self.sent)
            except (sqlite3.Error, psycopg.Error):
                log.exception("exception rows could not be read; the next notice reads them")
                continue
            if not changes:
                continue
            self.sent = max(change.row.changed for change in changes)
            for queue in list(self.clients):
                if queue.full():  # this far behind, a browser is better off reconnecting
                    self._end(queue)
                else:
                    queue.put_nowait(changes)

    def close(self) -> None:
        for queue in list(self.clients):
            self._end(queue)

    def _end(self, queue: asyncio.Queue[list[Change] | None]) -> None:
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)
        self.clients.discard(queue)

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[asyncio.Queue[list[Change] | None]]:
        queue: asyncio.Queue[list[Change] | None] = asyncio.Queue(CLIENT_QUEUE)
        self.clients.add(queue)
        try:
            yield queue
        finally:
            self.clients.discard(queue)


async def follow_notices(nats_url: str, feed: ExceptionsFeed, stop: asyncio.Event) -> None:
    """Wake the feed on every board notice, and after a reconnect (notices sent meanwhile are
    lost, the rows are not)."""

    async def on_notice(msg: Msg) -> None:
        feed.notice()

    async def on_reconnect() -> None:
        feed.notice()

    nc = await connect(nats_url, "web-exceptions", stop, reconnected_cb=on_reconnect)
    if nc is None:
        return
    feed.notice()
    await nc.subscribe(BOARD_CHANGED, cb=on_notice)
    await stop.wait()
    await nc.close()


def exceptions_lifespan(settings: Settings, templates: jinja2.Environment):
    """Starts the feed after the app's own lifespan has opened the views."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        view = ExceptionsView(app.state.board_view.db)
        feed = ExceptionsFeed(view, renderers(templates, app.state.wilayah))
        app.state.update(exceptions_view=view, exceptions_feed=feed)
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(feed.run(), name="exceptions-feed"),
            asyncio.create_task(
                follow_notices(settings.nats_url, feed, stop), name="exceptions-notices"
            ),
        ]
        try:
            yield
        finally:
            stop.set()
            feed.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    return lifespan


def last_event_id(request: HTMXRequest) -> int:
    """The id the browser's EventSource last saw, sent again when it reconnects by itself."""
    value = request.headers.get("last-event-id", "")
    return int(value) if value.isdigit() else 0


def anomaly_messages(
    change: Change, queue_filter: QueueFilter, shown_new: set[str], after: int
) -> Iterator[ServerSentEventMessage]:
    """A new anomaly the filter admits goes on top; any other change swaps its row in place."""
    if isinstance(change.row, ActivityItem):
        return
    row = change.row
    if row.position > after and row.anomaly_id not in shown_new and queue_filter.admits(row):
        shown_new.add(row.anomaly_id)
        yield ServerSentEventMessage(event="anomali-baru", data=change.html, id=row.changed)
    else:
        yield ServerSentEventMessage(event=f"anomali-{row.anomaly_id}", data=change.html,
                                     id=row.changed)  # fmt: skip


def activity_messages(
    change: Change, label: str, shown_new: set[int], after: int
) -> Iterator[ServerSentEventMessage]:
    if isinstance(change.row, AnomalyRow):
        return
    item = change.row
    if item.position > after and item.position not in shown_new and label in ("", item.label):
        shown_new.add(item.position)
        yield ServerSentEventMessage(event="aktivitas-baru", data=change.html, id=item.changed)
    else:
        yield ServerSentEventMessage(event=f"aktivitas-{item.position}", data=change.html,
                                     id=item.changed)  # fmt: skip


def live_stream(
    feed: ExceptionsFeed,
    after: int,
    messages: Callable[[Change, int], Iterator[ServerSentEventMessage]],
) -> ServerSentEvent:
    """Catch up from `after`, then follow the feed; a keep-alive comment while nothing happens."""

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        async with feed.listen() as queue:
            yield ServerSentEventMessage(comment="tersambung")
            # Listening already: the catch-up and the feed overlap, and ids only ascend, so
            # whatever is not past the last id sent is sent already, or older than what was.
            sent = after
            changes: list[Change] | None = await asyncio.to_thread(feed.changes_after, after)
            while changes is not None:
                for change in changes:
                    if change.row.changed > sent:
                        sent = change.row.changed
                        for message in messages(change, after):
                            yield message
                try:
                    changes = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ServerSentEventMessage(comment="ping")
                    changes = []

    return ServerSentEvent(stream(), headers={"Cache-Control": "no-cache"})


def queue_context(state: State, queue_filter: QueueFilter, before: int | None) -> dict[str, object]:
    view: ExceptionsView = state.exceptions_view
    last = view.last_change()  # first: what commits after it comes over the stream
    rows = view.anomalies(
        kinds=queue_filter.kinds,
        kecamatan=queue_filter.kecamatan,
        statuses=queue_filter.statuses,
        before=before,
        limit=PAGE + 1,
    )
    render = state.exceptions_feed.render
    return {
        "rows": [render.anomaly(row) for row in rows[:PAGE]],
        "older": rows[PAGE - 1].position if len(rows) > PAGE else None,
        "filter": queue_filter,
        "before": before,
        # Live from what this page shows: rows changed after it was read come over the stream.
        "after": max(last, rows[0].position if rows else 0),
        "kinds": KINDS,
        "kecamatan": state.wilayah.kecamatan,
    }


@get("/anomali", name="anomaly-queue", opt={"need": "view"})
async def anomaly_queue(
    request: HTMXRequest,
    state: State,
    kind: FromQuery[str] = "",
    kecamatan: FromQuery[str] = "",
    status: FromQuery[str] = "open",
    before: FromQuery[int | None] = None,
) -> Template:
    """Open anomalies, newest first; a filter change swaps the list and the URL says it."""
    queue_filter = parse_filter(kind, kecamatan, status, state.wilayah)
    context = await asyncio.to_thread(queue_context, state, queue_filter, before)
    if request.htmx and not request.htmx.history_restore_request:
        return HTMXTemplate(template_name="_anomaly_queue.html", context=context)
    return Template(template_name="anomali.html", context=context)


@get("/anomali/stream", name="anomaly-stream", opt={"need": "view"})
async def anomaly_stream(
    request: HTMXRequest,
    state: State,
    kind: FromQuery[str] = "",
    kecamatan: FromQuery[str] = "",
    status: FromQuery[str] = "open",
    after: FromQuery[int] = 0,
) -> ServerSentEvent:
    queue_filter = parse_filter(kind, kecamatan, status, state.wilayah)
    after = max(after, last_event_id(request))
    shown_new: set[str] = set()
    return live_stream(
        state.exceptions_feed,
        after,
        lambda change, after: anomaly_messages(change, queue_filter, shown_new, after),
    )


def act(
    request: Request,
    anomaly_id: str,
    action: Literal["acknowledge", "resolve"],
    data: dict[str, str],
) -> Response[str]:
    """Run the command from a row's form; the answer is the row, with the errors if any.

    A refused form answers 422 with what was typed kept (web/static/exceptions.js lets htmx
    swap it in); a domain refusal answers its own status with its Bahasa message."""
    state, actor = request.app.state, actor_of(request)
    render = state.exceptions_feed.render
    row = state.exceptions_view.anomaly(anomaly_id)
    if row is None:
        raise UnknownAnomalyError(anomaly_id)
    form = read_action_form(data)
    if form.errors:
        return Response(render.anomaly(row, form), status_code=422, media_type="text/html")
    try:
        if action == "acknowledge":
            state.batches.acknowledge(anomaly_id, form.by, form.note, actor)
        else:
            replacement = None
            if form.replacement:  # a new batch for the same TPS; "ganti" withdraws the original
                replacement = Replacement(void_original=form.replacement == "ganti")
            state.batches.resolve(anomaly_id, form.by, form.note, replacement, actor)
    except DomainError as error:  # shown in the row, where the person is looking
        refused = msgspec.structs.replace(form, errors=(str(error),))
        return Response(render.anomaly(row, refused), status_code=409, media_type="text/html")
    acted = acted_on(row, action, form, datetime.now(UTC))
    return Response(render.anomaly(acted), media_type="text/html")


@post(
    "/anomali/{anomaly_id:str}/tangani",
    name="anomaly-acknowledge-form",
    opt={"need": "handle"},
    sync_to_thread=True,
    status_code=200,
)
def acknowledge_from_row(
    anomaly_id: FromPath[str], data: URLEncodedBody[dict[str, str]], request: Request
) -> Response[str]:
    """Someone is on it: from the queue's row."""
    return act(request, anomaly_id, "acknowledge", data)


@post(
    "/anomali/{anomaly_id:str}/selesai",
    name="anomaly-resolve-form",
    opt={"need": "handle"},
    sync_to_thread=True,
    status_code=200,
)
def resolve_from_row(
    anomaly_id: FromPath[str], data: URLEncodedBody[dict[str, str]], request: Request
) -> Response[str]:
    """It is dealt with: from the queue's row."""
    return act(request, anomaly_id, "resolve", data)


def activity_context(state: State, label: str) -> dict[str, object]:
    view: ExceptionsView = state.exceptions_view
    last = view.last_change()  # first: what commits after it comes over the stream
    items = view.activity(limit=ACTIVITY_SHOWN, label=label)
    render = state.exceptions_feed.render
    return {
        "items": [render.activity(item) for item in items],
        "label": label,
        "after": max(last, items[0].position if items else 0),
        "keep": ACTIVITY_SHOWN,
    }


@get("/aktivitas", name="activity", opt={"need": "view"})
async def activity_page(state: State, label: FromQuery[str] = "") -> Template:
    """The latest scans, newest first, live; `label` narrows it to one batch."""
    context = await asyncio.to_thread(activity_context, state, label)
    return Template(template_name="aktivitas.html", context=context)


@get("/aktivitas/stream", name="activity-stream", opt={"need": "view"})
async def activity_stream(
    request: HTMXRequest, state: State, label: FromQuery[str] = "", after: FromQuery[int] = 0
) -> ServerSentEvent:
    after = max(after, last_event_id(request))
    shown_new: set[int] = set()
    return live_stream(
        state.exceptions_feed,
        after,
        lambda change, after: activity_messages(change, label, shown_new, after),
    )


class AnomalyPage(msgspec.Struct, frozen=True, kw_only=True):
    anomalies: list[AnomalyRow]
    before: int | None  # pass as `before` for the next (older) page; null on the last one


class ActivityPage(msgspec.Struct, frozen=True, kw_only=True):
    activity: list[ActivityItem]
    before: int | None


@get(
    "/api/v1/anomalies",
    name="api-anomalies",
    opt={"need": "view"},
    sync_to_thread=True,
    responses=error_responses(422),
)
def anomalies_json(
    state: State,
    kind: Annotated[str, QueryParameter(schema_extra=list_of(KINDS))] = "",
    kecamatan: FromQuery[str] = "",
    status: Annotated[str, QueryParameter(schema_extra=list_of(STATUSES))] = "open",
    before: Position = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = PAGE,
) -> AnomalyPage:
    """The exceptions queue, newest first; `kind` and `status` take comma-separated values
    (`open`, `acknowledged`, `resolved`)."""
    queue_filter = parse_filter(kind, kecamatan, status, state.wilayah)
    rows = state.exceptions_view.anomalies(
        kinds=queue_filter.kinds,
        kecamatan=queue_filter.kecamatan,
        statuses=queue_filter.statuses,
        before=before,
        limit=limit + 1,
    )
    return AnomalyPage(
        anomalies=rows[:limit], before=rows[limit - 1].position if len(rows) > limit else None
    )


@get("/api/v1/activity", name="api-activity", opt={"need": "view"}, sync_to_thread=True)
def activity_json(
    state: State,
    label: FromQuery[str] = "",
    before: Position = None,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = ACTIVITY_SHOWN,
) -> ActivityPage:
    """The latest custody scans (the newest 1,000 are kept), newest first."""
    items = state.exceptions_view.activity(before=before, limit=limit + 1, label=label)
    return ActivityPage(
        activity=items[:limit], before=items[limit - 1].position if len(items) > limit else None
    )


exceptions_router = Router(
    path="/",
    request_class=HTMXRequest,
    route_handlers=[
        anomaly_queue,
        anomaly_stream,
        acknowledge_from_row,
        resolve_from_row,
        activity_page,
        activity_stream,
        anomalies_json,
        activity_json,
    ],
)
