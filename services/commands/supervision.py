"""Bawaslu's findings and the notices from the command line, on the server: an area's findings
with where each stands, and the notices' receivers and delivery log."""

import argparse
from datetime import UTC, datetime

from services import bahasa
from services.commands.accounts import known_area
from services.settings import Settings
from services.views.database import open_views
from services.views.findings import FindingView
from services.views.notices import NoticeView

OPEN = ("filed", "acknowledged", "answered")


def print_findings(args: argparse.Namespace) -> None:
    """`lacak findings`: the area's findings, newest first (open ones, or all), overdue marked."""
    settings = Settings.from_env()
    code = known_area(settings, args.wilayah)
    views = open_views(settings)
    try:
        view = FindingView(views)
        view.setup()
        rows = view.rows(code, () if args.all else OPEN, limit=args.limit)
    finally:
        views.close()
    if not rows:
        print("Tidak ada temuan" + ("" if args.all else " yang terbuka") + " di wilayah ini.")
        return
    now = datetime.now(UTC)
    print(f"{'Nomor':<22}{'Tempat':<16}{'Jenis':<28}{'Status':<22}{'Batas jawab (UTC)':<18}")
    for row in rows:
        status = bahasa.SUPERVISION_STATUS.get(row.status, row.status)
        due = row.due_at[:16].replace("T", " ")
        late = "  LEWAT BATAS" if row.overdue(now) else ""
        kind = bahasa.SUPERVISION_KINDS.get(row.kind, row.kind)
        print(f"{row.number:<22}{row.place:<16}{kind[:27]:<28}{status[:21]:<22}{due:<18}{late}")


def print_deliveries(args: argparse.Namespace) -> None:
    """`lacak notices`: each receiver's place in the notices, then the latest attempts."""
    settings = Settings.from_env()
    views = open_views(settings)
    try:
        view = NoticeView(views)
        view.setup()
        last, positions = view.last_seq(), view.positions()
        attempts = view.deliveries(limit=args.limit, failed=args.failed)
    finally:
        views.close()
    print(f"Pemberitahuan tercatat: {last}")
    for receiver, position in sorted(positions.items()):  # past what is not its kind, too
        failing = f", gagal {position.failures}x berturut" if position.failures else ""
        print(f"  {receiver:<10} sudah sampai #{position.seq}{failing}")
    for d in attempts:
        said = "terkirim" if d.ok else "GAGAL"
        print(
            f"{d.attempt_at[:19]} {d.receiver:<10} {d.channel:<8} {said:<8} "
            f"{d.delay_ms / 1000:>7.1f} s  {d.detail[:60]}  [{d.notices[:60]}]"
        )
