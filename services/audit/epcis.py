"""The event store as a GS1 EPCIS 2.0 JSON-LD `EPCISDocument`, each event named by its CBV 2.0
event hash ID.

Pure: events in, EPCIS dicts and document bytes out; the caller reads the store and writes the
file. How Lacak's events map to EPCIS (identifiers, bizStep, disposition, extensions) is in the
README's "EPCIS 2.0 export" section.

The event hash ID follows CBV 2.0 section 8.9 ("EPCIS Event Hash ID") as the GS1 reference
implementation (github.com/RalphTro/epcis-event-hash-generator, README "Algorithm") reads it:
a pre-hash string of the event's fields in the canonical property order, each value normalised
(UTC timestamps at millisecond precision, CBV URNs and bare CBV words as Web URIs, EPC URIs as
constrained canonical GS1 Digital Link URIs, numbers without trailing zeros, lists sorted), then
`ni:///sha-256;<hex>?ver=CBV2.0`. eventID, recordTime and errorDeclaration are left out, so an
event keeps its ID when an error is declared on it.
"""

import hashlib
import math
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
    ScanVoided,
)
from events.batch import BatchEvent

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
# Lacak's own terms. `.example` is reserved (RFC 2606): a placeholder until KPU publishes a domain.
LACAK_NS = "https://lacak.example/epcis/"
CONTEXT: list[Any] = [EPCIS_CONTEXT, {"lacak": LACAK_NS}]
NAMESPACES = {"lacak": LACAK_NS}

# ---------------------------------------------------------------------------------------------
# The CBV 2.0 event hash ID
# ---------------------------------------------------------------------------------------------

# Prefixes every EPCIS 2.0 document may use without declaring them (the standard context).
STANDARD_PREFIXES = {
    "gs1": "https://gs1.org/voc/",
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": "https://ref.gs1.org/cbv/",
}
CBV = "https://ref.gs1.org/cbv/"
# CBV 1.x URNs and their CBV 2.0 Web URI equivalents (rule 14).
CBV_URNS = (
    ("urn:epcglobal:cbv:bizstep:", CBV + "BizStep-"),
    ("urn:epcglobal:cbv:disp:", CBV + "Disp-"),
    ("urn:epcglobal:cbv:btt:", CBV + "BTT-"),
    ("urn:epcglobal:cbv:sdt:", CBV + "SDT-"),
    ("urn:epcglobal:cbv:er:", CBV + "ER-"),
)
# Fields whose bare JSON-LD words are CBV terms (rule 16), and the term's Web URI prefix.
BIZ_STEP, DISPOSITION, BTT, SDT = CBV + "BizStep-", CBV + "Disp-", CBV + "BTT-", CBV + "SDT-"

EPC_LISTS = ("epcList", "inputEPCList", "childEPCs", "outputEPCList")
QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
# Left out of the pre-hash string: the ID itself, the server's clock, later error declarations,
# and comments (not part of the event's data).
NOT_HASHED = {
    "@context",
    "type",
    "eventID",
    "recordTime",
    "errorDeclaration",
    "rdfs:comment",
    "comment",
}
STANDARD_FIELDS = {
    "eventTime",
    "eventTimeZoneOffset",
    "certificationInfo",
    "parentID",
    *EPC_LISTS,
    *QUANTITY_LISTS,
    "action",
    "transformationID",
    "bizStep",
    "disposition",
    "persistentDisposition",
    "readPoint",
    "bizLocation",
    "bizTransactionList",
    "sourceList",
    "destinationList",
    "sensorElementList",
    "ilmd",
}

NOT_EXTENSIONS = STANDARD_FIELDS | NOT_HASHED

BARE_WORD = re.compile(r"[A-Za-z0-9_]+")
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
TIMESTAMP = re.compile(
    r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?", re.IGNORECASE
)


class UnsupportedEventError(ValueError):
    """A field this implementation does not hash (sensor data); refused rather than guessed."""


def event_hash_id(event: dict[str, Any], namespaces: dict[str, str] | None = None) -> str:
    """The CBV 2.0 event hash ID of an EPCIS 2.0 JSON-LD event (SHA-256)."""
    digest = hashlib.sha256(pre_hash(event, namespaces).encode()).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"


