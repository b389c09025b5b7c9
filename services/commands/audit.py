"""The auditors' commands: verify the chain, replay the board, export the log and EPCIS, keep
the ledger's checkpoints."""

import argparse
import asyncio
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import msgspec
import nats
from nats.errors import Error as NatsError

from services import bahasa
from services.audit.chain import Checkpoint, CheckpointFile, Report, verify
from services.audit.epcis import ExportFilter, export_document, export_filter
from services.audit.export import export_lines, read_export
from services.audit.replay import replay_store
from services.audit.verify import verify_live
from services.bahasa import WIB, thousands
from services.console import Refused, progress, read_bytes, writable
from services.processes import load_wilayah
from services.settings import Settings
from services.store.notifications import count_store, read_store
from services.views.database import open_views
from services.views.ledger import CHECKPOINT_STREAM, LedgerView, stream_checkpoints


def moment_arg(value: str) -> datetime:
    """An ISO time from the command line; one without an offset is read as WIB."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"waktu {value!r} tidak dikenali: {bahasa.TIME_FORMAT}"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=WIB)


def kept_checkpoints(args: argparse.Namespace) -> list[Checkpoint] | None:
    if not args.checkpoints:
        return None
    data = read_bytes(args.checkpoints, "Berkas titik periksa")
    try:
        return msgspec.json.decode(data, type=CheckpointFile).checkpoints
    except msgspec.DecodeError as error:
        raise Refused(f"Berkas titik periksa {args.checkpoints} rusak: {error}.") from None


def verify_log(args: argparse.Namespace) -> None:
    """Recompute the hash chain and name the first event that differs; exit 1 if any does."""
    checkpoints = kept_checkpoints(args)
    started = time.perf_counter()
    if args.export:  # offline: the file alone, no server, no database
        read_bytes(args.export, "Berkas ekspor")  # there, and readable
        try:
            actual, ledger = read_export(args.export)
        except ValueError as error:
            raise Refused(f"Berkas ekspor {args.export} tidak utuh: {error}.") from None
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
        f"{thousands(report.events)} peristiwa dari {source} diperiksa dalam "
        f"{seconds:.1f} detik; {report.checkpoints_checked} titik periksa; kepala rantai "
        f"{report.head[:16]}..."
    )
    for finding in report.findings:
        kind = bahasa.FINDING_KINDS.get(finding.kind, finding.kind)
        print(f"TIDAK UTUH: {kind} pada posisi {finding.position}: {finding.detail}")
    if report.intact:
        print("UTUH: setiap peristiwa cocok dengan buku besar dan titik periksa.")


BOARD_COLUMNS = {
    "planned": "rencana",
    "packed": "dikemas",
    "gudang": "gudang",
    "transit": "di jalan",
    "ppk": "PPK",
    "pps": "PPS",
    "tps": "TPS",
    "delivered": "tiba",
    "returned": "kembali",
    "anomalies": "anomali",
}


def replay_board(args: argparse.Namespace) -> None:
    """The board as it stood at a moment or an event position, replayed from the event store."""
    settings = Settings.from_env()
    wilayah = load_wilayah(settings)
    total = count_store(settings)
    board, moment = replay_store(
        settings,
        until_position=args.position,
        until_time=args.until,
        progress=lambda n: progress("Memutar ulang", n, total),
    )
    progress("Memutar ulang", moment.events, moment.events)
    when = f", tercatat {moment.recorded_at:%d-%m-%Y %H:%M:%S %Z}" if moment.recorded_at else ""
    print(f"{thousands(moment.events)} peristiwa, sampai posisi {moment.position}{when}")
    if not moment.events:
        print("Belum ada peristiwa yang tercatat sampai saat itu.")
    level = args.level
    print(f"{level:<28}" + "".join(f"{name:>10}" for name in BOARD_COLUMNS.values()))
    for row in [*board.rows(level), board.area(wilayah.code)]:
        name = wilayah.place_name(row.area) if row.area != wilayah.code else "JUMLAH"
        print(f"{name[:28]:<28}" + "".join(f"{getattr(row, c):>10}" for c in BOARD_COLUMNS))


def export_log(args: argparse.Namespace) -> None:
    """Every event with its hash chain, as JSON lines an auditor verifies offline."""
    settings = Settings.from_env()
    count = 0
    with writable(args.out).open("wb") as out:
        for line in export_lines(read_store(settings)):
            out.write(line)
            count += 1
    print(f"{thousands(count)} peristiwa ditulis ke {args.out}.")


def export_epcis(args: argparse.Namespace) -> None:
    """A filtered range of the event store as an EPCIS 2.0 document, written as it is read."""
    settings = Settings.from_env()
    writable(args.out)
    if args.kecamatan:  # a filter that could only ever be empty is a mistake: say so
        wilayah = load_wilayah(settings)
        unknown = [k for k in args.kecamatan if k not in wilayah.kecamatan_by_code]
        if unknown:
            raise Refused(bahasa.UNKNOWN_KECAMATAN.format(code=unknown[0]))
    try:
        only = export_filter(args.since, args.until, args.kecamatan, args.from_pos, args.to_pos)
    except ValueError:
        raise Refused(bahasa.TIME_EXAMPLE) from None
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
    print(f"{thousands(count)} peristiwa EPCIS ditulis ke {args.out}.")


def save_checkpoints(args: argparse.Namespace) -> None:
    """The ledger's checkpoints from their JetStream stream, as a file an auditor keeps."""
    settings = Settings.from_env()
    writable(args.out)

    async def quiet(error: Exception) -> None:  # the refusal below says it once, in Bahasa
        pass

    async def fetch() -> list[Checkpoint] | None:
        # Each server tried twice, then NoServersError (nats-py retries forever at 0 attempts).
        nc = await nats.connect(
            settings.nats_url,
            connect_timeout=5,
            allow_reconnect=False,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.5,
            error_cb=quiet,
        )
        try:
            return await stream_checkpoints(nc)
        finally:
            await nc.close()

    try:
        checkpoints = asyncio.run(fetch())
    except (NatsError, OSError, TimeoutError) as error:
        raise Refused(
            f"NATS di {settings.nats_url} tidak bisa dihubungi ({error or type(error).__name__}); "
            "atur LACAK_NATS_URL (lacak demo mencetak alamat NATS-nya)."
        ) from None
    if checkpoints is None:
        raise Refused(
            f"Aliran {CHECKPOINT_STREAM} tidak ada di {settings.nats_url}: buku besar belum "
            "pernah berjalan di sini, atau ini server NATS yang lain."
        )
    file = CheckpointFile(
        source=f"{settings.nats_url} {CHECKPOINT_STREAM}", checkpoints=checkpoints
    )
    args.out.write_bytes(msgspec.json.format(msgspec.json.encode(file)))
    print(f"{len(checkpoints)} titik periksa ditulis ke {args.out}.")
