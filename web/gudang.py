"""The gudang before packing: its page per kabupaten/kota (a province and the nation add theirs
up), live; the screen gudang officers record on from a tablet; the API behind both, and the
printable Berita Acara penerimaan."""

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated, Any

import jinja2
import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException, ValidationException
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import ServerSentEvent, Template
from litestar.status_codes import HTTP_201_CREATED

from events.gudang import DamageCause, ReceivedLine
from services import bahasa
from services.accounts.roles import scan_refusal
from services.audit.replay import replay_gudang
from services.custody.batches import Actor
from services.custody.decisions import check_time
from services.gudang.application import Gudangs, Recorded
from services.gudang.decisions import Said, dapil_name
from services.gudang.delivery_note import (
    MOST_LINES,
    NAME_LENGTH,
    Ident,
    Name,
    NoteLine,
    Quantity,
    Stage,
    as_stock,
    notice_command_id,
    parse_delivery_note,
)
from services.gudang.procurement import procurement_plan
from services.settings import Settings
from services.views.gudang import (
    ContractRow,
    DeliveryRow,
    GudangView,
    SortingDay,
    StockRow,
    added_up,
    has_plan,
    out_of_plan,
)
from services.wilayah import kabupaten_of, level_of, within
from web.auth import principal_of
from web.board import AreaTree, Encoded, channel_stream
from web.errors import error_responses, in_bahasa
from web.live import Broadcaster, Channel, Follows
from web.timetravel import view_then

Moment = Annotated[datetime, msgspec.Meta(tz=True)]
Given = Annotated[str, msgspec.Meta(max_length=NAME_LENGTH, pattern=r"\S")]  # not left blank
GUDANG_ERRORS = error_responses(403, 404, 409, 422)
ITEM_NAMES = {
    "surat_suara": "Surat suara",
    "kotak_suara": "Kotak suara",
    "bilik_suara": "Bilik suara",
    "tinta": "Tinta",
    "segel": "Segel",
    "formulir": "Formulir",
}
BALLOT_NAMES = {
    "PPWP": "PPWP (Presiden)",
    "DPR": "DPR RI",
    "DPD": "DPD",
    "DPRD_PROV": "DPRD Provinsi",
    "DPRD_KAB": "DPRD Kab/Kota",
}


class LineIn(NoteLine, frozen=True, forbid_unknown_fields=True):
    """Goods of one kind; in a receipt, how many of them were unusable on arrival."""

    damaged: Quantity = 0


Lines = Annotated[list[LineIn], msgspec.Meta(min_length=1, max_length=MOST_LINES)]


class NoticeIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A supplier's delivery notice: a stage (`tahap`) of goods expected on a day; a replacement
    delivery names the request it `replaces`."""

    command_id: Ident
    delivery: Ident
    stage: Stage
    supplier: Name
    expected_on: date
    lines: Lines
    contract: Name = ""
    replaces: Annotated[str, msgspec.Meta(max_length=64)] = ""
    occurred_at: Moment | None = None


class ContractIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A supplier's contract: its number and the goods it is to deliver to this gudang."""

    command_id: Ident
    supplier: Given
    contract: Given
    lines: Annotated[list[NoteLine], msgspec.Meta(min_length=1, max_length=MOST_LINES)]
    occurred_at: Moment | None = None


class ReceiptIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A delivery counted in at the gudang, as its Berita Acara penerimaan says."""

    command_id: Ident
    delivery: Ident
    lines: Lines
    courier: Name
    officer: Name
    witness: Name = ""
    surat_jalan: Name = ""
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""
    occurred_at: Moment | None = None


class TallyIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A sortir-lipat team's count for a session: good sheets folded, damaged ones by cause."""

    command_id: Ident
    session: Name
    team: Name
    ballot_type: Annotated[str, msgspec.Meta(pattern=r"^(PPWP|DPR|DPD|DPRD_PROV|DPRD_KAB)$")]
    sorted: Quantity
    dapil: Name = ""
    damaged: dict[DamageCause, Quantity] = {}
    occurred_at: Moment | None = None


class ReplacementIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    command_id: Ident
    request: Ident
    lines: Lines
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""
    occurred_at: Moment | None = None


class DestructionIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Damaged sheets destroyed: the Berita Acara pemusnahan's number, counts and witnesses."""

    command_id: Ident
    record: Ident
    lines: Lines
    officer: Name
    witnesses: Annotated[list[Name], msgspec.Meta(min_length=1, max_length=10)]
    method: Name = "dibakar"
    occurred_at: Moment | None = None


class AssemblyIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    command_id: Ident
    team: Name
    count: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
    occurred_at: Moment | None = None


class PlanIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    command_id: Ident


def gudang_area(code: str) -> str:
    """The gudang an area's page shows: its own above a kabupaten, else its kabupaten's."""
    return code if level_of(code) in ("nasional", "provinsi") else kabupaten_of(code)


def shown_gudang(request: Request, tree: AreaTree, area: str | None) -> str:
    """The gudang a reader is shown: of the area asked, else of their own (their scope; all
    that is served for a scope above it), an area above the one served being all of it. A 404
    for an area not served, a 403 for one their scope does not reach, save the gudang of the
    kabupaten their own area lies in (a PPK's, a KPPS's: where their boxes come from)."""
    principal = principal_of(request)
    scope = principal.scope if principal is not None else tree.code
    asked = area or (scope if within(tree.code, scope) else tree.code)
    code = tree.area(tree.code if within(asked, tree.code) else asked)
    gudang = gudang_area(code)
    theirs = level_of(gudang) == "kabupaten" and within(gudang, scope)
    if not (within(scope, code) or theirs):
        raise PermissionDeniedException(
            bahasa.AREA_OUTSIDE_SCOPE.format(area=code, scope=scope or "nasional")
        )
    return gudang


def said_by(request: Request, code: str, command_id: str, at: datetime | None) -> Said:
    """Who may record at this gudang (a gudang officer of it, an admin), and when it happened:
    403 for anyone else, 422 for a time ahead of the server's clock."""
    if level_of(code) != "kabupaten":
        raise NotFoundException(bahasa.NOT_A_GUDANG.format(code=code))
    principal = principal_of(request)
    assert principal is not None  # the guard let only principals in
    refusal = scan_refusal(principal.role, principal.scope, code)
    if refusal is not None:
        raise PermissionDeniedException(refusal)
    now = datetime.now(UTC)
    if at is not None:
        check_time(at, now)
    return Said(command_id=command_id, occurred_at=at or now)


def actor(request: Request) -> Actor:
    principal = principal_of(request)
    assert principal is not None
    return Actor(user=principal.username, device=principal.device)


RECORD = {"need": "stock", "area": "path"}


@post(
    "/api/v1/gudang/{code:str}/deliveries",
    name="gudang-notice",
    opt=RECORD,
    status_code=HTTP_201_CREATED,
    responses=GUDANG_ERRORS,
)
async def post_notice(
    code: FromPath[str],
    data: JSONBody[NoticeIn],
    request: Request,
    gudangs: NamedDependency[Gudangs],
) -> Recorded:
    """A supplier's delivery notice for a stage. Sent again with its `command_id`, the first
    answer."""
    said = said_by(request, code, data.command_id, data.occurred_at)
    return await asyncio.to_thread(
        gudangs.announce,
        code,
        said,
        actor(request),
        delivery=data.delivery,
        stage=data.stage,
        supplier=data.supplier,
        contract=data.contract,
        expected_on=data.expected_on,
        lines=as_stock(data.lines),
        replaces=data.replaces,
    )


@post(
    "/api/v1/gudang/{code:str}/contracts",
    name="gudang-contract",
    opt=RECORD,
    status_code=HTTP_201_CREATED,
    responses=GUDANG_ERRORS,
)
async def post_contract(
    code: FromPath[str],
    data: JSONBody[ContractIn],
    request: Request,
    gudangs: NamedDependency[Gudangs],
) -> Recorded:
    """A supplier's contract: the goods it is to deliver here. Sent again with its
    `command_id`, the first answer."""
    said = said_by(request, code, data.command_id, data.occurred_at)
    return await asyncio.to_thread(
        gudangs.contract,
        code,
        data.supplier.strip(),
        data.contract.strip(),
        as_stock(data.lines),
        said,
        actor(request),
    )


