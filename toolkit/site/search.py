"""Per-language search indexes, cut from the one index Material's search plugin writes.

Invariants:
- ``<lang>/search/search_index.json`` holds exactly the documents under ``<lang>/``, with
  locations relative to ``<lang>/`` (each page tells Material's search that its base is its
  language's root, see ``theme/main.html``), so a search never leaves the reader's language.
- Beside each index, ``folding.json`` maps every word of it that has diacritics, folded
  (``ogrenme``), to the words it folds from (``öğrenme``): the page's search adds those words to
  a query typed without diacritics, so a Turkish or Vietnamese reader on a keyboard without
  them still finds the page. Only words that differ from their folded form are listed.
- Each index names the lunr language of its text where Material ships one (ko, tr, vi);
  Indonesian has none and keeps lunr's default (English stop words, which hardly ever are
  Indonesian words). What makes Korean and Indonesian searchable (browser-tested): Material's
  pipeline keeps only the stop-word filter (no stemmer, which would cut "kompilasi" to a
  stem no typed word matches) and appends a trailing wildcard to every query term, so a
  Korean stem finds its word with particles attached ("하이브리드화" finds "하이브리드화가").
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

from toolkit.languages import search_languages


def split_index(data: dict[str, Any], language: str) -> dict[str, Any]:
    prefix = f"{language}/"
    docs = [
        {**doc, "location": doc["location"][len(prefix) :]}
        for doc in data.get("docs", [])
        if str(doc.get("location", "")).startswith(prefix)
    ]
    config = dict(data.get("config", {}))
    config["lang"] = list(search_languages(language))
    # never a stemmer: whole typed words must prefix-match the indexed ones
    config["pipeline"] = ["stopWordFilter"]
    return {"config": config, "docs": docs}


#: letters that decompose to no base letter under NFKD
_FOLDED_LETTERS = str.maketrans({"ı": "i", "đ": "d", "Đ": "d", "ø": "o", "ł": "l", "ß": "ss"})
_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\w+")


def fold(word: str) -> str:
    """``word`` lowercased without its diacritics (``Öğrenme`` -> ``ogrenme``, ``hồi`` -> ``hoi``)."""
    decomposed = unicodedata.normalize("NFKD", word.lower().translate(_FOLDED_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def folding_of(index: dict[str, Any]) -> dict[str, list[str]]:
    """Folded word -> the index's words that fold to it, for words with diacritics only."""
    found: dict[str, set[str]] = {}
    for doc in index.get("docs", []):
        text = _TAG.sub(" ", f"{doc.get('title', '')} {doc.get('text', '')}")
        for word in set(_WORD.findall(text.lower())):
            folded = fold(word)
            if folded != word and folded.isascii() and not word.isdigit():
                found.setdefault(folded, set()).add(word)
    return {folded: sorted(words) for folded, words in sorted(found.items())}


def split_search_index(
    index: Path, languages: list[str], written: dict[str, dict[str, Any]] | None = None
) -> None:
    """Write each language's index beside ``index``. With ``written`` (what an earlier build of
    the same process wrote, updated here), a language whose index is unchanged and still on
    disk is not written again: a `mkdocs serve` rebuild after one edit rewrites one index."""
    data = json.loads(index.read_text("utf-8"))
    for language in languages:
        target = index.parent.parent / language / "search" / "search_index.json"
        split = split_index(data, language)
        if written is not None and written.get(language) == split and target.is_file():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(split, ensure_ascii=False), "utf-8")
        folding = target.with_name("folding.json")
        folding.write_text(json.dumps(folding_of(split), ensure_ascii=False, separators=(",", ":")), "utf-8")
        if written is not None:
            written[language] = split
