"""Signing a test client in, as a person would: an account, the login form, the CSRF token."""

import re

from httpx import Response
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
    answer = post_login(client, username, PASSWORD, lanjut="/masuk")
    assert answer.status_code == 303, answer.text
    client.headers["x-csrf-token"] = csrf_of(client.get("/masuk").text)
    return client


def login_token_of(page: str) -> str:
    return re.search(r'<input type="hidden" name="csrf_token" value="([^"]+)"', page)[1]


def post_login(client: TestClient, username: str, password: str, **form: str) -> Response:
    """Post the login form as a browser does: read the page (its token, and the cookie beside
    it), then send both back."""
    token = login_token_of(client.get("/masuk").text)
    data = {"username": username, "password": password, "csrf_token": token, **form}
    return client.post("/masuk", data=data, follow_redirects=False)
