"""Notices in the web: each person's subscriptions (what, where, sent how), the notices that
reach them, and for admins the delivery log; the API behind them. The notices process
(services/notices/delivery.py) sends them; the web only keeps the subscriptions on the
accounts' record and reads what was sent."""

import asyncio
from datetime import datetime
from typing import Annotated, Any

import jinja2
import msgspec
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import ServerSentEvent, Template
from litestar.status_codes import HTTP_201_CREATED

from events.accounts import Channel, NoticeKind
from services import bahasa
from services.accounts.application import Accounts
from services.accounts.roles import AccessError
from services.errors import DomainError
from services.notices.rules import KINDS, SUGGESTED, Notice, Subscription
from services.views.notices import Delivery, NoticeView, Position
from services.wilayah import Served
from web.admin import NO_STORE, options_allowing
from web.auth import Principal, principal_of
from web.board import Encoded, channel_stream
from web.errors import error_responses
from web.live import Broadcaster, Follows
from web.live import Channel as LiveChannel

VIEW = {"need": "view", "area": None}
ADMIN = {"need": "admin"}
Area = Annotated[
    str, msgspec.Meta(max_length=20, pattern=r"^(|\d{2}(\.\d{2}){0,2}(\.\d{4})?|\d{13})$")
]
Target = Annotated[str, msgspec.Meta(max_length=500)]
SHOWN = 100
NOTICES_CHANNEL = "pemberitahuan"  # its area: the reader and their scope (`reader_of`)


class SubscriptionIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    kinds: Annotated[list[NoticeKind], msgspec.Meta(min_length=1, max_length=len(KINDS))]
    channel: Channel
    area: Area = ""  # none: the account's whole scope
    target: Target = ""  # the webhook's URL, the e-mail address


class SubscriptionOut(msgspec.Struct, frozen=True, kw_only=True):
    subscription: str
    username: str
    kinds: list[NoticeKind]
    area: str
    channel: Channel
    target: str
    since: datetime
    active: bool
    secret: str | None = None  # a webhook's HMAC key: in the answer that made it, never again


def subscription_out(subscription: Subscription, secret: str = "") -> SubscriptionOut:
    return SubscriptionOut(
        subscription=subscription.subscription,
        username=subscription.username,
        kinds=subscription.kinds,
        area=subscription.area,
        channel=subscription.channel,
        target=subscription.target,
        since=subscription.since,
        active=subscription.active,
        secret=secret or None,
    )


def me(request: Request) -> Principal:
    principal = principal_of(request)
    assert principal is not None  # the guard let only accounts in
    return principal


def person(request: Request) -> Principal:
    """The account behind a change of subscriptions: a person signed in, not a scanner's
    token (which may only look and scan)."""
    principal = me(request)
    if principal.via == "token":
        raise PermissionDeniedException(bahasa.DEVICE_MAY_NOT)
    return principal


def notices_of(
    accounts: Accounts, view: NoticeView, principal: Principal, limit: int = SHOWN
) -> list[Notice]:
    """The newest notices that reach any of the account's live subscriptions."""
    live = [(s, principal.scope) for s in accounts.subscriptions(principal.username) if s.active]
    return view.reaching(live, limit)


def page_context(
    accounts: Accounts, view: NoticeView, principal: Principal, **extra: Any
) -> dict[str, Any]:
    mine = accounts.subscriptions(principal.username)
    return {
        "subscriptions": [s for s in mine if s.active],
        "notices": view.reaching([(s, principal.scope) for s in mine if s.active], 20),
        "kinds": bahasa.NOTICE_KINDS,
        "channels": {  # a webhook only for those who may aim the server's POSTs
            channel: name
            for channel, name in bahasa.CHANNELS.items()
            if channel != "webhook" or principal.may("audit")
        },
        "channel_names": bahasa.CHANNELS,
        "suggested": SUGGESTED.get(principal.role, ()),
        "scope": principal.scope,
        **extra,
    }


@get("/langganan", name="subscriptions", opt=VIEW)
async def subscriptions_page(
    request: Request,
    accounts: NamedDependency[Accounts],
    notice_view: NamedDependency[NoticeView],
) -> Template:
    """The reader's subscriptions, a form for another, and the latest notices they brought."""
    context = await asyncio.to_thread(page_context, accounts, notice_view, me(request))
    return Template(template_name="langganan.html", context=context)


