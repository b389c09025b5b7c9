"""The custody timeline of a batch, found by its label code or by scanning its QR."""

import asyncio
from typing import Annotated

import msgspec
from litestar import Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from services.audit.timeline import TimelineEntry, timeline
from services.custody.batches import Batches
from services.custody.errors import LabelMisreadError
from services.custody.labels import parse_label
from services.views.findings import FindingView
from services.wilayah import Served
from web.errors import error_responses

LabelQuery = Annotated[str, msgspec.Meta(max_length=64)]


class Timeline(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    destination: str
    destination_name: str
    entries: list[TimelineEntry]


def read_timeline(batches: Batches, wilayah: Served, label: str) -> Timeline:
    history = batches.history(label)
    first = history[0]
    return Timeline(
        label=first.label,
        destination=first.destination,
        destination_name=wilayah.place_name(first.destination),
        entries=timeline(history, wilayah),
    )


@get("/kotak", name="timeline-find", opt={"need": "view", "area": None})
async def find_batch(label: FromQuery[LabelQuery] = "") -> Template | Redirect:
    """Type or scan a label; a readable one goes to its timeline."""
    label = label.strip().replace(" ", "")
    error = ""
    if label:
        try:
            return Redirect(f"/kotak/{parse_label(label)}")
        except LabelMisreadError as misread:
            error = str(misread)
    return Template(template_name="timeline_find.html", context={"label": label, "error": error})


@get("/kotak/{label:str}", name="timeline", opt={"need": "view", "area": "label"})
async def timeline_page(
    label: FromPath[str],
    batches: NamedDependency[Batches],
    wilayah: NamedDependency[Served],
    finding_view: NamedDependency[FindingView],
) -> Template:
    """Every event of the batch with both clocks, who and where, its anomalies and corrections,
    and Bawaslu's findings that name it, with their photos."""
    found = await asyncio.to_thread(read_timeline, batches, wilayah, label)
    findings = await asyncio.to_thread(finding_view.naming, found.label)
    return Template(
        template_name="timeline.html", context={"timeline": found, "findings": findings}
    )


@get(
    "/api/v1/batches/{label:str}/timeline",
    name="api-timeline",
    opt={"need": "view", "area": "label"},
    responses=error_responses(404, 422),
)
async def timeline_json(
    label: FromPath[str], batches: NamedDependency[Batches], wilayah: NamedDependency[Served]
) -> Timeline:
    """The batch's custody timeline, oldest event first."""
    return await asyncio.to_thread(read_timeline, batches, wilayah, label)


timeline_router = Router(path="/", route_handlers=[find_batch, timeline_page, timeline_json])
