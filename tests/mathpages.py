"""Every page of a built site that has math, opened in headless Chromium: is every formula
typeset by the site's own MathJax, with no error and no raw TeX delimiter left?

Used by the whole-book test (tests/test_book.py) and runnable by hand:
``python tests/mathpages.py SITE_DIR`` prints one line per page with a problem.
"""

from __future__ import annotations

import functools
import http.server
import multiprocessing
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STATE = r"""() => {
    const article = document.querySelector('article');
    // the prose only: code may well contain "\\(" (a regex in a cell)
    const prose = article ? article.cloneNode(true) : null;
    if (prose) prose.querySelectorAll('pre, code, .highlight').forEach(e => e.remove());
    if (prose) document.body.appendChild(prose);
    const text = prose ? prose.innerText : '';
    if (prose) prose.remove();
    const raw = [];
    for (const marker of ['\\(', '\\)', '\\[', '\\]', '$$']) {
        const at = text.indexOf(marker);
        if (at >= 0) raw.push(text.slice(Math.max(0, at - 30), at + 30));
    }
    // "$x^2$" left as text (a formula the renderer did not see: a figure caption once);
    // prices ("$0 to $50,000") hold no TeX
    const dollars = text.match(/\$[^$\n]*[\\^_{][^$\n]*\$/);
    if (dollars) raw.push(dollars[0].slice(0, 60));
    return {
        formulas: document.querySelectorAll('.arithmatex').length,
        typeset: document.querySelectorAll('.arithmatex mjx-container').length,
        errors: [...document.querySelectorAll('mjx-merror, [data-mjx-error]')]
            .map(e => e.getAttribute('data-mjx-error') || e.textContent).slice(0, 5),
        raw: raw,
    };
}"""
DONE = (
    "() => window.MathJax && MathJax.startup && MathJax.startup.document &&"
    " document.querySelectorAll('.arithmatex mjx-container').length"
    " === document.querySelectorAll('.arithmatex').length"
)


@dataclass(frozen=True)
class MathProblem:
    page: str  # "tr/chapter_x/y/"
    detail: str


def pages_with_math(site: Path) -> list[str]:
    return sorted(
        path.parent.relative_to(site).as_posix() + "/"
        for path in site.rglob("index.html")
        if 'class="arithmatex"' in path.read_text("utf-8", "replace")
    )


@contextmanager
def served(site: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def math_problems(
    site: Path,
    pages: list[str] | None = None,
    timeout_ms: int = 30_000,
    verbose: bool = False,
    workers: int = 2,
) -> list[MathProblem]:
    """Open each page (default: every page with math) and report what did not typeset; the
    pages are shared among ``workers`` browsers in their own processes (MathJax is CPU-bound)."""
    pages = pages_with_math(site) if pages is None else pages
    with served(site) as base:
        if workers <= 1 or len(pages) < 2:
            return _check_pages(base, pages, timeout_ms, verbose)
        context = multiprocessing.get_context("spawn")
        with context.Pool(workers) as pool:
            parts = pool.starmap(
                _check_pages, [(base, pages[i::workers], timeout_ms, verbose) for i in range(workers)]
            )
    return sorted((problem for part in parts for problem in part), key=lambda p: (p.page, p.detail))


def _check_pages(base: str, pages: list[str], timeout_ms: int, verbose: bool) -> list[MathProblem]:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    problems: list[MathProblem] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        # pictures and fonts do not change whether math typesets: skip them for speed
        context.route(
            "**/*",
            lambda route: (
                route.abort()
                if route.request.resource_type in ("image", "media", "font")
                else route.continue_()
            ),
        )
        page = context.new_page()
        failed: list[str] = []
        page.on(
            "requestfailed",
            # a request cut short by the next navigation (net::ERR_ABORTED) is no fault of the site
            lambda r: (
                failed.append(f"{r.url} ({r.failure})")
                if r.resource_type not in ("image", "media", "font")
                and "ERR_ABORTED" not in (r.failure or "")
                else None
            ),
        )
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        for relative in pages:
            if verbose:
                print(f"opening {relative}", file=sys.stderr, flush=True)
            failed.clear()
            page.goto(base + relative, wait_until="load")
            with suppress(PlaywrightTimeout):  # reported below with the counts
                page.wait_for_function(DONE, timeout=timeout_ms)
            state = page.evaluate(STATE)
            if state["typeset"] != state["formulas"]:
                problems.append(
                    MathProblem(relative, f"{state['typeset']} of {state['formulas']} formulas typeset")
                )
            if state["errors"]:
                problems.append(MathProblem(relative, f"MathJax errors: {state['errors']}"))
            if state["raw"]:
                problems.append(MathProblem(relative, f"raw TeX delimiters: {state['raw']}"))
            if failed:
                problems.append(MathProblem(relative, f"failed requests: {failed[:3]}"))
        browser.close()
    return problems


if __name__ == "__main__":
    root = Path(sys.argv[1])
    chosen = pages_with_math(root)
    if len(sys.argv) > 2:
        chosen = [p for p in chosen if p.startswith(sys.argv[2])]
    print(f"{len(chosen)} pages with math", flush=True)
    for problem in math_problems(root, chosen, verbose=True):
        print(f"{problem.page}: {problem.detail}", flush=True)
