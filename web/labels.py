"""Printable label sheets: a QR code and the human-readable code of every batch, per kecamatan."""

import asyncio

import msgspec
import segno
from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from services import bahasa
from services.custody.errors import UnknownLabelError
from services.custody.labels import parse_label
from services.views.board.view import BatchLabel, BoardView
from services.wilayah import Served, Wilayah, kecamatan_of


class LabelCard(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    qr_svg: str  # from segno: trusted markup
    item: str
    ballot_type: str
    quantity: int
    dapil: str
    tps: str
    desa: str


def label_card(batch: BatchLabel, wilayah: Wilayah) -> LabelCard:
    tps = wilayah.tps_by_code[batch.destination]
    return LabelCard(
        code=batch.label,
        # A full QR code (never Micro QR), which phone cameras and handheld scanners all read.
        qr_svg=segno.make_qr(batch.label, error="m").svg_inline(border=2, omitsize=True),
        item=bahasa.ITEM_NAMES.get(batch.item, batch.item),
        ballot_type=bahasa.BALLOT_NAMES.get(batch.ballot_type, batch.ballot_type),
        quantity=batch.quantity,
        dapil=batch.dapil,
        tps=f"TPS {tps.number:03d} · {tps.code}",
        desa=wilayah.desa_by_code[tps.desa].name,
    )


@get("/labels/{kecamatan:str}", name="labels", opt={"need": "scan", "area": "path"})
async def label_sheet(
    board: NamedDependency[BoardView],
    wilayah: NamedDependency[Served],
    kecamatan: FromPath[str],
    desa: FromQuery[str | None] = None,
) -> Template:
    """A4 sheets of labels for the batches bound for one kecamatan, or one desa of it."""
    tree = await asyncio.to_thread(wilayah.tree, kecamatan)
    place = tree.kecamatan_by_code.get(kecamatan) if tree is not None else None
    if tree is None or place is None or (desa and tree.desa_by_code.get(desa) is None):
        raise NotFoundException(bahasa.UNKNOWN_AREA.format(code=repr(desa or kecamatan)))

    def cards() -> list[LabelCard]:
        batches = board.labels(kecamatan, desa)
        return [label_card(batch, tree) for batch in batches]

    return Template(
        template_name="labels.html",
        context={
            "kecamatan": place,
            "desa": tree.desa_by_code[desa] if desa else None,
            "desa_list": [d for d in tree.desa if d.kecamatan == kecamatan],
            "cards": await asyncio.to_thread(cards),
        },
    )


@get("/labels/kotak/{label:str}", name="label-one", opt={"need": "scan", "area": "label"})
async def one_label(
    board: NamedDependency[BoardView], wilayah: NamedDependency[Served], label: FromPath[str]
) -> Template:
    """One batch's label, to print on its own: a replacement batch's, say."""
    found = await asyncio.to_thread(board.label, parse_label(label))
    if found is None:
        raise UnknownLabelError(label)
    tree = await asyncio.to_thread(wilayah.tree, found.destination)
    if tree is None:  # a batch for a kabupaten no longer imported: nothing to print it with
        raise NotFoundException(bahasa.UNKNOWN_AREA.format(code=found.destination))
    place = tree.kecamatan_by_code[kecamatan_of(found.destination)]
    return Template(
        template_name="labels.html",
        context={
            "kecamatan": place,
            "desa": None,
            "desa_list": [],
            "single": True,
            "cards": [label_card(found, tree)],
        },
    )
