"""The demo's accounts: one per role, scoped in the demo's kabupaten."""

import secrets
from pathlib import Path

from events.accounts import Role
from services.accounts.application import Accounts
from services.accounts.roles import ROLE_NAMES
from services.wilayah import Wilayah, kecamatan_of

DEMO_ACCOUNTS_FILE = "akun-demo.txt"
Login = tuple[Role, str, str, str]  # role, username, password, scope


def demo_accounts(accounts: Accounts, wilayah: Wilayah, path: Path) -> list[Login]:
    """One account per role, scoped in the demo's kabupaten: (role, username, password, scope).
    Made on the first start with random passwords kept in `path` (readable by its owner only),
    read from it after."""
    if path.exists():
        rows = [line.split("\t") for line in path.read_text().splitlines() if line]
        return [(role, name, password, scope) for role, name, password, scope in rows]  # type: ignore[misc]
    first = wilayah.tps[0]
    scopes: dict[Role, str] = {
        "admin": "",
        "gudang": wilayah.code,
        "ppk": kecamatan_of(first.code),
        "pps": first.desa,
        "kpps": first.code,
        "monitor": wilayah.code,
        "auditor": "",
        "bawaslu": wilayah.code[:2],
    }
    logins: list[Login] = []
    for role, scope in scopes.items():
        name, password = f"demo-{role}", secrets.token_urlsafe(9)
        if accounts.user(name) is None:
            accounts.create_user(name, f"Demo {ROLE_NAMES[role]}", role, scope, password, "demo")
        else:
            accounts.set_password(name, password, "demo")
        logins.append((role, name, password, scope))
    path.touch(mode=0o600)
    path.write_text("".join("\t".join(login) + "\n" for login in logins))
    return logins
