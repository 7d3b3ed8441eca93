"""The data path: how the graph reads department records, and the only one it has.

- ``Records``: one request's reads (load one, load many, list) by graph type and key, under the
  caller's view, row rules and disclosure note (``hub.data.records``);
- ``REGISTERS``: which department keeps each graph type (``hub.data.registers``);
- ``Sources``: the app's connectors behind the entity cache, counted and guarded by breakers
  (``hub.data.sources``); ``Loaders``: one request's batching of look-ups (``hub.data.loaders``);
- row filters by jurisdiction (``hub.data.row_filter``) and the entity cache (``hub.data.cache``).

Resolvers use ``Records`` only; the rest is wired by the app and the request's context.
"""

from __future__ import annotations

from hub.data.records import Access, Records
from hub.data.registers import REGISTERS, Register, register_of
from hub.data.row_filter import ScanBudget, Selected
from hub.data.sources import Sources

__all__ = ["REGISTERS", "Access", "Records", "Register", "ScanBudget", "Selected", "Sources", "register_of"]
