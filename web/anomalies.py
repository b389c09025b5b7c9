"""The anomaly queue (`/anomali`): its page, its live stream, its JSON, and acknowledging and
resolving an anomaly, from a row's form or the API.

The queue's rows are the anomaly projection's (`services/views/anomalies`). Its stream follows
the one live pipeline's `feed` channel: each notice of that projection is read once, as every row
changed after the last notification id sent, so a lost notice is made up by the next one, and a
browser that reconnects catches up from the id it last saw.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import jinja2
import msgspec
from litestar import Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ClientException, PermissionDeniedException, ValidationException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter, URLEncodedBody
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import ServerSentEvent, ServerSentEventMessage, Template

from services import bahasa
from services.bahasa import ANOMALY_MESSAGES
from services.custody.batch import Anomaly
from services.custody.batches import (
    Actor,
    AnomalyState,
    Batches,
    Replacement,
    anomaly_message,
)
from services.custody.errors import UnknownAnomalyError
from services.errors import DomainError
from services.views.anomalies.reducer import PAGE, ActivityItem, AnomalyRow
from services.views.anomalies.view import AnomalyView
from services.wilayah import Served, above_kabupaten, level_of, tps_prefix, within
from web.auth import Principal
from web.errors import error_responses
from web.live import KEEPALIVE_SECONDS, Broadcaster, Channel, Follows
from web.params import Position, list_of

log = logging.getLogger(__name__)

FEED: Channel = ("feed", "")  # the one channel of the queue's and the feed's streams
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
    area: str = ""  # the anomalies of the batches bound for this area (a wilayah code)
    reach: str = ""  # the reader's own area: what the page offers to choose from

    def admits(self, row: AnomalyRow) -> bool:
        return (
            (not self.kinds or row.kind in self.kinds)
            and (not self.kecamatan or row.kecamatan == self.kecamatan)
            and (not self.statuses or row.status in self.statuses)
            and row.destination.startswith(tps_prefix(self.area))
        )

    def query(self) -> str:
        """The filter as the page's URL says it."""
        query = (
            f"kind={','.join(self.kinds)}&kecamatan={self.kecamatan}"
            f"&status={','.join(self.statuses)}"
        )
        if self.area not in (self.reach, self.kecamatan):
            query += f"&area={self.area}"
        return query


def parse_filter(
    kind: str, kecamatan: str, status: str, wilayah: Served, area: str = ""
) -> QueueFilter:
    """The query's filter, or a 4xx that says in Bahasa what is not known: a word outside the
    vocabulary is a 400, a well-formed kecamatan or area code the master data lacks a 422."""
    kinds = tuple(k for k in kind.split(",") if k)
    statuses = tuple(s for s in status.split(",") if s) or ("open",)
    unknown = [k for k in kinds if k not in KINDS] + [s for s in statuses if s not in STATUSES]
    if unknown:
        raise ValidationException(bahasa.UNKNOWN_QUEUE_WORDS.format(words=", ".join(unknown)))
    if kecamatan and (level_of(kecamatan) != "kecamatan" or not wilayah.knows(kecamatan)):
        raise ClientException(bahasa.UNKNOWN_KECAMATAN.format(code=kecamatan), status_code=422)
    if area and not wilayah.knows(area):
        raise ClientException(bahasa.UNKNOWN_AREA.format(code=area), status_code=422)
    return QueueFilter(kinds=kinds, kecamatan=kecamatan, statuses=statuses, area=area)


def reader_area(principal: Principal | None, asked: str, served: str) -> str:
    """The area a list shows its reader: the one asked for, which their scope must reach, or
    else their scope (the kabupaten served for a wider one). A scope elsewhere (another
    kabupaten) sees nothing here: a 403."""
    scope = principal.scope if principal is not None else served
    wanted = asked or (scope if within(served, scope) else served)
    if not within(scope, wanted):
        raise PermissionDeniedException(
            bahasa.AREA_OUTSIDE_SCOPE.format(area=wanted, scope=scope or "nasional")
        )
    return wanted


def queue_filter(
    wilayah: NamedDependency[Served],
    principal: NamedDependency[Principal | None],
    kind: Annotated[str, QueryParameter(schema_extra=list_of(KINDS))] = "",
    kecamatan: FromQuery[str] = "",
    status: Annotated[str, QueryParameter(schema_extra=list_of(STATUSES))] = "open",
    area: Annotated[str, QueryParameter(max_length=64)] = "",
) -> QueueFilter:
    """The queue's filter from the query (a dependency of its page, stream and JSON): always
    within the reader's own area."""
    if area and level_of(area) == "kecamatan" and not kecamatan:  # as the select names it
        kecamatan, area = area, ""
    found = parse_filter(kind, kecamatan, status, wilayah, area)
    shown = reader_area(principal, area or kecamatan, wilayah.code)
    reach = reader_area(principal, "", wilayah.code)
    return msgspec.structs.replace(found, area=shown, reach=reach)


