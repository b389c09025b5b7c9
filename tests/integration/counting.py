"""Board totals counted straight from the event store, independently of the projection code."""

from collections import Counter

from eventsourcing.persistence import ApplicationRecorder

import events


def count_from_event_store(recorder: ApplicationRecorder) -> dict[str, tuple[int, int, int, int]]:
    """kecamatan -> (planned, dispatched, received, open anomalies), from every stored event."""
    registered: dict[str, str] = {}
    dispatched: set[str] = set()
    received: set[str] = set()
    open_anomalies: Counter[str] = Counter()
    start = 0
    while notifications := recorder.select_notifications(start, 1000, inclusive_of_start=False):
        for n in notifications:
            event = events.decode(n.state)
            batch = str(event.originator_id)
            kind = type(event).__name__
            if kind == "BatchRegistered":
                registered[batch] = event.destination[:6]
            elif kind == "BatchDispatched":
                dispatched.add(batch)
            elif kind == "BatchReceived":
                received.add(batch)
            elif kind == "AnomalyRaised":
                open_anomalies[batch] += 1
            elif kind == "AnomalyResolved":
                open_anomalies[batch] -= 1
        start = notifications[-1].id
    totals: Counter[tuple[str, str]] = Counter()
    for batch, tps_prefix in registered.items():
        kecamatan = f"{tps_prefix[:2]}.{tps_prefix[2:4]}.{tps_prefix[4:6]}"
        totals[(kecamatan, "p")] += 1
        totals[(kecamatan, "d")] += batch in dispatched or batch in received
        totals[(kecamatan, "r")] += batch in received
        totals[(kecamatan, "a")] += open_anomalies[batch]
    return {k: tuple(totals[(k, c)] for c in "pdra") for k, _ in totals}  # type: ignore[misc]


def count_notifications(recorder: ApplicationRecorder) -> int:
    count, start = 0, 0
    while notifications := recorder.select_notifications(start, 1000, inclusive_of_start=False):
        count += len(notifications)
        start = notifications[-1].id
    return count
