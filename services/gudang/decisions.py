"""Pure decisions on a gudang: its state folded from its events, and state + command (+ time)
-> events, or a refusal. What arrives is recorded as it is and its differences are flagged."""

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec

from events.gudang import (
    BoxesAssembled,
    DeliveryAnnounced,
    DeliveryReceived,
    GudangEvent,
    Mismatch,
    PlannedLine,
    ProcurementPlanned,
    ReceivedLine,
    ReplacementRequested,
    SheetsDestroyed,
    SortingTallied,
    StockLine,
    SupplierContracted,
)
from services import bahasa
from services.errors import DomainError

NAMESPACE = uuid5(NAMESPACE_URL, "https://lacak.example/gudang")
Key = tuple[str, str, str]  # item, ballot type, dapil


class GudangError(DomainError):
    """A gudang command that cannot be true: nothing is recorded."""


def gudang_id(election: str, kabupaten: str) -> UUID:
    return uuid5(NAMESPACE, f"{election}/{kabupaten}")


def key_of(line: StockLine | PlannedLine | ReceivedLine | Mismatch) -> Key:
    return (line.item, line.ballot_type, line.dapil)


class Gudang(msgspec.Struct, kw_only=True):
    """What a decision needs of a gudang's history."""

    id: UUID
    kabupaten: str
    version: int = 0
    commands: dict[str, GudangEvent] = {}  # command id -> the event it recorded
    planned: dict[Key, PlannedLine] = {}
    notices: dict[str, DeliveryAnnounced] = {}
    receipts: dict[str, DeliveryReceived] = {}
    requests: dict[str, ReplacementRequested] = {}
    destroyed: dict[str, SheetsDestroyed] = {}


def evolve(gudang: Gudang, event: GudangEvent) -> Gudang:
    """The gudang after one of its events (the state is rebuilt per command: mutate a copy)."""
    gudang.version = event.originator_version
    gudang.commands[event.command_id] = event
    match event:
        case ProcurementPlanned(lines=lines):
            gudang.planned = {key_of(line): line for line in lines}
        case DeliveryAnnounced(delivery=delivery):
            gudang.notices[delivery] = event
        case DeliveryReceived(delivery=delivery):
            gudang.receipts[delivery] = event
        case ReplacementRequested(request=request):
            gudang.requests[request] = event
        case SheetsDestroyed(record=record):
            gudang.destroyed[record] = event
    return gudang


def replay(id: UUID, kabupaten: str, events: Iterable[GudangEvent]) -> Gudang:
    gudang = Gudang(id=id, kabupaten=kabupaten)
    for event in events:
        evolve(gudang, event)
    return gudang


class Said(msgspec.Struct, frozen=True, kw_only=True):
    """Who sent a gudang command and when it happened: the part every event shares."""

    command_id: str
    occurred_at: datetime
    user: str = ""
    device: str = ""


def _head(gudang: Gudang, said: Said, at: datetime) -> dict[str, object]:
    return {
        "originator_id": gudang.id,
        "originator_version": gudang.version + 1,
        "kabupaten": gudang.kabupaten,
        "occurred_at": said.occurred_at,
        "recorded_at": at,
        "command_id": said.command_id,
        "user": said.user,
        "device": said.device,
    }


def plan(
    gudang: Gudang, election: str, lines: Sequence[PlannedLine], said: Said, at: datetime
) -> list[GudangEvent]:
    if said.command_id in gudang.commands:
        return []
    return [ProcurementPlanned(**_head(gudang, said, at), election=election, lines=list(lines))]


def contract(
    gudang: Gudang,
    supplier: str,
    number: str,
    lines: Sequence[StockLine],
    said: Said,
    at: datetime,
) -> list[GudangEvent]:
    if said.command_id in gudang.commands:
        return []
    _check_lines(lines)
    head = _head(gudang, said, at)
    return [SupplierContracted(**head, supplier=supplier, contract=number, lines=list(lines))]


