"""What a subgraph takes of an entity representation: the caller's own words, checked like arguments.

A representation is what a gateway, or anyone holding a token, says about an entity: its key, and for
``@requires`` the fields another subgraph resolved. The hub answers from it no more than the graph would:

- a type outside the caller's view is refused before any look-up exactly as a type the subgraph
  does not resolve (``schema.subgraphs.entities``), so its register neither confirms nor denies a key;
- a representation without its key, or without a field one of the part's fields ``@requires``, is bad
  input naming what is missing (a gateway that sends less than the SDL asks for made the mistake);
- a field that is neither the part's key nor one of its ``@requires`` fields is bad input, so nothing
  the hub derives itself (a division code for the row filter) can be supplied instead;
- each value is taken only from a caller who sees that field in clear: a value the caller sees
  masked (a person's name, an ID number) is never looked up or compared with the real one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strawberry.utils.str_converters import to_camel_case, to_snake_case

from connectors.base import Record
from hub.context import RequestContext
from hub.errors import BadArgument, FieldForbidden
from hub.policy import Allow, Deny, Mask

ARGUMENT = "representations"


class ClearValueRequired(FieldForbidden):
    """A representation carries values of fields the caller does not see in clear (all of them named)."""

    def __init__(self, type_name: str, refusals: dict[str, tuple[str, str, str]]) -> None:
        first, (reason, missing, _) = next(iter(refusals.items()))
        super().__init__(type_name, first, reason, missing)
        seen = "; ".join(f"{type_name}.{field} {how}" for field, (_, _, how) in refusals.items())
        self.args = (f"a representation's values are taken only from a client that sees them in clear: "
                     f"{seen}",)


def representation_fields(keys: tuple[str, ...], external: tuple[str, ...]) -> dict[str, str]:
    """GraphQL name -> record field name, for every field a representation of the part may carry."""
    named = {k: to_snake_case(k) for key in keys for k in key.split()}
    named.update({to_camel_case(name): name for name in external})
    return named


def required_fields(requires: Mapping[str, str]) -> dict[str, str]:
    """GraphQL name of each ``@requires`` field -> the GraphQL name of the field that requires it."""
    return {needed: to_camel_case(field) for field, selection in requires.items() for needed in selection.split()}


def accept(
    c: RequestContext, type_name: str, fields: Mapping[str, str], keys: frozenset[str],
    representation: Mapping[str, Any], required: Mapping[str, str] | None = None,
) -> Record:
    """The representation in the records' field names, or ``BadArgument`` / ``ClearValueRequired``."""
    unknown = sorted(set(representation) - set(fields))
    if unknown:
        raise BadArgument(ARGUMENT, f"a {type_name} here carries only {', '.join(sorted(fields))}, "
                                 f"not {', '.join(unknown)}")
    missing = sorted(keys - set(representation))
    if missing:
        raise BadArgument(ARGUMENT, f"a {type_name} needs its key {', '.join(missing)}")
    requiring = required or {}
    lacking = sorted(set(requiring) - set(representation))
    if lacking:
        raise BadArgument(ARGUMENT, f"a {type_name} here needs " + ", ".join(
            f"{name} ({type_name}.{requiring[name]} @requires it)" for name in lacking))
    record: Record = {}
    refusals: dict[str, tuple[str, str, str]] = {}
    for name, value in representation.items():
        field = fields[name]
        if name in keys and not isinstance(value, str):
            raise BadArgument(ARGUMENT, f"{type_name}.{name} must be a string")
        refusal = _refusal(c, type_name, field)
        if refusal is not None:
            refusals[field] = refusal
        record[field] = value
    if refusals:
        raise ClearValueRequired(type_name, refusals)
    return record


def _refusal(c: RequestContext, type_name: str, field: str) -> tuple[str, str, str] | None:
    """(reason, missing, how the caller sees it) when the caller does not see the field in clear."""
    if c.view is None or c.view.decisions is None:  # the development demo's unrestricted caller
        return None
    decisions = c.view.of(type_name)
    unclassified = Deny("unclassified", "a policy for this field")
    decision = unclassified if decisions is None else decisions.decision(field)
    if isinstance(decision, Allow):
        return None
    if isinstance(decision, Mask):
        return "scope", f"one that shows {type_name}.{field} unmasked", f"is masked ({decision.name})"
    reason = decision.reason if decision.reason in ("scope", "purpose") else "scope"
    return reason, decision.missing, f"is not shown ({decision.reason})"
