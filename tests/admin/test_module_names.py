"""The console's modules say what they are by their names (docs/architecture.md, "Services"):
``<area>_pages.py`` serves HTML under ``/admin``, ``<area>_api.py`` JSON under ``/admin/api``,
``<area>_access.py`` what both share; the rest is the console itself, listed here."""

from __future__ import annotations

import importlib
from pathlib import Path

from starlette.routing import Route

from hub.admin import app

ADMIN = Path(app.__file__).parent
CONSOLE_ITSELF = frozenset({
    "__init__", "app", "console", "access", "sessions", "throttle", "i18n", "messages", "notices", "charts",
    "catalogue_texts", "overview_data", "audit_form",
})
KINDS = ("_pages", "_api", "_access")


def _modules() -> list[str]:
    return sorted(path.stem for path in ADMIN.glob("*.py"))


def test_every_console_module_is_a_page_an_api_what_both_share_or_the_console_itself() -> None:
    odd = [name for name in _modules() if name not in CONSOLE_ITSELF and not name.endswith(KINDS)]
    assert odd == [], "name it <area>_pages.py, <area>_api.py or <area>_access.py, or move it to its service"


def test_routes_are_served_by_pages_and_api_modules_only_each_where_its_name_says() -> None:
    pages = {_served(r) for r in app._routes() if isinstance(r, Route)}
    api = {_served(r) for r in app._api_routes()}
    for name in _modules():
        module = importlib.import_module(f"hub.admin.{name}")
        served = {_served(r) for r in getattr(module, "routes", list)()}
        if name.endswith("_pages"):
            assert served <= pages, name  # (the overview is drawn by the home route)
        elif name.endswith("_api"):
            assert served <= api, name
        else:
            assert not served, f"{name} serves routes but is not named _pages or _api"


def _served(route: Route) -> tuple[str, frozenset[str]]:
    return route.path, frozenset(route.methods or ())
