"""The composition root of the web process: `create_app(settings, wilayah)`.

One lifespan opens what the handlers need (the custody application, the accounts, the views, the
live pipeline) and keeps it on the app's state; handlers receive it as dependencies, by name.
"""

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from litestar import Litestar, MediaType, Request, Response
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from services import bahasa
from services.accounts.application import open_accounts
from services.accounts.roles import (
    AccessError,
    AssignmentRefused,
    LoginRefused,
    SubscriptionNotYours,
    UnknownDeviceError,
    UnknownSubscriptionError,
    UnknownUserError,
    UserExistsError,
)
from services.bahasa import local_time, percent, thousands
from services.custody.batches import Batches
from services.custody.election import Election, Elections
from services.custody.errors import (
    ConflictError,
    ImpossibleTimeError,
    LabelMisreadError,
    MissingDetailError,
    NoMasterDataError,
    UnknownAnomalyError,
    UnknownLabelError,
    UnknownLocationError,
    UnknownScanEventError,
)
from services.errors import DomainError
from services.findings.application import Findings
from services.findings.contacts import Contacts
from services.findings.decisions import FindingError, UnknownFindingError
from services.findings.hours import response_hours
from services.findings.photos import PhotoRefused, Photos
from services.gudang.application import Gudangs
from services.gudang.decisions import GudangError
from services.notices.rules import SubscriptionRefused
from services.settings import Settings
from services.store.notifications import ACCOUNTS, CUSTODY
from services.views.anomalies.view import AnomalyView
from services.views.board.view import BoardView
from services.views.database import open_views
from services.views.eventlog import EventLogView
from services.views.findings import FindingView
from services.views.gudang import GudangView
from services.views.ledger import AccessLedgerView, LedgerView
from services.views.notices import NoticeView
from services.wilayah import IANA_ZONES, Served, level_of, local_time_of
from web.activity import activity_router
from web.admin import admin_handlers
from web.anomalies import Feed, anomaly_router, renderers
from web.audit import audit_handlers
from web.auth import (
    TokenCache,
    actor_of,
    auth_handlers,
    authorize,
    not_authorized,
    permission_denied,
    principal_of,
    security_headers,
    wants_html,
)
from web.board import CHILD_LEVEL, CHILD_NAMES, AreaTree, board_channels, board_router
from web.corrections import correct_scan, void_batch, void_scan
from web.epcis import export_epcis
from web.errors import in_bahasa, translated
from web.eventlog import log_router
from web.findings import findings_channels, findings_router
from web.gudang import gudang_area, gudang_channels, gudang_router
from web.health import Health, Metrics, health_handlers
from web.labels import label_sheet, one_label
from web.live import REDRAW_SECONDS, Broadcaster, follow_notices, redraw_as_time_passes
from web.notices import notice_handlers, notices_channels
from web.openapi import RequestStructSchemaPlugin
from web.scanning import scanning_router
from web.scans import post_scan, post_scan_queue
from web.shipments import shipment_page
from web.timeline import timeline_router
from web.timetravel import Replays, time_travel

HERE = Path(__file__).parent
NODE_MODULES = HERE / "node_modules"
VENDOR = {
    "htmx": NODE_MODULES / "htmx.org" / "dist",
    "htmx-ext-sse": NODE_MODULES / "htmx-ext-sse" / "dist",
    # Camera scanning where the browser has no BarcodeDetector: the polyfill and its wasm.
    "barcode-detector": NODE_MODULES / "barcode-detector" / "dist" / "iife",
    "zxing-wasm": NODE_MODULES / "zxing-wasm" / "dist" / "reader",
}

STATUS_OF_ERROR = {
    UnknownLabelError: 404,
    UnknownLocationError: 422,
    ImpossibleTimeError: 422,
    MissingDetailError: 422,
    UnknownAnomalyError: 404,
    UnknownScanEventError: 404,
    LabelMisreadError: 422,
    ConflictError: 409,
    NoMasterDataError: 503,
    AccessError: 400,
    AssignmentRefused: 422,  # well formed, but not a post that role can hold
    LoginRefused: 401,
    UserExistsError: 409,
    UnknownUserError: 404,
    UnknownDeviceError: 404,
    GudangError: 422,
    FindingError: 422,
    UnknownFindingError: 404,
    PhotoRefused: 422,
    SubscriptionRefused: 422,
    UnknownSubscriptionError: 404,
    SubscriptionNotYours: 403,
}


def error_response(
    request: Request,
    status: int,
    detail: str,
    extra: Any = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    """An error as its asker reads it: a page for a person's browser, JSON for the API and for
    htmx (which shows it in place)."""
    if wants_html(request) and not request.headers.get("hx-request"):
        return Template(
            template_name="error.html",
            context={
                "status": status,
                "title": bahasa.ERROR_TITLES.get(status, "Galat"),
                "detail": detail,
                "extra": extra if isinstance(extra, list) else [],
            },
            status_code=status,
            headers=headers,
        )
    body: dict[str, Any] = {"status_code": status, "detail": detail}
    if extra:
        body["extra"] = extra
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)


