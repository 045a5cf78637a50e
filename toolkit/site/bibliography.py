"""The book's bibliography (``d2l.bib``), read with pybtex: what a ``:cite:`` shows and what the
bibliography page lists.

Invariants: each entry has a short author–year label (``Abadi et al., 2016``; two authors
``Cho and Lee``) and a full reference formatted by pybtex's ``plain`` style as text. A key
the file lacks has neither (the page says so); an entry pybtex cannot format completely
(a missing field) falls back to its authors, title and year. LaTeX in names and titles
(``Mart{\\'\\i}n``) becomes text.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Reference:
    key: str
    short: str  # "Abadi et al., 2016"
    full: str  # the formatted reference, plain text


@lru_cache(maxsize=1)
def _plain_text_backend() -> Any:
    """pybtex's text backend, found once: ``render_as("text")`` looks the plugin up among the
    installed distributions' entry points on every call (two thirds of a whole-book build)."""
    from pybtex.plugin import find_plugin

    return find_plugin("pybtex.backends", "text")()


def _text(latex: str) -> str:
    from pybtex.richtext import Text

    try:
        return str(Text.from_latex(latex).render(_plain_text_backend()))
    except Exception:  # malformed LaTeX in a field: show it as it is
        return latex.replace("{", "").replace("}", "")


def _short(entry: object) -> str:
    persons = getattr(entry, "persons", {})
    people = persons.get("author") or persons.get("editor") or []
    names = [_text(" ".join(p.last_names)) for p in people]
    year = getattr(entry, "fields", {}).get("year", "")
    if not names:
        who = _text(getattr(entry, "fields", {}).get("title", "")).split(":")[0][:40]
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {year}" if year else who


@lru_cache(maxsize=8)
def _load(path: str, data: bytes) -> dict[str, Reference]:
    import pybtex.errors
    from pybtex.database import parse_string
    from pybtex.plugin import find_plugin

    pybtex.errors.set_strict_mode(False)  # duplicate keys and odd fields are the book's, not ours
    database = parse_string(data.decode("utf-8", "replace"), "bibtex")
    style = find_plugin("pybtex.style.formatting", "plain")()
    references = {}
    for key, entry in database.entries.items():
        try:
            full = str(style.format_entry(key, entry).text.render(_plain_text_backend()))
        except Exception:  # e.g. FieldIsMissing: a reference with what there is
            fields = entry.fields
            full = f"{_short(entry)}. {_text(fields.get('title', ''))}."
        references[key] = Reference(key, _short(entry), full)
    return references


def load_bibliography(path: Path) -> dict[str, Reference]:
    """Every entry of a ``.bib`` file by key (empty when the file is missing)."""
    return _load(str(path), path.read_bytes()) if path.is_file() else {}
