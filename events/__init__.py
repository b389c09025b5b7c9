"""The published language of Lacak: every custody fact as a frozen msgspec Struct."""

from events.batch import (
    AnomalyAcknowledged,
    AnomalyKind,
    AnomalyRaised,
    AnomalyResolved,
    BatchDispatched,
    BatchReceived,
    BatchRegistered,
    ScanAction,
)
from events.codec import Event, decode, encode, subject

__all__ = [
    "AnomalyAcknowledged",
    "AnomalyKind",
    "AnomalyRaised",
    "AnomalyResolved",
    "BatchDispatched",
    "BatchReceived",
    "BatchRegistered",
    "Event",
    "ScanAction",
    "decode",
    "encode",
    "subject",
]
