"""The custody application: loads a batch, decides, saves; the event store is the only truth.

Scans go through the process's commit queue (`commit.py`): the scans that arrive together are
decided on the batches' states (kept in a cache, loaded in one query when missing) and saved in
one transaction. The cache may be behind the store when another process saved first: the
version check of the insert says so, and only the commands on those batches are decided again,
on fresh state. The other commands go load -> decide -> save through `_retry`, which decides
again on fresh state when another device saved one of its batches first.
"""

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from datetime import UTC, datetime, tzinfo
from typing import Literal, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from events import Event, ScanAction
from services import bahasa
from services.custody.batch import Anomaly, Batch, Scan, ScanRecord, batch_id, evolve
from services.custody.commit import CommitQueue, Pending
from services.custody.decisions import (
    acknowledge,
    correct_scan,
    flag_late,
    record_scan,
    register,
    replace_batch,
    resolve,
    void_batch,
    void_scan,
)
from services.custody.errors import (
    ConflictError,
    LabelTakenError,
    NoMasterDataError,
    UnknownAnomalyError,
    UnknownLabelError,
    UnknownLocationError,
    UnknownScanEventError,
)
from services.custody.labels import kabupaten_of_label, make_label, parse_label
from services.errors import DomainError
from services.store.application import StoreApplication
from services.wilayah import Places, local_time_of

