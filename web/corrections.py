"""Corrections: a scan declared wrong (void), or replaced by the right one; a batch withdrawn.

Nothing is updated or deleted: each is a new event naming what it corrects.
"""

from typing import Annotated

import msgspec
from litestar import post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, PathParameter

from services.custody.batch import Batch
from services.custody.batches import Actor, Batches, ScanResult
from web.auth import Principal
from web.errors import error_responses
from web.scans import SCAN_ERRORS, ScanIn, scan_command

Officer = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Version = Annotated[int, PathParameter(ge=1)]  # a msgspec.Meta on a path parameter goes unchecked


class Void(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    by: Officer  # who declares it wrong
    reason: Reason  # why, in words an auditor reads


class Correction(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    by: Officer
    reason: Reason
    scan: ScanIn  # the scan as it should have been recorded (a new scan id)


class BatchStanding(msgspec.Struct, frozen=True, kw_only=True):
    """Where a batch stands after a void."""

    label: str
    version: int
    location: str | None
    in_transit: bool
    voided: str  # the reason it was withdrawn, "" if it was not
    replaced_by: list[str]


def standing(batch: Batch) -> BatchStanding:
    return BatchStanding(
        label=batch.label,
        version=batch.version,
        location=batch.location,
        in_transit=batch.in_transit,
        voided=batch.voided,
        replaced_by=list(batch.replaced_by),
    )


@post(
    "/api/v1/batches/{label:str}/events/{version:int}/void",
    name="scan-void",
    opt={"need": "correct"},
    sync_to_thread=True,
    status_code=200,
    responses=error_responses(404, 409, 422),
)
def void_scan(
    label: FromPath[str],
    version: FromPath[Version],
    data: JSONBody[Void],
    batches: NamedDependency[Batches],
    actor: NamedDependency[Actor],
) -> BatchStanding:
    """Declare the scan recorded as event `version` wrong (the answer of a scan gives its
    version). It stays on the record and no longer counts; the anomalies it raised are resolved."""
    return standing(batches.void_scan(label, version, data.reason, data.by, actor))


@post(
    "/api/v1/batches/{label:str}/events/{version:int}/correct",
    name="scan-correct",
    opt={"need": "correct"},
    sync_to_thread=True,
    status_code=200,
    responses=SCAN_ERRORS,
)
def correct_scan(
    label: FromPath[str],
    version: FromPath[Version],
    data: JSONBody[Correction],
    batches: NamedDependency[Batches],
    actor: NamedDependency[Actor],
    principal: NamedDependency[Principal | None],
) -> ScanResult:
    """Replace the scan recorded as event `version` with `scan`, which names what it corrects."""
    scan = scan_command(data.scan, principal, correcting=True)
    return batches.correct_scan(label, version, scan, data.reason, data.by, actor)


@post(
    "/api/v1/batches/{label:str}/void",
    name="batch-void",
    opt={"need": "correct"},
    sync_to_thread=True,
    status_code=200,
    responses=error_responses(404, 409, 422),
)
def void_batch(
    label: FromPath[str],
    data: JSONBody[Void],
    batches: NamedDependency[Batches],
    actor: NamedDependency[Actor],
) -> BatchStanding:
    """Withdraw a batch from the plan (destroyed, lost); later scans of it are recorded and
    flagged."""
    return standing(batches.void_batch(label, data.reason, data.by, actor))
