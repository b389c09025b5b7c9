"""Label codes: short, typed or scanned, with a check character that catches a misread.

A label is `<kabupaten digits>-<serial>-<check>`, e.g. `3604-00M7-7`: four digits of the
kabupaten's Kemendagri code, a four-character serial in Crockford's base-32 alphabet (no I, L, O
or U, so nothing reads as another), and a Luhn mod 32 check character over both. Luhn mod N
catches every single wrong character and every swap of two neighbours but `0Z` <-> `Z0`.
"""

import functools

from services import bahasa
from services.custody.errors import LabelMisreadError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
VALUE = {char: value for value, char in enumerate(ALPHABET)}
# What a person or a scanner may type for a character of the alphabet.
READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
SERIAL_LENGTH = 4
MAX_SERIAL = len(ALPHABET) ** SERIAL_LENGTH - 1


def check_character(payload: str) -> str:
    """Luhn mod 32 over the payload's characters."""
    factor, total = 2, 0
    for char in reversed(payload):
        addend = factor * VALUE[char]
        total += addend // len(ALPHABET) + addend % len(ALPHABET)
        factor = 1 if factor == 2 else 2
    return ALPHABET[(len(ALPHABET) - total % len(ALPHABET)) % len(ALPHABET)]


def make_label(kabupaten: str, serial: int) -> str:
    """`make_label("36.04", 647)` -> `3604-00M7-7`."""
    if not 0 <= serial <= MAX_SERIAL:
        raise ValueError(f"serial {serial} out of range 0..{MAX_SERIAL}")
    digits = kabupaten.replace(".", "")
    code = ""
    for _ in range(SERIAL_LENGTH):
        serial, value = divmod(serial, len(ALPHABET))
        code = ALPHABET[value] + code
    return f"{digits}-{code}-{check_character(digits + code)}"


@functools.lru_cache(maxsize=65536)  # pure, and asked several times for every scan
def parse_label(raw: str) -> str:
    """The canonical label for what was typed or scanned, or LabelMisreadError."""
    compact = raw.strip().upper().replace("-", "").replace(" ", "").translate(READS_AS)
    if len(compact) != 4 + SERIAL_LENGTH + 1 or not compact[:4].isdigit():
        raise LabelMisreadError(raw, bahasa.LABEL_SHAPE)
    if any(char not in VALUE for char in compact):
        raise LabelMisreadError(raw, bahasa.LABEL_LETTER)
    payload, check = compact[:-1], compact[-1]
    if check_character(payload) != check:
        raise LabelMisreadError(raw, bahasa.LABEL_CHECK)
    return f"{payload[:4]}-{payload[4:]}-{check}"


def kabupaten_of_label(label: str) -> str:
    """The kabupaten a label was made for: `3604-00M7-7` -> `36.04`."""
    return f"{label[0:2]}.{label[2:4]}"
