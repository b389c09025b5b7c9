"""Bawaslu's findings and citizens' reports: filed by Bawaslu and Panwaslu accounts, acknowledged
and answered by KPU, closed by Bawaslu; the list of an area (KPU's queue, Bawaslu's own), live,
one finding's page with its history, and the API behind them."""

import asyncio
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import jinja2
import msgspec
from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, PermissionDeniedException, ValidationException
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter, URLEncodedBody
from litestar.response import Redirect, ServerSentEvent, Template
from litestar.status_codes import HTTP_201_CREATED

from events.findings import FindingEvent, FindingKind, Source
from services import bahasa
from services.audit.replay import replay_findings
from services.custody.batches import Actor
from services.custody.decisions import check_time
from services.findings.application import Filed, Findings
from services.findings.contacts import Contact, Contacts
from services.findings.decisions import MOST_PHOTOS, FindingError, Said, finding_id
from services.findings.photos import MAX_BYTES, PhotoRefused, Photos, checked
from services.settings import Settings
from services.views.findings import FindingRow, FindingView
from services.wilayah import WIB, Served, within
from web.admin import options_allowing
from web.auth import Principal, knows, principal_of
from web.board import AreaTree, Encoded, channel_stream
from web.errors import error_responses
from web.live import Broadcaster, Channel, Follows, Render
from web.timetravel import view_then

Text = Annotated[str, msgspec.Meta(max_length=4000)]
Name = Annotated[str, msgspec.Meta(max_length=120)]
Ident = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9.\-_:]+$")]
Place = Annotated[
    str, msgspec.Meta(max_length=20, pattern=r"^(\d{2}(\.\d{2}){1,2}(\.\d{4})?|\d{13})$")
]
Items = Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=50)]
Digest = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
ONE_STATUS = "(filed|acknowledged|answered|closed)"
StatusQuery = Annotated[
    str, QueryParameter(max_length=60, pattern=rf"^(open|{ONE_STATUS}(,{ONE_STATUS})*)?$")
]
OPEN = ("filed", "acknowledged", "answered")
FINDING_ERRORS = error_responses(403, 404, 409, 422)


class FindingIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a supervisor saw: its kind, where (a wilayah code: gudang, PPK, PPS or TPS), what,
    the boxes and loads concerned; for a citizen's report (`laporan`), the reporter's contact,
    which only Bawaslu sees."""

    command_id: Ident
    kind: FindingKind
    where: Place
    text: Text
    filed_by: Name
    source: Source = "temuan"
    labels: Items = []
    surat_jalan: Items = []
    reporter: Name = ""
    occurred_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    photos: Annotated[
        list[Digest], msgspec.Meta(max_length=MOST_PHOTOS)
    ] = []  # POST /api/v1/photos


class StepIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """KPU's acknowledgement (`note`) or answer (`action`); Bawaslu's closing (`accepted`,
    and why not in `note`)."""

    command_id: Ident
    by: Name
    note: Text = ""
    action: Text = ""
    accepted: bool = True


def said_now(command_id: str, at: datetime | None = None) -> Said:
    now = datetime.now(UTC)
    if at is not None:
        check_time(at, now)
    return Said(command_id=command_id, occurred_at=at or now)


def actor_of(principal: Principal | None) -> Actor:
    assert principal is not None  # the guard let only principals in
    return Actor(user=principal.username, device=principal.device)


async def check_place(places: Served, principal: Principal | None, place: str) -> None:
    """A place the master data knows, inside the principal's scope."""
    assert principal is not None
    if not await knows(places, place):
        raise NotFoundException(bahasa.UNKNOWN_AREA.format(code=place))
    if not within(principal.scope, place):
        raise PermissionDeniedException(
            bahasa.AREA_OUTSIDE_SCOPE.format(area=place, scope=principal.scope or "nasional")
        )


