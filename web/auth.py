"""Who is asking, and may they: a session for a person, a token for a scanner, on every route.

One guard runs before every handler. It finds the principal (an `Authorization: Bearer` device
token, or the session cookie), then checks what the handler declares in its `opt`:
- `public=True`: anyone (the login page, static files);
- `need`: the capability the role must have (`services.accounts.CAPABILITIES`); a handler that
  declares nothing needs `admin`, so a route added without thought is closed, not open;
- `area`: which wilayah the request is about, that the principal's scope must reach:
  `"served"` (the kabupaten this server serves: the default), `"path"` (the `code` in the path),
  `"query"` (the `area` query parameter, the served kabupaten when absent), `"kecamatan"` (the
  `kecamatan` query parameter the event log filters by, likewise), `"label"` (the TPS
  the batch of the `label` in the path is bound for), or `None` (the handler checks it, as a
  scan's place).
A browser session must send its CSRF token with every unsafe request: the `X-CSRF-Token` header
(htmx sends it from the page's `hx-headers`, scripts from the `csrf-token` meta tag) or a
`csrf_token` form field. A device token is no ambient credential, so it needs none.
"""

import asyncio
import hmac
import secrets
import time
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

import msgspec
from litestar import MediaType, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.types import Message, Scope

from events.accounts import Role
from services import bahasa
from services.accounts.application import Accounts
from services.accounts.roles import CAPABILITIES, CAPABILITY_NAMES, ROLE_NAMES, LoginRefused
from services.custody.batches import Actor
from services.errors import DomainError
from services.settings import Settings
from services.wilayah import Served, Wilayah, is_tps, within

SESSION_COOKIE = "lacak_sesi"
DEVICE_CAPABILITIES = frozenset(("view", "scan"))  # what a scanner's token may do
LOGIN_COOKIE = "lacak_masuk"  # the login form's own CSRF token, before there is a session
LOGIN_FORM_SECONDS = 3600
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
PRINCIPAL = "lacak_principal"  # where the guard leaves it in the ASGI scope
AREA_PARAMETERS = {"query": "area", "kecamatan": "kecamatan"}  # the query parameter of each

# Scripts only from this origin (and the camera's wasm); no inline script or style anywhere.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who a request comes from."""

    username: str
    name: str
    role: Role
    scope: str  # a device's own scope (within its user's) for a token
    via: Literal["session", "token"]
    device: str = ""
    csrf: str = ""  # the session's CSRF token
    served: str = ""  # the area this server serves: a kabupaten, a province or the nation
    expires_at: datetime | None = None  # a token's end, if it has one

    @property
    def role_name(self) -> str:
        return ROLE_NAMES[self.role]

    @property
    def wide(self) -> bool:
        """Does their scope reach all that is served (the board, the queue, the logs)?"""
        return within(self.scope, self.served)

    @property
    def home(self) -> str:
        """Their board: that of all that is served, or of the area their scope is."""
        if self.wide or not within(self.served, self.scope):
            return "/"
        return f"/tps/{self.scope}" if is_tps(self.scope) else f"/wilayah/{self.scope}"

    def reaches(self, code: str) -> bool:
        """Does their scope reach the area (a link to its page would not be refused)?"""
        return within(self.scope, code)

    def may(self, capability: str) -> bool:
        """A person may what their role may; a scanner's token, only view and scan (a token
        in a lost device must not reach the admin pages)."""
        if self.via == "token" and capability not in DEVICE_CAPABILITIES:
            return False
        return capability in CAPABILITIES[self.role]


def principal_of(request: Request) -> Principal | None:
    """Who the request comes from, as the guard found them (None on a public route)."""
    return request.scope.get(PRINCIPAL)  # type: ignore[return-value]


def actor_of(request: Request) -> Actor:
    """Who sent a command, as its events record it (the guard has let only principals in)."""
    principal = principal_of(request)
    if principal is None:
        raise NotAuthorizedException(bahasa.SIGN_IN)
    return Actor(user=principal.username, device=principal.device)


