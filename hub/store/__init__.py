"""The hub's own state in SQL (SQLAlchemy 2 async, Alembic migrations): the registry of
departments and their clients, the authorization server's signing keys (sealed at rest), and
revoked access tokens. SQLite by default, PostgreSQL for several replicas.
"""

from __future__ import annotations

from hub.store.database import connect, migrate
from hub.store.registry import ClientRecord, ClientStore, DepartmentRecord, Registry, RegistryError
from hub.store.sealing import Sealer
from hub.store.signing_keys import SigningKey, SigningKeys

__all__ = [
    "ClientRecord",
    "ClientStore",
    "DepartmentRecord",
    "Registry",
    "RegistryError",
    "Sealer",
    "SigningKey",
    "SigningKeys",
    "connect",
    "migrate",
]
