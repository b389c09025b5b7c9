"""Wilayah: the Kemendagri codes from the nation down to a TPS, and one kabupaten's tree.

A province is `36`, a kabupaten/kota `36.04`, a kecamatan `36.04.05`, a desa `36.04.05.2001`,
and a TPS the desa's digits with its number, 13 digits: `3604052001001`. The nation is the empty
code. Every piece of arithmetic on codes lives here: a code's level, its parent, the areas it lies
in, and the route of a batch from the gudang (its kabupaten) down to its TPS.
"""

from datetime import timedelta, timezone
from functools import cached_property
from typing import Literal, Protocol, runtime_checkable

import msgspec

from events.masterdata import Desa, Kecamatan, Tps

__all__ = [
    "LEVELS",
    "NATIONAL",
    "WIB",
    "WIT",
    "WITA",
    "Desa",
    "Kecamatan",
    "Level",
    "Places",
    "Served",
    "Tps",
    "Wilayah",
    "above_kabupaten",
    "ancestry",
    "filter_areas",
    "is_tps",
    "kabupaten_of",
    "kecamatan_of",
    "known_kecamatan",
    "level_of",
    "local_time_of",
    "parent_of",
    "route_of",
    "tps_prefix",
    "within",
]

Level = Literal["nasional", "provinsi", "kabupaten", "kecamatan", "desa", "tps"]
LEVELS: tuple[Level, ...] = ("nasional", "provinsi", "kabupaten", "kecamatan", "desa", "tps")
NATIONAL = ""  # the code of the whole country (and the scope that reaches everything)
TPS_DIGITS = 13

WIB = timezone(timedelta(hours=7), "WIB")
WITA = timezone(timedelta(hours=8), "WITA")
WIT = timezone(timedelta(hours=9), "WIT")
# Indonesia's three time zones by province code (Kemendagri); every other province is on WIB.
WITA_PROVINCES = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
WIT_PROVINCES = {"81", "82", "91", "92", "93", "94", "95", "96"}


IANA_ZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}


def local_time_of(kabupaten: str) -> timezone:
    """The time people keep in a kabupaten: `36.04` (Banten) -> WIB, `51.71` (Bali) -> WITA."""
    province = kabupaten[:2]
    if province in WITA_PROVINCES:
        return WITA
    if province in WIT_PROVINCES:
        return WIT
    return WIB


def above_kabupaten(code: str) -> bool:
    """The nation or a province: an area of kabupaten/kota, not inside one tree."""
    return level_of(code) in ("nasional", "provinsi")


def is_tps(code: str) -> bool:
    return len(code) == TPS_DIGITS and "." not in code


def level_of(code: str) -> Level:
    """`""` nasional, `36` provinsi, `36.04` kabupaten, `36.04.05` kecamatan, `36.04.05.2001`
    desa, `3604052001001` TPS."""
    dots = code.count(".")  # first: the board asks this of every receipt
    if dots:
        return LEVELS[dots + 1]
    if not code:
        return "nasional"
    return "tps" if len(code) == TPS_DIGITS else "provinsi"


def route_of(tps: str) -> tuple[str, str, str, str]:
    """The way down to a TPS, and every area a batch for it counts in:
    `3604052001001` -> (`36.04`, `36.04.05`, `36.04.05.2001`, `3604052001001`)."""
    kabupaten = f"{tps[0:2]}.{tps[2:4]}"
    kecamatan = f"{kabupaten}.{tps[4:6]}"
    return kabupaten, kecamatan, f"{kecamatan}.{tps[6:10]}", tps


def ancestry(code: str) -> tuple[str, ...]:
    """Every area a code lies in, itself included, from its province down:
    `36.04.05` -> (`36`, `36.04`, `36.04.05`); a TPS -> (`36`, `36.04`, ..., the TPS)."""
    if not code:
        return ()
    if is_tps(code):
        return (code[:2], *route_of(code))
    parts = code.split(".")
    return tuple(".".join(parts[: n + 1]) for n in range(len(parts)))


def parent_of(code: str) -> str | None:
    """The area one level up: a TPS's desa, ..., a kabupaten's province, a province's nation;
    None for the nation."""
    if not code:
        return None
    if is_tps(code):
        return route_of(code)[2]
    return code.rpartition(".")[0] if "." in code else NATIONAL


def kabupaten_of(code: str) -> str:
    """The kabupaten of a kabupaten, kecamatan, desa or TPS code."""
    return ancestry(code)[1]


def kecamatan_of(code: str) -> str:
    """The kecamatan of a kecamatan, desa or TPS code: `3604012001001` -> `36.04.01`."""
    return ancestry(code)[2]