def announce(
    gudang: Gudang,
    *,
    delivery: str,
    stage: int,
    supplier: str,
    expected_on: date,
    lines: Sequence[StockLine],
    said: Said,
    at: datetime,
    contract: str = "",
    replaces: str = "",
) -> list[GudangEvent]:
    """A delivery notice; its id is the gudang's once. A replacement names its request."""
    if said.command_id in gudang.commands:
        return []
    if delivery in gudang.notices or delivery in gudang.receipts:  # announced, or arrived
        raise GudangError(bahasa.DELIVERY_TAKEN.format(delivery=delivery))
    if replaces and replaces not in gudang.requests:
        raise GudangError(bahasa.UNKNOWN_REQUEST.format(request=replaces))
    _check_lines(lines)
    return [
        DeliveryAnnounced(
            **_head(gudang, said, at),
            delivery=delivery,
            stage=stage,
            supplier=supplier,
            contract=contract,
            expected_on=expected_on,
            lines=list(lines),
            replaces=replaces,
        )
    ]


def receive(
    gudang: Gudang,
    *,
    delivery: str,
    lines: Sequence[ReceivedLine],
    courier: str,
    officer: str,
    said: Said,
    at: datetime,
    surat_jalan: str = "",
    witness: str = "",
    note: str = "",
) -> list[GudangEvent]:
    """A delivery counted in as it is: short, over, damaged, unannounced or of another dapil,
    it is recorded, and each difference is flagged. Counted twice, it is refused."""
    if said.command_id in gudang.commands:
        return []
    if delivery in gudang.receipts:
        raise GudangError(bahasa.DELIVERY_RECEIVED_ALREADY.format(delivery=delivery))
    if not courier.strip() or not officer.strip():
        raise GudangError(bahasa.RECEIPT_NEEDS_PEOPLE)
    for line in lines:
        if line.quantity < 0 or not 0 <= line.damaged <= line.quantity:
            raise GudangError(bahasa.BAD_RECEIVED_LINE)
        check_kind(line.item, line.ballot_type, line.dapil)
    notice = gudang.notices.get(delivery)
    return [
        DeliveryReceived(
            **_head(gudang, said, at),
            delivery=delivery,
            lines=list(lines),
            mismatches=mismatches(notice, lines, set(gudang.planned)),
            surat_jalan=surat_jalan,
            courier=courier,
            officer=officer,
            witness=witness,
            note=note,
        )
    ]


def mismatches(
    notice: DeliveryAnnounced | None, lines: Sequence[ReceivedLine], planned: set[Key]
) -> list[Mismatch]:
    """How the count differs from the notice: a kind short or over, ballots of a dapil the
    kabupaten does not have (or the notice did not name) as `tertukar`, damaged on arrival."""
    expected: Counter[Key] = Counter()
    for line in notice.lines if notice is not None else ():
        expected[key_of(line)] += line.quantity
    counted: Counter[Key] = Counter()
    for line in lines:
        counted[key_of(line)] += line.quantity
    announced = {(item, ballot_type) for item, ballot_type, _ in expected}
    found: list[Mismatch] = []
    for key in sorted(expected.keys() | counted.keys()):
        item, ballot_type, dapil = key
        want, got = expected[key], counted[key]
        if notice is None and got:
            kind = "tidak_diberitahukan"
        elif got and item == "surat_suara" and planned and key not in planned:
            kind = "tertukar"  # another district's ballots, whatever the notice said
        elif want == got:
            continue
        elif not want and item == "surat_suara" and (item, ballot_type) in announced:
            kind = "tertukar"  # the notice named this type, of another dapil
        else:
            kind = "kurang" if got < want else "lebih"
        found.append(
            Mismatch(
                kind=kind,
                item=item,
                ballot_type=ballot_type,
                dapil=dapil,
                expected=want,
                counted=got,
            )  # type: ignore[arg-type]
        )
    for line in lines:
        if line.damaged:
            found.append(
                Mismatch(
                    kind="rusak",
                    item=line.item,
                    ballot_type=line.ballot_type,
                    dapil=line.dapil,
                    expected=0,
                    counted=line.damaged,
                )
            )
    return found


