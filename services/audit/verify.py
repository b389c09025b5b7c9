"""Verifying the custody store against the live ledger and the signed checkpoints, as `/audit`
and `lacak verify` do; the keys they check signatures with."""

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from services import bahasa
from services.audit.access import read_access
from services.audit.anchor import Anchor
from services.audit.chain import Finding, Ledger, LedgerAsOf, LedgerRow, Report, verify
from services.audit.note import Signer, Verifier, load_or_create, public_key_file
from services.settings import Settings
from services.store.notifications import ACCOUNTS, CUSTODY, last_stored, read_store
from services.views.ledger import LedgerView


def verify_anchored(
    actual: Iterable[tuple[int, bytes]],
    ledger: Ledger | Sequence[LedgerRow],
    anchored: Anchor,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """`verify` against the ledger and the checkpoints whose signatures checked, with what the
    signature check found; events with no signed checkpoint at all prove nothing."""
    report = verify(actual, ledger, anchored.checkpoints, progress)
    findings = list(anchored.findings)
    if report.events and not anchored.checkpoints:
        findings.append(Finding(kind="unsigned", position=0, detail=bahasa.FINDINGS["unsigned"]))
    report.findings = findings + report.findings
    return report


STALL_FACTOR, STALL_GRACE_SECONDS = 3, 5.0  # events unsigned past 3 rounds of the clock


def verify_live(
    settings: Settings,
    ledger: LedgerView,
    anchored: Anchor,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
    app: str = CUSTODY,
) -> Report:
    """`verify_anchored` on the event store and the ledger view (the accounts' store and the
    access log's ledger, with `app=ACCOUNTS`).

    The store is read up to the later of the ledger's last position and the last signed one:
    events recorded since are left for the next check. A ledger view that stops short of what
    was signed was emptied or cut, and is said so."""
    signed = anchored.latest.position if anchored.latest else 0
    ledger_last = ledger.last_position()
    upto = max(ledger_last, signed)
    stored = (
        read_access(settings, upto=upto) if app == ACCOUNTS else read_store(settings, upto=upto)
    )
    report = verify_anchored(stored, LedgerAsOf(ledger, upto), anchored, progress)
    if ledger_last < signed:
        detail = bahasa.FINDINGS["ledger_short"].format(position=ledger_last, signed=signed)
        report.findings.insert(0, Finding(kind="ledger", position=ledger_last, detail=detail))
    store_last = last_stored(settings, app)
    stale = stalled_signing(anchored, store_last, settings.checkpoint_seconds, now)
    if stale is not None:
        report.findings.insert(0, stale)
    return report


def stalled_signing(
    anchored: Anchor, store_last: int, every_seconds: float, now: datetime | None = None
) -> Finding | None:
    """A finding when events wait in the store past the last signed checkpoint for longer than
    the ledger's clock allows: signing stopped, or was held back, and the tail is in the hands
    of whoever controls the database. The checkpoint's time is its signed one."""
    latest = anchored.latest
    if latest is None or store_last <= latest.position:
        return None
    waited = ((now or datetime.now(UTC)) - latest.time).total_seconds()
    if waited <= STALL_FACTOR * every_seconds + STALL_GRACE_SECONDS:
        return None
    detail = bahasa.FINDINGS["stalled"].format(
        position=latest.position, seconds=waited, every=every_seconds
    )
    return Finding(kind="unsigned", position=latest.position + 1, detail=detail)


def ledger_signer(settings: Settings) -> Signer:
    """The ledger's signing key, made (readable by its owner only) on the first start; named
    after the log's origin, as signed notes name their keys."""
    return load_or_create(settings.ledger_key, settings.ledger_origin)


def log_verifier(settings: Settings) -> Verifier | None:
    """The ledger's published key: the setting, else the `.pub` file the ledger wrote beside
    its key (the private key itself is never read here), else None (the ledger never ran)."""
    if settings.ledger_public_key:
        return Verifier.parse(settings.ledger_public_key)
    public = public_key_file(settings.ledger_key)
    if public.exists():
        return Verifier.parse(public.read_text())
    return None


def witness_keys(text: str) -> list[Verifier]:
    """Verifier keys, comma- or space-separated; a NoteError names one that is not a key."""
    return [Verifier.parse(key) for key in text.replace(",", " ").split()]
