"""The one codec for events: the event store's state bytes and NATS payloads are the same JSON."""

import msgspec

from events.batch import (
    AnomalyAcknowledged,
    AnomalyRaised,
    AnomalyResolved,
    BallotsAccounted,
    BatchDispatched,
    BatchPacked,
    BatchReceived,
    BatchRegistered,
    BatchSealed,
    BatchVoided,
    ScanRepeated,
    ScanVoided,
)
from events.findings import (
    FindingAcknowledged,
    FindingAnswered,
    FindingClosed,
    FindingEvent,
    FindingFiled,
)
from events.gudang import (
    BoxesAssembled,
    DeliveryAnnounced,
    DeliveryReceived,
    GudangEvent,
    ProcurementPlanned,
    ReplacementRequested,
    SheetsDestroyed,
    SortingTallied,
    SupplierContracted,
)
from events.masterdata import (
    ElectionDeclared,
    KabupatenIndexed,
    MasterDataImported,
    WilayahListed,
)

Event = (
    BatchRegistered
    | BatchPacked
    | BatchSealed
    | BatchDispatched
    | BatchReceived
    | BallotsAccounted
    | AnomalyRaised
    | AnomalyAcknowledged
    | AnomalyResolved
    | ScanVoided
    | BatchVoided
    | ScanRepeated
    | MasterDataImported
    | WilayahListed
    | KabupatenIndexed
    | ElectionDeclared
    | ProcurementPlanned
    | SupplierContracted
    | DeliveryAnnounced
    | DeliveryReceived
    | SortingTallied
    | ReplacementRequested
    | SheetsDestroyed
    | BoxesAssembled
    | FindingFiled
    | FindingAcknowledged
    | FindingAnswered
    | FindingClosed
)

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Event)


def encode(event: Event) -> bytes:
    return _encoder.encode(event)


def decode(data: bytes) -> Event:
    return _decoder.decode(data)


def subject(event: Event) -> str:
    """NATS subject `lacak.events.<kab>.<kec>.<EventName>`: a batch's by its destination TPS,
    master data's and a gudang's by its kabupaten (kecamatan `_`), an election's nationally
    (`_._`)."""
    if isinstance(event, ElectionDeclared):
        return "lacak.events._._.ElectionDeclared"
    if isinstance(event, FindingEvent):  # by the place it is about
        kabupaten, kecamatan = finding_subject(event.where)
        return f"lacak.events.{kabupaten}.{kecamatan}.{type(event).__name__}"
    if isinstance(event, MasterDataImported | WilayahListed | KabupatenIndexed | GudangEvent):
        return f"lacak.events.{event.kabupaten.replace('.', '')}._.{type(event).__name__}"
    tps = event.destination
    return f"lacak.events.{tps[:4]}.{tps[:6]}.{type(event).__name__}"


def finding_subject(where: str) -> tuple[str, str]:
    """A finding's kabupaten and kecamatan parts of its subject: `36.04.05.2001` -> (`3604`,
    `360405`), a TPS's by its digits, a kabupaten's kecamatan `_`."""
    digits = where.replace(".", "")
    return digits[:4], digits[:6] if len(digits) >= 6 else "_"
