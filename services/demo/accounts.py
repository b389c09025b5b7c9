"""The demo's accounts: one per role, scoped in the demo's kabupaten; KPU RI and KPU Provinsi's
when it serves more."""

import secrets
from pathlib import Path

from events.accounts import Role
from services.accounts.application import Accounts
from services.accounts.roles import ROLE_NAMES
from services.notices.rules import SUGGESTED
from services.wilayah import Served, Wilayah, kecamatan_of

DEMO_ACCOUNTS_FILE = "akun-demo.txt"
Login = tuple[Role, str, str, str]  # role, username, password, scope
SHOWN_NAMES = {"demo-kpu-ri": "Demo KPU RI", "demo-kpu-provinsi": "Demo KPU Provinsi"}


def demo_accounts(accounts: Accounts, served: Served, wilayah: Wilayah, path: Path) -> list[Login]:
    """One account per role, scoped in the demo's (first) kabupaten, and when the demo serves a
    province or the nation a KPU RI and a KPU Provinsi monitor too: (role, username, password,
    scope). Made on the first start with random passwords kept in `path` (readable by its owner
    only), read from it after; an account the file lacks is made and added."""
    kept: dict[str, Login] = {}
    if path.exists():
        rows = [line.split("\t") for line in path.read_text().splitlines() if line]
        kept = {name: (role, name, password, scope) for role, name, password, scope in rows}  # type: ignore[misc]
    first = wilayah.tps[0]
    wanted: list[tuple[Role, str, str]] = [
        ("admin", "demo-admin", ""),
        ("gudang", "demo-gudang", wilayah.code),
        ("ppk", "demo-ppk", kecamatan_of(first.code)),
        ("pps", "demo-pps", first.desa),
        ("kpps", "demo-kpps", first.code),
        ("monitor", "demo-monitor", wilayah.code),
        ("auditor", "demo-auditor", ""),
        ("bawaslu", "demo-bawaslu", wilayah.code[:2]),
    ]
    if served.code != wilayah.code:  # a province's or the nation's demo: their KPU watch it all
        wanted += [
            ("monitor", "demo-kpu-ri", ""),
            ("monitor", "demo-kpu-provinsi", wilayah.code[:2]),
        ]
    logins: list[Login] = []
    for role, name, scope in wanted:
        if name in kept:
            logins.append(kept[name])
            continue
        password = secrets.token_urlsafe(9)
        if accounts.user(name) is None:
            shown = SHOWN_NAMES.get(name, f"Demo {ROLE_NAMES[role]}")
            accounts.create_user(name, shown, role, scope, password, "demo")
            # what the role's people would ask for, on the notices page
            accounts.subscribe(name, list(SUGGESTED[role]), "", "halaman", "", by="demo")
        else:
            accounts.set_password(name, password, "demo")
        logins.append((role, name, password, scope))
    path.touch(mode=0o600)
    path.write_text("".join("\t".join(login) + "\n" for login in logins))
    return logins
