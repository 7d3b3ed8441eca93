"""The registry's changes as a service (``RegistryService``): framework-free, taking an ``Actor``
(``hub.grants``), writing each change's admin-log entry in the change's transaction. The console's
pages and JSON API and the ``hub registry`` command are thin adapters over it; the records and
their storage are ``hub.store.registry``."""

from __future__ import annotations

from hub.registry.service import RegistryService

__all__ = ["RegistryService"]
