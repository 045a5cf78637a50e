"""The built site in a real browser: Debian's headless Chromium driven by Playwright.

The site is served from the session's `mkdocs build` on 127.0.0.1 (a free port). Chromium
comes from `apt-get install chromium` (`make system`, part of `make setup` and `make test`);
Playwright never downloads a browser. Screenshots go to build/test-artifacts/.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from conftest import ROOT, build_site, make_seed_project
from mathpages import CHROMIUM, FLAGS

playwright_sync = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "build" / "test-artifacts"
CHAPTER = "chapter_computational-performance/hybridize/"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url(built_site: tuple[Path, str]) -> Iterator[str]:
    site, _ = built_site
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system` (apt-get install chromium)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    opened = context.new_page()
    yield opened
    context.close()


def tabs_of_groups_with(page: object, title: str) -> list[str]:
    """The checked tab of every tab group on the page that has a tab called ``title``."""
    return page.eval_on_selector_all(  # type: ignore[attr-defined, no-any-return]
        ".tabbed-set",
        """(sets, title) => sets
            .filter(set => [...set.querySelectorAll(':scope > .tabbed-labels > label')]
                .some(label => label.textContent.trim() === title))
            .map(set => {
                const input = set.querySelector(':scope > input:checked');
                const label = input && set.querySelector(`:scope > .tabbed-labels > label[for="${input.id}"]`);
                return label ? label.textContent.trim() : '';
            })""",
        title,
    )


def test_choosing_tensorflow_switches_every_tab_group_and_stays_chosen(page: object, base_url: str) -> None:
    page.goto(base_url + "en/" + CHAPTER)  # type: ignore[attr-defined]
    before = tabs_of_groups_with(page, "TensorFlow")
    assert len(before) >= 4 and "TensorFlow" not in before
    page.locator(".tabbed-labels label", has_text="TensorFlow").first.click()  # type: ignore[attr-defined]
    page.wait_for_timeout(300)  # type: ignore[attr-defined]
    assert tabs_of_groups_with(page, "TensorFlow") == ["TensorFlow"] * len(before)
    page.screenshot(path=str(ARTIFACTS / "tabs-tensorflow-en.png"))  # type: ignore[attr-defined]
    # another page, another language: the choice is remembered
    page.goto(base_url + "vi/" + CHAPTER)  # type: ignore[attr-defined]
    page.wait_for_timeout(300)  # type: ignore[attr-defined]
    shown = tabs_of_groups_with(page, "TensorFlow")
    assert shown and shown == ["TensorFlow"] * len(shown)
    page.screenshot(path=str(ARTIFACTS / "tabs-tensorflow-vi.png"))  # type: ignore[attr-defined]


def test_switching_language_lands_on_the_same_chapter(page: object, base_url: str) -> None:
    page.goto(base_url + "en/" + CHAPTER)  # type: ignore[attr-defined]
    page.locator(".md-header__option .md-select").hover()  # type: ignore[attr-defined]
    page.locator("a.d2l-language-link[hreflang=ko]").click()  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    assert page.url == base_url + "ko/" + CHAPTER  # type: ignore[attr-defined]
    assert page.locator("h1").first.inner_text().startswith("13.1.")  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "language-ko.png"))  # type: ignore[attr-defined]


def search(page: object, base_url: str, language: str, term: str) -> list[str]:
    page.goto(base_url + language + "/" + CHAPTER)  # type: ignore[attr-defined]
    page.locator("label.md-search__icon, .md-search__input").first.click()  # type: ignore[attr-defined]
    field = page.locator("input.md-search__input")  # type: ignore[attr-defined]
    field.fill(term)
    field.press("End")  # Material searches on keyup; fill() alone types no key
    page.wait_for_selector(".md-search-result__item", timeout=15000)  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / f"search-{language}.png"))  # type: ignore[attr-defined]
    return page.eval_on_selector_all(  # type: ignore[attr-defined, no-any-return]
        ".md-search-result__item a", "links => links.map(a => a.href)"
    )


@pytest.mark.parametrize(
    ("language", "term"),
    [
        ("ko", "하이브리드화"),  # also written with particles: 하이브리드화가, 하이브리드화에 ...
        ("ko", "직렬화"),
        ("id", "kompilasi"),
        ("id", "serialisasi"),
    ],
)
def test_search_finds_words_in_the_current_language_only(
    page: object, base_url: str, language: str, term: str
) -> None:
    hits = search(page, base_url, language, term)
    assert hits, f"no hit for {term!r} in {language}"
    assert all(hit.startswith(base_url + language + "/") for hit in hits), hits


def test_numbered_reference_resolves(page: object, base_url: str) -> None:
    page.goto(base_url + "ko/" + CHAPTER)  # type: ignore[attr-defined]
    link = page.locator("a[href='#fig_compute_graph']").first  # type: ignore[attr-defined]
    assert link.inner_text() == "그림 13.1.1"
    link.click()
    assert page.url.endswith("#fig_compute_graph")  # type: ignore[attr-defined]
    assert page.locator("#fig_compute_graph").count() == 1  # type: ignore[attr-defined]
    caption = page.locator("figure.d2l-figure figcaption").first.inner_text()  # type: ignore[attr-defined]
    assert caption.startswith("그림 13.1.1")
    page.screenshot(path=str(ARTIFACTS / "numref-ko.png"))  # type: ignore[attr-defined]


MATH = r"""

