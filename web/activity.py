"""The activity feed (`/aktivitas`): the latest custody scans of the reader's area, newest first,
live; and its JSON.

It reads the anomaly projection's feed table and follows the same `feed` channel as the queue
(`web/anomalies.py`).
"""

import asyncio
from collections.abc import Iterator
from typing import Annotated

import msgspec
from litestar import Router, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from litestar.plugins.htmx import HTMXRequest
from litestar.response import ServerSentEvent, ServerSentEventMessage, Template

from services.views.anomalies.reducer import ActivityItem, AnomalyRow
from services.views.anomalies.view import AnomalyView
from services.wilayah import Served, tps_prefix
from web.anomalies import Change, Feed, last_event_id, live_stream, reader_area
from web.auth import Principal
from web.live import Broadcaster
from web.params import Position

ACTIVITY_SHOWN = 50  # the feed page shows this many; the view keeps more
AREA = {"need": "view", "area": None}  # each reader's own area: the handlers choose it


def activity_messages(
    change: Change, label: str, area: str, shown_new: set[int], after: int
) -> Iterator[ServerSentEventMessage]:
    item = change.row
    if isinstance(item, AnomalyRow) or not item.destination.startswith(tps_prefix(area)):
        return
    if item.position > after and item.position not in shown_new and label in ("", item.label):
        shown_new.add(item.position)
        yield ServerSentEventMessage(event="aktivitas-baru", data=change.html, id=item.changed)
    else:
        yield ServerSentEventMessage(
            event=f"aktivitas-{item.position}", data=change.html, id=item.changed
        )


def activity_context(view: AnomalyView, feed: Feed, label: str, area: str) -> dict[str, object]:
    last = view.last_change()  # first: what commits after it comes over the stream
    items = view.activity(limit=ACTIVITY_SHOWN, label=label, within=area)
    return {
        "items": [feed.render.activity(item) for item in items],
        "label": label,
        "area": area,
        "after": max(last, items[0].position if items else 0),
        "keep": ACTIVITY_SHOWN,
    }


@get("/aktivitas", name="activity", opt=AREA)
async def activity_page(
    anomalies: NamedDependency[AnomalyView],
    feed: NamedDependency[Feed],
    wilayah: NamedDependency[Served],
    principal: NamedDependency[Principal | None],
    label: FromQuery[str] = "",
) -> Template:
    """The latest scans of the reader's area, newest first, live; `label` narrows it to one
    batch."""
    area = reader_area(principal, "", wilayah.code)
    context = await asyncio.to_thread(activity_context, anomalies, feed, label, area)
    return Template(template_name="aktivitas.html", context=context)


@get("/aktivitas/stream", name="activity-stream", opt=AREA)
async def activity_stream(
    request: HTMXRequest,
    broadcaster: NamedDependency[Broadcaster],
    feed: NamedDependency[Feed],
    wilayah: NamedDependency[Served],
    principal: NamedDependency[Principal | None],
    label: FromQuery[str] = "",
    after: FromQuery[int] = 0,
) -> ServerSentEvent:
    after = max(after, last_event_id(request))
    area = reader_area(principal, "", wilayah.code)
    shown_new: set[int] = set()
    return live_stream(
        broadcaster,
        feed,
        after,
        lambda change, after: activity_messages(change, label, area, shown_new, after),
    )


class ActivityPage(msgspec.Struct, frozen=True, kw_only=True):
    activity: list[ActivityItem]
    before: int | None


@get("/api/v1/activity", name="api-activity", opt=AREA, sync_to_thread=True)
def activity_json(
    anomalies: NamedDependency[AnomalyView],
    wilayah: NamedDependency[Served],
    principal: NamedDependency[Principal | None],
    label: FromQuery[str] = "",
    before: Position = None,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = ACTIVITY_SHOWN,
) -> ActivityPage:
    """The latest custody scans of the reader's area (the newest 1,000 are kept), newest
    first."""
    area = reader_area(principal, "", wilayah.code)
    items = anomalies.activity(before=before, limit=limit + 1, label=label, within=area)
    return ActivityPage(
        activity=items[:limit], before=items[limit - 1].position if len(items) > limit else None
    )


activity_router = Router(
    path="/",
    request_class=HTMXRequest,
    route_handlers=[activity_page, activity_stream, activity_json],
)
