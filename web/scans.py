"""The device API: a handheld scanner or phone posts one scan of one label."""

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Response, post
from litestar.datastructures import State
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from events import ScanAction
from services.batches import ScanResult
from services.domain import Scan

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9.\-_:]+$")]


class ScanIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One scan: a client-made `scan_id` makes a retry safe; `occurred_at` is the device's clock."""

    scan_id: Code
    label: Code
    action: ScanAction
    location: Code
    occurred_at: Annotated[datetime, msgspec.Meta(tz=True)]


@post("/api/v1/scans", name="scan", sync_to_thread=True, status_code=HTTP_201_CREATED)
def post_scan(data: JSONBody[ScanIn], state: State) -> Response[ScanResult]:
    """Record a scan. A retried `scan_id` returns the first answer and records nothing more."""
    result = state.batches.scan(Scan(**msgspec.structs.asdict(data)))
    return Response(result, status_code=HTTP_201_CREATED)
