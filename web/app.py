"""The composition root of the web process: `create_app(settings, wilayah)`."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jinja2
from litestar import Litestar, MediaType, Request, Response
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from services.accounts import (
    AccessError,
    LoginRefused,
    UnknownDeviceError,
    UnknownUserError,
    UserExistsError,
    open_accounts,
)
from services.batches import Batches, ConflictError, NoMasterDataError
from services.board import BoardView
from services.domain import (
    DomainError,
    ImpossibleTimeError,
    MissingDetailError,
    UnknownAnomalyError,
    UnknownLabelError,
    UnknownLocationError,
    UnknownScanEventError,
)
from services.eventlog import EventLogView
from services.labels import LabelMisreadError
from services.ledger import LedgerView
from services.settings import Settings
from services.viewdb import open_views
from services.wilayah import Wilayah
from web.admin import admin_handlers
from web.anomalies import acknowledge_anomaly, resolve_anomaly
from web.audit import audit_handlers
from web.auth import (
    auth_handlers,
    authorize,
    not_authorized,
    permission_denied,
    security_headers,
)
from web.board import (
    REDRAW_SECONDS,
    AreaTree,
    BoardBroadcaster,
    board_renderer,
    board_router,
    follow_board_changes,
    h1_deadline_of,
    redraw_as_time_passes,
)
from web.corrections import correct_scan, void_batch, void_scan
from web.epcis import export_epcis
from web.eventlog import log_router
from web.exceptions import exceptions_lifespan, exceptions_router
from web.labels import label_sheet
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
    LoginRefused: 401,
    UserExistsError: 409,
    UnknownUserError: 404,
    UnknownDeviceError: 404,
}


def error_response(status: int, detail: str) -> Response[dict[str, object]]:
    return Response(
        {"status_code": status, "detail": detail}, status_code=status, media_type=MediaType.JSON
    )


def domain_error(request: Request, error: DomainError) -> Response[dict[str, object]]:
    return error_response(STATUS_OF_ERROR.get(type(error), 400), str(error))


def malformed_body(request: Request, error: Exception) -> Response[dict[str, object]]:
    """Bytes that are not UTF-8, or JSON nested too deep to read: the client's fault, a 400."""
    return error_response(400, f"Isi permintaan bukan JSON yang sah ({type(error).__name__}).")


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


def thousands(n: int) -> str:
    """Indonesian digit grouping: 22125 -> 22.125."""
    return f"{n:,}".replace(",", ".")


def percent(value: float) -> str:
    """Indonesian decimal comma: 17.4 -> 17,4%."""
    return f"{value:.1f}%".replace(".", ",")


WIB = timezone(timedelta(hours=7), "WIB")


def local_time(at: str | datetime) -> str:
    """`2024-02-12T02:00:00+00:00` -> `12-02-2024 09:00 WIB` (Kabupaten Serang's time)."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at.astimezone(WIB).strftime("%d-%m-%Y %H:%M %Z")


def close_streams(app: Litestar) -> None:
    """End every open board stream, so a server can stop without waiting for browsers."""
    for name in ("broadcaster", "exceptions_feed"):
        broadcaster = getattr(app.state, name, None)
        if broadcaster is not None:
            broadcaster.close()


def create_app(settings: Settings, wilayah: Wilayah) -> Litestar:
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True
    )
    templates.filters.update(ribuan=thousands, persen=percent, waktu=local_time)
    templates.globals.update(place_name=wilayah.place_name)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        batches = await asyncio.to_thread(Batches, settings.store, wilayah=wilayah)
        accounts = await asyncio.to_thread(open_accounts, settings)
        election = await asyncio.to_thread(batches.election, settings.election)  # None: undeclared
        views = await asyncio.to_thread(open_views, settings)
        board_view = BoardView(views)
        await asyncio.to_thread(EventLogView(views).setup)  # before its projection first runs
        await asyncio.to_thread(LedgerView(views).setup)  # the audit pages read it, as that one
        await asyncio.to_thread(board_view.setup)
        tree = AreaTree(wilayah)
        broadcaster = BoardBroadcaster(
            board_renderer(templates, board_view, tree, lambda: h1_deadline_of(app.state))
        )
        app.state.update(
            settings=settings,
            batches=batches,
            accounts=accounts,
            board_view=board_view,
            wilayah=wilayah,
            election=election,
            tree=tree,
            broadcaster=broadcaster,
            views=views,
            replays=Replays(),
        )
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(broadcaster.run(), name="board-broadcaster"),
            asyncio.create_task(
                follow_board_changes(settings.nats_url, broadcaster, stop), name="board-notices"
            ),
            asyncio.create_task(
                redraw_as_time_passes(broadcaster, REDRAW_SECONDS), name="board-redraw"
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
            batches.close()
            accounts.close()

    return Litestar(
        route_handlers=[
            *auth_handlers,
            *admin_handlers,
            board_router,
            exceptions_router,
            post_scan,
            post_scan_queue,
            label_sheet,
            shipment_page,
            acknowledge_anomaly,
            resolve_anomaly,
            void_scan,
            correct_scan,
            void_batch,
            timeline_router,
            log_router,
            time_travel,
            *audit_handlers,
            export_epcis,
            scanning_router,
            create_static_files_router(
                path="/static", directories=[HERE / "static"], opt={"public": True}
            ),
            *vendor_routers(),
        ],
        lifespan=[lifespan, exceptions_lifespan(settings, templates)],
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(templates)),
        guards=[authorize],  # every route says who may use it (web/auth.py)
        middleware=[security_headers],
        exception_handlers={
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
    )
