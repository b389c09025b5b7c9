"""The EPCIS 2.0 download: any filtered range of the event store, streamed as it is read."""

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from eventsourcing.persistence import ApplicationRecorder
from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import ClientException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream

from services import bahasa
from services.audit.epcis import ExportFilter, export_document, export_filter, parse_moment
from services.custody.batches import Batches
from services.wilayah import Served, known_kecamatan
from web.errors import error_responses
from web.params import TIME, Position, Time, unreadable_time

TIME_EXTRA = {"pattern": TIME}

PAGE = 2000  # notifications read per query
EPCIS_JSON_LD = "application/ld+json"


def readable(text: str) -> bool:
    try:
        parse_moment(text)
    except ValueError:
        return False
    return True


def notifications(
    recorder: ApplicationRecorder,
) -> Callable[[ExportFilter], Iterable[tuple[int, bytes]]]:
    """A pass over the notification log, (id, stored bytes), from the filter's first position to
    its last."""

    def read(only: ExportFilter) -> Iterator[tuple[int, bytes]]:
        start, inclusive = (only.first_position or 0), True
        while page := recorder.select_notifications(
            start, PAGE, stop=only.last_position, inclusive_of_start=inclusive
        ):
            for n in page:
                yield n.id, n.state
            start, inclusive = page[-1].id, False

    return read


@get(
    "/api/v1/export/epcis",
    name="export-epcis",
    opt={"need": "audit"},
    sync_to_thread=False,
    responses={
        200: ResponseSpec(
            dict[str, Any],
            description="EPCIS 2.0 JSON-LD document",
            media_type=EPCIS_JSON_LD,
            generate_examples=False,
        ),
        **error_responses(422),
    },
)
def export_epcis(
    batches: NamedDependency[Batches],
    wilayah: NamedDependency[Served],
    since: Annotated[str, QueryParameter(name="from", max_length=64, schema_extra=TIME_EXTRA)] = "",
    until: Time = "",
    kecamatan: FromQuery[list[str] | None] = None,
    from_position: Position = None,
    to_position: Position = None,
) -> Stream:
    """`?from=2024-02-10&until=...&kecamatan=36.04.05&from_position=1&to_position=500`."""
    try:
        kecamatan = [k for k in kecamatan or () if k]  # a form's "all" sends an empty one
        unknown = [k for k in kecamatan if not known_kecamatan(wilayah, k)]
        if unknown:  # no filter that could only ever be empty: say which is not a kecamatan
            raise ClientException(bahasa.UNKNOWN_KECAMATAN.format(code=unknown[0]), status_code=422)
        only = export_filter(since or None, until or None, kecamatan, from_position, to_position)
    except ValueError as error:
        refused = next(t for t in (since, until) if t and not readable(t))
        raise unreadable_time(refused, bahasa.TIME_EXAMPLE) from error
    # The store is read in a worker thread as the response asks for chunks (Stream wraps the
    # iterator so), never on the event loop.
    chunks = export_document(notifications(batches.recorder), only, datetime.now(UTC))
    return Stream(
        chunks,
        media_type=EPCIS_JSON_LD,
        headers={"Content-Disposition": 'attachment; filename="lacak-epcis.jsonld"'},
    )
