"""Whether the registry database is at the code's migrations.

Schema migrations are an operator's step (``hub migrate``: the compose one-shot service, the
Kubernetes Job), never a request's: a production replica only reads the revision the database is
at and refuses to serve a registry that is behind, naming the command. Development (``hub demo``,
``make run``) migrates its own SQLite file at start-up instead (``Settings.migrates_at_start``).
"""

from __future__ import annotations

import functools
import logging

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.settings import SettingsError
from hub.store.database import MIGRATIONS


class RegistryBehind(SettingsError):
    """The registry database is older than this hub's code: ``hub migrate`` brings it up."""

    def __init__(self, found: str | None, needed: str) -> None:
        at = f"at revision {found}" if found else "not migrated (no revision)"
        super().__init__(
            f"the registry database is {at}; this hub needs revision {needed}: run `hub migrate` "
            "(the compose service `migrate`, the Kubernetes Job `hub-migrate`) before starting replicas"
        )
        self.found = found
        self.needed = needed


@functools.cache
def code_revision() -> str:
    """The newest migration this code ships (Alembic's single head)."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the hub ships at least one migration"
    return head


async def database_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


def _current(connection: Connection) -> str | None:
    logging.getLogger("alembic").setLevel(logging.WARNING)  # a line per readiness probe is noise
    return MigrationContext.configure(connection).get_current_revision()


async def require_migrated(engine: AsyncEngine) -> None:
    """Raise ``RegistryBehind`` when the database is older than the code.

    A revision this code does not know is newer (a rolling update migrated ahead of this replica):
    migrations only add, so an older replica keeps serving until it is replaced.
    """
    found = await database_revision(engine)
    if found is None or found in _older_revisions():
        raise RegistryBehind(found, code_revision())


@functools.cache
def _older_revisions() -> frozenset[str]:
    script = ScriptDirectory.from_config(_config())
    return frozenset(rev.revision for rev in script.walk_revisions() if rev.revision != code_revision())


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config
