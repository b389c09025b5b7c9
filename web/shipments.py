"""A truck load under one surat jalan: expected against scanned, printable as the Berita Acara."""

import asyncio
from collections import Counter

from litestar import get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from services.wilayah import Wilayah


@get("/shipments/{surat_jalan:path}", name="shipment")
async def shipment_page(state: State, surat_jalan: FromPath[str]) -> Template:
    """The load's reconciliation and its Berita Acara serah terima, from the recorded scans.

    A path, not a segment: surat jalan numbers carry slashes (`001/SJ/KPU-SRG/II/2024`)."""
    surat_jalan = surat_jalan.lstrip("/")
    lines = await asyncio.to_thread(state.board_view.shipment, surat_jalan)
    if not lines:
        raise NotFoundException(f"Surat jalan {surat_jalan!r} tidak dikenal.")
    wilayah: Wilayah = state.wilayah
    arrived = any(line.received_at for line in lines)
    statuses = [line.status(arrived) for line in lines]
    sent = next((line for line in lines if line.sent_at), None)
    received = next((line for line in lines if line.received_at), None)
    return Template(
        template_name="shipment.html",
        context={
            "surat_jalan": surat_jalan,
            "rows": list(zip(lines, statuses, strict=True)),
            "tally": Counter(statuses),
            "sent": sent,
            "received": received,
            "place": wilayah.place_name,
        },
    )
