"""Refusals of a custody command: nothing is recorded, and the person is told why in Bahasa."""

from datetime import datetime

from services import bahasa
from services.errors import DomainError


class UnknownLabelError(DomainError):
    def __init__(self, label: str):
        super().__init__(bahasa.UNKNOWN_LABEL.format(label=label))
        self.label = label


class UnknownLocationError(DomainError):
    def __init__(self, location: str):
        super().__init__(bahasa.UNKNOWN_LOCATION.format(location=location))
        self.location = location


class ImpossibleTimeError(DomainError):
    def __init__(self, occurred_at: datetime):
        super().__init__(bahasa.IMPOSSIBLE_TIME.format(at=occurred_at.isoformat()))
        self.occurred_at = occurred_at


class UnknownAnomalyError(DomainError):
    def __init__(self, anomaly_id: str):
        super().__init__(bahasa.UNKNOWN_ANOMALY.format(anomaly_id=anomaly_id))
        self.anomaly_id = anomaly_id


class MissingDetailError(DomainError):
    def __init__(self, detail: str):
        super().__init__(bahasa.MISSING_DETAIL.format(detail=detail))


class UnknownScanEventError(DomainError):
    def __init__(self, label: str, version: int):
        super().__init__(bahasa.UNKNOWN_SCAN_EVENT.format(label=label, version=version))
        self.label = label
        self.version = version


class LabelTakenError(DomainError):
    def __init__(self, label: str):
        super().__init__(bahasa.LABEL_TAKEN.format(label=label))
        self.label = label


class LabelMisreadError(DomainError):
    """A label that cannot be ours: mistyped, misread, or not a Lacak label."""

    def __init__(self, raw: str, reason: str):
        super().__init__(bahasa.LABEL_MISREAD.format(raw=raw, reason=reason))
        self.raw = raw


class NoMasterDataError(DomainError):
    def __init__(self) -> None:
        super().__init__(bahasa.NO_MASTER_DATA)


class ConflictError(DomainError):
    def __init__(self, key: str, said: str = bahasa.CONFLICT):
        super().__init__(said.format(key=key))
