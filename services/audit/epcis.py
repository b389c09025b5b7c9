"""The event store as a GS1 EPCIS 2.0 JSON-LD `EPCISDocument`, each event named by its CBV 2.0
event hash ID (`epcis_hash.py`).

Pure: events in, EPCIS dicts and document bytes out; the caller reads the store and writes the
file. How Lacak's events map to EPCIS (identifiers, bizStep, disposition, extensions) is in the
README's "EPCIS 2.0 export" section.
"""

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import msgspec

import events
from events import (
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
from events.batch import BatchEvent
from events.findings import (
    FindingAcknowledged,
    FindingAnswered,
    FindingClosed,
    FindingEvent,
    FindingFiled,
)
from events.gudang import (
    BoxesAssembled,
    DeliveryReceived,
    GudangEvent,
    SheetsDestroyed,
    SortingTallied,
)
from services.audit.epcis_hash import event_hash_id
from services.wilayah import ancestry, kabupaten_of

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
# Lacak's own terms. `.example` is reserved (RFC 2606): a placeholder until KPU publishes a domain.
LACAK_NS = "https://lacak.example/epcis/"
CONTEXT: list[Any] = [EPCIS_CONTEXT, {"lacak": LACAK_NS}]
NAMESPACES = {"lacak": LACAK_NS}


def batch_uri(label: str) -> str:
    return f"urn:lacak:batch:{quote(label, safe='-')}"


def place_uri(code: str) -> str:
    """A wilayah code (kabupaten gudang, kecamatan PPK, desa PPS, 13-digit TPS) as a URI."""
    return f"urn:lacak:wilayah:{quote(code, safe='.')}"


def delivery_note_uri(surat_jalan: str) -> str:
    return f"urn:lacak:surat-jalan:{quote(surat_jalan, safe='-._')}"


def ballots_class(dapil: str) -> str:
    """Ballot sheets as a class: those printed for a dapil, or any (PPWP, DPD, bundles)."""
    return "urn:lacak:surat-suara" + (f":{quote(dapil, safe='-._')}" if dapil else "")


def goods_class(item: str, ballot_type: str = "", dapil: str = "") -> str:
    """Goods of one kind as a class: `urn:lacak:barang:surat_suara:DPR:BANTEN%20II`."""
    parts = [item, *(p for p in (ballot_type, dapil) if p)]
    return "urn:lacak:barang:" + ":".join(quote(p, safe="-._") for p in parts)


def timestamp(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def clocks(event: Any) -> dict[str, str]:
    """An event's two clocks as EPCIS writes them: eventTime (the device's, with its zone's
    offset) and recordTime (the server's)."""
    return {
        "eventTime": timestamp(event.occurred_at),
        "recordTime": timestamp(event.recorded_at),
        "eventTimeZoneOffset": zone_offset(event.occurred_at),
    }


def zone_offset(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


RECEIPT_DISPOSITIONS = (
    ({"rusak", "basah"}, "damaged"),
    ({"tertukar"}, "mismatch_class"),
    ({"kurang"}, "mismatch_quantity"),
    ({"segel_rusak"}, "non_conformant"),
)
ANOMALY_DISPOSITIONS = {
    "damaged": "damaged",
    "count_short": "mismatch_quantity",
    "count_over": "mismatch_quantity",
    "accounting_mismatch": "mismatch_quantity",
    "wrong_dapil": "mismatch_class",
    "seal_missing": "non_conformant",
    "seal_mismatch": "non_conformant",
    "impossible_move": "non_conformant",
}

WILAYAH_CODE = re.compile(r"\d\d\.\d\d(\.\d\d(\.\d{4})?)?|\d{13}")


def extensions(**fields: Any) -> dict[str, Any]:
    """`lacak:` fields, leaving out the empty ones (an absent fact, not an empty string)."""
    return {f"lacak:{k}": v for k, v in fields.items() if v not in ("", None, [])}


def to_epcis(event: events.Event) -> dict[str, Any] | None:
    """One stored event as an EPCIS event without its eventID; None for what is not custody
    (master data, the election) and for a void of a scan (an errorDeclaration on that scan)."""
    if isinstance(event, GudangEvent):
        return gudang_epcis(event)
    if isinstance(event, FindingEvent):
        return finding_epcis(event)
    if isinstance(event, ScanVoided) or not isinstance(event, BatchEvent):
        return None
    common = clocks(event)
    gudang = place_uri(kabupaten_of(event.destination))
    epc = batch_uri(event.label)
    identity = extensions(version=event.originator_version)
    match event:
        case BatchRegistered():
            return {
                "type": "ObjectEvent",
                **common,
                "epcList": [epc],
                "action": "ADD",
                "bizStep": "commissioning",
                "disposition": "active",
                "readPoint": {"id": gudang},
                "bizLocation": {"id": gudang},
                "ilmd": extensions(
                    item=event.item,
                    ballotType=event.ballot_type,
                    quantity=event.quantity,
                    dapil=event.dapil,
                    plannedFor=place_uri(event.destination),
                    replaces=batch_uri(event.replaces) if event.replaces else "",
                ),
                **identity,
            }
        case BatchPacked():
            here = {"id": place_uri(event.location)}
            return {
                "type": "AggregationEvent",
                **common,
                "parentID": epc,
                "childQuantityList": [
                    {"epcClass": ballots_class(event.dapil), "quantity": event.quantity}
                ],
                "action": "ADD",
                "bizStep": "packing",
                "disposition": "in_progress",
                "readPoint": here,
                "bizLocation": here,
                **identity,
                **extensions(
                    scanId=event.scan_id, officer=event.officer, corrects=event.corrects or None
                ),
            }
        case BatchSealed():
            here = {"id": place_uri(event.location)}
            return {
                "type": "ObjectEvent",
                **common,
                "epcList": [epc],
                "action": "OBSERVE",
                "bizStep": "packing",
                "disposition": "container_closed",
                "readPoint": here,
                "bizLocation": here,
                **identity,
                **extensions(
                    scanId=event.scan_id,
                    seals=event.seals,
                    officer=event.officer,
                    corrects=event.corrects or None,
                ),
            }
        case BatchDispatched():
            shipped = {
                "type": "ObjectEvent",
                **common,
                "epcList": [epc],
                "action": "OBSERVE",
                "bizStep": "shipping",
                "disposition": "in_transit",
                "readPoint": {"id": place_uri(event.location)},
            }
            if event.surat_jalan:
                shipped["bizTransactionList"] = [
                    {"type": "desadv", "bizTransaction": delivery_note_uri(event.surat_jalan)}
                ]
            # Where it left from is the readPoint, and no sourceList: implementations of the
            # hash disagree on the order of a sourceList and a destinationList on one event
            # (CBV 2.0: source first; the Python reference implementation 1.9.3: destination
            # first), so Lacak never writes both, and either reproduces every eventID.
            if event.to:
                shipped["destinationList"] = [
                    {"type": "location", "destination": place_uri(event.to)}
                ]
            return (
                shipped
                | identity
                | extensions(
                    scanId=event.scan_id,
                    vehicle=event.vehicle,
                    driver=event.driver,
                    officer=event.officer,
                    corrects=event.corrects or None,
                )
            )
        case BatchReceived():
            here = {"id": place_uri(event.location)}
            received: dict[str, Any] = {
                "type": "ObjectEvent",
                **common,
                "epcList": [epc],
                "action": "OBSERVE",
                "bizStep": "receiving",
                "disposition": receipt_disposition(event),
                "readPoint": here,
                "bizLocation": here,
            }
            if event.surat_jalan:
                received["bizTransactionList"] = [
                    {"type": "desadv", "bizTransaction": delivery_note_uri(event.surat_jalan)}
                ]
            received["destinationList"] = [{"type": "location", "destination": here["id"]}]
            return (
                received
                | identity
                | extensions(
                    scanId=event.scan_id,
                    counted=event.counted,
                    condition=event.condition,
                    sealsFound=event.seals,  # None: not checked
                    sealsFoundCount=None if event.seals is None else len(event.seals),
                    reasons=event.reasons,
                    officer=event.officer,
                    witness=event.witness,
                    handedOverBy=event.handed_over_by,
                    corrects=event.corrects or None,
                )
            )
        case BallotsAccounted():
            here = {"id": place_uri(event.location)}
            return {
                "type": "ObjectEvent",
                **common,
                "epcList": [epc],
                "action": "OBSERVE",
                "bizStep": "cycle_counting",
                "readPoint": here,
                "bizLocation": here,
                **identity,
                **extensions(
                    scanId=event.scan_id,
                    received=event.received,
                    used=event.used,
                    spoiled=event.spoiled,
                    unused=event.unused,
                    officer=event.officer,
                    corrects=event.corrects or None,
                ),
            }
        case AnomalyRaised():
            raised: dict[str, Any] = {
                "type": "ObjectEvent",
                **common,
                "epcList": [epc],
                "action": "OBSERVE",
                "bizStep": "inspecting",
            }
            if event.kind in ANOMALY_DISPOSITIONS:
                raised["disposition"] = ANOMALY_DISPOSITIONS[event.kind]
            if WILAYAH_CODE.fullmatch(event.found):  # found at a place (not a count, a dapil)
                raised["readPoint"] = {"id": place_uri(event.found)}
            return (
                raised
                | identity
                | extensions(
                    anomaly=event.anomaly_id,
                    # a URI, not the bare word: "damaged" would read as the CBV disposition
                    anomalyKind=f"urn:lacak:anomaly:{event.kind}",
                    scanId=event.scan_id,
                    expected=event.expected,  # a place, a count, a dapil, a deadline: by kind
                    found=event.found,
                )
            )
        case AnomalyAcknowledged() | AnomalyResolved():
            replacement = getattr(event, "replacement", "")
            return {
                "type": "ObjectEvent",
                **common,
                "epcList": [epc],
                "action": "OBSERVE",
                "bizStep": "inspecting",
                **identity,
                **extensions(
                    anomaly=event.anomaly_id,
                    anomalyStatus="acknowledged"
                    if isinstance(event, AnomalyAcknowledged)
                    else "resolved",
                    by=event.by,
                    note=event.note,
                    replacement=batch_uri(replacement) if replacement else "",
                ),
            }
        case BatchVoided():
            return {
                "type": "ObjectEvent",
                **common,
                "epcList": [epc],
                "action": "DELETE",
                "bizStep": "decommissioning",
                "disposition": "inactive",
                "readPoint": {"id": gudang},
                **identity,
                **extensions(
                    reason=event.reason,
                    by=event.by,
                    replacedBy=batch_uri(event.replaced_by) if event.replaced_by else "",
                ),
            }
        case ScanRepeated():  # read again where it was: an observation, counted nowhere
            return {
                "type": "ObjectEvent",
                **common,
                "epcList": [epc],
                "action": "OBSERVE",
                "readPoint": {"id": place_uri(event.location)},
                **identity,
                **extensions(repeats=event.repeats, scanId=event.scan_id),
            }
    raise TypeError(f"no EPCIS mapping for {type(event).__name__}")


def receipt_disposition(event: BatchReceived) -> str:
    findings = set(event.reasons) | ({event.condition} if event.condition else set())
    for found, disposition in RECEIPT_DISPOSITIONS:
        if findings & found:
            return disposition
    return "in_progress"


def with_event_id(epcis_event: dict[str, Any]) -> dict[str, Any]:
    """The event with its hash ID first, as a reader expects it."""
    return {"eventID": event_hash_id(epcis_event, NAMESPACES), **epcis_event}


# ---------------------------------------------------------------------------------------------
# A filtered range, and the errors declared on it
# ---------------------------------------------------------------------------------------------


GUDANG_DISPOSITIONS = (
    ("rusak", "damaged"),
    ("tertukar", "mismatch_class"),
    ("kurang", "mismatch_quantity"),
    ("lebih", "mismatch_quantity"),
)


def gudang_epcis(event: GudangEvent) -> dict[str, Any] | None:
    """A gudang's event: a delivery received (receiving), a sortir-lipat count (inspecting),
    damaged sheets destroyed (destroying), kotak put together (assembling), each of goods by
    class and quantity at the kabupaten's gudang; plans, contracts, notices and requests are
    not observations of goods, and are left out."""
    here = {"id": place_uri(event.kabupaten)}
    common = {
        **clocks(event),
        "readPoint": here,
        "bizLocation": here,
    }
    identity = extensions(gudang=event.kabupaten, version=event.originator_version)
    match event:
        case DeliveryReceived():
            kinds = {m.kind for m in event.mismatches}
            disposition = next((d for k, d in GUDANG_DISPOSITIONS if k in kinds), "in_progress")
            received: dict[str, Any] = {
                "type": "ObjectEvent",
                **common,
                "quantityList": [
                    {
                        "epcClass": goods_class(x.item, x.ballot_type, x.dapil),
                        "quantity": x.quantity,
                    }
                    for x in event.lines
                ],
                "action": "OBSERVE",
                "bizStep": "receiving",
                "disposition": disposition,
            }
            if event.surat_jalan:
                received["bizTransactionList"] = [
                    {"type": "desadv", "bizTransaction": delivery_note_uri(event.surat_jalan)}
                ]
            return (
                received
                | identity
                | extensions(
                    delivery=event.delivery,
                    damaged=sum(x.damaged for x in event.lines) or None,
                    mismatches=sorted(kinds),
                    courier=event.courier,
                    officer=event.officer,
                    witness=event.witness,
                )
            )
        case SortingTallied():
            inspected = event.sorted + sum(event.damaged.values())
            kind = goods_class("surat_suara", event.ballot_type, event.dapil)
            return {
                "type": "ObjectEvent",
                **common,
                "quantityList": [{"epcClass": kind, "quantity": inspected}],
                "action": "OBSERVE",
                "bizStep": "inspecting",
                **identity,
                **extensions(
                    session=event.session, team=event.team, good=event.sorted, damaged=event.damaged
                ),
            }
        case SheetsDestroyed():
            return {
                "type": "ObjectEvent",
                **common,
                "quantityList": [
                    {
                        "epcClass": goods_class(x.item, x.ballot_type, x.dapil),
                        "quantity": x.quantity,
                    }
                    for x in event.lines
                ],
                "action": "DELETE",
                "bizStep": "destroying",
                "disposition": "destroyed",
                **identity,
                **extensions(
                    record=event.record,
                    officer=event.officer,
                    witnesses=event.witnesses,
                    method=event.method,
                ),
            }
        case BoxesAssembled():
            return {
                "type": "ObjectEvent",
                **common,
                "quantityList": [{"epcClass": goods_class("kotak_suara"), "quantity": event.count}],
                "action": "OBSERVE",
                "bizStep": "assembling",
                **identity,
                **extensions(team=event.team),
            }
    return None


def finding_epcis(event: FindingEvent) -> dict[str, Any]:
    """A finding and each step of it as an inspection (bizStep inspecting) at the place it is
    about, of the boxes it names; a citizen's contact is never exported."""
    here = {"id": place_uri(event.where)}
    inspected: dict[str, Any] = {
        "type": "ObjectEvent",
        **clocks(event),
        "epcList": [batch_uri(label) for label in getattr(event, "labels", [])],
        "action": "OBSERVE",
        "bizStep": "inspecting",
        "readPoint": here,
        "bizLocation": here,
    }
    common = extensions(finding=event.finding, version=event.originator_version)
    match event:
        case FindingFiled():
            if event.surat_jalan:
                inspected["bizTransactionList"] = [
                    {"type": "desadv", "bizTransaction": delivery_note_uri(number)}
                    for number in event.surat_jalan
                ]
            return (
                inspected
                | common
                | extensions(
                    source=event.source,
                    kind=event.kind,
                    text=event.text,
                    filedBy=event.filed_by,
                    dueAt=timestamp(event.due_at),
                )
            )
        case FindingAcknowledged():
            return inspected | common | extensions(acknowledgedBy=event.by, note=event.note)
        case FindingAnswered():
            return inspected | common | extensions(answeredBy=event.by, action=event.action)
        case FindingClosed():
            return (
                inspected
                | common
                | extensions(closedBy=event.by, accepted=event.accepted, note=event.note)
            )
    return inspected | common


class ExportFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which events: occurred in [since, until), bound for these kecamatan, at these positions."""

    since: datetime | None = None
    until: datetime | None = None
    # dotted codes of kecamatan (or kabupaten, provinces) bound for; empty: everywhere
    kecamatan: frozenset[str] = frozenset()
    first_position: int | None = None
    last_position: int | None = None

    def takes_position(self, position: int) -> bool:
        return (self.first_position is None or position >= self.first_position) and (
            self.last_position is None or position <= self.last_position
        )

    def takes(self, event: BatchEvent | GudangEvent | FindingEvent) -> bool:
        if self.since is not None and event.occurred_at < self.since:
            return False
        if self.until is not None and event.occurred_at >= self.until:
            return False
        place = (
            event.kabupaten
            if isinstance(event, GudangEvent)
            else event.where
            if isinstance(event, FindingEvent)
            else event.destination
        )
        return not self.kecamatan or not self.kecamatan.isdisjoint(ancestry(place))


class DeclaredError(msgspec.Struct, frozen=True, kw_only=True):
    """A void of a scan, and the eventID of the scan that corrects it (if one does)."""

    void: ScanVoided
    corrective_event_id: str = ""

    def declaration(self) -> dict[str, Any]:
        declared: dict[str, Any] = {
            "declarationTime": timestamp(self.void.recorded_at),
            "reason": "incorrect_data" if self.corrective_event_id else "did_not_occur",
        }
        if self.corrective_event_id:
            declared["correctiveEventIDs"] = [self.corrective_event_id]
        return declared | extensions(reason=self.void.reason, by=self.void.by)


ScanKey = tuple[str, int]  # (batch id, version of the scan event)


def declared_errors(stored: Iterable[tuple[int, bytes]]) -> dict[ScanKey, DeclaredError]:
    """Every void of a scan in the store, with the eventID of its correction: a first pass,
    so each scan carries its errorDeclaration wherever the void falls in the range."""
    voids: dict[ScanKey, ScanVoided] = {}
    corrections: dict[ScanKey, str] = {}
    for _, data in stored:
        if b'"ScanVoided"' not in data and (b'"corrects":' not in data or b'"corrects":0' in data):
            continue  # neither a void nor a correction: not worth decoding
        event = events.decode(data)
        key = str(event.originator_id)
        if isinstance(event, ScanVoided):
            voids[key, event.voids] = event
        elif getattr(event, "corrects", 0):
            mapped = to_epcis(event)
            assert mapped is not None
            corrections[key, event.corrects] = event_hash_id(mapped, NAMESPACES)
    return {
        key: DeclaredError(void=void, corrective_event_id=corrections.get(key, ""))
        for key, void in voids.items()
    }


def exported_events(
    stored: Iterable[tuple[int, bytes]],
    only: ExportFilter,
    errors: dict[ScanKey, DeclaredError],
) -> Iterator[dict[str, Any]]:
    """The EPCIS events of the range, in store order, each with its eventID and any error
    declared on it."""
    for position, data in stored:
        if not only.takes_position(position):
            continue
        event = events.decode(data)
        if not isinstance(event, BatchEvent | GudangEvent | FindingEvent) or not only.takes(event):
            continue
        mapped = to_epcis(event)
        if mapped is None:
            continue
        exported = with_event_id(mapped)
        declared = errors.get((str(event.originator_id), event.originator_version))
        if declared is not None:
            exported["errorDeclaration"] = declared.declaration()
        yield exported


def document_chunks(
    epcis_events: Iterable[dict[str, Any]], created: datetime, per_chunk: int = 500
) -> Iterator[bytes]:
    """The EPCISDocument as bytes, written as the events come: never the whole list at once."""
    head = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": timestamp(created),
        "sender": "Lacak",
    }
    yield msgspec.json.encode(head)[:-1] + b',"epcisBody":{"eventList":['
    encode = msgspec.json.Encoder().encode
    chunk: list[bytes] = []
    first = True
    for event in epcis_events:
        chunk.append(encode(event))
        if len(chunk) >= per_chunk:
            yield (b"" if first else b",\n") + b",\n".join(chunk)
            chunk, first = [], False
    if chunk:
        yield (b"" if first else b",\n") + b",\n".join(chunk)
    yield b"]}}\n"


def export_document(
    read: Callable[[ExportFilter], Iterable[tuple[int, bytes]]],
    only: ExportFilter,
    created: datetime,
) -> Iterator[bytes]:
    """Two passes over the store, both when the first chunk is asked for: the errors declared
    anywhere (`read` of everything), then the range (`read(only)` may skip other positions)."""
    errors = declared_errors(read(ExportFilter()))
    yield from document_chunks(exported_events(read(only), only, errors), created)


def parse_moment(text: str, zone_if_missing: Any = UTC) -> datetime:
    """`2024-02-10`, `2024-02-10T08:00`, `2024-02-10T08:00+07:00` as an aware datetime."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone_if_missing)


def export_filter(
    since: str | None = None,
    until: str | None = None,
    kecamatan: Sequence[str] = (),
    first_position: int | None = None,
    last_position: int | None = None,
) -> ExportFilter:
    """The filter from text as people type it (CLI options, query parameters)."""
    return ExportFilter(
        since=parse_moment(since) if since else None,
        until=parse_moment(until) if until else None,
        kecamatan=frozenset(k for k in kecamatan if k),
        first_position=first_position,
        last_position=last_position,
    )
