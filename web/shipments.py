"""A truck load under one surat jalan: expected against scanned, printable as the Berita Acara."""

import asyncio
from collections import Counter

from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from services import bahasa
from services.views.board.view import BoardView, ShipmentLine
from services.wilayah import Served, kabupaten_of


def reconciliation(lines: list[ShipmentLine], wilayah: Served) -> dict[str, object]:
    """What `_shipment_lines.html` shows: each line with its status, and the tally."""
    arrived = any(line.received_at for line in lines)
    statuses = [line.status(arrived) for line in lines]
    return {
        "rows": list(zip(lines, statuses, strict=True)),
        "tally": Counter(statuses),
        "place": wilayah.place_name,
    }


@get("/shipments/{surat_jalan:path}", name="shipment", opt={"need": "view"})
async def shipment_page(
    board: NamedDependency[BoardView], wilayah: NamedDependency[Served], surat_jalan: FromPath[str]
) -> Template:
    """The load's reconciliation and its Berita Acara serah terima, from the recorded scans.

    A path, not a segment: surat jalan numbers carry slashes (`001/SJ/KPU-SRG/II/2024`)."""
    surat_jalan = surat_jalan.lstrip("/")
    lines = await asyncio.to_thread(board.shipment, surat_jalan)
    if not lines:
        raise NotFoundException(bahasa.UNKNOWN_SURAT_JALAN.format(number=surat_jalan))
    return Template(
        template_name="shipment.html",
        context={
            "surat_jalan": surat_jalan,
            "sent": next((line for line in lines if line.sent_at), None),
            "received": next((line for line in lines if line.received_at), None),
            **reconciliation(lines, wilayah),
            # The KPU whose load it is: the kabupaten/kota of its boxes, whatever is served.
            "kabupaten_name": wilayah.area_name(kabupaten_of(lines[0].destination)),
        },
    )
