"""The services' messages as the console shows them: in the page's language.

The grant service, the registry, the accounts, the fair-use limits and the audit search speak
English, with values put in (``grant G-1 is revoked``), and the CLI and the JSON API pass their
text on unchanged. The console's pages show them through ``say`` (``hub/admin/i18n.py``), which
looks a message up here when the catalogue does not hold it as it is: each form below is the
English message with a ``%(name)s`` where a value goes; the first form the message fits is
translated from the catalogue and the values are put back in. Values that are words of the
console (a role, a status, what was asked for) are translated too; a value that is itself a
message (``why``) is looked up in turn; every other value (ids, names, numbers) is shown as it is.

``tests/admin/test_i18n.py`` reads the services' code and fails when one of their messages has
no form here, or a form has no translation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache


def N_(message: str) -> str:
    """Marks a message for extraction; ``make messages`` collects these into the catalogue."""
    return message


# Values shown as words of the console (translated), and values that are messages of their own.
WORD_VALUES = frozenset({"role", "own_role", "status", "what", "field"})
MESSAGE_VALUES = frozenset({"why"})

FORMS: tuple[str, ...] = (
    # Grants: the service's checks (hub/grants/).
    N_("name at least one scope of the catalogue"),
    N_("not in the scope catalogue: %(scopes)s"),
    N_("one owning department per request; these scopes belong to %(departments)s: request each apart"),
    N_("name at least one purpose (e.g. licensing): a grant is purpose-bound"),
    N_("a purpose is lower_snake_case, at most 64 characters: %(purposes)s"),
    N_("%(what)s is required"),
    N_("%(what)s is at most %(limit)s characters"),
    N_("%(what)s is 1 to %(days)s days"),
    N_("a quota is a whole number of subjects a day, 1 to %(limit)s (or none)"),
    N_("role must be one of %(roles)s"),
    N_("a steward acts for a department; name it"),
    N_("no grant %(grant)s"),
    N_("no grant request %(request)s"),
    N_("no client %(client)s"),
    N_("client %(client)s is disabled"),
    N_("department %(department)s is not registered"),
    N_("department %(department)s is disabled"),
    N_("%(user)s (%(role)s of %(department)s) may not change grants: the %(own_role)s role is read-only here"),
    N_("%(user)s (%(role)s) may not change grants: the %(own_role)s role is read-only here"),
    N_("%(user)s (%(role)s of %(department)s) may not approve request %(request)s: "
       "only a steward of %(owner)s (the data owner) may"),
    N_("%(user)s (%(role)s of %(department)s) may not refuse request %(request)s: "
       "only a steward of %(owner)s (the data owner) may"),
    N_("%(user)s (%(role)s of %(department)s) may not amend %(grant)s: "
       "only a steward of %(owner)s (the data owner) may"),
    N_("%(user)s (%(role)s of %(department)s) may not recertify %(grant)s: "
       "only a steward of %(owner)s (the data owner) may"),
    N_("%(user)s (%(role)s of %(department)s) may not set the quota of %(grant)s: "
       "only a steward of %(owner)s (the data owner) may"),
    N_("%(user)s (%(role)s of %(department)s) may not withdraw a request of %(consumer)s"),
    N_("%(user)s (%(role)s of %(department)s) may not revoke %(grant)s: "
       "a steward of %(owner)s or %(consumer)s, or the operator, may"),
    N_("%(user)s (%(role)s of %(department)s) may not grant directly: only the operator may"),
    N_("%(user)s (%(role)s) may not grant directly: only the operator may"),
    N_("%(user)s (%(role)s of %(department)s) may not request grants for %(client)s: "
       "only a steward of %(owner)s or the operator may"),
    N_("%(user)s (%(role)s) may not request grants for %(client)s: only a steward of %(owner)s or the operator may"),
    N_("request %(request)s is %(status)s, not pending"),
    N_("grant %(grant)s is %(status)s"),
    N_("name at least one purpose to remove"),
    N_("%(grant)s names no purpose %(purposes)s"),
    N_("removing every purpose leaves nothing to grant: revoke %(grant)s instead"),
    N_("unconditional scopes: granted after the registry check"),  # the admin log's reason
    # The grant pages' own checks (hub/admin/grant_pages.py, grant_access.py).
    N_("%(value)s is not a %(what)s id"),
    N_("a quota is a whole number of subjects a day (empty: no quota)"),
    # The registry (hub/store/registry.py, hub/registry/, hub/admin/registry_access.py) and client keys (hub/oauth/).
    N_("a department name is 2-40 lower-case letters, digits or _, e.g. market"),
    N_("a jurisdiction is a GB/T 2260 prefix of 2, 4 or 6 digits (e.g. 1302), or empty for the whole city"),
    N_("status must be one of %(statuses)s"),
    N_("department %(department)s is already registered"),
    N_("no department %(department)s"),
    N_("no department %(department)s; register it first"),
    N_("%(client)s is a gateway: it has no keys and gets no tokens, it is known by its TLS client certificates "
       "(hub gateways add-certificate)"),
    N_("client %(client)s already has a key %(kid)s"),
    N_("client %(client)s has no key %(kid)s"),
    N_("a client keeps at least one key; add the new key before removing the old"),
    N_("%(what)s must be text"),
    N_("%(what)s must be at most %(limit)s printable characters"),
    N_("choose the client's public JWK file (JSON) to upload"),
    N_("a JWK file is at most 16 KB"),
    N_("a JWK is a JSON object"),
    N_("the file is not JSON; a JWK is a JSON object"),
    N_("status must be 'active' (unblocked) or 'disabled' (blocked)"),
    N_("unknown change"),
    N_("a JWK must be a JSON object"),
    N_("the JWK carries private members (%(members)s); send the public key only"),
    N_("only EC P-256 keys are accepted (kty EC, crv P-256; ES256)"),
    N_("member %(member)s must be a 32-byte base64url coordinate (unpadded)"),
    N_("the point (x, y) is not on the P-256 curve"),
    N_("the key must be for signatures with ES256"),
    N_("kid must be text of 1-100 printable ASCII characters, without '/' or spaces at either end "
       "(or leave it out: the hub then uses the key's RFC 7638 thumbprint)"),
    # A client's limits (hub/fairuse/limits.py).
    N_("%(field)s must be a number (is %(value)s)"),
    N_("%(field)s must be a whole number (is %(value)s)"),
    N_("rate must be above 0 and at most %(limit)s requests per second (is %(value)s)"),
    N_("burst must be 1-%(limit)s requests (is %(value)s)"),
    N_("unknown limits: %(names)s"),
    N_("%(field)s must be 0 (no budget) to %(limit)s (is %(value)s)"),
    # Accounts (hub/accounts/store.py, credentials.py, oidc_links.py).
    N_("a username is 2-64 lower-case letters, digits, '.', '_' or '-', starting with a letter"),
    N_("stewards and developers belong to a department; operators and auditors do not"),
    N_("only a developer acts for clients"),
    N_("no account %(username)s"),
    N_("language must be one of %(languages)s"),
    N_("no client %(client)s in department %(department)s"),
    N_("account %(username)s exists"),
    N_("a password has at least %(count)s characters"),
    N_("a password has at most 1024 characters"),
    N_("an OpenID Connect subject has 1 to 255 characters"),
    N_("%(subject)s at %(issuer)s is already linked to %(username)s"),
    # The audit log's search (hub/audit/search.py, hub/admin/audit_form.py).
    N_("limit must be a whole number from 1 to %(limit)s, not %(value)s"),
    N_("before_seq must be a record's seq (1 or more), not %(value)s"),
    N_("since (%(since)s) must be before until (%(until)s)"),
    N_("%(field)s must be a non-empty string, not %(value)s"),
    N_("%(field)s is longer than any recorded one (%(count)s characters at most)"),
    N_("%(field)s must be an ISO 8601 time, not %(value)s"),
    N_("%(field)s (%(value)s) needs a time with its UTC offset, e.g. 2026-11-26T09:00:00+08:00"),
    N_("%(field)s must be an ISO 8601 time such as 2026-11-26T09:00:00+08:00, not %(value)s"),
    N_("%(field)s must be a whole number, not %(value)s"),
    N_("%(field)s must be a date and time such as 2026-11-26T09:00 (China Standard Time), not %(value)s"),
    N_("there is no seal at seq %(seq)s: name a sealed seq (hub audit status shows the last)"),
    # A developer's token for GraphiQL (hub/admin/developer_access.py, developer_api.py).
    N_("client %(client)s is no longer registered"),
    N_("client %(client)s or its department is blocked: no token is issued for it"),
    N_("the client's live grants name the purposes %(purposes)s, not %(purpose)s"),
    N_("client %(client)s's grants reach nothing in this graph"),
    N_("DPoP key: %(why)s"),
    N_("DPoP key: the point is not on the P-256 curve"),
    # Signing in with the city's identity provider (hub/admin/oidc_pages.py, hub/accounts/oidc_tokens.py).
    N_("The sign-in with %(name)s did not succeed: %(why)s. Start again from the sign-in page."),
    N_("%(name)s knows you, but no console account is linked to your identity (%(claim)s = %(value)s). "
       "Ask the hub operator to link it to your account."),
    N_("the provider cannot be reached or its metadata is unusable"),
    N_("this browser did not start it here, or it took too long"),
    N_("the answer belongs to another sign-in (state)"),
    N_("the answer came from another provider"),
    N_("the provider answered %(error)s"),
    N_("the provider answered without a code"),
    N_("the id_token was refused: %(why)s"),
    N_("the code was not accepted (%(error)s)"),
    N_("the id_token has no %(claim)s claim"),
    N_("the provider's metadata names another issuer"),
    N_("the UserInfo answer is about another subject"),
    N_("the provider sent no id_token"),
    N_("the token is meant for several clients and names another as its party"),
    N_("bad signature or format (%(error)s)"),
    # Your account (hub/admin/account_pages.py).
    N_("The new password cannot be used: %(why)s."),
)

# Words that come into the forms above as values (``WORD_VALUES``), for the catalogue.
VALUE_WORDS = (
    N_("a legal basis"), N_("a reason for the refusal"), N_("a reason for the revocation"), N_("duration"),
    N_("the answer deadline"), N_("name"), N_("title"), N_("jurisdiction"), N_("department"), N_("kid"),
    N_("grant"), N_("grant request"), N_("client"),
    # The fields of a client's limits and of an audit search, as their forms name them.
    N_("rate"), N_("burst"), N_("cost_per_minute"), N_("cost_per_day"), N_("client_id"), N_("purpose"),
    N_("case_number"), N_("since"), N_("until"), N_("limit"), N_("before"),
)

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True, slots=True)
class Fitted:
    """A message fitted to its form: the form (a catalogue msgid) and the values taken from it."""

    form: str
    values: tuple[tuple[str, str], ...]


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each form as a pattern, those with more fixed text first (so ``no department X; register it
    first`` is not read as ``no department %(department)s``)."""
    def fixed(form: str) -> int:
        return len(_PLACEHOLDER.sub("", form))

    compiled = []
    for form in sorted(FORMS, key=fixed, reverse=True):
        parts = _PLACEHOLDER.split(form)
        pattern = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
        compiled.append((form, re.compile(pattern + r"\Z", re.DOTALL)))
    return tuple(compiled)


def fits(message: str) -> Iterator[Fitted]:
    """The forms ``message`` may have been made from, with their values, the likeliest first."""
    if len(message) > 2000:
        return
    for form, pattern in _patterns():
        found = pattern.match(message)
        if found:
            yield Fitted(form, tuple(found.groupdict().items()))
