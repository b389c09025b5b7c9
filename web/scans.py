"""The device API: a handheld scanner or phone posts one scan of one label."""

import asyncio
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import (
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.params import Body, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from events import Condition, Reason, ScanAction
from services import bahasa
from services.accounts.roles import SCOPE_PATTERN, outside_scope, scan_refusal
from services.custody.batch import Scan
from services.custody.batches import Batches, ScanResult
from services.custody.errors import UnknownLocationError
from web.auth import Principal, principal_of
from web.errors import error_responses
from web.health import Metrics

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9.\-_:]+$")]


Detail = Annotated[str, msgspec.Meta(max_length=120)]
Seals = Annotated[list[Code], msgspec.Meta(max_length=20)]
Count = Annotated[int, msgspec.Meta(ge=0, le=100_000)]


class ScanIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One scan: a client-made `scan_id` makes a retry safe; `occurred_at` is the device's clock.

    `pack` needs `quantity` (and may name the `dapil`); `seal` needs `seals`; `dispatch` may
    carry `to`, `surat_jalan`, `vehicle`, `driver`; `receive` may carry `counted`, `condition`,
    the `seals` found (an empty list: none), `reasons`, the `witness`, and, for a hand-to-hand
    handover, who handed it over (`handed_over_by`).
    """

    scan_id: Code
    label: Code
    action: ScanAction
    location: Code
    occurred_at: Annotated[datetime, msgspec.Meta(tz=True)]
    officer: Detail = ""
    quantity: Count | None = None
    dapil: Detail = ""
    seals: Seals | None = None
    to: Detail = ""
    surat_jalan: Detail = ""
    vehicle: Detail = ""
    driver: Detail = ""
    counted: Count | None = None
    condition: Condition | None = None
    reasons: Annotated[list[Reason], msgspec.Meta(max_length=6)] = []
    witness: Detail = ""
    handed_over_by: Detail = ""
    used: Count | None = None
    spoiled: Count | None = None
    unused: Count | None = None


SCAN_ERRORS = error_responses(404, 409, 422, 503)


def scan_command(scan: ScanIn, principal: Principal | None, correcting: bool = False) -> Scan:
    """The command for a scan the principal sent: refused (403, and why) outside their scope or
    away from the level their role scans at; stamped with their account and device. A scan that
    corrects a recorded one is the corrector's statement of what happened, not their own scan:
    it needs only to lie within their scope."""
    if principal is None:
        raise NotAuthorizedException(bahasa.SIGN_IN)
    if not scan.location or not SCOPE_PATTERN.match(scan.location):
        raise UnknownLocationError(scan.location)  # no wilayah's shape: 422 before any scope
    if correcting:
        refusal = outside_scope(principal.scope, scan.location)
    else:
        refusal = scan_refusal(principal.role, principal.scope, scan.location)
    if refusal is not None:
        raise PermissionDeniedException(refusal)
    return Scan(**msgspec.structs.asdict(scan), user=principal.username, device=principal.device)


@post(
    "/api/v1/scans",
    name="scan",
    opt={"need": "scan", "area": None},
    status_code=HTTP_201_CREATED,
    responses=SCAN_ERRORS,
)
async def post_scan(data: JSONBody[ScanIn], request: Request) -> Response[ScanResult]:
    """Record a scan. A retried `scan_id` returns the first answer and records nothing more.
    The answer waits for the commit of the group the scan joined (services/custody/commit.py)."""
    # What the other routes take as dependencies, read off the app: Litestar resolves two or
    # more dependencies in a task group of their own, a fifth of this route's time.
    state = request.app.state
    command = scan_command(data, principal_of(request))
    (result,) = await asyncio.wrap_future(state.batches.submit([command]))
    state.metrics.scans.inc()
    return Response(result, status_code=HTTP_201_CREATED)


MAX_QUEUE = 1000
# The limits in the OpenAPI document; the handler checks them, to say so in Bahasa Indonesia.
ScanQueue = Annotated[
    list[ScanIn],
    Body(media_type=RequestEncodingType.JSON, schema_extra={"minItems": 1, "maxItems": MAX_QUEUE}),
]


@post(
    "/api/v1/scans/queue",
    name="scan-queue",
    opt={"need": "scan", "area": None},
    status_code=HTTP_201_CREATED,
    responses=SCAN_ERRORS,
)
async def post_scan_queue(
    data: ScanQueue,
    batches: NamedDependency[Batches],
    principal: NamedDependency[Principal | None],
    metrics: NamedDependency[Metrics],
) -> list[ScanResult]:
    """A device's queue of scans made offline, in the order made: recorded together, or, if one
    is refused, none (the answer names it). Retried scan ids get their first answers."""
    if not 1 <= len(data) <= MAX_QUEUE:  # the list's own limits are not checked on a body
        raise ValidationException(bahasa.QUEUE_SIZE.format(most=MAX_QUEUE))
    commands = [scan_command(scan, principal) for scan in data]
    results = await asyncio.wrap_future(batches.submit(commands))
    metrics.scans.inc(len(results))
    return results