async def file_finding(
    data: FindingIn,
    principal: Principal | None,
    places: Served,
    findings: Findings,
    photos: Photos,
    contacts: Contacts,
) -> Filed:
    """File it, the citizen's contact kept beside the store and only named in the event."""
    await check_place(places, principal, data.where)
    if data.reporter and data.source != "laporan":
        raise FindingError(bahasa.REPORTER_ONLY_FOR_REPORTS)
    missing = await asyncio.to_thread(photos.missing, data.photos)
    if missing:
        raise FindingError(bahasa.PHOTOS_UNKNOWN.format(digests=", ".join(missing)))
    said = said_now(data.command_id, data.occurred_at)
    fields = msgspec.structs.asdict(data)
    for key in ("command_id", "occurred_at", "reporter"):
        fields.pop(key)

    def file() -> Filed:
        contact = ""  # kept once: a filing sent again leaves no second copy of it
        if data.reporter.strip() and not findings.filed_before(
            data.source, data.where, data.command_id
        ):
            contact = contacts.keep(data.reporter.strip())
        return findings.file(said, actor_of(principal), contact=contact, **fields)

    return await asyncio.to_thread(file)


async def history_of(findings: Findings, number: str) -> list[FindingEvent]:
    history = await asyncio.to_thread(findings.store.stream_of, finding_id(number))
    if not history:
        raise NotFoundException(bahasa.UNKNOWN_FINDING.format(number=number))
    return history


async def take_step(
    step: Literal["acknowledge", "answer", "close"],
    number: str,
    data: StepIn,
    principal: Principal | None,
    findings: Findings,
) -> Filed:
    """KPU's or Bawaslu's step on a finding inside their scope."""
    filed = (await history_of(findings, number))[0]
    assert principal is not None
    if not within(principal.scope, filed.where):
        raise PermissionDeniedException(
            bahasa.AREA_OUTSIDE_SCOPE.format(area=filed.where, scope=principal.scope or "nasional")
        )
    said, actor = said_now(data.command_id), actor_of(principal)
    match step:
        case "acknowledge":
            run = lambda: findings.acknowledge(number, data.by, data.note, said, actor)  # noqa: E731
        case "answer":
            run = lambda: findings.answer(number, data.by, data.action, said, actor)  # noqa: E731
        case "close":
            run = lambda: findings.close(number, data.by, data.accepted, data.note, said, actor)  # noqa: E731
    return await asyncio.to_thread(run)


# The API.

SUPERVISE = {"need": "supervise", "area": None}
HANDLE = {"need": "handle", "area": None}


@post(
    "/",
    name="finding-file",
    opt=SUPERVISE,
    status_code=HTTP_201_CREATED,
    responses=FINDING_ERRORS,
)
async def post_finding(
    data: JSONBody[FindingIn],
    request: Request,
    wilayah: NamedDependency[Served],
    findings: NamedDependency[Findings],
    photo_store: NamedDependency[Photos],
    contacts: NamedDependency[Contacts],
) -> Filed:
    """File a finding or a citizen's report, its `photos` uploaded first. Sent again with its
    `command_id`, the first answer (its number and when KPU's answer is due)."""
    principal = principal_of(request)
    return await file_finding(data, principal, wilayah, findings, photo_store, contacts)


class PhotoKept(msgspec.Struct, frozen=True):
    sha256: str


@post(
    "/api/v1/photos",
    name="photo-keep",
    opt=SUPERVISE,
    status_code=HTTP_201_CREATED,
    responses=error_responses(413, 422),
    request_max_body_size=MAX_BYTES + 1,
)
async def post_photo(request: Request, photo_store: NamedDependency[Photos]) -> PhotoKept:
    """A photo as evidence, its bytes the body (JPEG, PNG or WebP, at most 5 MB); its SHA-256
    for a finding's `photos`. The same photo sent again is kept once."""
    return PhotoKept(sha256=await asyncio.to_thread(photo_store.keep, await request.body()))


@get("/foto/{digest:str}", name="photo", opt={"need": "view", "area": None})
async def photo(digest: FromPath[str], photo_store: NamedDependency[Photos]) -> Response[bytes]:
    """A kept photo by its SHA-256."""
    found = await asyncio.to_thread(photo_store.get, digest) if len(digest) == 64 else None
    if found is None:
        raise NotFoundException(bahasa.UNKNOWN_PHOTO)
    media_type, data = found
    return Response(
        data,
        media_type=media_type,
        headers={"Cache-Control": "private, max-age=31536000, immutable"},
    )