SAVE_ATTEMPTS = 5  # a scan decided again in its group commit at most this often
# A command saved again after a conflict: pauses of up to 2, 4, 8 ... 256 ms between attempts
# (about 0.25 s waited on average before the 409). Two processes recording 40 tallies on one
# gudang at once: without pauses a command was refused in 2 of 6 runs; with them, in none of 25
# (10 of those with both cores kept busy).
RETRY_ATTEMPTS = 8
RETRY_PAUSE_SECONDS = 0.002
COMMIT_WAIT_SECONDS = 0.002  # a group waits this long for company after its first scan
COMMIT_MOST = 500  # scans in one group (a queue upload of 1,000 is a group of its own)
CACHE_SIZE = 20_000  # batches' states kept in the process, the least recently used let go
# Replacement batches take serials from here up, after the kit plan's (a kabupaten's plan stays far
# below half of the 32^4 serials a label holds).
REPLACEMENT_SERIALS = (32**4 // 2, 32**4)
T = TypeVar("T")


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


class Decided(msgspec.Struct, frozen=True, kw_only=True):
    """A command of a group, decided: its events, its answers, its batches' states after it."""

    events: list[Event]
    results: list[ScanResult]
    states: dict[UUID, Batch]


class BatchPlan(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    destination: str
    item: str
    ballot_type: str
    quantity: int
    dapil: str = ""


class Batches(StoreApplication):
    """Custody commands on batches. Its name, `Batches`, names the custody store's table
    (`batches_events`) and the relay's message ids (`Batches:<notification id>`)."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        wilayah: Places | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        commit_wait: float = COMMIT_WAIT_SECONDS,
        cache_size: int = CACHE_SIZE,
    ):
        super().__init__(env)
        self.wilayah = wilayah
        self.clock = clock
        self.cache: dict[UUID, Batch] = {}  # oldest use first
        self.cache_size = cache_size
        self.cache_lock = threading.Lock()
        self.queue: CommitQueue[list[Scan], list[ScanResult]] = CommitQueue(
            self._commit_group, wait=commit_wait, most=COMMIT_MOST
        )
        self.redecided = 0  # commands decided again after a conflict, for the tests and metrics

    def close(self) -> None:
        self.queue.close()
        super().close()

    def record(self, *new_events: Event, actor: Actor = NOBODY) -> None:
        """Append events in one transaction (IntegrityError if a version is taken); every event
        a command makes says who sent it."""
        if actor != NOBODY:
            replace = msgspec.structs.replace
            new_events = tuple(replace(e, user=actor.user, device=actor.device) for e in new_events)  # type: ignore[arg-type,misc]
        try:
            self.append(*new_events)
        finally:  # saved or not, the cached states of these batches may be behind now
            with self.cache_lock:
                for event in new_events:
                    self.cache.pop(event.originator_id, None)

    def register(self, plans: Sequence[BatchPlan], at: datetime | None = None) -> int:
        """Register planned batches in one transaction (now, or `at`); a label already taken
        refuses them all."""
        at = at or self.clock()
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
        return self.last_version(batch_id(label)) > 0

    def batch(self, label: str) -> Batch:
        try:
            return self.repository.get(batch_id(parse_label(label)), projector_func=evolve)
        except AggregateNotFoundError:
            raise UnknownLabelError(label) from None

    def history(self, label: str) -> list[Event]:
        """Every event of the batch, oldest first."""
        found = self.stream_of(batch_id(parse_label(label)))
        if not found:
            raise UnknownLabelError(label)
        return found

    def scan(self, scan: Scan) -> ScanResult:
        """Record a scan where it happened; a retry of the same scan id records nothing."""
        return self.scan_many([scan])[0]

    def scan_many(self, scans: Sequence[Scan]) -> list[ScanResult]:
        """A queue of scans (a device back online, a truck load) decided in order and kept in one
        transaction: all of them, or, if one is refused, none."""
        self._check_places(scans)
        return self.queue.call(list(scans), len(scans))

    def submit(self, scans: Sequence[Scan]) -> "Future[list[ScanResult]]":
        """Hand the scans to the commit queue as one command (all or none); the future has
        their answers once they are committed, or the error that refused them: what the web's
        event loop waits on."""
        self._check_places(scans)
        return self.queue.submit(list(scans), len(scans))

    def _check_places(self, scans: Sequence[Scan]) -> None:
        wilayah = self._wilayah()
        for scan in scans:
            for place in (scan.location, scan.to):
                if place and not wilayah.is_location(place):
                    raise UnknownLocationError(place)

    def _commit_group(self, group: Sequence[Pending[list[Scan], list[ScanResult]]]) -> None:
        """Decide every command of the group in order and save all their events in one
        transaction; answer each once committed. A command refused fails alone. When another
        process saved one of the batches first, only the commands on it (and those after them
        on the batches they touch) are decided again, on fresh state."""
        wilayah = self._wilayah()
        touched: dict[int, set[UUID]] = {}
        for i, item in enumerate(group):
            try:
                touched[i] = {batch_id(parse_label(scan.label)) for scan in item.command}
            except DomainError as refused:
                item.future.set_exception(refused)
        decided: dict[int, Decided] = {}
        attempts = dict.fromkeys(touched, 0)
        stale: set[UUID] = set()  # batches the store held newer than this process knew
        while True:
            live = [i for i in touched if not group[i].future.done()]
            base = self._states(set().union(*(touched[i] for i in live)))
            working, events, tainted = dict(base), [], set(stale)
            for i in live:
                kept = decided.get(i)
                if kept is None or touched[i] & tainted:
                    attempts[i] += 1
                    self.redecided += kept is not None
                    tainted |= touched[i]  # what comes after it on these batches: again too
                    if attempts[i] > SAVE_ATTEMPTS:
                        group[i].future.set_exception(ConflictError(group[i].command[0].label))
                        decided.pop(i, None)
                        continue
                    try:
                        kept = decided[i] = self._decide_scans(group[i].command, working, wilayah)
                    except DomainError as refused:
                        group[i].future.set_exception(refused)
                        decided.pop(i, None)
                        continue
                working.update(kept.states)
                events += kept.events
            try:
                self.append(*events)
            except IntegrityError:
                stale = self._behind(base)
                continue
            self._remember({b: working[b] for i in decided for b in touched[i] if b in working})
            for i, kept in decided.items():
                if not group[i].future.done():
                    group[i].future.set_result(kept.results)
            return

    def _decide_scans(
        self, scans: Sequence[Scan], states: Mapping[UUID, Batch | None], wilayah: Places
    ) -> "Decided":
        """One command's scans decided in order on `states`: the events and answers."""
        new: dict[UUID, Batch] = {}
        new_events: list[Event] = []
        for scan in scans:
            key = batch_id(parse_label(scan.label))
            batch = new.get(key) or states.get(key)
            if batch is None:
                raise UnknownLabelError(scan.label)
            decided = record_scan(batch, scan, at=self.clock())
            new[key] = evolved(batch, decided)
            new_events += decided
        results = [
            scan_result(new[batch_id(parse_label(s.label))], s.scan_id, wilayah) for s in scans
        ]
        return Decided(events=new_events, results=results, states=new)

    def _states(self, keys: set[UUID]) -> dict[UUID, Batch | None]:
        """The batches' states: from the cache, or from the store in one query; None for a
        batch never registered."""
        states: dict[UUID, Batch | None] = {}
        with self.cache_lock:
            for key in keys:
                if (cached := self.cache.get(key)) is not None:
                    states[key] = cached
        missing = keys - states.keys()
        if missing:
            states.update(self._load(missing))
        return states

    def _behind(self, base: Mapping[UUID, Batch | None]) -> set[UUID]:
        """After a version conflict: the batches the store holds newer than `base` (all of
        them if none is: the conflict was not of a version this process can see). Their fresh
        states are what the cache holds now, for the next round."""
        fresh = self._load(set(base))
        behind = {
            key
            for key, batch in base.items()
            if (fresh[key].version if fresh[key] else 0) != (batch.version if batch else 0)
        }
        return behind or set(base)

    def _load(self, keys: set[UUID]) -> dict[UUID, Batch | None]:
        """The batches' states from the store, in one query, remembered."""
        streams = self.streams_of(keys)
        loaded = {key: evolve(None, streams.get(key, [])) for key in keys}
        self._remember({key: batch for key, batch in loaded.items() if batch is not None})
        return loaded

    def _remember(self, states: Mapping[UUID, Batch]) -> None:
        with self.cache_lock:
            for key, batch in states.items():
                self.cache.pop(key, None)
                self.cache[key] = batch
            while len(self.cache) > self.cache_size:
                del self.cache[next(iter(self.cache))]

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

        def attempt() -> AnomalyState:
            batch, at = self.batch(label), self.clock()
            found = batch.anomalies.get(anomaly_id)
            if found is not None and found.status == "resolved":
                return anomaly_state(found)  # a retry, or someone else was first
            new_label = self.next_replacement_label(batch.label)
            new_events = resolve(batch, anomaly_id, by, note, at, replacement=new_label)
            if replacement.void_original:
                words = bahasa.REPLACED_REASON_NOTE if note else bahasa.REPLACED_REASON
                reason = words.format(label=new_label, note=note)
                resolved = evolved(batch, new_events)
                new_events += void_batch(resolved, reason, by, at, replaced_by=new_label)
            new_events.append(replace_batch(batch, new_label, replacement.quantity, at))
            self.record(*new_events, actor=actor)  # taken meanwhile: IntegrityError, again
            return anomaly_state(evolved(batch, new_events[:-1]).anomalies[anomaly_id])

        return retried(attempt, label)

    def next_replacement_label(self, label: str) -> str:
        """The first free replacement serial of the label's kabupaten (they are taken in order)."""
        kabupaten = kabupaten_of_label(label)
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
        wilayah = self._wilayah()
        if not wilayah.is_location(scan.location):
            raise UnknownLocationError(scan.location)
        if parse_label(scan.label) != parse_label(label):
            raise UnknownScanEventError(label, version)  # a correction stays on its own batch
        batch = self._decide(
            label, lambda batch, at: correct_scan(batch, version, scan, reason, by, at), actor
        )
        return scan_result(batch, scan.scan_id, wilayah)

    def _wilayah(self) -> Places:
        if self.wilayah is None:
            raise NoMasterDataError()
        return self.wilayah

    def _decide(
        self,
        label: str,
        decide: Callable[[Batch, datetime], list[Event]],
        actor: Actor = NOBODY,
    ) -> Batch:
        """Load, decide, save one batch."""

        def attempt() -> Batch:
            batch = self.batch(label)
            new_events = decide(batch, self.clock())
            self.record(*new_events, actor=actor)
            return evolved(batch, new_events)

        return retried(attempt, label)


def retried(attempt: Callable[[], T], key: str, said: str = bahasa.CONFLICT) -> T:
    """Run `attempt` (load, decide, save); when another device or process saved first on the
    same stream (IntegrityError), run it again on fresh state after a random pause that doubles
    each time (writers that collided once do not collide again in step), then give up with a
    409 saying `said` of `key`. The one retry of every application on the custody store
    (batches, gudang, findings)."""
    for n in range(RETRY_ATTEMPTS):
        try:
            return attempt()
        except IntegrityError:
            if n < RETRY_ATTEMPTS - 1:
                time.sleep(random.uniform(0, RETRY_PAUSE_SECONDS * 2**n))
    raise ConflictError(key, said)


def evolved(batch: Batch, new_events: Sequence[Event]) -> Batch:
    after = evolve(batch, new_events)
    assert after is not None
    return after


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


def scan_result(batch: Batch, scan_id: str, wilayah: Places) -> ScanResult:
    record = batch.scans[scan_id]
    place = wilayah.place_name(record.location)
    message = bahasa.ACTION_MESSAGES[record.action].format(label=batch.label, place=place)
    if record.repeats:  # a double read: the first scan stands, and says when it was
        first = batch.scan_at(record.repeats)
        at = first[1].occurred_at if first else record.occurred_at
        time = at.astimezone(local_time_of(batch.destination)).strftime("%H:%M %Z, %d-%m-%Y")
        message = bahasa.REPEAT_MESSAGES[record.action].format(
            label=batch.label, place=place, time=time
        )
    warnings = [
        anomaly_message(batch.anomalies[anomaly_id], wilayah, batch.destination)
        for anomaly_id in record.anomalies
    ]
    if record.action == "dispatch" and not record.repeats and unsealed_from_gudang(batch, record):
        warnings.append(bahasa.UNSEALED_DISPATCH.format(place=place))
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


def unsealed_from_gudang(batch: Batch, record: ScanRecord) -> bool:
    """A kotak suara leaving the gudang with no seal on the record: the answer warns of it."""
    return batch.item == "kotak_suara" and record.location == batch.route[0] and not batch.seals


def anomaly_message(anomaly: Anomaly, wilayah: Places, destination: str = "") -> str:
    """The anomaly as the officer reads it: what was expected, what was found, in Bahasa."""
    expected, found = wilayah.place_name(anomaly.expected), wilayah.place_name(anomaly.found)
    zone = local_time_of(destination or wilayah.code)
    if anomaly.kind in ("late", "clock_backwards"):  # times, as people there read them
        expected = local_moment(anomaly.expected, zone)
    if anomaly.kind == "clock_backwards":
        found = local_moment(anomaly.found, zone)
    if anomaly.kind == "seal_mismatch" and anomaly.expected == "-":
        return bahasa.NEVER_SEALED.format(found=found)
    if anomaly.kind == "wrong_dapil" and anomaly.found == "-":
        return bahasa.WRONG_DAPIL_UNNAMED.format(expected=expected)
    message = bahasa.ANOMALY_MESSAGES[anomaly.kind].format(expected=expected, found=found)
    if anomaly.kind == "wrong_destination" and destination and destination != anomaly.expected:
        message = message[:-1] + bahasa.BOUND_FOR.format(tps=wilayah.place_name(destination)) + "."
    return message


def local_moment(iso: str, zone: tzinfo) -> str:
    return datetime.fromisoformat(iso).astimezone(zone).strftime("%d-%m-%Y %H:%M %Z")
