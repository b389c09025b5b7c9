"""Health and metrics: `/healthz` (the process answers), `/readyz` (the store and NATS answer and
no projection is too far behind: a load balancer sends this replica traffic) and `/metrics`
(Prometheus: request latency, scans accepted, live-page clients, and how far the relay and each
projection are behind the event store, in events and seconds).

The lags are read from the store, the views and the `LACAK` stream, at most every
`SNAPSHOT_SECONDS`, however often a balancer or Prometheus asks. All three answer without a
login: they hold counts and timings, never a place, a label or a name.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.types import ASGIApp, Receive, Scope, Send
from nats.errors import Error as NatsError
from nats.js.errors import NotFoundError
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from services.messaging.nats import NATS_DOWN, connect_once
from services.messaging.relay import last_relayed
from services.settings import Settings
from services.store.application import STORE_DOWN
from services.store.notifications import (
    ACCOUNTS,
    CUSTODY,
    first_after,
    last_stored,
    store_answers,
)
from services.views.projection import Projection

SNAPSHOT_SECONDS = 2.0
PROBE_SECONDS = 3.0  # the most a health answer waits for the store or NATS
DOWN = "tidak menjawab"
T = TypeVar("T")
log = logging.getLogger(__name__)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Lag(msgspec.Struct, frozen=True):
    events: int  # recorded in the store and not yet through
    seconds: float  # since the oldest of them was recorded (0: none waits)


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    store: str  # "ok", or what failed
    nats: str
    relay: Lag | None  # None: NATS did not answer
    projections: dict[str, Lag]
    taken: float  # time.monotonic()


def lag_of(settings: Settings, position: int, last: int, app: str, now: datetime) -> Lag:
    if position >= last:
        return Lag(0, 0.0)
    first = first_after(settings, position, app)
    if first is None:
        return Lag(last - position, 0.0)
    recorded = datetime.fromisoformat(msgspec.json.decode(first[1])["recorded_at"])
    return Lag(last - position, max(0.0, (now - recorded).total_seconds()))


class Health:
    """What `/readyz` and `/metrics` report, read at most every `SNAPSHOT_SECONDS`."""

    def __init__(self, settings: Settings, projections: list[tuple[Projection, str]]):
        self.settings = settings
        self.projections = projections  # each with the store it follows (CUSTODY, ACCOUNTS)
        self.last: Snapshot | None = None
        self.lock: asyncio.Lock | None = None  # made in the loop that uses it

    async def snapshot(self) -> Snapshot:
        self.lock = self.lock or asyncio.Lock()
        async with self.lock:
            if self.last is None or time.monotonic() - self.last.taken >= SNAPSHOT_SECONDS:
                self.last = await self.take()
            return self.last

    async def take(self) -> Snapshot:
        """The store and NATS asked at once, each for at most `PROBE_SECONDS`: a peer away makes
        the answer "tidak menjawab" (the detail goes to the log; the endpoints are public)."""
        lags, relayed = await asyncio.gather(
            within(asyncio.to_thread(self.projection_lags), "store"),
            within(self.relayed(), "NATS"),
        )
        store, nats = ("ok" if lags is not None else DOWN), ("ok" if relayed is not None else DOWN)
        relay = None
        if relayed is not None and lags is not None:
            relay = await within(asyncio.to_thread(self.lag, relayed, CUSTODY), "store")
            store = "ok" if relay is not None else DOWN
        return Snapshot(
            store=store, nats=nats, relay=relay, projections=lags or {}, taken=time.monotonic()
        )

    def lag(self, position: int, app: str) -> Lag:
        now = datetime.now(UTC)
        return lag_of(self.settings, position, last_stored(self.settings, app), app, now)

    def projection_lags(self) -> dict[str, Lag]:
        store_answers(self.settings)
        lasts = {app: last_stored(self.settings, app) for app in (CUSTODY, ACCOUNTS)}
        now = datetime.now(UTC)
        return {
            view.name: lag_of(self.settings, view.least_position(), lasts[app], app, now)
            for view, app in self.projections
        }

    async def relayed(self) -> int:
        """The relay's position as the `LACAK` stream holds it (0: no stream yet)."""
        nc = await connect_once(self.settings.nats_url, timeout=PROBE_SECONDS / 2)
        try:
            return await last_relayed(nc.jetstream(timeout=PROBE_SECONDS / 2))
        except NotFoundError:  # no stream yet: the relay has not begun
            return 0
        finally:
            with contextlib.suppress(*NATS_DOWN):
                await nc.close()

    def ready(self, snapshot: Snapshot) -> list[str]:
        """Why this replica should get no traffic (none: it is ready)."""
        why = []
        if snapshot.store != "ok":
            why.append(f"penyimpanan {snapshot.store}")
        if snapshot.nats != "ok":
            why.append(f"NATS {snapshot.nats}")
        bound = self.settings.ready_lag_seconds
        for name, lag in [("relay", snapshot.relay), *snapshot.projections.items()]:
            if lag is not None and lag.seconds > bound:
                why.append(f"{name} tertinggal {lag.events} peristiwa, {lag.seconds:.0f} detik")
        return why


