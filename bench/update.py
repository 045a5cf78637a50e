"""Benchmark: `toolkit update` of the whole book against a cold `check-alignment` of the same
files, measured in the same run (the issue's target: update <= 2x the cold check).

Both run as the real commands in a fresh process each, on a scratch copy of the project (the
update writes; `--check` would not, but it computes the same), with empty caches:

- check: `toolkit check-alignment` of the editions, cold (no result cache, no language cache)
- update: `toolkit update --edition ...` of the same editions onto today's English
- again: the same update a second time (idempotent: it must change no file)

Usage: python bench/update.py [--edition ko --edition tr ...] (default: ko, tr, vi)
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLKIT = Path(sys.executable).parent / "toolkit"


def timed(project: Path, *args: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([str(TOOLKIT), *args], cwd=project, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"toolkit {' '.join(args)} failed: {done.stderr[-2000:]}")
    return seconds, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edition", action="append", dest="editions")
    editions = parser.parse_args().editions or ["ko", "tr", "vi"]
    with tempfile.TemporaryDirectory(prefix="bench-update-") as scratch:
        project = Path(scratch) / "project"
        project.mkdir()
        for name in ("pyproject.toml", "mkdocs.yml"):
            shutil.copy(ROOT / name, project / name)
        shutil.copytree(ROOT / "source_en", project / "source_en")
        for edition in editions:
            shutil.copytree(ROOT / "translations" / edition, project / "translations" / edition)
        check, _ = timed(
            project, "check-alignment", "--format", "json", *(f"translations/{e}" for e in editions)
        )
        flags = [f"--edition={e}" for e in editions]
        update, report = timed(project, "update", *flags)
        again, second = timed(project, "update", *flags)
    print(f"editions: {', '.join(editions)}")
    for line in report.splitlines():
        if not line.startswith("  "):
            print(f"  {line}")
    changed = re.search(r"(\d+) file\(s\) changed", second)
    print(f"check-alignment, cold:  {check:7.1f} s   (baseline)")
    print(f"update:                 {update:7.1f} s   {update / check:.2f}x the cold check (target <= 2x)")
    print(
        f"update again:           {again:7.1f} s   {again / check:.2f}x; files changed: {changed.group(1) if changed else '?'}"
    )


if __name__ == "__main__":
    main()
