"""Verifying the custody store against the live ledger and the signed checkpoints, as `/audit`
and `lacak verify` do; the keys they check signatures with."""

from collections.abc import Callable, Iterable, Sequence

from services import bahasa
from services.audit.anchor import Anchor
from services.audit.chain import Finding, Ledger, LedgerAsOf, LedgerRow, Report, verify
from services.audit.note import Signer, Verifier, load_or_create
from services.settings import Settings
from services.store.notifications import read_store
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


def verify_live(
    settings: Settings,
    ledger: LedgerView,
    anchored: Anchor,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """`verify_anchored` on the event store and the ledger view.

    The store is read up to the later of the ledger's last position and the last signed one:
    events recorded since are left for the next check. A ledger view that stops short of what
    was signed was emptied or cut, and is said so."""
    signed = anchored.latest.position if anchored.latest else 0
    ledger_last = ledger.last_position()
    upto = max(ledger_last, signed)
    stored = read_store(settings, upto=upto)
    report = verify_anchored(stored, LedgerAsOf(ledger, upto), anchored, progress)
    if ledger_last < signed:
        detail = bahasa.FINDINGS["ledger_short"].format(position=ledger_last, signed=signed)
        report.findings.insert(0, Finding(kind="ledger", position=ledger_last, detail=detail))
    return report


def ledger_signer(settings: Settings) -> Signer:
    """The ledger's signing key, made (readable by its owner only) on the first start; named
    after the log's origin, as signed notes name their keys."""
    return load_or_create(settings.ledger_key, settings.ledger_origin)


def log_verifier(settings: Settings) -> Verifier | None:
    """The ledger's published key: the setting, else the key file's, else None (not yet made)."""
    if settings.ledger_public_key:
        return Verifier.parse(settings.ledger_public_key)
    if settings.ledger_key.exists():
        return Signer.parse(settings.ledger_key.read_text()).verifier
    return None


def witness_keys(text: str) -> list[Verifier]:
    """Verifier keys, comma- or space-separated; a NoteError names one that is not a key."""
    return [Verifier.parse(key) for key in text.replace(",", " ").split()]
