"""Findings on the custody store: load a finding's events, decide, save; the retry on a version
conflict in one place. On the custody store's notification log, findings reach the relay, the
ledger, the event log and the exports like every other event."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from events.findings import FindingEvent, FindingFiled, Source
from services import bahasa
from services.custody.batches import NOBODY, Actor, retried
from services.findings import decisions
from services.findings.decisions import Finding, Said, finding_id, finding_number, replay
from services.store.application import StoreApplication


class Filed(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to a command on a finding; sent again with its command id, the same answer."""

    finding: str  # its number
    event: str  # the class name of what was recorded
    version: int
    recorded_at: datetime
    due_at: datetime  # KPU's answer is due by then


class Findings:
    """Bawaslu's findings and citizens' reports, and KPU's answers, in the custody store."""

    def __init__(
        self,
        store: StoreApplication,
        hours: dict[str, int],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.store, self.hours, self.clock = store, hours, clock

    def state(self, number: str) -> Finding:
        return replay(number, self.store.stream_of(finding_id(number)))

    def file(self, said: Said, actor: Actor = NOBODY, **finding: Any) -> Filed:
        """A finding: `source` (temuan, laporan), `kind`, `where`, `text`, `filed_by`, and the
        `labels`, `surat_jalan` and the reference of the citizen's `contact` if any
        (services/findings/contacts.py)."""
        number = finding_number(finding["source"], finding["where"], said.command_id)
        return self._decide(
            number,
            said,
            actor,
            lambda f, s, t: decisions.file(f, said=s, at=t, hours=self.hours, **finding),
        )

    def filed_before(self, source: Source, where: str, command_id: str) -> bool:
        """Is this filing (the same command sent again) on the record already?"""
        return self.state(finding_number(source, where, command_id)).filed is not None

    def acknowledge(
        self, number: str, by: str, note: str, said: Said, actor: Actor = NOBODY
    ) -> Filed:
        return self._decide(
            number, said, actor, lambda f, s, t: decisions.acknowledge(f, by, note, s, t)
        )

    def answer(self, number: str, by: str, action: str, said: Said, actor: Actor = NOBODY) -> Filed:
        return self._decide(
            number, said, actor, lambda f, s, t: decisions.answer(f, by, action, s, t)
        )

    def close(
        self, number: str, by: str, accepted: bool, note: str, said: Said, actor: Actor = NOBODY
    ) -> Filed:
        return self._decide(
            number, said, actor, lambda f, s, t: decisions.close(f, by, accepted, note, s, t)
        )

    def _decide(
        self,
        number: str,
        said: Said,
        actor: Actor,
        decide: Callable[[Finding, Said, datetime], list[FindingEvent]],
    ) -> Filed:
        """Load, decide, save; decided again on fresh state when another command saved first.
        A command id seen before answers with what it recorded then."""
        said = msgspec.structs.replace(said, user=actor.user, device=actor.device)

        def attempt() -> Filed:
            finding = self.state(number)
            new_events = decide(finding, said, self.clock())
            self.store.append(*new_events)  # IntegrityError: another process saved first
            event = new_events[0] if new_events else finding.commands[said.command_id]
            filed = event if isinstance(event, FindingFiled) else finding.filed
            assert filed is not None  # every later event follows the filing
            return Filed(
                finding=number,
                event=type(event).__name__,
                version=event.originator_version,
                recorded_at=event.recorded_at,
                due_at=filed.due_at,
            )

        return retried(attempt, number, bahasa.FINDING_BUSY)
