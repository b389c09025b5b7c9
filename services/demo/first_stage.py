"""The demo's first stage at a gudang, before packing: the plan, two suppliers' deliveries in
stages (one short, one with another dapil's ballots), the sortir-lipat with damaged sheets, a
replacement stage, the damaged sheets destroyed, the kotak suara assembled. As 2024 went, in
the weeks before distribution; the suppliers' names are made up."""

import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from events.gudang import PlannedLine, ReceivedLine, StockLine
from services.gudang.application import Gudangs
from services.gudang.decisions import Said
from services.gudang.procurement import procurement_plan
from services.wilayah import Wilayah, local_time_of

BALLOT_SUPPLIER = "PT Cetak Surat Suara Nusantara (contoh)"
KIT_SUPPLIER = "PT Logistik Kotak Bilik (contoh)"
DAMAGE_RATE = 0.003  # Kota Kediri: about 3,000 of more than a million sheets
SHORT_SHARE = 0.1  # the short delivery lacks a tenth of one dapil's sheets
TERTUKAR = 2000  # sheets of another province's dapil in a ballot delivery
SEGEL_MORE = 2  # seals per TPS in a last stage, announced for the day after the demo starts
TEAMS = 3  # sortir-lipat teams, each a day's count of about 40 workers
SORTING_DAYS = 8
CAUSES = ("noda_tinta", "sobek", "salah_cetak")
PEOPLE = {
    "courier": "Kurir penyedia",
    "officer": "Petugas gudang KPU",
    "witness": "Pengawas Bawaslu",
}


