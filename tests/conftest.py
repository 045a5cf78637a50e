"""Shared test helpers: where the corpus is, and fixture-file handling.

``UPDATE_FIXTURES=1 pytest tests/test_parser.py`` rewrites the expected sections of the
fixture files from the current output; review the diff before committing it.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(os.environ.get("D2L_SHARED", ROOT.parent / "shared")).resolve()
CORPUS = SHARED / "corpus"


def require_corpus() -> Path:
    if not (CORPUS / "MANIFEST.tsv").is_file():
        pytest.skip(f"{CORPUS} is absent (set D2L_SHARED)")
    return CORPUS


@dataclass(frozen=True)
class CorpusTranslation:
    """One translated corpus chapter with the English it was made from."""

    edition: str
    language: str
    chapter: str
    path: Path
    basis: Path
    today: Path
    tabs: tuple[str, ...]
    basis_tabs: tuple[str, ...]


OLD_TABS = ("mxnet", "pytorch", "tensorflow")
NEW_TABS = ("pytorch", "mxnet", "jax", "tensorflow")


def corpus_translations() -> list[CorpusTranslation]:
    """Every translated chapter in the corpus, paired by MANIFEST.tsv with its English basis.

    Editions based on English before d2l-en beb907e9 (2022-04-29) use the old tabs (mxnet
    default); those based on today's English use today's tabs (pytorch default).
    """
    if not (CORPUS / "MANIFEST.tsv").is_file():
        return []
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    history = {(r["path"], r["commit"]): CORPUS / r["file"] for r in rows if r["lang"] == "en-history"}
    current = {r["path"]: CORPUS / r["file"] for r in rows if r["lang"] == "en"}
    out = []
    for row in rows:
        if row["lang"] in ("en", "en-history"):
            continue
        today = current[row["path"]]
        basis = history.get((row["path"], row["en_basis_commit"]), today)
        old = row["en_basis_is_current_en"] != "yes"
        out.append(
            CorpusTranslation(
                edition=row["lang"],
                language=row["lang"].split("-")[0],
                chapter=row["path"],
                path=CORPUS / row["file"],
                basis=basis,
                today=today,
                tabs=OLD_TABS if old else NEW_TABS,
                basis_tabs=OLD_TABS if old else NEW_TABS,
            )
        )
    return out


def rewrite_fixture(path: Path, cases: list[tuple[str, str, str]]) -> None:
    """Write a fixture file back with new expected sections (title, input, expected)."""
    parts = []
    for title, given, expected in cases:
        expected = expected if expected.endswith("\n") or not expected else expected + "\n"
        parts.append(f"{title}\n.\n{given}.\n{expected}.\n")
    path.write_text("\n".join(parts), encoding="utf-8")
