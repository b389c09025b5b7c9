"""The EPCIS 2.0 download: any filtered range of the event store, streamed as it is read."""

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Annotated

from eventsourcing.persistence import ApplicationRecorder
from litestar import get
from litestar.datastructures import State
from litestar.exceptions import ClientException
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream

from services.epcis import ExportFilter, export_document, export_filter

PAGE = 2000  # notifications read per query


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


@get("/api/v1/export/epcis", name="export-epcis", opt={"need": "audit"}, sync_to_thread=False)
def export_epcis(
    state: State,
    since: Annotated[str | None, QueryParameter(name="from")] = None,
    until: FromQuery[str | None] = None,
    kecamatan: FromQuery[list[str] | None] = None,
    from_position: FromQuery[int | None] = None,
    to_position: FromQuery[int | None] = None,
) -> Stream:
    """`?from=2024-02-10&until=...&kecamatan=36.04.05&from_position=1&to_position=500`."""
    try:
        kecamatan = [k for k in kecamatan or () if k]  # a form's "all" sends an empty one
        only = export_filter(since or None, until or None, kecamatan, from_position, to_position)
    except ValueError as error:
        raise ClientException(
            "Waktu tidak dikenali: tulis seperti 2024-02-10 atau 2024-02-10T08:00+07:00."
        ) from error
    # The store is read in a worker thread as the response asks for chunks (Stream wraps the
    # iterator so), never on the event loop.
    chunks = export_document(notifications(state.batches.recorder), only, datetime.now(UTC))
    return Stream(
        chunks,
        media_type="application/ld+json",
        headers={"Content-Disposition": 'attachment; filename="lacak-epcis.jsonld"'},
    )
