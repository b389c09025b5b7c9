"""The fault benchmark's shorter run (`lacak bench faults` with short outages and a small
load): the distributed stack on this machine's PostgreSQL and a three-node NATS cluster, every
fault of the benchmark injected under load. Nothing acknowledged is lost or stored twice, no
answer is a 5xx, the board catches up after each fault, and the relay publishes again the
messages deleted from the stream."""

from services.demo.bench.faults import FaultPlan, faults_benchmark
from tests.conftest import POSTGRES, postgres_or_skip


def test_the_distributed_stack_holds_through_every_fault(monkeypatch, capsys):
    postgres_or_skip()
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": POSTGRES["dbname"],
        "POSTGRES_HOST": POSTGRES["host"],
        "POSTGRES_PORT": POSTGRES["port"],
        "POSTGRES_USER": POSTGRES["user"],
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    said: list[str] = []
    plan = FaultPlan(tps=30, devices=4, rate=40, hold=2, outage=3, pause=3, between=1.5)
    report = faults_benchmark(plan, say=said.append)
    assert len(report.faults) == 15, said
    assert report.acknowledged > 500, report
    assert report.lost == 0 and report.duplicated == 0, report
    assert report.server_errors == 0, report.examples
    assert report.refused == 0, report.examples  # every journey is one the store takes
    assert all(f.recovery_seconds is not None for f in report.faults), report
    assert report.held, report