@post(
    "/api/v1/findings/{number:str}/acknowledge",
    name="finding-acknowledge",
    opt=HANDLE,
    status_code=HTTP_201_CREATED,
    responses=FINDING_ERRORS,
)
async def post_acknowledge(
    number: FromPath[str],
    data: JSONBody[StepIn],
    request: Request,
    findings: NamedDependency[Findings],
) -> Filed:
    """KPU has seen the finding and is looking into it."""
    return await take_step("acknowledge", number, data, principal_of(request), findings)


@post(
    "/api/v1/findings/{number:str}/answer",
    name="finding-answer",
    opt=HANDLE,
    status_code=HTTP_201_CREATED,
    responses=FINDING_ERRORS,
)
async def post_answer(
    number: FromPath[str],
    data: JSONBody[StepIn],
    request: Request,
    findings: NamedDependency[Findings],
) -> Filed:
    """KPU's follow-up (tindak lanjut) in `action`: what was done."""
    return await take_step("answer", number, data, principal_of(request), findings)


@post(
    "/api/v1/findings/{number:str}/close",
    name="finding-close",
    opt=SUPERVISE,
    status_code=HTTP_201_CREATED,
    responses=FINDING_ERRORS,
)
async def post_close(
    number: FromPath[str],
    data: JSONBody[StepIn],
    request: Request,
    findings: NamedDependency[Findings],
) -> Filed:
    """Bawaslu closes an answered finding: `accepted`, or not with the reason in `note`."""
    return await take_step("close", number, data, principal_of(request), findings)


def shown(
    row: FindingRow, principal: Principal | None, now: datetime, contacts: Contacts | None = None
) -> dict[str, Any]:
    """A finding as a reader may see it: a citizen's contact (`reporter`) only to those who
    supervise, read from `contacts`."""
    data = msgspec.to_builtins(row)
    ref, data["reporter"] = data.pop("contact"), ""
    if ref and contacts is not None and principal is not None and principal.may("supervise"):
        data["reporter"] = contact_text(contacts.read(ref))
    data["overdue"] = row.overdue(now)
    return data


def contact_text(contact: Contact | None) -> str:
    """A citizen's contact as shown to Bawaslu, marked when it was changed after filing."""
    if contact is None:
        return bahasa.CONTACT_MISSING
    return contact.text if contact.intact else bahasa.CONTACT_ALTERED.format(text=contact.text)


@get(
    "/",
    name="api-findings",
    opt={"need": "view", "area": "query"},
    responses=error_responses(404),
)
async def findings_json(
    request: Request,
    tree: NamedDependency[AreaTree],
    finding_view: NamedDependency[FindingView],
    contacts: NamedDependency[Contacts],
    area: FromQuery[str | None] = None,
    status: StatusQuery = "",
) -> list[dict[str, Any]]:
    """The area's findings, newest first; `status` one of filed, acknowledged, answered, closed
    (comma-separated), or `open`. A citizen's contact (`reporter`) only for Bawaslu."""
    code = tree.area(area if area is not None else tree.code)
    principal, now = principal_of(request), datetime.now(UTC)

    def rows_shown() -> list[dict[str, Any]]:
        rows = finding_view.rows(code, statuses_of(status))
        return [shown(row, principal, now, contacts) for row in rows]

    return await asyncio.to_thread(rows_shown)


def statuses_of(status: str) -> tuple[str, ...]:
    asked = tuple(s for s in status.split(",") if s)
    if asked == ("open",):
        return OPEN
    if any(s not in bahasa.SUPERVISION_STATUS for s in asked):  # a malformed query: a 400
        raise ValidationException(bahasa.UNKNOWN_FINDING_STATUS.format(status=status))
    return asked


# The pages.