def tally(
    gudang: Gudang,
    *,
    session: str,
    team: str,
    ballot_type: str,
    dapil: str,
    sorted_sheets: int,
    damaged: dict[str, int],
    said: Said,
    at: datetime,
) -> list[GudangEvent]:
    """A sortir-lipat team's count for a session."""
    if said.command_id in gudang.commands:
        return []
    if sorted_sheets < 0 or any(n < 0 for n in damaged.values()):
        raise GudangError(bahasa.BAD_TALLY)
    check_kind("surat_suara", ballot_type, dapil)
    if not sorted_sheets and not any(damaged.values()):
        raise GudangError(bahasa.EMPTY_TALLY)
    return [
        SortingTallied(
            **_head(gudang, said, at),
            session=session,
            team=team,
            ballot_type=ballot_type,
            dapil=dapil,
            sorted=sorted_sheets,
            damaged={cause: n for cause, n in damaged.items() if n},
        )
    ]


def request_replacement(
    gudang: Gudang, request: str, lines: Sequence[StockLine], note: str, said: Said, at: datetime
) -> list[GudangEvent]:
    if said.command_id in gudang.commands:
        return []
    if request in gudang.requests:
        raise GudangError(bahasa.REQUEST_TAKEN.format(request=request))
    _check_lines(lines)
    return [
        ReplacementRequested(
            **_head(gudang, said, at), request=request, lines=list(lines), note=note
        )
    ]


def destroy(
    gudang: Gudang,
    *,
    record: str,
    lines: Sequence[StockLine],
    officer: str,
    witnesses: Sequence[str],
    said: Said,
    at: datetime,
    method: str = "dibakar",
) -> list[GudangEvent]:
    """Damaged sheets destroyed: counted, and witnessed by someone besides the officer."""
    if said.command_id in gudang.commands:
        return []
    if record in gudang.destroyed:
        raise GudangError(bahasa.DESTRUCTION_TAKEN.format(record=record))
    witnesses = [w.strip() for w in witnesses if w.strip()]
    if not officer.strip() or not witnesses:
        raise GudangError(bahasa.DESTRUCTION_NEEDS_WITNESS)
    _check_lines(lines)
    return [
        SheetsDestroyed(
            **_head(gudang, said, at),
            record=record,
            lines=list(lines),
            officer=officer,
            witnesses=witnesses,
            method=method,
        )
    ]


def assemble(gudang: Gudang, team: str, count: int, said: Said, at: datetime) -> list[GudangEvent]:
    if said.command_id in gudang.commands:
        return []
    if count <= 0:
        raise GudangError(bahasa.BAD_ASSEMBLY)
    return [BoxesAssembled(**_head(gudang, said, at), team=team, count=count)]


def _check_lines(lines: Sequence[StockLine]) -> None:
    if not lines or any(line.quantity <= 0 for line in lines):
        raise GudangError(bahasa.BAD_STOCK_LINES)
    for line in lines:
        check_kind(line.item, line.ballot_type, line.dapil)


NATIONWIDE = ("PPWP", "DPD")  # printed the same for a whole province or the nation: no dapil


def check_kind(item: str, ballot_type: str, dapil: str) -> None:
    """A kind that can be: ballots with their type, and their dapil where they have one (DPR,
    DPRD); the rest of the kit with neither."""
    if item != "surat_suara":
        ok = not ballot_type and not dapil
    else:
        ok = bool(ballot_type) and (not dapil if ballot_type in NATIONWIDE else bool(dapil))
    if not ok:
        raise GudangError(
            bahasa.BAD_KIND.format(kind=" ".join(p for p in (item, ballot_type, dapil) if p))
        )


def dapil_name(text: str) -> str:
    """A dapil as the plan writes it: `Banten  ii` -> `BANTEN II`."""
    return " ".join(text.split()).upper()
