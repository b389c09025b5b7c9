"""Web replicas and projectors starting at once set up the same views at the same moment: on
PostgreSQL none of them may fail (seen with `lacak cluster`: a replica died of a deadlock in its
setup and had to be started again)."""

import threading

from services.settings import Settings
from services.views.anomalies.view import AnomalyView
from services.views.board.view import BoardView
from services.views.database import open_views
from services.views.eventlog import EventLogView
from services.views.ledger import AccessLedgerView, LedgerView
from tests.data import SERANG

PROCESSES = 6


def test_many_parts_set_up_the_views_at_once(settings: Settings):
    barrier = threading.Barrier(PROCESSES)
    failures: list[BaseException] = []

    def start() -> None:
        db = open_views(settings)  # each its own connections, as each process has
        try:
            parts = [BoardView(db), AnomalyView(db), EventLogView(db, SERANG), LedgerView(db)]
            parts.append(AccessLedgerView(db))
            barrier.wait()
            for view in parts:
                view.setup()
        except BaseException as error:  # collected: the test fails with it
            failures.append(error)
        finally:
            db.close()

    threads = [threading.Thread(target=start) for _ in range(PROCESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
