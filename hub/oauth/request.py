"""What the protocol cores see of an HTTP request: framework-free, so the cores stay testable.

RFC 6749 section 3.2: parameters are sent with POST, form-encoded, in the body; "parameters
sent without a value MUST be treated as if they were omitted" and "request and response
parameters MUST NOT be included more than once". Credentials in the query string are refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hub.oauth.errors import InvalidRequest

FORM = "application/x-www-form-urlencoded"
REPEATABLE = frozenset({"resource"})  # RFC 8707 allows several (the hub then refuses them as a target)


@dataclass(frozen=True, slots=True)
class OAuthRequest:
    method: str
    url: str  # without the query: the htu a DPoP proof must name
    query: Sequence[tuple[str, str]]
    content_type: str
    form_items: Sequence[tuple[str, str]]
    authorization: str | None
    dpop: Sequence[str]

    def form(self) -> dict[str, str]:
        """The body parameters, once each, after the RFC 6749 transport rules."""
        if self.method != "POST":
            raise InvalidRequest("use POST")
        if self.query:
            raise InvalidRequest("parameters (and credentials) belong in the POST body, not the query string")
        if self.content_type.split(";")[0].strip().lower() != FORM:
            raise InvalidRequest(f"the body must be {FORM}")
        form: dict[str, str] = {}
        for name, value in self.form_items:
            if not value or name in REPEATABLE:
                continue
            if name in form:
                raise InvalidRequest(f"parameter {name} is repeated")
            form[name] = value
        return form

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.form_items if key == name and value]
