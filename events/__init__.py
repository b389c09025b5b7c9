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
    BatchVoided,
    Condition,
    Reason,
    ScanAction,
    ScanRepeated,
    ScanVoided,
)
from events.codec import Event, decode, encode, subject
from events.masterdata import (
    ElectionDeclared,
    KabupatenIndexed,
    MasterDataImported,
    WilayahListed,
)

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
    "BatchVoided",
    "Condition",
    "ElectionDeclared",
    "Event",
    "KabupatenIndexed",
    "MasterDataImported",
    "Reason",
    "ScanAction",
    "ScanRepeated",
    "ScanVoided",
    "WilayahListed",
    "decode",
    "encode",
    "subject",
]
