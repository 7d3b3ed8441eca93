"""Public keys are imported once per JWK (``hub.oauth.jws``): what is kept never lets a signature through
that the key did not make, and the keys kept are bounded whoever sends them."""

from __future__ import annotations

import base64
import json

import pytest
from joserfc.jwk import ECKey

from hub.oauth import jws


def _signed(key: ECKey, claims: dict[str, object]) -> str:
    return jws.sign({"typ": "at+jwt"}, claims, key)


def _public(key: ECKey) -> dict[str, object]:
    return dict(key.as_dict(private=False))


def test_a_key_imported_before_still_refuses_a_signature_made_by_another_key() -> None:
    mine, other = ECKey.generate_key("P-256"), ECKey.generate_key("P-256")
    jws.verify(_signed(mine, {"sub": "a"}), _public(mine))  # imported and kept
    with pytest.raises(jws.JWSRejected):
        jws.verify(_signed(other, {"sub": "a"}), _public(mine))
    jws.verify(_signed(mine, {"sub": "b"}), _public(mine))


def test_a_key_imported_before_still_refuses_a_token_changed_after_signing() -> None:
    key = ECKey.generate_key("P-256")
    token = _signed(key, {"sub": "a", "scope": "x"})
    jws.verify(token, _public(key))
    header, _, signature = token.split(".")
    forged = _signed(key, {"sub": "a", "scope": "x y"}).split(".")[1]
    with pytest.raises(jws.JWSRejected):
        jws.verify(f"{header}.{forged}.{signature}", _public(key))


def test_a_jwk_that_is_no_key_is_refused_and_not_kept() -> None:
    key = _public(ECKey.generate_key("P-256"))
    broken = {**key, "x": key["y"]}  # a point off the curve
    kept = len(jws._KEYS)  # the cache itself is what is checked
    with pytest.raises(jws.JWSRejected):
        jws.verify(_signed(ECKey.generate_key("P-256"), {"sub": "a"}), broken)
    assert len(jws._KEYS) == kept


def test_the_keys_kept_are_bounded_however_many_are_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jws, "KEYS_KEPT", 3)
    for _ in range(7):
        key = ECKey.generate_key("P-256")
        jws.verify(_signed(key, {"sub": "a"}), _public(key))
        assert len(jws._KEYS) <= 3


def test_a_signature_changed_in_its_encoding_only_is_refused() -> None:
    """RFC 7515 2: base64url without padding; a decoder that skipped other characters would take
    several strings for one signature."""
    key = ECKey.generate_key("P-256")
    token = _signed(key, {"sub": "a"})
    jws.verify(token, _public(key))
    for changed in (f"{token}=", f"{token}==", f"{token[:-4]} {token[-4:]}", f"{token[:-4]}+{token[-3:]}"):
        with pytest.raises(jws.JWSRejected):
            jws.verify(changed, _public(key))


def test_only_three_base64url_segments_are_a_compact_jws() -> None:
    """RFC 7515 7.1: what the signature covers is exactly the header and payload the checks read; a
    fourth segment, an empty one or a character outside base64url in any of them is refused."""
    key = ECKey.generate_key("P-256")
    token = _signed(key, {"sub": "a"})
    header, payload, signature = token.split(".")
    jws.verify(token, _public(key))
    for changed in (f"{header}.{payload}.{payload}.{signature}", f".{payload}.{signature}",
                    f"{header}..{signature}", f"{header}!.{payload}.{signature}", f"{header}.{payload}=.{signature}",
                    f"{header}.{payload}", f"{header}.{payload}.{signature}\n"):
        with pytest.raises(jws.JWSRejected, match="not a compact JWS"):
            jws.verify(changed, _public(key))


def test_a_signature_of_another_length_than_es256s_is_refused() -> None:
    key = ECKey.generate_key("P-256")
    signing_input = _signed(key, {"sub": "a"}).rpartition(".")[0]
    for length in (0, 32, 63, 65, 72):
        signature = base64.urlsafe_b64encode(bytes(length)).rstrip(b"=").decode()
        with pytest.raises(jws.JWSRejected):
            jws.verify(f"{signing_input}.{signature}", _public(key))


def test_a_token_whose_header_names_another_algorithm_is_refused_by_the_signature_check_too() -> None:
    key = ECKey.generate_key("P-256")
    header, payload, signature = _signed(key, {"sub": "a"}).split(".")
    other = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "at+jwt"}).encode()).rstrip(b"=").decode()
    with pytest.raises(jws.JWSRejected, match="only ES256"):
        jws.verify(f"{other}.{payload}.{signature}", _public(key))


@pytest.mark.parametrize("change", [{"kty": "OKP"}, {"crv": "P-384"}, {"x": "not base64url!"}, {"y": "AAAA"}])
def test_a_jwk_that_is_not_a_p256_public_key_is_refused(change: dict[str, str]) -> None:
    key = ECKey.generate_key("P-256")
    with pytest.raises(jws.JWSRejected):
        jws.verify(_signed(key, {"sub": "a"}), {**_public(key), **change})