@post("/langganan", name="subscription-add-form", opt=VIEW, status_code=200)
async def subscribe_form(
    request: Request,
    accounts: NamedDependency[Accounts],
    notice_view: NamedDependency[NoticeView],
    wilayah: NamedDependency[Served],
) -> Template:
    """A new subscription from the form; a webhook's key is shown on the answer, this once."""
    form = await request.form()
    principal = person(request)
    kinds = [kind for kind in form.getall("kinds", []) if isinstance(kind, str)]
    typed = {
        "kinds": kinds,
        "area": str(form.get("area") or "").strip()[:20],
        "channel": str(form.get("channel") or "")[:20],
        "target": str(form.get("target") or "").strip()[:500],
    }

    def act() -> dict[str, Any]:
        try:
            made, secret = accounts.subscribe(
                principal.username,
                kinds,
                typed["area"],
                typed["channel"],
                typed["target"],
                by=principal.username,
                known=wilayah.knows,
            )
        except DomainError as refused:
            return {"error": str(refused), "typed": typed}
        return {"made": made, "secret": secret, "done": bahasa.SUBSCRIBED}

    done = await asyncio.to_thread(act)
    context = await asyncio.to_thread(page_context, accounts, notice_view, principal, **done)
    return Template(
        template_name="langganan.html",
        context=context,
        status_code=400 if "error" in done else 200,
        headers=NO_STORE,
    )


@post("/langganan/{number:str}/akhiri", name="subscription-end-form", opt=VIEW, status_code=200)
async def end_form(
    number: FromPath[str],
    request: Request,
    accounts: NamedDependency[Accounts],
    notice_view: NamedDependency[NoticeView],
) -> Template:
    principal = person(request)

    def act() -> dict[str, Any]:
        try:
            accounts.end_subscription(number, principal.username, principal.may("admin"))
        except AccessError as refused:
            return {"error": str(refused)}
        return {"done": bahasa.SUBSCRIPTION_ENDED.format(subscription=number)}

    done = await asyncio.to_thread(act)
    context = await asyncio.to_thread(page_context, accounts, notice_view, principal, **done)
    return Template(
        template_name="langganan.html", context=context, status_code=400 if "error" in done else 200
    )


@get("/pemberitahuan", name="notices", opt=VIEW)
async def notices_page(
    request: Request,
    accounts: NamedDependency[Accounts],
    notice_view: NamedDependency[NoticeView],
) -> Template:
    """The notices that reached the reader's subscriptions, newest first; the list follows its
    stream while open."""
    principal = me(request)
    found = await asyncio.to_thread(notices_of, accounts, notice_view, principal)
    context = {"notices": found, "kinds": bahasa.NOTICE_KINDS}
    return Template(template_name="pemberitahuan.html", context=context)


@get("/pemberitahuan/stream", name="notices-stream", opt=VIEW)
async def notices_stream(
    request: Request, broadcaster: NamedDependency[Broadcaster]
) -> ServerSentEvent:
    """The reader's notices, whole at once, then again whenever a new one is made: by an event
    the notices projection applied or by the clock (a finding overdue)."""
    return channel_stream(broadcaster, (NOTICES_CHANNEL, reader_of(me(request))))


def reader_of(principal: Principal) -> str:
    """A notices channel's area: the reader and the scope their notices are bounded by."""
    return f"{principal.username} {principal.scope}"


def notices_channels(
    templates: jinja2.Environment, accounts: Accounts, view: NoticeView
) -> dict[str, Follows]:
    """Each reader's list of notices, again when a notice is made within their scope."""
    live = templates.get_template("_notice_list.html")

    def render(channel: LiveChannel, changed: set[str] | None, listening: bool) -> str:
        username, scope = channel[1].split(" ")
        if changed is not None and scope not in changed:  # none of the new ones can reach them
            return ""
        mine = [(s, scope) for s in accounts.subscriptions(username) if s.active]
        return live.render(oob=True, notices=view.reaching(mine, SHOWN))

    return {NOTICES_CHANNEL: Follows(NoticeView.name, render, encode=Encoded)}


