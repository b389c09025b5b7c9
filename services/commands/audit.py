"""The auditors' commands: verify the chain, replay the board, export the log and EPCIS, keep
the ledger's checkpoints."""

import argparse
import asyncio
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from nats.errors import Error as NatsError

from services import bahasa
from services.audit.access import access_origin
from services.audit.anchor import Anchor, anchor
from services.audit.chain import CheckpointFile, Report
from services.audit.epcis import ExportFilter, export_document, export_filter
from services.audit.export import checkpoint_lines, export_lines, read_export
from services.audit.note import Checkpoint, NoteError, Verifier, parse_checkpoint
from services.audit.proofs import ProofBundle, check_bundle
from services.audit.replay import replay_store
from services.audit.verify import (
    log_verifier,
    verify_anchored,
    verify_live,
    witness_keys,
)
from services.bahasa import WIB, thousands
from services.console import Refused, progress, read_bytes, writable
from services.processes import load_places
from services.settings import Settings
from services.store.notifications import ACCOUNTS, CUSTODY, count_store, read_store
from services.views.database import open_views
from services.views.ledger import CHECKPOINT_STREAM, AccessLedgerView, LedgerView
from services.views.ledger import fetch_checkpoints as fetch_stream_checkpoints
from services.wilayah import known_kecamatan


