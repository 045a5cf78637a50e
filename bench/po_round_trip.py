"""Benchmark: PO export then import with no edit, on every translated chapter of the book.

Prints how many chapters came back byte for byte (target: all), and the time, as a ratio to a
bare markdown-it-py parse of the same files measured in the same run.
Usage: python bench/po_round_trip.py [--book ../shared/book]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("D2L_SHARED", ROOT.parent / "shared")).resolve()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--book", type=Path, default=SHARED / "book")
    options = parser.parse_args()
    from markdown_it import MarkdownIt

    from toolkit.checker import ChapterStore
    from toolkit.corpus import book_jobs
    from toolkit.po.catalog import round_trip

    jobs = book_jobs(options.book)
    files = sorted({p for j in jobs for p in (j.basis, j.translation, j.today) if p})
    started = time.perf_counter()
    md = MarkdownIt("commonmark").enable("table")
    for path in files:
        md.parse(path.read_text("utf-8"))
    bare = time.perf_counter() - started
    started = time.perf_counter()
    store = ChapterStore()
    identical = refused = 0
    for job in jobs:
        assert job.basis is not None  # the jobs are those with a basis
        basis, translation = store.get(job.basis), store.get(job.translation)
        today = store.get(job.today) if job.today else None
        imported = round_trip(
            basis, job.basis_tabs, translation, job.tabs, job.language, today, job.today_tabs
        )
        identical += imported.text == translation.text
        refused += len(imported.refused)
    elapsed = time.perf_counter() - started
    print(f"bare markdown-it parse of {len(files)} files: {bare:.2f}s")
    print(f"PO export + import of {len(jobs)} chapters: {elapsed:.2f}s = {elapsed / bare:.1f}x bare")
    print(f"unchanged byte for byte: {identical}/{len(jobs)}; refused msgstrs: {refused} (target: all, 0)")
    return 0 if identical == len(jobs) and not refused else 1


if __name__ == "__main__":
    sys.exit(main())
