"""What `lacak demo` and `lacak cluster --demo` put in a store on their first start."""

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.accounts.application import open_accounts
from services.accounts.roles import ROLE_NAMES
from services.bahasa import thousands
from services.commands.custody import describe, describe_election
from services.console import progress
from services.custody.batches import Batches
from services.custody.election import Elections
from services.custody.masterdata import MasterData, tps_csv
from services.custody.plan import register_plan
from services.demo.accounts import DEMO_ACCOUNTS_FILE, demo_accounts
from services.demo.serang import kabupaten_serang
from services.settings import Settings
from services.wilayah import Wilayah, local_time_of

DEMO_ELECTION = "Pemilihan Umum (demo)"
DEMO_LEAD = timedelta(days=7)  # the demo's voting day, a week after its first start


def seed_demo(
    settings: Settings, data_dir: Path, simulate: bool, tree: Wilayah | None = None
) -> tuple[Wilayah, list[tuple[str, str, str, str]], str]:
    """What a demo needs in its store, made on its first start: Kabupaten Serang's master data
    (or `tree`'s: a benchmark's smaller one), the election a week ahead, the kit plan and the
    demo accounts; a fresh device token for the simulated scanners if asked. The wilayah, the
    logins and the token."""
    batches = Batches(settings.store)
    try:
        master_data, elections = MasterData(batches), Elections(batches)
        wilayah = master_data.wilayah(settings.election, settings.kabupaten)
        if wilayah is None:  # first start: the demo's master data, as KPU staff would hand it
            csv_file = data_dir / "tps-kabupaten-serang.csv"
            csv_file.write_bytes(tps_csv(tree or kabupaten_serang()))
            summary = master_data.import_file(
                settings.election, csv_file.name, csv_file.read_bytes(), "demo"
            )
            print(f"Data wilayah diimpor dari {csv_file}: {describe(summary)}", file=sys.stderr)
            wilayah = master_data.wilayah(settings.election, settings.kabupaten)
            assert wilayah is not None
        if elections.get(settings.election) is None:  # first start: voting in a week
            voting_day = datetime.now(local_time_of(wilayah.code)).date() + DEMO_LEAD
            election = elections.declare(settings.election, DEMO_ELECTION, voting_day, "demo")
            print(f"Pemilu dicatat: {describe_election(election, wilayah)}", file=sys.stderr)
        seeded = register_plan(
            batches, wilayah, lambda done, total: progress("Mendaftarkan kiriman", done, total)
        )
    finally:
        batches.close()
    if seeded:
        print(
            f"{thousands(seeded)} kiriman terdaftar (kotak suara, bilik, tinta).", file=sys.stderr
        )
    accounts = open_accounts(settings)
    try:
        logins = demo_accounts(accounts, wilayah, data_dir / DEMO_ACCOUNTS_FILE)
        token = ""
        if simulate:  # the simulated scanners post with a device token, as real ones do
            for old in accounts.devices():  # one simulation's token at a time
                if old.name == "simulasi" and old.issued_by == "demo" and not old.revoked:
                    accounts.revoke_device(old.device, by="demo", reason="demo dimulai lagi")
            expires = datetime.now(UTC) + timedelta(days=DEMO_LEAD.days)
            _, token = accounts.issue_device(
                "simulasi", logins[0][1], "", by="demo", expires_at=expires
            )
    finally:
        accounts.close()
    return wilayah, logins, token


def print_logins(logins: list[tuple[str, str, str, str]], data_dir: Path) -> None:
    print(
        f"Akun demo (juga di {data_dir / DEMO_ACCOUNTS_FILE}):\n"
        + "\n".join(
            f"  {ROLE_NAMES[role]:<17} {name:<14} {password}  {scope or 'nasional'}"
            for role, name, password, scope in logins
        ),
        file=sys.stderr,
    )
