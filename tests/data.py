"""The demo's Kabupaten Serang, built once for every test, and the small plans tests register."""

from datetime import UTC, datetime

import msgspec

from services.custody.plan import kit_plan
from services.demo.serang import kabupaten_serang

SERANG = kabupaten_serang()
ONE_TPS = msgspec.structs.replace(SERANG, tps=SERANG.tps[:1])  # the first TPS alone
ONE_TPS_PLANS = kit_plan(ONE_TPS)  # its 5 kotak suara, a bundle of bilik and one of tinta
# When the tests' kit was registered: before any scan they make (a scan timed before its box's
# registration is flagged WAKTU MUNDUR).
REGISTERED = datetime(2024, 1, 15, tzinfo=UTC)
