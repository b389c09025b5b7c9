"""One mapper for every application: an event is stored as its msgspec JSON, keyed by its class.

The class's topic (`events.batch:BatchPacked`) says how to decode the bytes, so one mapper serves
the custody store and the accounts' store alike; `MAPPER_TOPIC` selects it and a null transcoder
stands in for the library's own, which has nothing left to do.
"""

from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic

_encoder = msgspec.json.Encoder()
_decoders: dict[str, msgspec.json.Decoder[Any]] = {}


def decoder_of(topic: str) -> msgspec.json.Decoder[Any]:
    """The decoder of one event class, made once."""
    found = _decoders.get(topic)
    if found is None:
        found = _decoders[topic] = msgspec.json.Decoder(resolve_topic(topic))
    return found


class MsgspecMapper(Mapper[UUID]):
    """Stores an event as the bytes msgspec makes of it, under its class's topic."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = _encoder.encode(domain_event)
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
        return decoder_of(stored_event.topic).decode(self.plain_state(stored_event))

    def plain_state(self, stored_event: StoredEvent) -> bytes:
        """The event's JSON as it was stored (decrypted and decompressed)."""
        state = stored_event.state
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return state


class NullTranscoder(Transcoder):
    """The mapper encodes whole events; nothing is left to transcode."""

    def encode(self, obj: Any) -> bytes:
        raise NotImplementedError("events are encoded by MsgspecMapper")

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError("events are decoded by MsgspecMapper")


MAPPER_ENV = {
    "MAPPER_TOPIC": get_topic(MsgspecMapper),
    "TRANSCODER_TOPIC": get_topic(NullTranscoder),
}
