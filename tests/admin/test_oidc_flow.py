"""OpenID Connect sign-in to the console against a real provider (node oidc-provider from tests/peers).

The person's browser is two httpx clients sharing nothing but URLs: one talks to the hub in-process
(its cookies only go over https, as the console's are Secure), one to the provider over the network,
filling in the provider's own development login and consent forms. Without Node.js or the peers
these tests skip naming what is missing; under ``CI=true`` they fail.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from starlette.applications import Starlette

from hub.accounts.store import Accounts
from hub.accounts.oidc_links import OidcLinks
from hub.app import create_app
from hub.settings import load_settings
from hub.store.sealing import new_key_encryption_key
from tests.admin.conftest import ORIGIN, PASSWORD, sqlite_url
from tests.admin.oidc_peer import CLIENT_ID, CLIENT_SECRET, Provider, free_port, running_provider

_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with running_provider(f"{ORIGIN}/admin/oidc/callback", tmp_path_factory.mktemp("oidc")) as running:
        yield running


@dataclass
class Hub:
    app: Starlette
    accounts: Accounts
    links: OidcLinks
    issuer: str

    def browser(self) -> Browser:
        hub = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=ORIGIN, headers={"accept-language": "en"},
        )
        return Browser(hub, httpx.AsyncClient(timeout=10), self.issuer)


@dataclass
class Browser:
    hub: httpx.AsyncClient
    provider: httpx.AsyncClient
    issuer: str

    async def to_provider(self, next_page: str = "/admin/") -> str:
        """Click "Sign in with ...": the authorization URL the hub sends the browser to."""
        started = await self.hub.get("/admin/oidc/start", params={"next": next_page})
        assert started.status_code == 303, started.text
        return started.headers["location"]

    async def sign_in_at_provider(self, authorization_url: str, login: str) -> str:
        """Log in and consent at the provider; the hub callback URL it sends the browser back to."""
        page = await self._follow(authorization_url)
        for form in ({"prompt": "login", "login": login, "password": "anything"}, {"prompt": "consent"}):
            if "callback" not in str(page.url):  # a provider session or an earlier consent skips a step
                page = await self._submit(page, form)
        assert str(page.url).startswith(f"{ORIGIN}/admin/oidc/callback"), page.text
        return str(page.url)

    async def _submit(self, page: httpx.Response, form: dict[str, str]) -> httpx.Response:
        action = _ACTION.search(page.text)
        assert action, page.text
        response = await self.provider.post(page.url.join(action.group(1)), data=form)
        return await self._follow_response(response)

    async def _follow(self, url: str) -> httpx.Response:
        return await self._follow_response(await self.provider.get(url))

    async def _follow_response(self, response: httpx.Response) -> httpx.Response:
        while response.is_redirect:
            location = str(response.url.join(response.headers["location"]))
            if not location.startswith(self.issuer):
                return httpx.Response(200, request=httpx.Request("GET", location))
            response = await self.provider.get(location)
        return response

    async def back_at_hub(self, callback_url: str) -> httpx.Response:
        parts = urlsplit(callback_url)
        return await self.hub.get(f"{parts.path}?{parts.query}")

    async def signed_in_as(self) -> str | None:
        me = await self.hub.get("/admin/api/me")
        return str(me.json()["username"]) if me.status_code == 200 else None


@pytest.fixture
async def hub(provider: Provider, tmp_path: Path, demo_data_dir: Path) -> AsyncIterator[Hub]:
    settings = load_settings(
        environment="development", issuer=ORIGIN, database_url=sqlite_url(tmp_path),
        demo_data_dir=demo_data_dir,
        key_encryption_key=new_key_encryption_key(), oidc_enabled=True, oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET, oidc_name="City ID",
    )
    app = create_app(settings)
    await app.state.hub.database.open()
    parts = app.state.hub.oauth.parts
    accounts, links = Accounts(parts.engine), OidcLinks(parts.engine)
    await parts.registry.add_department("market", "Market Regulation", "1302")
    await accounts.create("mei", "Mei Market-Steward", "steward", PASSWORD, "market")
    await accounts.create("ada", "Ada Auditor", "auditor", PASSWORD)
    await links.link(provider.issuer, "mei.city", "mei")
    try:
        yield Hub(app, accounts, links, provider.issuer)
    finally:
        await app.state.hub.aclose()


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


async def test_a_linked_identity_signs_in_to_its_account_with_a_full_session(hub: Hub) -> None:
    browser = hub.browser()
    authorization = await browser.to_provider("/admin/grants")
    query = parse_qs(urlsplit(authorization).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    assert query["scope"] == ["openid profile email"] and query["client_id"] == [CLIENT_ID]
    page = await browser.back_at_hub(await browser.sign_in_at_provider(authorization, "mei.city"))
    assert page.status_code == 200 and 'href="/admin/grants"' in page.text
    session_cookie = page.headers.get_list("set-cookie")[0]
    assert "httponly" in session_cookie.lower() and "samesite=strict" in session_cookie.lower()
    assert await browser.signed_in_as() == "mei"
    assert (await browser.hub.get("/admin/grants")).status_code == 200


async def test_the_flow_cookie_is_lax_httponly_and_scoped_to_the_oidc_paths(hub: Hub) -> None:
    started = await hub.browser().hub.get("/admin/oidc/start")
    cookie = started.headers["set-cookie"].lower()
    assert "path=/admin/oidc" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" in cookie


async def test_an_unlinked_identity_is_refused_with_a_page_saying_what_to_ask(hub: Hub) -> None:
    browser = hub.browser()
    callback = await browser.sign_in_at_provider(await browser.to_provider(), "stranger")
    page = await browser.back_at_hub(callback)
    assert page.status_code == 403 and "no console account is linked" in page.text and "stranger" in page.text
    assert await browser.signed_in_as() is None


async def test_a_linked_but_disabled_account_is_refused(hub: Hub) -> None:
    await hub.accounts.set_disabled("mei", True)
    browser = hub.browser()
    callback = await browser.sign_in_at_provider(await browser.to_provider(), "mei.city")
    page = await browser.back_at_hub(callback)
    assert page.status_code == 403 and await browser.signed_in_as() is None


async def test_a_forged_state_is_refused(hub: Hub) -> None:
    browser = hub.browser()
    callback = await browser.sign_in_at_provider(await browser.to_provider(), "mei.city")
    page = await browser.back_at_hub(with_query(callback, state="forged"))
    assert page.status_code == 400 and "another sign-in (state)" in page.text
    assert await browser.signed_in_as() is None


async def test_a_callback_in_a_browser_that_did_not_start_the_sign_in_is_refused(hub: Hub) -> None:
    """Login CSRF: an attacker's code and state delivered to the victim's browser."""
    attacker = hub.browser()
    callback = await attacker.sign_in_at_provider(await attacker.to_provider(), "mei.city")
    victim = hub.browser()
    page = await victim.back_at_hub(callback)
    assert page.status_code == 400 and "did not start it here" in page.text
    assert await victim.signed_in_as() is None


async def test_a_tampered_flow_cookie_is_refused(hub: Hub) -> None:
    browser = hub.browser()
    callback = await browser.sign_in_at_provider(await browser.to_provider(), "mei.city")
    sealed = browser.hub.cookies.get("__Secure-hub-oidc", path="/admin/oidc")
    assert sealed
    # The MAC is hex: its last two digits changed, never to what they were (1 run in 256 ended in "00").
    tampered = sealed[:-2] + ("11" if sealed.endswith("00") else "00")
    assert tampered != sealed
    browser.hub.cookies.set("__Secure-hub-oidc", tampered, domain="hub.test", path="/admin/oidc")
    page = await browser.back_at_hub(callback)
    assert page.status_code == 400 and await browser.signed_in_as() is None


async def test_a_replayed_callback_is_refused(hub: Hub) -> None:
    browser = hub.browser()
    authorization = await browser.to_provider()
    flow_cookie = browser.hub.cookies.get("__Secure-hub-oidc", path="/admin/oidc")
    callback = await browser.sign_in_at_provider(authorization, "mei.city")
    assert (await browser.back_at_hub(callback)).status_code == 200
    assert browser.hub.cookies.get("__Secure-hub-oidc", path="/admin/oidc") is None  # the flow is over
    replay = hub.browser()
    assert flow_cookie
    replay.hub.cookies.set("__Secure-hub-oidc", flow_cookie, domain="hub.test", path="/admin/oidc")
    page = await replay.back_at_hub(callback)  # the same code, even with the captured cookie
    assert page.status_code == 400 and "code was not accepted" in page.text
    assert await replay.signed_in_as() is None


async def test_an_id_token_for_another_nonce_is_refused(hub: Hub) -> None:
    browser = hub.browser()
    authorization = with_query(await browser.to_provider(), nonce="a-nonce-the-hub-never-sent")
    page = await browser.back_at_hub(await browser.sign_in_at_provider(authorization, "mei.city"))
    assert page.status_code == 400 and "id_token was refused" in page.text and "nonce" in page.text, page.text
    assert await browser.signed_in_as() is None


async def test_an_error_from_the_provider_is_shown_and_signs_nobody_in(hub: Hub) -> None:
    browser = hub.browser()
    state = parse_qs(urlsplit(await browser.to_provider()).query)["state"][0]
    page = await browser.hub.get("/admin/oidc/callback", params={"state": state, "error": "access_denied"})
    assert page.status_code == 400 and "access_denied" in page.text and await browser.signed_in_as() is None
    state = parse_qs(urlsplit(await browser.to_provider()).query)["state"][0]  # the refusal ended the flow
    odd = await browser.hub.get("/admin/oidc/callback", params={"state": state, "error": "Call +1 555 now"})
    assert odd.status_code == 400 and "555" not in odd.text and "without a code" in odd.text


async def test_an_answer_naming_another_issuer_is_refused(hub: Hub) -> None:
    browser = hub.browser()
    callback = await browser.sign_in_at_provider(await browser.to_provider(), "mei.city")
    page = await browser.back_at_hub(with_query(callback, iss="https://evil.example"))
    assert page.status_code == 400 and "another provider" in page.text


async def test_the_sign_in_page_offers_the_provider_by_its_name(hub: Hub) -> None:
    page = await hub.browser().hub.get("/admin/signin")
    assert "Sign in with City ID" in page.text and 'href="/admin/oidc/start?next=/admin/"' in page.text


async def signed_in_through_the_provider(hub: Hub, login: str = "mei.city") -> Browser:
    browser = hub.browser()
    page = await browser.back_at_hub(await browser.sign_in_at_provider(await browser.to_provider(), login))
    assert page.status_code == 200, page.text
    return browser


async def test_the_provider_authenticates_so_no_totp_code_is_asked(hub: Hub) -> None:
    await hub.accounts.set_totp("mei", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    browser = await signed_in_through_the_provider(hub)
    assert await browser.signed_in_as() == "mei"


async def test_the_session_is_a_console_session_with_csrf_sign_out_and_rotation(hub: Hub) -> None:
    browser = await signed_in_through_the_provider(hub)
    first = browser.hub.cookies.get("__Host-hub-admin")
    no_csrf = await browser.hub.post("/admin/signout", headers={"origin": ORIGIN})
    assert no_csrf.status_code == 403 and await browser.signed_in_as() == "mei"
    callback = await browser.sign_in_at_provider(await browser.to_provider(), "mei.city")
    again = await browser.back_at_hub(callback)
    assert again.status_code == 200 and browser.hub.cookies.get("__Host-hub-admin") != first
    stale = hub.browser()
    stale.hub.cookies.set("__Host-hub-admin", str(first), domain="hub.test", path="/")
    assert await stale.signed_in_as() is None  # the session presented at sign-in ended
    me = (await browser.hub.get("/admin/api/me")).json()
    headers = {"origin": ORIGIN, "x-csrf-token": me["csrf_token"]}
    out = await browser.hub.post("/admin/signout", headers=headers)
    assert out.status_code == 303 and await browser.signed_in_as() is None


async def test_the_auditor_linked_through_the_provider_reads_but_cannot_change(hub: Hub) -> None:
    await hub.links.link(hub.issuer, "ada.city", "ada")
    browser = await signed_in_through_the_provider(hub, "ada.city")
    assert await browser.signed_in_as() == "ada"
    me = (await browser.hub.get("/admin/api/me")).json()
    changed = await browser.hub.post(
        "/admin/api/departments", json={"name": "tax", "display_name": "Taxation"},
        headers={"origin": ORIGIN, "x-csrf-token": me["csrf_token"]},
    )
    assert changed.status_code == 403


async def test_an_unreachable_provider_is_a_clear_page_not_an_error(hub: Hub, tmp_path: Path) -> None:
    from hub.settings import with_overrides

    settings = hub.app.state.hub.settings
    broken = create_app(with_overrides(settings, oidc_issuer=f"http://127.0.0.1:{free_port()}"))
    try:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=broken), base_url=ORIGIN)
        page = await client.get("/admin/oidc/start")  # no Accept-Language: Chinese
        assert page.status_code == 502 and "登录未成功：无法连接身份提供方，或其元数据不可用" in page.text
        english = await client.get("/admin/oidc/start", headers={"accept-language": "en"})
        assert english.status_code == 502 and "cannot be reached" in english.text
    finally:
        await broken.state.hub.aclose()


@pytest.mark.parametrize(
    ("claim", "value"), [("preferred_username", "ada.city"), ("email", "ada.city@example.test")]
)
async def test_a_claim_the_provider_keeps_for_userinfo_names_the_account_too(
    hub: Hub, claim: str, value: str
) -> None:
    from hub.settings import with_overrides

    settings = with_overrides(hub.app.state.hub.settings, oidc_claim=claim)
    await hub.links.link(hub.issuer, value, "ada")
    other = Hub(create_app(settings), hub.accounts, hub.links, hub.issuer)
    try:
        browser = await signed_in_through_the_provider(other, "ada.city")
        assert await browser.signed_in_as() == "ada"
    finally:
        await other.app.state.hub.aclose()
