"""A finding's decisions: given its events, when a command, then events (or a refusal)."""

from datetime import UTC, datetime, timedelta

import pytest

from events.findings import FindingAcknowledged, FindingAnswered, FindingFiled
from services.findings.decisions import (
    FindingError,
    Said,
    acknowledge,
    answer,
    close,
    evolve,
    file,
    finding_number,
    replay,
)
from services.findings.hours import RESPONSE_HOURS, response_hours

T = datetime(2024, 2, 10, 1, tzinfo=UTC)


def said(command: str) -> Said:
    return Said(command_id=command, occurred_at=T)


def filed(kind: str = "segel"):
    finding = replay(finding_number("temuan", "36.04.05", "f1"), [])
    for event in file(
        finding, source="temuan", kind=kind, where="36.04.05", text="Segel diganti",
        filed_by="Siti", said=said("f1"), at=T, hours=RESPONSE_HOURS,
    ):  # fmt: skip
        evolve(finding, event)
    return finding


def test_a_finding_is_due_its_kinds_hours_after_it_is_recorded():
    finding = filed("tidak_dijaga")
    assert isinstance(finding.filed, FindingFiled)
    assert finding.filed.due_at == T + timedelta(hours=12)
    assert finding.number.startswith("TM-3604-") and finding.status == "filed"


def test_each_step_in_turn_and_a_retry_records_nothing():
    finding = filed()
    [ack] = acknowledge(finding, "Agus", "", said("k"), T)
    assert isinstance(ack, FindingAcknowledged) and ack.where == "36.04.05"
    evolve(finding, ack)
    assert acknowledge(finding, "Agus", "", said("k"), T) == []  # the same command again
    [done] = answer(finding, "Agus", "Disegel ulang", said("a"), T)
    assert isinstance(done, FindingAnswered) and done.originator_version == 3
    evolve(finding, done)
    [closing] = close(finding, "Siti", True, "", said("c"), T)
    evolve(finding, closing)
    assert finding.status == "closed"
    with pytest.raises(FindingError, match="ditutup"):
        answer(finding, "Agus", "lagi", said("a2"), T)


def test_bawaslu_closes_only_what_kpu_answered_and_says_why_it_does_not_accept():
    finding = filed()
    with pytest.raises(FindingError, match="belum dijawab"):
        close(finding, "Siti", True, "", said("c"), T)
    for event in answer(finding, "Agus", "Disegel ulang", said("a"), T):
        evolve(finding, event)
    with pytest.raises(FindingError, match="alasan"):
        close(finding, "Siti", False, " ", said("c"), T)


def test_the_response_hours_setting_is_checked():
    assert response_hours("segel=6, lain=96")["segel"] == 6
    for bad in ("segel=0", "segel=x", "hilang=5"):
        with pytest.raises(ValueError):
            response_hours(bad)