def moment_arg(value: str) -> datetime:
    """An ISO time from the command line; one without an offset is read as WIB."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"waktu {value!r} tidak dikenali: {bahasa.TIME_FORMAT}"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=WIB)


class Anchors(msgspec.Struct, frozen=True, kw_only=True):
    """Where `verify` took its signed checkpoints and keys from, to say it."""

    source: str
    checkpoints: list[Checkpoint]
    log_key: str | None


def kept_checkpoints(path: Path) -> CheckpointFile:
    data = read_bytes(path, "Berkas titik periksa")
    try:
        return msgspec.json.decode(data, type=CheckpointFile)
    except msgspec.DecodeError as error:
        raise Refused(
            f"Berkas titik periksa {path} rusak atau dari Lacak versi lama: {error}; simpan "
            "lagi dengan `lacak checkpoints --out`."
        ) from None


def notes_of(file: CheckpointFile, path: Path) -> list[Checkpoint]:
    try:
        return [parse_checkpoint(note) for note in file.checkpoints]
    except NoteError as error:
        raise Refused(f"Berkas titik periksa {path}: {error}.") from None


def log_key_of(args: argparse.Namespace, kept: str | None, settings: Settings | None) -> Verifier:
    """The ledger's key to check signatures with: given, kept with the checkpoints, or (on the
    ledger's own machine) the key file's."""
    try:
        if args.log_key:
            return Verifier.parse(args.log_key)
        if kept:
            return Verifier.parse(kept)
        verifier = log_verifier(settings) if settings else None
    except NoteError as error:
        raise Refused(f"Kunci buku besar: {error}.") from None
    if verifier is None:
        raise Refused(bahasa.NO_LOG_KEY)
    return verifier


def witnesses_of(args: argparse.Namespace, settings: Settings | None) -> list[Verifier]:
    keys = " ".join(args.witness) + " " + (settings.witnesses if settings else "")
    try:
        return witness_keys(keys)
    except NoteError as error:
        raise Refused(f"Kunci saksi: {error}.") from None


def verify_log(args: argparse.Namespace) -> None:
    """Recompute the tree and the chain, check them against the signed checkpoints and the
    ledger, and name the first event that differs; exit 1 if any does."""
    kept = kept_checkpoints(args.checkpoints) if args.checkpoints else None
    started = time.perf_counter()
    if args.akses and args.export:
        raise Refused(bahasa.NO_ACCESS_EXPORT)
    if args.export:  # offline: the file alone, no server, no database
        read_bytes(args.export, "Berkas ekspor")  # there, and readable
        try:
            actual, ledger, carried = read_export(args.export)
        except ValueError as error:
            raise Refused(f"Berkas ekspor {args.export} tidak utuh: {error}.") from None
        log_key = log_key_of(args, kept.log_key if kept else None, None)
        notes = carried + (notes_of(kept, args.checkpoints) if kept else [])
        anchored = anchor(notes, log_key, witnesses_of(args, None))
        source = f"berkas {args.export}"
        total = len(actual)
        report = verify_anchored(
            actual, ledger, anchored, lambda n: progress("Memeriksa", n, total)
        )
    else:
        settings = Settings.from_env()
        log_key = log_key_of(args, kept.log_key if kept else None, settings)
        view = AccessLedgerView if args.akses else LedgerView
        if kept:  # the file kept, and what the stream has signed since, where it answers
            notes, where = notes_of(kept, args.checkpoints), f"berkas {args.checkpoints}"
            try:
                notes += fetch_checkpoints(settings, view.subject)
                where += f" dan aliran {CHECKPOINT_STREAM}"
            except Refused as refused:
                print(f"{refused} Diperiksa terhadap berkas saja.", file=sys.stderr)
        else:
            notes = fetch_checkpoints(settings, view.subject)
            where = f"aliran {CHECKPOINT_STREAM}"
        if args.akses:  # one key signs both logs: only the access log's checkpoints count here
            anchored = anchor(notes, log_key, origin=access_origin(settings))
            source, app = "log akses", ACCOUNTS
        else:
            anchored = anchor(notes, log_key, witnesses_of(args, settings), settings.ledger_origin)
            source, app = "penyimpanan peristiwa", CUSTODY
        total = count_store(settings, app)
        views = open_views(settings)
        try:  # verify reads the ledger's rows where the chains part
            live = view(views)
            live.setup()
            report = verify_live(
                settings, live, anchored, lambda n: progress("Memeriksa", n, total), app=app
            )
        finally:
            views.close()
        print(f"Titik periksa bertanda tangan dari {where}.")
    progress("Memeriksa", report.events, report.events)
    print_report(report, anchored, source, time.perf_counter() - started)
    sys.exit(0 if report.intact else 1)


def print_report(report: Report, anchored: Anchor, source: str, seconds: float) -> None:
    print(
        f"{thousands(report.events)} peristiwa dari {source} diperiksa dalam "
        f"{seconds:.1f} detik; pohon Merkle {thousands(report.size)} daun, akar "
        f"{report.root[:16]}...; {report.checkpoints_checked} titik periksa bertanda tangan "
        f"sah (kunci {anchored.log_key.split('+')[0]}+{anchored.log_key.split('+')[1]})."
    )
    latest = anchored.latest.position if anchored.latest else 0
    if latest:
        said = f"Terhadap titik periksa bertanda tangan s/d posisi {latest}"
        if report.signed_upto < latest:
            said += f" (cocok hanya s/d posisi {report.signed_upto})"
        for witness in anchored.witnessed:
            said += f", disaksikan {witness.name} s/d posisi {witness.position}"
        print(said + ".")
        if report.last_position > latest:
            print(
                f"Ekor belum bertanda tangan: posisi {latest + 1}-{report.last_position}, "
                "diperiksa terhadap buku besar saja."
            )
    for finding in report.findings:
        kind = bahasa.FINDING_KINDS.get(finding.kind, finding.kind)
        print(f"TIDAK UTUH: {kind} pada posisi {finding.position}: {finding.detail}")
    if report.intact:
        print("UTUH: setiap peristiwa cocok dengan buku besar dan titik periksa bertanda tangan.")


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
    wilayah = load_places(settings)
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
    """Every event with its leaf hash and chain, then the signed checkpoints, as JSON lines an
    auditor verifies offline with the ledger's published key."""
    settings = Settings.from_env()
    writable(args.out)
    checkpoints, where = export_checkpoints(settings)
    print(f"Titik periksa dari {where}.", file=sys.stderr)
    count = 0
    with args.out.open("wb") as out:
        for line in export_lines(read_store(settings)):
            out.write(line)
            count += 1
        for line in checkpoint_lines(checkpoints):
            out.write(line)
    print(
        f"{thousands(count)} peristiwa dan {len(checkpoints)} titik periksa bertanda tangan "
        f"ditulis ke {args.out}."
    )


def export_epcis(args: argparse.Namespace) -> None:
    """A filtered range of the event store as an EPCIS 2.0 document, written as it is read."""
    settings = Settings.from_env()
    writable(args.out)
    if args.kecamatan:  # a filter that could only ever be empty is a mistake: say so
        wilayah = load_places(settings)
        unknown = [k for k in args.kecamatan if not known_kecamatan(wilayah, k)]
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


