"""The one codec for events: the event store's state bytes and NATS payloads are the same JSON."""

import msgspec

from events.batch import (
    AnomalyAcknowledged,
    AnomalyRaised,
    AnomalyResolved,
    BatchDispatched,
    BatchPacked,
    BatchReceived,
    BatchRegistered,
    BatchSealed,
)

Event = (
    BatchRegistered
    | BatchPacked
    | BatchSealed
    | BatchDispatched
    | BatchReceived
    | AnomalyRaised
    | AnomalyAcknowledged
    | AnomalyResolved
)

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Event)


def encode(event: Event) -> bytes:
    return _encoder.encode(event)


def decode(data: bytes) -> Event:
    return _decoder.decode(data)


def subject(event: Event) -> str:
    """NATS subject `lacak.events.<kab>.<kec>.<EventName>`, from the destination TPS code."""
    tps = event.destination
    return f"lacak.events.{tps[:4]}.{tps[:6]}.{type(event).__name__}"
