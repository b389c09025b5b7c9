"""`lacak demo --simulate`: boxes leave the gudang and reach their kecamatan at a realistic pace."""

import asyncio
import logging
import random
import uuid
from datetime import UTC, datetime

import httpx

from services.custody.plan import kit_plan
from services.wilayah import Wilayah, kecamatan_of

log = logging.getLogger(__name__)


def scan_body(label: str, action: str, location: str, **details: str) -> dict[str, str]:
    """A device's scan as JSON, made now with a fresh scan id."""
    return {
        "scan_id": str(uuid.uuid4()),
        "label": label,
        "action": action,
        "location": location,
        "occurred_at": datetime.now(UTC).isoformat(),
        **details,
    }


Step = tuple[str, str, str, dict[str, str]]  # label, action, location, details


def scan_script(wilayah: Wilayah, seed: int = 2024) -> list[Step]:
    """Scans as a gudang works: one kecamatan's truck load at a time, under its own surat jalan,
    every batch scanned onto the truck at the gudang, then received at the PPK."""
    by_kecamatan: dict[str, list[str]] = {}
    for plan in kit_plan(wilayah):
        by_kecamatan.setdefault(kecamatan_of(plan.destination), []).append(plan.label)
    kecamatan = list(wilayah.kecamatan)
    random.Random(seed).shuffle(kecamatan)
    script: list[Step] = []
    for kec in kecamatan:
        labels = by_kecamatan.get(kec.code, [])
        load = {"surat_jalan": "SJ-" + kec.code.replace(".", "")}
        script.extend(
            (label, "dispatch", wilayah.code, {**load, "to": kec.code}) for label in labels
        )
        script.extend((label, "receive", kec.code, load) for label in labels)
    return script


async def simulate(
    base_url: str, wilayah: Wilayah, per_second: float, stop: asyncio.Event, token: str
) -> None:
    """Post the scan script to the device API, with a device's token, until it is done or
    `stop` is set."""
    script = scan_script(wilayah)
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=10, headers=headers) as client:
        for n, (label, action, location, details) in enumerate(script, 1):
            if stop.is_set():
                return
            try:
                response = await client.post(
                    "/api/v1/scans", json=scan_body(label, action, location, **details)
                )
                response.raise_for_status()
            except httpx.HTTPError as error:
                log.warning("simulated scan %d failed: %s", n, error)
            await asyncio.sleep(1 / per_second)
