"""A supplier's delivery note (surat jalan) as CSV: its lines checked whole, or refused whole
with each bad line named. The same checks as the API's JSON lines."""

import csv
import hashlib
import io
import re
from typing import Annotated

import msgspec

from events.gudang import Item, StockLine
from services import bahasa
from services.custody.masterdata import (
    ImportRefusedError,
    csv_records,
    delimiter_of,
    fault_line,
)
from services.gudang.decisions import GudangError, check_kind, dapil_name

Quantity = Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]
NAME_LENGTH = 120
Name = Annotated[str, msgspec.Meta(max_length=NAME_LENGTH)]
Ident = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9.\-_/:]+$")]
Stage = Annotated[int, msgspec.Meta(ge=1, le=99)]
BallotType = Annotated[str, msgspec.Meta(pattern=r"^(|PPWP|DPR|DPD|DPRD_PROV|DPRD_KAB)$")]
COLUMNS = ("item", "ballot_type", "dapil", "quantity")
MOST_LINES = 200  # as the API takes a notice's lines
FIELD = re.compile(r"`\$\.(\w+)`")  # the column msgspec names in its error
QUANTITY = re.compile(r"-?([0-9]+|[0-9]{1,3}(\.[0-9]{3})+)")  # 1234 or 1.234; below 0: a cell fault


class NoteLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Goods of one kind: an item; for ballots (`surat_suara`) their type and dapil."""

    item: Item
    quantity: Quantity
    ballot_type: BallotType = ""
    dapil: Name = ""


class NoticeHead(msgspec.Struct, frozen=True, kw_only=True):
    """A notice but its lines and day; the API's `NoticeIn` (web/gudang.py) is made of the same
    types, so both refuse alike."""

    delivery: Ident  # a receipt names it again: no spaces
    stage: Stage
    supplier: Name
    contract: Name = ""


HEAD_FAULTS = {
    "delivery": bahasa.NOTICE_BAD_DELIVERY,
    "stage": bahasa.NOTICE_BAD_STAGE,
    "supplier": bahasa.NOTICE_LONG_SUPPLIER,
    "contract": bahasa.NOTICE_LONG_CONTRACT,
}


def check_notice(delivery: str, stage: int, supplier: str, contract: str = "") -> None:
    """GudangError, in Bahasa, for a notice the API would refuse (its lines aside)."""
    head = {"delivery": delivery, "stage": stage, "supplier": supplier, "contract": contract}
    try:
        msgspec.convert(head, NoticeHead)
    except msgspec.ValidationError as error:
        column = FIELD.search(str(error))
        fault = HEAD_FAULTS[column.group(1)] if column else str(error)
        raise GudangError(fault.format(**head, most=NAME_LENGTH)) from None


def as_stock(lines: list[NoteLine]) -> list[StockLine]:
    """The lines as goods, each dapil written as the plan writes it."""
    return [
        StockLine(
            item=x.item, ballot_type=x.ballot_type, dapil=dapil_name(x.dapil), quantity=x.quantity
        )
        for x in lines
    ]


def notice_command_id(data: bytes, **notice: object) -> str:
    """A CSV notice's command id: the same file for the same delivery, stage, supplier and day
    is one notice sent again; the same file for another delivery is a notice of its own."""
    digest = hashlib.sha256(data)
    digest.update(msgspec.json.encode(sorted((k, str(v)) for k, v in notice.items())))
    return f"csv-{digest.hexdigest()[:32]}"


def parse_delivery_note(data: bytes) -> list[StockLine]:
    """The note's lines (`item,ballot_type,dapil,quantity`, comma or semicolon, quantities
    with or without dots between thousands); GudangError naming every bad line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise GudangError(bahasa.CSV_NOT_UTF8) from error
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter_of(text))
    try:
        header = [name.strip() for name in reader.fieldnames or ()]
    except csv.Error as error:
        raise GudangError(fault_line(1, str(error))) from None
    if set(COLUMNS) - set(header):
        raise GudangError(bahasa.CSV_COLUMNS.format(columns=",".join(COLUMNS)))
    reader.fieldnames = header
    lines: list[NoteLine] = []
    faults: list[str] = []
    for number, row in csv_records(reader, header, faults):  # every cell of the header
        cells = {k: row[k] for k in COLUMNS}  # other columns: notes
        if not QUANTITY.fullmatch(cells["quantity"]):
            faults.append(bahasa.CSV_NOT_A_NUMBER.format(line=number, value=cells["quantity"]))
            continue
        quantity = int(cells["quantity"].replace(".", ""))
        try:
            line = msgspec.convert({**cells, "quantity": quantity}, NoteLine)
        except msgspec.ValidationError as error:
            column = FIELD.search(str(error))
            name = column.group(1) if column else "?"
            value = cells.get(name, "")
            faults.append(bahasa.CSV_BAD_CELL.format(line=number, column=name, value=value))
            continue
        faults += [fault_line(number, fault) for fault in line_faults(line)]
        lines.append(line)
    if faults:
        refused = ImportRefusedError(faults)  # in the words, and to the length, of a TPS import
        raise GudangError(str(refused)) from refused
    if not lines:
        raise GudangError(bahasa.BAD_STOCK_LINES)
    if len(lines) > MOST_LINES:
        raise GudangError(bahasa.CSV_TOO_MANY_LINES.format(most=MOST_LINES))
    return as_stock(lines)


def line_faults(line: NoteLine) -> list[str]:
    """What cannot be true of one line: goods of no possible kind, or none of them."""
    faults = []
    try:
        check_kind(line.item, line.ballot_type, line.dapil)
    except GudangError as impossible:
        faults.append(str(impossible))
    if not line.quantity:
        faults.append(bahasa.CSV_ZERO_QUANTITY)
    return faults
