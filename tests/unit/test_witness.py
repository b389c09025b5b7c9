"""A witness cosigns only a checkpoint of the ledger's key that extends what it cosigned before;
a fork or a rollback raises the alarm. `verify` names checkpoints of another key and forks."""

from datetime import UTC, datetime, timedelta

import pytest

from services.audit.anchor import anchor
from services.audit.merkle import MemoryNodes, consistency_proof, leaf_hash, root_of
from services.audit.note import (
    COSIGNATURE,
    Signer,
    Verifier,
    cosigned_by,
    parse_checkpoint,
    sign_checkpoint,
    signed_by,
)
from services.audit.proofs import ProofBundle, check_bundle
from services.audit.verify import stalled_signing
from services.commands.witness import Alarm, WitnessState, check_next
from services.settings import Settings, SettingsError

LOG = Signer.generate("lacak/test")
AT = datetime(2024, 2, 13, 8, tzinfo=UTC)
LEAVES = [leaf_hash(f"event {i}".encode()) for i in range(40)]
FORKED = [*LEAVES[:17], leaf_hash(b"rewritten"), *LEAVES[18:]]


def checkpoint(size, leaves=LEAVES, signer=LOG):
    return sign_checkpoint(signer, "lacak/test", size, root_of(leaves[:size]), 100 + size, AT)


def witnessed(size, leaves=LEAVES):
    return WitnessState(log_key=str(LOG.verifier), note=checkpoint(size, leaves).note)


def proof(old, new, leaves=LEAVES):
    return consistency_proof(MemoryNodes(leaves[:new]), old, new)


def test_a_note_reads_back_as_it_was_signed_and_its_keys_as_they_were_printed():
    made = checkpoint(20)
    again = parse_checkpoint(made.note)
    assert again == made and signed_by(again, LOG.verifier)
    assert made.text.splitlines()[:2] == ["lacak/test", "20"]  # C2SP tlog-checkpoint's lines
    assert made.signatures[0].startswith("\u2014 lacak/test ")
    assert Verifier.parse(str(LOG.verifier)) == LOG.verifier
    assert str(Signer.parse(str(LOG))) == str(LOG)
    tampered = made.note.replace("\n20\n", "\n21\n", 1)
    assert not signed_by(parse_checkpoint(tampered), LOG.verifier)


def test_a_witness_cosigns_a_checkpoint_that_extends_the_last_one():
    state = witnessed(20)
    assert check_next(state, LOG.verifier, checkpoint(33), proof(20, 33))
    assert not check_next(state, LOG.verifier, checkpoint(20), None)  # nothing new
    witness = Signer.generate("bawaslu", COSIGNATURE)
    made = checkpoint(33)
    cosigned = made.with_signatures([witness.cosign(made.text, 1_707_800_000)])
    assert cosigned_by(cosigned, witness.verifier) == 1_707_800_000
    assert cosigned_by(cosigned, Signer.generate("bawaslu", COSIGNATURE).verifier) is None
    assert signed_by(cosigned, LOG.verifier)  # the log's signature still checks beside it


def test_a_rewritten_history_shown_to_a_witness_is_a_fork():
    state = witnessed(20)
    with pytest.raises(Alarm, match="FORK"):  # the same size, another tree
        check_next(witnessed(20, FORKED), LOG.verifier, checkpoint(20), None)
    with pytest.raises(Alarm, match="FORK"):  # a bigger tree that does not extend it
        check_next(state, LOG.verifier, checkpoint(33, FORKED), proof(20, 33, FORKED))
    with pytest.raises(Alarm, match="FORK"):  # a proof of the honest tree for a forked head
        check_next(witnessed(20, FORKED), LOG.verifier, checkpoint(33), proof(20, 33))


def test_a_smaller_tree_after_a_bigger_one_is_a_rollback():
    with pytest.raises(Alarm, match="ROLLBACK"):
        check_next(witnessed(33), LOG.verifier, checkpoint(20), None)


