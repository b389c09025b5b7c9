"""The published language of Lacak: every custody fact as a frozen msgspec Struct."""

from events.batch import (
    AnomalyAcknowledged,
    AnomalyKind,
    AnomalyRaised,
    AnomalyResolved,
    BallotsAccounted,
    BatchDispatched,
    BatchPacked,
    BatchReceived,
    BatchRegistered,
    BatchSealed,
    Condition,
    Reason,
    ScanAction,
)
from events.codec import Event, decode, encode, subject
from events.masterdata import ElectionDeclared, MasterDataImported, WilayahListed

__all__ = [
    "AnomalyAcknowledged",
    "AnomalyKind",
    "AnomalyRaised",
    "AnomalyResolved",
    "BallotsAccounted",
    "BatchDispatched",
    "BatchPacked",
    "BatchReceived",
    "BatchRegistered",
    "BatchSealed",
    "Condition",
    "ElectionDeclared",
    "Event",
    "MasterDataImported",
    "Reason",
    "ScanAction",
    "WilayahListed",
    "decode",
    "encode",
    "subject",
]