class ActionFormIn(msgspec.Struct, frozen=True):
    """A row's form as the browser sends it (the CSRF token beside it is the guard's)."""

    by: Annotated[str, msgspec.Meta(max_length=10 * MAX_OFFICER)] = ""
    note: Annotated[str, msgspec.Meta(max_length=10 * MAX_NOTE)] = ""
    replacement: Annotated[str, msgspec.Meta(max_length=20)] = ""


class ActionForm(msgspec.Struct, frozen=True, kw_only=True):
    """What a person typed into a row's form, and what is wrong with it (in Bahasa)."""

    by: str = ""
    note: str = ""
    replacement: Literal["", "tambah", "ganti"] = ""  # none; top up; replace and withdraw
    errors: tuple[str, ...] = ()


def read_action_form(data: ActionFormIn) -> ActionForm:
    by, note, replacement = data.by.strip(), data.note.strip(), data.replacement
    errors = []
    if replacement not in ("", "tambah", "ganti"):
        errors.append(bahasa.UNKNOWN_REPLACEMENT)
        replacement = ""
    if not by:
        errors.append(bahasa.NAME_THE_OFFICER)
    elif len(by) > MAX_OFFICER:
        errors.append(bahasa.OFFICER_TOO_LONG.format(most=MAX_OFFICER))
    if len(note) > MAX_NOTE:
        errors.append(bahasa.NOTE_TOO_LONG.format(most=MAX_NOTE))
    return ActionForm(by=by, note=note, replacement=replacement, errors=tuple(errors))  # type: ignore[arg-type]


def acted_on(
    row: AnomalyRow, action: Literal["acknowledge", "resolve"], form: ActionForm, at: datetime
) -> AnomalyRow:
    """The row as the command left it, before the projection has caught up with it."""
    if row.status == "resolved" or (action == "acknowledge" and row.status != "open"):
        return row  # done before: the command recorded nothing
    if action == "resolve":
        return msgspec.structs.replace(
            row,
            status="resolved",
            resolved_by=form.by,
            resolved_at=at.isoformat(),
            resolve_note=form.note,
        )
    return msgspec.structs.replace(
        row,
        status="acknowledged",
        acknowledged_by=form.by,
        acknowledged_at=at.isoformat(),
        acknowledge_note=form.note,
    )


class Renderers(msgspec.Struct, frozen=True):
    anomaly: Callable[..., str]
    activity: Callable[[ActivityItem], str]


def renderers(templates: jinja2.Environment, wilayah: Served) -> Renderers:
    anomaly_template = templates.get_template("_anomaly_row.html")
    activity_template = templates.get_template("_activity_item.html")

    def message(row: AnomalyRow) -> str:
        anomaly = Anomaly(id=row.anomaly_id, kind=row.kind, expected=row.expected, found=row.found)
        return anomaly_message(anomaly, wilayah, row.destination)

    def render_anomaly(row: AnomalyRow, form: ActionForm | None = None) -> str:
        return anomaly_template.render(
            row=row, message=message(row), place=wilayah.place_name, form=form
        )

    def render_activity(item: ActivityItem) -> str:
        return activity_template.render(item=item, place=wilayah.place_name)

    return Renderers(anomaly=render_anomaly, activity=render_activity)


class Feed:
    """The `feed` channel's renderer: every row changed after the last id it sent, rendered
    once; with no stream listening it only keeps up with the last change."""

    def __init__(self, view: AnomalyView, render: Renderers):
        self.view = view
        self.render = render
        self.sent = 0  # the last notification id handed to the streams

    def changes_after(self, changed: int) -> list[Change]:
        """Every row changed after `changed`, anomalies and scans, in the order they changed."""
        rows: list[AnomalyRow | ActivityItem] = [
            *self.view.anomalies_changed_after(changed),
            *self.view.activity_changed_after(changed),
        ]
        rows.sort(key=lambda row: row.changed)
        return [Change(row, self.html(row)) for row in rows]

    def html(self, row: AnomalyRow | ActivityItem) -> str:
        if isinstance(row, AnomalyRow):
            return self.render.anomaly(row)
        return self.render.activity(row)

    def __call__(self, channel: Channel, changed: set[str] | None, listening: bool) -> Any:
        if not listening:  # a stream that opens catches up by itself
            self.sent = self.view.last_change()
            return None
        changes = self.changes_after(self.sent)
        if changes:
            self.sent = max(change.row.changed for change in changes)
        return changes

    def follows(self) -> Follows:
        return Follows(AnomalyView.name, self, always=True)


def last_event_id(request: HTMXRequest) -> int:
    """The id the browser's EventSource last saw, sent again when it reconnects by itself."""
    value = request.headers.get("last-event-id", "")
    return int(value) if value.isdigit() else 0


