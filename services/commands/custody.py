"""The master data, the kit plan and the election from the command line."""

import argparse
from datetime import datetime

from services.bahasa import local_time, thousands
from services.console import Refused, progress, read_bytes
from services.custody.batches import Batches
from services.custody.election import Election, Elections
from services.custody.masterdata import ImportRefusedError, ImportSummary, MasterData
from services.custody.plan import kit_plan, register_plan
from services.processes import load_wilayah
from services.settings import Settings
from services.wilayah import Wilayah, within


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


def import_master_data(args: argparse.Namespace) -> None:
    """`lacak import`: an election's TPS list, accepted whole or refused whole."""
    settings = Settings.from_env()
    settings.make_folders()
    data = read_bytes(args.file, "Berkas")
    batches = Batches(settings.store)
    try:
        kept = MasterData(batches).import_many(
            args.election or settings.election,
            args.file.name,
            data,
            args.by,
            lambda done, total: (
                progress("Mengimpor kabupaten/kota", done, total) if total > 1 else None
            ),
        )
    except ImportRefusedError as refused:
        raise Refused(str(refused)) from None
    finally:
        batches.close()
    if len(kept) == 1:
        print(f"Diimpor: {describe(kept[0])} (sha256 {kept[0].file_sha256})")
    else:
        tps, dpt = sum(k.tps for k in kept), sum(k.dpt for k in kept)
        print(
            f"Diimpor: {thousands(len(kept))} kabupaten/kota, {thousands(tps)} TPS, "
            f"DPT {thousands(dpt)} (sha256 {kept[0].file_sha256})"
        )
    print("Berikutnya: `lacak plan` mendaftarkan kiriman setiap TPS.")


def register_kit_plan(args: argparse.Namespace) -> None:
    """`lacak plan`: every TPS's kit registered as labelled batches, in every kabupaten/kota
    imported (or those of `--wilayah`); run again to finish."""
    settings = Settings.from_env()
    batches = Batches(settings.store)
    try:
        master_data = MasterData(batches)
        imported = master_data.kabupaten(settings.election)
        if not imported:  # imported before the election's index was kept
            imported = {settings.kabupaten: load_wilayah(settings).name}
        chosen = [code for code in imported if within(args.wilayah or "", code)]
        if not chosen:
            raise Refused(f"Tidak ada kabupaten/kota yang diimpor di wilayah {args.wilayah}.")
        for code in chosen:
            wilayah = master_data.wilayah(settings.election, code)
            assert wilayah is not None  # indexed at its import
            registered = register_plan(
                batches,
                wilayah,
                lambda done, total, name=wilayah.name: progress(
                    f"Mendaftarkan kiriman {name}", done, total
                ),
            )
            if registered:
                print(f"{thousands(registered)} kiriman terdaftar untuk {wilayah.name}.")
            else:
                print(f"Semua kiriman {wilayah.name} sudah terdaftar; tidak ada yang ditambahkan.")
    finally:
        batches.close()


def declare_election(args: argparse.Namespace) -> None:
    """`lacak election`: the election's name and voting day, on the record."""
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


def check_late(args: argparse.Namespace) -> None:
    """`lacak check-late`: at the end of H-1, flag every batch that has not reached its TPS."""
    settings = Settings.from_env()
    wilayah = load_wilayah(settings)
    batches = Batches(settings.store, wilayah=wilayah)
    try:
        election = Elections(batches).get(settings.election)
        if args.voting_day is not None:  # a what-if, or an election not yet declared
            election = Election(election=settings.election, name="", voting_day=args.voting_day)
        if election is None:
            raise Refused(
                f"Pemilu {settings.election} belum dicatat: `lacak election --name ... "
                "--voting-day ... --by ...`, atau beri --voting-day."
            )
        deadline = election.h1_deadline(wilayah.code)
        if datetime.now(deadline.tzinfo) < deadline:
            print(f"Batas H-1 ({local_time(deadline)}) belum lewat: belum ada yang terlambat.")
            return
        labels = [plan.label for plan in kit_plan(wilayah)]
        flagged = batches.flag_late(labels, deadline)
    finally:
        batches.close()
    print(
        f"{thousands(flagged)} kiriman baru ditandai TERLAMBAT: belum sampai di TPS pada batas "
        f"{deadline:%d-%m-%Y %H:%M %Z}."
    )
