"""What `verify` is anchored to: the signed checkpoints whose signatures check with the log's
published key, and which witnesses cosigned up to where. Checked before any event is read, so a
checkpoint made by another key, or two different trees signed for one size, are named."""

from collections.abc import Iterable, Sequence

import msgspec

from services import bahasa
from services.audit.chain import Finding
from services.audit.note import Checkpoint, Verifier, cosigned_by, signed_by


class Witnessed(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    key: str  # its verifier key
    size: int  # the largest tree it cosigned
    position: int  # that tree's last event


class Anchor(msgspec.Struct, frozen=True, kw_only=True):
    log_key: str
    checkpoints: list[Checkpoint]  # signed by the log's key, in order of size
    findings: list[Finding]
    witnessed: list[Witnessed]

    @property
    def latest(self) -> Checkpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None


def anchor(
    checkpoints: Iterable[Checkpoint],
    log_key: Verifier,
    witnesses: Sequence[Verifier] = (),
    origin: str | None = None,
) -> Anchor:
    """The checkpoints the log's key signed (of the log `origin`, when given: one key signs the
    custody ledger and the access log); a finding for each one it did not, for another log's,
    and for a fork (two trees of one size, both signed)."""
    good: dict[int, Checkpoint] = {}
    findings = []
    for checkpoint in sorted(checkpoints, key=lambda c: c.size):
        if origin is not None and checkpoint.origin != origin:
            detail = bahasa.FINDINGS["other_log"].format(
                size=checkpoint.size, origin=checkpoint.origin, expected=origin
            )
            findings.append(Finding(kind="checkpoint", position=checkpoint.position, detail=detail))
            continue
        if not signed_by(checkpoint, log_key):
            detail = bahasa.FINDINGS["bad_signature"].format(size=checkpoint.size, key=log_key)
            findings.append(Finding(kind="checkpoint", position=checkpoint.position, detail=detail))
            continue
        known = good.get(checkpoint.size)
        if known is not None and known.root != checkpoint.root:
            findings.append(
                Finding(
                    kind="checkpoint",
                    position=checkpoint.position,
                    detail=bahasa.FINDINGS["fork"].format(size=checkpoint.size),
                )
            )
            continue
        good[checkpoint.size] = (
            known.with_signatures(checkpoint.signatures) if known else checkpoint
        )
    witnessed = []
    for witness in witnesses:
        cosigned = [c for c in good.values() if cosigned_by(c, witness) is not None]
        if cosigned:
            last = max(cosigned, key=lambda c: c.size)
            witnessed.append(
                Witnessed(
                    name=witness.name, key=str(witness), size=last.size, position=last.position
                )
            )
    return Anchor(
        log_key=str(log_key),
        checkpoints=sorted(good.values(), key=lambda c: c.size),
        findings=findings,
        witnessed=witnessed,
    )