@post(
    "/api/v1/gudang/{code:str}/receipts",
    name="gudang-receipt",
    opt=RECORD,
    status_code=HTTP_201_CREATED,
    responses=GUDANG_ERRORS,
)
async def post_receipt(
    code: FromPath[str],
    data: JSONBody[ReceiptIn],
    request: Request,
    gudangs: NamedDependency[Gudangs],
) -> Recorded:
    """A delivery counted in. Short, over, damaged, unannounced or of another dapil, it is
    recorded as it is; the answer lists each difference flagged (`mismatches`)."""
    said = said_by(request, code, data.command_id, data.occurred_at)
    lines = [
        ReceivedLine(
            item=x.item,
            ballot_type=x.ballot_type,
            dapil=dapil_name(x.dapil),
            quantity=x.quantity,
            damaged=x.damaged,
        )
        for x in data.lines
    ]
    return await asyncio.to_thread(
        gudangs.receive,
        code,
        said,
        actor(request),
        delivery=data.delivery,
        lines=lines,
        courier=data.courier,
        officer=data.officer,
        witness=data.witness,
        surat_jalan=data.surat_jalan,
        note=data.note,
    )


@post(
    "/api/v1/gudang/{code:str}/tallies",
    name="gudang-tally",
    opt=RECORD,
    status_code=HTTP_201_CREATED,
    responses=GUDANG_ERRORS,
)
async def post_tally(
    code: FromPath[str],
    data: JSONBody[TallyIn],
    request: Request,
    gudangs: NamedDependency[Gudangs],
) -> Recorded:
    """A sortir-lipat team's count for a session."""
    said = said_by(request, code, data.command_id, data.occurred_at)
    return await asyncio.to_thread(
        gudangs.tally,
        code,
        said,
        actor(request),
        session=data.session,
        team=data.team,
        ballot_type=data.ballot_type,
        dapil=dapil_name(data.dapil),
        sorted_sheets=data.sorted,
        damaged=dict(data.damaged),
    )


@post(
    "/api/v1/gudang/{code:str}/replacements",
    name="gudang-replacement",
    opt=RECORD,
    status_code=HTTP_201_CREATED,
    responses=GUDANG_ERRORS,
)
async def post_replacement(
    code: FromPath[str],
    data: JSONBody[ReplacementIn],
    request: Request,
    gudangs: NamedDependency[Gudangs],
) -> Recorded:
    """Damaged sheets reported for replacement (seen by the province, KPU RI and Bawaslu on
    their pages); the replacements come as a delivery that names this `request`."""
    said = said_by(request, code, data.command_id, data.occurred_at)
    return await asyncio.to_thread(
        gudangs.request_replacement,
        code,
        data.request,
        as_stock(data.lines),
        data.note,
        said,
        actor(request),
    )


@post(
    "/api/v1/gudang/{code:str}/destructions",
    name="gudang-destruction",
    opt=RECORD,
    status_code=HTTP_201_CREATED,
    responses=GUDANG_ERRORS,
)
async def post_destruction(
    code: FromPath[str],
    data: JSONBody[DestructionIn],
    request: Request,
    gudangs: NamedDependency[Gudangs],
) -> Recorded:
    """Damaged sheets destroyed, with the Berita Acara pemusnahan's number and witnesses."""
    said = said_by(request, code, data.command_id, data.occurred_at)
    return await asyncio.to_thread(
        gudangs.destroy,
        code,
        said,
        actor(request),
        record=data.record,
        lines=as_stock(data.lines),
        officer=data.officer,
        witnesses=list(data.witnesses),
        method=data.method,
    )


@post(
    "/api/v1/gudang/{code:str}/assemblies",
    name="gudang-assembly",
    opt=RECORD,
    status_code=HTTP_201_CREATED,
    responses=GUDANG_ERRORS,
)
async def post_assembly(
    code: FromPath[str],
    data: JSONBody[AssemblyIn],
    request: Request,
    gudangs: NamedDependency[Gudangs],
) -> Recorded:
    """Kotak suara put together by a team."""
    said = said_by(request, code, data.command_id, data.occurred_at)
    return await asyncio.to_thread(
        gudangs.assemble, code, data.team, data.count, said, actor(request)
    )


