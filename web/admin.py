"""Admin pages for users and scanner devices, and the access log auditors read.

Forms post back to their page, which answers with the page again and what happened: an error
in words, or, once only, a new device's token.
"""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, Any

import msgspec
from litestar import HttpMethod, Response, Router, get, post, route
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody, QueryParameter, URLEncodedBody
from litestar.response import Template

from events.accounts import (
    AccessEvent,
    DeviceIssued,
    DeviceRevoked,
    LoggedOut,
    LoginFailed,
    LoginSucceeded,
    PasswordChanged,
    Role,
    SubscriptionAdded,
    SubscriptionEnded,
    UserChanged,
    UserCreated,
)
from services import bahasa
from services.accounts.application import Accounts
from services.accounts.roles import (
    MAX_DEVICE_DAYS,
    MAX_PASSWORD,
    MIN_PASSWORD,
    ROLE_NAMES,
    ROLES,
    SCOPE_PATTERN,
    USERNAME_PATTERN,
    AccessError,
    Device,
    UnknownDeviceError,
    UnknownUserError,
    User,
    check_password,
    check_role,
    device_days,
)
from services.custody.batches import Actor
from services.settings import Settings
from services.views.ledger import AccessLedgerView
from services.wilayah import Served
from web.audit import Verification, outside_checkpoints, run_verify, signed_state
from web.errors import error_responses

ADMIN = {"need": "admin"}
FAILURE_WORDS = bahasa.LOGIN_FAILURE_WORDS
KIND_WORDS = bahasa.ACCESS_WORDS


class AccessEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One access event as auditors see it: no credential's hash."""

    at: datetime
    kind: str  # the event's class, as the API gives it
    what: str  # the same in words
    username: str
    by: str
    detail: str


def entry(event: AccessEvent) -> AccessEntry:
    kind, username, detail = type(event).__name__, "", ""
    match event:
        case UserCreated():
            username, detail = event.username, f"{ROLE_NAMES[event.role]} {event.scope}".strip()
        case UserChanged():
            username = event.username
            detail = f"{ROLE_NAMES[event.role]} {event.scope}".strip() + (
                "" if event.active else ", nonaktif"
            )
        case PasswordChanged():
            username = event.username
        case DeviceIssued():
            username, detail = (
                event.username,
                f"perangkat {event.device} ({event.name}) {event.scope}",
            )
        case DeviceRevoked():
            detail = f"perangkat {event.device}" + (f": {event.reason}" if event.reason else "")
        case LoginSucceeded():
            username, detail = event.username, event.address
        case LoginFailed():
            username, detail = event.username, f"{FAILURE_WORDS[event.reason]}, {event.address}"
        case LoggedOut():
            username, detail = event.username, "sesi habis" if event.expired else ""
        case SubscriptionAdded():  # where notices go is shown; the webhook's key never
            username = event.username
            detail = f"{event.subscription}: {', '.join(event.kinds)} {event.area or 'nasional'}"
            detail += f" lewat {event.channel} {event.target}".rstrip()
        case SubscriptionEnded():
            detail = f"langganan {event.subscription}"
    return AccessEntry(
        at=event.recorded_at,
        kind=kind,
        what=KIND_WORDS[kind],
        username=username,
        by=event.by,
        detail=detail,
    )


def users_context(accounts: Accounts, **extra: Any) -> dict[str, Any]:
    return {"users": accounts.users(), "roles": ROLES, "role_names": ROLE_NAMES, **extra}


def devices_context(accounts: Accounts, **extra: Any) -> dict[str, Any]:
    return {
        "devices": accounts.devices(),
        "users": accounts.users(),
        "role_names": ROLE_NAMES,
        **extra,
    }


# The forms as browsers send them; each limit is its field's `maxlength`.
FormText = Annotated[str, msgspec.Meta(max_length=200)]
FormCode = Annotated[str, msgspec.Meta(max_length=40)]
FormPassword = Annotated[str, msgspec.Meta(max_length=MAX_PASSWORD)]


class UserForm(msgspec.Struct, frozen=True):
    username: FormCode = ""
    name: FormText = ""
    role: FormCode = ""
    scope: FormCode = ""
    password: FormPassword = ""


