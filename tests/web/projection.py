"""Bring the views up to date with the event store, with the real projection code, no NATS."""

from services.batches import Batches
from services.board import BoardView


def project_everything(batches: Batches, board: BoardView) -> None:
    notifications = batches.recorder.select_notifications(
        board.stream_sequence() + 1, 10_000
    )  # in these tests the stream sequence and the notification id go together
    if notifications:
        board.apply(
            [(n.id, batches.mapper.to_domain_event(n)) for n in notifications], notifications[-1].id
        )
