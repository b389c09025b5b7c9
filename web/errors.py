"""The shape of every error answer, and the OpenAPI description of the ones a handler can give.

Litestar documents its own 400 on every handler; the rest (an unknown label, a misread one, a
conflict) are declared where the handler is, so the OpenAPI document says all a device can get.
"""

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
