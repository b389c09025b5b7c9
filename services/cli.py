"""`lacak`: the demo on one machine, the production parts one process each, and the commands
of KPU staff and auditors. Every process and command is composed here."""

import argparse
import asyncio
import functools
import logging
import os
import socket
import sys
from datetime import date
from pathlib import Path
from typing import NoReturn

from lokal.wilayah import wilayah_name

from services import bahasa
from services.accounts.roles import ROLES
from services.audit.note import COSIGNATURE, load_or_create
from services.commands.accounts import create_user, issue_device
from services.commands.audit import (
    export_epcis,
    export_log,
    moment_arg,
    print_ledger_key,
    replay_board,
    save_checkpoints,
    verify_log,
    verify_proof,
)
from services.commands.custody import (
    check_late,
    declare_election,
    import_master_data,
    register_kit_plan,
)
from services.commands.gudang import announce_delivery, print_stock, record_procurement_plans
from services.commands.supervision import print_deliveries, print_findings
from services.commands.witness import run_witness
from services.console import Refused
from services.custody.errors import NoMasterDataError
from services.messaging.lease import leased
from services.messaging.relay import run_relay
from services.messaging.server import EmbeddedNats
from services.processes import (
    PARTITIONED,
    PROJECTIONS,
    Server,
    load_places,
    run_stack,
    run_until_signal,
    stop_on_signals,
)
from services.settings import Settings, SettingsError
from services.store.application import STORE_DOWN
from services.views.projection import tracking_name
from services.wilayah import Served

log = logging.getLogger("lacak")


def create_server(settings: Settings, wilayah: Served) -> Server:
    from web.app import close_streams, create_app  # services/ reaches into web/ only here

    app = create_app(settings, wilayah)
    return Server(app, settings, on_exit=lambda: close_streams(app))


async def run_demo_stack(
    settings: Settings,
    wilayah: Served,
    stop: asyncio.Event,
    simulate_speed: float | None = None,
    simulate_token: str = "",
) -> None:
    """The demo's (and the tests') one process: web, relay and every projection, and the
    simulated scanners if asked."""
    after_start = []
    if simulate_speed:
        from services.demo.simulation import simulate

        base_url = f"http://{settings.host}:{settings.port}"
        after_start.append(
            lambda: simulate(base_url, wilayah, simulate_speed, stop, simulate_token)
        )
    await run_stack(settings, wilayah, stop, create_server(settings, wilayah), after_start)


def demo(args: argparse.Namespace) -> None:
    from services.demo.nasional import kabupaten_of_wilayah
    from services.demo.seed import print_logins, seed_demo

    if args.wilayah is not None and not kabupaten_of_wilayah(args.wilayah):
        raise Refused(bahasa.UNKNOWN_WILAYAH.format(wilayah=args.wilayah))
    settings = Settings.from_env(  # the store from the environment, as every command takes it
        {
            **os.environ,
            "LACAK_DATA_DIR": str(args.data_dir),
            "LACAK_HOST": args.host,
            "LACAK_PORT": str(args.port),
        }
    )
    settings.make_folders()
    with EmbeddedNats(args.data_dir / "nats") as nats_server:
        settings = settings.replace(nats_url=nats_server.url)
        wilayah, logins, token = seed_demo(
            settings, args.data_dir, args.simulate, wilayah=args.wilayah
        )
        print(
            f"Lacak demo: papan pantau di http://{settings.host}:{settings.port}  "
            f"(data: {args.data_dir}, NATS: {nats_server.url}). Ctrl-C untuk berhenti.",
            file=sys.stderr,
        )
        print_logins(logins, args.data_dir)
        # The demo plays Bawaslu's witness too: its key is listed, so `lacak witness` can cosign.
        witness_key = args.data_dir / "saksi-bawaslu.key"
        saksi = load_or_create(witness_key, "bawaslu-kab-serang", COSIGNATURE)
        known = " ".join(filter(None, [settings.witnesses, str(saksi.verifier)]))
        settings = settings.replace(witnesses=known)
        print(
            f"Kunci buku besar: lacak ledger-key; saksi Bawaslu: lacak witness --key "
            f"{witness_key} --url http://{settings.host}:{settings.port}",
            file=sys.stderr,
        )
        speed = args.speed if args.simulate else None

        async def until_stopped() -> None:
            stop = asyncio.Event()
            stop_on_signals(stop)  # a Ctrl-C before the web listens stops it all the same
            await run_demo_stack(settings, wilayah, stop, speed, token)

        asyncio.run(until_stopped())