def pre_hash(event: dict[str, Any], namespaces: dict[str, str] | None = None) -> str:
    """The canonical pre-hash string: standard fields in the canonical property order, then
    the user extensions, sorted."""
    value = canonical_for(namespaces or {})
    if "sensorElementList" in event:
        raise UnsupportedEventError("sensorElementList is not hashed by Lacak")
    parts = [f"eventType={event['type']}"]
    if "eventTime" in event:
        parts.append(f"eventTime={canonical_time(event['eventTime'])}")
    for name in ("eventTimeZoneOffset", "certificationInfo"):
        parts.extend(f"{name}={value(v)}" for v in as_list(event.get(name)))
    parts.append(epc_list("epcList", event, value))
    if "parentID" in event:
        parts.append(f"parentID={value(event['parentID'])}")
    for name in ("inputEPCList", "childEPCs"):
        parts.append(epc_list(name, event, value))
    for name in QUANTITY_LISTS[:3]:
        parts.append(quantity_list(name, event, value))
    parts.append(epc_list("outputEPCList", event, value))
    parts.append(quantity_list("outputQuantityList", event, value))
    for name in ("action", "transformationID"):
        if name in event:
            parts.append(f"{name}={value(event[name])}")
    if "bizStep" in event:
        parts.append(f"bizStep={value(event['bizStep'], BIZ_STEP)}")
    if "disposition" in event:
        parts.append(f"disposition={value(event['disposition'], DISPOSITION)}")
    if persistent := event.get("persistentDisposition"):
        parts.append("persistentDisposition")
        for key in ("set", "unset"):
            parts.extend(sorted(f"{key}={value(v, DISPOSITION)}" for v in persistent.get(key, [])))
    for name in ("readPoint", "bizLocation"):
        if place := event.get(name):
            extensions = {k: v for k, v in place.items() if k != "id"}
            parts.append(f"{name}id={value(place['id'])}{extension_string(extensions, value)}")
    for name, key, vocabulary in (  # in the order of the CBV 2.0 canonical property table
        ("bizTransactionList", "bizTransaction", BTT),
        ("sourceList", "source", SDT),
        ("destinationList", "destination", SDT),
    ):
        if entries := event.get(name):
            typed = [  # the type goes first (CBV 2.0; reference implementation issue #80)
                (f"type={value(e['type'], vocabulary)}" if e.get("type") else "")
                + f"{key}={value(e[key])}"
                for e in entries
            ]
            parts.append(name + "".join(sorted(typed)))
    if ilmd := event.get("ilmd"):
        parts.append("ilmd" + extension_string(ilmd, value))
    extensions = {k: v for k, v in event.items() if k not in NOT_EXTENSIONS}
    parts.append(extension_string(extensions, value))
    return "".join(parts)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def epc_list(name: str, event: dict[str, Any], value: "Canonical") -> str:
    epcs = sorted(f"epc={value(epc)}" for epc in event.get(name) or [])
    return name + "".join(epcs) if epcs else ""


def quantity_list(name: str, event: dict[str, Any], value: "Canonical") -> str:
    elements = sorted(
        "quantityElement"
        + "".join(f"{key}={value(q[key])}" for key in ("epcClass", "quantity", "uom") if key in q)
        for q in event.get(name) or []
    )
    return name + "".join(elements) if elements else ""


def extension_string(fields: dict[str, Any], value: "Canonical") -> str:
    """User extensions: `{namespace}name=value` for each, nested ones after their parent's name,
    a list as one entry per item, siblings sorted."""
    entries = []
    for key, content in fields.items():
        name = value.expand_key(key)
        for item in as_list(content):
            if isinstance(item, dict):
                entries.append(name + extension_string(item, value))
            else:
                text = value(item)
                entries.append(f"{name}={text}" if text else name)
    return "".join(sorted(entries))


class Canonical:
    """Normalises one value for the pre-hash string (rules 5-7 and 14-18), remembering the
    values it has seen: places, batches and words recur in event after event."""

    REMEMBERED = 200_000

    def __init__(self, prefixes: dict[str, str]):
        self.prefixes = prefixes
        self.seen: dict[tuple[type, Any, str], str] = {}

    def __call__(self, raw: Any, vocabulary: str = "") -> str:
        key = (type(raw), raw, vocabulary)  # True and 1 are equal keys, not equal values
        found = self.seen.get(key)
        if found is None:
            if len(self.seen) >= self.REMEMBERED:
                self.seen.clear()
            found = self.seen[key] = self.normalise(raw, vocabulary)
        return found

    def normalise(self, raw: Any, vocabulary: str) -> str:
        if isinstance(raw, bool):
            return "true" if raw else "false"
        if isinstance(raw, int | float):
            return canonical_number(str(raw))
        text = str(raw).strip()
        if vocabulary and BARE_WORD.fullmatch(text):
            return vocabulary + text  # a bare CBV word, as the JSON-LD context expands it
        for urn, web in CBV_URNS:
            if text.startswith(urn):
                return web + text[len(urn) :]
        prefix, colon, rest = text.partition(":")
        if colon and prefix in self.prefixes and not rest.startswith("//"):
            return self.prefixes[prefix] + rest  # a CURIE
        if NUMBER.fullmatch(text):
            return canonical_number(text)
        return digital_link(text) or text

    def expand_key(self, key: str) -> str:
        prefix, colon, local = key.partition(":")
        if colon and prefix in self.prefixes:
            return "{" + self.prefixes[prefix] + "}" + local
        return key


