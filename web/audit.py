"""The auditors' page and the transparency log's API: verify now against the signed checkpoints,
keep them, inclusion and consistency proofs, the witnesses' cosignatures, EPCIS, and the way to
the event log, the custody timelines and the board at any moment.

The checkpoint, the ledger's key and consistency proofs are public, as a transparency log's are:
they hold sizes and hashes only, and a witness fetches them with nothing but the URL. A
cosignature is accepted from a witness whose key the settings list (`LACAK_WITNESSES`), checked
by its signature; an inclusion proof carries an event's bytes, so it needs the audit right."""

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Annotated

import msgspec
from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Template
from nats.aio.client import Client
from nats.errors import Error as NatsError

from services import bahasa
from services.audit.access import access_origin
from services.audit.anchor import Anchor, anchor
from services.audit.chain import CheckpointFile, Report
from services.audit.merkle import consistency_proof
from services.audit.note import Checkpoint, NoteError, Verifier
from services.audit.proofs import NotYetSigned, ProofBundle, prove
from services.audit.verify import log_verifier, verify_live, witness_keys
from services.custody.batch import batch_id
from services.custody.batches import Batches
from services.custody.labels import parse_label
from services.messaging.nats import connect_once
from services.settings import Settings
from services.store.notifications import ACCOUNTS, CUSTODY, MAX_POSITION, stored_at, stored_of
from services.views.ledger import (
    AccessLedgerView,
    LedgerView,
    fetch_checkpoints,
    last_published,
)
from services.wilayah import Served, filter_areas
from web.errors import error_responses

log = logging.getLogger(__name__)

# Tree sizes in the API: as far as a JSON number carries an integer exactly (a client reading
# the schema's bound as a float would otherwise send one just past it).
LARGEST = 2**53 - 1


class Verification(msgspec.Struct, frozen=True, kw_only=True):
    report: Report
    anchored: Anchor
    source: str  # where the signed checkpoints came from
    outside: bool  # from outside the database: only then can "intact" be said
    seconds: float


async def short_connection(settings: Settings) -> Client | None:
    """A connection for one question to NATS; None when it does not answer in seconds."""
    try:
        return await connect_once(settings.nats_url, timeout=3)
    except (NatsError, OSError, TimeoutError):
        return None


class StreamHead:
    """The newest checkpoint in the `LACAK_LEDGER` stream, asked at most every few seconds (the
    endpoint that serves it is public: its callers do not each open a NATS connection). Kept
    per NATS address: two apps in one process (tests) do not see each other's."""

    def __init__(self, seconds: float = 2.0):
        self.seconds = seconds
        self.heads: dict[str, tuple[float, Checkpoint | None]] = {}
        self.locks: dict[str, asyncio.Lock] = {}  # made in the loop that uses them

    async def get(self, settings: Settings) -> Checkpoint | None:
        async with self.locks.setdefault(settings.nats_url, asyncio.Lock()):
            asked, head = self.heads.get(settings.nats_url, (-self.seconds, None))
            if time.monotonic() - asked >= self.seconds:
                nc = await short_connection(settings)
                if nc is not None:
                    try:
                        head = await last_published(nc)
                    except (NatsError, OSError, TimeoutError):
                        pass
                    finally:
                        await nc.close()
                self.heads[settings.nats_url] = (time.monotonic(), head)
            return head


STREAM_HEAD = StreamHead()


async def outside_checkpoints(
    settings: Settings, ledger: LedgerView
) -> tuple[list[Checkpoint], str]:
    """The signed checkpoints from the `LACAK_LEDGER` stream, outside the database; the views'
    own only when NATS does not answer, and then said so."""
    try:
        found = await fetch_checkpoints(settings.nats_url, timeout=3, subject=ledger.subject)
    except (NatsError, OSError, TimeoutError):
        found = None
    if found is not None:
        return found, bahasa.ANCHOR_STREAM
    return await asyncio.to_thread(ledger.checkpoints), bahasa.ANCHOR_VIEWS


def published_key(settings: Settings) -> Verifier | None:
    """The ledger's key for the pages: a garbled key file or setting is logged and shown as no
    key, not a server error."""
    try:
        return log_verifier(settings)
    except NoteError as error:
        log.error("the ledger's public key cannot be read: %s", error)
        return None


def run_verify(
    settings: Settings, ledger: LedgerView, notes: list[Checkpoint], source: str
) -> Verification:
    """The tree and chain recomputed from the event store (the accounts' store, for the access
    log's ledger) against the ledger and the signed checkpoints."""
    started = time.perf_counter()
    log_key = published_key(settings)
    access = isinstance(ledger, AccessLedgerView)
    try:
        witnesses = [] if access else witness_keys(settings.witnesses)
    except NoteError as error:  # a bad LACAK_WITNESSES: verify on, without naming witnesses
        log.error("LACAK_WITNESSES: %s", error)
        witnesses = []
    origin = access_origin(settings) if access else settings.ledger_origin
    if log_key is None:  # the ledger never signed: nothing is anchored, and the page says so
        anchored = Anchor(log_key="", checkpoints=[], findings=[], witnessed=[])
    else:
        anchored = anchor(notes, log_key, witnesses, origin)
    report = verify_live(settings, ledger, anchored, app=ACCOUNTS if access else CUSTODY)
    return Verification(
        report=report,
        anchored=anchored,
        source=source,
        outside=source == bahasa.ANCHOR_STREAM,
        seconds=time.perf_counter() - started,
    )


