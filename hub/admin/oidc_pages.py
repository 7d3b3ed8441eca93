"""Optional sign-in to the console through an OpenID Connect provider (authorization code, PKCE S256,
state and nonce), with authlib's httpx client for the code exchange and joserfc for the id_token.

``/admin/oidc/start`` sends the browser to the provider; the state, nonce, PKCE verifier and the page
to return to travel in a short-lived HMAC-signed cookie scoped to ``/admin/oidc`` with SameSite=Lax,
because the provider's redirect back is a cross-site top-level navigation that a Strict cookie would
miss. ``/admin/oidc/callback`` checks the state, exchanges the code, verifies the id_token (signature
against the provider's JWKS, iss, aud, azp, exp, iat, nonce) and opens the same kind of session as
the password form (rotation, expiry, CSRF) for the console account the operator linked to the
identity (``hub admin link-oidc``). The provider authenticated the person: no TOTP is asked here.
With ``oidc_enabled`` off both routes answer 404.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from typing import Any

import warnings

import httpx
from authlib.integrations.base_client import OAuthError

with warnings.catch_warnings():
    # authlib 1.9 announces a move to "httpx2" on import; the client below runs on httpx 0.28 as pinned.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hub.admin.access import SESSION_COOKIE
from hub.admin.console import console
from hub.accounts.oidc_links import OidcLinks
from hub.accounts.oidc_tokens import IdTokenRefused, verified_claims
from hub.admin.sessions import FULL
from hub.admin.signin_pages import safe_next, set_cookie
from hub.settings import Settings
from hub.admin.i18n import N_

ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")
FLOW_COOKIE = "__Secure-hub-oidc"
FLOW_PATH = "/admin/oidc"
FLOW_SECONDS = 600
REFUSED = "The sign-in with {name} did not succeed: {why}. Start again from the sign-in page."
UNLINKED = (
    "{name} knows you, but no console account is linked to your identity ({claim} = {value}). "
    "Ask the hub operator to link it to your account."
)


def redirect_uri(settings: Settings) -> str:
    return f"{settings.oauth_issuer}{FLOW_PATH}/callback"


def _flow_key(settings: Settings) -> bytes:
    # The client secret is shared by every replica and known only to the hub and the provider.
    secret = str(settings.oidc_client_secret).encode()
    return hmac.new(secret, b"hub console oidc flow", hashlib.sha256).digest()


def seal_flow(settings: Settings, flow: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(flow, separators=(",", ":")).encode()).decode().rstrip("=")
    mac = hmac.new(_flow_key(settings), body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def open_flow(settings: Settings, sealed: str) -> dict[str, Any] | None:
    """The flow this browser started, if the cookie is ours, untouched and not older than FLOW_SECONDS."""
    body, _, mac = sealed.partition(".")
    expected = hmac.new(_flow_key(settings), body.encode(), hashlib.sha256).hexdigest()
    if not mac or not hmac.compare_digest(mac.encode(), expected.encode()):
        return None
    flow: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return flow if flow.get("expires", 0) > time.time() else None


async def discovery(settings: Settings, http: AsyncOAuth2Client) -> dict[str, Any]:
    """The provider's metadata (OpenID Connect Discovery 1.0); its issuer must be the one configured."""
    issuer = str(settings.oidc_issuer).rstrip("/")
    response = await http.request("GET", f"{issuer}/.well-known/openid-configuration", withhold_token=True)
    response.raise_for_status()
    metadata: dict[str, Any] = response.json()
    if metadata.get("issuer") != settings.oidc_issuer:
        raise IdTokenRefused("the provider's metadata names another issuer")
    return metadata


def _oauth_client(settings: Settings, http_timeout: float = 10.0) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        settings.oidc_client_id, settings.oidc_client_secret, scope=settings.oidc_scopes,
        redirect_uri=redirect_uri(settings), code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic", timeout=http_timeout,
    )


def _disabled(request: Request) -> Response | None:
    if console(request).settings.oidc_enabled:
        return None
    return console(request).page(request, "problem.html", {"message": N_("There is no such page.")}, 404)


def refused(request: Request, why: str, status_code: int = 400) -> Response:
    settings = console(request).settings
    message = REFUSED.format(name=settings.oidc_name, why=why)
    response = console(request).page(request, "problem.html", {"message": message}, status_code)
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH, secure=True, httponly=True, samesite="lax")
    return response


