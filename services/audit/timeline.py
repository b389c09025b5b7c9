"""The custody timeline of one batch: every event with both clocks, who, where, what it raised and
what corrected it, read straight from the event store."""

from datetime import datetime

import msgspec

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
    Event,
    ScanRepeated,
    ScanVoided,
)
from services import bahasa
from services.wilayah import Places

EVENT_CLASSES = (
    BatchRegistered,
    BatchPacked,
    BatchSealed,
    BatchDispatched,
    BatchReceived,
    BallotsAccounted,
    AnomalyRaised,
    AnomalyAcknowledged,
    AnomalyResolved,
    ScanVoided,
    BatchVoided,
    ScanRepeated,
)
WHAT = {cls: bahasa.EVENT_WORDS[cls.__name__] for cls in EVENT_CLASSES}  # what a person calls it


class TimelineEntry(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    event: str  # the event's class name
    what: str  # in Bahasa
    occurred_at: datetime  # on the device
    recorded_at: datetime  # on the server
    who: str
    where: str  # wilayah code, "" when it is not a place
    where_name: str
    details: list[tuple[str, str]]  # (label, value) in Bahasa
    scan_id: str = ""
    raised: list[str] = []  # anomaly ids this event's scan raised
    voided_by: int = 0  # the version of the event that declared this one wrong
    corrected_by: int = 0  # the version of the scan that took its place
    corrects: int = 0  # this scan corrects that version
    anomaly_id: str = ""
    account: str = ""  # the account that sent it ("" from the server's own check)
    device: str = ""  # the scanner it came from ("" from a browser)


def timeline(history: list[Event], wilayah: Places) -> list[TimelineEntry]:
    """One entry per event, oldest first, linking scans, their anomalies and corrections."""
    voided_by: dict[int, int] = {}
    corrected_by: dict[int, int] = {}
    raised: dict[str, list[str]] = {}
    for event in history:
        if isinstance(event, ScanVoided):
            voided_by[event.voids] = event.originator_version
        elif getattr(event, "corrects", 0):
            corrected_by[event.corrects] = event.originator_version
        elif isinstance(event, AnomalyRaised) and event.scan_id:
            raised.setdefault(event.scan_id, []).append(event.anomaly_id)
    entries = []
    for event in history:
        is_scan = not isinstance(event, AnomalyRaised | ScanVoided)
        # A void's location is where the batch stands after it, not where the void happened.
        where = getattr(event, "location", "") if is_scan else ""
        scan_id = getattr(event, "scan_id", "") if is_scan else ""
        entries.append(
            TimelineEntry(
                version=event.originator_version,
                event=type(event).__name__,
                what=WHAT[type(event)],
                occurred_at=event.occurred_at,
                recorded_at=event.recorded_at,
                who=who(event),
                where=where,
                where_name=wilayah.place_name(where) if where else "",
                details=details(event, wilayah),
                scan_id=scan_id,
                raised=raised.get(scan_id, []) if scan_id else [],
                voided_by=voided_by.get(event.originator_version, 0),
                corrected_by=corrected_by.get(event.originator_version, 0),
                corrects=getattr(event, "corrects", 0),
                anomaly_id=getattr(event, "anomaly_id", ""),
                account=event.user,
                device=event.device,
            )
        )
    return entries


def who(event: Event) -> str:
    if isinstance(event, BatchReceived) and event.handed_over_by:
        return f"{event.officer or '-'} (menerima dari {event.handed_over_by})"
    return getattr(event, "officer", "") or getattr(event, "by", "")


def details(event: Event, wilayah: Places) -> list[tuple[str, str]]:
    """What a person reads of the event, beyond who, where and when."""
    match event:
        case BatchRegistered():
            rows = [
                ("barang", bahasa.ITEM_NAMES.get(event.item, event.item)),
                ("jenis surat suara", bahasa.BALLOT_NAMES.get(event.ballot_type, "-")),
                ("jumlah", str(event.quantity)),
                ("dapil", event.dapil or "-"),
                ("tujuan", wilayah.place_name(event.destination)),
            ]
            if event.replaces:
                rows.append(("pengganti untuk", event.replaces))
            return rows
        case BatchPacked():
            return [("jumlah dikemas", str(event.quantity)), ("dapil", event.dapil or "-")]
        case BatchSealed():
            return [("segel", ", ".join(event.seals))]
        case BatchDispatched():
            rows = [
                ("ke", wilayah.place_name(event.to) if event.to else "-"),
                ("surat jalan", event.surat_jalan or "-"),
                ("kendaraan", event.vehicle or "-"),
                ("sopir", event.driver or "-"),
            ]
            return rows
        case BatchReceived():
            seals = "tidak diperiksa" if event.seals is None else ", ".join(event.seals) or "tanpa"
            return [
                ("jumlah dihitung", "-" if event.counted is None else str(event.counted)),
                ("kondisi", event.condition or "-"),
                ("segel", seals),
                ("alasan", ", ".join(bahasa.REASON_NAMES[r] for r in event.reasons) or "-"),
                ("saksi", event.witness or "-"),
                ("surat jalan", event.surat_jalan or "-"),
            ]
        case BallotsAccounted():
            return [
                ("diterima", str(event.received)),
                ("terpakai", str(event.used)),
                ("rusak", str(event.spoiled)),
                ("sisa", str(event.unused)),
            ]
        case AnomalyRaised():
            return [
                ("jenis", bahasa.KIND_NAMES[event.kind]),
                ("seharusnya", wilayah.place_name(event.expected)),
                ("ditemukan", wilayah.place_name(event.found)),
            ]
        case AnomalyAcknowledged():
            return [("catatan", event.note or "-")]
        case AnomalyResolved():
            rows = [("catatan", event.note or "-")]
            if event.replacement:
                rows.append(("kotak pengganti", event.replacement))
            return rows
        case ScanVoided():
            return [("membatalkan", f"peristiwa #{event.voids}"), ("alasan", event.reason)]
        case BatchVoided():
            rows = [("alasan", event.reason)]
            if event.replaced_by:
                rows.append(("diganti oleh", event.replaced_by))
            return rows
        case ScanRepeated():
            return [("mengulang", f"peristiwa #{event.repeats}")]
    return []
