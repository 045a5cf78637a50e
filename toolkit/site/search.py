"""Per-language search indexes, cut from the one index Material's search plugin writes.

Invariants:
- ``<lang>/search/search_index.json`` holds exactly the documents under ``<lang>/``, with
  locations relative to ``<lang>/`` (each page tells Material's search that its base is its
  language's root, see ``theme/main.html``), so a search never leaves the reader's language.
- Each index names the lunr language of its text where Material ships one (ko, tr, vi);
  Indonesian has none and keeps lunr's default (English stop words, which hardly ever are
  Indonesian words). What makes Korean and Indonesian searchable (browser-tested): Material's
  pipeline keeps only the stop-word filter (no stemmer, which would cut "kompilasi" to a
  stem no typed word matches) and appends a trailing wildcard to every query term, so a
  Korean stem finds its word with particles attached ("하이브리드화" finds "하이브리드화가").
"""

from __future__ import annotations

import json
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
        if written is not None:
            written[language] = split