def test_a_checkpoint_signed_with_another_key_is_not_cosigned():
    other = Signer.generate("lacak/test")  # the same name, another key
    with pytest.raises(ValueError, match="tidak ditandatangani"):
        check_next(witnessed(20), LOG.verifier, checkpoint(33, signer=other), proof(20, 33))


def test_verify_anchors_on_the_logs_key_only_and_names_a_fork():
    other = Signer.generate("lacak/test")
    anchored = anchor(
        [checkpoint(10), checkpoint(20, signer=other), checkpoint(30), checkpoint(30, FORKED)],
        LOG.verifier,
    )
    assert [c.size for c in anchored.checkpoints] == [10, 30]
    kinds = [finding.detail for finding in anchored.findings]
    assert "tidak sah untuk kunci" in kinds[0] and "bercabang" in kinds[1]


def test_a_checkpoint_of_the_other_log_signed_by_the_same_key_does_not_count():
    """The ledger's key signs the custody ledger and the access log: a checkpoint of one is
    never taken for the other's, whose tree it would fork."""
    access = sign_checkpoint(LOG, "lacak/test/akses", 20, root_of(FORKED[:20]), 7, AT)
    anchored = anchor([checkpoint(10), access, checkpoint(20)], LOG.verifier, origin="lacak/test")
    assert [c.size for c in anchored.checkpoints] == [10, 20]
    [finding] = anchored.findings
    assert "milik log lacak/test/akses" in finding.detail
    assert anchor([access], LOG.verifier, origin="lacak/test/akses").findings == []


def test_events_left_unsigned_past_three_rounds_of_the_clock_are_a_finding():
    """Whoever holds the database can stall the ledger and rewrite what it has not signed:
    the signed time of the last checkpoint says how long the tail has waited."""
    anchored = anchor([checkpoint(20)], LOG.verifier)
    last = anchored.latest.position
    assert stalled_signing(anchored, last, 10.0, AT + timedelta(hours=1)) is None  # all signed
    assert stalled_signing(anchored, last + 5, 10.0, AT + timedelta(seconds=30)) is None
    stalled = stalled_signing(anchored, last + 5, 10.0, AT + timedelta(seconds=60))
    assert stalled is not None and stalled.kind == "unsigned" and stalled.position == last + 1


def test_a_bundle_without_events_proves_nothing():
    bundle = ProofBundle(checkpoint=checkpoint(20).note, events=[])
    assert check_bundle(bundle, LOG.verifier) == ["berkas tidak memuat satu peristiwa pun"]


def test_settings_that_would_spin_or_never_sign_are_refused():
    for env in ({"LACAK_CHECKPOINT_SECONDS": "0"}, {"LACAK_CHECKPOINT_EVERY": "0"}):
        with pytest.raises(SettingsError, match="LACAK_CHECKPOINT"):
            Settings.from_env(env)
    with pytest.raises(SettingsError, match="LACAK_LEDGER_ORIGIN"):
        Settings.from_env({"LACAK_ELECTION": "pemilu 2024"})


def test_a_ledger_whose_signed_size_was_raised_by_hand_signs_again(tmp_path):
    """Raising `signed_size` in the views would silence the signing; the ledger signs on."""
    from services.views.database import SqliteViews
    from services.views.ledger import LedgerView

    views = SqliteViews(tmp_path / "views.sqlite")
    ledger = LedgerView(views, LOG, "lacak/test", checkpoint_every=5, checkpoint_seconds=3600)
    ledger.setup()
    ledger.apply([(p, f"event {p}".encode()) for p in range(1, 4)], stream_sequence=3)
    with views.transaction() as cursor:
        cursor.execute("UPDATE ledger_tree SET signed_size = 1000000000")
    ledger.apply([(p, f"event {p}".encode()) for p in range(4, 8)], stream_sequence=7)
    assert [c.size for c in ledger.checkpoints()] == [3, 5]  # it counts again from the reset
    views.close()
