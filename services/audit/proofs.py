"""Inclusion proofs an auditor checks offline: one event, or every event of one box, with the
signed checkpoint whose tree holds them and the path from each event to its root (RFC 9162).

The bundle is all it takes: the event's bytes as stored (base64), its leaf index, its path, and
the checkpoint's signed note; `check_bundle` needs only the ledger's published key."""

import base64
from collections.abc import Sequence
from typing import Protocol

import msgspec

from services.audit.chain import canonical_or_same
from services.audit.merkle import Nodes, inclusion_proof, leaf_hash, verify_inclusion
from services.audit.note import Checkpoint, NoteError, Verifier, parse_checkpoint, signed_by

FORMAT = "lacak-inclusion-v1"


class EventProof(msgspec.Struct, frozen=True, kw_only=True):
    position: int  # the event's notification id
    leaf_index: int
    event: str  # its bytes as stored, base64
    proof: list[str]  # hex, leaf to root


class ProofBundle(msgspec.Struct, frozen=True, kw_only=True):
    format: str = FORMAT
    checkpoint: str  # the signed note of the tree the proofs lead to
    events: list[EventProof]
    log_key: str | None = None  # as the server published it: check it against your own


class NotYetSigned(Exception):
    """The event is in the tail no signed checkpoint covers yet."""


class ProvingLedger(Nodes, Protocol):
    def latest(self) -> Checkpoint | None: ...

    def leaf_at(self, position: int) -> tuple[int, bytes] | None: ...


def prove(
    ledger: ProvingLedger, stored: Sequence[tuple[int, bytes]], log_key: Verifier | None
) -> ProofBundle:
    """Proofs of these stored events in the latest signed tree; NotYetSigned for an event it
    does not hold yet, LookupError for one the ledger never saw."""
    checkpoint = ledger.latest()
    proofs = []
    for position, data in stored:
        leaf = ledger.leaf_at(position)
        if leaf is None:
            raise LookupError(position)
        index, hashed = leaf
        if checkpoint is None or index >= checkpoint.size:
            raise NotYetSigned(position)
        if leaf_hash(data) != hashed and leaf_hash(canonical_or_same(data)) == hashed:
            data = canonical_or_same(data)  # stored by older code: the bytes the ledger hashed
        path = inclusion_proof(ledger, index, checkpoint.size)
        proofs.append(
            EventProof(
                position=position,
                leaf_index=index,
                event=base64.b64encode(data).decode(),
                proof=[p.hex() for p in path],
            )
        )
    assert checkpoint is not None or not proofs
    return ProofBundle(
        log_key=str(log_key) if log_key else None,
        checkpoint=checkpoint.note if checkpoint else "",
        events=proofs,
    )


def check_bundle(bundle: ProofBundle, log_key: Verifier) -> list[str]:
    """What is wrong with a bundle, checked with the ledger's key; nothing when it holds."""
    try:
        checkpoint = parse_checkpoint(bundle.checkpoint)
    except NoteError as error:
        return [f"titik periksa: {error}"]
    if not signed_by(checkpoint, log_key):
        return [f"titik periksa berukuran {checkpoint.size} tidak ditandatangani {log_key.name}"]
    if not bundle.events:
        return ["berkas tidak memuat satu peristiwa pun"]
    problems = []
    for event in bundle.events:
        try:
            data = base64.b64decode(event.event, validate=True)
            path = [bytes.fromhex(p) for p in event.proof]
        except ValueError:
            problems.append(f"posisi {event.position}: bukti tidak terbaca")
            continue
        if not verify_inclusion(
            leaf_hash(data), event.leaf_index, checkpoint.size, path, checkpoint.root
        ):
            problems.append(
                f"posisi {event.position}: tidak termuat dalam pohon berukuran {checkpoint.size}"
            )
    return problems