def domain_error(request: Request, error: DomainError) -> Response[Any]:
    return error_response(request, STATUS_OF_ERROR.get(type(error), 400), str(error))


def http_error(request: Request, error: HTTPException) -> Response[Any]:
    """Litestar's own refusals (no such page, a malformed query, a method not allowed), in
    Bahasa, as a page for a browser."""
    return error_response(
        request,
        error.status_code,
        in_bahasa(error.detail),
        translated(error.extra),
        dict(error.headers or {}),
    )


def malformed_body(request: Request, error: Exception) -> Response[Any]:
    """Bytes that are not UTF-8, or JSON nested too deep to read: the client's fault, a 400."""
    return error_response(request, 400, bahasa.NOT_JSON.format(error=type(error).__name__))


def vendor_routers() -> list:
    missing = [str(d) for d in VENDOR.values() if not d.is_dir()]
    if missing:
        raise FileNotFoundError(
            f"browser libraries missing ({', '.join(missing)}): run `npm ci --prefix web`"
        )
    return [
        create_static_files_router(
            path=f"/static/vendor/{name}", directories=[directory], opt={"public": True}
        )
        for name, directory in VENDOR.items()
    ]


def close_streams(app: Litestar) -> None:
    """End every open live stream, so a server can stop without waiting for browsers."""
    broadcaster = getattr(app.state, "broadcaster", None)
    if broadcaster is not None:
        broadcaster.close()


def h1_deadline(state: State) -> datetime:
    """The H-1 deadline of the election the web serves: the one place pages take it from. It is
    the election record's; until one is declared, that of the voting day in the settings."""
    settings: Settings = state.settings
    election = state.election or Election(
        election=settings.election, name="", voting_day=settings.voting_day
    )
    return election.h1_deadline(state.wilayah.code)  # pages move it to their area (h1_where)


def kept(name: str) -> Provide:
    """A dependency the lifespan keeps on the app's state."""

    def provide(state: State) -> Any:
        return state[name]

    return Provide(provide, sync_to_thread=False)


KEPT = (
    "settings",
    "wilayah",
    "batches",
    "accounts",
    "board",
    "anomalies",
    "event_log",
    "ledger",
    "access_ledger",
    "gudang",
    "gudangs",
    "finding_view",
    "notice_view",
    "findings",
    "photo_store",
    "contacts",
    "tree",
    "broadcaster",
    "feed",
    "replays",
    "health",
    "metrics",
)
DEPENDENCIES = {
    **{name: kept(name) for name in KEPT},
    "deadline": Provide(h1_deadline, sync_to_thread=False),
    "actor": Provide(actor_of, sync_to_thread=False),
    "principal": Provide(principal_of, sync_to_thread=False),
}


def templates_for(wilayah: Served) -> jinja2.Environment:
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True
    )
    zone = local_time_of(wilayah.code)
    templates.filters.update(
        ribuan=thousands,
        persen=percent,
        waktu=local_time,
        # a time on its own clock: an area's H-1 where the area is (WITA in Bali, WIT in Papua)
        waktu_setempat=lambda at: at.strftime("%d-%m-%Y %H:%M %Z"),
        jam=lambda at: at.astimezone(zone).strftime("%H:%M:%S %Z"),
        tanggal=bahasa.long_date,
        lama=bahasa.duration,
    )
    zone_name = zone.tzname(None) or "WIB"
    templates.globals.update(
        place_name=wilayah.place_name,
        area_name=wilayah.area_name,
        zone_name=zone_name,
        zone_iana=IANA_ZONES.get(zone_name, "Asia/Jakarta"),
        words=bahasa,
        kabupaten_name=wilayah.name,
        place_code=wilayah.code,  # the area served
        level_of=level_of,
        child_levels=CHILD_LEVEL,  # the level of an area's rows, and what to call them
        child_names=CHILD_NAMES,
        gudang_area=gudang_area,
    )
    return templates