class UserChangeForm(msgspec.Struct, frozen=True):
    role: FormCode = ""
    scope: FormCode = ""
    active: FormCode = ""  # "ya" when the box is ticked
    password: FormPassword = ""  # empty: unchanged


class DeviceForm(msgspec.Struct, frozen=True):
    name: FormText = ""
    username: FormCode = ""
    scope: FormCode = ""
    days: FormCode = ""  # how long the token works; empty: until revoked


def expiry(accounts: Accounts, days: int | None) -> datetime | None:
    return accounts.clock() + timedelta(days=days) if days else None


class RevokeForm(msgspec.Struct, frozen=True):
    reason: FormText = ""


# The two pages are async: Litestar 2.25 runs a sync GET that shares its path with a sync POST
# in a thread twice over, and answers a 500 (`'coroutine' object has no attribute ...`).


@get("/admin/pengguna", name="admin-users", opt=ADMIN)
async def users_page(accounts: NamedDependency[Accounts]) -> Template:
    context = await asyncio.to_thread(users_context, accounts)
    return Template(template_name="admin_users.html", context=context)


NO_STORE = {"Cache-Control": "no-store"}  # an answer may hold a token shown once: keep no copy


def form_answer(
    template: str, context: Callable[..., dict[str, Any]], act: Callable[[], dict[str, Any]]
) -> Template:
    """Do what an admin form asks; its page again, with what came of it or why not (a 404 for
    a user or device that is not there, a 400 for the rest)."""
    try:
        done = act()
    except AccessError as error:
        missing = isinstance(error, UnknownUserError | UnknownDeviceError)
        return Template(
            template_name=template,
            context=context(error=str(error)),
            status_code=404 if missing else 400,
            headers=NO_STORE,
        )
    return Template(template_name=template, context=context(**done), headers=NO_STORE)


@post("/admin/pengguna", name="admin-user-create", opt=ADMIN, sync_to_thread=True, status_code=200)
def create_user_form(
    data: URLEncodedBody[UserForm],
    accounts: NamedDependency[Accounts],
    actor: NamedDependency[Actor],
    wilayah: NamedDependency[Served],
) -> Template:
    def create() -> dict[str, Any]:
        user = accounts.create_user(
            data.username.strip(),
            data.name.strip(),
            check_role(data.role),
            data.scope.strip(),
            data.password,
            by=actor.user,
            known=wilayah.knows,
        )
        return {"done": bahasa.USER_CREATED.format(username=user.username)}

    def context(**extra: Any) -> dict[str, Any]:  # a refused form keeps what was typed
        return users_context(accounts, **{"form": data, **extra} if "error" in extra else extra)

    return form_answer("admin_users.html", context, create)


@post(
    "/admin/pengguna/{username:str}/ubah",
    name="admin-user-change",
    opt=ADMIN,
    sync_to_thread=True,
    status_code=200,
)
def change_user_form(
    username: FromPath[str],
    data: URLEncodedBody[UserChangeForm],
    accounts: NamedDependency[Accounts],
    actor: NamedDependency[Actor],
    wilayah: NamedDependency[Served],
) -> Template:
    def change() -> dict[str, Any]:
        if data.password:
            check_password(data.password)  # before anything is recorded: all of the change or none
        accounts.change_user(
            username,
            check_role(data.role),
            data.scope.strip(),
            active=data.active == "ya",
            by=actor.user,
            known=wilayah.knows,
        )
        if data.password:
            accounts.set_password(username, data.password, by=actor.user)
        return {"done": bahasa.USER_CHANGED.format(username=username)}

    return form_answer("admin_users.html", partial(users_context, accounts), change)


@get("/admin/perangkat", name="admin-devices", opt=ADMIN)
async def devices_page(accounts: NamedDependency[Accounts]) -> Template:
    context = await asyncio.to_thread(devices_context, accounts)
    return Template(template_name="admin_devices.html", context=context)