def run_cluster(args: argparse.Namespace) -> None:
    """`lacak cluster` (services/cluster.py) until Ctrl-C."""
    from services.cluster import Cluster
    from services.demo.seed import print_logins, seed_demo

    if args.replicas < 1 or (args.simulate and not args.demo):
        raise Refused(bahasa.CLUSTER_ARGUMENTS)
    settings = Settings.from_env(
        {**os.environ, "LACAK_DATA_DIR": str(args.data_dir), "LACAK_HOST": args.host}
    )
    if not settings.postgres:
        raise Refused(bahasa.NEEDS_POSTGRES.format(command="lacak cluster"))
    settings.make_folders()
    cluster = Cluster(settings, args.data_dir / "cluster", args.replicas, args.port)
    try:
        cluster.start_nodes()
        settings = settings.replace(nats_url=cluster.nats_url, stream_replicas=3)
        token = ""
        if args.demo:
            wilayah, logins, token = seed_demo(settings, args.data_dir, args.simulate)
            print_logins(logins, args.data_dir)
        else:
            wilayah = load_places(settings)  # none imported: said now, not by every replica
        cluster.start_parts()
        front = f"http://{args.host}:{args.port}"
        print(
            f"Lacak cluster: {front} (round robin ke web di port "
            f"{', '.join(map(str, cluster.web_ports))}); NATS {cluster.nats_url} (JetStream, "
            f"aliran 3 replika); PostgreSQL {settings.store.get('POSTGRES_HOST')}:"
            f"{settings.store.get('POSTGRES_PORT', '5432')}/{settings.store.get('POSTGRES_DBNAME')}"
            f"; log di {cluster.logs}. Ctrl-C untuk berhenti.",
            file=sys.stderr,
        )

        async def until_stopped() -> None:
            stop = asyncio.Event()
            stop_on_signals(stop)
            work = [cluster.supervise(stop), cluster.serve_front(stop)]
            if args.simulate:
                from services.demo.simulation import simulate

                work.append(simulate(front, wilayah, args.speed, stop, token))
            await asyncio.gather(*work)

        asyncio.run(until_stopped())
    finally:
        print("Menghentikan cluster ...", file=sys.stderr)
        cluster.stop()


def wilayah_file(args: argparse.Namespace) -> None:
    from services.demo.nasional import write_wilayah_file

    write_wilayah_file(args)


def wait_ready(args: argparse.Namespace) -> None:
    """Exit 0 once `url` answers 200 (a web replica's /readyz), 1 after `timeout` seconds: the
    readiness check of a systemd unit or a container."""
    from services.cluster import until_ready

    said = until_ready(args.url, args.timeout)
    if said is not None:
        print(f"lacak: {args.url} belum siap: {said}", file=sys.stderr)
        sys.exit(1)