def log_context(accounts: Accounts, view: NoticeView, failed: bool) -> dict[str, Any]:
    subscriptions = {s.subscription: s for s in accounts.subscriptions()}
    return {
        "deliveries": view.deliveries(limit=300, failed=failed),
        "positions": view.positions(),
        "subscriptions": subscriptions,
        "last_seq": view.last_seq(),
        "failed": failed,
        "channels": bahasa.CHANNELS,
    }


@get("/admin/kiriman", name="admin-deliveries", opt=ADMIN)
async def deliveries_page(
    accounts: NamedDependency[Accounts],
    notice_view: NamedDependency[NoticeView],
    gagal: FromQuery[bool] = False,
) -> Template:
    """Every attempt to deliver a notice, newest first: to whom, how long after its event,
    what the receiver said; each receiver's place in the notices and its failures."""
    context = await asyncio.to_thread(log_context, accounts, notice_view, gagal)
    return Template(template_name="admin_kiriman.html", context=context)


# The same, for scripts: JSON in and out.


@get("/", name="api-subscriptions", opt=VIEW, sync_to_thread=True)
def list_subscriptions(
    request: Request, accounts: NamedDependency[Accounts]
) -> list[SubscriptionOut]:
    """The caller's subscriptions (an admin's: everyone's), ended ones too."""
    principal = me(request)
    everyone = None if principal.may("admin") else principal.username
    return [subscription_out(s) for s in accounts.subscriptions(everyone)]


@post(
    "/",
    name="api-subscription-add",
    opt=VIEW,
    sync_to_thread=True,
    status_code=HTTP_201_CREATED,
    responses=error_responses(403, 404, 422),
)
def add_subscription(
    data: JSONBody[SubscriptionIn],
    request: Request,
    accounts: NamedDependency[Accounts],
    wilayah: NamedDependency[Served],
) -> Response[SubscriptionOut]:
    """Subscribe the caller to notices of these kinds in an area of its scope, on the notices
    page, to a webhook (each POST signed: `X-Lacak-Signature: t=<unix>,v1=<HMAC-SHA256 hex of
    "t.body">` with the `secret` this answer alone shows) or to an e-mail address."""
    principal = person(request)
    made, secret = accounts.subscribe(
        principal.username,
        list(data.kinds),
        data.area,
        data.channel,
        data.target,
        by=principal.username,
        known=wilayah.knows,
    )
    return Response(subscription_out(made, secret), status_code=201, headers=NO_STORE)


@post(
    "/{number:str}/end",
    name="api-subscription-end",
    opt=VIEW,
    sync_to_thread=True,
    status_code=200,
    responses=error_responses(403, 404),
)
def end_subscription(
    number: FromPath[str], request: Request, accounts: NamedDependency[Accounts]
) -> SubscriptionOut:
    """End one of the caller's subscriptions (an admin: anyone's)."""
    principal = person(request)
    return subscription_out(
        accounts.end_subscription(number, principal.username, principal.may("admin"))
    )


@get("/api/v1/notices", name="api-notices", opt=VIEW, sync_to_thread=True)
def list_notices(
    request: Request,
    accounts: NamedDependency[Accounts],
    notice_view: NamedDependency[NoticeView],
) -> list[Notice]:
    """The newest notices that reach the caller's subscriptions, newest first."""
    return notices_of(accounts, notice_view, me(request))


class Receivers(msgspec.Struct, frozen=True, kw_only=True):
    last_seq: int  # of the newest notice
    positions: dict[str, Position]  # each receiver's cursor ("nats": the publisher)
    deliveries: list[Delivery]


@get("/api/v1/notice-deliveries", name="api-notice-deliveries", opt=ADMIN, sync_to_thread=True)
def delivery_log(
    notice_view: NamedDependency[NoticeView], failed: FromQuery[bool] = False
) -> Receivers:
    """The delivery log, newest first (only failures: `failed=true`), and where each receiver
    stands."""
    return Receivers(
        last_seq=notice_view.last_seq(),
        positions=notice_view.positions(),
        deliveries=notice_view.deliveries(limit=300, failed=failed),
    )


notice_handlers = [
    subscriptions_page,
    subscribe_form,
    end_form,
    notices_page,
    notices_stream,
    deliveries_page,
    Router(
        "/api/v1/subscriptions",
        route_handlers=[
            options_allowing("GET", "POST"),
            list_subscriptions,
            add_subscription,
            end_subscription,
        ],
    ),
    list_notices,
    delivery_log,
]
