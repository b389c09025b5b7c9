"""Verifying the custody store against the live ledger, as `/audit` and `lacak verify` do."""

from collections.abc import Callable, Sequence

from services.audit.chain import Checkpoint, LedgerAsOf, Report, verify
from services.settings import Settings
from services.store.notifications import read_store
from services.views.ledger import LedgerView


def verify_live(
    settings: Settings,
    ledger: LedgerView,
    checkpoints: Sequence[Checkpoint] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """`verify` the event store against the ledger as it stands now (its own checkpoints unless
    some are given): events recorded since are left for the next check, not taken for
    removed or inserted ones."""
    if checkpoints is None:
        checkpoints = ledger.checkpoints()  # before the position: none of them lies past it
    upto = ledger.last_position()
    return verify(read_store(settings, upto=upto), LedgerAsOf(ledger, upto), checkpoints, progress)
