"""Events of a batch: one labelled unit, typically one kotak suara packed for one TPS.

Module path and class names are stored as topics: never rename, add a new class instead.
"""

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

ScanAction = Literal["pack", "seal", "dispatch", "receive", "account"]
Condition = Literal["baik", "rusak", "basah"]  # good, damaged, wet
# Why a receipt differs from what was sent, as the receiving officer states it (DOMAIN.md).
Reason = Literal["kurang", "rusak", "basah", "tertukar", "segel_rusak", "salah_tujuan"]


class BatchEvent(msgspec.Struct, frozen=True, tag=True, kw_only=True):
    """What every batch event carries: identity, order, destination and both clocks."""

    originator_id: UUID
    originator_version: int
    label: str
    destination: str  # 13-digit TPS code the batch is packed for
    occurred_at: datetime  # on the device (EPCIS eventTime)
    recorded_at: datetime  # on the server (EPCIS recordTime)
    user: str = ""  # the account whose scan recorded it ("" before accounts, or by a check)
    device: str = ""  # the scanner device whose token it came with ("" from a browser session)


class BatchRegistered(BatchEvent, frozen=True, kw_only=True):
    item: str  # kotak_suara, bilik_suara, tinta
    ballot_type: str  # PPWP, DPR, DPD, DPRD_PROV, DPRD_KAB for a kotak suara; "" otherwise
    quantity: int = 0  # ballot sheets in a kotak suara; pieces in a bundle
    dapil: str = ""  # the dapil its ballots must be for (DPR, DPRD); "" for PPWP, DPD, bundles
    replaces: str = ""  # the label of the batch this one replaces (a replacement batch)


class BatchPacked(BatchEvent, frozen=True, kw_only=True):
    """Ballots counted into the kotak suara at the gudang."""

    scan_id: str
    location: str
    quantity: int  # ballot sheets counted in
    dapil: str = ""  # the dapil printed on those ballots
    officer: str = ""
    corrects: int = 0  # a correction: the version of the scan event it replaces


class BatchSealed(BatchEvent, frozen=True, kw_only=True):
    scan_id: str
    location: str
    seals: list[str]  # numbers of the seals put on
    officer: str = ""
    corrects: int = 0  # a correction: the version of the scan event it replaces


class BatchDispatched(BatchEvent, frozen=True, kw_only=True):
    scan_id: str
    location: str  # wilayah code where it left from
    to: str = ""  # wilayah code it is sent to
    surat_jalan: str = ""
    vehicle: str = ""
    driver: str = ""
    officer: str = ""  # who released it
    corrects: int = 0  # a correction: the version of the scan event it replaces


class BatchReceived(BatchEvent, frozen=True, kw_only=True):
    scan_id: str
    location: str  # wilayah code where it arrived
    counted: int | None = None  # ballot sheets or pieces counted on arrival
    condition: Condition | None = None
    seals: list[str] | None = None  # seal numbers found; None: not checked
    reasons: list[Reason] = []
    officer: str = ""  # who received it
    witness: str = ""
    surat_jalan: str = ""  # the delivery note (or handover document number) it arrived with
    handed_over_by: str = ""  # a hand-to-hand handover: who gave it, present at the receipt
    corrects: int = 0  # a correction: the version of the scan event it replaces
    dapil: str = ""  # the dapil printed on the ballots found inside, when the officer wrote it


class ScanRepeated(BatchEvent, frozen=True, kw_only=True):
    """The same action at the same place again, as a scanner's double read: on the record,
    counted nowhere; its answer says when the first was recorded."""

    scan_id: str
    action: ScanAction
    location: str
    repeats: int  # the version of the scan event it repeats
    officer: str = ""


class BallotsAccounted(BatchEvent, frozen=True, kw_only=True):
    """The KPPS's count at the close of voting: received = used + spoiled + unused."""

    scan_id: str
    location: str
    received: int  # the sheets this kotak suara brought to the TPS
    used: int
    spoiled: int  # rusak / keliru coblos
    unused: int
    officer: str = ""
    corrects: int = 0  # a correction: the version of the scan event it replaces


AnomalyKind = Literal[
    "accounting_mismatch",
    "wrong_dapil",
    "wrong_destination",
    "skipped_hop",
    "receipt_without_dispatch",
    "seal_missing",
    "seal_mismatch",
    "count_short",
    "count_over",
    "damaged",
    "late",
    "void_scanned",
    "impossible_move",  # dispatched from a place other than where it was last received
    "clock_backwards",  # a scan sent at once with a time before the box's last scan
]


class AnomalyRaised(BatchEvent, frozen=True, kw_only=True):
    """Something is wrong with what a scan recorded; the scan stands, the anomaly is flagged."""

    anomaly_id: str  # `<label>-<version of this event>`
    kind: AnomalyKind
    scan_id: str  # the scan that showed it; "" when raised by a check (late)
    expected: str  # wilayah code where the batch should have been
    found: str  # wilayah code where it was scanned


class AnomalyAcknowledged(BatchEvent, frozen=True, kw_only=True):
    anomaly_id: str
    by: str
    note: str = ""


class AnomalyResolved(BatchEvent, frozen=True, kw_only=True):
    anomaly_id: str
    by: str
    note: str = ""
    replacement: str = ""  # the label of the batch registered to replace this one's contents


class ScanVoided(BatchEvent, frozen=True, kw_only=True):
    """A scan recorded in error (the wrong box, the wrong action) no longer counts; it stays on
    the record. A correction is a void followed by the right scan, which names it (`corrects`)."""

    voids: int  # the version of the scan event declared wrong
    scan_id: str  # that scan's id
    reason: str
    by: str
    # Where the batch stands once the scan no longer counts, so views need not keep its history:
    location: str = ""  # "" when no scan is left
    in_transit: bool = False
    moved_at: datetime | None = None
    packed: bool = False  # a pack or seal still counts
    dispatched: bool = False  # a dispatch still counts
    received: bool = False  # a receipt still counts
    delivered_at: datetime | None = None  # the first receipt at its TPS that still counts


class BatchVoided(BatchEvent, frozen=True, kw_only=True):
    """The batch is withdrawn (destroyed, lost, replaced): no longer part of the plan."""

    reason: str
    by: str
    replaced_by: str = ""  # the label of its replacement, if any
