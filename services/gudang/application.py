"""Gudang commands on the custody store: load the gudang's events, decide, save; the retry on a
version conflict in one place. The gudang's events share the custody store's notification log,
so the relay, the ledger, the event log and the exports carry them like every other."""

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from events.gudang import (
    DeliveryAnnounced,
    DeliveryReceived,
    GudangEvent,
    Mismatch,
    PlannedLine,
    StockLine,
)
from services import bahasa
from services.custody.batches import NOBODY, Actor, retried
from services.gudang import decisions
from services.gudang.decisions import Gudang, Said, evolve, gudang_id
from services.store.application import StoreApplication


class Recorded(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to a gudang command; sent again with its command id, the same answer."""

    event: str  # the class name of what it recorded
    version: int  # of that event in the gudang's history
    kabupaten: str
    recorded_at: datetime
    mismatches: list[Mismatch] = []  # a receipt's differences, flagged


class Gudangs:
    """The gudang of each kabupaten/kota of one election, in the custody store."""

    def __init__(
        self,
        store: StoreApplication,
        election: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.store = store
        self.election = election
        self.clock = clock
        self.known: dict[str, Gudang] = {}  # each gudang as last read, caught up on each use
        self.lock = threading.Lock()  # one command at a time here; other processes: versions

    def state(self, kabupaten: str) -> Gudang:
        """The gudang now (as last read, with what was recorded since by any process): a copy,
        which a command in another thread does not change while the caller reads it."""
        with self.lock:
            known = self._state(kabupaten)
            return msgspec.structs.replace(
                known,
                commands=dict(known.commands),
                planned=dict(known.planned),
                notices=dict(known.notices),
                receipts=dict(known.receipts),
                requests=dict(known.requests),
                destroyed=dict(known.destroyed),
            )

    def _state(self, kabupaten: str) -> Gudang:
        id = gudang_id(self.election, kabupaten)
        known = self.known.get(kabupaten) or Gudang(id=id, kabupaten=kabupaten)
        for event in self.store.events.get(id, gt=known.version or None):
            evolve(known, event)
        self.known[kabupaten] = known
        return known

    def history(self, kabupaten: str) -> list[GudangEvent]:
        return self.store.stream_of(gudang_id(self.election, kabupaten))

    def notice(self, kabupaten: str, delivery: str) -> DeliveryAnnounced | None:
        return self.state(kabupaten).notices.get(delivery)

    def receipt(self, kabupaten: str, delivery: str) -> DeliveryReceived | None:
        return self.state(kabupaten).receipts.get(delivery)

    def plan(
        self, kabupaten: str, lines: list[PlannedLine], said: Said, actor: Actor = NOBODY
    ) -> Recorded:
        return self._decide(
            kabupaten,
            said,
            actor,
            lambda g, s, t: decisions.plan(g, self.election, lines, s, t),
        )

    def contract(
        self,
        kabupaten: str,
        supplier: str,
        number: str,
        lines: list[StockLine],
        said: Said,
        actor: Actor = NOBODY,
    ) -> Recorded:
        return self._decide(
            kabupaten,
            said,
            actor,
            lambda g, s, t: decisions.contract(g, supplier, number, lines, s, t),
        )

    def announce(
        self,
        kabupaten: str,
        said: Said,
        actor: Actor = NOBODY,
        **notice: Any,
    ) -> Recorded:
        """A delivery notice: `delivery`, `stage`, `supplier`, `expected_on`, `lines`, and a
        `contract` or the replacement request it `replaces`."""
        return self._decide(
            kabupaten,
            said,
            actor,
            lambda g, s, t: decisions.announce(g, said=s, at=t, **notice),
        )

    def receive(
        self, kabupaten: str, said: Said, actor: Actor = NOBODY, **receipt: Any
    ) -> Recorded:
        """A delivery counted in: `delivery`, `lines`, `courier`, `officer`, and its
        `surat_jalan`, Bawaslu's `witness` and a `note`."""
        return self._decide(
            kabupaten,
            said,
            actor,
            lambda g, s, t: decisions.receive(g, said=s, at=t, **receipt),
        )

    def tally(self, kabupaten: str, said: Said, actor: Actor = NOBODY, **count: Any) -> Recorded:
        """A sortir-lipat count: `session`, `team`, `ballot_type`, `dapil`, `sorted_sheets`,
        `damaged` by cause."""
        return self._decide(
            kabupaten,
            said,
            actor,
            lambda g, s, t: decisions.tally(g, said=s, at=t, **count),
        )

    def request_replacement(
        self,
        kabupaten: str,
        request: str,
        lines: list[StockLine],
        note: str,
        said: Said,
        actor: Actor = NOBODY,
    ) -> Recorded:
        return self._decide(
            kabupaten,
            said,
            actor,
            lambda g, s, t: decisions.request_replacement(g, request, lines, note, s, t),
        )

    def destroy(self, kabupaten: str, said: Said, actor: Actor = NOBODY, **record: Any) -> Recorded:
        """Damaged sheets destroyed: `record`, `lines`, `officer`, `witnesses`, `method`."""
        return self._decide(
            kabupaten,
            said,
            actor,
            lambda g, s, t: decisions.destroy(g, said=s, at=t, **record),
        )

    def assemble(
        self, kabupaten: str, team: str, count: int, said: Said, actor: Actor = NOBODY
    ) -> Recorded:
        return self._decide(
            kabupaten, said, actor, lambda g, s, t: decisions.assemble(g, team, count, s, t)
        )

    def _decide(
        self,
        kabupaten: str,
        said: Said,
        actor: Actor,
        decide: Callable[[Gudang, Said, datetime], list[GudangEvent]],
    ) -> Recorded:
        """Load, decide, save; decided again on fresh state when another command saved first.
        A command id seen before answers with what it recorded then."""
        said = msgspec.structs.replace(said, user=actor.user, device=actor.device)

        def attempt() -> Recorded:
            with self.lock:
                gudang = self._state(kabupaten)
                new_events = decide(gudang, said, self.clock())
                self.store.append(*new_events)  # IntegrityError: another process saved first
                for event in new_events:
                    evolve(gudang, event)
            event = new_events[0] if new_events else gudang.commands[said.command_id]
            return Recorded(
                event=type(event).__name__,
                version=event.originator_version,
                kabupaten=kabupaten,
                recorded_at=event.recorded_at,
                mismatches=event.mismatches if isinstance(event, DeliveryReceived) else [],
            )

        return retried(attempt, kabupaten, bahasa.GUDANG_BUSY)