@post(
    "/admin/perangkat", name="admin-device-issue", opt=ADMIN, sync_to_thread=True, status_code=200
)
def issue_device_form(
    data: URLEncodedBody[DeviceForm],
    accounts: NamedDependency[Accounts],
    actor: NamedDependency[Actor],
    wilayah: NamedDependency[Served],
) -> Template:
    def issue() -> dict[str, Any]:
        device, token = accounts.issue_device(
            data.name,
            data.username.strip(),
            data.scope.strip(),
            by=actor.user,
            known=wilayah.knows,
            expires_at=expiry(accounts, device_days(data.days)),
        )
        return {"issued": device, "token": token}  # the token: shown this once

    return form_answer("admin_devices.html", partial(devices_context, accounts), issue)


@post(
    "/admin/perangkat/{device:str}/cabut",
    name="admin-device-revoke",
    opt=ADMIN,
    sync_to_thread=True,
    status_code=200,
)
def revoke_device_form(
    device: FromPath[str],
    data: URLEncodedBody[RevokeForm],
    accounts: NamedDependency[Accounts],
    actor: NamedDependency[Actor],
) -> Template:
    def revoke() -> dict[str, Any]:
        accounts.revoke_device(device, actor.user, data.reason)
        return {"done": bahasa.DEVICE_REVOKED.format(device=device)}

    return form_answer("admin_devices.html", partial(devices_context, accounts), revoke)


# The same, for scripts: JSON in and out.

Username = Annotated[str, msgspec.Meta(pattern=USERNAME_PATTERN.pattern)]
Scope = Annotated[str, msgspec.Meta(pattern=SCOPE_PATTERN.pattern)]
Password = Annotated[str, msgspec.Meta(min_length=MIN_PASSWORD, max_length=256)]
Text = Annotated[str, msgspec.Meta(max_length=200)]


class UserIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    username: Username
    role: Role
    password: Password
    name: Text = ""
    scope: Scope = ""


class UserOut(msgspec.Struct, frozen=True, kw_only=True):
    username: str
    name: str
    role: Role
    scope: str
    active: bool


class DeviceIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    username: Username
    name: Text = ""
    scope: Scope = ""  # default: the user's
    days: Annotated[int, msgspec.Meta(ge=1, le=MAX_DEVICE_DAYS)] | None = None  # None: no end


class DeviceOut(msgspec.Struct, frozen=True, kw_only=True):
    device: str
    name: str
    username: str
    scope: str
    revoked: bool
    expires_at: datetime | None = None
    token: str | None = None  # only in the answer that issues it