def signed_state(
    settings: Settings, ledger: LedgerView, verification: Verification | None
) -> dict[str, object]:
    """What a page says of a signed log: its newest checkpoints, the tail not yet signed, and
    the verification just run, if any."""
    checkpoints, count = ledger.recent(10)
    latest = checkpoints[0] if checkpoints else None
    tail_events = ledger.size() - (latest.size if latest else 0)
    tail_seconds = (datetime.now(UTC) - latest.time).total_seconds() if latest else None
    return {
        "log_key": published_key(settings),
        "latest": latest,
        "tail_events": tail_events,
        "tail_seconds": tail_seconds if tail_events else 0,
        "checkpoints": checkpoints,
        "checkpoint_count": count,
        "ledger_events": ledger.applied(),
        "checkpoint_every": settings.checkpoint_every,
        "checkpoint_seconds": settings.checkpoint_seconds,
        "verification": verification,
    }


def audit_context(
    settings: Settings, ledger: LedgerView, wilayah: Served, verification: Verification | None
) -> dict[str, object]:
    return {
        **signed_state(settings, ledger, verification),
        "witnesses": ledger.witnesses(),
        "kecamatan": filter_areas(wilayah),
    }


@get("/audit", name="audit", opt={"need": "audit"})
async def audit_page(
    settings: NamedDependency[Settings],
    ledger: NamedDependency[LedgerView],
    wilayah: NamedDependency[Served],
) -> Template:
    """What an auditor checks and takes home."""
    context = await asyncio.to_thread(audit_context, settings, ledger, wilayah, None)
    return Template(template_name="audit.html", context=context)


@post("/audit/periksa", name="audit-verify", opt={"need": "audit"}, status_code=200)
async def verify_now(
    settings: NamedDependency[Settings],
    ledger: NamedDependency[LedgerView],
    wilayah: NamedDependency[Served],
) -> Template:
    """Recompute the whole log now against the signed checkpoints and the ledger."""
    notes, source = await outside_checkpoints(settings, ledger)
    verification = await asyncio.to_thread(run_verify, settings, ledger, notes, source)
    context = await asyncio.to_thread(audit_context, settings, ledger, wilayah, verification)
    return Template(template_name="audit.html", context=context)


# The body is the CheckpointFile, indented for people: say so, not "a string".
CHECKPOINT_FILE = ResponseSpec(
    CheckpointFile, description="Checkpoint buku besar", generate_examples=False
)
NOTE = "text/plain; charset=utf-8"


@get(
    "/api/v1/ledger/checkpoints",
    name="ledger-checkpoints",
    opt={"need": "audit"},
    responses={200: CHECKPOINT_FILE},
)
async def checkpoints_file(
    settings: NamedDependency[Settings], ledger: NamedDependency[LedgerView]
) -> Response[bytes]:
    """The ledger's signed checkpoints with its key, the small file an auditor keeps
    (`lacak verify --checkpoints`)."""
    checkpoints = await asyncio.to_thread(ledger.checkpoints)
    log_key = await asyncio.to_thread(published_key, settings)
    body = msgspec.json.format(
        msgspec.json.encode(
            CheckpointFile(
                source="lacak web, ledger view",
                log_key=str(log_key) if log_key else None,
                checkpoints=[c.note for c in checkpoints],
            )
        )
    )
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="lacak-checkpoints.json"'},
    )


@get(
    "/api/v1/ledger/key",
    name="ledger-key",
    opt={"public": True},
    media_type=NOTE,
    responses=error_responses(404),
)
async def ledger_key(settings: NamedDependency[Settings]) -> str:
    """The ledger's verifier key (signed-note format), to check its checkpoints with."""
    verifier = await asyncio.to_thread(published_key, settings)
    if verifier is None:
        raise NotFoundException(bahasa.NO_CHECKPOINT_YET)
    return f"{verifier}\n"


@get(
    "/api/v1/ledger/checkpoint",
    name="ledger-checkpoint",
    opt={"public": True},
    media_type=NOTE,
    responses=error_responses(404),
)
async def latest_checkpoint(
    settings: NamedDependency[Settings], ledger: NamedDependency[LedgerView]
) -> str:
    """The newest signed checkpoint (C2SP tlog-checkpoint note) with its cosignatures: the
    ledger view's, or the stream's when the view is behind it (rebuilding, or cut), so the tree
    a witness sees never shrinks while the log has not."""
    latest = await asyncio.to_thread(ledger.latest)
    published = await STREAM_HEAD.get(settings)
    if published is not None and (latest is None or published.size > latest.size):
        latest = published
    if latest is None:
        raise NotFoundException(bahasa.NO_CHECKPOINT_YET)
    return latest.note


