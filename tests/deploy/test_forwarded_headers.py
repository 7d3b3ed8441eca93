"""The client's address is believed from ``X-Forwarded-For`` only when the connection comes from a
proxy the settings name (``HUB_TRUSTED_PROXIES``, none by default): otherwise anyone could name a
new address for each guess and step around the console's per-address sign-in throttle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hub.accounts.store import Accounts
from hub.admin.throttle import AddressThrottle
from hub.app import create_app
from hub.settings import SettingsError, load_settings
from hub.store import connect, migrate
from tests.admin.conftest import ORIGIN, Person
from tests.deploy.conftest import production

PROXY = "10.0.0.5"
BROWSER = "203.0.113.50"
FORGED = "198.51.100.77"

@dataclass
class Console:
    app: Starlette
    throttle: AddressThrottle

    async def guess(self, peer: str, headers: dict[str, str] | None = None) -> httpx.Response:
        """One failed sign-in over a connection from ``peer``."""
        transport = httpx.ASGITransport(app=self.app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN,
                                     headers={"origin": ORIGIN, **(headers or {})}) as http:
            return await Person(http).sign_in("olga", "not the password")

    async def failures(self, address: str) -> int:
        return await self.throttle.failures(address)


@asynccontextmanager
async def console_behind(tmp_path: Path, demo_data_dir: Path, **overrides: Any) -> AsyncIterator[Console]:
    """A production console with one operator account, as ``hub migrate`` and ``hub admin`` set it up."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}"
    setup = connect(url)
    await migrate(setup)
    await Accounts(setup).create("olga", "Olga Operator", "operator", "correct horse battery staple")
    await setup.dispose()
    app = create_app(production(url, demo_data_dir, **overrides))
    try:
        yield Console(app, AddressThrottle(app.state.hub.oauth.parts.engine, 20))
    finally:
        await app.state.hub.aclose()


async def test_by_default_a_forwarded_address_is_not_believed(tmp_path: Path, demo_data_dir: Path) -> None:
    async with console_behind(tmp_path, demo_data_dir) as console:
        for n in range(3):
            answer = await console.guess(PROXY, {"x-forwarded-for": f"{FORGED[:-1]}{n}"})
            assert answer.status_code == 401
        assert await console.failures(PROXY) == 3
        assert [await console.failures(f"{FORGED[:-1]}{n}") for n in range(3)] == [0, 0, 0]


async def test_behind_a_trusted_proxy_the_browsers_address_is_counted(tmp_path: Path, demo_data_dir: Path) -> None:
    async with console_behind(tmp_path, demo_data_dir, trusted_proxies=f"{PROXY},10.1.0.0/16") as console:
        # nginx appends the address it saw: a forged entry the browser sent stays on the left, unbelieved.
        await console.guess(PROXY, {"x-forwarded-for": f"{FORGED}, {BROWSER}"})
        await console.guess("10.1.2.3", {"x-forwarded-for": BROWSER})
        assert await console.failures(BROWSER) == 2
        assert await console.failures(FORGED) == 0
        assert await console.failures(PROXY) == 0


async def test_a_client_that_is_not_the_trusted_proxy_cannot_name_an_address(
    tmp_path: Path, demo_data_dir: Path
) -> None:
    async with console_behind(tmp_path, demo_data_dir, trusted_proxies=PROXY) as console:
        await console.guess("127.0.0.1", {"x-forwarded-for": FORGED})  # same host, not the proxy
        await console.guess(BROWSER, {"x-forwarded-for": FORGED})
        assert await console.failures(FORGED) == 0
        assert await console.failures("127.0.0.1") == 1
        assert await console.failures(BROWSER) == 1


def test_trusted_proxies_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_TRUSTED_PROXIES", " 10.0.0.5 , 10.1.0.0/16,::1 ")
    assert load_settings().trusted_proxies == ("10.0.0.5/32", "10.1.0.0/16", "::1/128")
    monkeypatch.setenv("HUB_TRUSTED_PROXIES", "")
    assert load_settings().trusted_proxies == ()


@pytest.mark.parametrize("value", [
    "*",                                  # uvicorn's "trust everyone" is not an address
    "proxy.internal",                     # a name resolves differently over time: addresses only
    "10.0.0.5; rm -rf /",
    "10.0.0.500",
    "10.0.0.0/33",
    ",".join(f"10.0.{n // 250}.{n % 250}" for n in range(101)),  # too many
    12,                                   # wrong type (a TOML number)
    ["10.0.0.5", 7],
])
def test_a_trusted_proxy_that_is_not_an_address_or_network_is_refused(value: Any) -> None:
    with pytest.raises(SettingsError, match="trusted_proxies"):
        load_settings(trusted_proxies=value)