async def within(work: Awaitable[T], peer: str) -> T | None:
    """`work`'s answer, or None (logged) when its peer fails or takes over `PROBE_SECONDS`."""
    try:
        return await asyncio.wait_for(work, PROBE_SECONDS)
    except (*STORE_DOWN, *NATS_DOWN, NatsError) as error:
        log.warning("health: %s does not answer: %s", peer, error or type(error).__name__)
        return None


class LagCollector(Collector):
    """The last snapshot's lags as gauges (`/metrics` takes a fresh one before it collects)."""

    def __init__(self, health: Health):
        self.health = health

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self.health.last
        events = GaugeMetricFamily(
            "lacak_lag_events",
            "Events recorded in the store and not yet through the relay or a projection",
            labels=["part"],
        )
        seconds = GaugeMetricFamily(
            "lacak_lag_seconds",
            "Age of the oldest event not yet through the relay or a projection",
            labels=["part"],
        )
        up = GaugeMetricFamily(
            "lacak_peer_up", "Whether the store and NATS answer", labels=["peer"]
        )
        if snapshot is not None:
            parts = {"relay": snapshot.relay, **snapshot.projections}
            for part, lag in parts.items():
                if lag is not None:
                    events.add_metric([part], lag.events)
                    seconds.add_metric([part], lag.seconds)
            up.add_metric(["store"], snapshot.store == "ok")
            up.add_metric(["nats"], snapshot.nats == "ok")
        yield from (events, seconds, up)


class CommitCollector(Collector):
    """The group commit's counts (services/custody/commit.py), read as `/metrics` collects."""

    def __init__(self, counts: Callable[[], tuple[int, int, int]]):
        self.counts = counts

    def collect(self) -> Iterator[CounterMetricFamily]:
        groups, commands, redecided = self.counts()
        yield CounterMetricFamily(
            "lacak_commit_groups", "Transactions this process committed scans in", value=groups
        )
        yield CounterMetricFamily(
            "lacak_commit_commands",
            "Scan commands (one scan, or a device's queue) committed in those groups",
            value=commands,
        )
        yield CounterMetricFamily(
            "lacak_commit_redecided",
            "Commands decided again because another process saved their batch first",
            value=redecided,
        )


class Metrics:
    """This web process's metrics, in a registry of its own."""

    def __init__(
        self,
        health: Health,
        sse_clients: Callable[[], int],
        commits: Callable[[], tuple[int, int, int]] = lambda: (0, 0, 0),
    ):
        self.health = health
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "lacak_http_request_duration_seconds",
            "Time to answer an HTTP request, by route and status",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.scans = Counter(
            "lacak_scans_accepted", "Scans answered 201 (each once)", registry=self.registry
        )
        Gauge(
            "lacak_sse_clients", "Live pages connected to this replica", registry=self.registry
        ).set_function(sse_clients)
        self.registry.register(LagCollector(health))
        self.registry.register(CommitCollector(commits))

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Time every HTTP request by its route's template (not its path: one series a route)."""

        async def timed(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started, status, streaming = time.perf_counter(), [500], [False]

            async def sending(message: Any) -> None:
                if message["type"] == "http.response.start":
                    status[0] = message["status"]
                    streaming[0] = any(  # a live page's stream lasts as long as the page
                        name == b"content-type" and value.startswith(b"text/event-stream")
                        for name, value in message.get("headers", ())
                    )
                await send(message)

            try:
                await app(scope, receive, sending)
            finally:
                if not streaming[0]:
                    route = scope.get("path_template") or "unmatched"
                    self.latency.labels(scope["method"], route, str(status[0])).observe(
                        time.perf_counter() - started
                    )

        return timed


PUBLIC = {"public": True}


@get("/healthz", name="healthz", opt=PUBLIC, include_in_schema=False, sync_to_thread=False)
def healthz() -> Response[str]:
    """The process answers."""
    return Response("ok\n", media_type="text/plain")


@get("/readyz", name="readyz", opt=PUBLIC, include_in_schema=False)
async def readyz(health: NamedDependency[Health]) -> Response[dict[str, Any]]:
    """200 when the store and NATS answer and no projection is too far behind, else 503 and
    why: a load balancer's question."""
    snapshot = await health.snapshot()
    why = health.ready(snapshot)
    body = {"ready": not why, "why": why, **msgspec.to_builtins(snapshot)}
    del body["taken"]
    return Response(body, status_code=503 if why else 200)


@get("/metrics", name="metrics", opt=PUBLIC, include_in_schema=False)
async def metrics_page(metrics: NamedDependency[Metrics]) -> Response[bytes]:
    await metrics.health.snapshot()
    body = await asyncio.to_thread(generate_latest, metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


health_handlers = [healthz, readyz, metrics_page]
