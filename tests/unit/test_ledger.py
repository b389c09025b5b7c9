"""The ledger's comparison: which position changed, went missing, was inserted or reordered."""

import hashlib
from datetime import UTC, datetime

import msgspec

import events
from services.audit.chain import (
    BLOCK,
    chained,
    checkpoint_findings,
    first_difference,
    verify,
)
from services.audit.export import export_lines, read_export
from services.audit.merkle import Frontier, leaf_hash
from services.audit.note import Signer, sign_checkpoint
from services.custody.decisions import register

EVENTS = [(p, f'{{"n":{p}}}'.encode()) for p in range(1, 11)]


def hashes(entries):
    return [(p, hashlib.sha256(data).digest()) for p, data in entries]


LOG = Signer.generate("lacak-test")
AT = datetime(2024, 2, 13, tzinfo=UTC)


def signed(entries, sizes, signer=LOG):
    """The checkpoints a ledger would have signed over `entries` at these tree sizes."""
    frontier, made = Frontier(), []
    for position, data in entries:
        frontier.append(leaf_hash(data))
        if frontier.size in sizes:
            root = frontier.root()
            made.append(sign_checkpoint(signer, "lacak/test", frontier.size, root, position, AT))
    return made


LEDGER = hashes(EVENTS)


def found(actual_entries):
    difference = first_difference(LEDGER, hashes(actual_entries))
    return difference and (difference.kind, difference.position)


def test_untouched_events_match_the_ledger():
    assert found(EVENTS) is None


def test_a_changed_event_is_named_by_its_position():
    tampered = [*EVENTS[:4], (5, b'{"n":500}'), *EVENTS[5:]]
    assert found(tampered) == ("changed", 5)


def test_a_removed_event_is_named_whether_or_not_the_rest_were_renumbered():
    assert found(EVENTS[:6] + EVENTS[7:]) == ("removed", 7)
    renumbered = EVENTS[:6] + [(p - 1, data) for p, data in EVENTS[7:]]
    assert found(renumbered) == ("removed", 7)
    assert found(EVENTS[:-1]) == ("removed", 10)


def test_an_inserted_event_is_named_whether_or_not_the_rest_were_renumbered():
    forged = (3, b'{"n":"palsu"}')
    renumbered = [*EVENTS[:2], forged, *[(p + 1, data) for p, data in EVENTS[2:]]]
    assert found(renumbered) == ("inserted", 3)
    gap = [e for e in EVENTS if e[0] != 4]
    ledger_with_gap = hashes(gap)  # PostgreSQL ids may have gaps; a forged row may fill one
    difference = first_difference(ledger_with_gap, hashes(sorted([*gap, (4, b"{}")])))
    assert (difference.kind, difference.position) == ("inserted", 4)


def test_two_swapped_events_are_named_as_reordered():
    swapped = [*EVENTS[:3], (4, EVENTS[4][1]), (5, EVENTS[3][1]), *EVENTS[5:]]
    assert found(swapped) == ("reordered", 4)


def test_a_checkpoint_the_recomputed_tree_no_longer_reaches_is_named():
    good, bad = signed(EVENTS, {5, 8})
    bad = msgspec.structs.replace(bad, root=bytes(32))
    [gone] = signed([*EVENTS, (11, b"{}")], {11})
    trees = {c.size: (c.root, c.position) for c in signed(EVENTS, set(range(1, 11)))}
    assert [(f.kind, f.position) for f in checkpoint_findings(trees, [good, bad, gone])] == [
        ("checkpoint", 8),
        ("checkpoint", 11),
    ]


def test_verify_finds_a_rewritten_history_by_its_checkpoints_even_with_a_rewritten_ledger():
    kept = signed(EVENTS, {3, 6, 10})
    rewritten = [*EVENTS[:4], (5, b'{"n":"lain"}'), *EVENTS[5:]]
    redone = list(chained(rewritten))  # the attacker redid the ledger too
    report = verify(rewritten, redone, kept)
    findings = [(f.kind, f.position) for f in report.findings]
    assert findings == [("checkpoint", 6), ("checkpoint", 10)]
    assert report.signed_upto == 3
    assert verify(EVENTS, list(chained(EVENTS)), kept).intact


