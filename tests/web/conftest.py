"""What the web tests share: the app in a test client, signed in, on SQLite in tmp_path and
without NATS (no test here needs live notices), and its views brought up to date on demand."""

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from litestar.testing import TestClient

from services.custody.batches import Batches, BatchPlan
from services.messaging.server import free_port
from services.settings import Settings
from services.views.anomalies.view import AnomalyView
from services.views.board.view import BoardView
from services.views.database import open_views
from services.views.eventlog import EventLogView
from tests.conftest import settings_env
from tests.data import ONE_TPS_PLANS, REGISTERED, SERANG
from tests.web.projection import project_everything
from tests.web.signin import sign_in
from web.app import create_app


def no_nats() -> str:
    """A NATS address nobody answers: the app keeps trying to connect in the background, as it
    would while NATS is down, and the tests here need no live notices."""
    return f"nats://127.0.0.1:{free_port()}"


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    """SQLite files in tmp_path, and no NATS."""
    (tmp_path / "data").mkdir(exist_ok=True)
    return Settings.from_env(settings_env("sqlite", tmp_path, no_nats(), None))


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Each event store in turn, SQLite then PostgreSQL, and no NATS."""
    schema = request.getfixturevalue("postgres_schema") if request.param == "postgres" else None
    (tmp_path / "data").mkdir(exist_ok=True)
    return Settings.from_env(settings_env(request.param, tmp_path, no_nats(), schema))


class Lacak:
    """The app in a test client signed in as an admin, the custody application it writes to,
    and the views, which `project()` brings up to date as the projections would."""

    def __init__(self, settings: Settings, plans: Sequence[BatchPlan]):
        self.settings = settings
        self.batches = Batches(settings.store, wilayah=SERANG)
        self.batches.register(plans, at=REGISTERED)
        self.views = open_views(settings)
        self.board = BoardView(self.views)
        self.anomalies = AnomalyView(self.views)
        self.event_log = EventLogView(self.views, SERANG)
        for view in (self.board, self.anomalies, self.event_log):
            view.setup()
        self.client = TestClient(create_app(settings, SERANG))

    def project(self) -> None:
        project_everything(self.batches, self.board, self.anomalies, self.event_log)

    def __enter__(self) -> "Lacak":
        self.client.__enter__()
        sign_in(self.client, self.settings)
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.__exit__(*exc)
        self.views.close()
        self.batches.close()


@pytest.fixture
def plans() -> Sequence[BatchPlan]:
    """What the test's store has registered: the first TPS's kit, unless a module says more."""
    return ONE_TPS_PLANS


@pytest.fixture
def lacak(web_settings: Settings, plans: Sequence[BatchPlan]) -> Iterator[Lacak]:
    with Lacak(web_settings, plans) as lacak:
        yield lacak


@pytest.fixture
def client(lacak: Lacak) -> TestClient:
    return lacak.client


@pytest.fixture
def batches(lacak: Lacak) -> Batches:
    return lacak.batches
