"""`lacak`: the demo on one machine, and the production parts one process each."""

import argparse
import asyncio
import getpass
import logging
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import msgspec
import nats

from services.accounts.application import open_accounts
from services.accounts.roles import ROLE_NAMES, ROLES, AccessError
from services.audit.chain import Checkpoint, CheckpointFile, Report, verify
from services.audit.epcis import ExportFilter, export_document, export_filter
from services.audit.export import export_lines, read_export
from services.audit.replay import replay_store
from services.audit.verify import verify_live
from services.bahasa import WIB, thousands
from services.console import progress
from services.custody.batches import Batches
from services.custody.election import Election, Elections
from services.custody.errors import NoMasterDataError
from services.custody.masterdata import ImportRefusedError, ImportSummary, MasterData, tps_csv
from services.custody.plan import kit_plan, register_plan
from services.messaging.relay import run_relay
from services.messaging.server import EmbeddedNats
from services.processes import (
    PROJECTIONS,
    Server,
    load_wilayah,
    run_stack,
    run_until_signal,
)
from services.settings import Settings
from services.store.notifications import count_store, read_store
from services.views.database import open_views
from services.views.ledger import (
    CHECKPOINT_STREAM,
    LedgerView,
    stream_checkpoints,
)
from services.wilayah import Wilayah

log = logging.getLogger("lacak")


def create_server(settings: Settings, wilayah: Wilayah) -> Server:
    from web.app import close_streams, create_app  # services/ reaches into web/ only here

    app = create_app(settings, wilayah)
    return Server(app, settings, on_exit=lambda: close_streams(app))


async def run_demo_stack(
    settings: Settings,
    wilayah: Wilayah,
    stop: asyncio.Event,
    simulate_rate: float | None = None,
    simulate_token: str = "",
) -> None:
    """The demo's (and the tests') one process: web, relay and every projection, and the
    simulated scanners if asked."""
    after_start = []
    if simulate_rate:
        from services.demo.simulation import simulate

        base_url = f"http://{settings.host}:{settings.port}"
        after_start.append(lambda: simulate(base_url, wilayah, simulate_rate, stop, simulate_token))
    await run_stack(settings, wilayah, stop, create_server(settings, wilayah), after_start)


def demo(args: argparse.Namespace) -> None:
    from services.demo.accounts import DEMO_ACCOUNTS_FILE, demo_accounts
    from services.demo.serang import kabupaten_serang

    settings = Settings.from_env(
        {
            "LACAK_DATA_DIR": str(args.data_dir),
            "LACAK_HOST": args.host,
            "LACAK_PORT": str(args.port),
        }
    )
    settings.make_folders()
    with EmbeddedNats(args.data_dir / "nats") as nats_server:
        settings = settings.replace(nats_url=nats_server.url)
        batches = Batches(settings.store)
        try:
            master_data, elections = MasterData(batches), Elections(batches)
            wilayah = master_data.wilayah(settings.election, settings.kabupaten)
            if wilayah is None:  # first start: the demo's master data, as KPU staff would hand it
                csv_file = args.data_dir / "tps-kabupaten-serang.csv"
                csv_file.write_bytes(tps_csv(kabupaten_serang()))
                summary = master_data.import_file(
                    settings.election, csv_file.name, csv_file.read_bytes(), "demo"
                )
                print(f"Data wilayah diimpor dari {csv_file}: {describe(summary)}", file=sys.stderr)
                wilayah = master_data.wilayah(settings.election, settings.kabupaten)
                assert wilayah is not None
            if elections.get(settings.election) is None:
                election = elections.declare(
                    settings.election, "Pemilihan Umum 2024", date(2024, 2, 14), "demo"
                )
                print(f"Pemilu dicatat: {describe_election(election, wilayah)}", file=sys.stderr)
            seeded = register_plan(
                batches, wilayah, lambda done, total: progress("Mendaftarkan kiriman", done, total)
            )
        finally:
            batches.close()
        if seeded:
            print(
                f"{thousands(seeded)} kiriman terdaftar (kotak suara, bilik, tinta).",
                file=sys.stderr,
            )
        accounts = open_accounts(settings)
        try:
            logins = demo_accounts(accounts, wilayah, args.data_dir / DEMO_ACCOUNTS_FILE)
            token = ""
            if args.simulate:  # the simulated scanners post with a device token, as real ones do
                _, token = accounts.issue_device("simulasi", logins[0][1], "", by="demo")
        finally:
            accounts.close()
        print(
            f"Lacak demo: papan pantau di http://{settings.host}:{settings.port}  "
            f"(data: {args.data_dir}, NATS: {nats_server.url}). Ctrl-C untuk berhenti.\n"
            f"Akun demo (juga di {args.data_dir / DEMO_ACCOUNTS_FILE}):\n"
            + "\n".join(
                f"  {ROLE_NAMES[role]:<17} {name:<14} {password}  {scope or 'nasional'}"
                for role, name, password, scope in logins
            ),
            file=sys.stderr,
        )
        rate = args.rate if args.simulate else None
        asyncio.run(run_demo_stack(settings, wilayah, asyncio.Event(), rate, token))


