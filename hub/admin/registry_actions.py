"""The operator's registry changes, shared by the pages and the JSON API: each checks its input,
makes the change through ``hub.store.Registry``, which records it in the admin log in the same
transaction.

The registry is read on every token and ``/graphql`` request, so a change takes effect on the next one.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from hub.admin.admin_log import noting
from hub.admin.console import console
from hub.fairuse.limits import ClientLimits, LimitsError
from hub.store import ClientRecord, DepartmentRecord, RegistryError
from hub.store.admin_log import Entry

MAX_JWK_FILE = 16 * 1024
STATUS_WORDS = {"active": "unblocked", "disabled": "blocked"}


def text(value: Any, what: str, *, limit: int = 200, required: bool = True) -> str:
    """A form or JSON value as trimmed text, refused when missing, too long or not text."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise RegistryError(f"{what} must be text")
    trimmed = value.strip()
    if required and not trimmed:
        raise RegistryError(f"{what} is required")
    if len(trimmed) > limit or any(ord(c) < 32 for c in trimmed):
        raise RegistryError(f"{what} must be at most {limit} printable characters")
    return trimmed


async def jwk_from_upload(upload: Any) -> dict[str, Any]:
    """The JSON object in an uploaded JWK file (its checks are the registry's: public P-256 only)."""
    if not isinstance(upload, UploadFile):
        raise RegistryError("choose the client's public JWK file (JSON) to upload")
    content = await upload.read(MAX_JWK_FILE + 1)
    if len(content) > MAX_JWK_FILE:
        raise RegistryError("a JWK file is at most 16 KB")
    return jwk_from_json(content)


def jwk_from_json(content: bytes | str | dict[str, Any]) -> dict[str, Any]:
    try:
        value = content if isinstance(content, dict) else json.loads(content)
    except ValueError:
        raise RegistryError("the file is not JSON; a JWK is a JSON object") from None
    if not isinstance(value, dict):
        raise RegistryError("a JWK is a JSON object")
    return value


def status_value(value: Any) -> str:
    if value not in STATUS_WORDS:
        raise RegistryError("status must be 'active' (unblocked) or 'disabled' (blocked)")
    return str(value)


# The admin-log entries of registry changes, the same from the console and from `hub registry`.
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


async def register_department(request: Request, name: Any, title: Any, jurisdiction: Any) -> DepartmentRecord:
    registry = (await console(request).stores()).registry
    return await registry.add_department(
        text(name, "name", limit=40), text(title, "title"),
        text(jurisdiction, "jurisdiction", limit=12, required=False),
        noted=noting(request, department_registered),
    )


async def set_department_status(request: Request, name: str, status: Any) -> DepartmentRecord:
    registry = (await console(request).stores()).registry
    noted = noting(request, department_status_set)
    return await registry.set_department_status(name, status_value(status), noted=noted)


async def register_client(request: Request, department: Any, name: Any, jwk: dict[str, Any]) -> ClientRecord:
    registry = (await console(request).stores()).registry
    return await registry.register_client(
        text(department, "department", limit=40), text(name, "name"), jwk,
        noted=noting(request, client_registered),
    )


async def set_client_status(request: Request, client_id: str, status: Any) -> ClientRecord:
    registry = (await console(request).stores()).registry
    noted = noting(request, client_status_set)
    return await registry.set_status(client_id, status_value(status), noted=noted)


def limits_from(raw: Any, defaults: ClientLimits) -> ClientLimits | None:
    """A client's limits from a form or JSON (None: the settings' defaults); blank cost fields are 0."""
    if raw.get("use_defaults") in ("on", "true", True):
        return None
    values = {name: raw.get(name) for name in ("rate", "burst", "cost_per_minute", "cost_per_day")}
    values = {name: value for name, value in values.items() if value not in (None, "")}
    try:
        return ClientLimits.from_mapping(values, ClientLimits(defaults.rate, defaults.burst))
    except LimitsError as exc:
        raise RegistryError(str(exc)) from None


async def set_limits(request: Request, client_id: str, limits: ClientLimits | None) -> ClientRecord:
    registry = (await console(request).stores()).registry
    return await registry.set_limits(client_id, limits, noted=noting(request, limits_set))


async def add_key(request: Request, client_id: str, jwk: dict[str, Any]) -> ClientRecord:
    registry = (await console(request).stores()).registry
    return await registry.add_key(client_id, jwk, noted=noting(request, key_added(client_id)))


async def remove_key(request: Request, client_id: str, kid: Any) -> ClientRecord:
    registry = (await console(request).stores()).registry
    kid = text(kid, "kid", limit=100)
    return await registry.remove_key(client_id, kid, noted=noting(request, key_removed(client_id)))