def live_stream(
    broadcaster: Broadcaster,
    feed: Feed,
    after: int,
    messages: Callable[[Change, int], Iterator[ServerSentEventMessage]],
) -> ServerSentEvent:
    """Catch up from `after`, then follow the feed; a keep-alive comment while nothing happens."""

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        async with broadcaster.listen(FEED) as queue:
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
        yield ServerSentEventMessage(
            event=f"anomali-{row.anomaly_id}", data=change.html, id=row.changed
        )


def queue_context(
    view: AnomalyView,
    feed: Feed,
    wilayah: Served,
    queue_filter: QueueFilter,
    before: int | None,
) -> dict[str, object]:
    last = view.last_change()  # first: what commits after it comes over the stream
    rows = view.anomalies(
        kinds=queue_filter.kinds,
        kecamatan=queue_filter.kecamatan,
        statuses=queue_filter.statuses,
        within=queue_filter.area,
        before=before,
        limit=PAGE + 1,
    )
    return {
        "rows": [feed.render.anomaly(row) for row in rows[:PAGE]],
        "older": rows[PAGE - 1].position if len(rows) > PAGE else None,
        "filter": queue_filter,
        "before": before,
        # Live from what this page shows: rows changed after it was read come over the stream.
        "after": max(last, rows[0].position if rows else 0),
        "kinds": KINDS,
        "kecamatan": wilayah.kecamatan_in(queue_filter.reach),
        # a province's or the nation's queue: choose one of its provinces or kabupaten/kota
        "areas": [
            (code, wilayah.area_name(code)) for code in wilayah.children_of(queue_filter.reach)
        ]
        if above_kabupaten(queue_filter.reach)
        else [],
    }


QUEUE_FILTER = {"where": Provide(queue_filter, sync_to_thread=False)}


@get(
    "/anomali", name="anomaly-queue", opt={"need": "view", "area": None}, dependencies=QUEUE_FILTER
)
async def anomaly_queue(
    request: HTMXRequest,
    anomalies: NamedDependency[AnomalyView],
    feed: NamedDependency[Feed],
    wilayah: NamedDependency[Served],
    where: NamedDependency[QueueFilter],
    before: Position = None,
) -> Template:
    """Open anomalies, newest first; a filter change swaps the list and the URL says it."""
    context = await asyncio.to_thread(queue_context, anomalies, feed, wilayah, where, before)
    if request.htmx and not request.htmx.history_restore_request:
        return HTMXTemplate(template_name="_anomaly_queue.html", context=context)
    return Template(template_name="anomali.html", context=context)


@get(
    "/anomali/stream",
    name="anomaly-stream",
    opt={"need": "view", "area": None},
    dependencies=QUEUE_FILTER,
)
async def anomaly_stream(
    request: HTMXRequest,
    broadcaster: NamedDependency[Broadcaster],
    feed: NamedDependency[Feed],
    where: NamedDependency[QueueFilter],
    after: FromQuery[int] = 0,
) -> ServerSentEvent:
    after = max(after, last_event_id(request))
    shown_new: set[str] = set()
    return live_stream(
        broadcaster,
        feed,
        after,
        lambda change, after: anomaly_messages(change, where, shown_new, after),
    )


def act(
    batches: Batches,
    anomalies: AnomalyView,
    feed: Feed,
    actor: Actor,
    anomaly_id: str,
    action: Literal["acknowledge", "resolve"],
    data: ActionFormIn,
) -> Response[str]:
    """Run the command from a row's form; the answer is the row, with the errors if any.

    A refused form answers 422 with what was typed kept (web/static/exceptions.js lets htmx
    swap it in); a domain refusal answers its own status with its Bahasa message."""
    row = anomalies.anomaly(anomaly_id)
    if row is None:
        raise UnknownAnomalyError(anomaly_id)
    form = read_action_form(data)
    if form.errors:
        return Response(feed.render.anomaly(row, form), status_code=422, media_type="text/html")
    try:
        if action == "acknowledge":
            batches.acknowledge(anomaly_id, form.by, form.note, actor)
        else:
            replacement = None
            if form.replacement:  # a new batch for the same TPS; "ganti" withdraws the original
                replacement = Replacement(void_original=form.replacement == "ganti")
            state = batches.resolve(anomaly_id, form.by, form.note, replacement, actor)
            row = msgspec.structs.replace(row, replacement=state.replacement or row.replacement)
    except DomainError as error:  # shown in the row, where the person is looking
        refused = msgspec.structs.replace(form, errors=(str(error),))
        return Response(feed.render.anomaly(row, refused), status_code=409, media_type="text/html")
    acted = acted_on(row, action, form, datetime.now(UTC))
    return Response(feed.render.anomaly(acted), media_type="text/html")


