"""The words the site puts around a chapter, per language (``toolkit/languages.toml``).

Invariant: every language has every key of ``Words``; a missing one is an error naming the
language and the key, raised when the table is loaded, never half-way through a build.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

from toolkit.languages import LANGUAGES_FILE, language_table


@dataclass(frozen=True)
class Words:
    name: str
    credit: str  # "{repository}": who translated the page, and the licence
    notebooks: str
    edit: str
    section: str
    chapter: str
    figure: str
    table: str
    equation: str
    not_executed: str
    needs_data: str
    no_environment: str
    fallback: str
    status_note: str  # the one sentence of a page whose chapter has findings or drift
    stale_link: str
    fuzzy: str  # under a block that follows an older English text, before a link to English
    status_title: str
    status_code: str  # the column of run-cells' results, one symbol per framework
    status_legend: str  # what the symbols mean
    status_basis: str  # "English basis"
    english: str  # the English language's name, in this language
    severities: tuple[str, ...]  # error, warning, info
    status_intro: str
    status_columns: tuple[str, ...]  # errors, warnings, stale, untranslated, line, rule, severity, message
    bibliography_title: str
    bibliography_missing: str
    landing_title: str
    landing_intro: str  # "{frameworks}": the frameworks the language's book has code in
    editions_title: str
    chapters_title: str
    executed_on: str


LISTS = frozenset({"severities", "status_columns"})  # the keys whose value is a list of words


@lru_cache(maxsize=1)
def all_words() -> dict[str, Words]:
    names = {f.name for f in fields(Words)}
    out: dict[str, Words] = {}
    for language, facts in language_table().items():
        values = dict(facts.words)
        missing = sorted(names - set(values))
        unknown = sorted(set(values) - names)
        if missing or unknown:
            raise ValueError(f"{LANGUAGES_FILE} [{language}]: missing keys {missing}, unknown keys {unknown}")
        typed: dict[str, Any] = {}
        for name, value in values.items():
            expected = str if name not in LISTS else list
            if not isinstance(value, expected) or (expected is list and not all(isinstance(v, str) for v in value)):
                raise ValueError(
                    f"{LANGUAGES_FILE} [{language}]: {name} must be {'a list of strings' if expected is list else 'a string'}"
                )
            typed[name] = tuple(value) if name in LISTS else value
        out[language] = Words(**typed)
    return out


def words_for(language: str) -> Words:
    """The words of ``language``, or English ones for a language the table does not have."""
    table = all_words()
    return table.get(language, table["en"])