@post(
    "/api/v1/gudang/{code:str}/plan",
    name="gudang-plan",
    opt=RECORD,
    status_code=HTTP_201_CREATED,
    responses=GUDANG_ERRORS,
)
async def post_plan(
    code: FromPath[str],
    data: JSONBody[PlanIn],
    request: Request,
    gudangs: NamedDependency[Gudangs],
    wilayah: NamedDependency[Any],
) -> Recorded:
    """The procurement plan derived from the kabupaten's master data as imported now: DPT + 2%
    per TPS and the PSU reserve per ballot type and dapil, and the rest of the kit per TPS."""
    said = said_by(request, code, data.command_id, None)
    tree = await asyncio.to_thread(wilayah.tree, code)
    if tree is None:
        raise NotFoundException(bahasa.NOT_A_GUDANG.format(code=code))
    return await asyncio.to_thread(gudangs.plan, code, procurement_plan(tree), said, actor(request))


@post(
    "/api/v1/gudang/{code:str}/deliveries.csv",
    name="gudang-notice-csv",
    opt=RECORD,
    status_code=HTTP_201_CREATED,
    responses=GUDANG_ERRORS,
    request_max_body_size=1_000_000,
)
async def post_notice_csv(
    code: FromPath[str],
    request: Request,
    gudangs: NamedDependency[Gudangs],
    delivery: FromQuery[str],
    stage: FromQuery[int],
    supplier: FromQuery[str],
    expected_on: FromQuery[date],
    contract: FromQuery[str] = "",
) -> Recorded:
    """A supplier's delivery note as CSV (columns `item,ballot_type,dapil,quantity`, comma or
    semicolon): recorded as the stage's notice, or refused whole with each bad line named."""
    body = await request.body()
    lines = parse_delivery_note(body)
    try:  # the same checks as a JSON notice; the same file sent again is recorded once
        notice = msgspec.convert(
            {
                "command_id": notice_command_id(
                    body,
                    delivery=delivery,
                    stage=stage,
                    supplier=supplier,
                    contract=contract,
                    expected_on=expected_on,
                ),
                "delivery": delivery,
                "stage": stage,
                "supplier": supplier,
                "contract": contract,
                "expected_on": expected_on.isoformat(),
                "lines": msgspec.to_builtins(lines),
            },
            NoticeIn,
        )
    except msgspec.ValidationError as error:
        raise ValidationException(in_bahasa(str(error))) from error
    said = said_by(request, code, notice.command_id, None)
    return await asyncio.to_thread(
        gudangs.announce,
        code,
        said,
        actor(request),
        delivery=notice.delivery,
        stage=notice.stage,
        supplier=notice.supplier,
        contract=notice.contract,
        expected_on=notice.expected_on,
        lines=lines,
    )


# The pages.


class GudangPage(msgspec.Struct, frozen=True, kw_only=True):
    """What a gudang page shows of an area: its stock by kind, its deliveries, its sortir-lipat
    by day, each kabupaten's state (above a kabupaten), and what is flagged."""

    code: str
    title: str
    rows: list[StockRow]
    deliveries: list[DeliveryRow]
    contracts: list[ContractRow]
    sorting: list[SortingDay]
    kabupaten: list[dict[str, Any]]
    flags: list[str]
    chart: dict[str, Any]

    @property
    def planned(self) -> bool:
        """Has a procurement plan been recorded here (else no ballots are out of it)?"""
        return has_plan(self.rows)


def read_gudang(view: GudangView, tree: AreaTree, code: str) -> GudangPage:
    """A kabupaten's gudang kind by kind; above it, each kabupaten's state and the kinds added
    up by item and ballot type, with what is flagged named by kabupaten."""
    sorting = view.sorting(code)
    if level_of(code) == "kabupaten":
        rows = view.stock(code)
        deliveries = view.deliveries(code)
        kabupaten, found = [], flags(rows, deliveries)
    else:
        each = view.by_kabupaten(code)
        rows = added_up([kind for kinds in each.values() for kind in kinds])
        deliveries = [d for d in view.deliveries(code) if d.mismatches]
        kabupaten, found = [], []
        for kab, kinds in each.items():
            name = tree.name(kab) if kab in tree else kab
            kabupaten.append(summary(kab, name, kinds))
            mine = [d for d in deliveries if d.kabupaten == kab]
            found += [f"{name}: {flag}" for flag in flags(kinds, mine)]
        deliveries = []
    return GudangPage(
        code=code,
        title=tree.title(code),
        rows=rows,
        deliveries=deliveries,
        contracts=view.contracts(code) if level_of(code) == "kabupaten" else [],
        sorting=sorting,
        kabupaten=kabupaten,
        flags=shortened(found),
        chart=sorting_chart(
            sorting, sum(r.received + r.replaced for r in rows if r.item == "surat_suara")
        ),
    )