def web(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    settings.make_folders()
    if args.workers > 1 and args.listen_fd is None:  # a worker is one (it inherits the env)
        from services.workers import serve_workers

        serve_workers(settings, args.workers)
        return
    import uvloop

    server = create_server(settings, load_places(settings))
    # a worker of `lacak web --workers` serves the socket its parent listens on
    sockets = None if args.listen_fd is None else [socket.socket(fileno=args.listen_fd)]
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(server.serve(sockets=sockets))


def relay(args: argparse.Namespace) -> None:
    """The relay; a second one waits as a hot standby (services/messaging/lease.py)."""
    run_until_signal(leased("relay", run_relay))


def project(args: argparse.Namespace) -> None:
    """One projector (or its part for some provinces); a second of the same waits as a hot
    standby."""
    if not args.provinsi:
        run_until_signal(leased(f"project-{args.projection}", PROJECTIONS[args.projection]))
        return
    unknown = [code for code in args.provinsi if not wilayah_name(code) or "." in code]
    if unknown:
        raise Refused(f"Bukan kode provinsi: {', '.join(unknown)} (dua angka, mis. 36).")
    if args.projection not in PARTITIONED:
        raise Refused(f"proyeksi {args.projection} tidak bisa dibagi per provinsi")
    part = tracking_name(args.projection, args.provinsi)
    run = functools.partial(PROJECTIONS[args.projection], provinces=args.provinsi)
    run_until_signal(leased(f"project-{part}", run))


def bench(args: argparse.Namespace) -> None:
    if args.what == "faults":
        from services.demo.bench.faults import FaultPlan, faults_benchmark, print_report

        plan = FaultPlan(
            tps=args.tps,
            devices=args.devices,
            rate=args.scan_rate,
            outage=args.outage,
            pause=args.pause,
        )
        report = faults_benchmark(plan)
        print_report(report)
        sys.exit(0 if report.held else 1)
    if args.what == "nation":
        from services.demo.bench.nation import bench_nation

        bench_nation(args.store or "", args.wilayah, args.parts)
        return
    if args.what == "proof":
        from services.demo.bench.audit import bench_proof

        bench_proof(args.events)
        return
    if args.what in ("verify", "replay"):
        from services.demo.bench.audit import bench_replay, bench_verify

        (bench_verify if args.what == "verify" else bench_replay)()
        return
    if args.what == "notices":
        from services.demo.bench.notices import bench_notices

        bench_notices(args.store or "", args.findings, args.rate, args.digest)
        return
    if args.what == "board":
        from services.demo.bench.board import bench_board

        bench_board(int(args.clients or 100), args.rate, args.probes, args.replicas)
        return
    from services.demo.bench.scans import bench_scans, print_summary

    clients = [int(n) for n in (args.clients or "16,64,256").split(",")]
    rows = bench_scans(args.store, args.workers, clients, args.count, args.queue)
    print_summary(rows, args.store or "store dari setelan", args.workers)


# argparse's own words, as a person here reads them.
ARGPARSE_WORDS = (
    ("the following arguments are required: ", "argumen ini wajib diisi: "),
    ("unrecognized arguments: ", "argumen tidak dikenal: "),
    ("invalid choice: ", "pilihan tidak dikenal: "),
    ("choose from ", "pilih dari "),
    ("expected one argument", "perlu satu nilai"),
    ("invalid int value: ", "bukan bilangan bulat: "),
    ("invalid float value: ", "bukan angka: "),
    ("invalid fromisoformat value: ", "bukan tanggal (tulis seperti 2024-02-14): "),
    ("argument ", "argumen "),
)


class BahasaParser(argparse.ArgumentParser):
    """argparse, speaking Bahasa Indonesia: its headings, `-h`, and its refusals."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._positionals.title = "argumen"
        self._optionals.title = "pilihan"
        self.add_argument("-h", "--help", action="help", help="tampilkan bantuan ini lalu keluar")

    def format_usage(self) -> str:
        return super().format_usage().replace("usage:", "cara pakai:", 1)

    def format_help(self) -> str:
        return super().format_help().replace("usage:", "cara pakai:", 1)

    def error(self, message: str) -> NoReturn:
        for english, words in ARGPARSE_WORDS:
            message = message.replace(english, words)
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: kesalahan: {message}\n")


def witness(args: argparse.Namespace) -> None:
    if not args.print_key and not args.url:
        raise Refused("Beri --url alamat web Lacak yang disaksikan (atau --print-key saja).")
    run_witness(args)


def parser() -> argparse.ArgumentParser:
    root = BahasaParser(prog="lacak", description=__doc__)
    commands = root.add_subparsers(
        dest="command", required=True, title="perintah", parser_class=BahasaParser
    )

    p = commands.add_parser("demo", help="semuanya di mesin ini: SQLite, NATS sendiri, papan")
    p.add_argument("--data-dir", type=Path, default=Path(".lacak"), help="folder data demo")
    p.add_argument("--host", default="127.0.0.1", help="0.0.0.0 agar ponsel di LAN bisa masuk")
    p.add_argument("--port", type=int, default=8000, help="port web (8000)")
    p.add_argument(
        "--simulate", action="store_true", help="simulasikan distribusi agar papan bergerak"
    )
    p.add_argument(
        "--speed", "--rate", type=float, default=25.0, help="pindai simulasi per detik (25)"
    )
    p.add_argument(
        "--wilayah",
        help="provinsi (36: Banten) atau nasional, bukan hanya Kabupaten Serang (lama: impor)",
    )
    p.set_defaults(run=demo)
    p = commands.add_parser(
        "cluster",
        help="tumpukan terdistribusi di mesin ini: 3 node NATS, PostgreSQL, replika web, proyektor",
    )
    p.add_argument("--data-dir", type=Path, default=Path(".lacak"), help="folder data dan log")
    p.add_argument("--host", default="127.0.0.1", help="alamat depan (round robin)")
    p.add_argument("--port", type=int, default=8000, help="port depan (8000)")
    p.add_argument("--replicas", type=int, default=2, help="replika web (2)")
    p.add_argument("--demo", action="store_true", help="isi data demo Kabupaten Serang bila kosong")
    p.add_argument("--simulate", action="store_true", help="simulasikan distribusi (dengan --demo)")
    p.add_argument("--speed", type=float, default=25.0, help="pindai simulasi per detik (25)")
    p.set_defaults(run=run_cluster)

    p = commands.add_parser(
        "web", help="aplikasi web (diatur oleh LACAK_* dan setelan penyimpanan)"
    )
    p.add_argument(
        "--workers",
        type=int,
        default=os.environ.get("LACAK_WEB_WORKERS", "1"),  # argparse reads it as --workers
        help="proses web pada satu alamat (LACAK_WEB_WORKERS, bawaan 1)",
    )
    p.add_argument("--listen-fd", type=int, default=None, help=argparse.SUPPRESS)
    p.set_defaults(run=web)
    p = commands.add_parser("ready", help="tunggu sampai /readyz menjawab 200 (untuk systemd)")
    p.add_argument("--url", default="http://127.0.0.1:8000/readyz", help="alamat /readyz")
    p.add_argument("--timeout", type=float, default=60.0, help="detik paling lama (60)")
    p.set_defaults(run=wait_ready)
    p = commands.add_parser("relay", help="terbitkan peristiwa penyimpanan ke NATS")
    p.set_defaults(run=relay)
    p = commands.add_parser("project", help="jalankan satu proyeksi")
    p.add_argument("projection", choices=list(PROJECTIONS), help="proyeksi mana")
    p.add_argument(
        "--provinsi",
        nargs="+",
        default=[],
        help="board: hanya bagian provinsi ini, mis. 31 32 (satu proyektor per bagian)",
    )
    p.set_defaults(run=project)

    p = commands.add_parser(
        "verify", help="hitung ulang pohon Merkle dan rantai hash, periksa titik periksa bertanda"
    )
    p.add_argument("--checkpoints", type=Path, help="berkas titik periksa yang disimpan auditor")
    p.add_argument("--export", type=Path, help="luring: berkas ekspor, bukan penyimpanan")
    p.add_argument("--log-key", help="kunci verifikasi buku besar (lacak ledger-key, /audit)")
    p.add_argument(
        "--witness", action="append", default=[], help="kunci verifikasi saksi; boleh berulang"
    )
    p.add_argument(
        "--akses", action="store_true", help="log akses (masuk, akun, perangkat), bukan kiriman"
    )
    p.set_defaults(run=verify_log)
    p = commands.add_parser("verify-proof", help="luring: periksa berkas bukti inklusi kotak")
    p.add_argument("file", type=Path, help="berkas bukti dari /kotak/<label>/bukti")
    p.add_argument("--log-key", help="kunci verifikasi buku besar (lacak ledger-key, /audit)")
    p.set_defaults(run=verify_proof)
    p = commands.add_parser("ledger-key", help="cetak kunci verifikasi buku besar")
    p.set_defaults(run=print_ledger_key)
    p = commands.add_parser(
        "witness", help="saksi: periksa dan tandatangani titik periksa Lacak dari mesin sendiri"
    )
    p.add_argument(
        "--key", type=Path, required=True, help="berkas kunci saksi (dibuat bila tak ada)"
    )
    p.add_argument("--url", help="alamat web Lacak, misalnya http://127.0.0.1:8000")
    p.add_argument("--name", default="bawaslu", help="nama saksi untuk kunci baru (bawaslu)")
    p.add_argument("--log-key", help="kunci buku besar yang disematkan (bawaan: pemakaian pertama)")
    p.add_argument("--state", type=Path, help="berkas keadaan saksi (bawaan: di samping kunci)")
    p.add_argument("--once", action="store_true", help="satu putaran saja")
    p.add_argument("--interval", type=float, default=10.0, help="detik antarputaran (10)")
    p.add_argument("--print-key", action="store_true", help="cetak kunci verifikasi saksi saja")
    p.set_defaults(run=witness)
    p = commands.add_parser("replay", help="papan seperti pada suatu saat atau posisi")
    p.add_argument("--until", type=moment_arg, help="2024-02-12T10:00 (WIB) atau dengan zona")
    p.add_argument("--position", type=int, help="posisi peristiwa terakhir yang diputar")
    p.add_argument(
        "--level",
        default="kecamatan",
        choices=["provinsi", "kabupaten", "kecamatan", "desa", "tps"],
        help="tingkat baris (kecamatan)",
    )
    p.set_defaults(run=replay_board)
    p = commands.add_parser("export", help="setiap peristiwa dengan rantai hash-nya (JSON lines)")
    p.add_argument("--out", type=Path, required=True, help="berkas tujuan")
    p.set_defaults(run=export_log)
    p = commands.add_parser("export-epcis", help="rentang peristiwa sebagai dokumen EPCIS 2.0")
    p.add_argument("--out", type=Path, required=True, help="berkas tujuan")
    p.add_argument("--from", dest="since", help="terjadi sejak: 2024-02-10[T08:00+07:00]")
    p.add_argument("--until", help="terjadi sebelum (tanpa zona: UTC)")
    p.add_argument("--kecamatan", action="append", default=[], help="36.04.05; boleh berulang")
    p.add_argument("--from-position", dest="from_pos", type=int, help="posisi pertama")
    p.add_argument("--to-position", dest="to_pos", type=int, help="posisi terakhir")
    p.set_defaults(run=export_epcis)
    p = commands.add_parser("checkpoints", help="simpan titik periksa buku besar dari NATS")
    p.add_argument("--out", type=Path, required=True, help="berkas tujuan")
    p.add_argument("--akses", action="store_true", help="titik periksa log akses")
    p.set_defaults(run=save_checkpoints)

    p = commands.add_parser("import", help="impor daftar TPS suatu pemilu (CSV, lihat README)")
    p.add_argument("file", type=Path, help="berkas CSV")
    p.add_argument("--election", help="bawaan: LACAK_ELECTION atau pemilu-2024")
    p.add_argument("--by", required=True, help="siapa yang mengimpor (dicatat)")
    p.set_defaults(run=import_master_data)
    p = commands.add_parser(
        "wilayah",
        help="tulis berkas impor TPS: kode dan nama wilayah nyata, TPS dan DPT sintetis",
    )
    p.add_argument("out", type=Path, help="berkas CSV yang ditulis")
    p.add_argument(
        "--wilayah", default="36.04", help="nasional, kode provinsi (36) atau kabupaten (36.04)"
    )
    p.set_defaults(run=wilayah_file)
    p = commands.add_parser("plan", help="daftarkan kiriman setiap TPS (bisa diulang)")
    p.add_argument("--wilayah", help="hanya provinsi (36) atau kabupaten (36.04) ini")
    p.set_defaults(run=register_kit_plan)

    p = commands.add_parser("gudang", help="gudang sebelum pengemasan: rencana, surat jalan, stok")
    actions = p.add_subparsers(dest="action", required=True, metavar="TINDAKAN")
    q = actions.add_parser("plan", help="catat rencana pengadaan dari data wilayah yang diimpor")
    q.add_argument("--wilayah", default="", help="hanya provinsi (36) atau kabupaten (36.04) ini")
    q.add_argument("--by", required=True, help="siapa yang mencatat (dicatat)")
    q.set_defaults(run=record_procurement_plans)
    q = actions.add_parser("notice", help="catat surat jalan penyedia (CSV) sebagai pemberitahuan")
    q.add_argument("file", type=Path, help="CSV: item,ballot_type,dapil,quantity")
    q.add_argument("--kabupaten", required=True, help="gudang kabupaten/kota mana (36.04)")
    q.add_argument("--delivery", required=True, help="nomor pengiriman, unik di gudang (T1)")
    q.add_argument("--stage", type=int, required=True, help="tahap ke berapa")
    q.add_argument("--supplier", required=True, help="nama penyedia")
    q.add_argument("--contract", default="", help="nomor kontrak")
    q.add_argument("--expected-on", type=date.fromisoformat, required=True, help="2024-01-10")
    q.add_argument("--by", required=True, help="siapa yang mencatat (dicatat)")
    q.set_defaults(run=announce_delivery)
    q = actions.add_parser("stock", help="cetak stok gudang menurut jenis barang")
    q.add_argument("--wilayah", default="", help="nasional (kosong), provinsi atau kabupaten")
    q.set_defaults(run=print_stock)

    p = commands.add_parser("findings", help="cetak temuan Bawaslu suatu wilayah")
    p.add_argument("--wilayah", default="", help="nasional (kosong), provinsi, kabupaten, ...")
    p.add_argument("--all", action="store_true", help="juga yang sudah ditutup")
    p.add_argument("--limit", type=int, default=200, help="paling banyak (200)")
    p.set_defaults(run=print_findings)
    p = commands.add_parser("notices", help="cetak penerima pemberitahuan dan log kirimannya")
    p.add_argument("--failed", action="store_true", help="hanya kiriman yang gagal")
    p.add_argument("--limit", type=int, default=50, help="kiriman terakhir (50)")
    p.set_defaults(run=print_deliveries)

    p = commands.add_parser("election", help="catat pemilu: nama dan hari pemungutan suara")
    p.add_argument("--name", required=True, help='"Pemilihan Umum 2024"')
    p.add_argument("--voting-day", type=date.fromisoformat, required=True, help="2024-02-14")
    p.add_argument("--election", help="bawaan: LACAK_ELECTION atau pemilu-2024")
    p.add_argument("--by", required=True, help="siapa yang mencatat (dicatat)")
    p.set_defaults(run=declare_election)
    p = commands.add_parser("check-late", help="tandai kiriman yang belum di TPS pada H-1")
    p.add_argument("--voting-day", type=date.fromisoformat, help="bawaan: hari yang dicatat")
    p.set_defaults(run=check_late)

    p = commands.add_parser("user", help="akun: `lacak user create` untuk admin pertama")
    actions = p.add_subparsers(
        dest="action", required=True, title="tindakan", parser_class=BahasaParser
    )
    q = actions.add_parser("create", help="kata sandi dari LACAK_PASSWORD atau ditanya dua kali")
    q.add_argument("--username", required=True, help="nama pengguna")
    q.add_argument("--role", required=True, choices=ROLES, help="peran")
    q.add_argument("--scope", default="", help='wilayah: "" nasional, 36, 36.04, 36.04.05')
    q.add_argument("--name", help="nama lengkap")
    q.set_defaults(run=create_user)
    p = commands.add_parser("device", help="token pemindai: `lacak device issue`")
    actions = p.add_subparsers(
        dest="action", required=True, title="tindakan", parser_class=BahasaParser
    )
    q = actions.add_parser("issue", help="token untuk pengguna (wilayah di dalam wilayahnya)")
    q.add_argument("--username", required=True, help="pemilik perangkat")
    q.add_argument("--name", default="", help="nama perangkat")
    q.add_argument("--scope", default="", help="bawaan: wilayah pengguna")
    q.add_argument("--days", default="", help="berlaku 1-3650 hari (bawaan: sampai dicabut)")
    q.set_defaults(run=issue_device)

    p = commands.add_parser("bench", help="ukur kecepatan pada demo baru")
    p.add_argument(
        "what",
        choices=["scans", "board", "verify", "replay", "proof", "faults", "nation", "notices"],
        help="yang diukur",
    )
    p.add_argument("--count", type=int, default=6000, help="scans: pindai per beban (6000)")
    p.add_argument(
        "--store",
        choices=["sqlite", "postgres"],
        default="",
        help="scans, nation: bawaan dari setelan",
    )
    p.add_argument("--workers", type=int, default=2, help="scans: proses lacak web (2)")
    p.add_argument("--queue", action="store_true", help="scans: antrean 1.000 pindai per kirim")
    p.add_argument(
        "--clients",
        default="",
        help="scans: perangkat bersamaan, dipisah koma (16,64,256); board: papan terbuka (100)",
    )
    p.add_argument(
        "--rate",
        type=float,
        default=200.0,
        help="board: pindai per detik; notices: temuan per detik",
    )
    p.add_argument("--findings", type=int, default=200, help="notices: temuan (200)")
    p.add_argument(
        "--digest", type=float, default=5.0, help="notices: ringkasan e-mail tiap detik (5)"
    )
    p.add_argument("--probes", type=int, default=60, help="board: penerimaan yang diukur")
    p.add_argument(
        "--replicas", type=int, default=1, help="board: replika web (>1: cluster + PostgreSQL)"
    )
    p.add_argument(
        "--events", type=int, default=10_000_000, help="proof: ukuran pohon (10.000.000)"
    )
    p.add_argument("--tps", type=int, default=600, help="faults: TPS yang dikirimi (600)")
    p.add_argument("--devices", type=int, default=16, help="faults: perangkat bersamaan (16)")
    p.add_argument("--scan-rate", type=float, default=60.0, help="faults: pindai per detik (60)")
    p.add_argument(
        "--outage", type=float, default=60.0, help="faults: cluster NATS mati, detik (60)"
    )
    p.add_argument("--pause", type=float, default=30.0, help="faults: SIGSTOP satu node (30)")
    p.add_argument(
        "--wilayah",
        default="nasional",
        help="nation: nasional, provinsi (36), kabupaten, atau beberapa: 31,32,36",
    )
    p.add_argument(
        "--parts", type=int, default=0, help="nation: bangun ulang juga dalam N bagian provinsi"
    )
    p.set_defaults(run=bench)
    return root


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except KeyboardInterrupt:  # Ctrl-C while a command works: stop, without a traceback
        print("lacak: dihentikan.", file=sys.stderr)
        sys.exit(130)
    except Refused as refused:
        print(f"lacak: {refused}", file=sys.stderr)
        sys.exit(2)
    except (NoMasterDataError, SettingsError) as unusable:
        print(f"lacak: {unusable}", file=sys.stderr)
        sys.exit(2)
    except STORE_DOWN as error:
        store = Settings.from_env().store
        where = (
            f"PostgreSQL {store.get('POSTGRES_HOST', '')}:{store.get('POSTGRES_PORT', '')}"
            if store.get("PERSISTENCE_MODULE") == "eventsourcing.postgres"
            else f"SQLite {store.get('SQLITE_DBNAME', '')}"
        )
        print(
            f"lacak: penyimpanan peristiwa ({where}) tidak bisa dihubungi: "
            f"{str(error).strip() or type(error).__name__}",
            file=sys.stderr,
        )
        sys.exit(1)
