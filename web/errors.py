"""The shape of every error answer, and the OpenAPI description of the ones a handler can give.

Litestar documents its own 400 on every handler; the rest (an unknown label, a misread one, a
conflict) are declared where the handler is, so the OpenAPI document says all a device can get.
"""

import re
from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec

from services import bahasa


class ErrorBody(msgspec.Struct, frozen=True, kw_only=True):
    status_code: int
    detail: str  # what is wrong, in Bahasa Indonesia, for the person holding the scanner
    extra: dict[str, Any] | list[Any] | None = None  # Litestar's validation details, if any


MEANING = bahasa.ERROR_MEANINGS


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The `responses=` of a handler that can answer these statuses with an `ErrorBody`."""
    return {
        status: ResponseSpec(
            data_container=ErrorBody, description=MEANING[status], generate_examples=False
        )
        for status in statuses
    }


# msgspec's and Litestar's English, as a warehouse worker reads it (the API's `extra` and the
# pages' error text): each pattern's groups fill the Bahasa line.
VALIDATION_WORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), words)
    for pattern, words in (
        (r"^Expected `datetime` with a timezone component", bahasa.NEEDS_TIMEZONE),
        (r"^Invalid RFC3339 encoded datetime", bahasa.BAD_DATETIME),
        (r"^Object missing required field `(\w+)`", bahasa.FIELD_REQUIRED),
        (r"^Object contains unknown field `(\w+)`", bahasa.FIELD_UNKNOWN),
        (r"^Expected `str` of length <= (\d+)", bahasa.TEXT_TOO_LONG),
        (r"^Expected `str` of length >= (\d+)", bahasa.TEXT_TOO_SHORT),
        (r"^Expected `int` >= (-?\d+)", bahasa.NUMBER_TOO_SMALL),
        (r"^Expected `int` <= (-?\d+)", bahasa.NUMBER_TOO_BIG),
        (r"^Expected `array` of length <= (\d+)", bahasa.LIST_TOO_LONG),
        (r"^Expected `array` of length >= (\d+)", bahasa.LIST_TOO_SHORT),
        (r"^Expected `str` matching regex", bahasa.BAD_SHAPE),
        (r"^Invalid enum value '(.*)'", bahasa.UNKNOWN_VALUE),
        (r"^Expected `(\w+)`, got `(\w+)`", bahasa.WRONG_TYPE),
        (r"^Expected `(\w+)`", bahasa.WRONG_TYPE_ONLY),
        (r"^Validation failed for (\w+) (\S+)", bahasa.REQUEST_INVALID),
    )
)
TYPE_WORDS = {
    "str": "teks",
    "int": "bilangan bulat",
    "float": "angka",
    "bool": "true/false",
    "array": "daftar",
    "object": "objek",
    "null": "kosong",
    "datetime": "tanggal dan jam",
}


def in_bahasa(message: str) -> str:
    """A validation message in Bahasa Indonesia (unchanged if it is not one we know)."""
    for pattern, words in VALIDATION_WORDS:
        found = pattern.match(message)
        if found:
            groups = [TYPE_WORDS.get(g, g) for g in found.groups()]
            return words.format(*groups)
    return message


def translated(extra: Any) -> Any:
    """Litestar's `extra` of a validation error, its messages in Bahasa."""
    if isinstance(extra, list):
        return [translated(item) for item in extra]
    if isinstance(extra, dict) and isinstance(extra.get("message"), str):
        return {**extra, "message": in_bahasa(extra["message"])}
    return extra
