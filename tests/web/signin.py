"""Signing a test client in, as a person would: an account, the login form, the CSRF token."""

import re

from litestar.testing import TestClient

from events.accounts import Role
from services.accounts.application import open_accounts
from services.settings import Settings

PASSWORD = "kata-sandi-uji-123"


def add_user(settings: Settings, username: str, role: Role, scope: str = "") -> None:
    """The account, created once (tests reuse one store)."""
    accounts = open_accounts(settings)
    try:
        if accounts.user(username) is None:
            accounts.create_user(username, username.title(), role, scope, PASSWORD)
    finally:
        accounts.close()


def csrf_of(page: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]


def sign_in(
    client: TestClient,
    settings: Settings,
    role: Role = "admin",
    scope: str = "",
    username: str | None = None,
) -> TestClient:
    """Log the client in through the login form; its requests then send the session's token."""
    username = username or f"uji-{role}{scope.replace('.', '')}"
    add_user(settings, username, role, scope)
    answer = client.post(
        "/masuk",
        data={"username": username, "password": PASSWORD, "lanjut": "/masuk"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    client.headers["x-csrf-token"] = csrf_of(client.get("/masuk").text)
    return client
