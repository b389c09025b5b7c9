"""The CBV 2.0 event hash ID of an EPCIS 2.0 event: the name every exported event carries.

It follows CBV 2.0 section 8.9 ("EPCIS Event Hash ID") as the GS1 reference implementation
(github.com/RalphTro/epcis-event-hash-generator, README "Algorithm") reads it: a pre-hash string
of the event's fields in the canonical property order, each value normalised (UTC timestamps at
millisecond precision, CBV URNs and bare CBV words as Web URIs, EPC URIs as constrained canonical
GS1 Digital Link URIs, numbers without trailing zeros, lists sorted), then
`ni:///sha-256;<hex>?ver=CBV2.0`. eventID, recordTime and errorDeclaration are left out, so an
event keeps its ID when an error is declared on it.
"""

import hashlib
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

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
