"""A hostile translation through the real MkDocs build: nothing live reaches the pages.

The translation carries every construct seen in the wild or in a reviewer's attempt: a
``<script>`` in a heading and in a paragraph, an ``<iframe>``, a ``javascript:`` link, an
``<img onerror>`` in a figure caption, an attribute list with an event handler and
``<div markdown><script>``. The built HTML is read with an HTML parser (not searched as text),
so what is counted is what a browser would run.
"""

from __future__ import annotations

import functools
import http.server
import json
import sys
import threading
from contextlib import suppress
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import build_site

from toolkit.site.sanitise import sanitise_html

BIN = Path(sys.executable).parent
CHAPTER = "chapter_computational-performance/hybridize.md"
HOSTILE = """
## Gizli <script>alert("heading")</script> Bölüm

Bir paragraf <script>alert("paragraph")</script> ve <iframe src="https://example.org/x"></iframe> burada.

Bir [bağlantı](javascript:alert("link")) ve [veri](data:text/html;base64,PHNjcmlwdD4=) ve <a href="JaVaScRiPt:alert(1)">büyük harf</a>.

![Altyazı <img src=x onerror=alert("caption")>](../img/computegraph.svg)

Özellik listesi
{: onmouseover="alert('attr_list')" }

<div markdown>
<script>alert("md_in_html")</script>
**kalın**
</div>
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class LiveContent(HTMLParser):
    """Collects what a browser would execute or follow into script."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        if tag in ("iframe", "object", "embed"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            url = "".join((value or "").split()).lower()
            if name in ("href", "src", "action") and url.startswith(
                ("javascript:", "vbscript:", "data:text")
            ):
                self.found.append(f"<{tag} {name}={value}>")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and "alert" in data:
            self.found.append(f"<script>{data.strip()[:40]}")


def live_content(html: str) -> list[str]:
    parser = LiveContent()
    parser.feed(html)
    return parser.found


def test_sanitiser_keeps_what_the_site_needs_and_drops_the_rest() -> None:
    kept = (
        '<div class="tabbed-set" data-tabs="1:2"><input checked="checked" id="__tabbed_1_1" '
        'name="__tabbed_1" type="radio"><label for="__tabbed_1_1">MXNet</label></div>'
        '<img class="d2l-output-image" alt="output" src="data:image/png;base64,iVBOR">'
        '<span class="arithmatex">\\(x&lt;y\\)</span><a href="../x/#sec">Section 1</a>'
    )
    assert sanitise_html(kept) == kept
    dropped = sanitise_html(
        '<p onclick="x()">a<script>alert(1)</script><a href="javascript:alert(1)">b</a>'
        '<a href="data:text/html,x">c</a><img src="x" onerror="alert(2)"><iframe src="/"></iframe>'
        '<span style="width: 3em; background: url(javascript:x)">d</span></p>'
    )
    assert dropped == '<p>a<a>b</a><a>c</a><img src="x"><span style="width:3em">d</span></p>'


def test_a_hostile_translation_builds_without_live_content(project: Path, tmp_path: Path) -> None:
    target = project / "translations" / "tr" / CHAPTER
    target.write_text(target.read_text("utf-8") + HOSTILE, encoding="utf-8")
    site = tmp_path / "site"
    result = build_site(project, site, languages="en,tr", strict=False)
    assert result.returncode == 0, result.stderr[-3000:]
    page = (site / "tr" / CHAPTER.replace(".md", "") / "index.html").read_text("utf-8")
    assert "Gizli" in page and "kalın" in page and "Özellik listesi" in page  # the words stay
    live = {
        str(path.relative_to(site)): live_content(path.read_text("utf-8")) for path in site.rglob("*.html")
    }
    assert not {page: items for page, items in live.items() if items}
    # Material's search shows each entry's text as HTML: nothing in it may be live either. A tag
    # Python-Markdown does not read as HTML (`<img src=x onerror=alert("caption")>`, unquoted) is
    # the page's text, escaped, in the caption as in a paragraph
    search = json.loads((site / "tr" / "search" / "search_index.json").read_text("utf-8"))
    entries = [doc.get(field, "") for doc in search["docs"] for field in ("title", "text")]
    assert [found for entry in entries if (found := live_content(entry))] == []
    assert not any("<img" in entry and "onerror" in entry for entry in entries)


