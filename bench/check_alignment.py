"""Benchmark: check-alignment on the whole book (or ../shared/corpus), cold, warm and after
editing one chapter, against a bare markdown-it-py parse of the same files.

Each phase runs in a fresh Python process (imports included, interpreter start excluded) and
is repeated; the best time counts. Printed as ratios to the baseline measured in the same run:

- bare:  markdown-it-py (CommonMark + tables) reading and parsing every file the check reads,
         nothing else (the list of files is found first, untimed)
- cold:  the toolkit checking every translated chapter with empty caches (both cores)
- warm:  the same again with the caches the cold run left (nothing changed)
- edit:  the same after one translated chapter changed (one chapter is checked again)
- scale: cold on one, three and five editions, to show how time grows with chapters

Targets (issue #9): cold <= 1.5x bare, warm <= 0.1x cold, edit <= 0.1x cold.
Usage: python bench/check_alignment.py [--repeat N] [--corpus DIR] [--no-scale]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EDITED = ROOT / "translations/tr/chapter_preliminaries/ndarray.md"

PHASE = r"""
import json, sys, time
start = time.perf_counter()
from pathlib import Path
source, phase, cache, only = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4]
from toolkit.checker import ChapterStore, check_jobs, project_jobs
from toolkit.cache import ResultCache
from toolkit.workers import workers_for
with workers_for(ChapterStore()) as workers:
    if phase == "bare":
        workers = None  # the baseline's file list is found untimed, as the toolkit would
    if source == "book":
        from toolkit.config import load_project
        config = load_project(Path.cwd())
        store = workers.store if workers is not None else ChapterStore(config.root)
        paths = [config.translations_dir / e for e in only.split(",")] if only else []
        jobs, _, _ = project_jobs(config, paths, store=store, cache=ResultCache(cache), workers=workers)
    else:
        from toolkit.corpus import corpus_jobs
        store = workers.store if workers is not None else ChapterStore()
        jobs = corpus_jobs(Path(source))
    files = sorted({p for j in jobs for p in (j.translation, j.basis, j.today) if p})
    if phase == "bare":
        from markdown_it import MarkdownIt
        start = time.perf_counter()
        md = MarkdownIt("commonmark").enable("table")
        tokens = sum(len(md.parse(f.read_text("utf-8"))) for f in files)
        extra = {"tokens": tokens}
    else:
        from toolkit.language import LanguageDetector
        detector = LanguageDetector(cache / "language.json")
        results = ResultCache(cache)
        result = check_jobs(jobs, store, detector, cache=results, workers=workers)
        detector.save()
        extra = {"findings": len(result.findings), "hits": results.hits, "model_calls": detector.model_calls}
    end = time.perf_counter()
print(json.dumps({"seconds": end - start, "files": len(files), "chapters": len(jobs), **extra}))
"""


def run_phase(source: str, phase: str, cache: Path, only: str = "") -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", PHASE, source, phase, str(cache), only],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def measure(source: str, repeat: int, edit: bool) -> dict[str, list[dict[str, float]]]:
    runs: dict[str, list[dict[str, float]]] = {"bare": [], "cold": [], "warm": [], "edit": []}
    for _ in range(repeat):
        bare_cache = Path(tempfile.mkdtemp(prefix="toolkit-bench-"))
        try:
            runs["bare"].append(run_phase(source, "bare", bare_cache))
        finally:
            shutil.rmtree(bare_cache)
        cache = Path(tempfile.mkdtemp(prefix="toolkit-bench-"))
        try:
            runs["cold"].append(run_phase(source, "cold", cache))
            runs["warm"].append(run_phase(source, "warm", cache))
            if edit and EDITED.is_file():
                original = EDITED.read_bytes()
                try:
                    EDITED.write_bytes(original + b"\nBir paragraf daha.\n")
                    runs["edit"].append(run_phase(source, "edit", cache))
                finally:
                    EDITED.write_bytes(original)
        finally:
            shutil.rmtree(cache)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--corpus", type=Path, help="the six-chapter corpus instead of the whole book")
    parser.add_argument("--no-scale", action="store_true")
    args = parser.parse_args()
    book = args.corpus is None
    if book and not (ROOT / "translations/ko/files.lock").is_file():
        sys.exit("bench: the whole book is not set up (run `toolkit sync`), or use --corpus")
    source = "book" if book else str(args.corpus)
    runs = measure(source, args.repeat, edit=book)
    best = {name: min(r["seconds"] for r in found) for name, found in runs.items() if found}
    print(
        f"{'whole book' if book else 'corpus'}: {runs['cold'][0]['chapters']:.0f} chapters, "
        f"{runs['bare'][0]['files']:.0f} files, {runs['cold'][0]['findings']:.0f} findings; "
        f"best of {args.repeat} runs, each in a fresh process"
    )
    print(f"  bare markdown-it-py parse : {best['bare']:.2f} s")
    print(
        f"  toolkit cold (no caches)  : {best['cold']:.2f} s = {best['cold'] / best['bare']:.2f}x bare (target <= 1.5x)"
    )
    print(
        f"  toolkit warm (caches hit) : {best['warm']:.2f} s = {best['warm'] / best['cold']:.3f}x cold (target <= 0.1x)"
    )
    if "edit" in best:
        print(
            f"  one chapter edited        : {best['edit']:.2f} s = {best['edit'] / best['cold']:.3f}x cold (target <= 0.1x)"
        )
    print(
        f"  warm run: {runs['warm'][0]['hits']:.0f} cached chapters, {runs['warm'][0]['model_calls']:.0f} "
        f"language-model calls; cold run: {runs['cold'][0]['model_calls']:.0f}"
    )
    if book and not args.no_scale:
        print("  scale (cold, one run each):")
        for editions in ("tr", "tr,vi,ko", "id,ko,ko-partrita,tr,vi"):
            cache = Path(tempfile.mkdtemp(prefix="toolkit-bench-"))
            try:
                bare = run_phase(source, "bare", cache, editions)
                cold = run_phase(source, "cold", cache, editions)
            finally:
                shutil.rmtree(cache)
            print(
                f"    {cold['chapters']:4.0f} chapters: {cold['seconds']:6.2f} s "
                f"({1000 * cold['seconds'] / cold['chapters']:.0f} ms/chapter; bare parse {bare['seconds']:.2f} s)"
            )


if __name__ == "__main__":
    main()
