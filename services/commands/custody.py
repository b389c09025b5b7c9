"""The master data, the kit plan and the election from the command line."""

import argparse
from datetime import datetime

from services.bahasa import local_time, thousands
from services.console import Refused, progress, read_bytes
from services.custody.batches import Batches
from services.custody.election import Election, Elections
from services.custody.masterdata import ImportRefusedError, ImportSummary, MasterData
from services.custody.plan import kit_plan, register_plan
from services.processes import load_places
from services.settings import Settings
from services.wilayah import Served, within


def describe(summary: ImportSummary) -> str:
    counts = (summary.kecamatan, summary.desa, summary.tps, summary.dpt)
    kec, desa, tps, dpt = (thousands(n) for n in counts)
    return f"{summary.kabupaten_name}: {kec} kecamatan, {desa} desa, {tps} TPS, DPT {dpt}."


def describe_election(election: Election, wilayah: Served) -> str:
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
            imported = load_places(settings).kabupaten()
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
    """`lacak check-late`: at the end of H-1, flag every batch that has not reached its TPS, in
    every kabupaten/kota imported, each at the H-1 of its own province's clock."""
    settings = Settings.from_env()
    wilayah = load_places(settings)
    batches = Batches(settings.store, wilayah=wilayah)
    try:
        master_data = MasterData(batches)
        election = Elections(batches).get(settings.election)
        if args.voting_day is not None:  # a what-if, or an election not yet declared
            election = Election(election=settings.election, name="", voting_day=args.voting_day)
        if election is None:
            raise Refused(
                f"Pemilu {settings.election} belum dicatat: `lacak election --name ... "
                "--voting-day ... --by ...`, atau beri --voting-day."
            )
        imported = wilayah.kabupaten()
        for code, name in imported.items():
            said = f"{name}: " if len(imported) > 1 else ""
            deadline = election.h1_deadline(code)
            if datetime.now(deadline.tzinfo) < deadline:
                print(
                    f"{said}Batas H-1 ({local_time(deadline)}) belum lewat: belum ada yang "
                    "terlambat."
                )
                continue
            tree = master_data.wilayah(settings.election, code)
            assert tree is not None  # indexed at its import
            flagged = batches.flag_late([plan.label for plan in kit_plan(tree)], deadline)
            print(
                f"{said}{thousands(flagged)} kiriman baru ditandai TERLAMBAT: belum sampai di TPS "
                f"pada batas {deadline:%d-%m-%Y %H:%M %Z}."
            )
    finally:
        batches.close()
