"""An edition's own glossary: English term -> the renderings its translators agreed on.

Read with the one parser: ko ``TERMINOLOGY.md`` and vi ``glossary.md`` are Markdown tables
(English | translation | …), tr ``TERMINOLOGY.md`` is paragraphs ``english; türkçe, türkçe``.
Several renderings are separated by ``,`` or ``/``; a parenthesis in the English term
(``argument (in programming)``) only explains it. Terms without a rendering are skipped.

Matching is what the rule needs and no more: an English term is found as a whole phrase
(case aside, plural ``s``/``es`` allowed); a rendering is found as a substring of the
translation, which is what lets inflected words match in suffixing languages (Korean
particles: ``역전파를``; Turkish suffixes: ``geri yaymayı``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from toolkit.model import Paragraph, Table

GLOSSARY_FILES = ("TERMINOLOGY.md", "glossary.md")
#: Terms this short or this common in ordinary English match too much to be useful.
MIN_TERM_LETTERS = 5


@dataclass(frozen=True)
class Term:
    english: str
    pattern: re.Pattern[str]
    renderings: tuple[str, ...]


WORD = re.compile(r"[\w-]+")


@dataclass(frozen=True)
class Glossary:
    path: str
    terms: tuple[Term, ...]

    @cached_property
    def _by_first_word(self) -> tuple[dict[str, tuple[int, ...]], tuple[int, ...]]:
        """Term positions by their first word (a term matches only where its first word is a
        whole word of the text), and the positions of terms no word index can find."""
        index: dict[str, list[int]] = {}
        always: list[int] = []
        for position, term in enumerate(self.terms):
            first = term.english.split()[0].casefold()
            if WORD.fullmatch(first):
                index.setdefault(first, []).append(position)
            else:
                always.append(position)
        return {word: tuple(p) for word, p in index.items()}, tuple(always)

    def expected(self, english: str, translation: str) -> list[Term]:
        """Terms the English text uses whose renderings the translation lacks (and whose
        English word it does not keep either). Only the terms whose first word the English
        text has are tried (hundreds of terms, thousands of blocks: the regexes were the
        check's biggest cost)."""
        index, always = self._by_first_word
        candidates = set(always)
        for word in {w.casefold() for w in WORD.findall(english)}:
            for stem in (word, word[:-1] if word.endswith("s") else "", word[:-2] if word.endswith("es") else ""):
                if stem:
                    candidates.update(index.get(stem, ()))
        found = []
        lowered = translation.casefold()
        for position in sorted(candidates):
            term = self.terms[position]
            if (
                term.pattern.search(english)
                and not term.pattern.search(translation)
                and not any(r.casefold() in lowered for r in term.renderings)
            ):
                found.append(term)
        return found


def _clean(cell: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\([^)]*\)", "", cell)).strip().strip("*").strip()


def _term(english: str, translated: str) -> Term | None:
    english = _clean(english).lower()
    renderings = tuple(
        r
        for r in (_clean(part) for part in re.split(r"[,/;]|\s(?:veya|ya da|hoặc|또는|or)\s", translated))
        if r and not r.startswith("http")
    )
    if sum(c.isalpha() for c in english) < MIN_TERM_LETTERS or not renderings:
        return None
    words = r"\s+".join(re.escape(word) for word in english.split())
    return Term(english, re.compile(rf"(?<![\w-]){words}(?:e?s)?(?![\w-])", re.IGNORECASE), renderings)


def find_glossary(edition_directory: Path) -> Path | None:
    return next((edition_directory / n for n in GLOSSARY_FILES if (edition_directory / n).is_file()), None)


@lru_cache(maxsize=16)
def _load(path: str, data: bytes) -> Glossary:
    from toolkit.parser import parse_chapter

    chapter = parse_chapter(path, data)
    terms: dict[str, Term] = {}
    for block, _ in chapter.leaves:
        pairs: list[tuple[str, str]] = []
        if isinstance(block, Table):
            pairs = [(row[0], row[1]) for row in block.rows[1:] if len(row) >= 2]
        elif isinstance(block, Paragraph) and ";" in block.text:
            pairs = [tuple(line.split(";", 1)) for line in block.text.splitlines() if ";" in line]  # type: ignore[misc]
        for english, translated in pairs:
            term = _term(english, translated)
            if term is not None:
                terms.setdefault(term.english, term)
    return Glossary(path, tuple(terms.values()))


def load_glossary(path: Path) -> Glossary:
    return _load(str(path), path.read_bytes())
