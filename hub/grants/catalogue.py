"""What a grant request may name: every scope of the catalogue, its owner and sharing class.

The owner of a scope is the department of its prefix (``market.finance:read`` -> market): the
bindings name a department's entities under its own name and a policy file may declare scopes
under its own prefix only (``hub.policy.catalogue``).
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from hub.grants.checks import Catalogue
from hub.grants.model import Sharing
from hub.policy.catalogue import scope_sharing
from hub.policy.model import Policies


def grant_catalogue(policies: Policies) -> Catalogue:
    sharing = scope_sharing(policies)
    return {scope: (scope.split(".", 1)[0], cast(Sharing, sharing[scope])) for scope in policies.catalogue}


def load_grant_catalogue(policies_dir: Path) -> Catalogue:
    """The catalogue from the policy files, checked against the graph as at start-up."""
    import schema  # the graph: loaded only by the callers that need it (the CLI, tests)
    from hub.policy import load_policies

    return grant_catalogue(load_policies(policies_dir, schema.build_schema()))