async def start(request: Request) -> Response:
    if (off := _disabled(request)) is not None:
        return off
    settings = console(request).settings
    flow = {
        "state": secrets.token_urlsafe(32), "nonce": secrets.token_urlsafe(32),
        "verifier": secrets.token_urlsafe(48), "next": safe_next(request.query_params.get("next")),
        "expires": int(time.time()) + FLOW_SECONDS,
    }
    try:
        async with _oauth_client(settings) as client:
            metadata = await discovery(settings, client)
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"], state=flow["state"], nonce=flow["nonce"],
                code_verifier=flow["verifier"],
            )
    except (httpx.HTTPError, KeyError, ValueError, IdTokenRefused):
        return refused(request, "the provider cannot be reached or its metadata is unusable", 502)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        FLOW_COOKIE, seal_flow(settings, flow), max_age=FLOW_SECONDS, path=FLOW_PATH,
        secure=True, httponly=True, samesite="lax",
    )
    return response


async def callback(request: Request) -> Response:
    if (off := _disabled(request)) is not None:
        return off
    settings, params = console(request).settings, request.query_params
    flow = open_flow(settings, request.cookies.get(FLOW_COOKIE, ""))
    if flow is None:
        return refused(request, "this browser did not start it here, or it took too long")
    if not hmac.compare_digest(str(params.get("state", "")).encode(), str(flow["state"]).encode()):
        return refused(request, "the answer belongs to another sign-in (state)")
    if "iss" in params and params["iss"] != settings.oidc_issuer:  # RFC 9207 mix-up defence
        return refused(request, "the answer came from another provider")
    if "error" in params or "code" not in params:
        error = params.get("error", "")  # an RFC 6749 error code; anything else is not repeated
        shown = error if ERROR_CODE.match(error) else "without a code"
        return refused(request, f"the provider answered {shown}")
    try:
        claims = await _exchange(settings, str(params["code"]), flow)
    except IdTokenRefused as exc:
        return refused(request, f"the id_token was refused: {exc}")
    except (OAuthError, httpx.HTTPError, KeyError, ValueError) as exc:
        return refused(request, f"the code was not accepted ({type(exc).__name__})")
    return await _sign_in(request, settings, claims, str(flow["next"]))


async def _exchange(settings: Settings, code: str, flow: dict[str, Any]) -> dict[str, Any]:
    async with _oauth_client(settings) as client:
        metadata = await discovery(settings, client)
        token = await client.fetch_token(
            metadata["token_endpoint"], grant_type="authorization_code", code=code,
            code_verifier=flow["verifier"],
        )
        published = await client.request("GET", metadata["jwks_uri"], withhold_token=True)
        jwks = published.raise_for_status().json()
        if "id_token" not in token:
            raise IdTokenRefused("the provider sent no id_token")
        claims = verified_claims(
            str(token["id_token"]), jwks, issuer=str(settings.oidc_issuer),
            client_id=str(settings.oidc_client_id), nonce=str(flow["nonce"]),
        )
        if settings.oidc_claim not in claims and "userinfo_endpoint" in metadata:
            claims = await _with_userinfo(client, metadata["userinfo_endpoint"], claims)
    return claims


async def _with_userinfo(client: AsyncOAuth2Client, endpoint: str, claims: dict[str, Any]) -> dict[str, Any]:
    """Providers may keep profile claims out of the id_token (OpenID Connect Core 5.4); the UserInfo
    answer counts only for the same subject (5.3.2), and never overrides the verified claims."""
    answer = (await client.request("GET", endpoint)).raise_for_status().json()
    if not isinstance(answer, dict) or answer.get("sub") != claims["sub"]:
        raise IdTokenRefused("the UserInfo answer is about another subject")
    return answer | claims


async def _sign_in(request: Request, settings: Settings, claims: dict[str, Any], target: str) -> Response:
    value = claims.get(settings.oidc_claim)
    if not isinstance(value, str) or not value:
        return refused(request, f"the id_token has no {settings.oidc_claim} claim", 403)
    stores = console(request).stores
    links = OidcLinks(console(request).engine)
    username = await links.account_for(str(settings.oidc_issuer), value)
    account = await stores.accounts.get(username) if username else None
    if account is None or account.disabled:
        message = UNLINKED.format(name=settings.oidc_name, claim=settings.oidc_claim, value=value)
        response = console(request).page(request, "problem.html", {"message": message}, 403)
        response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH, secure=True, httponly=True, samesite="lax")
        return response
    presented = request.cookies.get(SESSION_COOKIE)
    token, _ = await stores.sessions.open(account.username, FULL, replacing=presented)
    # A page of ours moves on: a redirect would still count as the provider's cross-site
    # navigation, and the Strict session cookie would not go with it.
    response = console(request).page(request, "oidc_done.html", {"next": safe_next(target)})
    set_cookie(response, SESSION_COOKIE, token)
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH, secure=True, httponly=True, samesite="lax")
    return response


def routes() -> list[Route]:
    return [
        Route(f"{FLOW_PATH.removeprefix('/admin')}/start", start, methods=["GET"]),
        Route(f"{FLOW_PATH.removeprefix('/admin')}/callback", callback, methods=["GET"]),
    ]
