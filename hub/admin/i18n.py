"""The console's languages: Simplified Chinese first, English second.

The pages are written in English and translated through GNU gettext message catalogues kept with
Babel (``hub/admin/locale/<language>/LC_MESSAGES/console.po``, extracted from the templates and the
console's Python by ``make messages``). The compiled ``console.mo`` files are committed beside their
``.po``: the hub then runs from a checkout, an editable install or a wheel with no build step, and
``tests/admin/test_i18n.py`` fails when a ``.mo`` is older than its ``.po`` or a string lacks its
translation.

Which language a page speaks: a signed-in person's own choice (stored with the account); signed
out, the ``hub-language`` cookie that the switch on every page sets, else the browser's
``Accept-Language``; else Chinese. Times are shown in China Standard Time in both languages. The
CLI and the JSON API keep their English codes and messages.
"""

from __future__ import annotations

import datetime as dt
import gettext
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from hub.admin import messages

LOCALE = Path(__file__).resolve().parent / "locale"
DOMAIN = "console"
CHINESE, ENGLISH = "zh", "en"
LANGUAGES = (CHINESE, ENGLISH)
# What each language calls itself, for the switch; and the page's ``lang`` attribute (BCP 47).
NAMES = {CHINESE: "中文", ENGLISH: "English"}
HTML_LANG = {CHINESE: "zh-Hans", ENGLISH: "en"}
LANGUAGE_COOKIE = "hub-language"
CST = dt.timezone(dt.timedelta(hours=8), "CST")
_ZONE = {CHINESE: "北京时间", ENGLISH: "CST"}


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message


# Codes the pages show as words (roles, states, decisions), translated with ``say(code)``; the
# code itself stays English in URLs, the JSON API, the CLI and the logs.
WORDS = (
    N_("operator"), N_("steward"), N_("auditor"), N_("developer"),
    N_("active"), N_("blocked"), N_("disabled"), N_("pending"), N_("granted"), N_("approved"),
    N_("refused"), N_("withdrawn"), N_("revoked"), N_("expired"),
    N_("allow"), N_("mask"), N_("deny"), N_("unconditional"), N_("conditional"), N_("not shared"),
)


@dataclass(frozen=True, slots=True)
class Said:
    """A message with values, translated when shown: ``Said("grant %(grant)s revoked", grant=g)``.

    The template renders it with ``say``: the text is looked up in the page's language and the
    values (never translated) are put in after, so a catalogue entry covers every value.
    """

    text: str
    values: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, text: str, **values: object) -> Said:
        return cls(text, tuple(values.items()))

    def __str__(self) -> str:
        return self.text % dict(self.values) if self.values else self.text


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of ``language``; English is the text itself."""
    if language == ENGLISH:
        return gettext.NullTranslations()
    with (LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as mo:
        return gettext.GNUTranslations(mo)


def chosen(value: str | None) -> str | None:
    """``value`` if it names a language of the console, else None."""
    return value if value in LANGUAGES else None


def from_accept_language(header: str | None) -> str:
    """The browser's most preferred language the console speaks (RFC 9110 section 12.5.4)."""
    best, best_q = CHINESE, -1.0
    for position, item in enumerate((header or "")[:1000].split(",")[:30]):
        tag, _, params = item.strip().partition(";")
        q = _quality(params)
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and q > 0 and (q > best_q):
            best, best_q = primary, q - position * 1e-6
    return best


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


@dataclass(frozen=True, slots=True)
class Moment:
    """A time among a message's values, shown in China Standard Time in the page's language."""

    at: int | float

    def __str__(self) -> str:
        return when(ENGLISH, self.at)


def say(language: str, message: object) -> str:
    """A message shown on a page, in ``language``: a ``Said``, a text from the catalogue, or a
    service's English message fitted to one of its forms (``hub/admin/messages.py``)."""
    words = translations(language)
    if isinstance(message, Said):
        values = {name: _value(language, value) for name, value in message.values}
        return words.gettext(message.text) % values if values else words.gettext(message.text)
    if not message:
        return ""
    text = str(message)
    translated = words.gettext(text)
    if translated != text or language == ENGLISH:
        return translated
    for fitted in messages.fits(text):
        values = {}
        for name, value in fitted.values:
            if name in messages.WORD_VALUES:
                values[name] = words.gettext(value)
                if values[name] == value:
                    break  # not a word of the console: the message was made from another form
            elif name in messages.MESSAGE_VALUES:
                values[name] = say(language, value)
            else:
                values[name] = value
        else:
            return words.gettext(fitted.form) % values
    return text


def _value(language: str, value: object) -> object:
    return when(language, value.at) if isinstance(value, Moment) else value


def when(language: str, instant: int | float | str | dt.datetime | None, seconds: bool = False) -> str:
    """A time as the service centre reads it, in China Standard Time: ``2026-11-26 09:00 CST``."""
    if instant is None or instant == "":
        return ""
    if isinstance(instant, (int, float)):
        moment = dt.datetime.fromtimestamp(instant, dt.UTC)
    elif isinstance(instant, str):
        moment = dt.datetime.fromisoformat(instant.replace("Z", "+00:00"))
    else:
        moment = instant
    shown = moment.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{shown} {_ZONE[language]}"


def _language(context: Context) -> str:
    found = context.get("language")
    return found if found in LANGUAGES else CHINESE


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translations(_language(context)).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translations(_language(context)).ngettext(singular, plural, n)


@pass_context
def _say(context: Context, message: object) -> str:
    return say(_language(context), message)


@pass_context
def _when(context: Context, instant: Any, seconds: bool = False) -> str:
    return when(_language(context), instant, seconds)


def install(environment: Any) -> None:
    """Jinja2's i18n extension on ``environment``, speaking each page's ``language``."""
    environment.add_extension("jinja2.ext.i18n")
    # Whitespace inside {% trans %} is folded, here and in the extracted catalogue (babel.cfg).
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_callables(_gettext, _ngettext, newstyle=True)
    environment.globals.update(say=_say, when=_when, LANGUAGES=LANGUAGES, LANGUAGE_NAMES=NAMES)
    environment.filters.update(say=_say, when=_when)
