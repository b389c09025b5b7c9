"""Anomalies from the device and monitor side: acknowledge one, resolve one."""

from typing import Annotated

import msgspec
from litestar import post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from services.batches import AnomalyState

Officer = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
Note = Annotated[str, msgspec.Meta(max_length=2000)]


class AnomalyAction(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    by: Officer  # who acknowledges or resolves it
    note: Note = ""


@post("/api/v1/anomalies/{anomaly_id:str}/acknowledge", name="anomaly-acknowledge",
      sync_to_thread=True, status_code=200)  # fmt: skip
def acknowledge_anomaly(
    anomaly_id: FromPath[str], data: JSONBody[AnomalyAction], state: State
) -> AnomalyState:
    """Someone is on it. Acknowledging twice changes nothing."""
    return state.batches.acknowledge(anomaly_id, data.by, data.note)


@post("/api/v1/anomalies/{anomaly_id:str}/resolve", name="anomaly-resolve",
      sync_to_thread=True, status_code=200)  # fmt: skip
def resolve_anomaly(
    anomaly_id: FromPath[str], data: JSONBody[AnomalyAction], state: State
) -> AnomalyState:
    """It is dealt with; the board stops counting it as open. Resolving twice changes nothing."""
    return state.batches.resolve(anomaly_id, data.by, data.note)
