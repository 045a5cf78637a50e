"""The shared corpus (``../shared/corpus``) and the whole book (``../shared/book``):
translated chapters paired with their English basis, read in place (upstream text is never
copied into the project).

Editions whose basis predates d2l-en beb907e9 (2022-04-29) use the old tabs (mxnet default);
those based on today's English use today's tabs (pytorch default).

In the book, a file's basis is per file: ``x_origin.md`` beside ``x.md`` where the edition
keeps one (d2lbook's translation workflow: ko, tr, vi), else English at the same path (the
editions forked from today's English: id, ko-partrita). Each edition's tabs are its
``config.ini`` ``[build] tabs``.
"""

from __future__ import annotations

import configparser
import csv
from pathlib import Path

from toolkit.checker import ChapterJob

OLD_TABS = ("mxnet", "pytorch", "tensorflow")
NEW_TABS = ("pytorch", "mxnet", "jax", "tensorflow")


def corpus_jobs(corpus: Path) -> list[ChapterJob]:
    """One job per translated chapter of the corpus, in MANIFEST order."""
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    history = {(r["path"], r["commit"]): corpus / r["file"] for r in rows if r["lang"] == "en-history"}
    current = {r["path"]: corpus / r["file"] for r in rows if r["lang"] == "en"}
    jobs = []
    for row in rows:
        if row["lang"] in ("en", "en-history"):
            continue
        today = current[row["path"]]
        basis = history.get((row["path"], row["en_basis_commit"]), today)
        tabs = NEW_TABS if row["en_basis_is_current_en"] == "yes" else OLD_TABS
        jobs.append(
            ChapterJob(
                translation=corpus / row["file"],
                tabs=tabs,
                language=row["lang"].split("-")[0],
                edition=row["lang"],
                chapter=row["path"],
                basis=basis,
                basis_id=row["en_basis_commit"][:8],
                basis_tabs=tabs,
                today=today,
                today_id=row["commit"][:8] if row["lang"] == "en" else "today",
                today_tabs=NEW_TABS,
            )
        )
    return jobs


ORIGIN_SUFFIX = "_origin.md"


def book_tabs(repository: Path) -> tuple[str, ...]:
    """The ``[build] tabs`` of a d2lbook repository's config.ini (first = default tab)."""
    parser = configparser.ConfigParser()
    parser.read(repository / "config.ini", encoding="utf-8")
    tabs = parser.get("build", "tabs", fallback="")
    return tuple(t.strip() for t in tabs.split(",") if t.strip()) or OLD_TABS


def book_jobs(book: Path, editions: tuple[str, ...] = ()) -> list[ChapterJob]:
    """One job per translated chapter file of every edition in ``book`` that has an English
    basis (its ``x_origin.md``, or English at the same path), with today's English when the
    path still exists there."""
    english = book / "en"
    today_tabs = book_tabs(english)
    jobs = []
    for repository in sorted(p for p in book.iterdir() if p.is_dir() and p.name != "en"):
        if editions and repository.name not in editions:
            continue
        tabs = book_tabs(repository)
        for path in sorted(repository.glob("chapter_*/**/*.md")):
            if path.name.endswith(ORIGIN_SUFFIX):
                continue
            chapter = str(path.relative_to(repository))
            origin = path.with_name(path.name[: -len(".md")] + ORIGIN_SUFFIX)
            basis = origin if origin.is_file() else english / chapter
            if not basis.is_file():
                continue
            today = english / chapter
            jobs.append(
                ChapterJob(
                    translation=path,
                    tabs=tabs,
                    language=repository.name.split("-")[0],
                    edition=repository.name,
                    chapter=chapter,
                    basis=basis,
                    basis_id="origin" if basis == origin else "fork",
                    basis_tabs=tabs,
                    today=today if today.is_file() else None,
                    today_id="today",
                    today_tabs=today_tabs,
                )
            )
    return jobs
