"""The custody application: loads a batch, decides, saves; the event store is the only truth."""

import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
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
from events import ScanAction
from services.domain import (
    Batch,
    DomainError,
    LabelTakenError,
    Scan,
    ScanRecord,
    UnknownLabelError,
    UnknownLocationError,
    batch_id,
    evolve,
    record_scan,
    register,
)
from services.labels import parse_label
from services.wilayah import Wilayah

SAVE_ATTEMPTS = 5
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
        state = stored_event.state
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return events.decode(state)


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
    message: str


class BatchPlan(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    destination: str
    item: str
    ballot_type: str
    quantity: int


class Batches(Application[UUID]):
    env = {  # noqa: RUF012 (the library reads this class attribute)
        "MAPPER_TOPIC": get_topic(MsgspecMapper),
        "TRANSCODER_TOPIC": get_topic(NullTranscoder),
    }

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        wilayah: Wilayah,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        retry_setup(lambda: super(Batches, self).__init__(dict(env) if env is not None else None))
        self.wilayah = wilayah
        self.clock = clock

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
                at=at,
            )
            for plan in plans
        ]
        try:
            self.save(*registered)
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

    def scan(self, scan: Scan) -> ScanResult:
        """Record a scan where it happened; a retry of the same scan id records nothing."""
        if not self.wilayah.is_location(scan.location):
            raise UnknownLocationError(scan.location)
        for _ in range(SAVE_ATTEMPTS):
            batch = self.batch(scan.label)
            new_events = record_scan(batch, scan, at=self.clock())
            try:
                self.save(*new_events)
            except IntegrityError:
                continue  # another device saved this batch first: decide again
            batch = evolve(batch, new_events)
            assert batch is not None
            return scan_result(batch, scan.scan_id, batch.scans[scan.scan_id])
        raise ConflictError(scan.label)


def scan_result(batch: Batch, scan_id: str, record: ScanRecord) -> ScanResult:
    if record.action == "dispatch":
        message = f"Kotak {batch.label} dicatat keluar dari {record.location}."
    else:
        message = f"Kotak {batch.label} dicatat diterima di {record.location}."
    return ScanResult(
        scan_id=scan_id,
        label=batch.label,
        action=record.action,
        location=record.location,
        destination=batch.destination,
        occurred_at=record.occurred_at,
        recorded_at=record.recorded_at,
        message=message,
    )
