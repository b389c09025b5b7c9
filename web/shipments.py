"""A truck load under one surat jalan: expected against scanned, printable as the Berita Acara."""

import asyncio
from collections import Counter

from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Template

from services import bahasa
from services.views.board.view import BoardView, ShipmentLine
from services.wilayah import Served, kabupaten_of, within
from web.auth import Principal


def reconciliation(lines: list[ShipmentLine], wilayah: Served) -> dict[str, object]:
    """What `_shipment_lines.html` shows: each line with its status, and the tally."""
    arrived = any(line.received_at for line in lines)
    statuses = [line.status(arrived) for line in lines]
    return {
        "rows": list(zip(lines, statuses, strict=True)),
        "tally": Counter(statuses),
        "place": wilayah.place_name,
    }


@get("/shipments/{surat_jalan:path}", name="shipment", opt={"need": "view", "area": None})
async def shipment_page(
    board: NamedDependency[BoardView],
    wilayah: NamedDependency[Served],
    principal: NamedDependency[Principal | None],
    surat_jalan: FromPath[str],
) -> Template:
    """The load's reconciliation and its Berita Acara serah terima, from the recorded scans, for
    those whose scope reaches its kabupaten/kota (the KPU whose load it is, and wider).

    A path, not a segment: surat jalan numbers carry slashes (`001/SJ/KPU-SRG/II/2024`)."""
    surat_jalan = surat_jalan.lstrip("/")
    lines = await asyncio.to_thread(board.shipment, surat_jalan)
    if not lines:
        raise NotFoundException(bahasa.UNKNOWN_SURAT_JALAN.format(number=surat_jalan))
    kabupaten = kabupaten_of(lines[0].destination)
    scope = principal.scope if principal is not None else ""
    if not within(scope, kabupaten):
        raise PermissionDeniedException(
            bahasa.AREA_OUTSIDE_SCOPE.format(area=kabupaten, scope=scope or "nasional")
        )
    return Template(
        template_name="shipment.html",
        context={
            "surat_jalan": surat_jalan,
            "sent": next((line for line in lines if line.sent_at), None),
            "received": next((line for line in lines if line.received_at), None),
            **reconciliation(lines, wilayah),
            # The KPU whose load it is: the kabupaten/kota of its boxes, whatever is served.
            "kabupaten_name": wilayah.area_name(kabupaten),
        },
    )
