"""The scope catalogue: one read scope per department entity, from the bindings; nobody invents one."""

from __future__ import annotations

from hub.oauth.catalogue import scope, scope_catalogue
from hub.settings import load_settings


def test_every_bound_entity_has_exactly_one_read_scope() -> None:
    from connectors.binding import load_bindings

    bindings_dir = load_settings(environment="development").bindings_dir
    catalogue = scope_catalogue(bindings_dir)
    expected = {f"{d}.{e}:read" for d, b in load_bindings(bindings_dir).items() for e in b.entities}
    assert catalogue == expected
    assert {"market.enterprise:read", "security.identity_record:read", "centre.case:read"} <= catalogue
    assert scope("housing", "construction_permit") == "housing.construction_permit:read"