def create_user(args: argparse.Namespace) -> None:
    """`lacak user create`: the first admin, or anyone, from the server's command line."""
    password = os.environ.get("LACAK_PASSWORD") or getpass.getpass("Kata sandi: ")
    if "LACAK_PASSWORD" not in os.environ and getpass.getpass("Ulangi: ") != password:
        sys.exit("Kata sandi tidak sama.")
    settings = Settings.from_env()
    settings.make_folders()
    accounts = open_accounts(settings)
    try:
        user = accounts.create_user(args.username, args.name or "", args.role, args.scope, password)
    except AccessError as refused:
        sys.exit(str(refused))
    finally:
        accounts.close()
    print(
        f"Pengguna {user.username} dibuat: {ROLE_NAMES[user.role]}, "
        f"wilayah {user.scope or 'nasional'}."
    )


def issue_device(args: argparse.Namespace) -> None:
    """`lacak device issue`: a scanner's token, printed once."""
    settings = Settings.from_env()
    accounts = open_accounts(settings)
    try:
        device, token = accounts.issue_device(args.name, args.username, args.scope, by="")
    except AccessError as refused:
        sys.exit(str(refused))
    finally:
        accounts.close()
    print(f"Perangkat {device.device} untuk {device.username} ({device.scope or 'nasional'}).")
    print(f"Token (simpan sekarang, tidak ditampilkan lagi): {token}")


def describe(summary: ImportSummary) -> str:
    counts = (summary.kecamatan, summary.desa, summary.tps, summary.dpt)
    kec, desa, tps, dpt = (thousands(n) for n in counts)
    return f"{summary.kabupaten_name}: {kec} kecamatan, {desa} desa, {tps} TPS, DPT {dpt}."


def describe_election(election: Election, wilayah: Wilayah) -> str:
    deadline = election.h1_deadline(wilayah.code)
    return (
        f"{election.name}, hari pemungutan suara {election.voting_day:%d-%m-%Y}; "
        f"logistik harus di TPS sebelum {deadline:%d-%m-%Y %H:%M %Z}."
    )


def served_wilayah(settings: Settings) -> Wilayah:
    """The served kabupaten's tree; exit with the way to import it if there is none."""
    try:
        return load_wilayah(settings)
    except NoMasterDataError:
        sys.exit(
            f"Belum ada data wilayah untuk {settings.election} / {settings.kabupaten}: "
            "impor dulu dengan `lacak import <berkas.csv>`."
        )


