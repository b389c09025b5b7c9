"""The Merkle tree over the log, as RFC 9162 (Certificate Transparency 2.0) builds it, section 2.1.

Leaf i is SHA-256(0x00 || the bytes of the i-th stored event, in notification order); a node is
SHA-256(0x01 || left || right); a tree of n leaves splits at the largest power of two below n.
A checkpoint is a tree size and its root: an inclusion proof shows one event is in that tree, a
consistency proof shows a bigger tree only added leaves to a smaller one. Both are checked with
the RFC's algorithms (2.1.3.2, 2.1.4.2), so anyone can check them with their own code.

Proofs are built from `Nodes`: the ledger view keeps every leaf and the root of every complete
subtree of `TILE` leaves and up, so a proof reads one tile of leaves and a few dozen nodes, at any
size of the log.
"""

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

EMPTY_ROOT = hashlib.sha256(b"").digest()  # the root of the empty tree
TILE_LEVEL = 8  # complete subtrees of 2**8 leaves and up are kept as nodes
TILE = 1 << TILE_LEVEL


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): where RFC 9162 splits a tree of n."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The roots of the complete subtrees a tree of `size` leaves is made of, largest first: all
    it takes to add leaves and to know the root. Adding a leaf returns the subtrees it completes
    as (level, index, hash), a leaf being level 0."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()):
        if len(hashes) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves has {size.bit_count()} subtrees")
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        made = [(0, self.size, leaf)]
        self.hashes.append(leaf)
        index, level, size = self.size, 0, self.size
        while size & 1:  # the new leaf completes a subtree at each level where size had a 1
            right, left = self.hashes.pop(), self.hashes.pop()
            self.hashes.append(node_hash(left, right))
            size, index, level = size >> 1, index >> 1, level + 1
            made.append((level, index, self.hashes[-1]))
        self.size += 1
        return made

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        root = self.hashes[-1]
        for subtree in reversed(self.hashes[:-1]):
            root = node_hash(subtree, root)
        return root

    def encode(self) -> bytes:
        return self.size.to_bytes(8, "big") + b"".join(self.hashes)

    @classmethod
    def decode(cls, data: bytes) -> "Frontier":
        size = int.from_bytes(data[:8], "big")
        return cls(size, [data[i : i + 32] for i in range(8, len(data), 32)])


def root_of(leaves: Iterable[bytes]) -> bytes:
    """The root of a tree of these leaf hashes."""
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


class Nodes(Protocol):
    """Where proofs read the tree: leaf hashes, and complete subtrees of `TILE` and up."""

    def leaves(self, start: int, stop: int) -> list[bytes]:
        """The leaf hashes of indexes [start, stop)."""
        ...

    def node(self, level: int, index: int) -> bytes:
        """The root of the complete subtree of 2**level leaves from index * 2**level."""
        ...


class Subtrees:
    """MTH of any range of leaves, from `Nodes`, each tile of leaves read once per proof."""

    def __init__(self, nodes: Nodes):
        self.nodes = nodes
        self.tiles: dict[int, list[bytes]] = {}

    def leaf_range(self, start: int, stop: int) -> list[bytes]:
        tile = start >> TILE_LEVEL
        if tile not in self.tiles:
            self.tiles[tile] = self.nodes.leaves(tile * TILE, (tile + 1) * TILE)
        offset = tile * TILE
        return self.tiles[tile][start - offset : stop - offset]

    def hash(self, start: int, n: int) -> bytes:
        """MTH(D[start:start+n]); start is a multiple of the power of two at or above n, as every
        range in RFC 9162's proofs is."""
        if n >= TILE and n & (n - 1) == 0:
            return self.nodes.node(n.bit_length() - 1, start // n)
        if n <= TILE and start // TILE == (start + n - 1) // TILE:
            return root_of(self.leaf_range(start, start + n))
        k = split(n)
        return node_hash(self.hash(start, k), self.hash(start + k, n - k))


def inclusion_proof(nodes: Nodes, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 2.1.3.1."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    tree = Subtrees(nodes)
    path: list[bytes] = []
    start, n, m = 0, size, index
    while n > 1:
        k = split(n)
        if m < k:
            path.append(tree.hash(start + k, n - k))
            n = k
        else:
            path.append(tree.hash(start, k))
            start, n, m = start + k, n - k, m - k
    return path[::-1]


def consistency_proof(nodes: Nodes, old: int, new: int) -> list[bytes]:
    """PROOF(old, D[0:new]) of RFC 9162 2.1.4.1: that the tree of `new` leaves extends the one
    of `old`."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from {old} to {new}")
    if old in (0, new):
        return []
    tree = Subtrees(nodes)
    path: list[bytes] = []
    start, n, m, whole = 0, new, old, True
    while m != n:
        k = split(n)
        if m <= k:
            path.append(tree.hash(start + k, n - k))
            n = k
        else:
            path.append(tree.hash(start, k))
            start, n, m, whole = start + k, n - k, m - k, False
    if not whole:
        path.append(tree.hash(start, m))
    return path[::-1]


def root_from_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """The root a leaf and its path lead to (RFC 9162 2.1.3.2); None if the path cannot be one."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    return root_from_inclusion(leaf, index, size, path) == root


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: the tree of `new` leaves with `new_root` extends the one of `old`."""
    if old == 0:
        return not path  # the empty tree is the start of every tree
    if old == new:
        return not path and old_root == new_root
    if old > new or not path:
        return False
    path = list(path)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0


class MemoryNodes:
    """`Nodes` of a tree held in memory: a test's, or one recomputed from an export."""

    def __init__(self, leaves: Sequence[bytes]):
        self.all = list(leaves)
        self.kept: dict[tuple[int, int], bytes] = {}
        frontier = Frontier()
        for leaf in self.all:
            for level, index, hashed in frontier.append(leaf):
                if level >= TILE_LEVEL:
                    self.kept[level, index] = hashed

    def leaves(self, start: int, stop: int) -> list[bytes]:
        return self.all[start:stop]

    def node(self, level: int, index: int) -> bytes:
        return self.kept[level, index]
