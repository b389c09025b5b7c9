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
from services.custody.election import Election, Elections
from services.custody.masterdata import ImportSummary, MasterData, tps_csv
from services.custody.plan import register_plan
from services.demo.accounts import DEMO_ACCOUNTS_FILE, Login, demo_accounts
from services.demo.first_stage import first_stage
from services.demo.nasional import kabupaten_of_wilayah, write_tps_file
from services.demo.serang import kabupaten_serang
from services.demo.supervision import supervision_story
from services.findings.contacts import Contacts
from services.gudang.application import Gudangs
from services.gudang.decisions import Said
from services.gudang.procurement import procurement_plan
from services.processes import load_places
from services.settings import Settings
from services.wilayah import Served, Wilayah, local_time_of

DEMO_ELECTION = "Pemilihan Umum (demo)"
DEMO_LEAD = timedelta(days=7)  # the demo's voting day, a week after its first start


def seed_demo(
    settings: Settings,
    data_dir: Path,
    simulate: bool,
    tree: Wilayah | None = None,
    wilayah: str | None = None,
) -> tuple[Served, list[Login], str]:
    """What a demo needs in its store, made on its first start: Kabupaten Serang's master data
    (or `tree`'s: a benchmark's smaller one; or every kabupaten/kota of `wilayah`, a province or
    `nasional`), the election a week ahead, the kit plan and the demo accounts; a fresh device
    token for the simulated scanners if asked. What it serves, the logins and the token."""
    batches = Batches(settings.store)
    try:
        master_data, elections = MasterData(batches), Elections(batches)
        codes = [settings.kabupaten] if wilayah is None else kabupaten_of_wilayah(wilayah)
        imported = master_data.kabupaten(settings.election)
        if master_data.wilayah(settings.election, settings.kabupaten) is not None:
            imported.setdefault(settings.kabupaten, "")  # imported before the index was kept
        missing = [code for code in codes if code not in imported]
        if missing:  # first start: the demo's master data, as KPU staff would hand it
            if wilayah is None:
                csv_file = data_dir / "tps-kabupaten-serang.csv"
                csv_file.write_bytes(tps_csv(tree or kabupaten_serang()))
            else:
                csv_file = data_dir / f"tps-{wilayah.replace('.', '')}.csv"
                write_tps_file(csv_file, missing)
            summaries = master_data.import_many(
                settings.election,
                csv_file.name,
                csv_file.read_bytes(),
                "demo",
                (lambda done, total: progress("Mengimpor kabupaten/kota", done, total))
                if len(missing) > 1
                else (lambda done, total: None),
            )
            said = describe(summaries[0]) if len(summaries) == 1 else describe_many(summaries)
            print(f"Data wilayah diimpor dari {csv_file}: {said}", file=sys.stderr)
        trees = [master_data.wilayah(settings.election, code) for code in codes]
        assert all(trees)  # imported just now, or before
        # The officers' accounts work in Kabupaten Serang when the demo holds it, as the story.
        home = next((t for t in trees if t.code == settings.kabupaten), trees[0])
        if elections.get(settings.election) is None:  # first start: voting in a week
            voting_day = datetime.now(local_time_of(home.code)).date() + DEMO_LEAD
            election = elections.declare(settings.election, DEMO_ELECTION, voting_day, "demo")
            print(f"Pemilu dicatat: {describe_election(election, home)}", file=sys.stderr)
        seeded = 0
        for found in trees:
            said = "Mendaftarkan kiriman" + (f" {found.name}" if len(trees) > 1 else "")
            seeded += register_plan(
                batches,
                found,
                lambda done, total, said=said: progress(said, done, total),
            )
        if seeded:
            said = f"{thousands(seeded)} kiriman terdaftar (kotak suara, bilik, tinta)."
            print(said, file=sys.stderr)
        gudang_story(batches, settings.election, trees, elections.get(settings.election))
    finally:
        batches.close()
    served = load_places(settings)
    accounts = open_accounts(settings)
    try:
        logins = demo_accounts(accounts, served, home, data_dir / DEMO_ACCOUNTS_FILE)
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
    batches = Batches(settings.store)  # after the accounts: their notices tell of it
    contacts = Contacts.of(settings)
    try:
        supervision_story(batches, contacts, settings.finding_hours, home)
    finally:
        contacts.close()
        batches.close()
    return served, logins, token


STORIES_AT_MOST = 16  # kabupaten/kota whose gudang's first stage a demo tells in full


def gudang_story(
    batches: Batches, election: str, trees: list[Wilayah], declared: Election | None
) -> None:
    """Each gudang's procurement plan; and the first stage, weeks before voting day, of every
    kabupaten/kota (of a large demo: the first of each province)."""
    assert declared is not None  # declared above on the first start
    gudangs = Gudangs(batches, election)
    told = trees
    if len(trees) > STORIES_AT_MOST:
        firsts: dict[str, Wilayah] = {}
        for tree in trees:
            firsts.setdefault(tree.code[:2], tree)
        told = list(firsts.values())
    recorded = 0
    untold = [tree for tree in told if not gudangs.history(tree.code)]  # a restart: none
    for done, tree in enumerate(untold, 1):
        recorded += first_stage(gudangs, tree, declared.voting_day)
        if len(untold) > 1:
            progress("Tahap pertama di gudang", done, len(untold))
    for tree in trees:
        if tree not in told and not gudangs.history(tree.code):
            said = Said(command_id=f"demo-{tree.code}-rencana", occurred_at=datetime.now(UTC))
            gudangs.plan(tree.code, procurement_plan(tree), said)
    if recorded:
        print(
            f"Tahap pertama di gudang dicatat: {thousands(recorded)} peristiwa (penerimaan, "
            "sortir-lipat, penggantian, pemusnahan, perakitan kotak).",
            file=sys.stderr,
        )


def describe_many(summaries: list[ImportSummary]) -> str:
    tps = sum(summary.tps for summary in summaries)
    dpt = sum(summary.dpt for summary in summaries)
    return f"{len(summaries)} kabupaten/kota, {thousands(tps)} TPS, DPT {thousands(dpt)}."


def print_logins(logins: list[Login], data_dir: Path) -> None:
    print(
        f"Akun demo (juga di {data_dir / DEMO_ACCOUNTS_FILE}):\n"
        + "\n".join(
            f"  {ROLE_NAMES[role]:<17} {name:<18} {password}  {scope or 'nasional'}"
            for role, name, password, scope in logins
        ),
        file=sys.stderr,
    )
