"""`lacak demo --simulate`: the whole distribution of the demo's kabupaten, gudang to every TPS,
at a pace a person can watch.

The scans are the scenario's journeys (`scenario.py`: officers, trucks, surat jalan, counts,
seals, and now and then a 2024 failure: a wet box, a short count, a load unloaded at the wrong
PPK, seals gone, another dapil's ballots, a box left at its PPS), put in the order a kabupaten
works: one kecamatan at a time, the island kecamatan first, every box of it through one stage
before the next stage starts. Each is posted to the device API with a scanner's token and the
device's own clock, as a phone would. Scan ids are fixed, so a restarted simulation goes quickly
over what it had sent (the API answers those again) and carries on from there.
"""

import asyncio
import logging
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec

from services.custody.plan import BatchPlan, kit_plan
from services.demo.scenario import STAGES, Step, journeys_of
from services.wilayah import Served, Wilayah, kecamatan_of

log = logging.getLogger(__name__)

# Kab. Serang sends to its islands first: Pulau Tunda (Kec. Tirtayasa) and Pulau Panjang (Kec.
# Pulo Ampel) (DOMAIN.md).
ISLANDS_FIRST = ("36.04.13", "36.04.08")


class Scripted(msgspec.Struct, frozen=True):
    scan_id: str
    label: str
    step: Step


def scan_script(
    wilayah: Wilayah, seed: int = 2024, rate: float = 0.01, plans: list[BatchPlan] | None = None
) -> list[Scripted]:
    """Every scan of the distribution (of these of its batches), in the order the simulation
    sends them."""
    plans = kit_plan(wilayah) if plans is None else plans
    trips, _ = journeys_of(wilayah, plans, seed, rate)
    by_kecamatan: dict[str, list[tuple[int, str, str, int, Step]]] = {}
    for plan, trip in zip(plans, trips, strict=True):
        for n, step in enumerate(trip):
            order = (STAGES.index(step.stage), plan.destination, plan.label, n, step)
            by_kecamatan.setdefault(kecamatan_of(plan.destination), []).append(order)
    return [
        Scripted(scan_id=f"sim-{label}-{n}", label=label, step=step)
        for code in kecamatan_order(wilayah, seed)
        for _, _, label, n, step in sorted(by_kecamatan.get(code, []), key=lambda o: o[:4])
    ]


MOVING_AT_ONCE = 16  # kabupaten/kota whose distributions move together in a wider demo
KECAMATAN_AT_ONCE = 2  # a script made this many kecamatan at a time (one cannot be misrouted)
TPS_AT_ONCE = 10  # of each: packed, sent and delivered before the next wave is packed


def kecamatan_order(wilayah: Wilayah, seed: int = 2024) -> list[str]:
    """The order the simulation works a kabupaten's kecamatan in: the islands first, by boat."""
    kecamatan = [k.code for k in wilayah.kecamatan]
    random.Random(seed).shuffle(kecamatan)
    kecamatan.sort(
        key=lambda code: ISLANDS_FIRST.index(code) if code in ISLANDS_FIRST else len(ISLANDS_FIRST)
    )
    return kecamatan


def kabupaten_script(wilayah: Wilayah, seed: int = 2024, rate: float = 0.01) -> Iterator[Scripted]:
    """A kabupaten's scans made a couple of kecamatan at a time, `TPS_AT_ONCE` TPS of each, so
    that a province's or the nation's demo never holds a whole kabupaten's script (4,000 TPS:
    some 140 MB) per kabupaten, and boxes reach their TPS within minutes of the start, not after
    every kabupaten moving has packed two whole kecamatan (an hour and a half for Banten's
    eight at 25 scans a second)."""
    plans: dict[str, list[BatchPlan]] = {}
    for plan in kit_plan(wilayah):  # numbered across the kabupaten: made whole, kept small
        plans.setdefault(kecamatan_of(plan.destination), []).append(plan)
    order = kecamatan_order(wilayah, seed)
    for start in range(0, len(order), KECAMATAN_AT_ONCE):
        pair = [waves(plans[code]) for code in order[start : start + KECAMATAN_AT_ONCE]]
        for wave in range(max(len(waves) for waves in pair)):
            chunk = [plan for waves in pair if wave < len(waves) for plan in waves[wave]]
            yield from scan_script(wilayah, seed + start + wave, rate, chunk)


