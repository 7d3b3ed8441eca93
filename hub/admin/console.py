"""The console's state for one hub: accounts, sessions, the registry, the pages' templates.

Its stores are built with it on the database the app opened (``hub.store.owner.Database``), so
building the app touches no database. Pages find it with ``console(request)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from hub.admin import i18n
from hub.admin.access import SCOPE_KEY, SESSION_COOKIE, Visitor
from hub.accounts.store import Accounts
from hub.admin.notices import notice
from hub.admin.overview_data import ChainWatch
from hub.admin.sessions import Sessions
from hub.admin.throttle import AddressThrottle
from hub.grants import GrantService, grant_catalogue
from hub.store import Registry

if TYPE_CHECKING:
    from graphql import GraphQLSchema

    from hub.audit import AuditStore
    from hub.fairuse.gate import FairUse
    from hub.graphql.views import Views
    from hub.metrics import Metrics
    from hub.oauth.server import AuthorizationServer
    from hub.policy import Policies
    from hub.settings import Settings
    from hub.source_health import SourceHealth
    from hub.store.owner import Database

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True, slots=True)
class Section:
    """An entry of the navigation bar, shown to the roles that may open it."""

    label: str
    path: str
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Stores:
    accounts: Accounts
    sessions: Sessions
    registry: Registry
    throttle: AddressThrottle


class Console:
    """What the pages read, each part handed at construction (``hub.app`` builds it for
    ``admin_app``): the settings, the database's engine (the console's own stores on it), the
    authorization server (its registry, clock and catalogue), the policies and the graph (the
    catalogue pages, developers' views), the sources' health, fair use, the audit store and the
    metrics (the overview's refusals)."""

    def __init__(
        self,
        sections: list[Section],
        *,
        settings: Settings,
        database: Database,
        oauth: AuthorizationServer,
        policies: Policies,
        views: Views,
        graphql_schema: GraphQLSchema,
        health: SourceHealth,
        fair_use: FairUse,
        audit: AuditStore,
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        self.sections = sections
        self.oauth = oauth
        self.policies = policies
        self.views = views
        self.graphql_schema = graphql_schema
        self.health = health
        self.fair_use = fair_use
        self.audit = audit
        self.metrics = metrics
        self.templates = Jinja2Templates(directory=TEMPLATES)
        i18n.install(self.templates.env)
        # JSON as people read it: Chinese as itself, not as \u escapes (autoescaped like any text).
        self.templates.env.filters["as_json"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True)
        self.chain_watch = ChainWatch()  # the overview's chain tile (hub/admin/overview_data.py)
        self.engine = engine = database.engine
        idle = self.settings.admin_idle_minutes * 60
        absolute = self.settings.admin_session_hours * 3600
        self.stores = Stores(
            Accounts(engine), Sessions(engine, idle=idle, absolute=absolute),
            oauth.parts.registry, AddressThrottle(engine, self.settings.admin_address_failures),
        )
        # The grant workflow on the registry, at the clock the token endpoint reads grants by.
        self.grants = GrantService(engine, grant_catalogue(policies), oauth.clock)

    async def visitor(self, request: Request) -> Visitor | None:
        """The person signed in with this request's session cookie, if the session and account are good."""
        token = request.cookies.get(SESSION_COOKIE)
        if not token or len(token) > 100:
            return None
        stores = self.stores
        signed_in = await stores.sessions.find(token)
        if signed_in is None:
            return None
        account = await stores.accounts.get(signed_in.username)
        if account is None or account.disabled:
            return None
        return Visitor(account, signed_in, token)

    def page(
        self, request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
    ) -> Response:
        """A page in the console's layout; the navigation shows what the visitor's role may open."""
        who: Visitor | None = getattr(request.state, "visitor", None)
        sections = [s for s in self.sections if who is not None and who.role in s.roles]
        csrf = who.csrf_token if who else ""
        language = language_of(request, who)
        here = back_here(request)
        values = {
            "visitor": who, "sections": sections, "csrf": csrf, "language": language,
            "html_lang": i18n.HTML_LANG[language], "here": here, "done": notice(request), **(context or {}),
        }
        return self.templates.TemplateResponse(request, template, values, status_code=status_code)


def back_here(request: Request) -> str:
    """Where the language switch returns to: this page, without its query (it may name a subject,
    which the page must not echo), except the sign-in page's ``next``."""
    target = request.query_params.get("next", "")
    if request.url.path == "/admin/signin" and target.startswith("/admin") and "//" not in target:
        return f"/admin/signin?next={quote(target, safe='/')}"
    return request.url.path


def language_of(request: Request, who: Visitor | None) -> str:
    """The account's language when signed in; else the switch's cookie, else the browser's choice."""
    if who is not None:
        return i18n.chosen(who.account.language) or i18n.CHINESE
    cookie = i18n.chosen(request.cookies.get(i18n.LANGUAGE_COOKIE))
    return cookie or i18n.from_accept_language(request.headers.get("accept-language"))


def console(request: Request) -> Console:
    found: Console = request.scope[SCOPE_KEY]
    return found
