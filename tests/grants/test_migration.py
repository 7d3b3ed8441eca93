"""Migration 0005 moves each client's old scopes into grants that fail closed (no purposes)
and drops ``clients.scopes``, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.store import Registry, connect, migrate


async def test_old_client_scopes_become_grants_without_purposes(grants_url: str) -> None:
    engine: AsyncEngine = connect(grants_url)
    try:
        await migrate(engine, "0004")
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO departments (name, title, created_at) VALUES ('centre', 'C', 0), ('market', 'M', 0)"
            ))
            await conn.execute(
                text(
                    "INSERT INTO clients (client_id, department, name, status, jwks, scopes, created_at, "
                    "tokens_valid_after) VALUES ('centre-1', 'centre', 'cases', 'active', :jwks, :scopes, 0, 0)"
                ),
                {"jwks": json.dumps({"keys": []}), "scopes": json.dumps(["market.enterprise:read", "centre.case:read"])},
            )
        await migrate(engine)
        client = await Registry(engine).client("centre-1")
        assert client is not None and client.jurisdiction == ""
        assert client.grants == {"market.enterprise:read": frozenset(), "centre.case:read": frozenset()}
        async with engine.connect() as conn:
            owners = (await conn.execute(text("SELECT owner_department, legal_basis FROM grants"))).all()
            columns = await conn.run_sync(lambda sync: {c["name"] for c in inspect(sync).get_columns("clients")})
        assert sorted(o for o, _ in owners) == ["centre", "market"] and all("0005" in b for _, b in owners)
        assert "scopes" not in columns
    finally:
        await engine.dispose()
