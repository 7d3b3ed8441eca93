"""The full scope catalogue: the bindings' ``<department>.<entity>:read`` plus the policies' finer scopes.

``hub.oauth.catalogue`` derives one scope per bound entity. Conditional fields need finer ones
(``security.identity:read`` unmasks a person's ID number, ``taxation.credit:read`` shows a tax
credit grade); a department declares them in the ``[scopes]`` table of its own policy file, named
under its own prefix, each with the description a steward reads when granting it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from hub.oauth.catalogue import scope_catalogue
from hub.policy.model import Policies, Sharing
from hub.policy.source import PolicyFile, read_policy_file

SCOPE = re.compile(r"^([a-z][a-z0-9_]*)(\.[a-z][a-z0-9_]*)+:read$")


def policy_files(policies_dir: Path) -> list[Path]:
    return sorted(policies_dir.glob("*.toml"))


def declared_scopes(files: Iterable[PolicyFile], bound: frozenset[str]) -> dict[str, str]:
    """Scope -> description over every file; a scope outside its file's department is an error."""
    scopes: dict[str, str] = {}
    for file in files:
        table = file.data.get("scopes", {})
        if not isinstance(table, dict):
            raise file.error(("scopes",), 'scopes must be a table of "<scope>" = "<description>"')
        for name, description in table.items():
            key = ("scopes", name)
            match = SCOPE.match(name)
            if match is None or match.group(1) != file.department:
                raise file.error(key, f"scope {name!r} must read {file.department}.<name>:read")
            if name in bound:
                raise file.error(key, f"scope {name!r} is already in the catalogue (from the bindings)")
            scopes[name] = file.string(key, description)
    return scopes


def full_scope_catalogue(bindings_dir: Path, policies_dir: Path) -> frozenset[str]:
    """Every scope a client may be granted: the bindings' and the ones the policy files declare."""
    bound = scope_catalogue(bindings_dir)
    files = [read_policy_file(path) for path in policy_files(policies_dir)]
    return bound | frozenset(declared_scopes(files, bound))


def scope_sharing(policies: Policies) -> dict[str, str]:
    """Scope -> "conditional" if any field it unlocks unmasked is conditional, else "unconditional".

    A field is unlocked by its own scope, or by its type's scope when it has none. Grant requests
    for a conditional scope wait for the owning department's steward (docs/architecture.md sharing classes).
    """
    sharing = {scope: "unconditional" for scope in policies.catalogue}
    for type_policy in policies.types.values():
        for field in type_policy.fields.values():
            if field.sharing is Sharing.CONDITIONAL:
                sharing[field.scope or type_policy.scope] = "conditional"
    return sharing