def waves(plans: list[BatchPlan]) -> list[list[BatchPlan]]:
    """A kecamatan's batches in waves of `TPS_AT_ONCE` TPS, in the order of their TPS."""
    tps = sorted({plan.destination for plan in plans})
    wave_of = {code: n // TPS_AT_ONCE for n, code in enumerate(tps)}
    found: list[list[BatchPlan]] = [[] for _ in range(-(-len(tps) // TPS_AT_ONCE))]
    for plan in plans:
        found[wave_of[plan.destination]].append(plan)
    return found


def served_script(served: Served, seed: int = 2024) -> Iterator[Scripted]:
    """Scans for every kabupaten/kota served, one from each of `MOVING_AT_ONCE` in turn (the
    first of each province before the second of any), the next kabupaten starting as one ends."""
    in_province: dict[str, int] = {}  # 0 for a province's first kabupaten/kota, 1 ...
    counted: Counter[str] = Counter()
    for code in served.kabupaten():
        in_province[code] = counted[code[:2]]
        counted[code[:2]] += 1
    waiting = sorted(in_province, key=lambda code: (in_province[code], code))
    moving: list[Iterator[Scripted]] = []
    while waiting or moving:
        while waiting and len(moving) < MOVING_AT_ONCE:
            tree = served.tree(waiting.pop(0))
            if tree is not None:
                moving.append(kabupaten_script(tree, seed))
        for script in list(moving):
            scripted = next(script, None)
            if scripted is None:
                moving.remove(script)
            else:
                yield scripted


def scan_body(label: str, action: str, location: str, **details: Any) -> dict[str, Any]:
    """A device's scan as JSON, made now with a fresh scan id (the benchmarks' scans)."""
    return {
        "scan_id": str(uuid.uuid4()),
        "label": label,
        "action": action,
        "location": location,
        "occurred_at": datetime.now(UTC).isoformat(),
        **details,
    }


def body_of(scripted: Scripted) -> dict[str, Any]:
    step = scripted.step
    return {
        "scan_id": scripted.scan_id,
        "label": scripted.label,
        "action": step.action,
        "location": step.location,
        "occurred_at": datetime.now(UTC).isoformat(),
        **step.details,
    }


async def simulate(
    base_url: str, wilayah: Served, per_second: float, stop: asyncio.Event, token: str
) -> None:
    """Post the scan script to the device API, `per_second` new scans a second (as far as the
    server keeps up), until it is done or `stop` is set. Scans recorded before a restart are
    answered from the record and passed over at once. One kabupaten's script is made whole; a
    province's or the nation's as it goes (`served_script`)."""
    if isinstance(wilayah, Wilayah):
        script: Iterator[Scripted] = iter(await asyncio.to_thread(scan_script, wilayah))
    else:
        script = served_script(wilayah)
    headers = {"authorization": f"Bearer {token}"}
    started = datetime.now(UTC)
    loop = asyncio.get_running_loop()
    due = loop.time()  # when the next new scan is to be sent
    async with httpx.AsyncClient(base_url=base_url, timeout=10, headers=headers) as client:
        while (scripted := await asyncio.to_thread(next, script, None)) is not None:
            if stop.is_set():
                return
            await asyncio.sleep(max(0.0, due - loop.time()))
            try:
                response = await client.post("/api/v1/scans", json=body_of(scripted))
                response.raise_for_status()
            except httpx.HTTPError as error:
                if stop.is_set():  # the demo is stopping: a scan cut short is no news
                    return
                log.warning("simulasi: pindai %s gagal: %s", scripted.scan_id, error)
                due = loop.time() + 1 / per_second
                continue
            recorded = datetime.fromisoformat(response.json()["recorded_at"])
            if recorded >= started:  # a new scan: the next one a tick later, not behind
                due = max(due + 1 / per_second, loop.time() - 1)