def web(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    settings.make_folders()
    asyncio.run(create_server(settings, served_wilayah(settings)).serve())


def check_late(args: argparse.Namespace) -> None:
    """At the end of H-1, flag every batch that has not reached its TPS."""
    settings = Settings.from_env()
    wilayah = served_wilayah(settings)
    batches = Batches(settings.store, wilayah=wilayah)
    try:
        election = Elections(batches).get(settings.election)
        if args.voting_day is not None:  # a what-if, or an election not yet declared
            election = Election(election=settings.election, name="", voting_day=args.voting_day)
        if election is None:
            sys.exit(
                f"Pemilu {settings.election} belum dicatat: `lacak election --name ... "
                "--voting-day ... --by ...`, atau beri --voting-day."
            )
        deadline = election.h1_deadline(wilayah.code)
        flagged = batches.flag_late([plan.label for plan in kit_plan(wilayah)], deadline)
    finally:
        batches.close()
    print(f"{flagged} kiriman belum sampai di TPS pada batas {deadline:%d-%m-%Y %H:%M %Z}.")


def import_master_data(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    settings.make_folders()
    batches = Batches(settings.store)
    try:
        summary = MasterData(batches).import_file(
            args.election or settings.election, args.file.name, args.file.read_bytes(), args.by
        )
    except ImportRefusedError as refused:
        print(refused, file=sys.stderr)
        sys.exit(2)
    finally:
        batches.close()
    print(f"Diimpor: {describe(summary)} (sha256 {summary.file_sha256})")


def declare_election(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    settings.make_folders()
    batches = Batches(settings.store)
    try:
        election = Elections(batches).declare(
            args.election or settings.election, args.name, args.voting_day, args.by
        )
        wilayah = MasterData(batches).wilayah(election.election, settings.kabupaten)
    finally:
        batches.close()
    if wilayah is None:
        print(f"Dicatat: {election.name}, hari pemungutan suara {election.voting_day:%d-%m-%Y}.")
    else:
        print(f"Dicatat: {describe_election(election, wilayah)}")


def relay(args: argparse.Namespace) -> None:
    run_until_signal(run_relay)


def project(args: argparse.Namespace) -> None:
    run_until_signal(PROJECTIONS[args.projection])


def verify_log(args: argparse.Namespace) -> None:
    """Recompute the hash chain and name the first event that differs; exit 1 if any does."""
    checkpoints: list[Checkpoint] | None = None
    if args.checkpoints:
        kept = msgspec.json.decode(args.checkpoints.read_bytes(), type=CheckpointFile)
        checkpoints = kept.checkpoints
    started = time.perf_counter()
    if args.export:  # offline: the file alone, no server, no database
        actual, ledger = read_export(args.export)
        source = f"berkas {args.export}"
        total = len(actual)
        report = verify(
            actual, ledger, checkpoints or [], lambda n: progress("Memeriksa", n, total)
        )
    else:
        settings = Settings.from_env()
        source = "penyimpanan peristiwa"
        total = count_store(settings)
        views = open_views(settings)
        try:  # verify reads the ledger's rows where the chains part
            live = LedgerView(views)
            live.setup()
            report = verify_live(
                settings, live, checkpoints, lambda n: progress("Memeriksa", n, total)
            )
        finally:
            views.close()
    progress("Memeriksa", report.events, report.events)
    print_report(report, source, time.perf_counter() - started)
    sys.exit(0 if report.intact else 1)


def print_report(report: Report, source: str, seconds: float) -> None:
    print(
        f"{thousands(report.events)} peristiwa dari {source} diperiksa dalam {seconds:.1f} s; "
        f"{report.checkpoints_checked} titik periksa; kepala rantai {report.head[:16]}..."
    )
    for finding in report.findings:
        print(f"TIDAK UTUH: {finding.kind} pada posisi {finding.position}: {finding.detail}")
    if report.intact:
        print("UTUH: setiap peristiwa cocok dengan buku besar dan titik periksa.")


def moment_arg(value: str) -> datetime:
    """An ISO time; one without an offset is read as WIB (Kabupaten Serang's time)."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=WIB)


def replay_board(args: argparse.Namespace) -> None:
    """The board as it stood at a moment or an event position, replayed from the event store."""
    settings = Settings.from_env()
    total = count_store(settings)
    board, moment = replay_store(
        settings,
        until_position=args.position,
        until_time=args.until,
        progress=lambda n: progress("Memutar ulang", n, total),
    )
    progress("Memutar ulang", moment.events, moment.events)
    when = f", tercatat {moment.recorded_at:%d-%m-%Y %H:%M:%S %Z}" if moment.recorded_at else ""
    print(f"{moment.events:,} peristiwa, sampai posisi {moment.position}{when}".replace(",", "."))
    wilayah = served_wilayah(settings)
    level = args.level
    columns = (
        "planned",
        "packed",
        "gudang",
        "transit",
        "ppk",
        "pps",
        "tps",
        "delivered",
        "returned",
        "anomalies",
    )
    print(f"{level:<28}" + "".join(f"{c:>10}" for c in columns))
    for row in [*board.rows(level), board.area(wilayah.code)]:
        name = wilayah.place_name(row.area) if row.area != wilayah.code else "JUMLAH"
        print(f"{name[:28]:<28}" + "".join(f"{getattr(row, c):>10}" for c in columns))


def export_log(args: argparse.Namespace) -> None:
    """Every event with its hash chain, as JSON lines an auditor verifies offline."""
    settings = Settings.from_env()
    count = 0
    with args.out.open("wb") as out:
        for line in export_lines(read_store(settings)):
            out.write(line)
            count += 1
    print(f"{count:,} peristiwa ditulis ke {args.out}.".replace(",", "."))


def export_epcis(args: argparse.Namespace) -> None:
    """A filtered range of the event store as an EPCIS 2.0 document, written as it is read."""
    settings = Settings.from_env()
    try:
        only = export_filter(args.since, args.until, args.kecamatan, args.from_pos, args.to_pos)
    except ValueError:
        sys.exit("Waktu tidak dikenali: tulis seperti 2024-02-10 atau 2024-02-10T08:00+07:00.")
    total = count_store(settings)

    passes = iter(["Mencari koreksi", "Mengekspor EPCIS"])  # the voids first, then the range

    def stored(_: ExportFilter) -> Iterator[tuple[int, bytes]]:  # both passes read it all
        label = next(passes)
        for n, row in enumerate(read_store(settings), 1):
            if n % 10_000 == 0:
                progress(label, n, total)
            yield row
        progress(label, total, total)

    count = 0
    with args.out.open("wb") as out:
        for chunk in export_document(stored, only, datetime.now(UTC)):
            out.write(chunk)
            count += chunk.count(b'"eventID":')
    print(f"{count:,} peristiwa EPCIS ditulis ke {args.out}.".replace(",", "."))


def save_checkpoints(args: argparse.Namespace) -> None:
    """The ledger's checkpoints from their JetStream stream, as a file an auditor keeps."""
    settings = Settings.from_env()

    async def fetch() -> list[Checkpoint]:
        nc = await nats.connect(settings.nats_url, connect_timeout=5, max_reconnect_attempts=0)
        try:
            return await stream_checkpoints(nc)
        finally:
            await nc.close()

    checkpoints = asyncio.run(fetch())
    file = CheckpointFile(
        source=f"{settings.nats_url} {CHECKPOINT_STREAM}", checkpoints=checkpoints
    )
    args.out.write_bytes(msgspec.json.format(msgspec.json.encode(file)))
    print(f"{len(checkpoints)} titik periksa ditulis ke {args.out}.")


def bench(args: argparse.Namespace) -> None:
    if args.what in ("verify", "replay"):
        from services.demo.bench.audit import bench_replay, bench_verify

        (bench_verify if args.what == "verify" else bench_replay)()
        return
    if args.what == "board":
        from services.demo.bench.board import bench_board

        bench_board(args.clients, args.rate, args.probes)
        return
    from services.demo.bench.scans import bench_scans

    bench_scans(args.count, args.concurrency, args.samples)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    parser = argparse.ArgumentParser(prog="lacak", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("demo", help="everything on this machine: SQLite, private NATS, board")
    p.add_argument("--data-dir", type=Path, default=Path(".lacak"))
    p.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to let phones on the LAN in")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--simulate", action="store_true", help="scan boxes so the board moves")
    p.add_argument("--rate", type=float, default=20.0, help="simulated scans per second")
    p.set_defaults(run=demo)

    commands.add_parser("web", help="the web app (configured by LACAK_* and store settings)")
    commands.choices["web"].set_defaults(run=web)
    commands.add_parser("relay", help="publish the event store's notifications to NATS")
    commands.choices["relay"].set_defaults(run=relay)
    p = commands.add_parser("project", help="run a projection")
    p.add_argument("projection", choices=list(PROJECTIONS))
    p.set_defaults(run=project)

    p = commands.add_parser("verify", help="recompute the hash chain of every event")
    p.add_argument("--checkpoints", type=Path, help="a checkpoint file the auditor kept")
    p.add_argument("--export", type=Path, help="offline: an export file instead of the store")
    p.set_defaults(run=verify_log)
    p = commands.add_parser("replay", help="the board as it stood at a moment or position")
    p.add_argument("--until", type=moment_arg, help="2024-02-12T10:00 (WIB) or with an offset")
    p.add_argument("--position", type=int, help="the last event position to apply")
    p.add_argument("--level", default="kecamatan", choices=["kecamatan", "desa", "tps"])
    p.set_defaults(run=replay_board)
    p = commands.add_parser("export", help="every event with its hash chain, as JSON lines")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(run=export_log)
    p = commands.add_parser("export-epcis", help="a filtered range as an EPCIS 2.0 document")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--from", dest="since", help="occurred at or after: 2024-02-10[T08:00+07:00]")
    p.add_argument("--until", help="occurred before (a time without zone is UTC)")
    p.add_argument("--kecamatan", action="append", default=[], help="36.04.05; repeatable")
    p.add_argument("--from-position", dest="from_pos", type=int, help="first notification id")
    p.add_argument("--to-position", dest="to_pos", type=int, help="last notification id")
    p.set_defaults(run=export_epcis)
    p = commands.add_parser("checkpoints", help="save the ledger's checkpoints from NATS")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(run=save_checkpoints)

    p = commands.add_parser("import", help="import an election's TPS list (CSV, see README)")
    p.add_argument("file", type=Path)
    p.add_argument("--election", help="default: LACAK_ELECTION or pemilu-2024")
    p.add_argument("--by", required=True, help="who imports it (kept on the record)")
    p.set_defaults(run=import_master_data)

    p = commands.add_parser("election", help="record the election: its name and voting day")
    p.add_argument("--name", required=True, help='"Pemilihan Umum 2024"')
    p.add_argument("--voting-day", type=date.fromisoformat, required=True, help="2024-02-14")
    p.add_argument("--election", help="default: LACAK_ELECTION or pemilu-2024")
    p.add_argument("--by", required=True, help="who records it (kept on the record)")
    p.set_defaults(run=declare_election)

    p = commands.add_parser("check-late", help="flag batches not at their TPS by H-1")
    p.add_argument(
        "--voting-day", type=date.fromisoformat, help="default: the election's recorded day"
    )
    p.set_defaults(run=check_late)

    p = commands.add_parser("user", help="accounts: `lacak user create` for the first admin")
    actions = p.add_subparsers(dest="action", required=True)
    q = actions.add_parser("create", help="password from LACAK_PASSWORD or asked twice")
    q.add_argument("--username", required=True)
    q.add_argument("--role", required=True, choices=ROLES)
    q.add_argument("--scope", default="", help='wilayah code: "" national, 36, 36.04, 36.04.05')
    q.add_argument("--name", help="full name")
    q.set_defaults(run=create_user)
    p = commands.add_parser("device", help="scanner tokens: `lacak device issue`")
    actions = p.add_subparsers(dest="action", required=True)
    q = actions.add_parser("issue", help="a token bound to a user (and a scope within theirs)")
    q.add_argument("--username", required=True)
    q.add_argument("--name", default="", help="what the device is called")
    q.add_argument("--scope", default="", help="default: the user's")
    q.set_defaults(run=issue_device)

    p = commands.add_parser("bench", help="measure speed on a fresh demo")
    p.add_argument("what", choices=["scans", "board", "verify", "replay"])
    p.add_argument("--count", type=int, default=3000, help="scans in the throughput run")
    p.add_argument("--concurrency", type=int, default=16, help="devices posting at once")
    p.add_argument("--samples", type=int, default=100, help="receipts timed to the board")
    p.add_argument("--clients", type=int, default=100, help="board: open boards (SSE)")
    p.add_argument("--rate", type=float, default=200.0, help="board: scans per second of load")
    p.add_argument("--probes", type=int, default=60, help="board: receipts timed to every board")
    p.set_defaults(run=bench)

    args = parser.parse_args(argv)
    args.run(args)
