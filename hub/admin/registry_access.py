"""The registry as the console sees it, shared by the pages and the JSON API: the service over this
hub's registry (``hub.registry``), acting for the signed-in visitor, and an uploaded JWK file.

The registry is read on every token and ``/graphql`` request, so a change takes effect on the next one.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from hub.admin.console import console
from hub.registry import RegistryService
from hub.registry.checks import jwk_from_json
from hub.store import RegistryError

MAX_JWK_FILE = 16 * 1024


async def registry_service(request: Request) -> RegistryService:
    return RegistryService(console(request).stores.registry)


async def jwk_from_upload(upload: Any) -> dict[str, Any]:
    """The JSON object in an uploaded JWK file (its checks are the registry's: public P-256 only)."""
    if not isinstance(upload, UploadFile):
        raise RegistryError("choose the client's public JWK file (JSON) to upload")
    content = await upload.read(MAX_JWK_FILE + 1)
    if len(content) > MAX_JWK_FILE:
        raise RegistryError("a JWK file is at most 16 KB")
    return jwk_from_json(content)