MOST_FLAGS = 30  # on a province's or the nation's page; the kabupaten's own pages have the rest


def shortened(found: list[str]) -> list[str]:
    if len(found) <= MOST_FLAGS:
        return found
    return [*found[:MOST_FLAGS], bahasa.MORE_FLAGS.format(n=len(found) - MOST_FLAGS)]


def summary(code: str, name: str, kinds: list[StockRow]) -> dict[str, Any]:
    ballots = [k for k in kinds if k.item == "surat_suara"]
    received = sum(k.received + k.replaced for k in ballots)
    done = sum(k.sorted for k in ballots)
    needed = [k for k in kinds if k.need or k.planned]
    return {
        "code": code,
        "name": name,
        "planned": sum(k.planned + k.reserve for k in ballots),
        "received": received,
        "damaged": sum(k.damaged for k in ballots),
        "awaiting": sum(k.awaiting_replacement for k in ballots),
        "sorted_percent": 100 * done / received if received else 0.0,
        "ready": sum(1 for k in needed if k.ready),
        "kinds": len(needed),
        "over_packed": sum(1 for k in kinds if k.over_packed),
    }


def kind_name(row: StockRow | Any) -> str:
    if row.item != "surat_suara":
        return ITEM_NAMES.get(row.item, row.item)
    return " ".join(p for p in (BALLOT_NAMES.get(row.ballot_type, row.ballot_type), row.dapil) if p)


# A kind's counts that are flagged whenever they are above 0, and how the flag says it.
COUNTED_FLAGS = (
    ("unreported", bahasa.FLAG_UNREPORTED),
    ("awaiting_replacement", bahasa.FLAG_AWAITING),
    ("over_destroyed", bahasa.FLAG_OVER_DESTROYED),
    ("over_sorted", bahasa.FLAG_OVER_SORTED),
)


def flags(rows: list[StockRow], deliveries: list[DeliveryRow]) -> list[str]:
    """What is wrong, in Bahasa: each flagged delivery, ballots of a dapil not planned here,
    kinds packed past their stock, damaged sheets not yet reported or replaced, more sheets
    destroyed than damaged or sorted than received."""
    found = []
    for d in deliveries:
        if d.mismatches:
            kinds = ", ".join(bahasa.MISMATCH_NAMES.get(k, k) for k in d.mismatches.split(","))
            found.append(
                bahasa.FLAG_DELIVERY.format(delivery=d.delivery, stage=d.stage, kinds=kinds)
            )
    planned = has_plan(rows)
    for row in rows:
        name = kind_name(row)
        if out_of_plan(row, planned) and row.received + row.replaced:
            found.append(
                bahasa.FLAG_NOT_PLANNED.format(
                    kind=name, n=bahasa.thousands(row.received + row.replaced)
                )
            )
        if row.over_packed:
            found.append(
                bahasa.FLAG_OVER_PACKED.format(kind=name, n=bahasa.thousands(-row.in_stock))
            )
        for count, text in COUNTED_FLAGS:
            if n := getattr(row, count):
                found.append(text.format(kind=name, n=bahasa.thousands(n)))
    return found


CHART = {"width": 480, "height": 200, "left": 44, "right": 470, "top": 12, "bottom": 176}


def sorting_chart(days: list[SortingDay], received: int) -> dict[str, Any]:
    """The sortir-lipat's progress: sheets done (good and damaged) by day, cumulative, against
    the ballots received; bars a template draws as SVG."""
    total = max(received, sum(d.sorted + d.damaged for d in days), 1)
    span = CHART["right"] - CHART["left"]
    height = CHART["bottom"] - CHART["top"]
    width = span / max(len(days), 1)
    bars, done = [], 0
    for n, day in enumerate(days):
        done += day.sorted + day.damaged
        h = height * done / total
        bars.append(
            {
                "x": round(CHART["left"] + n * width + 1, 1),
                "y": round(CHART["bottom"] - h, 1),
                "w": round(max(width - 2, 1), 1),
                "h": round(h, 1),
                "day": day.day,
                "label": day.day[8:10] + "/" + day.day[5:7],
                "done": done,
                "damaged": day.damaged,
            }
        )
    return {
        **CHART,
        "bars": bars,
        "every": 1 + len(bars) // 8,  # a date under every bar, or every other, ...: 8 at most
        "received": received,
        "done": done,
        "percent": 100 * done / received if received else 0.0,
    }