def tps_prefix(area: str) -> str:
    """What the codes of an area's TPS start with: `36.04.05` -> `360405` (a TPS: itself)."""
    return area.replace(".", "")


def known_kecamatan(places: "Served", code: str) -> bool:
    """Is the code a kecamatan the places served hold, or a kabupaten or province wider than
    one (a filter of the event log or the export, at any level above the desa)?"""
    return level_of(code) in ("provinsi", "kabupaten", "kecamatan") and places.knows(code)


def filter_areas(places: "Served") -> list[tuple[str, str]]:
    """(code, name) of the areas a filter of the event log or the export offers: the kecamatan
    of the one kabupaten served, the kabupaten/kota of a province, the provinces of the nation."""
    if above_kabupaten(places.code):
        return [(code, places.area_name(code)) for code in places.children_of(places.code)]
    return [(k.code, k.name) for k in places.kecamatan_in(places.code)]


def within(scope: str, code: str) -> bool:
    """Does `scope` (the nation, a province, kabupaten, kecamatan, desa or TPS) reach `code`?"""
    return not scope or scope in ancestry(code)


class Places(Protocol):
    """What custody asks of the places it knows: one kabupaten's `Wilayah`, or the `Atlas` of
    every kabupaten/kota imported."""

    code: str  # the root: a kabupaten, or the nation

    def is_location(self, code: str) -> bool: ...

    def place_name(self, code: str) -> str: ...


@runtime_checkable  # the web's dependencies are checked against their types
class Served(Places, Protocol):
    """What the web asks of the places it serves: one kabupaten's `Wilayah`, or the `Atlas` of
    every kabupaten/kota imported (its `code` the area they all lie in: a province, the nation)."""

    name: str

    def knows(self, code: str) -> bool: ...

    def area_name(self, code: str) -> str: ...

    def short_name(self, code: str) -> str: ...

    def children_of(self, code: str) -> list[str]: ...

    def tree(self, code: str) -> "Wilayah | None": ...

    def kabupaten(self) -> dict[str, str]: ...

    def kecamatan_in(self, area: str) -> list[Kecamatan]: ...


class Wilayah(msgspec.Struct, frozen=True, dict=True):
    """One kabupaten's tree, as its master data lists it; the gudang is the kabupaten itself."""

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

    @cached_property
    def children(self) -> dict[str, list[str]]:
        """The areas one level below each of its areas, in the order the master data lists them."""
        below: dict[str, list[str]] = {self.code: []}
        for k in self.kecamatan:
            below[self.code].append(k.code)
            below[k.code] = []
        for d in self.desa:
            below[d.kecamatan].append(d.code)
            below[d.code] = []
        for t in self.tps:
            below[t.desa].append(t.code)
        return below

    def children_of(self, code: str) -> list[str]:
        return self.children.get(code, [])

    def tree(self, code: str) -> "Wilayah | None":
        """Itself, for a code inside it (as the `Atlas` answers for any kabupaten)."""
        return self if code and within(self.code, code) else None

    def kabupaten(self) -> dict[str, str]:
        """Itself, code -> name (as the `Atlas` lists every kabupaten imported)."""
        return {self.code: self.name}

    def kecamatan_in(self, area: str) -> list[Kecamatan]:
        """Its kecamatan that lie in `area` (all of them for the kabupaten or wider)."""
        return [k for k in self.kecamatan if within(area, k.code)]

    def short_name(self, code: str) -> str:
        """A row's name on the board: `Serang`, `Ciruas`, `Kaserangan`, `TPS 004`."""
        if code == self.code:
            return self.name
        if code in self.kecamatan_by_code:
            return self.kecamatan_by_code[code].name
        if code in self.desa_by_code:
            return self.desa_by_code[code].name
        if code in self.tps_by_code:
            return f"TPS {self.tps_by_code[code].number:03d}"
        return code

    def is_location(self, code: str) -> bool:
        """A place a box can be scanned at: the gudang, a kecamatan, a desa or a TPS."""
        return (
            code == self.code
            or code in self.kecamatan_by_code
            or code in self.desa_by_code
            or code in self.tps_by_code
        )

    def knows(self, code: str) -> bool:
        """Is the code an area this tree holds: its province, itself, or a place inside?"""
        return code == self.code[:2] or self.is_location(code)

    def area_name(self, code: str) -> str:
        """What a person calls an area: the kabupaten by its name, the rest as `place_name`."""
        if code == self.code:
            return self.name
        if code == self.code[:2]:
            return f"Provinsi {code}"
        return self.place_name(code)

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