class Revocation(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: Text = ""


def user_out(user: User) -> UserOut:
    return UserOut(
        username=user.username, name=user.name, role=user.role, scope=user.scope, active=user.active
    )


def device_out(device: Device, token: str | None = None) -> DeviceOut:
    return DeviceOut(
        device=device.device,
        name=device.name,
        username=device.username,
        scope=device.scope,
        revoked=device.revoked,
        expires_at=device.expires_at,
        token=token,
    )


@get("/", name="api-users", opt=ADMIN, sync_to_thread=True)
def list_users(accounts: NamedDependency[Accounts]) -> list[UserOut]:
    return [user_out(u) for u in accounts.users()]


@post(
    "/",
    name="api-user-create",
    opt=ADMIN,
    sync_to_thread=True,
    status_code=201,
    responses=error_responses(409, 422),
)
def create_user(
    data: JSONBody[UserIn],
    accounts: NamedDependency[Accounts],
    actor: NamedDependency[Actor],
    wilayah: NamedDependency[Served],
) -> UserOut:
    user = accounts.create_user(
        data.username,
        data.name,
        data.role,
        data.scope,
        data.password,
        by=actor.user,
        known=wilayah.knows,
    )
    return user_out(user)


@get("/", name="api-devices", opt=ADMIN, sync_to_thread=True)
def list_devices(accounts: NamedDependency[Accounts]) -> list[DeviceOut]:
    return [device_out(d) for d in accounts.devices()]


@post(
    "/",
    name="api-device-issue",
    opt=ADMIN,
    sync_to_thread=True,
    status_code=201,
    responses=error_responses(404, 422),
)
def issue_device(
    data: JSONBody[DeviceIn],
    accounts: NamedDependency[Accounts],
    actor: NamedDependency[Actor],
    wilayah: NamedDependency[Served],
) -> Response[DeviceOut]:
    """A scanner's token for a user; the answer is the only place the token is ever shown.
    `days`: how long it works (none: until revoked)."""
    device, token = accounts.issue_device(
        data.name,
        data.username,
        data.scope,
        by=actor.user,
        known=wilayah.knows,
        expires_at=expiry(accounts, data.days),
    )
    return Response(device_out(device, token), status_code=201, headers=NO_STORE)


@post(
    "/{device:str}/revoke",
    name="api-device-revoke",
    opt=ADMIN,
    sync_to_thread=True,
    status_code=200,
    responses=error_responses(404),
)
def revoke_device(
    device: FromPath[str],
    data: JSONBody[Revocation],
    accounts: NamedDependency[Accounts],
    actor: NamedDependency[Actor],
) -> DeviceOut:
    return device_out(accounts.revoke_device(device, actor.user, data.reason))


def options_allowing(*methods: str) -> HTTPRouteHandler:
    """An OPTIONS answer naming every method of a path. Litestar 2.25's own names only the
    first handler's when a path has a GET and a POST (checked: `Allow: GET, OPTIONS`)."""

    @route(
        "/",
        http_method=[HttpMethod.OPTIONS],
        opt={"public": True},
        include_in_schema=False,
        sync_to_thread=False,
    )
    def options() -> Response[None]:
        return Response(
            None, status_code=204, headers={"Allow": ", ".join(sorted({*methods, "OPTIONS"}))}
        )

    return options


# The access log.

AUDIT = {"need": "audit"}
LOG_SHOWN = 200


def access_context(
    settings: Settings,
    accounts: Accounts,
    ledger: AccessLedgerView,
    verification: Verification | None = None,
) -> dict[str, object]:
    return {
        "entries": [entry(e) for e in accounts.access_log(LOG_SHOWN)],
        "attacked": accounts.names_under_attack(),
        **signed_state(settings, ledger, verification),
    }


@get("/akses", name="access-log", opt=AUDIT, sync_to_thread=True)
def access_log_page(
    settings: NamedDependency[Settings],
    accounts: NamedDependency[Accounts],
    access_ledger: NamedDependency[AccessLedgerView],
) -> Template:
    """Logins, failed logins, accounts and devices, newest first: what auditors check; and the
    access log's own signed ledger."""
    context = access_context(settings, accounts, access_ledger)
    return Template(template_name="access_log.html", context=context)


@post("/akses/periksa", name="access-log-verify", opt=AUDIT, status_code=200)
async def verify_access_now(
    settings: NamedDependency[Settings],
    accounts: NamedDependency[Accounts],
    access_ledger: NamedDependency[AccessLedgerView],
) -> Template:
    """Recompute the access log now from the accounts' store against its signed checkpoints."""
    notes, source = await outside_checkpoints(settings, access_ledger)
    verification = await asyncio.to_thread(run_verify, settings, access_ledger, notes, source)
    context = await asyncio.to_thread(
        access_context, settings, accounts, access_ledger, verification
    )
    return Template(template_name="access_log.html", context=context)


@get("/api/v1/access-log", name="api-access-log", opt=AUDIT, sync_to_thread=True)
def access_log(
    accounts: NamedDependency[Accounts],
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = LOG_SHOWN,
) -> list[AccessEntry]:
    return [entry(e) for e in accounts.access_log(limit)]


admin_handlers = [
    users_page,
    create_user_form,
    change_user_form,
    devices_page,
    issue_device_form,
    revoke_device_form,
    # each OPTIONS first, so Litestar does not make its own (see `options_allowing`)
    Router(
        "/api/v1/users", route_handlers=[options_allowing("GET", "POST"), list_users, create_user]
    ),
    Router(
        "/api/v1/devices",
        route_handlers=[options_allowing("GET", "POST"), list_devices, issue_device, revoke_device],
    ),
    access_log_page,
    verify_access_now,
    access_log,
]