class Consistency(msgspec.Struct, frozen=True, kw_only=True):
    old: int  # tree sizes
    new: int
    proof: list[str]  # hex, RFC 9162 2.1.4


@get(
    "/api/v1/ledger/consistency",
    name="ledger-consistency",
    opt={"public": True},
    responses=error_responses(422),
)
async def consistency(
    ledger: NamedDependency[LedgerView],
    old: Annotated[int, QueryParameter(name="from", ge=0, le=LARGEST)],
    new: Annotated[int, QueryParameter(name="to", ge=0, le=LARGEST)],
) -> Consistency:
    """That the tree of `to` leaves only added leaves to the tree of `from` (RFC 9162 2.1.4)."""
    signed = await asyncio.to_thread(
        lambda: all(size == 0 or ledger.checkpoint_at(size) for size in (old, new))
    )
    if not old <= new or not signed:  # between signed trees only: no leaf hash for free
        raise ClientException(bahasa.NO_SUCH_TREES.format(old=old, new=new), status_code=422)
    proof = await asyncio.to_thread(consistency_proof, ledger, old, new)
    return Consistency(old=old, new=new, proof=[p.hex() for p in proof])


class Cosignature(msgspec.Struct, frozen=True, kw_only=True):
    size: Annotated[int, msgspec.Meta(ge=1, le=LARGEST)]
    witness_key: Annotated[str, msgspec.Meta(max_length=200)]  # one of LACAK_WITNESSES
    line: Annotated[str, msgspec.Meta(max_length=400)]  # its tlog-cosignature/v1 line


@post(
    "/api/v1/ledger/cosignatures",
    name="ledger-cosign",
    opt={"public": True},
    status_code=201,
    media_type=NOTE,
    responses=error_responses(403, 404, 422),
)
async def cosign(
    data: JSONBody[Cosignature],
    settings: NamedDependency[Settings],
    ledger: NamedDependency[LedgerView],
) -> str:
    """A witness's cosignature of a checkpoint: kept in one place, shown on /audit; the
    ledger's clock publishes it on NATS (no publish after the save here)."""
    try:
        witness = Verifier.parse(data.witness_key)
        known = witness_keys(settings.witnesses)
    except NoteError as error:
        raise ClientException(str(error), status_code=422) from None
    if witness not in known:
        raise PermissionDeniedException(bahasa.UNKNOWN_WITNESS.format(name=witness.name))
    try:
        cosigned = await asyncio.to_thread(ledger.add_cosignature, data.line, witness, data.size)
    except NoteError as error:
        raise ClientException(str(error), status_code=422) from None
    return cosigned.note


def proof_of(
    settings: Settings, ledger: LedgerView, stored: list[tuple[int, bytes]]
) -> ProofBundle:
    try:
        return prove(ledger, stored, published_key(settings))
    except NotYetSigned as unsigned:
        raise NotFoundException(
            bahasa.NOT_YET_SIGNED.format(
                position=unsigned.args[0], seconds=settings.checkpoint_seconds
            )
        ) from None
    except LookupError as unknown:
        raise NotFoundException(bahasa.NOT_IN_LEDGER.format(position=unknown.args[0])) from None


@get(
    "/api/v1/ledger/proof/{position:int}",
    name="ledger-proof",
    opt={"need": "audit", "area": None},
    responses=error_responses(404),
)
async def inclusion(
    position: FromPath[int],
    settings: NamedDependency[Settings],
    ledger: NamedDependency[LedgerView],
) -> ProofBundle:
    """The event at `position`, its path to the latest signed tree's root, and that checkpoint."""
    if not 1 <= position <= MAX_POSITION:  # no event is there
        raise NotFoundException(bahasa.NOT_IN_LEDGER.format(position=position))
    stored = await asyncio.to_thread(stored_at, settings, position)
    if not stored:
        raise NotFoundException(bahasa.NOT_IN_LEDGER.format(position=position))
    return await asyncio.to_thread(proof_of, settings, ledger, stored)


@get("/kotak/{label:str}/bukti", name="timeline-proofs", opt={"need": "audit", "area": "label"})
async def box_proofs(
    label: FromPath[str],
    settings: NamedDependency[Settings],
    ledger: NamedDependency[LedgerView],
    batches: NamedDependency[Batches],
) -> Response[bytes]:
    """Every event of one box with its inclusion proof: `lacak verify-proof` checks it offline."""
    canonical = parse_label(label)
    stored = await asyncio.to_thread(stored_of, settings, batch_id(canonical))
    if not stored:
        raise NotFoundException(bahasa.UNKNOWN_LABEL.format(label=canonical))
    bundle = await asyncio.to_thread(proof_of, settings, ledger, stored)
    return Response(
        msgspec.json.format(msgspec.json.encode(bundle)),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="bukti-{canonical}.json"'},
    )


audit_handlers = [
    audit_page,
    verify_now,
    checkpoints_file,
    ledger_key,
    latest_checkpoint,
    consistency,
    cosign,
    inclusion,
    box_proofs,
]
