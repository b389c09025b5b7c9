"""The scanning screens: scan box after box (`/pindai`), load and unload a truck (`/muatan`).

The pages are shells: `static/scan.js` posts each scan to the device API (`POST /api/v1/scans`)
and keeps a queue of the scans a dropped connection left unsent. The JSON routes here answer what
the screens need before a scan: is this a place, and what does the plan say of this label.
"""

import asyncio
from typing import Annotated, Literal

import msgspec
from litestar import Router, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Template

from services import bahasa
from services.custody.errors import UnknownLabelError
from services.custody.labels import parse_label
from services.custody.places import Place, find_served, place_served
from services.views.board.view import BoardView, ShipmentLine
from services.wilayah import (
    IANA_ZONES,
    Served,
    above_kabupaten,
    kabupaten_of,
    local_time_of,
    within,
)
from web.auth import Principal
from web.errors import error_responses
from web.shipments import reconciliation

Stage = Literal["muat", "terima"]  # loading at the start, receiving at the end
Query = Annotated[str, QueryParameter(max_length=64)]
SuratJalan = Annotated[str, QueryParameter(max_length=120)]


class LabelInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What the plan says of a labelled batch: the scan screen packs the planned count."""

    label: str
    destination: str
    destination_name: str
    item: str
    ballot_type: str
    quantity: int
    dapil: str


@get("/pindai", name="scan-screen", opt={"need": "scan", "area": None})
async def scan_screen(
    wilayah: NamedDependency[Served], principal: NamedDependency[Principal | None]
) -> Template:
    """Choose the action, the place and the officer once, then scan box after box."""
    return Template(template_name="scan.html", context=screen_context(wilayah, principal))


@get("/muatan", name="load-screen", opt={"need": "scan", "area": None})
async def load_screen(
    board: NamedDependency[BoardView],
    wilayah: NamedDependency[Served],
    principal: NamedDependency[Principal | None],
    sj: FromQuery[SuratJalan] = "",
    tahap: FromQuery[Stage] = "muat",
) -> Template:
    """A truck load under one surat jalan: scanned onto the truck, then off it at arrival."""
    sj = sj.strip()
    if not sj:
        return Template(template_name="load_start.html", context={})
    lines = in_scope(await asyncio.to_thread(board.shipment, sj), principal)
    sent = next((line for line in lines if line.sent_at), None)
    return Template(
        template_name="load.html",
        context={
            **screen_context(wilayah, principal),
            "surat_jalan": sj,
            "stage": tahap,
            "prefill": prefill(tahap, sent),
            **reconciliation(lines, wilayah),
        },
    )


def in_scope(lines: list[ShipmentLine], principal: Principal | None) -> list[ShipmentLine]:
    """The lines of a load an officer may see: boxes bound for, sent from or to, or received in
    their scope (a surat jalan number alone shows nothing of other areas' loads)."""
    scope = principal.scope if principal is not None else None
    if scope is None:
        return []
    return [
        line
        for line in lines
        if any(
            code and within(scope, code)
            for code in (line.destination, line.sent_from, line.sent_to, line.received_location)
        )
    ]


@get("/muatan/rekap", name="load-lines", opt={"need": "scan", "area": None})
async def load_lines(
    board: NamedDependency[BoardView],
    wilayah: NamedDependency[Served],
    principal: NamedDependency[Principal | None],
    sj: FromQuery[SuratJalan],
) -> Template:
    """The load's lines as the loading screen swaps them in: what is on it, missing or extra."""
    lines = in_scope(await asyncio.to_thread(board.shipment, sj.strip()), principal)
    return Template(
        template_name="_load_lines.html",
        context={"surat_jalan": sj.strip(), **reconciliation(lines, wilayah)},
    )


@get("/api/v1/places", name="places", opt={"need": "scan", "area": None})
async def places(
    wilayah: NamedDependency[Served],
    principal: NamedDependency[Principal | None],
    q: FromQuery[Query] = "",
) -> list[Place]:
    """Up to 15 places whose code starts with `q` or whose name contains it: in the officer's
    kabupaten, or the one the code names; a wider officer finds each kabupaten's gudang."""
    scope = principal.scope if principal is not None else ""
    return await asyncio.to_thread(find_served, wilayah, scope, q)


@get(
    "/api/v1/places/{code:str}",
    name="place",
    opt={"need": "scan", "area": None},
    responses=error_responses(404),
)
async def place_by_code(wilayah: NamedDependency[Served], code: FromPath[str]) -> Place:
    """The place with this wilayah code; 404 when the master data has no such place."""
    found = await asyncio.to_thread(place_served, wilayah, code)
    if found is None:
        raise NotFoundException(bahasa.UNKNOWN_PLACE_CODE.format(code=code))
    return found


@get(
    "/api/v1/labels/{label:str}",
    name="label",
    opt={"need": "scan", "area": None},
    sync_to_thread=True,
    responses=error_responses(404, 422),
)
def label_info(
    board: NamedDependency[BoardView], wilayah: NamedDependency[Served], label: FromPath[str]
) -> LabelInfo:
    """The plan of a labelled batch; a misread label is a 422, an unknown one a 404."""
    canonical = parse_label(label)
    batch = board.label(canonical)
    if batch is None:
        raise UnknownLabelError(label)
    return LabelInfo(
        label=batch.label,
        destination=batch.destination,
        destination_name=wilayah.place_name(batch.destination),
        item=batch.item,
        ballot_type=batch.ballot_type,
        quantity=batch.quantity,
        dapil=batch.dapil,
    )


@get(
    "/api/v1/plan",
    name="packing-plan",
    opt={"need": "scan", "area": "query"},
    sync_to_thread=True,
    responses=error_responses(404),
)
def packing_plan(
    board: NamedDependency[BoardView], wilayah: NamedDependency[Served], area: FromQuery[str] = ""
) -> dict[str, int]:
    """The sheets planned for every kotak suara bound for the area (the kabupaten by default),
    by label: the pack screen keeps it on the device, so a box packed without a connection is
    packed with its planned count."""
    return board.packing_plan(area or wilayah.code)


def screen_context(wilayah: Served, principal: Principal | None) -> dict[str, object]:
    """The gudang an officer works from (their scope's kabupaten, or the one served), and its
    zone: the screens show times on its clock."""
    scope = principal.scope if principal is not None else ""
    home = scope if scope and within(wilayah.code, scope) else wilayah.code
    kabupaten = home if above_kabupaten(home) else kabupaten_of(home)
    zone = local_time_of(kabupaten).tzname(None) or "WIB"
    return {
        "kabupaten": kabupaten,
        "kabupaten_name": wilayah.area_name(kabupaten),
        "zone_name": zone,  # the screens show times in the gudang's own zone
        "zone": IANA_ZONES.get(zone, "Asia/Jakarta"),
    }


def prefill(stage: Stage, sent: ShipmentLine | None) -> dict[str, str]:
    """The load as recorded so far: where it leaves from and goes to, the truck and driver."""
    if sent is None:
        return {}
    if stage == "terima":
        return {"location": sent.sent_to or ""}
    return {
        "location": sent.sent_from or "",
        "to": sent.sent_to or "",
        "vehicle": sent.vehicle or "",
        "driver": sent.driver or "",
        "officer": sent.released_by or "",
    }


scanning_router = Router(
    path="/",
    route_handlers=[
        scan_screen,
        load_screen,
        load_lines,
        places,
        place_by_code,
        label_info,
        packing_plan,
    ],
)
