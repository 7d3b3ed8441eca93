"""Purpose-bound grants: the domain (``Grant``, ``GrantRequest``, ``Actor``) and the workflow
service both the CLI (``hub grants``) and the admin console use.

- ``GrantService(engine, catalogue, clock, answer_days=10)``: request, approve, refuse, withdraw,
  grant_now (operator), revoke, amend, recertify; grants, requests, due_for_recertification,
  admin_log. ``Forbidden`` when the actor may not, ``GrantError`` for bad input, and (from ``hub.errors``)
  ``NotFound`` for an unknown id and ``Conflict`` for a request or grant in the wrong state.
- ``grant_catalogue(policies)``: scope -> (owning department, "unconditional" | "conditional").
"""

from __future__ import annotations

from hub.grants.catalogue import grant_catalogue, load_grant_catalogue
from hub.grants.checks import Catalogue
from hub.grants.model import ROLES, Actor, Forbidden, Grant, GrantError, GrantRequest
from hub.grants.service import GrantService

__all__ = [
    "ROLES",
    "Actor",
    "Catalogue",
    "Forbidden",
    "Grant",
    "GrantError",
    "GrantRequest",
    "GrantService",
    "grant_catalogue",
    "load_grant_catalogue",
]
