"""The admin-log entries of registry changes, made from the changed record: (action, target, details)."""

from __future__ import annotations

from typing import Any

from hub.registry.checks import STATUS_WORDS
from hub.store import ClientRecord, DepartmentRecord
from hub.store.admin_log import Entry


def department_registered(d: DepartmentRecord) -> tuple[str, str, dict[str, Any]]:
    return "department.register", d.name, {"title": d.title, "jurisdiction": d.jurisdiction}


def department_status_set(d: DepartmentRecord) -> tuple[str, str, dict[str, Any]]:
    return f"department.{STATUS_WORDS[d.status][:-2]}", d.name, {}


def client_registered(c: ClientRecord) -> tuple[str, str, dict[str, Any]]:
    details = {"department": c.department, "name": c.name, "kid": c.keys[0]["kid"]}
    return "client.register", c.client_id, details


def client_status_set(c: ClientRecord) -> tuple[str, str, dict[str, Any]]:
    return f"client.{STATUS_WORDS[c.status][:-2]}", c.client_id, {}


def limits_set(c: ClientRecord) -> tuple[str, str, dict[str, Any]]:
    """``limits`` None: the client is back on the settings' defaults."""
    return "client.limits", c.client_id, {"limits": None if c.limits is None else c.limits.as_json()}


def key_added(client_id: str) -> Entry:
    return lambda kid: ("client.key_add", client_id, {"kid": kid})


def key_removed(client_id: str) -> Entry:
    return lambda kid: ("client.key_remove", client_id, {"kid": kid})
