"""The catalogue of shared data (docs/architecture.md, "The access model").

Every resource and field of the graph with its owner, sharing class, scopes, mask, purposes, legal
basis, jurisdiction and update cycle, and every scope a client may be granted. Generated from the
schema, the policies and the bindings (``build_catalogue``), never maintained by hand; exported as
JSON (``to_json``) and CSV (``to_csv``); ``load_catalogue`` builds it from the hub's directories.
"""

from __future__ import annotations

from hub.catalogue.build import CatalogueError, build_catalogue
from hub.catalogue.export import CSV_COLUMNS, to_csv, to_json
from hub.catalogue.model import Catalogue, Department, FieldEntry, MaskEntry, Resource, ScopeEntry
from hub.catalogue.sources import load_catalogue

__all__ = [
    "CSV_COLUMNS",
    "Catalogue",
    "CatalogueError",
    "Department",
    "FieldEntry",
    "MaskEntry",
    "Resource",
    "ScopeEntry",
    "build_catalogue",
    "load_catalogue",
    "to_csv",
    "to_json",
]