## Matematik

Satır içi $\mathbf{x} \in \mathbb{R}^d$ ve $\boldsymbol{\theta}$ ile $\cancel{y}$.

$$\hat{\mathbf{y}} = \operatorname*{argmax}_{j} \sum_{i=1}^n \boldsymbol{\beta}_i x_{ij}.$$
:eqlabel:`eq_fuzz_sum`

Bkz. :eqref:`eq_fuzz_sum`.
"""


@pytest.fixture(scope="module")
def math_site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site of a project copy whose Turkish chapter has inline and display math using
    \\boldsymbol and \\cancel (TeX extensions MathJax loads on demand)."""
    project = make_seed_project(tmp_path_factory.mktemp("math-project") / "project")
    chapter = project / "translations" / "tr" / "chapter_computational-performance" / "hybridize.md"
    chapter.write_text(chapter.read_text("utf-8") + MATH, "utf-8")
    site = project / "site"
    built = build_site(project, site, languages="en,tr", strict=False)
    assert built.returncode == 0, built.stderr[-3000:]
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_math_renders_offline(page: object, math_site_url: str) -> None:
    """Every formula is typeset by the site's own MathJax (extensions included): no request
    leaves the machine, none fails, no raw TeX delimiter is left and no MathJax error shows."""
    requests: list[str] = []
    failed: list[str] = []
    page.on("request", lambda request: requests.append(request.url))  # type: ignore[attr-defined]
    page.on("requestfailed", lambda request: failed.append(request.url))  # type: ignore[attr-defined]
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)  # type: ignore[attr-defined]
    page.goto(math_site_url + "tr/" + CHAPTER)  # type: ignore[attr-defined]
    page.wait_for_function("() => window.MathJax && window.MathJax.startup && window.MathJax.startup.promise")  # type: ignore[attr-defined]
    page.evaluate("() => MathJax.startup.promise")  # type: ignore[attr-defined]
    # an extension loaded on demand (\boldsymbol) re-typesets its formula after the first pass
    with suppress(playwright_sync.TimeoutError):
        page.wait_for_function(  # type: ignore[attr-defined]
            "() => document.querySelectorAll('.arithmatex mjx-container').length"
            " === document.querySelectorAll('.arithmatex').length"
            " && !document.querySelector('article').innerText.includes('\\\\(')",
            timeout=10_000,
        )
    state = page.evaluate(  # type: ignore[attr-defined]
        r"""() => {
            const text = document.querySelector('article').innerText;
            return {
                formulas: document.querySelectorAll('.arithmatex').length,
                typeset: document.querySelectorAll('.arithmatex mjx-container').length,
                errors: [...document.querySelectorAll('mjx-merror, [data-mjx-error]')].map(e => e.textContent),
                raw: text.includes('\\(') || text.includes('\\[') || text.includes('$$'),
                numbered: document.querySelector('a[href="#eq_fuzz_sum"]')?.textContent,
            };
        }"""
    )
    page.screenshot(path=str(ARTIFACTS / "math-tr.png"), full_page=False)  # type: ignore[attr-defined]
    assert state["formulas"] == 4 and state["typeset"] == 4, state
    assert state["errors"] == [] and state["raw"] is False, state
    assert state["numbered"] == "(13.1.1)", state
    assert all(url.startswith(math_site_url) or url.startswith("data:") for url in requests), requests
    assert failed == [], failed


def test_a_first_visit_is_light_search_loads_its_index_when_wanted(page: object, base_url: str) -> None:
    """A first visit fetches no search index (megabytes) and no MathJax where there is no math;
    the page with its navigation, theme and scripts stays under 1.5 MB. The index comes when
    the reader opens search, and search then works."""
    finished: list[object] = []
    page.on("requestfinished", lambda request: finished.append(request))  # type: ignore[attr-defined]
    page.goto(base_url + "en/")  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    landing = [r.url for r in finished]  # type: ignore[attr-defined]
    assert not [url for url in landing if "search_index" in url or "mathjax/" in url], landing
    finished.clear()
    page.goto(base_url + "ko/" + CHAPTER)  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    page.wait_for_timeout(1000)  # type: ignore[attr-defined]
    urls = [r.url for r in finished]  # type: ignore[attr-defined]
    weight = sum(r.sizes()["responseBodySize"] for r in finished)  # type: ignore[attr-defined]
    assert not [url for url in urls if "search_index" in url], urls
    assert weight < 1_500_000, (weight, urls)
    page.locator("label.md-search__icon, .md-search__input").first.click()  # type: ignore[attr-defined]
    field = page.locator("input.md-search__input")  # type: ignore[attr-defined]
    field.fill("하이브리드화")
    field.press("End")
    page.wait_for_selector(".md-search-result__item", timeout=15000)  # type: ignore[attr-defined]
    assert [r.url for r in finished if "search_index" in r.url] == [base_url + "ko/search/search_index.json"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("language", "typed"), [("tr", "ogrenme"), ("vi", "lap trinh")])
