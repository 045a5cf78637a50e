r"""Fuzz: mutated chapters through check-alignment, PO export/import and the site's lowering.

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

``--adversarial`` inserts a hostile contributor's constructs instead (tags markdown-it reads as
text, event handlers, ``javascript:`` links, labels that break out of an id, MathJax's
``\href``, front matter, the theme's ids) and also renders each lowered page with the site's
Markdown extensions and sanitiser: a case fails when anything live is left (a script, an event
handler, a ``javascript:`` URL, a theme id, markup in the page title).
Usage: python bench/fuzz.py [--cases 10000] [--seed 0] [--jobs 2] [--limit 20] [--adversarial]
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
from html.parser import HTMLParser
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


HOSTILE = (
    "<img/src/onerror=alert(1)>",
    "<img src=x onerror=alert(1)>",
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](java\tscript:alert(1))",
    "![x](data:text/html;base64,PHNjcmlwdD4=)",
    "<script>alert(1)</script>",
    "<svg/onload=alert(1)>",
    "<iframe src=https://example.org></iframe>",
    '<div id="__config">{}</div>',
    '<p data-md-component="search-query">x</p>',
    '{: onmouseover="alert(1)" }',
    ':label:`sec_x"><script>alert(1)</script>`\n',
    ":numref:`x</span><img src=x onerror=alert(1)>`",
    "$\\href{javascript:alert(1)}{x}$",
    "---\ntitle: <img src=x onerror=alert(1)>\n---\n",
    "# Bab <img/src/onerror=alert(1)>\n",
    "<div markdown>\n<script>alert(1)</script>\n</div>\n",
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

        return [Pair(j.basis, j.translation, j.tabs, j.language) for j in book_jobs(book) if j.basis is not None]
    english = ROOT / "source_en" / "fd6224a0" / "chapter_computational-performance" / "hybridize.md"
    return [
        Pair(english, path, ("mxnet", "pytorch", "tensorflow"), path.parts[-3])
        for path in sorted((ROOT / "translations").glob("*/chapter_*/*.md"))
    ]


def mutate(text: str, rng: random.Random, snippets: tuple[str, ...] = SNIPPETS) -> str:
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
            lines[at] = line[:cut] + rng.choice(snippets) + line[cut:]
        elif kind == 4:
            lines.insert(at, rng.choice(snippets) + "\n")
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


class _Live(HTMLParser):
    """What a browser would run or follow into script, read as a browser reads the page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "svg", "math", "form"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            # as a browser parses a URL: tabs and newlines removed, outer blanks stripped
            url = (value or "").translate({9: None, 10: None, 13: None}).strip(" \x00\x1f").lower()
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=>")
            elif (
                name in ("href", "src", "action")
                and url.startswith(("javascript:", "vbscript:", "data:text"))
            ) or (name in ("id", "name") and (value or "").startswith("__config")):
                self.found.append(f"<{tag} {name}={value}>")
            elif name.startswith("data-md"):
                self.found.append(f"<{tag} {name}=>")


def live_in_page(lowered_markdown: str, title: str) -> str:
    """What a reader's browser would run in the page the site makes of ``lowered_markdown``
    (Python-Markdown with the site's extensions, then the sanitiser), or ""."""
    import markdown

    from toolkit.site.sanitise import sanitise_html

    html = markdown.markdown(
        lowered_markdown,
        extensions=[
            "admonition", "attr_list", "md_in_html", "tables", "toc",
            "pymdownx.arithmatex", "pymdownx.superfences", "pymdownx.tabbed",
        ],
        extension_configs={"pymdownx.arithmatex": {"generic": True}},
    )  # fmt: skip
    parser = _Live()
    parser.feed(sanitise_html(html))
    if parser.found:
        return f"live content in the page: {parser.found[0]}"
    if "<" in title:
        return f"markup in the page title: {title!r}"
    return ""


def run_case(
    english_text: str, text: str, tabs: tuple[str, ...], language: str, adversarial: bool = False
) -> None:
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
    lowered = lower_chapter(
        translation, PageContext(page, "1.1", tabs, words, labels, {}, "tr/bibliography.md")
    )
    if adversarial:
        problem = live_in_page(lowered.markdown, lowered.title)
        if problem:
            raise AssertionError(problem)


def _worker(arguments: tuple[int, int, float, bool]) -> list[tuple[int, str]]:
    """Cases ``start .. start+count`` of the run; (case, failure) for each that failed."""
    start, count, limit, adversarial = arguments
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
        mutated = mutate(texts[pair.translation], rng, HOSTILE if adversarial else SNIPPETS)
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            run_case(texts[pair.english], mutated, pair.tabs, pair.language, adversarial)
        except Hang:
            failures.append((case, f"hang (> {limit:g}s) on a mutation of {pair.translation}"))
        except Exception:
            failures.append((case, f"{pair.translation}:\n{traceback.format_exc(limit=-4)}"))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    return failures


def fuzz(
    cases: int, seed: int, jobs: int, limit: float, adversarial: bool = False
) -> tuple[int, list[tuple[int, str]]]:
    chunks = max(jobs * 8, 1)
    size = -(-cases // chunks)
    work = [(seed + start, min(size, cases - start), limit, adversarial) for start in range(0, cases, size)]
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
    parser.add_argument(
        "--adversarial",
        action="store_true",
        help="insert a hostile contributor's constructs and check the rendered page holds nothing live",
    )
    options = parser.parse_args()
    started = time.perf_counter()
    cases, failures = fuzz(options.cases, options.seed, options.jobs, options.limit, options.adversarial)
    elapsed = time.perf_counter() - started
    hangs = sum(1 for _, f in failures if f.startswith("hang"))
    for case, failure in sorted(failures)[:20]:
        print(f"case {case}: {failure}")
    print(
        f"fuzz{' (adversarial)' if options.adversarial else ''}: {cases} mutated chapters (seed {options.seed}, {len(seed_pairs())} real chapters as seeds) "
        f"through check-alignment, PO export/import and lowering: {len(failures) - hangs} traceback(s) "
        f"or broken identities, {hangs} hang(s), {elapsed:.0f}s ({1000 * elapsed / cases:.1f} ms/case)"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