# What escaped the page body before: the title (navigation, header, <title>, search), front
# matter read as page meta, a label as an id, MathJax's \href/\style, ids the theme owns
HOSTILE_TITLE = "# Compiler dan Interpreter <img/src/onerror=alert(document.domain)>\n"
HOSTILE_FRONT = (
    '---\ntitle: <img src=x onerror=alert("meta")>\ndescription: <script>alert("d")</script>\n---\n'
)
HOSTILE_BODY = """
## Bagian
:label:`sec_x"><img/src/onerror=alert("label")><x`

Rumus $\\href{javascript:alert("href")}{x} + \\style{background:url(javascript:alert(1))}{y}$ di sini.

<div id="__config">{"base": "https://example.org", "features": [], "search": "https://example.org/x.js"}</div>

<p data-md-component="search-query">kueri</p>
"""


def hostile_id_project(project: Path) -> Path:
    target = project / "translations" / "id" / CHAPTER
    text = target.read_text("utf-8")
    body = text.split("\n", 1)[1]  # the chapter's own first heading replaced by the hostile one
    target.write_text(HOSTILE_FRONT + HOSTILE_TITLE + body + HOSTILE_BODY, encoding="utf-8")
    return target


def test_titles_meta_labels_and_theme_ids_carry_nothing_live(project: Path, tmp_path: Path) -> None:
    hostile_id_project(project)
    site = tmp_path / "site"
    result = build_site(project, site, languages="en,id", strict=False)
    assert result.returncode == 0, result.stderr[-3000:]
    page = (site / "id" / CHAPTER.replace(".md", "") / "index.html").read_text("utf-8")
    assert "Compiler dan Interpreter" in page and "kueri" in page
    for path in site.rglob("*.html"):
        html = path.read_text("utf-8")
        assert live_content(html) == [], path
        assert html.count('id="__config"') <= 1, path  # Material's own configuration only
        assert 'data-md-component="search-query">kueri' not in html
    # the page's meta is ours: no description or title from the translation's front matter
    assert 'alert("meta")' not in page.split("<body", 1)[0].replace("&lt;", "")
    assert (
        "<script>alert(&quot;d&quot;)" not in page and '<meta name="description" content="<script' not in page
    )
    search = json.loads((site / "id" / "search" / "search_index.json").read_text("utf-8"))
    entries = [doc.get(field, "") for doc in search["docs"] for field in ("title", "text")]
    assert [found for entry in entries if (found := live_content(entry))] == []
    assert 'id="sec_x' not in page and "#sec_x&quot;" not in page


@pytest.mark.browser
def test_the_hostile_page_runs_nothing_in_chromium(project: Path, tmp_path: Path) -> None:
    """The real browser: no dialog opens, MathJax makes no javascript: link, search still
    reads its own configuration."""
    playwright_sync = pytest.importorskip("playwright.sync_api")
    from mathpages import CHROMIUM, FLAGS

    hostile_id_project(project)
    site = tmp_path / "site"
    assert build_site(project, site, languages="en,id", strict=False).returncode == 0
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dialogs: list[str] = []
    try:
        with playwright_sync.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page()
            def refuse(dialog: Any) -> None:
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", refuse)
            url = f"http://127.0.0.1:{server.server_address[1]}/id/{CHAPTER.replace('.md', '/')}"
            page.goto(url)
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("() => MathJax.startup.promise")
            links = page.eval_on_selector_all(
                "mjx-container a, a", "els => els.map(e => e.getAttribute('href') || '')"
            )
            base = page.evaluate("() => JSON.parse(document.getElementById('__config').textContent).base")
            page.click("text=kueri")
            for anchor in page.query_selector_all("mjx-container *"):
                with suppress(Exception):
                    anchor.click(timeout=200)
            browser.close()
    finally:
        server.shutdown()
    assert dialogs == []
    assert not [href for href in links if href.replace(" ", "").lower().startswith("javascript:")]
    assert "example.org" not in base
