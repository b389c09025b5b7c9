"""Who wants which notices: subscriptions are events on the accounts' record (who asked, for
what, sent where, the webhook's key), beside the accounts they belong to. The notices process
folds that record as it grows: each subscription, and each account's scope and whether it may
still log in, so an account narrowed or closed hears no more than it may see."""

from collections.abc import Iterator

import msgspec

from events.accounts import (
    AccessEvent,
    SubscriptionAdded,
    SubscriptionEnded,
    UserChanged,
    UserCreated,
    decode_access,
)
from services.notices.rules import Subscription
from services.settings import Settings
from services.store.notifications import ACCOUNTS, read_store


class Account(msgspec.Struct, frozen=True):
    scope: str
    active: bool = True


class Directory:
    """The subscriptions and accounts folded from the accounts' record, read on as it grows."""

    def __init__(self) -> None:
        self.position = 0  # the accounts' record read up to here
        self.subscriptions: dict[str, Subscription] = {}
        self.accounts: dict[str, Account] = {}

    def fold(self, event: AccessEvent) -> None:
        match event:
            case UserCreated():
                self.accounts[event.username] = Account(event.scope)
            case UserChanged():
                self.accounts[event.username] = Account(event.scope, event.active)
            case SubscriptionAdded():
                self.subscriptions[event.subscription] = subscription_of(event)
            case SubscriptionEnded() if event.subscription in self.subscriptions:
                ended = self.subscriptions[event.subscription]
                self.subscriptions[event.subscription] = msgspec.structs.replace(
                    ended, active=False
                )

    def read_on(self, settings: Settings) -> None:
        """Fold what the accounts' record gained since the last read."""
        for position, state in read_store(settings, app=ACCOUNTS, after=self.position):
            self.fold(decode_access(state))
            self.position = position

    def live(self) -> Iterator[tuple[Subscription, str]]:
        """Each subscription still on, with its account's scope now (its account active)."""
        for subscription in self.subscriptions.values():
            account = self.accounts.get(subscription.username)
            if subscription.active and account is not None and account.active:
                yield subscription, account.scope


def subscription_of(event: SubscriptionAdded) -> Subscription:
    return Subscription(
        subscription=event.subscription,
        username=event.username,
        kinds=list(event.kinds),
        area=event.area,
        channel=event.channel,
        target=event.target,
        secret=event.secret,
        since=event.recorded_at,
    )


def subscriptions_from(events: list[AccessEvent]) -> list[Subscription]:
    """A record's subscriptions, oldest first (ended ones too, marked)."""
    directory = Directory()
    for event in events:
        directory.fold(event)
    return sorted(directory.subscriptions.values(), key=lambda s: s.since)
