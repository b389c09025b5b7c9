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
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec

from services.custody.plan import kit_plan
from services.demo.scenario import STAGES, Step, journeys_of
from services.wilayah import Wilayah, kecamatan_of

log = logging.getLogger(__name__)

# Kab. Serang sends to its islands first: Pulau Tunda (Kec. Tirtayasa) and Pulau Panjang (Kec.
# Pulo Ampel) (DOMAIN.md).
ISLANDS_FIRST = ("36.04.13", "36.04.08")


class Scripted(msgspec.Struct, frozen=True):
    scan_id: str
    label: str
    step: Step


def scan_script(wilayah: Wilayah, seed: int = 2024, rate: float = 0.01) -> list[Scripted]:
    """Every scan of the distribution, in the order the simulation sends them."""
    plans = kit_plan(wilayah)
    trips, _ = journeys_of(wilayah, plans, seed, rate)
    by_kecamatan: dict[str, list[tuple[int, str, str, int, Step]]] = {}
    for plan, trip in zip(plans, trips, strict=True):
        for n, step in enumerate(trip):
            order = (STAGES.index(step.stage), plan.destination, plan.label, n, step)
            by_kecamatan.setdefault(kecamatan_of(plan.destination), []).append(order)
    kecamatan = [k.code for k in wilayah.kecamatan]
    random.Random(seed).shuffle(kecamatan)
    kecamatan.sort(
        key=lambda code: ISLANDS_FIRST.index(code) if code in ISLANDS_FIRST else len(ISLANDS_FIRST)
    )
    return [
        Scripted(scan_id=f"sim-{label}-{n}", label=label, step=step)
        for code in kecamatan
        for _, _, label, n, step in sorted(by_kecamatan.get(code, []), key=lambda o: o[:4])
    ]


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
    base_url: str, wilayah: Wilayah, per_second: float, stop: asyncio.Event, token: str
) -> None:
    """Post the scan script to the device API, `per_second` new scans a second (as far as the
    server keeps up), until it is done or `stop` is set. Scans recorded before a restart are
    answered from the record and passed over at once."""
    script = await asyncio.to_thread(scan_script, wilayah)
    headers = {"authorization": f"Bearer {token}"}
    started = datetime.now(UTC)
    loop = asyncio.get_running_loop()
    due = loop.time()  # when the next new scan is to be sent
    async with httpx.AsyncClient(base_url=base_url, timeout=10, headers=headers) as client:
        for scripted in script:
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
