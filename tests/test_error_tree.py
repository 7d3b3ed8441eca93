"""Every refusal the hub raises is a kind of ``hub.errors.HubError``, answered with its kind's code and status."""

from __future__ import annotations

import pytest
from graphql import GraphQLError

from connectors.base import SourceError, UnsupportedQuery
from hub import errors
from hub.admin.access import Forbidden as VisitorForbidden
from hub.accounts.store import AccountError
from hub.fairuse.counters import CountersUnavailable
from hub.faults.outage import REGISTRY, DependencyUnavailable
from hub.grants import Forbidden as ActorForbidden
from hub.grants import GrantError
from hub.graphql.errors import format_error
from hub.identifiers import InvalidIdentifier
from hub.store import RegistryError

REFUSALS = [
    (errors.BadArgument("first", "must be between 1 and 100"), errors.BadInput, "BAD_USER_INPUT", 400, "bad_request"),
    (InvalidIdentifier("USCC", "x", "18 characters"), errors.BadInput, "BAD_USER_INPUT", 400, "bad_request"),
    (GrantError("a legal basis is required"), errors.BadInput, "BAD_USER_INPUT", 400, "bad_request"),
    (RegistryError("no department 'housing'"), errors.BadInput, "BAD_USER_INPUT", 400, "bad_request"),
    (AccountError("no account 'x'"), errors.BadInput, "BAD_USER_INPUT", 400, "bad_request"),
    (errors.Conflict("request r-1 is refused, not pending"), errors.Conflict, "CONFLICT", 409, "conflict"),
    (errors.FieldForbidden("Person", "name", "scope", "security.identity:read"), errors.Forbidden, "FORBIDDEN",
     403, "forbidden"),
    (ActorForbidden("olga may not"), errors.Forbidden, "FORBIDDEN", 403, "forbidden"),
    (VisitorForbidden("an auditor reads"), errors.Forbidden, "FORBIDDEN", 403, "forbidden"),
    (errors.NotFound("no grant 'g-0'"), errors.NotFound, "NOT_FOUND", 404, "not_found"),
    (SourceError("market", "provider", "timed out"), errors.Unavailable, "SOURCE_UNAVAILABLE", 503, "unavailable"),
    (UnsupportedQuery("market", "no prefix"), errors.Unavailable, "SOURCE_UNAVAILABLE", 503, "unavailable"),
    (DependencyUnavailable(REGISTRY), errors.Unavailable, "REGISTRY_UNAVAILABLE", 503, "unavailable"),
    (CountersUnavailable("timed out"), errors.Unavailable, "QUOTA_UNAVAILABLE", 503, "unavailable"),
]


@pytest.mark.parametrize(("refusal", "kind", "code", "status", "error"), REFUSALS, ids=lambda v: type(v).__name__)
def test_each_refusal_is_a_kind_of_the_tree_with_its_code_and_status(
    refusal: errors.HubError, kind: type[errors.HubError], code: str, status: int, error: str
) -> None:
    assert isinstance(refusal, kind) and isinstance(refusal, errors.HubError)
    assert (refusal.code, refusal.status, refusal.error) == (code, status, error)


def test_the_kinds_are_apart_so_an_edge_can_tell_them_by_type() -> None:
    kinds = (
        errors.BadInput, errors.Conflict, errors.Forbidden, errors.NotFound, errors.Unavailable, errors.AccessRefused,
    )
    for kind in kinds:
        assert [other for other in kinds if issubclass(kind, other)] == [kind]


def test_an_access_refusal_carries_its_rfc_6750_error_and_status() -> None:
    refused = errors.AccessRefused(401, "invalid_token", "the token has expired", 'Bearer error="invalid_token"')
    assert (refused.status, refused.error, refused.code, str(refused)) == (
        401, "invalid_token", "INVALID_TOKEN", "the token has expired",
    )


def test_the_tree_is_drawn_in_the_module_docstring() -> None:
    drawn = errors.__doc__ or ""
    for name in errors.__all__:
        assert name in drawn, name


@pytest.mark.parametrize("refusal", [
    errors.BadInput("first must be between 1 and 100"), errors.Conflict("grant g-1 is revoked"),
    errors.Forbidden("not yours"), errors.NotFound("no grant 'g-0'"),
], ids=lambda v: type(v).__name__)
def test_a_resolver_s_refusal_reaches_a_graphql_client_with_its_kind_s_code(refusal: errors.HubError) -> None:
    error = GraphQLError("raised", path=["licences", 0], original_error=refusal)
    assert format_error(error, "req-1", {}) == {
        "message": str(refusal), "path": ["licences", 0], "extensions": {"code": refusal.code},
    }
