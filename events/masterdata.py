"""Events of an election's master data: the wilayah tree, DPT and dapil of each TPS.

Module path and class names are stored as topics: never rename, add a new class instead.
"""

from datetime import date, datetime
from uuid import UUID

import msgspec


class Kecamatan(msgspec.Struct, frozen=True):
    code: str  # Kemendagri, dotted: "36.04.01"
    name: str


class Desa(msgspec.Struct, frozen=True):
    code: str  # "36.04.01.2001"
    name: str
    kecamatan: str  # code of its kecamatan


class Tps(msgspec.Struct, frozen=True):
    code: str  # 13 digits: desa code without dots + 3-digit TPS number
    number: int
    desa: str  # code of its desa
    dpt: int  # voters on the final list
    dapil_dpr: str = ""  # its electoral district for each legislative ballot
    dapil_dprd_prov: str = ""
    dapil_dprd_kab: str = ""  # "" where there is no DPRD Kab/Kota (DKI Jakarta)


class MasterDataEvent(msgspec.Struct, frozen=True, tag=True, kw_only=True):
    originator_id: UUID
    originator_version: int
    kabupaten: str  # "36.04"
    occurred_at: datetime
    recorded_at: datetime


class MasterDataImported(MasterDataEvent, frozen=True, kw_only=True):
    """A file was accepted: it replaces the kabupaten's earlier import for this election."""

    election: str  # "pemilu-2024"
    kabupaten_name: str
    file_name: str
    file_sha256: str
    imported_by: str
    kecamatan_count: int
    desa_count: int
    tps_count: int
    dpt_total: int


class WilayahListed(MasterDataEvent, frozen=True, kw_only=True):
    """One part of the imported tree (kept small enough for one NATS message)."""

    kecamatan: list[Kecamatan]
    desa: list[Desa]
    tps: list[Tps]


class KabupatenIndexed(MasterDataEvent, frozen=True, kw_only=True):
    """A kabupaten/kota imported for the election for the first time: the election's index of
    the kabupaten its store holds (one deployment may hold the whole country)."""

    election: str
    kabupaten_name: str


class ElectionDeclared(msgspec.Struct, frozen=True, tag=True, kw_only=True):
    """An election as KPU set it; a later declaration (a moved voting day) replaces the earlier."""

    originator_id: UUID
    originator_version: int
    election: str  # "pemilu-2024": the key its master data is imported under
    name: str  # "Pemilihan Umum 2024"
    voting_day: date  # H-1, the day before, is the deadline for the whole kit at every TPS
    declared_by: str
    occurred_at: datetime
    recorded_at: datetime
