"""The custody application: loads a batch, decides, saves; the event store is the only truth."""

import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Literal, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import (
    IntegrityError,
    InternalError,
    Mapper,
    ProgrammingError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import get_topic

import events
from events import Event, ScanAction
from services.domain import (
    Anomaly,
    Batch,
    DomainError,
    LabelTakenError,
    Scan,
    UnknownAnomalyError,
    UnknownLabelError,
    UnknownLocationError,
    UnknownScanEventError,
    acknowledge,
    batch_id,
    correct_scan,
    evolve,
    flag_late,
    record_scan,
    register,
    replace_batch,
    resolve,
    void_batch,
    void_scan,
)
from services.election import Election, declare, election_from, election_id
from services.labels import make_label, parse_label
from services.masterdata import (
    ImportSummary,
    checksum,
    import_events,
    master_data_id,
    parse_tps_csv,
    wilayah_from,
)
from services.wilayah import Wilayah

SAVE_ATTEMPTS = 5
# Replacement batches take serials from here up, after the kit plan's (a kabupaten's plan stays far
# below half of the 32^4 serials a label holds).
REPLACEMENT_SERIALS = (32**4 // 2, 32**4)
SETUP_ATTEMPTS = 10
T = TypeVar("T")


def retry_setup(construct: Callable[[], T]) -> T:
    """Run table creation again when another process creates the same tables at the same moment.

    PostgreSQL answers concurrent `CREATE ... IF NOT EXISTS` of one table or type with a
    transient error ("tuple concurrently updated", a duplicate type name).
    """
    for _ in range(SETUP_ATTEMPTS - 1):
        try:
            return construct()
        except (InternalError, IntegrityError, ProgrammingError):
            time.sleep(0.1 + random.random() * 0.2)
    return construct()


class NoMasterDataError(DomainError):
    def __init__(self) -> None:
        super().__init__("Belum ada data wilayah: impor berkas TPS dulu (lacak import).")


class ConflictError(DomainError):
    def __init__(self, label: str):
        super().__init__(f"Kotak {label!r} sedang dipindai di perangkat lain; coba lagi.")


class MsgspecMapper(Mapper[UUID]):
    """Stores an event as the bytes of the one codec in `events`, keyed by its class topic."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = events.encode(domain_event)
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(domain_event)),
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return events.decode(self.plain_state(stored_event))

    def plain_state(self, stored_event: StoredEvent) -> bytes:
        """The codec's bytes as they were stored (decrypted and decompressed)."""
        state = stored_event.state
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return state


class NullTranscoder(Transcoder):
    """The msgspec mapper encodes whole events; nothing is left to transcode."""

    def encode(self, obj: Any) -> bytes:
        raise NotImplementedError("events are encoded by MsgspecMapper")

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError("events are decoded by MsgspecMapper")


class ScanResult(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to a scan; a retried scan id gets exactly the same one."""

    scan_id: str
    label: str
    action: ScanAction
    location: str
    destination: str
    occurred_at: datetime
    recorded_at: datetime
    version: int  # of the event that recorded it: what a correction or a void names
    status: Literal["ok", "warning"]  # warning: recorded, and something is wrong
    message: str
    warnings: list[str] = []  # one per anomaly raised, in Bahasa Indonesia
    anomalies: list[str] = []  # their ids, to acknowledge or resolve them


class AnomalyState(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    anomaly_id: str
    kind: str
    status: str
    replacement: str = ""  # the label of the batch registered to replace it


class Replacement(msgspec.Struct, frozen=True, kw_only=True):
    """A batch sent to make good what an anomaly lost: its contents, and whether the original is
    withdrawn (damaged, wet, wrong dapil) or still counts (a short box topped up)."""

    quantity: int | None = None  # default: what the original was planned to hold
    void_original: bool = False


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """Who sent a command: the account, and the scanner device if it came with a token."""

    user: str = ""
    device: str = ""


NOBODY = Actor()  # the command line on the server, a check, a test


class BatchPlan(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    destination: str
    item: str
    ballot_type: str
    quantity: int
    dapil: str = ""


class Batches(Application[UUID]):
    env = {  # noqa: RUF012 (the library reads this class attribute)
        "MAPPER_TOPIC": get_topic(MsgspecMapper),
        "TRANSCODER_TOPIC": get_topic(NullTranscoder),
    }

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        wilayah: Wilayah | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        retry_setup(lambda: super(Batches, self).__init__(dict(env) if env is not None else None))
        self.wilayah = wilayah
        self.clock = clock

    def record(self, *new_events: Event, actor: Actor = NOBODY) -> None:
        """Append events in one transaction (IntegrityError if a version is taken).

        What `Application.save` does for this application (no snapshots, cache or policies),
        without its per-event `isinstance` against a runtime protocol, which costs about 80 µs
        an event on Python 3.11: a fifth of a whole kabupaten's recording.
        """
        if actor != NOBODY:  # every event a command makes says who sent it
            replace = msgspec.structs.replace
            new_events = tuple(replace(e, user=actor.user, device=actor.device) for e in new_events)  # type: ignore[arg-type,misc]
        if new_events:
            self.recorder.insert_events([self.mapper.to_stored_event(e) for e in new_events])

    def register(self, plans: Sequence[BatchPlan]) -> int:
        """Register planned batches in one transaction; a label already taken refuses them all."""
        at = self.clock()
        registered = [
            register(
                label=plan.label,
                destination=plan.destination,
                item=plan.item,
                ballot_type=plan.ballot_type,
                quantity=plan.quantity,
                dapil=plan.dapil,
                at=at,
            )
            for plan in plans
        ]
        try:
            self.record(*registered)
        except IntegrityError:
            taken = [p.label for p in plans if self.exists(p.label)]
            raise LabelTakenError(", ".join(taken[:5])) from None
        return len(registered)

    def exists(self, label: str) -> bool:
        return next(iter(self.events.get(batch_id(label), limit=1)), None) is not None

    def batch(self, label: str) -> Batch:
        try:
            return self.repository.get(batch_id(parse_label(label)), projector_func=evolve)
        except AggregateNotFoundError:
            raise UnknownLabelError(label) from None

    def history(self, label: str) -> list[Event]:
        """Every event of the batch, oldest first."""
        found = list(self.events.get(batch_id(parse_label(label))))
        if not found:
            raise UnknownLabelError(label)
        return found

    def scan(self, scan: Scan) -> ScanResult:
        """Record a scan where it happened; a retry of the same scan id records nothing."""
        return self.scan_many([scan])[0]

    def scan_many(self, scans: Sequence[Scan]) -> list[ScanResult]:
        """A queue of scans (a device back online, a truck load) decided in order and kept in one
        transaction: all of them, or, if one is refused, none."""
        if self.wilayah is None:
            raise NoMasterDataError()
        wilayah = self.wilayah
        for scan in scans:
            for place in (scan.location, scan.to):
                if place and not wilayah.is_location(place):
                    raise UnknownLocationError(place)
        for _ in range(SAVE_ATTEMPTS):
            batches: dict[str, Batch] = {}
            new_events: list[Event] = []
            for scan in scans:
                label = parse_label(scan.label)
                batch = batches.get(label) or self.batch(label)
                decided = record_scan(batch, scan, at=self.clock())
                evolved = evolve(batch, decided)
                assert evolved is not None
                batches[label] = evolved
                new_events += decided
            try:
                self.record(*new_events)
            except IntegrityError:
                continue  # another device saved one of these batches first: decide again
            return [scan_result(batches[parse_label(s.label)], s.scan_id, wilayah) for s in scans]
        raise ConflictError(", ".join(sorted({s.label for s in scans})[:3]))

    def flag_late(self, labels: Sequence[str], deadline: datetime, chunk: int = 500) -> int:
        """Raise `late` on every batch of `labels`, and on their replacements, not at its TPS by
        the deadline; how many."""
        flagged = 0
        for start in range(0, len(labels), chunk):
            new_events: list[Event] = []
            todo = list(labels[start : start + chunk])
            while todo:
                try:
                    batch = self.batch(todo.pop())
                except UnknownLabelError:  # planned after a re-import, never registered
                    continue
                todo += batch.replaced_by
                new_events += flag_late(batch, deadline, at=self.clock())
            self.record(*new_events)  # a scan saved meanwhile: IntegrityError, run the check again
            flagged += len(new_events)
        return flagged

    def acknowledge(
        self, anomaly_id: str, by: str, note: str, actor: Actor = NOBODY
    ) -> AnomalyState:
        batch = self._decide(
            label_of_anomaly(anomaly_id),
            lambda batch, at: acknowledge(batch, anomaly_id, by, note, at),
            actor,
        )
        return anomaly_state(batch.anomalies[anomaly_id])

    def resolve(
        self,
        anomaly_id: str,
        by: str,
        note: str,
        replacement: Replacement | None = None,
        actor: Actor = NOBODY,
    ) -> AnomalyState:
        """Resolve the anomaly; with a replacement, register the new batch in the same
        transaction (and withdraw the original if asked)."""
        label = label_of_anomaly(anomaly_id)
        if replacement is None:
            batch = self._decide(
                label, lambda batch, at: resolve(batch, anomaly_id, by, note, at), actor
            )
            return anomaly_state(batch.anomalies[anomaly_id])
        for _ in range(SAVE_ATTEMPTS):
            batch, at = self.batch(label), self.clock()
            if batch.anomalies.get(anomaly_id, None) and (
                batch.anomalies[anomaly_id].status == "resolved"
            ):  # resolved already: a retry, or someone else was first
                return anomaly_state(batch.anomalies[anomaly_id])
            new_label = self.next_replacement_label(batch.label)
            new_events = resolve(batch, anomaly_id, by, note, at, replacement=new_label)
            if replacement.void_original:
                resolved = evolve(batch, new_events)
                assert resolved is not None
                reason = f"diganti {new_label}: {note}" if note else f"diganti {new_label}"
                new_events += void_batch(resolved, reason, by, at, replaced_by=new_label)
            new_events.append(replace_batch(batch, new_label, replacement.quantity, at))
            try:
                self.record(*new_events, actor=actor)
            except IntegrityError:
                continue  # the batch moved, or another replacement took the label: again
            evolved = evolve(batch, new_events[:-1])
            assert evolved is not None
            return anomaly_state(evolved.anomalies[anomaly_id])
        raise ConflictError(label)

    def next_replacement_label(self, label: str) -> str:
        """The first free replacement serial of the label's kabupaten (they are taken in order)."""
        kabupaten = f"{label[0:2]}.{label[2:4]}"
        low, high = REPLACEMENT_SERIALS
        while low < high:  # the first serial not yet registered
            middle = (low + high) // 2
            if self.exists(make_label(kabupaten, middle)):
                low = middle + 1
            else:
                high = middle
        return make_label(kabupaten, low)

    def void_batch(self, label: str, reason: str, by: str, actor: Actor = NOBODY) -> Batch:
        """Withdraw a batch from the plan (destroyed, lost); its later scans are still recorded."""
        return self._decide(label, lambda batch, at: void_batch(batch, reason, by, at), actor)

    def void_scan(
        self, label: str, version: int, reason: str, by: str, actor: Actor = NOBODY
    ) -> Batch:
        """Declare the scan recorded as event `version` of the batch wrong."""
        return self._decide(
            label, lambda batch, at: void_scan(batch, version, reason, by, at), actor
        )

    def correct_scan(
        self, label: str, version: int, scan: Scan, reason: str, by: str, actor: Actor = NOBODY
    ) -> ScanResult:
        """Void the scan recorded as event `version` and record `scan` in its place."""
        if self.wilayah is None:
            raise NoMasterDataError()
        if not self.wilayah.is_location(scan.location):
            raise UnknownLocationError(scan.location)
        if parse_label(scan.label) != parse_label(label):
            raise UnknownScanEventError(label, version)  # a correction stays on its own batch
        batch = self._decide(
            label, lambda batch, at: correct_scan(batch, version, scan, reason, by, at), actor
        )
        return scan_result(batch, scan.scan_id, self.wilayah)

    def import_master_data(
        self, election: str, file_name: str, data: bytes, imported_by: str
    ) -> ImportSummary:
        """Check the whole file, then keep it as events in one transaction, or refuse it whole."""
        wilayah = parse_tps_csv(data)
        key = master_data_id(election, wilayah.code)
        last = next(iter(self.events.get(key, desc=True, limit=1)), None)
        new_events = import_events(
            wilayah,
            election=election,
            file_name=file_name,
            file_sha256=checksum(data),
            imported_by=imported_by,
            last_version=last.originator_version if last else 0,
            at=self.clock(),
        )
        self.record(*new_events)  # a concurrent import of the same kabupaten: IntegrityError
        summary = new_events[0]
        return ImportSummary(
            election=election,
            kabupaten=wilayah.code,
            kabupaten_name=wilayah.name,
            file_sha256=summary.file_sha256,
            kecamatan=len(wilayah.kecamatan),
            desa=len(wilayah.desa),
            tps=len(wilayah.tps),
            dpt=summary.dpt_total,
        )

    def declare_election(self, election: str, name: str, voting_day: date, by: str) -> Election:
        """Record the election (or a moved voting day); the latest declaration stands."""
        key = election_id(election)
        last = next(iter(self.events.get(key, desc=True, limit=1)), None)
        declared = declare(
            election=election,
            name=name,
            voting_day=voting_day,
            by=by,
            last_version=last.originator_version if last else 0,
            at=self.clock(),
        )
        self.record(declared)  # declared at the same moment elsewhere: IntegrityError, try again
        return Election(election=election, name=name, voting_day=voting_day)

    def election(self, election: str) -> Election | None:
        """The election as last declared, or None."""
        return election_from(self.events.get(election_id(election)))

    def master_data(self, election: str, kabupaten: str) -> Wilayah | None:
        """The kabupaten's tree as last imported for the election, or None."""
        return wilayah_from(self.events.get(master_data_id(election, kabupaten)))

    def _decide(
        self,
        label: str,
        decide: Callable[[Batch, datetime], list[Event]],
        actor: Actor = NOBODY,
    ) -> Batch:
        """Load, decide, save; when another device saved the batch first, decide again."""
        for _ in range(SAVE_ATTEMPTS):
            batch = self.batch(label)
            new_events = decide(batch, self.clock())
            try:
                self.record(*new_events, actor=actor)
            except IntegrityError:
                continue
            evolved = evolve(batch, new_events)
            assert evolved is not None
            return evolved
        raise ConflictError(label)


def anomaly_state(anomaly: Anomaly) -> AnomalyState:
    return AnomalyState(
        anomaly_id=anomaly.id,
        kind=anomaly.kind,
        status=anomaly.status,
        replacement=anomaly.replacement,
    )


def label_of_anomaly(anomaly_id: str) -> str:
    """`3604-00M7-7-5` -> `3604-00M7-7`."""
    label, _, version = anomaly_id.rpartition("-")
    if not label or not version.isdigit():
        raise UnknownAnomalyError(anomaly_id)
    return label


def scan_result(batch: Batch, scan_id: str, wilayah: Wilayah) -> ScanResult:
    record = batch.scans[scan_id]
    place = wilayah.place_name(record.location)
    message = ACTION_MESSAGES[record.action].format(label=batch.label, place=place)
    warnings = [
        anomaly_message(batch.anomalies[anomaly_id], wilayah) for anomaly_id in record.anomalies
    ]
    return ScanResult(
        scan_id=scan_id,
        label=batch.label,
        action=record.action,
        location=record.location,
        destination=batch.destination,
        occurred_at=record.occurred_at,
        recorded_at=record.recorded_at,
        version=record.version,
        status="warning" if warnings else "ok",
        message=message,
        warnings=warnings,
        anomalies=list(record.anomalies),
    )


ACTION_MESSAGES = {
    "pack": "Kotak {label} dicatat dikemas di {place}.",
    "seal": "Kotak {label} dicatat disegel di {place}.",
    "dispatch": "Kotak {label} dicatat keluar dari {place}.",
    "receive": "Kotak {label} dicatat diterima di {place}.",
    "account": "Kotak {label}: perhitungan surat suara dicatat di {place}.",
}
ANOMALY_MESSAGES = {
    "wrong_destination": "SALAH TUJUAN: kotak ini untuk {expected}, bukan {found}.",
    "skipped_hop": "LOMPAT TAHAP: kotak ini belum pernah diterima di {expected}.",
    "receipt_without_dispatch": "TANPA PENGIRIMAN: tidak ada pindai keluar dari {expected}.",
    "seal_missing": "SEGEL HILANG: kotak seharusnya bersegel {expected}.",
    "seal_mismatch": "SEGEL TIDAK COCOK: seharusnya {expected}, ditemukan {found}.",
    "count_short": "JUMLAH KURANG: seharusnya {expected}, terhitung {found}.",
    "count_over": "JUMLAH LEBIH: seharusnya {expected}, terhitung {found}.",
    "damaged": "KONDISI {found}: kotak tidak dalam keadaan {expected}.",
    "wrong_dapil": "SALAH DAPIL (tertukar): surat suara {found}, seharusnya {expected}.",
    "accounting_mismatch": "HITUNGAN TIDAK COCOK: diterima {expected}, "
    "terpakai + rusak + sisa = {found}.",
    "late": "TERLAMBAT: belum sampai di TPS pada batas {expected}; terakhir di {found}.",
    "void_scanned": "KOTAK DIBATALKAN ({expected}): jangan dipakai; dipindai di {found}.",
}


WIB = timezone(timedelta(hours=7), "WIB")


def anomaly_message(anomaly: Anomaly, wilayah: Wilayah) -> str:
    expected = wilayah.place_name(anomaly.expected)
    if anomaly.kind == "late":  # the deadline, as people in Serang read a time
        expected = (
            datetime.fromisoformat(anomaly.expected).astimezone(WIB).strftime("%d-%m-%Y %H:%M %Z")
        )
    return ANOMALY_MESSAGES[anomaly.kind].format(
        expected=expected, found=wilayah.place_name(anomaly.found)
    )
