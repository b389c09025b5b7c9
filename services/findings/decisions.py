"""Pure decisions on a finding: its state folded from its events, and state + command (+ time)
-> events, or a refusal. Filed by Bawaslu, acknowledged and answered by KPU, closed by Bawaslu."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec

from events.findings import (
    FindingAcknowledged,
    FindingAnswered,
    FindingClosed,
    FindingEvent,
    FindingFiled,
    FindingKind,
    Source,
)
from services import bahasa
from services.errors import DomainError
from services.findings.hours import RESPONSE_HOURS

NAMESPACE = uuid5(NAMESPACE_URL, "https://lacak.example/findings")
Status = Literal["filed", "acknowledged", "answered", "closed"]
PREFIX = {"temuan": "TM", "laporan": "LP"}
MOST_PHOTOS = 5


class FindingError(DomainError):
    """A command on a finding that cannot be true or is out of turn: nothing is recorded."""


class UnknownFindingError(FindingError):
    def __init__(self, number: str):
        super().__init__(bahasa.UNKNOWN_FINDING.format(number=number))


def finding_number(source: Source, where: str, command_id: str) -> str:
    """`TM-3604-7f3a2c1b`: its source, its kabupaten, and a part of its filing's id (the same
    filing sent again is the same finding)."""
    digest = uuid5(NAMESPACE, command_id).hex[:8]
    return f"{PREFIX[source]}-{where.replace('.', '')[:4]}-{digest}"


def finding_id(number: str) -> UUID:
    return uuid5(NAMESPACE, number)


class Said(msgspec.Struct, frozen=True, kw_only=True):
    """Who sent a command on a finding and when: the part every event shares."""

    command_id: str
    occurred_at: datetime
    user: str = ""
    device: str = ""


class Finding(msgspec.Struct, kw_only=True):
    """What a decision needs of a finding's history."""

    number: str
    version: int = 0
    filed: FindingFiled | None = None
    status: Status = "filed"
    commands: dict[str, FindingEvent] = {}


def evolve(finding: Finding, event: FindingEvent) -> Finding:
    finding.version = event.originator_version
    finding.commands[event.command_id] = event
    match event:
        case FindingFiled():
            finding.filed, finding.status = event, "filed"
        case FindingAcknowledged():
            finding.status = "answered" if finding.status == "answered" else "acknowledged"
        case FindingAnswered():
            finding.status = "answered"
        case FindingClosed():
            finding.status = "closed"
    return finding


def replay(number: str, events: Iterable[FindingEvent]) -> Finding:
    finding = Finding(number=number)
    for event in events:
        evolve(finding, event)
    return finding


def _head(finding: Finding, where: str, said: Said, at: datetime) -> dict[str, object]:
    return {
        "originator_id": finding_id(finding.number),
        "originator_version": finding.version + 1,
        "finding": finding.number,
        "where": where,
        "occurred_at": said.occurred_at,
        "recorded_at": at,
        "command_id": said.command_id,
        "user": said.user,
        "device": said.device,
    }


def file(
    finding: Finding,
    *,
    source: Source,
    kind: FindingKind,
    where: str,
    text: str,
    filed_by: str,
    said: Said,
    at: datetime,
    hours: dict[str, int],
    labels: list[str] | None = None,
    surat_jalan: list[str] | None = None,
    contact: str = "",
    photos: list[str] | None = None,
) -> list[FindingEvent]:
    """A finding filed; its answer due `hours[kind]` after it is recorded."""
    if said.command_id in finding.commands:
        return []
    if finding.filed is not None:
        raise FindingError(bahasa.FINDING_TAKEN.format(number=finding.number))
    if not text.strip() or not filed_by.strip():
        raise FindingError(bahasa.FINDING_NEEDS_TEXT)
    if contact and source != "laporan":
        raise FindingError(bahasa.REPORTER_ONLY_FOR_REPORTS)
    if len(photos or []) > MOST_PHOTOS:
        raise FindingError(bahasa.PHOTOS_TOO_MANY.format(most=MOST_PHOTOS))
    due = at + timedelta(hours=hours.get(kind, RESPONSE_HOURS[kind]))
    return [
        FindingFiled(
            **_head(finding, where, said, at),
            source=source,
            kind=kind,
            text=text.strip(),
            labels=list(labels or []),
            surat_jalan=list(surat_jalan or []),
            contact=contact,
            filed_by=filed_by.strip(),
            due_at=due,
            photos=list(dict.fromkeys(photos or [])),  # each once, in the order sent
        )
    ]


def _filed(finding: Finding) -> FindingFiled:
    if finding.filed is None:
        raise UnknownFindingError(finding.number)
    return finding.filed


def acknowledge(
    finding: Finding, by: str, note: str, said: Said, at: datetime
) -> list[FindingEvent]:
    if said.command_id in finding.commands:
        return []
    filed = _filed(finding)
    if finding.status == "closed":
        raise FindingError(bahasa.FINDING_CLOSED.format(number=finding.number))
    if finding.status != "filed":
        raise FindingError(bahasa.FINDING_ACKNOWLEDGED_ALREADY.format(number=finding.number))
    return [FindingAcknowledged(**_head(finding, filed.where, said, at), by=by, note=note)]


def answer(finding: Finding, by: str, action: str, said: Said, at: datetime) -> list[FindingEvent]:
    """KPU's follow-up; a further answer adds to the record until Bawaslu closes it."""
    if said.command_id in finding.commands:
        return []
    filed = _filed(finding)
    if finding.status == "closed":
        raise FindingError(bahasa.FINDING_CLOSED.format(number=finding.number))
    if not action.strip() or not by.strip():
        raise FindingError(bahasa.ANSWER_NEEDS_ACTION)
    return [FindingAnswered(**_head(finding, filed.where, said, at), by=by, action=action.strip())]


def close(
    finding: Finding, by: str, accepted: bool, note: str, said: Said, at: datetime
) -> list[FindingEvent]:
    """Bawaslu closes a finding KPU has answered: the answer accepted or not."""
    if said.command_id in finding.commands:
        return []
    filed = _filed(finding)
    if finding.status == "closed":
        raise FindingError(bahasa.FINDING_CLOSED.format(number=finding.number))
    if finding.status != "answered":
        raise FindingError(bahasa.FINDING_NOT_ANSWERED.format(number=finding.number))
    if not accepted and not note.strip():
        raise FindingError(bahasa.REJECTION_NEEDS_REASON)
    head = _head(finding, filed.where, said, at)
    return [FindingClosed(**head, by=by, accepted=accepted, note=note.strip())]