def first_stage(
    gudangs: Gudangs,
    wilayah: Wilayah,
    voting_day: date,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> int:
    """Record the kabupaten's first stage, dated weeks before `voting_day`; nothing if its plan
    is there already. How many events it recorded."""
    if gudangs.history(wilayah.code):
        return 0
    rng = random.Random(wilayah.code)
    zone = local_time_of(wilayah.code)
    h = voting_day

    def said(name: str, days_before: int, hour: int = 9) -> Said:
        moment = datetime.combine(h - timedelta(days=days_before), time(hour), zone)
        return Said(command_id=f"demo-{wilayah.code}-{name}", occurred_at=moment.astimezone(UTC))

    code = wilayah.code
    plan = procurement_plan(wilayah)
    ballots = [line for line in plan if line.item == "surat_suara"]
    kit = [line for line in plan if line.item != "surat_suara"]
    steps: list[Callable[[], object]] = []
    add = steps.append
    add(partial(gudangs.plan, code, plan, said("rencana", 60)))
    for supplier, number, lines in (
        (BALLOT_SUPPLIER, f"SP-SS/{code}/2024", ballots),
        (KIT_SUPPLIER, f"SP-KB/{code}/2024", kit),
    ):
        add(partial(gudangs.contract, code, supplier, number, whole(lines), said(number, 58)))

    # Tahap 1: the kit, whole; tahap 2: PPWP, DPR, DPD with another province's DPR ballots
    # among them; tahap 3: DPRD, one dapil short.
    national = [b for b in ballots if b.ballot_type in ("PPWP", "DPR", "DPD")]
    regional = [b for b in ballots if b.ballot_type.startswith("DPRD")]
    stages = [(1, KIT_SUPPLIER, kit, 45), (2, BALLOT_SUPPLIER, national, 35)]
    stages.append((3, BALLOT_SUPPLIER, regional, 30))
    short = next(b for b in reversed(ballots) if b.dapil)  # a DPRD dapil's
    short_key = ("surat_suara", short.ballot_type, short.dapil)
    for stage, supplier, lines, days_before in stages:
        delivery = f"T{stage}"
        announced = whole(lines)
        counted = [
            ReceivedLine(
                item=line.item,
                ballot_type=line.ballot_type,
                dapil=line.dapil,
                quantity=line.quantity - missing(line, short_key),
            )
            for line in announced
        ]
        if stage == 2:
            wrong = ReceivedLine(
                item="surat_suara", ballot_type="DPR", dapil=other_dapil(code), quantity=TERTUKAR
            )
            counted.append(wrong)
        notice = {"delivery": delivery, "stage": stage, "supplier": supplier, "lines": announced}
        expected_on = h - timedelta(days=days_before)
        add(
            partial(
                gudangs.announce,
                code,
                said(f"{delivery}-kabar", days_before + 1, 10),
                **notice,
                expected_on=expected_on,
            )
        )
        add(
            partial(
                gudangs.receive,
                code,
                said(f"{delivery}-terima", days_before, 13),
                delivery=delivery,
                lines=counted,
                surat_jalan=f"SJ/{delivery}/{code}",
                **PEOPLE,
            )
        )

    # The sortir-lipat, from the day after a stage's ballots came, by teams; damaged sheets by
    # cause.
    damaged: Counter[tuple[str, str]] = Counter()
    for line in ballots:
        arrives = 35 if line in national else 30
        sheets_in = line.quantity + line.reserve
        if ("surat_suara", line.ballot_type, line.dapil) == short_key:
            sheets_in -= int(sheets_in * SHORT_SHARE)
        days = list(range(arrives - 1, arrives - 1 - SORTING_DAYS, -1))
        per_part = sheets_in // (len(days) * TEAMS)
        for n, day in enumerate(days):
            for team in range(1, TEAMS + 1):
                last = n == len(days) - 1 and team == TEAMS
                sheets = sheets_in - per_part * (len(days) * TEAMS - 1) if last else per_part
                bad = min(round(sheets * DAMAGE_RATE * rng.uniform(0.5, 1.5)), sheets)
                causes = Counter(rng.choice(CAUSES) for _ in range(bad))
                damaged[line.ballot_type, line.dapil] += bad
                name = f"sortir-{line.ballot_type}-{line.dapil}-{day}-{team}"
                add(
                    partial(
                        gudangs.tally,
                        code,
                        said(name, day, 16),
                        session=f"H-{day} siang",
                        team=f"Tim {team}",
                        ballot_type=line.ballot_type,
                        dapil=line.dapil,
                        sorted_sheets=sheets - bad,
                        damaged=dict(causes),
                    )
                )
    # The damaged sheets reported and replaced, then destroyed, witnessed.
    broken = [
        StockLine(item="surat_suara", ballot_type=t, dapil=d, quantity=n)
        for (t, d), n in sorted(damaged.items())
        if n
    ]
    if broken:
        replacement = {"delivery": "T4-PG-1", "stage": 4, "supplier": BALLOT_SUPPLIER}
        add(
            partial(
                gudangs.request_replacement,
                code,
                "PG-1",
                broken,
                "rusak saat sortir-lipat",
                said("PG-1", 18),
            )
        )
        add(
            partial(
                gudangs.announce,
                code,
                said("T4-kabar", 13, 10),
                **replacement,
                lines=broken,
                expected_on=h - timedelta(days=12),
                replaces="PG-1",
            )
        )
        counted = [
            ReceivedLine(item=b.item, ballot_type=b.ballot_type, dapil=b.dapil, quantity=b.quantity)
            for b in broken
        ]
        add(
            partial(
                gudangs.receive,
                code,
                said("T4-terima", 12, 11),
                delivery="T4-PG-1",
                lines=counted,
                **PEOPLE,
            )
        )
        add(
            partial(
                gudangs.destroy,
                code,
                said("musnah-1", 10, 10),
                record=f"BA-MUSNAH/{code}/1",
                lines=broken,
                officer="Ketua KPU Kabupaten/Kota",
                witnesses=["Bawaslu Kabupaten/Kota", "Kepolisian Resor"],
            )
        )
    # More seals are on their way: announced for tomorrow, still to be received.
    extra = [StockLine(item="segel", quantity=SEGEL_MORE * len(wilayah.tps))]
    more = {"delivery": "T5", "stage": 5, "supplier": KIT_SUPPLIER, "lines": extra}
    add(
        partial(
            gudangs.announce, code, said("T5-kabar", 8), **more, expected_on=h - timedelta(days=6)
        )
    )
    # The kotak suara assembled by teams over a week.
    kotak = next(line.quantity for line in kit if line.item == "kotak_suara")
    for day in range(20, 13, -1):
        share = kotak // 7 if day > 14 else kotak - kotak // 7 * 6
        add(partial(gudangs.assemble, code, "Tim rakit", share, said(f"rakit-{day}", day, 15)))
    for done, step in enumerate(steps, 1):
        step()
        progress(done, len(steps))
    return len(steps)


def whole(lines: list[PlannedLine]) -> list[StockLine]:
    """A plan's lines as goods to deliver: the PSU reserve comes with the ballots."""
    return [
        StockLine(
            item=line.item,
            ballot_type=line.ballot_type,
            dapil=line.dapil,
            quantity=line.quantity + line.reserve,
        )
        for line in lines
    ]


def missing(line: StockLine, short_key: tuple[str, str, str]) -> int:
    """What the short delivery lacks of a line: a tenth of the one short dapil's sheets."""
    if (line.item, line.ballot_type, line.dapil) != short_key:
        return 0
    return int(line.quantity * SHORT_SHARE)


def other_dapil(kabupaten: str) -> str:
    """A DPR dapil of another province: the ballots that came to the wrong kabupaten."""
    return "JAWA BARAT I" if not kabupaten.startswith("32") else "BANTEN I"
