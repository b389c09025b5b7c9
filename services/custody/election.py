"""The election record: its name and voting day, and from them each kabupaten's H-1 deadline."""

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time
from uuid import UUID, uuid5

import msgspec

from events import ElectionDeclared
from services.custody.batch import LABEL_NAMESPACE
from services.store.application import StoreApplication
from services.wilayah import local_time_of


class Election(msgspec.Struct, frozen=True, kw_only=True):
    election: str
    name: str
    voting_day: date

    def h1_deadline(self, kabupaten: str) -> datetime:
        """The end of H-1 where the kabupaten is: midnight before voting day, local time."""
        return datetime.combine(self.voting_day, time(0, 0), tzinfo=local_time_of(kabupaten))


def h1_where(deadline: datetime, code: str) -> datetime:
    """An H-1 deadline (midnight before voting day, somewhere) as it falls where the area is:
    the same midnight on that province's clock."""
    return deadline.replace(tzinfo=local_time_of(code))


def election_id(election: str) -> UUID:
    return uuid5(LABEL_NAMESPACE, f"election/{election}")


def declare(
    *, election: str, name: str, voting_day: date, by: str, last_version: int, at: datetime
) -> ElectionDeclared:
    return ElectionDeclared(
        originator_id=election_id(election),
        originator_version=last_version + 1,
        election=election,
        name=name,
        voting_day=voting_day,
        declared_by=by,
        occurred_at=at,
        recorded_at=at,
    )


def election_from(events: Iterable[object]) -> Election | None:
    """The election as last declared (None before any declaration)."""
    election = None
    for event in events:
        if isinstance(event, ElectionDeclared):
            election = Election(
                election=event.election, name=event.name, voting_day=event.voting_day
            )
    return election


class Elections:
    """The election record in the custody store: declared, and read as last declared."""

    def __init__(
        self, store: StoreApplication, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ):
        self.store = store
        self.clock = clock

    def declare(self, election: str, name: str, voting_day: date, by: str) -> Election:
        """Record the election (or a moved voting day); the latest declaration stands."""
        declared = declare(
            election=election,
            name=name,
            voting_day=voting_day,
            by=by,
            last_version=self.store.last_version(election_id(election)),
            at=self.clock(),
        )
        self.store.append(declared)  # declared at the same moment elsewhere: IntegrityError
        return Election(election=election, name=name, voting_day=voting_day)

    def get(self, election: str) -> Election | None:
        """The election as last declared, or None."""
        return election_from(self.store.events.get(election_id(election)))
