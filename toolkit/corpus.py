"""The shared corpus (``../shared/corpus``): translated chapters paired with their English
basis by ``MANIFEST.tsv``, read in place (upstream text is never copied into the project).

Editions whose basis predates d2l-en beb907e9 (2022-04-29) use the old tabs (mxnet default);
those based on today's English use today's tabs (pytorch default).
"""

from __future__ import annotations

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
