"""The election record: its name and voting day, and from them each kabupaten's H-1 deadline."""

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta, timezone
from uuid import UUID, uuid5

import msgspec

from events import ElectionDeclared
from services.bahasa import WIB
from services.custody.batch import LABEL_NAMESPACE
from services.store.application import StoreApplication

WITA = timezone(timedelta(hours=8), "WITA")
WIT = timezone(timedelta(hours=9), "WIT")
# Indonesia's three time zones by province code (Kemendagri); every other province is on WIB.
WITA_PROVINCES = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
WIT_PROVINCES = {"81", "82", "91", "92", "93", "94", "95", "96"}


def local_time_of(kabupaten: str) -> timezone:
    """The time people keep in a kabupaten: `36.04` (Banten) -> WIB, `51.71` (Bali) -> WITA."""
    province = kabupaten[:2]
    if province in WITA_PROVINCES:
        return WITA
    if province in WIT_PROVINCES:
        return WIT
    return WIB


class Election(msgspec.Struct, frozen=True, kw_only=True):
    election: str
    name: str
    voting_day: date

    def h1_deadline(self, kabupaten: str) -> datetime:
        """The end of H-1 where the kabupaten is: midnight before voting day, local time."""
        return datetime.combine(self.voting_day, time(0, 0), tzinfo=local_time_of(kabupaten))


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
