"""The log's Merkle tree is RFC 9162's: the Certificate Transparency reference vectors, an
independent implementation (pymerkle), and every proof of many tree shapes, through tile edges."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from services.audit.merkle import (
    EMPTY_ROOT,
    TILE,
    Frontier,
    MemoryNodes,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

# The reference leaves and roots of Certificate Transparency's tests (RFC 6962, kept by RFC 9162).
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        *("", "00", "10", "2021", "3031", "40414243"),
        *("5051525354555657", "606162636465666768696a6b6c6d6e6f"),
    )
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
CT_CONSISTENCY = [
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
LEAVES = [leaf_hash(data) for data in CT_LEAVES]
CT = MemoryNodes(LEAVES)


def test_the_roots_are_certificate_transparencys():
    assert root_of([]) == EMPTY_ROOT
    for size in range(1, 9):
        assert root_of(LEAVES[:size]).hex() == CT_ROOTS[size - 1]


def test_the_proofs_are_certificate_transparencys_and_verify():
    for index, size, path in CT_INCLUSION:
        assert [p.hex() for p in inclusion_proof(CT, index, size)] == path
        root = bytes.fromhex(CT_ROOTS[size - 1])
        assert verify_inclusion(LEAVES[index], index, size, inclusion_proof(CT, index, size), root)
    for old, new, path in CT_CONSISTENCY:
        assert [p.hex() for p in consistency_proof(CT, old, new)] == path
        old_root, new_root = (bytes.fromhex(CT_ROOTS[n - 1]) for n in (old, new))
        proof = consistency_proof(CT, old, new)
        assert verify_consistency(old, new, old_root, new_root, proof)


def test_a_wrong_leaf_root_or_path_does_not_verify():
    root = bytes.fromhex(CT_ROOTS[7])
    proof = inclusion_proof(CT, 5, 8)
    assert not verify_inclusion(LEAVES[4], 5, 8, proof, root)
    assert not verify_inclusion(LEAVES[5], 4, 8, proof, root)
    assert not verify_inclusion(LEAVES[5], 5, 8, proof[::-1], root)
    assert not verify_inclusion(LEAVES[5], 5, 8, proof[:-1], root)
    consistency = consistency_proof(CT, 6, 8)
    six, eight = bytes.fromhex(CT_ROOTS[5]), bytes.fromhex(CT_ROOTS[7])
    assert not verify_consistency(6, 8, eight, eight, consistency)  # a fork at size 6
    assert not verify_consistency(6, 8, six, six, consistency)
    assert not verify_consistency(8, 6, eight, six, consistency)  # a rollback
    assert not verify_consistency(6, 8, six, eight, [])


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=3 * TILE + 5), st.data())
def test_every_shape_agrees_with_an_independent_implementation(size, data):
    """pymerkle is another RFC 9162 tree; the sizes cross tile edges, where our nodes are kept."""
    entries = [f"event {i}".encode() for i in range(size)]
    theirs = InmemoryTree(algorithm="sha256")
    for entry in entries:
        theirs.append_entry(entry)
    leaves = [leaf_hash(entry) for entry in entries]
    nodes = MemoryNodes(leaves)
    old = data.draw(st.integers(min_value=1, max_value=size))
    assert root_of(leaves[:old]) == theirs.get_root(old)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    root = root_of(leaves)
    assert verify_inclusion(leaves[index], index, size, inclusion_proof(nodes, index, size), root)
    proof = consistency_proof(nodes, old, size)
    assert verify_consistency(old, size, root_of(leaves[:old]), root, proof)


def test_a_frontier_saved_and_read_back_goes_on_where_it_was():
    frontier = Frontier()
    for leaf in LEAVES[:5]:
        frontier.append(leaf)
    again = Frontier.decode(frontier.encode())
    for leaf in LEAVES[5:]:
        again.append(leaf)
    assert again.root().hex() == CT_ROOTS[7]
    with pytest.raises(ValueError):
        Frontier(3, [LEAVES[0]])
