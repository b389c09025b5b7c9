"""Anomalies from the device and monitor side: acknowledge one, resolve one."""

from typing import Annotated

import msgspec
from litestar import Request, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from services.batches import AnomalyState, Replacement
from web.auth import actor_of
from web.errors import error_responses

Officer = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
Note = Annotated[str, msgspec.Meta(max_length=2000)]


class ReplacementIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    quantity: Annotated[int, msgspec.Meta(ge=0, le=100_000)] | None = None  # default: as planned
    void_original: bool = False  # withdraw the original batch (damaged, wet, wrong dapil)


class AnomalyAction(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    by: Officer  # who acknowledges or resolves it
    note: Note = ""


class Resolution(AnomalyAction, frozen=True, forbid_unknown_fields=True):
    replacement: ReplacementIn | None = None  # a new batch sent in its place


@post(
    "/api/v1/anomalies/{anomaly_id:str}/acknowledge",
    name="anomaly-acknowledge",
    opt={"need": "handle"},
    sync_to_thread=True,
    status_code=200,
    responses=error_responses(404, 409),
)
def acknowledge_anomaly(
    anomaly_id: FromPath[str], data: JSONBody[AnomalyAction], state: State, request: Request
) -> AnomalyState:
    """Someone is on it. Acknowledging twice changes nothing."""
    return state.batches.acknowledge(anomaly_id, data.by, data.note, actor_of(request))


@post(
    "/api/v1/anomalies/{anomaly_id:str}/resolve",
    name="anomaly-resolve",
    opt={"need": "handle"},
    sync_to_thread=True,
    status_code=200,
    responses=error_responses(404, 409),
)
def resolve_anomaly(
    anomaly_id: FromPath[str], data: JSONBody[Resolution], state: State, request: Request
) -> AnomalyState:
    """It is dealt with; the board stops counting it as open. With `replacement`, a new batch
    for the same TPS is registered (its label in the answer) and, if asked, the original is
    withdrawn. Resolving twice changes nothing."""
    replacement = None
    if data.replacement is not None:
        replacement = Replacement(**msgspec.structs.asdict(data.replacement))
    return state.batches.resolve(anomaly_id, data.by, data.note, replacement, actor_of(request))
