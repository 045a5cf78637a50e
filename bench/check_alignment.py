"""Benchmark: check-alignment over ../shared/corpus, cold and warm, against a bare parse.

Each phase runs in a fresh Python process (imports included, interpreter start excluded) and
is repeated; the best time counts. Printed as ratios to the baseline measured in the same run:

- bare:  markdown-it-py (CommonMark + tables) parsing every file the check reads, nothing else
- cold:  the toolkit checking every translated chapter with empty caches
- warm:  the same again with the caches the cold run left (nothing changed)

Targets (issue #3): cold <= 1.5x bare, warm <= 0.1x cold.
Usage: python bench/check_alignment.py [--repeat N] [--corpus DIR]
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

PHASE = r"""
import json, sys, time
start = time.perf_counter()
from pathlib import Path
corpus, phase, cache = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
from toolkit.corpus import corpus_jobs
jobs = corpus_jobs(corpus)
files = sorted({p for j in jobs for p in (j.translation, j.basis, j.today) if p})
if phase == "bare":
    from markdown_it import MarkdownIt
    md = MarkdownIt("commonmark").enable("table")
    tokens = sum(len(md.parse(f.read_text("utf-8"))) for f in files)
    extra = {"tokens": tokens}
else:
    from toolkit.cache import ResultCache
    from toolkit.checker import ChapterStore, check_jobs
    from toolkit.language import LanguageDetector
    detector = LanguageDetector(cache / "language.json")
    results = ResultCache(cache)
    result = check_jobs(jobs, ChapterStore(), detector, cache=results)
    detector.save()
    extra = {"findings": len(result.findings), "hits": results.hits, "model_calls": detector.model_calls}
end = time.perf_counter()
print(json.dumps({"seconds": end - start, "files": len(files), **extra}))
"""


def run_phase(corpus: Path, phase: str, cache: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", PHASE, str(corpus), phase, str(cache)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = parser.parse_args()
    if not (args.corpus / "MANIFEST.tsv").is_file():
        sys.exit(f"bench: {args.corpus} has no MANIFEST.tsv (use --corpus)")
    bare, cold, warm = [], [], []
    for _ in range(args.repeat):
        bare.append(run_phase(args.corpus, "bare", Path(tempfile.gettempdir())))
        cache = Path(tempfile.mkdtemp(prefix="toolkit-bench-"))
        try:
            cold.append(run_phase(args.corpus, "cold", cache))
            warm.append(run_phase(args.corpus, "warm", cache))
        finally:
            shutil.rmtree(cache)
    best = {
        name: min(r["seconds"] for r in runs)
        for name, runs in (("bare", bare), ("cold", cold), ("warm", warm))
    }
    print(
        f"corpus: {bare[0]['files']:.0f} files, {cold[0]['findings']:.0f} findings; best of {args.repeat} runs, each in a fresh process"
    )
    print(f"  bare markdown-it-py parse : {best['bare']:.3f} s")
    print(
        f"  toolkit cold (no caches)  : {best['cold']:.3f} s   = {best['cold'] / best['bare']:.2f}x bare   (target <= 1.5x)"
    )
    print(
        f"  toolkit warm (caches hit) : {best['warm']:.3f} s   = {best['warm'] / best['cold']:.3f}x cold  (target <= 0.1x)"
    )
    print(
        f"  warm run: {warm[0]['hits']:.0f} cached chapters, {warm[0]['model_calls']:.0f} language-model calls; cold run: {cold[0]['model_calls']:.0f}"
    )


if __name__ == "__main__":
    main()
