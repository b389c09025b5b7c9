"""The anomaly queue and the activity feed, a projection of their own: SQLite and PostgreSQL."""

from datetime import UTC, datetime

from services.custody.batch import Scan, evolve
from services.custody.decisions import acknowledge, record_scan, register
from services.settings import Settings
from services.views.anomalies.reducer import ACTIVITY_KEPT
from services.views.anomalies.view import AnomalyView
from services.views.board.view import BoardView
from services.views.database import open_views

T = datetime(2024, 2, 10, 1, 0, tzinfo=UTC)
TPS = "3604052001001"


def events_of_a_box_received_short_then_resealed_many_times(reseals: int):
    events = [
        register(
            label="A", destination=TPS, item="kotak_suara", ballot_type="DPR", quantity=306, at=T
        )
    ]
    scans = [
        Scan(scan_id="out", label="A", action="dispatch", location="36.04", occurred_at=T),
        Scan(
            scan_id="in",
            label="A",
            action="receive",
            location="36.04.05",
            occurred_at=T,
            counted=300,
            officer="Budi",
        ),
        *(
            Scan(
                scan_id=f"seal-{n}",
                label="A",
                action="seal",
                location="36.04.05",
                occurred_at=T,
                seals=[f"S{n}"],
            )
            for n in range(reseals)
        ),
    ]
    batch = evolve(None, events)
    for scan in scans:
        new = record_scan(batch, scan, at=T)
        batch = evolve(batch, new)
        events += new
    anomaly_id = events[3].anomaly_id
    events += acknowledge(evolve(None, events), anomaly_id, "Sari", "dicek", T)
    return list(enumerate(events, start=1)), anomaly_id


def test_the_queue_and_the_feed_are_kept_once_and_the_feed_keeps_its_newest_scans(
    settings: Settings,
):
    notifications, anomaly_id = events_of_a_box_received_short_then_resealed_many_times(
        ACTIVITY_KEPT + 5
    )
    views = open_views(settings)
    try:
        board, view = BoardView(views), AnomalyView(views)
        for projection in (board, view):
            projection.setup()
            projection.apply(notifications[:3], 3)  # the receipt here, its anomaly next time
        touched = board.apply(notifications, len(notifications))
        queued = view.apply(notifications, len(notifications))
        for projection in (board, view):  # delivered again: nothing changes
            again = projection.apply(notifications, len(notifications))
            assert (again.after, again.upto, again.areas) == (len(notifications),) * 2 + ([],)
        # every area of the box's route changed on the board: kabupaten, kecamatan, desa, TPS,
        # and the province and the nation its kabupaten adds up into (their pages listen);
        # in the queue and the feed, the kecamatan its anomaly and scans belong to
        route = {"36.04", "36.04.05", "36.04.05.2001", "3604052001001"}
        assert set(touched.areas) == route | {"36", ""}
        assert queued.areas == ["36.04.05"] and (queued.after, queued.upto) == (
            3,
            len(notifications),
        )

        [row] = view.anomalies(statuses=("open", "acknowledged"), kecamatan="36.04.05")
        assert (row.anomaly_id, row.kind, row.location) == (anomaly_id, "count_short", "36.04.05")
        assert (row.status, row.acknowledged_by, row.changed) == (
            "acknowledged",
            "Sari",
            len(notifications),
        )
        assert view.anomalies() == [] and view.anomalies(kinds=("damaged",), statuses=()) == []
        assert view.anomaly(anomaly_id) == row
        assert view.last_change() == len(notifications)
        assert [r.anomaly_id for r in view.anomalies_changed_after(len(notifications) - 1)] == [
            anomaly_id
        ]

        feed = view.activity(limit=ACTIVITY_KEPT + 10)
        assert len(feed) == ACTIVITY_KEPT  # the oldest scans (the dispatch, the receipt) are gone
        assert feed[0].scan_id == f"seal-{ACTIVITY_KEPT + 4}"
        assert [i.scan_id for i in view.activity(before=feed[0].position, limit=1)] == [
            feed[1].scan_id
        ]
        assert view.activity(label="B") == []
    finally:
        views.close()
