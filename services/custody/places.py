"""Finding the places a box can be scanned at, by code or name: the scanning screens' picker."""

from typing import Literal

import msgspec

from services.wilayah import Served, Wilayah, above_kabupaten, kabupaten_of, level_of

Kind = Literal["gudang", "kecamatan", "desa", "tps"]  # a kabupaten is scanned at as its gudang


class Place(msgspec.Struct, frozen=True):
    code: str
    name: str  # as people say it: `Kec. Ciruas`, `TPS 004 Kaserangan`
    level: Kind


def place(wilayah: Wilayah, code: str) -> Place | None:
    """The place with this exact code, or None."""
    code = code.strip()
    if code == wilayah.code:
        return Place(code, wilayah.place_name(code), "gudang")
    for level, places in (
        ("kecamatan", wilayah.kecamatan_by_code),
        ("desa", wilayah.desa_by_code),
        ("tps", wilayah.tps_by_code),
    ):
        if code in places:
            return Place(code, wilayah.place_name(code), level)
    return None


def find_places(wilayah: Wilayah, query: str, limit: int = 15) -> list[Place]:
    """Places whose code starts with the query (dots optional) or whose name contains it;
    the gudang and the kecamatan first, then desa, then TPS, so a short query finds the big ones."""
    words = query.strip().lower()
    digits = words.replace(".", "").replace(" ", "")
    found: list[Place] = []
    levels: list[tuple[Kind, list[str]]] = [
        ("gudang", [wilayah.code]),
        ("kecamatan", [k.code for k in wilayah.kecamatan]),
        ("desa", [d.code for d in wilayah.desa]),
        ("tps", [t.code for t in wilayah.tps]),
    ]
    for level, codes in levels:
        for code in codes:
            name = wilayah.place_name(code)
            by_code = digits.isdigit() and code.replace(".", "").startswith(digits)
            if not words or by_code or words in name.lower():
                found.append(Place(code, name, level))
                if len(found) == limit:
                    return found
    return found


def find_served(served: Served, scope: str, query: str, limit: int = 15) -> list[Place]:
    """The picker over all that is served: a kabupaten's places once the query's digits name
    it (`3604...`) or the officer's scope lies in one; else the gudang of each kabupaten/kota
    whose code or name matches (a province's or the nation's officer picks the gudang first)."""
    digits = query.strip().replace(".", "").replace(" ", "")
    if digits.isdigit() and len(digits) >= 4:
        tree = served.tree(f"{digits[:2]}.{digits[2:4]}")
        return find_places(tree, query, limit) if tree is not None else []
    if scope and level_of(scope) != "provinsi":
        tree = served.tree(kabupaten_of(scope))
        return find_places(tree, query, limit) if tree is not None else []
    if not above_kabupaten(served.code):
        tree = served.tree(served.code)
        return find_places(tree, query, limit) if tree is not None else []
    words = query.strip().lower()
    found = [
        Place(code, f"gudang {name}", "gudang")
        for code, name in served.kabupaten().items()
        if code.startswith(served.code)
        and (not words or code.replace(".", "").startswith(digits or "-") or words in name.lower())
    ]
    return found[:limit]


def place_served(served: Served, code: str) -> Place | None:
    """The place with this exact code anywhere served, or None."""
    tree = served.tree(code.strip())
    return place(tree, code) if tree is not None else None
