"""Events of Bawaslu's supervision: a finding (temuan) or a citizen's report (laporan), and its
life: acknowledged and answered by KPU, closed by Bawaslu.

Module path and class names are stored as topics: never rename, add a new class instead.
"""

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

# What Bawaslu saw: custody without a witness, a seal broken or swapped, boxes unguarded, a
# count that is wrong, something late, something damaged, or anything else.
FindingKind = Literal[
    "tanpa_saksi", "segel", "tidak_dijaga", "jumlah_salah", "terlambat", "rusak", "lain"
]
Source = Literal["temuan", "laporan"]  # Bawaslu's own finding, or a citizen's report


class FindingEvent(msgspec.Struct, frozen=True, tag=True, kw_only=True):
    """What every event of a finding carries: identity, order, where it is about, both clocks."""

    originator_id: UUID
    originator_version: int
    finding: str  # its number: "TM-3604-7f3a2c1b"
    where: str  # the wilayah code it is about: a gudang (kabupaten), PPK, PPS or TPS
    occurred_at: datetime  # when it happened (the filing: when it was seen)
    recorded_at: datetime
    command_id: str  # the sender's id for it: sent again, it is recorded once
    user: str = ""  # the account that recorded it
    device: str = ""


class FindingFiled(FindingEvent, frozen=True, kw_only=True):
    """A Bawaslu or Panwaslu account files what it saw, or a citizen's report it took."""

    source: Source
    kind: FindingKind
    text: str
    labels: list[str] = []  # the boxes concerned
    surat_jalan: list[str] = []  # the truck loads concerned
    # A citizen's contact (laporan only), by reference: the contact itself is kept beside the
    # store, for Bawaslu's eyes only (services/findings/contacts.py).
    contact: str = ""
    filed_by: str  # the supervisor's name as they sign
    due_at: datetime  # KPU's answer is due by then (the kind's response time, a setting)
    photos: list[str] = []  # SHA-256 of each photo kept as evidence (services/findings/photos.py)


class FindingAcknowledged(FindingEvent, frozen=True, kw_only=True):
    """KPU has seen it and is looking into it."""

    by: str
    note: str = ""


class FindingAnswered(FindingEvent, frozen=True, kw_only=True):
    """KPU's follow-up (tindak lanjut): what was done."""

    by: str
    action: str


class FindingClosed(FindingEvent, frozen=True, kw_only=True):
    """Bawaslu closes it: the answer accepted, or not (and why)."""

    by: str
    accepted: bool
    note: str = ""
