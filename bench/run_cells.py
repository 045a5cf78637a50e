"""Benchmark: run-cells on the seed chapter for every edition, as ratios measured in one run.

- executions: kernel executions of a cold run (English today + the five editions; target 3,
  one per framework) and of the re-run with nothing changed (target 0)
- parallel / slowest single: wall time of the cold run of all three frameworks at once
  (``--jobs 3``) divided by the slowest framework run alone, each with an empty cache
  (target <= 1.2x)

Each cold run uses its own empty cache; the environments are the ones `toolkit envs` built.
Every timing is the best of --repeat runs (2 cores are noisy: three kernels share them).
Usage: python bench/run_cells.py [--chapter PATH] [--repeat N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit.checker import ChapterStore  # noqa: E402
from toolkit.config import load_project  # noqa: E402
from toolkit.execute.environments import find_environment  # noqa: E402
from toolkit.execute.runner import ExecutionSettings, RunReport, project_sources, run_cells  # noqa: E402

FRAMEWORKS = ("mxnet", "pytorch", "tensorflow")


def timed_run(frameworks: tuple[str, ...], cache: Path, chapter: str, jobs: int) -> tuple[float, RunReport]:
    config = load_project(ROOT)
    sources = [s for s in project_sources(config) if s.chapter == chapter]
    store = ChapterStore(ROOT)
    environments = {fw: find_environment(fw) for fw in frameworks}
    missing = [f"{fw}: {env.reason}" for fw, env in environments.items() if not env.ready]
    if missing:
        sys.exit("environments not ready (run `make envs`):\n" + "\n".join(missing))
    started = time.perf_counter()
    report = run_cells(
        sources,
        store.get,
        frameworks,
        cache,
        cache / "cells",
        ExecutionSettings(config.cell_timeout, jobs),
        False,
        environments=environments,
    )
    return time.perf_counter() - started, report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chapter", default="chapter_computational-performance/hybridize.md")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-run-cells-") as scratch:
        root = Path(scratch)
        # warm the OS file cache and the device probe so no phase pays for the first import alone
        timed_run(FRAMEWORKS, root / "warmup", args.chapter, 3)
        runs = [timed_run(FRAMEWORKS, root / f"all{i}", args.chapter, 3) for i in range(args.repeat)]
        parallel, cold = min(runs, key=lambda run: run[0])
        rerun_seconds, rerun = timed_run(FRAMEWORKS, root / "all0", args.chapter, 3)
        single = {
            fw: min(timed_run((fw,), root / f"{fw}{i}", args.chapter, 1)[0] for i in range(args.repeat))
            for fw in FRAMEWORKS
        }
    editions = sorted({edition for edition, _ in cold.manifests})
    slowest = max(single, key=lambda fw: single[fw])
    print(f"chapter: {args.chapter}; editions: {', '.join(editions)}")
    print(f"cold run:  {cold.executions} kernel execution(s) for {len(editions)} editions (target 3)")
    print(f"re-run:    {rerun.executions} kernel execution(s), {rerun_seconds:.2f}s (target 0)")
    for fw, seconds in single.items():
        print(f"  {fw:<11} alone: {seconds:6.2f}s")
    print(
        f"parallel (3 frameworks, --jobs 3): {parallel:.2f}s = {parallel / single[slowest]:.2f}x "
        f"the slowest single framework ({slowest}, {single[slowest]:.2f}s) (target <= 1.2x)"
    )
    print(f"re-run / cold: {rerun_seconds / parallel:.3f}x")


if __name__ == "__main__":
    main()