def create_app(settings: Settings, wilayah: Served) -> Litestar:
    templates = templates_for(wilayah)
    health = Health(settings, [])  # the views it watches are opened with the app
    metrics = Metrics(health, lambda: live_clients(app.state), lambda: commit_counts(app.state))

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        batches = await asyncio.to_thread(
            Batches,
            settings.store,
            wilayah=wilayah,
            commit_wait=settings.commit_wait_ms / 1000,
            cache_size=settings.batch_cache,
        )
        accounts = await asyncio.to_thread(open_accounts, settings)
        election = await asyncio.to_thread(Elections(batches).get, settings.election)
        views = await asyncio.to_thread(open_views, settings)
        board, anomalies = BoardView(views), AnomalyView(views)
        event_log, ledger = EventLogView(views), LedgerView(views)
        access_ledger, gudang = AccessLedgerView(views), GudangView(views)
        finding_view, notice_view = FindingView(views), NoticeView(views)
        custody_views = (board, anomalies, event_log, ledger, gudang, finding_view, notice_view)
        for view in (*custody_views, access_ledger):  # before they first run
            await asyncio.to_thread(view.setup)
        health.projections = [
            *((view, CUSTODY) for view in custody_views),
            (access_ledger, ACCOUNTS),
        ]
        photos = await asyncio.to_thread(Photos, settings)
        contacts = await asyncio.to_thread(Contacts, photos.db)  # closed with the photos
        tree = AreaTree(wilayah)
        feed = Feed(anomalies, renderers(templates, wilayah))
        deadline = lambda: h1_deadline(app.state)  # noqa: E731
        broadcaster = Broadcaster(
            {
                **board_channels(templates, board, tree, deadline, finding_view),
                **gudang_channels(templates, gudang, tree),
                **findings_channels(templates, finding_view),
                **notices_channels(templates, accounts, notice_view),
                "feed": feed.follows(),
            }
        )
        app.state.update(
            settings=settings,
            wilayah=wilayah,
            election=election,  # None: not declared yet
            batches=batches,
            accounts=accounts,
            board=board,
            anomalies=anomalies,
            event_log=event_log,
            ledger=ledger,
            access_ledger=access_ledger,
            gudang=gudang,
            gudangs=Gudangs(batches, settings.election),
            finding_view=finding_view,
            notice_view=notice_view,
            findings=Findings(batches, response_hours(settings.finding_hours)),
            photo_store=photos,
            contacts=contacts,
            tree=tree,
            broadcaster=broadcaster,
            feed=feed,
            replays=Replays(),
            health=health,
            metrics=metrics,
            tokens=TokenCache(settings.token_cache_seconds),
        )
        # What was loaded to serve (master data, templates, caches) lives as long as the
        # process: out of the collector's sight, a full collection no longer walks it all
        # while requests wait (p99 at 64 clients: 73-133 ms before, 27-60 ms after).
        gc.collect()
        gc.freeze()
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(broadcaster.run(), name="live"),
            asyncio.create_task(
                follow_notices(settings.nats_url, broadcaster, stop), name="live-notices"
            ),
            asyncio.create_task(
                redraw_as_time_passes(
                    broadcaster, (BoardView.name, FindingView.name), REDRAW_SECONDS
                ),
                name="live-redraw",
            ),
        ]
        try:
            yield
        finally:
            stop.set()
            broadcaster.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            views.close()
            photos.close()
            batches.close()
            accounts.close()
            gc.unfreeze()  # another app in this process (a test's) frees this one's

    app = Litestar(
        route_handlers=[
            *health_handlers,
            *auth_handlers,
            *admin_handlers,
            board_router,
            anomaly_router,
            activity_router,
            post_scan,
            post_scan_queue,
            label_sheet,
            one_label,
            shipment_page,
            void_scan,
            correct_scan,
            void_batch,
            timeline_router,
            log_router,
            time_travel,
            *audit_handlers,
            export_epcis,
            scanning_router,
            gudang_router,
            findings_router,
            *notice_handlers,
            create_static_files_router(
                path="/static", directories=[HERE / "static"], opt={"public": True}
            ),
            *vendor_routers(),
        ],
        lifespan=[lifespan],
        dependencies=DEPENDENCIES,
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(templates)),
        guards=[authorize],  # every route says who may use it (web/auth.py)
        before_send=[security_headers],
        exception_handlers={
            HTTPException: http_error,
            NotAuthorizedException: not_authorized,
            PermissionDeniedException: permission_denied,
            DomainError: domain_error,
            UnicodeDecodeError: malformed_body,
            RecursionError: malformed_body,
        },
        # JSON and YAML only: the UI plugins would load their scripts from CDNs at run time.
        openapi_config=OpenAPIConfig(
            title="Lacak",
            version="0.1.0",
            path="/schema",
            render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()],
        ),
        plugins=[RequestStructSchemaPlugin()],  # request bodies documented as msgspec checks them
        middleware=[metrics.middleware],
    )
    return app


def commit_counts(state: Any) -> tuple[int, int, int]:
    """This process's group commits so far: groups, commands in them, commands decided again."""
    batches = state.get("batches")
    if batches is None:
        return 0, 0, 0
    return batches.queue.groups, batches.queue.commands, batches.redecided


def live_clients(state: Any) -> int:
    """Live pages connected to this replica (0 before the app has started)."""
    broadcaster = state.get("broadcaster")
    return sum(len(queues) for queues in broadcaster.clients.values()) if broadcaster else 0
