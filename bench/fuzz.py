"""Fuzz: mutated chapters through check-alignment, PO export/import and the site's lowering.

Each case takes a real translated chapter and its English basis (from ``../shared/book``, or
the project's seed chapters without it), applies a few random mutations to the translation
(lines deleted, duplicated, swapped or cut; dialect tokens, fences, tab markers, roles, math,
HTML, control characters and stray bytes inserted) and runs it through

1. the parser and every check-alignment rule (``check_pair``),
2. PO export, then import of the exported catalog (which must give back the file byte for
   byte: the no-edit identity),
3. the site's lowering of the chapter.

A case fails on a traceback, on a broken identity, or on a hang (each case has a wall-clock
limit, enforced with SIGALRM). The run prints the counts; exit 1 on any failure.
Usage: python bench/fuzz.py [--cases 10000] [--seed 0] [--jobs 2] [--limit 20]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("D2L_SHARED", ROOT.parent / "shared")).resolve()

SNIPPETS = (
    "```{.python .input}\n",
    "```\n",
    "```{.python .input}\n#@tab pytorch\nx = 1\n",
    "#@tab all\n",
    "%%tab mxnet\n",
    ":begin_tab:`pytorch`\n",
    ":end_tab:\n",
    ":label:`sec_fuzz`\n",
    ":numref:`sec_fuzz`",
    ":eqref:`eq_x`",
    ":cite:`Nobody.2099`",
    ":numref:`a`--:numref:`b`",
    "$$\n",
    "$x_1$",
    "$",
    "`",
    "**",
    "[**",
    "**]",
    "(~~",
    "~~)",
    "<script>alert(1)</script>",
    "<div markdown>\n",
    "</div>\n",
    '{: onclick="x" }',
    "[x](javascript:alert(1))",
    "![cap](../img/none.svg)\n",
    ":width:`400px`\n",
    "|a|b|\n|-|-|\n",
    ":Caption\n",
    "<!-- toolkit: ignore C003 -->\n",
    "<!-- toolkit: timeout 5 -->\n",
    "\x00",
    "\x1b[31m",
    "\ufeff",
    "\r\n",
    "\t",
    "# ",
    "    ",
    "> ",
    "1. ",
    "- ",
)


@dataclass(frozen=True)
class Pair:
    english: Path
    translation: Path
    tabs: tuple[str, ...]
    language: str


def seed_pairs() -> list[Pair]:
    """Real chapters: the whole book when it is there, else the project's seeds."""
    book = SHARED / "book"
    if (book / "en" / "config.ini").is_file():
        from toolkit.corpus import book_jobs

        return [Pair(j.basis, j.translation, j.tabs, j.language) for j in book_jobs(book)]
    english = ROOT / "source_en" / "fd6224a0" / "chapter_computational-performance" / "hybridize.md"
    return [
        Pair(english, path, ("mxnet", "pytorch", "tensorflow"), path.parts[-3])
        for path in sorted((ROOT / "translations").glob("*/chapter_*/*.md"))
    ]


def mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True) or [""]
    for _ in range(rng.randint(1, 6)):
        kind = rng.randrange(7)
        at = rng.randrange(len(lines)) if lines else 0
        if kind == 0 and len(lines) > 1:
            del lines[at]
        elif kind == 1:
            lines.insert(at, lines[at] if lines else "")
        elif kind == 2 and len(lines) > 1:
            other = rng.randrange(len(lines))
            lines[at], lines[other] = lines[other], lines[at]
        elif kind == 3 and lines:
            line = lines[at]
            cut = rng.randrange(len(line) + 1)
            lines[at] = line[:cut] + rng.choice(SNIPPETS) + line[cut:]
        elif kind == 4:
            lines.insert(at, rng.choice(SNIPPETS) + "\n")
        elif kind == 5 and lines:
            line = lines[at]
            lines[at] = line[: rng.randrange(len(line) + 1)]
        else:
            lines.insert(at, "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(1, 12))))
    return "".join(lines)


class Hang(Exception):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang


def run_case(english_text: str, text: str, tabs: tuple[str, ...], language: str) -> None:
    from toolkit.align import align_chapters
    from toolkit.checks import CheckContext, run_rules
    from toolkit.parser import parse_chapter
    from toolkit.po.catalog import round_trip
    from toolkit.site.lower import PageContext, lower_chapter, number_chapter
    from toolkit.site.words import words_for

    english = parse_chapter("en.md", english_text)
    translation = parse_chapter("tr.md", text)
    alignment = align_chapters(english, translation, tabs, tabs)
    context = CheckContext(alignment=alignment, language=language, edition="fuzz", chapter="x.md", basis="en")
    run_rules(context)
    imported = round_trip(english, tabs, translation, tabs, language)
    if imported.text != translation.text or imported.refused:
        raise AssertionError("export -> import with no edit changed the chapter")
    page = "tr/chapter_x/x.md"
    labels = number_chapter(translation, page, "1.1")
    words = words_for(language if language in ("en", "ko", "id", "tr", "vi") else "en")
    lower_chapter(translation, PageContext(page, "1.1", tabs, words, labels, {}, "tr/bibliography.md"))


def _worker(arguments: tuple[int, int, float]) -> list[tuple[int, str]]:
    """Cases ``start .. start+count`` of the run; (case, failure) for each that failed."""
    start, count, limit = arguments
    pairs = seed_pairs()
    signal.signal(signal.SIGALRM, _alarm)
    failures: list[tuple[int, str]] = []
    texts: dict[Path, str] = {}
    for case in range(start, start + count):
        rng = random.Random(case)
        pair = pairs[rng.randrange(len(pairs))]
        for path in (pair.english, pair.translation):
            if path not in texts:
                texts[path] = path.read_text("utf-8", "surrogateescape")
        mutated = mutate(texts[pair.translation], rng)
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            run_case(texts[pair.english], mutated, pair.tabs, pair.language)
        except Hang:
            failures.append((case, f"hang (> {limit:g}s) on a mutation of {pair.translation}"))
        except Exception:
            failures.append((case, f"{pair.translation}:\n{traceback.format_exc(limit=-4)}"))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    return failures


def fuzz(cases: int, seed: int, jobs: int, limit: float) -> tuple[int, list[tuple[int, str]]]:
    chunks = max(jobs * 8, 1)
    size = -(-cases // chunks)
    work = [(seed + start, min(size, cases - start), limit) for start in range(0, cases, size)]
    if jobs <= 1:
        results: Iterator[list[tuple[int, str]]] = map(_worker, work)
        return cases, [f for chunk in results for f in chunk]
    with Pool(jobs) as pool:
        return cases, [f for chunk in pool.imap_unordered(_worker, work) for f in chunk]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--limit", type=float, default=20.0, help="seconds a case may take before it counts as a hang"
    )
    options = parser.parse_args()
    started = time.perf_counter()
    cases, failures = fuzz(options.cases, options.seed, options.jobs, options.limit)
    elapsed = time.perf_counter() - started
    hangs = sum(1 for _, f in failures if f.startswith("hang"))
    for case, failure in sorted(failures)[:20]:
        print(f"case {case}: {failure}")
    print(
        f"fuzz: {cases} mutated chapters (seed {options.seed}, {len(seed_pairs())} real chapters as seeds) "
        f"through check-alignment, PO export/import and lowering: {len(failures) - hangs} traceback(s) "
        f"or broken identities, {hangs} hang(s), {elapsed:.0f}s ({1000 * elapsed / cases:.1f} ms/case)"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
