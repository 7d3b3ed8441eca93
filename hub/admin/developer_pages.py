"""The developer's pages: their clients with the purposes to open GraphiQL for, GraphiQL itself
acting for one of them, and GraphiQL's files (``developer_access.py`` says who may).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from hub.admin.access import require, visitor
from hub.admin.console import console
from hub.admin.developer_access import (
    ASSET_URL, ASSETS_BY_NAME, DEVELOPERS, Sandbox, chosen_purpose, sandbox, token_lifetime,
)
from hub.graphql.graphiql import ASSETS, installed


@require(*DEVELOPERS)
async def developer_page(request: Request) -> Response:
    """The developer's clients, each with its live scopes and the purposes to open GraphiQL for."""
    registry = console(request).stores.registry
    catalogue = console(request).oauth.catalogue
    clients = []
    for client_id in sorted(visitor(request).account.clients):
        client = await registry.client(client_id)
        if client is not None:
            clients.append(Sandbox(client, client.scopes & catalogue))
    return console(request).page(request, "developer.html", {"clients": clients})


@require(*DEVELOPERS)
async def graphiql_page(request: Request) -> Response:
    query = request.query_params
    found = await sandbox(request, query.get("client_id"))
    purpose = chosen_purpose(found, query.get("purpose"))
    context = {
        "client": found.client, "scopes": sorted(found.scopes), "purpose": purpose,
        "assets": ASSET_URL, "sri": {a.name: a.integrity for a in ASSETS},
        "installed": installed(console(request).settings.graphiql_assets_dir),
        "lifetime": token_lifetime(request) // 60,
    }
    return console(request).page(request, "developer_graphiql.html", context)


@require(*DEVELOPERS)
async def asset(request: Request) -> Response:
    """GraphiQL's files (installed by ``hub graphiql install``), served here whether or not the
    public ``/graphql`` page is on: the console is where developers use GraphiQL in production."""
    found = ASSETS_BY_NAME.get(request.path_params["name"])
    path = console(request).settings.graphiql_assets_dir / found.name if found else None
    if path is None or not path.is_file():
        return JSONResponse({"error": "not_found", "message": "no such GraphiQL file"}, status_code=404)
    return FileResponse(path)



def routes() -> list[Route]:
    return [
        Route("/developer", developer_page, methods=["GET"]),
        Route("/developer/graphiql", graphiql_page, methods=["GET"]),
        Route("/developer/assets/{name}", asset, methods=["GET"]),
    ]