def test_a_query_typed_without_diacritics_finds_the_words_with_them(
    page: object, base_url: str, language: str, typed: str
) -> None:
    """A reader without a Turkish or Vietnamese keyboard types "ogrenme" for "öğrenme" and
    "lap trinh" for "lập trình"; without the folding vocabulary the same query finds nothing."""
    hits = search(page, base_url, language, typed)
    assert hits and all(hit.startswith(base_url + language + "/") for hit in hits), hits


@pytest.mark.parametrize("language", ["en", "ko", "id", "tr", "vi"])
def test_searching_logs_no_warning_or_error(page: object, base_url: str, language: str) -> None:
    """A search in any language leaves the console clean: lunr-languages' Vietnamese support
    logged "Function is not registered with pipeline" on every Vietnamese search."""
    logged: list[str] = []
    page.on("console", lambda message: logged.append(f"{message.type}: {message.text}"))  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: logged.append(f"pageerror: {error}"))  # type: ignore[attr-defined]
    for term in ("t", "tensor"):
        search(page, base_url, language, term)
    assert [line for line in logged if line.startswith(("warning", "error", "pageerror"))] == []


FIGURE = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>\n'


@pytest.fixture(scope="module")
def figure_site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The English site of a project copy whose seed chapter's figure exists (a small SVG
    written here: the seed project carries no img/)."""
    from toolkit.config import load_lock

    project = make_seed_project(tmp_path_factory.mktemp("figure-project") / "project")
    today = load_lock(project / "source_en" / "LOCK.toml").today.id
    figure = project / "source_en" / today / "img" / "computegraph.svg"
    figure.parent.mkdir(parents=True)
    figure.write_text(FIGURE, "utf-8")
    site = project / "site"
    built = build_site(project, site, languages="en")
    assert built.returncode == 0, built.stderr[-3000:]
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", site
    server.shutdown()


def test_a_downloaded_notebook_carries_its_figures_the_site_keeps_once(
    page: object, figure_site_url: tuple[str, Path], tmp_path: Path
) -> None:
    """The published notebook points at the site's one copy of its figure; what the reader's
    click downloads has it embedded as an attachment, so it shows offline in Jupyter."""
    import base64
    import json

    base_url, site = figure_site_url
    published = json.loads(
        (site / "en" / "chapter_computational-performance/hybridize.pytorch.ipynb").read_text()
    )
    source = "".join("".join(c["source"]) for c in published["cells"] if c["cell_type"] == "markdown")
    assert "](../../figures/" in source and not any(c.get("attachments") for c in published["cells"])
    page.goto(base_url + "en/" + CHAPTER)  # type: ignore[attr-defined]
    with page.expect_download() as info:  # type: ignore[attr-defined]
        page.click("a.d2l-notebook:has-text('PyTorch')")  # type: ignore[attr-defined]
    download = info.value
    assert download.suggested_filename == "hybridize.pytorch.ipynb"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    notebook = json.loads(saved.read_text("utf-8"))
    markdown = [c for c in notebook["cells"] if c["cell_type"] == "markdown"]
    text = "".join("".join(c["source"]) for c in markdown)
    assert "](attachment:computegraph.svg)" in text and "figures/" not in text
    (attached,) = [c["attachments"] for c in markdown if c.get("attachments")]
    assert base64.b64decode(attached["computegraph.svg"]["image/svg+xml"]).decode() == FIGURE
    assert [c["source"] for c in notebook["cells"] if c["cell_type"] == "code"] == [
        c["source"] for c in published["cells"] if c["cell_type"] == "code"
    ]
    import nbformat

    nbformat.validate(nbformat.reads(saved.read_text("utf-8"), as_version=4))  # type: ignore[no-untyped-call]


@pytest.mark.parametrize("language", ["en", "ko", "id", "tr", "vi"])
def test_the_sidebar_title_is_whole_and_hides_what_scrolls_under_it(
    page: object, base_url: str, language: str
) -> None:
    """Material keeps the sidebar's title in view (sticky) at one line's height with overflow
    hidden: a title that wraps showed its second line over the entries scrolled under it. The
    title is the book's name in the page's language; it fits, on an opaque background."""
    page.goto(base_url + f"{language}/" + CHAPTER)  # type: ignore[attr-defined]
    title = page.evaluate(  # type: ignore[attr-defined]
        """() => {
          const t = document.querySelector('.md-sidebar--primary .md-nav--primary > .md-nav__title');
          const style = getComputedStyle(t);
          return {text: t.innerText, height: t.clientHeight, content: t.scrollHeight,
                  position: style.position, background: style.backgroundColor};
        }"""
    )
    assert title["text"] and title["content"] <= title["height"] + 1, title
    assert title["position"] == "sticky" and title["background"] not in ("rgba(0, 0, 0, 0)", "transparent")
