"""Bring views up to date with the event store, with the real projection code, no NATS."""

from services.custody.batches import Batches
from services.views.projection import Projection


def project_everything(batches: Batches, *projections: Projection) -> None:
    """Apply every stored event past each projection's position, as its runner would."""
    for projection in projections:
        notifications = batches.recorder.select_notifications(
            projection.stream_sequence() + 1, 10_000
        )  # in these tests the stream sequence and the notification id go together
        if notifications:
            projection.apply(
                [(n.id, projection.decode(batches.mapper.plain_state(n))) for n in notifications],
                notifications[-1].id,
            )