def identify(
    accounts: Accounts, authorization: str, cookie: str | None, served: str
) -> Principal | None:
    """The principal of a bearer token or a session cookie; None for neither, or a dead one."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token:
        device = accounts.device_for_token(token.strip())
        user = accounts.user(device.username) if device else None
        if device is None or user is None or not user.active:
            return None
        if not within(user.scope, device.scope):  # the user's scope was narrowed since
            return None
        return Principal(
            username=user.username,
            name=user.name,
            role=user.role,
            scope=device.scope,
            via="token",
            device=device.device,
            served=served,
            expires_at=device.expires_at,
        )
    session = accounts.session(cookie) if cookie else None
    user = accounts.user(session.username) if session else None
    if session is None or user is None or not user.active:
        return None
    return Principal(
        username=user.username,
        name=user.name,
        role=user.role,
        scope=user.scope,
        via="session",
        csrf=session.csrf,
        served=served,
    )


def area_of(connection: ASGIConnection, handler: BaseRouteHandler) -> str | None:
    """The wilayah a request is about, as its handler declares (see the module's docstring)."""
    served: str = connection.app.state.wilayah.code
    match handler.opt.get("area", "served"):
        case "served":
            return served
        case "path":
            params = connection.path_params
            return str(params.get("code") or params.get("kecamatan") or served)
        case "query" | "kecamatan" as name:
            asked = connection.query_params.getall(AREA_PARAMETERS[name], [])
            if len(asked) > 1:  # the handler reads one: let it be the one checked
                raise ValidationException(bahasa.ONE_AREA_ONLY)
            return (asked[0] if asked else "") or served
        case "label":  # the TPS the batch is bound for (a read of the store)
            try:
                batch = connection.app.state.batches.batch(connection.path_params["label"])
            except DomainError:  # misread or unknown: only a scope over the kabupaten learns so
                return served
            return batch.destination
    return None


class TokenCache:
    """The principals of scanner tokens, asked of the accounts store at most every few
    seconds: a device posts many scans a minute. A token revoked, expired or of a user
    deactivated is refused at once by the process that recorded the change, and within
    `seconds` (`LACAK_TOKEN_CACHE_SECONDS`) by every other."""

    def __init__(self, seconds: float, most: int = 10_000):
        self.seconds, self.most = seconds, most
        self.known: dict[str, tuple[float, int, Principal | None]] = {}

    async def principal(
        self, accounts: Accounts, authorization: str, served: str
    ) -> Principal | None:
        now, changes = time.monotonic(), accounts.changes
        known = self.known.get(authorization)
        if known is not None and known[0] > now and known[1] == changes:
            return known[2]
        principal = await asyncio.to_thread(identify, accounts, authorization, None, served)
        if len(self.known) >= self.most:
            self.known.clear()
        seconds = self.seconds
        if principal is not None and principal.expires_at is not None:  # not past its end
            seconds = min(seconds, (principal.expires_at - datetime.now(UTC)).total_seconds())
        self.known[authorization] = (now + seconds, changes, principal)
        return principal


async def authorize(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The one guard: principal, capability, scope, and CSRF for a session's unsafe request."""
    accounts: Accounts = connection.app.state.accounts
    authorization = connection.headers.get("authorization", "")
    served = connection.app.state.wilayah.code
    if authorization[:7].lower() == "bearer ":
        tokens: TokenCache = connection.app.state.tokens
        principal = await tokens.principal(accounts, authorization, served)
    else:
        principal = await asyncio.to_thread(
            identify, accounts, "", connection.cookies.get(SESSION_COOKIE), served
        )
    connection.scope[PRINCIPAL] = principal  # type: ignore[literal-required]
    if handler.opt.get("public"):
        return
    if principal is None:
        raise NotAuthorizedException(bahasa.SIGN_IN_AGAIN)
    need = handler.opt.get("need", "admin")
    if principal.via == "token" and need not in DEVICE_CAPABILITIES:
        raise PermissionDeniedException(bahasa.DEVICE_MAY_NOT)
    if not principal.may(need):
        raise PermissionDeniedException(
            bahasa.ROLE_MAY_NOT.format(role=principal.role_name, capability=CAPABILITY_NAMES[need])
        )
    area = (  # only a batch's own TPS is a read of the store
        await asyncio.to_thread(area_of, connection, handler)
        if handler.opt.get("area", "served") == "label"
        else area_of(connection, handler)
    )
    filtered = handler.opt.get("area") == "kecamatan"  # a filter's code: its handler says 422
    if area and not filtered and not await knows(connection.app.state.wilayah, area):
        raise NotFoundException(bahasa.UNKNOWN_AREA.format(code=area))  # not outside: unknown
    if area is not None and not within(principal.scope, area):
        raise PermissionDeniedException(
            bahasa.AREA_OUTSIDE_SCOPE.format(
                area=area or "nasional", scope=principal.scope or "nasional"
            )
        )
    if connection.method not in SAFE_METHODS and principal.via == "session":
        await check_csrf(connection, principal)


async def knows(places: Served, area: str) -> bool:
    """Does the master data served know the area? One tree answers at once; the atlas of many
    may read the store (its index, a kabupaten's tree), so not on the event loop."""
    if isinstance(places, Wilayah):
        return places.knows(area)
    return await asyncio.to_thread(places.knows, area)


async def check_csrf(connection: ASGIConnection, principal: Principal) -> None:
    sent = connection.headers.get(CSRF_HEADER, "")
    content_type = connection.headers.get("content-type", "")
    if (
        not sent
        and isinstance(connection, Request)
        and content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
    ):
        sent = str((await connection.form()).get(CSRF_FIELD, ""))
    if not sent or not hmac.compare_digest(sent.encode(), principal.csrf.encode()):
        raise PermissionDeniedException(bahasa.CSRF_REFUSED)


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def not_authorized(request: Request, error: NotAuthorizedException) -> Response[Any]:
    """A browser goes to the login page and comes back; htmx is told to go there; an API
    client gets a 401."""
    login = "/masuk?lanjut=" + quote(
        request.url.path + (f"?{request.url.query}" if request.url.query else "")
    )
    if request.headers.get("hx-request"):
        return Response("", status_code=401, headers={"HX-Redirect": login})
    if request.method == "GET" and wants_html(request):
        return Redirect(login, status_code=303)
    return Response(
        {"status_code": 401, "detail": error.detail},
        status_code=401,
        media_type=MediaType.JSON,
        headers={"WWW-Authenticate": 'Bearer realm="lacak"'},
    )


def own_page(request: Request, principal: Principal | None) -> str | None:
    """A page about an area, asked for with none (a menu's link: all that is served), by an
    officer of an area within it: the address of the same page of their own area."""
    if principal is None or principal.wide or not within(principal.served, principal.scope):
        return None
    name = AREA_PARAMETERS.get(request.route_handler.opt.get("area"))
    if request.method != "GET" or name is None or request.query_params.get(name):
        return None
    asked = [item for item in request.query_params.multi_items() if item[0] != name]
    query = urlencode([*asked, (name, principal.scope)])
    return f"{request.url.path}?{query}"


def permission_denied(request: Request, error: PermissionDeniedException) -> Response[Any]:
    principal = principal_of(request)
    if request.url.path == "/" and principal is not None and principal.home != "/":
        return Redirect(principal.home, status_code=303)  # an officer's board is their area's
    if wants_html(request) and (own := own_page(request, principal)):
        if request.headers.get("hx-request"):
            return Response("", status_code=200, headers={"HX-Redirect": own})
        return Redirect(own, status_code=303)
    if wants_html(request) and not request.headers.get("hx-request"):
        return Template(
            template_name="forbidden.html", context={"detail": error.detail}, status_code=403
        )
    return Response(
        {"status_code": 403, "detail": error.detail}, status_code=403, media_type=MediaType.JSON
    )


async def security_headers(message: Message, scope: Scope) -> None:
    """Every HTTP response carries the security headers and the CSP: a hook on what the app
    sends, so the router's own 404 and 405, static files and streams get them too."""
    if message["type"] == "http.response.start":
        present = {name.lower() for name, _ in message.get("headers", [])}
        extra = [(n, v) for n, v in SECURITY_HEADERS if n not in present]
        message["headers"] = [*message.get("headers", []), *extra]


# --- Login and logout ---------------------------------------------------------------------------


class LoginForm(msgspec.Struct, frozen=True):
    """The login form as the browser sends it (its fields' `maxlength` say the same)."""

    username: Annotated[str, msgspec.Meta(max_length=64)] = ""
    password: Annotated[str, msgspec.Meta(max_length=256)] = ""
    lanjut: Annotated[str, msgspec.Meta(max_length=2000)] = "/"
    csrf_token: Annotated[str, msgspec.Meta(max_length=100)] = ""


def safe_next(target: str) -> str:
    """Only a path of this site: never another host (`//evil`, `https://...`)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def session_cookie(request: Request, settings: Settings, token: str, max_age: int) -> Cookie:
    secure = settings.secure_cookies or request.url.scheme == "https"
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def login_token(request: Request) -> str:
    """The token a login form carries, the same as its cookie's (login CSRF: another site can
    make a browser post the form, but cannot read the cookie to fill in the field)."""
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)


def login_form(
    request: Request,
    settings: Settings,
    token: str,
    lanjut: str,
    status_code: int = 200,
    **context: Any,
) -> Template:
    return Template(
        template_name="login.html",
        context={"lanjut": safe_next(lanjut), "login_token": token, **context},
        status_code=status_code,
        cookies=[
            Cookie(
                key=LOGIN_COOKIE,
                value=token,
                max_age=LOGIN_FORM_SECONDS,
                httponly=True,
                samesite="lax",
                secure=settings.secure_cookies or request.url.scheme == "https",
                path="/masuk",
            )
        ],
    )


@get("/masuk", name="login", opt={"public": True})
async def login_page(
    request: Request, settings: NamedDependency[Settings], lanjut: FromQuery[str] = "/"
) -> Template:
    return login_form(request, settings, login_token(request), lanjut)


@post("/masuk", name="login-submit", opt={"public": True}, status_code=303)
async def login(
    request: Request,
    settings: NamedDependency[Settings],
    accounts: NamedDependency[Accounts],
    data: URLEncodedBody[LoginForm],
) -> Response[Any]:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(data.csrf_token.encode(), expected.encode()):
        fresh = secrets.token_urlsafe(32)
        return login_form(request, settings, fresh, data.lanjut, 403, error=bahasa.LOGIN_FORM_STALE)
    address = request.client.host if request.client else ""
    try:
        token, session = await asyncio.to_thread(
            accounts.login, data.username, data.password, address
        )
    except LoginRefused as refused:
        status = 429 if refused.locked else 401
        return login_form(
            request,
            settings,
            expected,
            data.lanjut,
            status,
            error=str(refused),
            username=data.username,
        )
    max_age = int((session.expires_at - accounts.clock()).total_seconds())
    return Redirect(
        safe_next(data.lanjut),
        status_code=303,
        cookies=[session_cookie(request, settings, token, max_age)],
    )


@post("/keluar", name="logout", opt={"need": "view", "area": None}, status_code=303)
async def logout(request: Request, accounts: NamedDependency[Accounts]) -> Redirect:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await asyncio.to_thread(accounts.logout, token)
    return Redirect(
        "/masuk",
        status_code=303,
        cookies=[
            Cookie(key=SESSION_COOKIE, value="", max_age=0, httponly=True, samesite="lax", path="/")
        ],
    )


auth_handlers = [login_page, login, logout]
