"""The gudang before packing from the command line: the procurement plan of each kabupaten/kota
imported, a supplier's delivery note, and the stock as the gudang view has it."""

import argparse
import hashlib
from datetime import UTC, datetime

import msgspec

from services.bahasa import MISMATCH_NAMES, thousands
from services.commands.accounts import known_area
from services.console import Refused, read_bytes
from services.custody.batches import Actor, Batches
from services.custody.masterdata import MasterData
from services.gudang.application import Gudangs
from services.gudang.decisions import GudangError, Said, key_of
from services.gudang.delivery_note import check_notice, notice_command_id, parse_delivery_note
from services.gudang.procurement import procurement_plan
from services.settings import Settings
from services.views.database import open_views
from services.views.gudang import GudangView, StockRow, has_plan, out_of_plan
from services.wilayah import level_of, within


def record_procurement_plans(args: argparse.Namespace) -> None:
    """`lacak gudang plan`: each imported kabupaten/kota's procurement plan from its master data
    as imported now; a plan unchanged since it was recorded is not recorded again."""
    settings = Settings.from_env()
    batches = Batches(settings.store)
    try:
        master_data, gudangs = MasterData(batches), Gudangs(batches, settings.election)
        chosen = [c for c in master_data.kabupaten(settings.election) if within(args.wilayah, c)]
        if not chosen:
            raise Refused(f"Tidak ada kabupaten/kota yang diimpor di wilayah {args.wilayah}.")
        for code in chosen:
            tree = master_data.wilayah(settings.election, code)
            assert tree is not None  # indexed at its import
            lines = procurement_plan(tree)
            current = gudangs.state(code)
            if current.planned == {key_of(line): line for line in lines}:
                print(f"{tree.name}: rencana pengadaan tidak berubah; tidak dicatat lagi.")
                continue
            # The plan after this gudang's latest event: sent again, recorded once.
            digest = hashlib.sha256(msgspec.json.encode(lines)).hexdigest()[:24]
            said = Said(
                command_id=f"plan-{digest}-{current.version}", occurred_at=datetime.now(UTC)
            )
            answer = gudangs.plan(code, lines, said, Actor(user=args.by))
            ballots = sum(x.quantity + x.reserve for x in lines if x.item == "surat_suara")
            print(
                f"{tree.name}: rencana pengadaan versi {answer.version}, "
                f"{thousands(ballots)} lembar surat suara (cadangan PSU termasuk), "
                f"{thousands(next(x.quantity for x in lines if x.item == 'kotak_suara'))} kotak."
            )
    finally:
        batches.close()


def announce_delivery(args: argparse.Namespace) -> None:
    """`lacak gudang notice FILE`: a supplier's delivery note (CSV) as a stage's notice, refused
    for what the API refuses it (web/gudang.py `post_notice_csv`) before anything is recorded."""
    settings = Settings.from_env()
    kabupaten = known_area(settings, args.kabupaten)
    if level_of(kabupaten) != "kabupaten":
        raise Refused(f"{args.kabupaten} bukan kode kabupaten/kota (misalnya 36.04).")
    data = read_bytes(args.file, "Surat jalan")
    notice = {
        "delivery": args.delivery,
        "stage": args.stage,
        "supplier": args.supplier,
        "contract": args.contract,
        "expected_on": args.expected_on,
    }
    batches = Batches(settings.store)
    try:
        check_notice(args.delivery, args.stage, args.supplier, args.contract)
        lines = parse_delivery_note(data)
        said = Said(command_id=notice_command_id(data, **notice), occurred_at=datetime.now(UTC))
        answer = Gudangs(batches, settings.election).announce(
            kabupaten, said, Actor(user=args.by), **notice, lines=lines
        )
    except GudangError as refused:
        raise Refused(str(refused)) from None
    finally:
        batches.close()
    total = sum(line.quantity for line in lines)
    print(
        f"Pemberitahuan {args.delivery} (tahap {args.stage}) dicatat: {len(lines)} jenis "
        f"barang, {thousands(total)} buah, dijadwalkan {args.expected_on:%d-%m-%Y} "
        f"(versi {answer.version})."
    )


def print_stock(args: argparse.Namespace) -> None:
    """`lacak gudang stock`: the area's stock by kind, as the gudang view has it."""
    settings = Settings.from_env()
    code = known_area(settings, args.wilayah)
    views = open_views(settings)
    try:
        view = GudangView(views)
        view.setup()
        rows = view.stock(code)
    finally:
        views.close()
    if not rows:
        print("Belum ada rencana atau penerimaan gudang yang tercatat di wilayah ini.")
        return
    columns = ("Barang", "Rencana", "Diterima", "Rusak", "Diganti", "Stok", "Kebutuhan", "Dikemas")
    print(f"{columns[0]:<34}" + "".join(f"{c:>12}" for c in columns[1:]) + "  Siap kemas")
    planned = has_plan(rows)
    for row in rows:
        name = " ".join(p for p in (row.item, row.ballot_type, row.dapil) if p)
        counts = (row.planned, row.received, row.damaged, row.replaced, row.in_stock, row.wanted)
        print(
            f"{name[:34]:<34}"
            + "".join(f"{thousands(n):>12}" for n in (*counts, row.packed))
            + f"  {readiness(row, planned)}"
        )


def readiness(row: StockRow, planned: bool) -> str:
    """Siap kemas as the gudang page says it: ballots of a dapil not planned here are tertukar,
    not waiting for more; a kind packing does not take, `-`."""
    if out_of_plan(row, planned):
        return MISMATCH_NAMES["tertukar"]
    if row.over_packed:
        return "melebihi stok"
    if row.ready:
        return "siap"
    return "belum" if row.wanted else "-"
