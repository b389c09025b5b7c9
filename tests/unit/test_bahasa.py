"""The message catalogue: every name says one thing."""

import ast
from collections import Counter
from pathlib import Path

import services.bahasa


def test_no_message_is_named_twice_in_the_catalogue():
    """A second assignment to a name silently replaces the first (the ledger's verify once lost
    its words to a later dict of the same name)."""
    tree = ast.parse(Path(services.bahasa.__file__).read_text())
    names = Counter(
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    )
    assert [name for name, count in names.items() if count > 1] == []


def test_a_duration_is_said_in_seconds_minutes_or_hours():
    said = services.bahasa.duration
    assert [said(s) for s in (0, 42.4, 59.6, 200, 3600, 7500)] == [
        "0 detik",
        "42 detik",
        "1 menit",
        "3 menit",
        "1 jam",
        "2 jam 5 menit",
    ]
