"""The client side for department systems: ``HubAuth``, an ``httpx.Auth`` that does the OAuth.

    auth = HubAuth(token_url, client_id, private_jwk, resource, scope)
    httpx.post(graphql_url, json=..., auth=auth)          # or httpx.AsyncClient(auth=auth)

It obtains a DPoP-bound access token with a ``private_key_jwt`` assertion (RFC 7523), keeps it
until shortly before it expires, and signs a fresh DPoP proof (RFC 9449) for every request,
retrying once with the server's ``DPoP-Nonce`` when told ``use_dpop_nonce``. One ``auth_flow``
generator serves sync and async clients alike. The DPoP key is made per ``HubAuth`` and never
leaves the process; the client's own key only signs assertions.

Department systems install it alone (``pip install ./client``: the ``service-centre-hub-client``
distribution), with httpx and cryptography and nothing of the hub's server: the JWS signatures
(ES256, RFC 7515 and RFC 7518 3.4) and the key thumbprints (RFC 7638) are made here with
``cryptography``. The hub's own ``hub.client`` is this module.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Generator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

__all__ = ["ASSERTION_TYPE", "HubAuth", "TokenRefused", "new_client_key", "thumbprint"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class TokenRefused(httpx.HTTPError):
    """The token endpoint said no; ``error`` is its OAuth error code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error


def new_client_key() -> dict[str, Any]:
    """A fresh P-256 private JWK (``kid`` = RFC 7638 thumbprint), made with ``cryptography``."""
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.private_numbers()
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64int(numbers.public_numbers.x),
        "y": _b64int(numbers.public_numbers.y),
        "d": _b64int(numbers.private_value),
    }
    return {**jwk, "kid": thumbprint(jwk)}


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 section 3: SHA-256 over the required members, lexicographic, no whitespace."""
    required = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    return _b64(hashlib.sha256(json.dumps(required, separators=(",", ":"), sort_keys=True).encode()).digest())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64int(value: int) -> str:
    return _b64(value.to_bytes(32, "big"))


def _int(text: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


def _private_key(jwk: dict[str, Any]) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key of a JWK, refused when its public point is not the key's own."""
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or not all(isinstance(jwk.get(m), str) for m in "xyd"):
        raise ValueError("the client key must be an EC P-256 private JWK (kty, crv, x, y, d)")
    key = ec.derive_private_key(_int(jwk["d"]), ec.SECP256R1())
    public = key.public_key().public_numbers()
    if (public.x, public.y) != (_int(jwk["x"]), _int(jwk["y"])):
        raise ValueError("the client key's x and y are not the public point of its d")
    return key


def _sign(header: dict[str, Any], claims: dict[str, Any], key: ec.EllipticCurvePrivateKey) -> str:
    """A JWS in compact serialization, ES256: the signature is r || s, 32 bytes each (RFC 7518 3.4)."""
    signing_input = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode()) for part in ({**header, "alg": "ES256"}, claims)
    )
    r, s = decode_dss_signature(key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


class HubAuth(httpx.Auth):
    requires_response_body = True

    def __init__(
        self, token_url: str, client_id: str, private_jwk: dict[str, Any], resource: str, scope: str
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.resource = resource
        self.scope = scope
        self._issuer = urlunsplit(urlsplit(token_url)._replace(path=""))
        self._client_key = _private_key(private_jwk)
        self._kid = private_jwk.get("kid") or thumbprint(private_jwk)
        dpop_jwk = new_client_key()
        self._dpop_key = _private_key(dpop_jwk)
        self._dpop_public = {k: dpop_jwk[k] for k in ("kty", "crv", "x", "y")}
        self._token: str | None = None
        self._expires = 0.0
        self._nonce: str | None = None

    def client_assertion(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self._issuer,
            "iat": now,
            "exp": now + 60,
            "jti": secrets.token_urlsafe(18),
        }
        return _sign({"typ": "JWT", "kid": self._kid}, claims, self._client_key)

    def proof(self, method: str, url: str, token: str | None = None) -> str:
        parts = urlsplit(url)
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(18),
            "htm": method,
            "iat": int(time.time()),
            "htu": urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
        }
        if token is not None:
            digest = hashlib.sha256(token.encode("ascii")).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if self._nonce is not None:
            claims["nonce"] = self._nonce
        return _sign({"typ": "dpop+jwt", "jwk": self._dpop_public}, claims, self._dpop_key)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None or time.time() > self._expires - 30:
            yield from self._fetch_token()
        response = yield self._authorized(request)
        self._remember_nonce(response)
        if response.status_code == 401 and "use_dpop_nonce" in response.headers.get("www-authenticate", ""):
            yield self._authorized(request)

    def _authorized(self, request: httpx.Request) -> httpx.Request:
        assert self._token is not None
        request.headers["Authorization"] = f"DPoP {self._token}"
        request.headers["DPoP"] = self.proof(request.method, str(request.url), self._token)
        return request

    def _fetch_token(self) -> Generator[httpx.Request, httpx.Response, None]:
        for _attempt in range(2):
            response = yield self._token_request()
            self._remember_nonce(response)
            body = response.json()
            if response.status_code == 200:
                self._token = str(body["access_token"])
                self._expires = time.time() + int(body["expires_in"])
                return
            if body.get("error") != "use_dpop_nonce":
                break
        raise TokenRefused(str(body.get("error")), str(body.get("error_description", "")))

    def _token_request(self) -> httpx.Request:
        form = {
            "grant_type": "client_credentials",
            "scope": self.scope,
            "resource": self.resource,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.client_assertion(),
        }
        return httpx.Request(
            "POST", self.token_url, data=form, headers={"DPoP": self.proof("POST", self.token_url)}
        )

    def _remember_nonce(self, response: httpx.Response) -> None:
        nonce = response.headers.get("dpop-nonce")
        if nonce:
            self._nonce = nonce
