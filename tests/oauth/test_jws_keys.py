"""Public keys are imported once per JWK (``hub.oauth.jws``): what is kept never lets a signature through
that the key did not make, and the keys kept are bounded whoever sends them."""

from __future__ import annotations

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
