"""Events of a KPU Kabupaten/Kota gudang before packing: the procurement plan, deliveries from
suppliers by stage, sortir-lipat, replacement and destruction of damaged sheets, kotak assembly.

Module path and class names are stored as topics: never rename, add a new class instead.
"""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

import msgspec

# What a gudang receives and keeps: ballots by type and dapil, and the rest of the kit.
Item = Literal["surat_suara", "kotak_suara", "bilik_suara", "tinta", "segel", "formulir"]
# Why a sheet was set aside in the sortir-lipat (or found so in a delivery).
DamageCause = Literal["noda_tinta", "sobek", "salah_cetak", "basah", "lain"]
# How a delivery's count differs from its notice, or from what the kabupaten needs.
MismatchKind = Literal["kurang", "lebih", "tertukar", "rusak", "tidak_diberitahukan"]


class StockLine(msgspec.Struct, frozen=True, kw_only=True):
    """A quantity of one kind of goods: an item, and for ballots their type and dapil."""

    item: Item
    ballot_type: str = ""  # PPWP, DPR, DPD, DPRD_PROV, DPRD_KAB for surat_suara; "" otherwise
    dapil: str = ""  # the dapil printed on DPR and DPRD ballots; "" otherwise
    quantity: int


class PlannedLine(msgspec.Struct, frozen=True, kw_only=True):
    """What a kabupaten must receive of one kind: for ballots DPT + 2% per TPS, plus the PSU
    reserve kept apart for re-votes."""

    item: Item
    ballot_type: str = ""
    dapil: str = ""
    quantity: int  # for packing
    reserve: int = 0  # PSU reserve on top (ballots only)


class ReceivedLine(msgspec.Struct, frozen=True, kw_only=True):
    """One kind of goods as counted at the gudang on arrival."""

    item: Item
    ballot_type: str = ""
    dapil: str = ""
    quantity: int  # counted, damaged included
    damaged: int = 0  # of them, unusable on arrival (torn, wet, misprinted)


class Mismatch(msgspec.Struct, frozen=True, kw_only=True):
    """A receipt's difference from its notice (or from the kabupaten's dapil): recorded, flagged."""

    kind: MismatchKind
    item: Item
    ballot_type: str = ""
    dapil: str = ""
    expected: int
    counted: int


class GudangEvent(msgspec.Struct, frozen=True, tag=True, kw_only=True):
    """What every gudang event carries: identity, order, the kabupaten/kota and both clocks."""

    originator_id: UUID
    originator_version: int
    kabupaten: str  # "36.04": whose gudang
    occurred_at: datetime  # when it happened (EPCIS eventTime)
    recorded_at: datetime  # when the server recorded it (EPCIS recordTime)
    command_id: str  # the sender's id for it: sent again, it is recorded once
    user: str = ""  # the account that recorded it
    device: str = ""


class ProcurementPlanned(GudangEvent, frozen=True, kw_only=True):
    """What the kabupaten must receive, derived from its master data; a later plan replaces it."""

    election: str
    lines: list[PlannedLine]


class SupplierContracted(GudangEvent, frozen=True, kw_only=True):
    """A supplier (penyedia) and its contract for this gudang: what it is to deliver."""

    supplier: str
    contract: str  # the contract's number
    lines: list[StockLine]


class DeliveryAnnounced(GudangEvent, frozen=True, kw_only=True):
    """A supplier's notice of a delivery (about a day ahead): a stage (tahap) of goods."""

    delivery: str  # its id, unique in the gudang: "T1-BILIK"
    stage: int  # tahap 1, 2, ...
    supplier: str
    contract: str = ""
    expected_on: date
    lines: list[StockLine]
    replaces: str = ""  # the replacement request it makes good ("" for a planned stage)


class DeliveryReceived(GudangEvent, frozen=True, kw_only=True):
    """A delivery counted in at the gudang against its Berita Acara penerimaan. A short, over,
    damaged or wrong-dapil delivery is received as it is, with its mismatches."""

    delivery: str
    lines: list[ReceivedLine]
    mismatches: list[Mismatch] = []
    surat_jalan: str = ""
    courier: str  # the supplier's, who hands over
    officer: str  # the KPU officer who receives
    witness: str = ""  # Bawaslu's
    note: str = ""


class SortingTallied(GudangEvent, frozen=True, kw_only=True):
    """A sortir-lipat team's count for a session: sheets sorted and folded, damaged by cause."""

    session: str  # e.g. "2024-01-10 pagi"
    team: str
    ballot_type: str
    dapil: str = ""
    sorted: int  # good sheets folded
    damaged: dict[str, int] = {}  # cause -> sheets set aside


class ReplacementRequested(GudangEvent, frozen=True, kw_only=True):
    """Damaged sheets reported (to the supplier, through the province to KPU RI, to Bawaslu),
    asking for as many again; they arrive as a delivery that names this request."""

    request: str  # its id: "PG-1"
    lines: list[StockLine]
    note: str = ""


class SheetsDestroyed(GudangEvent, frozen=True, kw_only=True):
    """Damaged sheets destroyed (dimusnahkan), counted and witnessed: a Berita Acara pemusnahan."""

    record: str  # the Berita Acara's number
    lines: list[StockLine]
    officer: str
    witnesses: list[str] = []  # Bawaslu, the police, ...
    method: str = "dibakar"


class BoxesAssembled(GudangEvent, frozen=True, kw_only=True):
    """Kotak suara put together (dirakit) from flat sheets by a team: gudang work before packing."""

    team: str
    count: int