_canonicals: dict[tuple[tuple[str, str], ...], Canonical] = {}


def canonical_for(namespaces: dict[str, str]) -> Canonical:
    """One normaliser per set of namespaces, kept for the next event."""
    key = tuple(sorted(namespaces.items()))
    if key not in _canonicals:
        _canonicals[key] = Canonical({**STANDARD_PREFIXES, **namespaces})
    return _canonicals[key]


def canonical_number(text: str) -> str:
    """`1.0` -> `1`, `0.3430` -> `0.343`, `+5` -> `5` (the reference reads numbers as doubles)."""
    number = float(text)
    if not math.isfinite(number):
        return text
    return str(int(number)) if number == int(number) else repr(number)


def canonical_time(text: str) -> str:
    """Any xsd:dateTimeStamp -> UTC with milliseconds and `Z`; a 4th decimal of 5-9 rounds up."""
    found = TIMESTAMP.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"not an EPCIS timestamp: {text!r}")
    whole, fraction, zone = found.groups()
    fraction = (fraction or "").ljust(4, "0")
    millis = int(fraction[:3]) + (1 if fraction[3] >= "5" else 0)
    offset = "+00:00" if zone in (None, "Z", "z") else zone
    moment = datetime.fromisoformat(whole + offset) + timedelta(milliseconds=millis)
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def check_digit(digits: str) -> str:
    """GS1 mod-10 check digit (GS1 General Specifications 7.9.1)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str(-total % 10)


DL_ESCAPES = str.maketrans({c: f"%{ord(c):02X}" for c in "!()*+,:"})


def dl_escape(text: str) -> str:
    """Characters GS1 Digital Link requires percent-encoded (its table 7-1) that EPC URIs allow."""
    return text.translate(DL_ESCAPES)


EPC_URI = re.compile(r"urn:epc:(id|class|idpat):([a-z]+):(\d+)\.([^.]*)(?:\.(.*))?")
GS1_DL = re.compile(r"https?://[^/?#]+(/.*?)(?:\?.*)?(?:#.*)?")
DL_KEYS = {  # primary key AIs and their short names in Digital Link paths
    "01": "gtin",
    "00": "sscc",
    "414": "gln",
    "417": "party",
    "8003": "grai",
    "8004": "giai",
    "8006": "itip",
    "8010": "cpid",
    "8017": "gsrnp",
    "8018": "gsrn",
    "253": "gdti",
    "255": "gcn",
    "401": "ginc",
    "402": "gsin",
}
DL_QUALIFIERS = {"10": "lot", "21": "ser", "22": "cpv", "235": "", "254": "", "8011": ""}


def digital_link(uri: str) -> str | None:
    """An EPC URI or a GS1 Digital Link URI as a constrained canonical Digital Link URI
    (`https://id.gs1.org`, no query string, only the finest level of identification)."""
    if found := EPC_URI.fullmatch(uri):
        return epc_to_digital_link(*found.groups())
    if found := GS1_DL.fullmatch(uri):
        return constrained_digital_link(found.group(1))
    return None


def epc_to_digital_link(
    kind: str, scheme: str, prefix: str, ref: str, tail: str | None
) -> str | None:
    dl = "https://id.gs1.org"
    if (kind, scheme) in (("id", "sgtin"), ("class", "lgtin"), ("idpat", "sgtin")):
        gtin = ref[:1] + prefix + ref[1:]
        key = f"{dl}/01/{gtin}{check_digit(gtin)}"
        if kind == "idpat":
            return key if tail == "*" else None
        return f"{key}/{'21' if kind == 'id' else '10'}/{dl_escape(tail or '')}"
    if kind != "id":
        return None
    if scheme == "sscc" and tail is None:
        sscc = ref[:1] + prefix + ref[1:]
        return f"{dl}/00/{sscc}{check_digit(sscc)}"
    if scheme in ("sgln", "pgln"):
        gln = prefix + ref
        key = f"{dl}/{'414' if scheme == 'sgln' else '417'}/{gln}{check_digit(gln)}"
        return key if tail in (None, "0") else f"{key}/254/{dl_escape(tail)}"
    if scheme == "grai" and tail is not None:
        grai = "0" + prefix + ref
        return f"{dl}/8003/{grai}{check_digit(grai)}{dl_escape(tail)}"
    if scheme == "giai":
        return f"{dl}/8004/{prefix}{dl_escape(ref if tail is None else f'{ref}.{tail}')}"
    if scheme in ("gsrn", "gsrnp") and tail is None:
        number = prefix + ref
        return f"{dl}/{'8018' if scheme == 'gsrn' else '8017'}/{number}{check_digit(number)}"
    if scheme == "gdti" and tail is not None:
        gdti = prefix + ref
        return f"{dl}/253/{gdti}{check_digit(gdti)}{dl_escape(tail)}"
    return None  # other EPC schemes: kept as they are


def constrained_digital_link(path: str) -> str | None:
    """A Digital Link path on any domain -> on id.gs1.org, short names as AIs, GTIN-14, and
    only its finest level (a serial drops the lot; a consumer product variant is dropped)."""
    names = {name: ai for ai, name in {**DL_KEYS, **DL_QUALIFIERS}.items() if name}
    segments = [s for s in path.split("/") if s]
    for start in range(len(segments)):
        ai = names.get(segments[start], segments[start])
        if ai in DL_KEYS and start + 1 < len(segments) and segments[start + 1][:4].isdigit():
            break
    else:
        return None
    pairs = [
        (names.get(a, a), v)
        for a, v in zip(segments[start::2], segments[start + 1 :: 2], strict=False)
    ]
    key_ai, key = pairs[0]
    if key_ai == "01":
        key = key.zfill(14)
    qualifiers = dict(pairs[1:])
    qualifiers.pop("22", None)
    if "21" in qualifiers:
        qualifiers.pop("10", None)
    if any(q not in DL_QUALIFIERS for q in qualifiers):
        return None  # not a GS1 key path we know: keep the URI as it is
    return "https://id.gs1.org/" + "/".join(
        [key_ai, key, *(f"{q}/{v}" for q, v in qualifiers.items())]
    )


# ---------------------------------------------------------------------------------------------
# Lacak's events as EPCIS events
# ---------------------------------------------------------------------------------------------


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


def timestamp(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def zone_offset(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def kabupaten_of(tps: str) -> str:
    return f"{tps[:2]}.{tps[2:4]}"


def kecamatan_of(tps: str) -> str:
    return f"{tps[:2]}.{tps[2:4]}.{tps[4:6]}"


# A receipt's disposition, the strongest finding first (CBV 2.0 dispositions).
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
}

WILAYAH_CODE = re.compile(r"\d\d\.\d\d(\.\d\d(\.\d{4})?)?|\d{13}")


def extensions(**fields: Any) -> dict[str, Any]:
    """`lacak:` fields, leaving out the empty ones (an absent fact, not an empty string)."""
    return {f"lacak:{k}": v for k, v in fields.items() if v not in ("", None, [])}


def to_epcis(event: events.Event) -> dict[str, Any] | None:
    """One stored event as an EPCIS event without its eventID; None for what is not custody
    (master data, the election) and for a void of a scan (an errorDeclaration on that scan)."""
    if isinstance(event, ScanVoided) or not isinstance(event, BatchEvent):
        return None
    common = {
        "eventTime": timestamp(event.occurred_at),
        "recordTime": timestamp(event.recorded_at),
        "eventTimeZoneOffset": zone_offset(event.occurred_at),
    }
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


class ExportFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which events: occurred in [since, until), bound for these kecamatan, at these positions."""

    since: datetime | None = None
    until: datetime | None = None
    kecamatan: frozenset[str] = frozenset()  # dotted codes; empty: every kecamatan
    first_position: int | None = None
    last_position: int | None = None

    def takes_position(self, position: int) -> bool:
        return (self.first_position is None or position >= self.first_position) and (
            self.last_position is None or position <= self.last_position
        )

    def takes(self, event: BatchEvent) -> bool:
        if self.since is not None and event.occurred_at < self.since:
            return False
        if self.until is not None and event.occurred_at >= self.until:
            return False
        return not self.kecamatan or kecamatan_of(event.destination) in self.kecamatan


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
        if not isinstance(event, BatchEvent) or not only.takes(event):
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