TAMPERED = [
    ([*EVENTS[:4], (5, b'{"n":500}'), *EVENTS[5:]], ("changed", 5)),
    (EVENTS[:6] + EVENTS[7:], ("removed", 7)),
    (EVENTS[:6] + [(p - 1, data) for p, data in EVENTS[7:]], ("removed", 7)),
    (EVENTS[:3] + EVENTS[8:], ("removed", 4)),
    (EVENTS[:-1], ("removed", 10)),
    (EVENTS[:-3], ("removed", 8)),
    ([], ("removed", 1)),
    ([*EVENTS[:3], (4, EVENTS[4][1]), (5, EVENTS[3][1]), *EVENTS[5:]], ("reordered", 4)),
    ([*EVENTS[:2], (3, b"{}"), *[(p + 1, data) for p, data in EVENTS[2:]]], ("inserted", 3)),
    ([*EVENTS, (11, b"{}")], ("extra", 11)),
    ([*EVENTS, (40, b"{}")], ("extra", 40)),
]


def test_verify_names_the_first_tampered_position_against_the_ledger():
    ledger = list(chained(EVENTS))
    for tampered, finding in TAMPERED:
        [found] = verify(tampered, ledger, []).findings
        assert (found.kind, found.position) == finding


def test_verify_names_the_same_position_wherever_its_blocks_of_positions_end():
    ledger = list(chained(EVENTS))
    for block in (1, 2, 3, 4, 5, 7, 64):
        assert verify(EVENTS, ledger, [], block=block).intact, block
        for tampered, finding in TAMPERED:
            [found] = verify(iter(tampered), ledger, [], block=block).findings
            assert (found.kind, found.position) == finding, (block, tampered)


def test_an_event_stored_by_older_code_in_other_bytes_verifies_as_the_codecs_bytes():
    registered = [
        events.encode(
            register(
                label=f"L{n}",
                destination="3604052001001",
                item="tinta",
                ballot_type="",
                quantity=n,
                at=datetime(2024, 2, 1, tzinfo=UTC),
            )
        )
        for n in range(1, 9)
    ]
    ledger = list(chained(enumerate(registered, 1)))
    stored = list(enumerate(registered, 1))
    stored[2] = (3, msgspec.json.format(registered[2], indent=2))  # as older code wrote it
    stored[6] = (7, msgspec.json.format(registered[6], indent=2))
    for block in (2, 3, BLOCK):
        report = verify(stored, ledger, [], block=block)
        assert report.intact and report.head == ledger[-1][2].hex(), block
        assert report.events == len(registered)


def test_after_the_first_difference_the_chain_goes_on_to_check_every_checkpoint():
    kept = signed(EVENTS, {2, 9})
    tampered = [*EVENTS[:4], (5, b'{"n":500}'), *EVENTS[5:]]
    for block in (3, BLOCK):
        report = verify(iter(tampered), list(chained(EVENTS)), kept, block=block)
        assert report.events == len(EVENTS)
        findings = [(f.kind, f.position) for f in report.findings]
        assert findings == [("changed", 5), ("checkpoint", 9)]
        assert report.head == list(chained(tampered))[-1][2].hex()  # every event was chained


def test_an_export_carries_each_event_as_stored_so_events_older_than_a_field_verify_offline(
    tmp_path,
):
    """Events recorded before `user` and `device` existed are stored without them; the relay
    publishes the stored bytes, the ledger hashes those, and the export must carry the same."""
    at = datetime(2024, 2, 1, tzinfo=UTC)
    stored = []
    for n in range(1, 6):
        event = register(
            label=f"L{n}",
            destination="3604052001001",
            item="tinta",
            ballot_type="",
            quantity=n,
            at=at,
        )
        fields = msgspec.json.decode(events.encode(event))
        del fields["user"], fields["device"]  # as the store holds an event of older code
        stored.append((n, msgspec.json.encode(fields)))
    assert events.encode(events.decode(stored[0][1])) != stored[0][1]  # today's codec differs
    ledger = list(chained(stored))  # what the ledger projection made of the published bytes
    export = tmp_path / "log.jsonl"
    export.write_bytes(b"".join(export_lines(stored)))
    actual, claimed, _ = read_export(export)
    assert actual == stored and claimed == ledger
    assert verify(actual, claimed, []).intact
    garbage = [*stored[:2], (3, b"\x00 not json"), *stored[3:]]
    export.write_bytes(b"".join(export_lines(garbage)))
    actual, _, _ = read_export(export)
    [finding] = verify(actual, ledger, []).findings
    assert (finding.kind, finding.position) == ("changed", 3)