def export_checkpoints(settings: Settings) -> tuple[list[Checkpoint], str]:
    """The signed checkpoints an export carries: from NATS, else from the ledger view (a copy
    of the store and its views, no server), else none, and where they came from."""
    try:
        return fetch_checkpoints(settings), f"aliran {CHECKPOINT_STREAM}"
    except Refused as refused:
        print(f"{refused} Titik periksa diambil dari basis data tampilan.", file=sys.stderr)
    views = open_views(settings)
    try:
        ledger = LedgerView(views)
        ledger.setup()
        return ledger.checkpoints(), "basis data tampilan"
    finally:
        views.close()


def fetch_checkpoints(settings: Settings, subject: str = LedgerView.subject) -> list[Checkpoint]:
    """The signed checkpoints (of the log `subject` names) and cosignatures in the
    `LACAK_LEDGER` stream, or Refused."""

    try:
        checkpoints = asyncio.run(fetch_stream_checkpoints(settings.nats_url, subject=subject))
    except (NatsError, OSError, TimeoutError) as error:
        raise Refused(
            f"NATS di {settings.nats_url} tidak bisa dihubungi ({error or type(error).__name__}); "
            "atur LACAK_NATS_URL (lacak demo mencetak alamat NATS-nya), atau periksa terhadap "
            "berkas yang disimpan: --checkpoints."
        ) from None
    if checkpoints is None:
        raise Refused(
            f"Aliran {CHECKPOINT_STREAM} tidak ada di {settings.nats_url}: buku besar belum "
            "pernah berjalan di sini, atau ini server NATS yang lain."
        )
    return checkpoints


def save_checkpoints(args: argparse.Namespace) -> None:
    """The ledger's signed checkpoints from their JetStream stream, with its key, as a file an
    auditor keeps."""
    settings = Settings.from_env()
    writable(args.out)
    checkpoints = fetch_checkpoints(
        settings, (AccessLedgerView if args.akses else LedgerView).subject
    )
    try:
        verifier = log_verifier(settings)
    except NoteError:
        verifier = None
    file = CheckpointFile(
        source=f"{settings.nats_url} {CHECKPOINT_STREAM}",
        log_key=str(verifier) if verifier else None,
        checkpoints=[c.note for c in checkpoints],
    )
    args.out.write_bytes(msgspec.json.format(msgspec.json.encode(file)))
    print(f"{len(checkpoints)} titik periksa ditulis ke {args.out}.")


def print_ledger_key(args: argparse.Namespace) -> None:
    """The ledger's verifier key, to publish; only the ledger process makes one."""
    settings = Settings.from_env()
    try:
        verifier = log_verifier(settings)
    except NoteError as error:
        raise Refused(f"Kunci buku besar: {error}.") from None
    if verifier is None:
        raise Refused(
            f"Belum ada kunci buku besar di {settings.ledger_key}: proses buku besar (lacak "
            "project ledger, atau lacak demo) membuatnya saat pertama berjalan. Di mesin auditor, "
            "ambil kuncinya dari KPU atau dari /api/v1/ledger/key."
        )
    print(verifier)


def verify_proof(args: argparse.Namespace) -> None:
    """An inclusion-proof bundle (/kotak/<label>/bukti, /api/v1/ledger/proof/<n>) checked
    offline with the ledger's key; exit 1 if any event is not in the signed tree."""
    data = read_bytes(args.file, "Berkas bukti")
    try:
        bundle = msgspec.json.decode(data, type=ProofBundle)
    except msgspec.DecodeError as error:
        raise Refused(f"Berkas bukti {args.file} rusak: {error}.") from None
    log_key = log_key_of(args, None, None)
    if bundle.log_key and bundle.log_key != str(log_key):
        print(
            f"Perhatian: berkas menyebut kunci lain ({bundle.log_key}); diperiksa dengan {log_key}."
        )
    problems = check_bundle(bundle, log_key)
    for problem in problems:
        print(f"TIDAK TERBUKTI: {problem}")
    if not problems:
        checkpoint = parse_checkpoint(bundle.checkpoint)
        print(
            f"TERBUKTI: {len(bundle.events)} peristiwa termuat dalam pohon berukuran "
            f"{thousands(checkpoint.size)} yang ditandatangani {log_key.name} pada "
            f"{checkpoint.time:%d-%m-%Y %H:%M:%S %Z}."
        )
    sys.exit(1 if problems else 0)
