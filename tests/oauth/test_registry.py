"""The registry (hub/store) on SQLite and PostgreSQL: departments, clients, their keys, signing keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.client import new_client_key
from hub.errors import Conflict, NotFound
from hub.store import Registry, RegistryError, Sealer, SigningKeys, connect, migrate
from hub.store.models import SigningKeyRow
from hub.store.sealing import SealError


@pytest.fixture
async def engine(registry_url: str) -> AsyncIterator[AsyncEngine]:
    engine = connect(registry_url)
    await migrate(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


def public(key: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in key.items() if k != "d"}


@pytest.fixture
async def registry(engine: AsyncEngine) -> Registry:
    registry = Registry(engine)
    await registry.add_department("market", "Market Regulation")
    return registry


async def test_migrating_twice_is_harmless(engine: AsyncEngine) -> None:
    await migrate(engine)
    assert await Registry(engine).departments() == []


async def test_a_client_gets_a_hub_generated_id_under_its_department(registry: Registry) -> None:
    key = public(new_client_key())
    client = await registry.register_client("market", "licensing system", key)
    assert client.client_id.startswith("market-") and len(client.client_id) == len("market-") + 16
    assert client.status == "active" and client.scopes == frozenset() and client.grants == {}
    assert client.keys == (key,)
    assert await registry.client(client.client_id) == client
    assert [c.client_id for c in await registry.clients("market")] == [client.client_id]


async def test_a_department_registers_once(registry: Registry) -> None:
    with pytest.raises(Conflict, match="already registered"):
        await registry.add_department("market", "again")


async def test_a_client_of_an_unregistered_department_is_refused(registry: Registry) -> None:
    with pytest.raises(RegistryError, match="no department"):
        await registry.register_client("housing", "x", public(new_client_key()))


async def test_a_jwk_with_private_members_is_refused(registry: Registry) -> None:
    with pytest.raises(RegistryError, match=r"private members \(d\)"):
        await registry.register_client("market", "leaky", new_client_key())


async def test_keys_other_than_p256_are_refused(registry: Registry) -> None:
    rsa = {"kty": "RSA", "n": "AQAB", "e": "AQAB"}
    with pytest.raises(RegistryError, match="P-256"):
        await registry.register_client("market", "rsa", rsa)


@pytest.mark.parametrize("spelling", ["padded", "standard alphabet"])
async def test_a_key_whose_coordinates_are_not_unpadded_base64url_is_refused(registry: Registry, spelling: str) -> None:
    # The signature check reads coordinates as RFC 7518 spells them (43 base64url characters): a
    # key registered in another spelling could never authenticate its client.
    key = public(new_client_key())
    while spelling == "standard alphabet" and not any(c in key["x"] for c in "-_"):
        key = public(new_client_key())
    x = key["x"] + "=" if spelling == "padded" else key["x"].replace("-", "+").replace("_", "/")
    with pytest.raises(RegistryError, match="base64url"):
        await registry.register_client("market", "odd", {**key, "x": x})


async def test_disabling_sets_a_token_cut_off_that_survives_re_enabling(registry: Registry) -> None:
    client = await registry.register_client("market", "s", public(new_client_key()))
    disabled = await registry.set_status(client.client_id, "disabled")
    assert not disabled.active and disabled.tokens_valid_after > 0
    enabled = await registry.set_status(client.client_id, "active")
    assert enabled.active and enabled.tokens_valid_after == disabled.tokens_valid_after


async def test_client_keys_rotate_by_adding_the_new_then_removing_the_old(registry: Registry) -> None:
    old, new = public(new_client_key()), public(new_client_key())
    client = await registry.register_client("market", "s", old)
    both = await registry.add_key(client.client_id, new)
    assert [k["kid"] for k in both.keys] == [old["kid"], new["kid"]]
    with pytest.raises(Conflict, match="already has"):
        await registry.add_key(client.client_id, new)
    after = await registry.remove_key(client.client_id, old["kid"])
    assert after.keys == (new,)
    with pytest.raises(RegistryError, match="at least one key"):
        await registry.remove_key(client.client_id, new["kid"])


async def test_signing_keys_rotate_next_to_active_to_retired(engine: AsyncEngine) -> None:
    keys = SigningKeys(engine, Sealer(b"k" * 32), retention=360)
    await keys.ensure()
    first = {k.state: k.kid for k in await keys.keys()}
    assert set(first) == {"active", "next"}
    promoted = await keys.rotate()
    assert promoted == first["next"]
    states = {k.kid: k.state for k in await keys.keys()}
    assert states[first["active"]] == "retired" and states[first["next"]] == "active"
    assert sorted(states.values()) == ["active", "next", "retired"]
    assert (await keys.active_private())[0] == promoted


async def test_a_retired_key_is_unpublished_once_its_tokens_have_expired(engine: AsyncEngine) -> None:
    keys = SigningKeys(engine, Sealer(b"k" * 32), retention=360)
    await keys.ensure()
    await keys.rotate()
    retired = next(k for k in await keys.keys() if k.state == "retired")
    later = (retired.retired_at or 0) + 361
    assert retired.kid not in {k.kid for k in await keys.keys(now=later)}


async def test_private_signing_keys_are_sealed_and_open_only_with_the_same_key(engine: AsyncEngine) -> None:
    keys = SigningKeys(engine, Sealer(b"k" * 32), retention=360)
    await keys.ensure()
    async with engine.connect() as conn:
        row = (await conn.execute(select(SigningKeyRow).where(SigningKeyRow.state == "active"))).one()
    assert b"\x30\x81" not in row.sealed_private_key[:16]  # not a bare DER PKCS#8 structure
    with pytest.raises(SealError):
        await SigningKeys(engine, Sealer(b"x" * 32), retention=360).active_private()


async def test_a_revoked_jti_is_remembered_until_its_token_would_have_expired(registry: Registry) -> None:
    import time

    await registry.revoke_token("jti-live", "market-1", int(time.time()) + 300)
    await registry.revoke_token("jti-live", "market-1", int(time.time()) + 300)  # twice is harmless
    await registry.revoke_token("jti-long-dead", "market-1", int(time.time()) - 3600)
    assert await registry.is_revoked("jti-live")
    assert not await registry.is_revoked("jti-never")
    await registry.revoke_token("jti-other", "market-1", int(time.time()) + 300)  # purges the long dead
    assert not await registry.is_revoked("jti-long-dead")


async def test_an_assertion_jti_is_used_once_per_client_and_forgotten_after_expiry(registry: Registry) -> None:
    assert await registry.first_use_assertion("market-a", "jti-00000001", expires_at=1100, now=1000)
    assert not await registry.first_use_assertion("market-a", "jti-00000001", expires_at=1100, now=1050)
    assert await registry.first_use_assertion("market-b", "jti-00000001", expires_at=1100, now=1050)
    # Once expired the row is pruned by the next insert (the assertion itself is past its exp by then).
    assert await registry.first_use_assertion("market-a", "jti-00000002", expires_at=1300, now=1200)
    assert await registry.first_use_assertion("market-a", "jti-00000001", expires_at=1300, now=1200)


async def test_a_disabled_department_disables_its_clients_as_read(registry: Registry) -> None:
    client = await registry.register_client("market", "licensing", public(new_client_key()))
    assert (await registry.client(client.client_id)).active  # type: ignore[union-attr]
    department = await registry.set_department_status("market", "disabled")
    assert department.status == "disabled"
    assert [d.status for d in await registry.departments()] == ["disabled"]
    read = await registry.client(client.client_id)
    assert read is not None and not read.active and read.cutoff > 0
    assert not (await registry.clients("market"))[0].active
    await registry.set_department_status("market", "active")
    read = await registry.client(client.client_id)
    assert read is not None and read.active and read.cutoff > 0  # the cut-off stays
    with pytest.raises(NotFound, match="no department"):
        await registry.set_department_status("nowhere", "disabled")
    with pytest.raises(RegistryError, match="2-40 lower-case letters"):
        await registry.set_department_status("Nowhere!", "disabled")


async def test_a_department_carries_its_jurisdiction_to_its_clients(registry: Registry) -> None:
    department = await registry.add_department("ecology", "Ecology", jurisdiction="1302")
    assert department.jurisdiction == "1302"
    client = await registry.register_client("ecology", "permits", public(new_client_key()))
    assert (await registry.client(client.client_id)).jurisdiction == "1302"  # type: ignore[union-attr]
    assert {d.name: d.jurisdiction for d in await registry.departments()} == {"ecology": "1302", "market": ""}


@pytest.mark.parametrize("bad", ["1", "130", "13020", "1302000", "13a2", " 1302", "１３", "13\n"])
async def test_a_jurisdiction_is_a_two_four_or_six_digit_prefix(registry: Registry, bad: str) -> None:
    assert (await registry.add_department("province", "P", jurisdiction="13")).jurisdiction == "13"
    with pytest.raises(RegistryError, match="GB/T 2260 prefix"):
        await registry.add_department("elsewhere", "E", jurisdiction=bad)
