"""The languages table (``languages.toml``): what the toolkit knows of each language it
publishes, as data: gettext's plural forms for its PO catalogs, the lunr languages its search
index uses, and the words the site puts around a chapter. A new language is a table in the
file, no code (the edition that uses it names it in its edition.toml).

Invariant: the table is read and checked once, when first asked for; a value of the wrong
type is an error naming the file, the language and the key, never a failure half-way through
a build. ``toolkit.language`` is another thing: it judges which language a paragraph is in.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LANGUAGES_FILE = Path(__file__).with_name("languages.toml")
DEFAULT_PLURAL_FORMS = "nplurals=2; plural=(n != 1);"  # gettext's own default (English's)


@dataclass(frozen=True)
class LanguageFacts:
    code: str
    plural_forms: str  # the Plural-Forms header of the language's PO catalogs
    search: tuple[str, ...]  # the lunr languages of its search index
    words: Mapping[str, object]  # the rest of its table: the site's words (toolkit.site.words)


@lru_cache(maxsize=1)
def language_table() -> dict[str, LanguageFacts]:
    """Every language of ``languages.toml``, English first, the others in the file's order."""
    table = tomllib.loads(LANGUAGES_FILE.read_text("utf-8"))
    found: dict[str, LanguageFacts] = {}
    for code, values in table.items():
        if not isinstance(values, dict):
            raise ValueError(f"{LANGUAGES_FILE}: {code!r} is not a table")
        plural = values.get("plural_forms")
        search = values.get("search")
        if not isinstance(plural, str) or "nplurals=" not in plural:
            raise ValueError(f"{LANGUAGES_FILE} [{code}]: plural_forms must be gettext's Plural-Forms text")
        if not isinstance(search, list) or not search or not all(isinstance(s, str) for s in search):
            raise ValueError(f"{LANGUAGES_FILE} [{code}]: search must be a list of lunr language codes")
        words = {k: v for k, v in values.items() if k not in ("plural_forms", "search")}
        found[code] = LanguageFacts(code, plural, tuple(search), words)
    if "en" not in found:
        raise ValueError(f"{LANGUAGES_FILE}: English ([en]) is the book's own language and must be there")
    return {"en": found["en"], **{code: facts for code, facts in found.items() if code != "en"}}


def published_languages() -> tuple[str, ...]:
    """The languages a site can publish: every table of ``languages.toml``."""
    return tuple(language_table())


def plural_forms(code: str) -> str:
    facts = language_table().get(code)
    return facts.plural_forms if facts is not None else DEFAULT_PLURAL_FORMS


def search_languages(code: str) -> tuple[str, ...]:
    """The lunr languages of ``code``'s search index (English's for a language not in the table)."""
    facts = language_table().get(code)
    return facts.search if facts is not None else ("en",)
