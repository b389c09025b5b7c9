"""The wilayah tree (kabupaten, kecamatan, desa, TPS) that batches are planned for."""

from functools import cached_property

import msgspec

from events.masterdata import Desa, Kecamatan, Tps

__all__ = ["Desa", "Kecamatan", "Tps", "Wilayah"]


class Wilayah(msgspec.Struct, frozen=True, dict=True):
    """One kabupaten's tree; the gudang is the kabupaten itself."""

    code: str  # "36.04"
    name: str
    kecamatan: tuple[Kecamatan, ...]
    desa: tuple[Desa, ...]
    tps: tuple[Tps, ...]

    @cached_property
    def kecamatan_by_code(self) -> dict[str, Kecamatan]:
        return {k.code: k for k in self.kecamatan}

    @cached_property
    def desa_by_code(self) -> dict[str, Desa]:
        return {d.code: d for d in self.desa}

    @cached_property
    def tps_by_code(self) -> dict[str, Tps]:
        return {t.code: t for t in self.tps}

    def is_location(self, code: str) -> bool:
        """A place a box can be scanned at: the gudang, a kecamatan, a desa or a TPS."""
        return (
            code == self.code
            or code in self.kecamatan_by_code
            or code in self.desa_by_code
            or code in self.tps_by_code
        )

    def place_name(self, code: str) -> str:
        """What a person calls the place: `Kec. Ciruas`, `Desa Kaserangan`, `TPS 004 Kaserangan`."""
        if code == self.code:
            return f"gudang {self.name}"
        if code in self.kecamatan_by_code:
            return f"Kec. {self.kecamatan_by_code[code].name}"
        if code in self.desa_by_code:
            return f"Desa {self.desa_by_code[code].name}"
        if code in self.tps_by_code:
            tps = self.tps_by_code[code]
            return f"TPS {tps.number:03d} {self.desa_by_code[tps.desa].name}"
        return code

    def kecamatan_of_tps(self, tps_code: str) -> str:
        return self.desa_by_code[self.tps_by_code[tps_code].desa].kecamatan
