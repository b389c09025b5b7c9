"""The demo's supervision: what Bawaslu Kabupaten Serang found and KPU answered, so the board's
findings, the lists and the notices have something true to show on a fresh demo. Each step is
a command with a fixed id: a restart records nothing twice."""

from datetime import UTC, datetime, timedelta

from services.custody.batches import Actor, Batches
from services.findings.application import Findings
from services.findings.contacts import Contacts
from services.findings.decisions import Said
from services.findings.hours import response_hours
from services.wilayah import Wilayah, kecamatan_of

BAWASLU = Actor(user="demo-bawaslu")
KPU = Actor(user="demo-monitor")


def supervision_story(batches: Batches, contacts: Contacts, hours: str, home: Wilayah) -> None:
    """Three findings in the demo's kabupaten: one answered and closed, one acknowledged (a
    citizen's report, its contact kept beside the store), one waiting for KPU."""
    findings = Findings(batches, response_hours(hours))
    first = home.tps[0]
    now = datetime.now(UTC)

    def said(command: str, minutes_ago: int) -> Said:
        return Said(
            command_id=f"demo-{home.code}-{command}",
            occurred_at=now - timedelta(minutes=minutes_ago),
        )

    guard = findings.file(
        said("temuan-jaga", 180),
        BAWASLU,
        source="temuan",
        kind="tidak_dijaga",
        where=home.code,
        text="Pintu belakang gudang KPU terbuka dan tidak dijaga saat sortir-lipat malam hari.",
        filed_by="Demo Bawaslu (Panwas Kabupaten)",
    )
    findings.acknowledge(guard.finding, "Demo KPU (Sekretariat)", "", said("jaga-terima", 170), KPU)
    findings.answer(
        guard.finding,
        "Demo KPU (Sekretariat)",
        "Dua petugas jaga malam ditambah; pintu belakang dikunci dan disegel tiap malam.",
        said("jaga-jawab", 120),
        KPU,
    )
    findings.close(guard.finding, "Demo Bawaslu", True, "", said("jaga-tutup", 90), BAWASLU)
    report, where = said("laporan-segel", 60), kecamatan_of(first.code)
    filed_before = findings.filed_before("laporan", where, report.command_id)
    seal = findings.file(
        report,
        BAWASLU,
        source="laporan",
        kind="segel",
        where=where,
        text="Warga melihat segel kotak suara di gudang PPK dilepas lalu dipasang lagi.",
        filed_by="Demo Bawaslu (Panwascam)",
        contact="" if filed_before else contacts.keep("warga, 0812-0000-0000 (demo)"),
    )
    findings.acknowledge(
        seal.finding, "Demo KPU (PPK)", "Dicek besok pagi", said("segel-terima", 30), KPU
    )
    findings.file(
        said("temuan-saksi", 10),
        BAWASLU,
        source="temuan",
        kind="tanpa_saksi",
        where=first.desa,
        text="Serah terima logistik di PPS tanpa saksi dan tanpa berita acara.",
        filed_by="Demo Bawaslu (PKD)",
    )
