"""Accounts and scanner devices from the server's command line."""

import argparse
import getpass
import os
from datetime import UTC, datetime, timedelta

from services import bahasa
from services.accounts.application import open_accounts
from services.accounts.roles import (
    ROLE_NAMES,
    SCOPE_PATTERN,
    AccessError,
    Known,
    check_assignment,
    check_scope,
    check_username,
    device_days,
)
from services.bahasa import local_time
from services.console import Refused
from services.custody.errors import NoMasterDataError
from services.processes import load_places
from services.settings import Settings


def known_scopes(settings: Settings, scope: str) -> Known | None:
    """What the master data knows, to check a scope against; refused if a scope is asked for
    and there is no master data to check it with."""
    try:
        places = load_places(settings)  # every kabupaten/kota imported
    except NoMasterDataError:
        if scope:
            raise Refused(bahasa.NO_MASTER_DATA_FOR_SCOPE.format(scope=scope)) from None
        return None
    return places.knows


def known_area(settings: Settings, code: str) -> str:
    """The area a command reads about, refused when the master data does not know it (a typo
    would otherwise answer "nothing here"); with none imported, only its form is checked."""
    if not SCOPE_PATTERN.match(code):
        raise Refused(bahasa.UNKNOWN_AREA.format(code=code))
    try:
        places = load_places(settings)
    except NoMasterDataError:
        return code
    if code and not places.knows(code):
        raise Refused(bahasa.UNKNOWN_AREA.format(code=code))
    return code


def create_user(args: argparse.Namespace) -> None:
    """`lacak user create`: the first admin, or anyone, from the server's command line."""
    settings = Settings.from_env()
    settings.make_folders()
    known = known_scopes(settings, args.scope.strip())
    try:  # what can be refused is refused before the password is asked for
        check_username(args.username)
        check_assignment(args.role, check_scope(args.scope), known)
    except AccessError as refused:
        raise Refused(str(refused)) from None
    password = os.environ.get("LACAK_PASSWORD") or getpass.getpass("Kata sandi: ")
    if "LACAK_PASSWORD" not in os.environ and getpass.getpass("Ulangi: ") != password:
        raise Refused("Kata sandi tidak sama.")
    accounts = open_accounts(settings)
    try:
        user = accounts.create_user(
            args.username, args.name or "", args.role, args.scope, password, known=known
        )
    except AccessError as refused:
        raise Refused(str(refused)) from None
    finally:
        accounts.close()
    print(
        f"Pengguna {user.username} dibuat: {ROLE_NAMES[user.role]}, "
        f"wilayah {user.scope or 'nasional'}."
    )


def issue_device(args: argparse.Namespace) -> None:
    """`lacak device issue`: a scanner's token, printed once."""
    settings = Settings.from_env()
    known = known_scopes(settings, args.scope.strip())
    try:
        days = device_days(args.days)
    except AccessError as refused:
        raise Refused(str(refused)) from None
    expires_at = datetime.now(UTC) + timedelta(days=days) if days else None
    accounts = open_accounts(settings)
    try:
        device, token = accounts.issue_device(
            args.name, args.username, args.scope, by="", known=known, expires_at=expires_at
        )
    except AccessError as refused:
        raise Refused(str(refused)) from None
    finally:
        accounts.close()
    until = f", berlaku sampai {local_time(expires_at)}" if expires_at else ""
    print(
        f"Perangkat {device.device} untuk {device.username} ({device.scope or 'nasional'}{until})."
    )
    print(f"Token (simpan sekarang, tidak ditampilkan lagi): {token}")