@dataclass
class FindingUpload:
    """The finding form as a browser sends it (multipart: its photos with it)."""

    command_id: str = ""
    source: str = "temuan"
    kind: str = ""
    where: str = ""
    text: str = ""
    filed_by: str = ""
    labels: str = ""
    surat_jalan: str = ""
    reporter: str = ""
    occurred_at: str = ""
    # A file box with no photo chosen comes as an empty part with no filename: a string.
    photos: list[Any] = field(default_factory=list)  # UploadFile, or ""


class FindingForm(msgspec.Struct, frozen=True):
    """What the form sent, as typed (FindingIn checks it), to fill the form again if refused."""

    command_id: str = ""
    source: str = "temuan"
    kind: str = ""
    where: str = ""
    text: str = ""
    filed_by: str = ""
    labels: str = ""
    surat_jalan: str = ""
    reporter: str = ""
    occurred_at: str = ""


class StepForm(msgspec.Struct, frozen=True):
    command_id: Annotated[str, msgspec.Meta(max_length=64)] = ""
    by: Name = ""
    note: Text = ""
    action: Text = ""
    accepted: Annotated[str, msgspec.Meta(max_length=10)] = ""


def listed(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def list_kind(statuses: tuple[str, ...]) -> str:
    """The kind of channel of a list of findings of these statuses (all of them when none):
    `temuan:filed,acknowledged,answered`, whatever order they were asked in."""
    return "temuan:" + ",".join(
        s for s in bahasa.SUPERVISION_STATUS if not statuses or s in statuses
    )


def findings_channels(templates: jinja2.Environment, view: FindingView) -> dict[str, Follows]:
    """The streams of the lists of findings, a kind for each choice of statuses: the list of
    an area again when one of its findings is filed or takes a step."""
    live = templates.get_template("_temuan_list.html")

    def renderer(statuses: tuple[str, ...]) -> Render:
        def render(channel: Channel, changed: set[str] | None, listening: bool) -> str:
            if changed is not None and channel[1] not in changed:
                return ""
            return live.render(oob=True, **list_context(view, channel[1], statuses, None))

        return render

    choices = (
        chosen
        for n in range(1, len(bahasa.SUPERVISION_STATUS) + 1)
        for chosen in itertools.combinations(bahasa.SUPERVISION_STATUS, n)
    )
    return {
        list_kind(chosen): Follows(FindingView.name, renderer(chosen), encode=Encoded)
        for chosen in choices
    }


def list_context(
    view: FindingView,
    code: str,
    statuses: tuple[str, ...],
    principal: Principal | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """What the list of an area's findings shows, as its reader may see it (overdue as of
    `now`, by default the present)."""
    now = now or datetime.now(UTC)
    return {
        "rows": [shown(row, principal, now) for row in view.rows(code, statuses)],
        "kinds": bahasa.SUPERVISION_KINDS,
        "statuses": bahasa.SUPERVISION_STATUS,
    }


@get("/temuan", name="findings", opt={"need": "view", "area": "query"})
async def findings_page(
    request: Request,
    tree: NamedDependency[AreaTree],
    finding_view: NamedDependency[FindingView],
    area: FromQuery[str | None] = None,
    status: FromQuery[str] = "open",
) -> Template:
    """An area's findings: KPU's queue to answer (open), overdue first to the eye, and
    Bawaslu's own list of what it filed and the answers (all)."""
    code = tree.area(area if area is not None else tree.code)
    principal, statuses = principal_of(request), statuses_of(status)
    found = await asyncio.to_thread(list_context, finding_view, code, statuses, principal)
    return findings_template(
        tree,
        code,
        status,
        found,
        may_file=bool(principal and principal.may("supervise")),
        stream=f"/temuan/stream?area={code}&status={status}",
    )


@get("/waktu/temuan", name="findings-time-travel", opt={"need": "audit", "area": "query"})
async def findings_then(
    request: Request,
    settings: NamedDependency[Settings],
    tree: NamedDependency[AreaTree],
    area: FromQuery[str | None] = None,
    status: StatusQuery = "filed,acknowledged,answered,closed",
    pada: FromQuery[str] = "",
    posisi: FromQuery[str] = "",
) -> Template:
    """An area's findings as they stood at `pada` (a moment) or event `posisi`, replayed from
    the event store through the live view's own code; overdue as of then."""
    code = tree.area(area if area is not None else tree.code)
    principal, statuses = principal_of(request), statuses_of(status)
    found, replayed = await view_then(
        replay_findings,
        settings,
        code,
        pada,
        posisi,
        lambda view, then: list_context(view, code, statuses, principal, then),
    )
    return findings_template(
        tree, code, status, found, then=replayed, asked={"pada": pada, "posisi": posisi}
    )


def findings_template(
    tree: AreaTree, code: str, status: str, found: dict[str, Any], **extra: Any
) -> Template:
    """The list page of an area's findings, live or as it stood then."""
    return Template(
        template_name="temuan.html",
        context={
            **found,
            "code": code,
            "title": tree.title(code),
            "trail": tree.trail(code),
            "status": status,
            "may_file": False,
            **extra,
        },
    )


@get("/temuan/stream", name="findings-stream", opt={"need": "view", "area": "query"})
async def findings_stream(
    broadcaster: NamedDependency[Broadcaster],
    tree: NamedDependency[AreaTree],
    area: FromQuery[str | None] = None,
    status: StatusQuery = "open",
) -> ServerSentEvent:
    """The list of an area's findings, whole at once, then again whenever one of them is filed
    or takes a step; of these statuses, as `/temuan` asks."""
    code = tree.area(area if area is not None else tree.code)
    return channel_stream(broadcaster, (list_kind(statuses_of(status)), code))


@get("/temuan/baru", name="finding-new", opt={"need": "supervise", "area": None})
async def new_finding_page(request: Request, area: FromQuery[str] = "") -> Template:
    principal = principal_of(request)
    assert principal is not None
    return Template(
        template_name="temuan_baru.html",
        context={
            "kinds": bahasa.SUPERVISION_KINDS,
            "where": area or principal.scope,
            "filed_by": principal.name,
            "command_id": uuid.uuid4().hex,
            "error": "",
            "form": None,
        },
    )


@post(
    "/temuan",
    name="finding-file-form",
    opt=SUPERVISE,
    status_code=303,
    request_max_body_size=MOST_PHOTOS * MAX_BYTES + 100_000,
)
async def file_finding_form(
    data: Annotated[FindingUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    request: Request,
    wilayah: NamedDependency[Served],
    findings: NamedDependency[Findings],
    photo_store: NamedDependency[Photos],
    contacts: NamedDependency[Contacts],
) -> Redirect | Template:
    """The form's finding with its photos; refused, the form again with the reason and what
    was typed (the photos to be chosen again)."""
    form = msgspec.convert({k: v for k, v in vars(data).items() if k != "photos"}, FindingForm)
    try:
        chosen = [image for image in data.photos if isinstance(image, UploadFile)]
        images = [await image.read() for image in chosen if image.filename]
        if len(images) > MOST_PHOTOS:
            raise FindingError(bahasa.PHOTOS_TOO_MANY.format(most=MOST_PHOTOS))
        for image in images:
            checked(image)
        digests = [await asyncio.to_thread(photo_store.keep, image) for image in images]
        finding = msgspec.convert(
            {
                "command_id": form.command_id or uuid.uuid4().hex,
                "source": form.source,
                "kind": form.kind,
                "where": form.where.strip(),
                "text": form.text,
                "filed_by": form.filed_by,
                "labels": listed(form.labels),
                "surat_jalan": listed(form.surat_jalan),
                "reporter": form.reporter if form.source == "laporan" else "",
                "occurred_at": local_moment(form.occurred_at),
                "photos": digests,
            },
            FindingIn,
        )
        principal = principal_of(request)
        filed = await file_finding(finding, principal, wilayah, findings, photo_store, contacts)
    except (
        msgspec.ValidationError,
        ValueError,
        FindingError,
        PhotoRefused,
        NotFoundException,
    ) as error:
        return Template(
            template_name="temuan_baru.html",
            status_code=422,
            context={
                "kinds": bahasa.SUPERVISION_KINDS,
                "where": form.where,
                "filed_by": form.filed_by,
                "command_id": form.command_id,
                "error": str(getattr(error, "detail", "") or error),
                "form": form,
            },
        )
    return Redirect(f"/temuan/{filed.finding}", status_code=303)


def local_moment(typed: str) -> str | None:
    """A `datetime-local` box's time (WIB, as the page says) as an ISO time with its zone."""
    if not typed:
        return None
    moment = datetime.fromisoformat(typed)
    return (moment if moment.tzinfo else moment.replace(tzinfo=WIB)).isoformat()


@get("/temuan/{number:str}", name="finding", opt={"need": "view", "area": None})
async def finding_page(
    number: FromPath[str],
    request: Request,
    findings: NamedDependency[Findings],
    tree: NamedDependency[AreaTree],
    contacts: NamedDependency[Contacts],
) -> Template:
    """One finding with its whole history from the event store, and the steps the reader may
    take: KPU acknowledges and answers, Bawaslu closes; a citizen's contact for Bawaslu."""
    history = await history_of(findings, number)
    filed = history[0]
    principal = principal_of(request)
    assert principal is not None
    if not within(principal.scope, filed.where):
        raise PermissionDeniedException(
            bahasa.AREA_OUTSIDE_SCOPE.format(area=filed.where, scope=principal.scope or "nasional")
        )
    state = await asyncio.to_thread(findings.state, number)
    reporter = ""
    if filed.contact and principal.may("supervise"):
        reporter = contact_text(await asyncio.to_thread(contacts.read, filed.contact))
    return Template(
        template_name="temuan_satu.html",
        context={
            "filed": filed,
            "history": history[1:],
            "status": state.status,
            "place": tree.title(filed.where) if filed.where in tree else filed.where,
            "kinds": bahasa.SUPERVISION_KINDS,
            "statuses": bahasa.SUPERVISION_STATUS,
            "reporter": reporter,
            "may_handle": principal.may("handle"),
            "may_close": principal.may("supervise"),
            "overdue": state.status in ("filed", "acknowledged")
            and datetime.now(UTC) > filed.due_at,
            "command_id": uuid.uuid4().hex,
            "who": principal,
        },
    )


STEPS = {
    "tangani": ("acknowledge", "handle"),
    "jawab": ("answer", "handle"),
    "tutup": ("close", "supervise"),
}


@post(
    "/temuan/{number:str}/{step:str}",
    name="finding-step-form",
    opt={"need": "view", "area": None},
    status_code=303,
)
async def step_form(
    number: FromPath[str],
    step: FromPath[str],
    data: URLEncodedBody[StepForm],
    request: Request,
    findings: NamedDependency[Findings],
) -> Redirect:
    """A step from the finding's page; refused, the page says why (a 4xx page)."""
    if step not in STEPS:
        raise NotFoundException(bahasa.UNKNOWN_FINDING.format(number=f"{number}/{step}"))
    name, capability = STEPS[step]
    principal = principal_of(request)
    if principal is None or not principal.may(capability):
        role = principal.role_name if principal else "-"
        raise PermissionDeniedException(
            bahasa.ROLE_MAY_NOT.format(role=role, capability=bahasa.CAPABILITY_NAMES[capability])
        )
    stepped = msgspec.convert(
        {
            "command_id": data.command_id or uuid.uuid4().hex,
            "by": data.by,
            "note": data.note,
            "action": data.action,
            "accepted": data.accepted != "tidak",
        },
        StepIn,
    )
    await take_step(name, number, stepped, principal, findings)  # type: ignore[arg-type]
    return Redirect(f"/temuan/{number}", status_code=303)


findings_router = Router(
    path="/",
    route_handlers=[
        # its own OPTIONS first, so Litestar does not make one naming only GET (see admin.py)
        Router(
            "/api/v1/findings",
            route_handlers=[options_allowing("GET", "POST"), findings_json, post_finding],
        ),
        post_acknowledge,
        post_answer,
        post_close,
        post_photo,
        photo,
        findings_page,
        findings_stream,
        findings_then,
        new_finding_page,
        file_finding_form,
        finding_page,
        step_form,
    ],
)
