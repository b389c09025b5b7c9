"""The auditors' page: verify the hash chain now, keep the checkpoints, export EPCIS, and the way
to the event log, the custody timelines and the board at any moment."""

import asyncio
import time

import msgspec
from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Template

from services.audit.chain import CheckpointFile, Report
from services.audit.verify import verify_live
from services.settings import Settings
from services.views.ledger import LedgerView
from services.wilayah import Wilayah


class Verification(msgspec.Struct, frozen=True, kw_only=True):
    report: Report
    seconds: float


def run_verify(settings: Settings, ledger: LedgerView) -> Verification:
    """The chain recomputed from the event store against the ledger and its checkpoints."""
    started = time.perf_counter()
    report = verify_live(settings, ledger)
    return Verification(report=report, seconds=time.perf_counter() - started)


def audit_context(
    ledger: LedgerView, wilayah: Wilayah, verification: Verification | None
) -> dict[str, object]:
    checkpoints = ledger.checkpoints()
    return {
        "checkpoints": checkpoints[-10:][::-1],
        "checkpoint_count": len(checkpoints),
        "ledger_events": ledger.applied(),
        "verification": verification,
        "kecamatan": wilayah.kecamatan,
    }


@get("/audit", name="audit", opt={"need": "audit"})
async def audit_page(
    ledger: NamedDependency[LedgerView], wilayah: NamedDependency[Wilayah]
) -> Template:
    """What an auditor checks and takes home."""
    context = await asyncio.to_thread(audit_context, ledger, wilayah, None)
    return Template(template_name="audit.html", context=context)


@post("/audit/periksa", name="audit-verify", opt={"need": "audit"}, status_code=200)
async def verify_now(
    settings: NamedDependency[Settings],
    ledger: NamedDependency[LedgerView],
    wilayah: NamedDependency[Wilayah],
) -> Template:
    """Recompute the whole chain now and say whether every event is as the ledger saw it."""
    verification = await asyncio.to_thread(run_verify, settings, ledger)
    context = await asyncio.to_thread(audit_context, ledger, wilayah, verification)
    return Template(template_name="audit.html", context=context)


# The body is the CheckpointFile, indented for people: say so, not "a string".
CHECKPOINT_FILE = ResponseSpec(
    CheckpointFile, description="Checkpoint buku besar", generate_examples=False
)


@get(
    "/api/v1/ledger/checkpoints",
    name="ledger-checkpoints",
    opt={"need": "audit"},
    responses={200: CHECKPOINT_FILE},
)
async def checkpoints_file(ledger: NamedDependency[LedgerView]) -> Response[bytes]:
    """The ledger's checkpoints, the small file an auditor keeps (`lacak verify --checkpoints`)."""
    checkpoints = await asyncio.to_thread(ledger.checkpoints)
    body = msgspec.json.format(
        msgspec.json.encode(
            CheckpointFile(source="lacak web, ledger view", checkpoints=checkpoints)
        )
    )
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="lacak-checkpoints.json"'},
    )


audit_handlers = [audit_page, verify_now, checkpoints_file]
