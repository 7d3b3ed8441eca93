"""``load_catalogue``: the catalogue from the hub's own graph, policy files and bindings, as served."""

from __future__ import annotations

from pathlib import Path

import schema
from connectors.binding import load_bindings
from hub.catalogue.build import build_catalogue
from hub.catalogue.model import Catalogue
from hub.policy.loader import load_policies


def load_catalogue(policies_dir: Path, bindings_dir: Path) -> Catalogue:
    """Build the graph, load and check the policies against it, and generate the catalogue.

    Raises ``PolicyError`` or ``BindingError`` exactly as start-up would.
    """
    graph = schema.build_schema()
    policies = load_policies(policies_dir, graph, bindings_dir)
    return build_catalogue(graph, policies, load_bindings(bindings_dir))