@post(
    "/anomali/{anomaly_id:str}/tangani",
    name="anomaly-acknowledge-form",
    opt={"need": "handle"},
    sync_to_thread=True,
    status_code=200,
)
def acknowledge_from_row(
    anomaly_id: FromPath[str],
    data: URLEncodedBody[ActionFormIn],
    batches: NamedDependency[Batches],
    anomalies: NamedDependency[AnomalyView],
    feed: NamedDependency[Feed],
    actor: NamedDependency[Actor],
) -> Response[str]:
    """Someone is on it: from the queue's row."""
    return act(batches, anomalies, feed, actor, anomaly_id, "acknowledge", data)


@post(
    "/anomali/{anomaly_id:str}/selesai",
    name="anomaly-resolve-form",
    opt={"need": "handle"},
    sync_to_thread=True,
    status_code=200,
)
def resolve_from_row(
    anomaly_id: FromPath[str],
    data: URLEncodedBody[ActionFormIn],
    batches: NamedDependency[Batches],
    anomalies: NamedDependency[AnomalyView],
    feed: NamedDependency[Feed],
    actor: NamedDependency[Actor],
) -> Response[str]:
    """It is dealt with: from the queue's row."""
    return act(batches, anomalies, feed, actor, anomaly_id, "resolve", data)


class AnomalyPage(msgspec.Struct, frozen=True, kw_only=True):
    anomalies: list[AnomalyRow]
    before: int | None  # pass as `before` for the next (older) page; null on the last one


@get(
    "/api/v1/anomalies",
    name="api-anomalies",
    opt={"need": "view", "area": None},
    sync_to_thread=True,
    dependencies=QUEUE_FILTER,
    responses=error_responses(422),
)
def anomalies_json(
    anomalies: NamedDependency[AnomalyView],
    where: NamedDependency[QueueFilter],
    before: Position = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = PAGE,
) -> AnomalyPage:
    """The exceptions queue, newest first; `kind` and `status` take comma-separated values
    (`open`, `acknowledged`, `resolved`)."""
    rows = anomalies.anomalies(
        kinds=where.kinds,
        kecamatan=where.kecamatan,
        statuses=where.statuses,
        within=where.area,
        before=before,
        limit=limit + 1,
    )
    return AnomalyPage(
        anomalies=rows[:limit], before=rows[limit - 1].position if len(rows) > limit else None
    )


# The same actions for devices and scripts: JSON in and out.

Officer = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_OFFICER)]
Note = Annotated[str, msgspec.Meta(max_length=MAX_NOTE)]


class ReplacementIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    quantity: Annotated[int, msgspec.Meta(ge=0, le=100_000)] | None = None  # default: as planned
    void_original: bool = False  # withdraw the original batch (damaged, wet, wrong dapil)


class AnomalyAction(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    by: Officer  # who acknowledges or resolves it
    note: Note = ""


class Resolution(AnomalyAction, frozen=True, forbid_unknown_fields=True):
    replacement: ReplacementIn | None = None  # a new batch sent in its place


@post(
    "/api/v1/anomalies/{anomaly_id:str}/acknowledge",
    name="anomaly-acknowledge",
    opt={"need": "handle"},
    sync_to_thread=True,
    status_code=200,
    responses=error_responses(404, 409),
)
def acknowledge_anomaly(
    anomaly_id: FromPath[str],
    data: JSONBody[AnomalyAction],
    batches: NamedDependency[Batches],
    actor: NamedDependency[Actor],
) -> AnomalyState:
    """Someone is on it. Acknowledging twice changes nothing."""
    return batches.acknowledge(anomaly_id, data.by, data.note, actor)


@post(
    "/api/v1/anomalies/{anomaly_id:str}/resolve",
    name="anomaly-resolve",
    opt={"need": "handle"},
    sync_to_thread=True,
    status_code=200,
    responses=error_responses(404, 409),
)
def resolve_anomaly(
    anomaly_id: FromPath[str],
    data: JSONBody[Resolution],
    batches: NamedDependency[Batches],
    actor: NamedDependency[Actor],
) -> AnomalyState:
    """It is dealt with; the board stops counting it as open. With `replacement`, a new batch
    for the same TPS is registered (its label in the answer) and, if asked, the original is
    withdrawn. Resolving twice changes nothing."""
    replacement = None
    if data.replacement is not None:
        replacement = Replacement(**msgspec.structs.asdict(data.replacement))
    return batches.resolve(anomaly_id, data.by, data.note, replacement, actor)


anomaly_router = Router(
    path="/",
    request_class=HTMXRequest,
    route_handlers=[
        anomaly_queue,
        anomaly_stream,
        acknowledge_from_row,
        resolve_from_row,
        anomalies_json,
        acknowledge_anomaly,
        resolve_anomaly,
    ],
)