def gudang_context(page: GudangPage) -> dict[str, Any]:
    return {
        "gudang": page,
        "kind_name": kind_name,
        "item_names": ITEM_NAMES,
        "out_of_plan": out_of_plan,
    }


def gudang_channels(
    templates: jinja2.Environment, view: GudangView, tree: AreaTree
) -> dict[str, Follows]:
    """The gudang page's stream: the whole live part again when its area changed."""
    live = templates.get_template("_gudang_live.html")

    def render(channel: Channel, changed: set[str] | None, listening: bool) -> str:
        if changed is not None and channel[1] not in changed:
            return ""
        return live.render(oob=True, **gudang_context(read_gudang(view, tree, channel[1])))

    return {"gudang": Follows(GudangView.name, render, encode=Encoded)}


VIEW = {"need": "view", "area": None}  # the reader's own area, or one asked: shown_gudang


@get("/gudang", name="gudang", opt=VIEW)
async def gudang_page(
    request: Request,
    gudang: NamedDependency[GudangView],
    gudangs: NamedDependency[Gudangs],
    tree: NamedDependency[AreaTree],
    area: FromQuery[str | None] = None,
) -> Template:
    """The gudang of an area: planned, received stage by stage, damaged, replaced, in stock
    against what packing needs, siap kemas per kind, live; the sortir-lipat's progress."""
    code = shown_gudang(request, tree, area)
    page = await asyncio.to_thread(read_gudang, gudang, tree, code)
    destroyed = (
        (await asyncio.to_thread(gudangs.state, code)).destroyed.values()
        if level_of(code) == "kabupaten"
        else []
    )
    principal = principal_of(request)
    may_record = bool(
        principal
        and principal.may("stock")
        and level_of(code) == "kabupaten"
        and scan_refusal(principal.role, principal.scope, code) is None
    )
    return Template(
        template_name="gudang.html",
        context={
            **gudang_context(page),
            "trail": tree.trail(code),
            "stream": f"/gudang/stream?area={code}",
            "may_record": may_record,
            "destructions": sorted(destroyed, key=lambda d: (d.occurred_at, d.record)),
        },
    )


@get("/waktu/gudang", name="gudang-time-travel", opt={"need": "audit", "area": None})
async def gudang_then(
    request: Request,
    settings: NamedDependency[Settings],
    tree: NamedDependency[AreaTree],
    area: FromQuery[str | None] = None,
    pada: FromQuery[str] = "",
    posisi: FromQuery[str] = "",
) -> Template:
    """The gudang page as it stood at `pada` (a moment) or event `posisi`, replayed from the
    event store through the live view's own code."""
    code = shown_gudang(request, tree, area)
    page, replayed = await view_then(
        replay_gudang, settings, code, pada, posisi, lambda view, _: read_gudang(view, tree, code)
    )
    return Template(
        template_name="gudang.html",
        context={
            **gudang_context(page),
            "trail": tree.trail(code),
            "then": replayed,
            "asked": {"pada": pada, "posisi": posisi},
            "may_record": False,
        },
    )


@get("/gudang/stream", name="gudang-stream", opt=VIEW)
async def gudang_stream(
    request: Request,
    broadcaster: NamedDependency[Broadcaster],
    tree: NamedDependency[AreaTree],
    area: FromQuery[str | None] = None,
) -> ServerSentEvent:
    """The gudang page's live part, whole at once, then again whenever its area changed."""
    code = shown_gudang(request, tree, area)
    return channel_stream(broadcaster, ("gudang", code))


@get("/api/v1/gudang", name="api-gudang", opt=VIEW, responses=error_responses(403, 404))
async def gudang_json(
    request: Request,
    gudang: NamedDependency[GudangView],
    tree: NamedDependency[AreaTree],
    area: FromQuery[str | None] = None,
) -> dict[str, Any]:
    """An area's gudang numbers: each kind's counts, in stock, still to pack, siap kemas and
    flags; a kabupaten's deliveries; the sortir-lipat by day."""
    code = shown_gudang(request, tree, area)
    page = await asyncio.to_thread(read_gudang, gudang, tree, code)
    return {
        "area": code,
        "stock": [
            {
                **msgspec.to_builtins(row),
                "in_stock": row.in_stock,
                "to_pack": row.to_pack,
                "ready": row.ready,
                "over_packed": row.over_packed,
                "awaiting_replacement": row.awaiting_replacement,
            }
            for row in page.rows
        ],
        "deliveries": msgspec.to_builtins(page.deliveries),
        "sorting": msgspec.to_builtins(page.sorting),
        "kabupaten": page.kabupaten,
        "flags": page.flags,
    }


