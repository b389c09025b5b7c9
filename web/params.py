"""Query parameters several handlers read the same way, with their limits in the OpenAPI document.

Litestar checks the limits of a `QueryParameter`; a `msgspec.Meta` inside a query parameter's
`Annotated` is neither checked nor documented, so limits on parameters are written here this way.
"""

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated

from litestar.exceptions import ClientException
from litestar.params import QueryParameter

from services import bahasa
from services.bahasa import WIB
from services.store.notifications import MAX_POSITION

Position = Annotated[int | None, QueryParameter(ge=1, le=MAX_POSITION)]


def one_of(words: Iterable[str]) -> dict[str, object]:
    """`schema_extra` of a parameter that takes one of `words` (or nothing); the handler itself
    refuses anything else, with a message that names it."""
    return {"enum": ["", *words]}


def list_of(words: Iterable[str]) -> dict[str, object]:
    """`schema_extra` of a parameter that takes comma-separated `words`."""
    either = "|".join(words)
    return {"pattern": rf"^(?:(?:{either})?(?:,|$))*$"}


# A time a filter takes, as people type it: a date, or a date and a time with an optional offset.
TIME = (
    r"^(?:\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?)?$"
)
Time = Annotated[str, QueryParameter(max_length=64, schema_extra={"pattern": TIME})]


def unreadable_time(value: str, says: str) -> ClientException:
    """The refusal of a time `datetime.fromisoformat` could not read: a 400 if it is not written
    as a time, a 422 if it is but no such moment exists (month 13, 25 o'clock)."""
    if re.fullmatch(TIME, value):
        return ClientException(bahasa.NO_SUCH_MOMENT.format(value=value), status_code=422)
    return ClientException(says, status_code=400)


def moment(value: str, name: str) -> datetime | None:
    """A time typed in a filter: `2024-02-10T08:00` from a form (WIB, Kab. Serang's time) or an
    ISO time with its offset; None for nothing. `name` is the box's, for the refusal."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        says = bahasa.UNREADABLE_TIME.format(name=name, value=value)
        raise unreadable_time(value, says) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=WIB)
