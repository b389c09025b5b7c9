"""Board totals counted straight from the event store, independently of the projection code."""

from collections import Counter
from datetime import datetime

from eventsourcing.persistence import ApplicationRecorder

import events


def count_from_event_store(recorder: ApplicationRecorder) -> dict[str, tuple[int, ...]]:
    """kecamatan -> (planned, dispatched, received, open anomalies, then how many are now at
    the gudang, in transit, at a PPK, at a PPS, at a TPS, returned), from every stored event."""
    registered: dict[str, str] = {}
    now_at: dict[str, str] = {}
    been_at_tps: set[str] = set()
    moved_at: dict[str, datetime] = {}
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
                now_at[batch] = "g"
            elif kind in ("BatchDispatched", "BatchReceived"):
                (received if kind == "BatchReceived" else dispatched).add(batch)
                dots = event.location.count(".")
                if kind == "BatchReceived" and dots == 0:  # a 13-digit TPS code
                    been_at_tps.add(batch)
                if batch in moved_at and event.occurred_at < moved_at[batch]:
                    continue  # synced late: it was already further along by the device clocks
                moved_at[batch] = event.occurred_at
                if kind == "BatchDispatched":
                    now_at[batch] = "t"
                elif dots == 0:
                    now_at[batch] = "s"
                elif dots == 1:
                    now_at[batch] = "x" if batch in been_at_tps else "g"
                else:
                    now_at[batch] = "k" if dots == 2 else "v"
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
        totals[(kecamatan, now_at[batch])] += 1
    return {k: tuple(totals[(k, c)] for c in "pdragtkvsx") for k, _ in totals}


def count_notifications(recorder: ApplicationRecorder) -> int:
    count, start = 0, 0
    while notifications := recorder.select_notifications(start, 1000, inclusive_of_start=False):
        count += len(notifications)
        start = notifications[-1].id
    return count