@get("/gudang/catat", name="gudang-record", opt={"need": "stock", "area": None})
async def record_page(
    request: Request,
    gudang: NamedDependency[GudangView],
    gudangs: NamedDependency[Gudangs],
    tree: NamedDependency[AreaTree],
    area: FromQuery[str | None] = None,
) -> Template:
    """The gudang officer's screen (a tablet): receive a delivery, announced or not, count a
    sortir-lipat session, record a supplier's contract, count kotak assembled."""
    code = shown_gudang(request, tree, area)
    said_by(request, code, "-", None)  # a 403 or 404 now rather than on the first post
    state = await asyncio.to_thread(gudangs.state, code)
    rows = await asyncio.to_thread(gudang.stock, code)
    pending = [n for d, n in state.notices.items() if d not in state.receipts]
    return Template(
        template_name="gudang_catat.html",
        context={
            "code": code,
            "title": tree.title(code),
            "pending": sorted(pending, key=lambda n: (n.expected_on, n.delivery)),
            "ballots": [r for r in rows if r.item == "surat_suara" and (r.planned or r.received)],
            "dapils": sorted({r.dapil for r in rows if r.dapil}),
            "item_names": ITEM_NAMES,
            "ballot_names": BALLOT_NAMES,
            "causes": bahasa.DAMAGE_CAUSES,
            "mismatch_names": bahasa.MISMATCH_NAMES,
            "kind_name": kind_name,
            "today": datetime.now(UTC).date(),
        },
    )


@get("/gudang/{code:str}/ba", name="gudang-ba", opt={"need": "view", "area": "path"})
async def receipt_record(
    code: FromPath[str],
    pengiriman: FromQuery[Annotated[str, msgspec.Meta(max_length=64)]],
    gudangs: NamedDependency[Gudangs],
    tree: NamedDependency[AreaTree],
) -> Template:
    """The Berita Acara penerimaan of a delivery, to print and sign."""
    delivery = pengiriman  # a number such as SJ/001/2024: a query, not a part of the path
    state = await asyncio.to_thread(gudangs.state, code)
    receipt = state.receipts.get(delivery)
    if receipt is None:
        raise NotFoundException(bahasa.UNKNOWN_DELIVERY.format(delivery=delivery))
    return Template(
        template_name="gudang_ba.html",
        context={
            "code": code,
            "title": tree.title(code),
            "notice": state.notices.get(delivery),
            "receipt": receipt,
            "kind_name": kind_name,
            "mismatch_names": bahasa.MISMATCH_NAMES,
        },
    )


@get(
    "/gudang/{code:str}/pemusnahan",
    name="gudang-destruction-record",
    opt={"need": "view", "area": "path"},
)
async def destruction_record(
    code: FromPath[str],
    nomor: FromQuery[Annotated[str, msgspec.Meta(max_length=64)]],
    gudangs: NamedDependency[Gudangs],
    tree: NamedDependency[AreaTree],
) -> Template:
    """The Berita Acara pemusnahan of damaged sheets destroyed, to print and sign."""
    record = (await asyncio.to_thread(gudangs.state, code)).destroyed.get(nomor)
    if record is None:
        raise NotFoundException(bahasa.UNKNOWN_DESTRUCTION.format(record=nomor))
    return Template(
        template_name="gudang_pemusnahan.html",
        context={"code": code, "title": tree.title(code), "record": record, "kind_name": kind_name},
    )


gudang_router = Router(
    path="/",
    route_handlers=[
        gudang_page,
        gudang_stream,
        gudang_json,
        gudang_then,
        record_page,
        receipt_record,
        destruction_record,
        post_notice,
        post_notice_csv,
        post_contract,
        post_receipt,
        post_tally,
        post_replacement,
        post_destruction,
        post_assembly,
        post_plan,
    ],
)
