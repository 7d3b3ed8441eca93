"""OpenID Connect sign-in is off unless configured, and a configuration that cannot be safe stops the hub;
the operator's links between identities and accounts, on SQLite and PostgreSQL, and from the command line."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest

from hub.accounts.store import AccountError, Accounts
from hub.accounts.oidc_links import OidcLinks
from hub.cli import main
from hub.errors import Conflict, NotFound
from hub.settings import SettingsError, load_settings
from hub.store import connect
from tests.admin.conftest import Console

GOOD = {
    "oidc_enabled": True, "oidc_issuer": "https://id.city.example", "oidc_client_id": "hub-console",
    "oidc_client_secret": "a-long-enough-client-secret",
}


def test_oidc_sign_in_is_off_by_default_with_its_documented_defaults() -> None:
    settings = load_settings(environment="development")
    assert not settings.oidc_enabled
    assert (settings.oidc_scopes, settings.oidc_claim) == ("openid profile email", "sub")


def test_the_environment_configures_oidc_sign_in(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "HUB_OIDC_ENABLED": "true", "HUB_OIDC_ISSUER": "https://id.city.example", "HUB_OIDC_CLIENT_ID": "hub",
        "HUB_OIDC_CLIENT_SECRET": "a-long-enough-client-secret", "HUB_OIDC_NAME": "City ID",
        "HUB_OIDC_SCOPES": "openid email", "HUB_OIDC_CLAIM": "preferred_username",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(environment="development")
    assert settings.oidc_enabled and settings.oidc_name == "City ID"
    assert settings.oidc_claim == "preferred_username"


@pytest.mark.parametrize(("changes", "message"), [
    ({"oidc_issuer": None}, "HUB_OIDC_ISSUER"),
    ({"oidc_issuer": "http://id.city.example"}, "https://"),
    ({"oidc_issuer": "http://127.0.0.1:9000"}, "https://"),  # production: no plain http, even locally
    ({"oidc_issuer": "ftp://id.city.example"}, "https://"),
    ({"oidc_client_id": ""}, "HUB_OIDC_CLIENT_ID"),
    ({"oidc_client_secret": None}, "HUB_OIDC_CLIENT_SECRET"),
    ({"oidc_client_secret": "short"}, "at least 16"),
    ({"oidc_scopes": "profile email"}, "openid"),
    ({"oidc_claim": " "}, "HUB_OIDC_CLAIM"),
    ({"oidc_name": ""}, "HUB_OIDC_NAME"),
])
def test_an_unsafe_or_incomplete_oidc_configuration_stops_the_hub(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(environment="production", **(GOOD | changes))


def test_a_bad_boolean_for_oidc_enabled_stops_the_hub() -> None:
    with pytest.raises(SettingsError, match="oidc_enabled"):
        load_settings(environment="development", oidc_enabled="maybe")


def test_development_may_use_a_provider_on_this_machine_over_http() -> None:
    settings = load_settings(environment="development", **(GOOD | {"oidc_issuer": "http://127.0.0.1:9000"}))
    assert settings.oidc_issuer == "http://127.0.0.1:9000"
    with pytest.raises(SettingsError, match="https://"):
        load_settings(environment="development", **(GOOD | {"oidc_issuer": "http://id.city.example"}))


async def test_with_oidc_off_there_is_no_button_and_the_routes_are_not_found(console: Console) -> None:
    person = console.person()
    assert "Sign in with" not in (await person.http.get("/admin/signin")).text
    for path in ("/admin/oidc/start", "/admin/oidc/callback?code=x&state=y"):
        assert (await person.http.get(path)).status_code == 404
    signed_in = await console.signed_in("olga")
    assert (await signed_in.http.get("/admin/oidc/start")).status_code == 404


async def test_the_oidc_routes_take_no_other_method(console: Console) -> None:
    person = await console.signed_in("olga")
    assert (await person.http.post("/admin/oidc/start")).status_code == 405


async def test_an_identity_links_to_one_account_and_unlinks(console: Console) -> None:
    links = OidcLinks(console.app.state.hub.oauth.parts.engine)
    await links.link("https://id.city.example", "mei.city", "mei")
    assert await links.account_for("https://id.city.example", "mei.city") == "mei"
    assert await links.account_for("https://other.example", "mei.city") is None  # a subject is per issuer
    with pytest.raises(Conflict, match="already linked"):
        await links.link("https://id.city.example", "mei.city", "eli")
    with pytest.raises(NotFound, match="no account"):
        await links.link("https://id.city.example", "ghost.city", "ghost")
    with pytest.raises(AccountError, match="1 to 255"):
        await links.link("https://id.city.example", "", "mei")
    assert await links.of("mei") == [("https://id.city.example", "mei.city")]
    assert await links.unlink("https://id.city.example", "mei.city")
    assert not await links.unlink("https://id.city.example", "mei.city")
    assert await links.account_for("https://id.city.example", "mei.city") is None


def _run(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(list(argv))


def test_the_operator_links_and_unlinks_an_identity_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUB_ENV", "development")
    monkeypatch.setenv("HUB_STATE_DIR", str(tmp_path))
    assert _run(monkeypatch, "admin", "link-oidc", "root", "root.city") == 1
    assert "HUB_OIDC_ISSUER" in capsys.readouterr().err
    monkeypatch.setenv("HUB_OIDC_ISSUER", "https://id.city.example")
    assert _run(monkeypatch, "admin", "create-account", "root", "--role", "operator", "--password-stdin",
                stdin="a first long password\n") == 0
    assert _run(monkeypatch, "admin", "link-oidc", "nobody", "root.city") == 1
    assert capsys.readouterr().err == "hub admin: not found: no account 'nobody'\n"
    assert _run(monkeypatch, "admin", "link-oidc", "No Body", "root.city") == 1
    assert capsys.readouterr().err.startswith("hub admin: a username is 2-64")
    assert _run(monkeypatch, "admin", "link-oidc", "root", "root.city") == 0
    assert "root.city at https://id.city.example signs in as root" in capsys.readouterr().out
    assert asyncio.run(_linked("https://id.city.example", "root.city")) == "root"
    assert _run(monkeypatch, "admin", "unlink-oidc", "root", "root.city") == 0
    assert _run(monkeypatch, "admin", "unlink-oidc", "root", "root.city") == 1
    assert "hub admin: not found: root.city at https://id.city.example was not linked" in capsys.readouterr().err
    assert asyncio.run(_linked("https://id.city.example", "root.city")) is None


async def _linked(issuer: str, subject: str) -> str | None:
    engine = connect(load_settings().registry_url)
    try:
        assert await Accounts(engine).get("root") is not None
        return await OidcLinks(engine).account_for(issuer, subject)
    finally:
        await engine.dispose()
