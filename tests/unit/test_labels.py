"""Label codes catch a misread or mistyped character before it reaches the event store."""

import pytest

from services.custody.errors import LabelMisreadError
from services.custody.labels import ALPHABET, make_label, parse_label

LABELS = [make_label("36.04", serial) for serial in range(0, 40_000, 97)]


def test_a_label_carries_the_kabupaten_a_serial_and_a_check_character():
    assert make_label("36.04", 647) == "3604-00M7-7"


def test_a_label_reads_back_however_it_was_typed():
    assert parse_label(" 3604-00m7-7 ") == parse_label("360400M77") == "3604-00M7-7"
    assert parse_label("3604-OOM7-7") == "3604-00M7-7"  # letter O typed for zero


@pytest.mark.parametrize("label", LABELS[:60])
def test_every_single_wrong_character_is_caught(label):
    compact = label.replace("-", "")
    for i, char in enumerate(compact):
        for other in ALPHABET.replace(char, ""):
            with pytest.raises(LabelMisreadError):
                parse_label(compact[:i] + other + compact[i + 1 :])


def test_swapped_neighbours_are_caught_except_zero_and_z():
    missed = []
    for label in LABELS:
        compact = label.replace("-", "")
        for i in range(len(compact) - 1):
            a, b = compact[i], compact[i + 1]
            if a == b:
                continue
            try:
                parse_label(compact[:i] + b + a + compact[i + 2 :])
                missed.append({a, b})
            except LabelMisreadError:
                pass
    assert all(pair == {"0", "Z"} for pair in missed)


@pytest.mark.parametrize(
    "raw", ["", "KS-3604052001001-DPR", "3604-00M7", "3604-00U7-7", "36a4-00M7-7"]
)
def test_what_is_not_a_label_says_so_in_bahasa_indonesia(raw):
    with pytest.raises(LabelMisreadError, match="salah baca"):
        parse_label(raw)
