"""A hostile translation through the real MkDocs build: nothing live reaches the pages.

The translation carries every construct seen in the wild or in a reviewer's attempt: a
``<script>`` in a heading and in a paragraph, an ``<iframe>``, a ``javascript:`` link, an
``<img onerror>`` in a figure caption, an attribute list with an event handler and
``<div markdown><script>``. The built HTML is read with an HTML parser (not searched as text),
so what is counted is what a browser would run.
"""

from __future__ import annotations

import json
import sys
from html.parser import HTMLParser
from pathlib import Path

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
    found = {
        str(path.relative_to(site)): live_content(path.read_text("utf-8")) for path in site.rglob("*.html")
    }
    assert not {page: items for page, items in found.items() if items}
    # Material's search shows each entry's text as HTML: nothing in it may be live either. A tag
    # Python-Markdown does not read as HTML (`<img src=x onerror=alert("caption")>`, unquoted) is
    # the page's text, escaped, in the caption as in a paragraph
    search = json.loads((site / "tr" / "search" / "search_index.json").read_text("utf-8"))
    entries = [doc.get(field, "") for doc in search["docs"] for field in ("title", "text")]
    assert [found for entry in entries if (found := live_content(entry))] == []
    assert not any("<img" in entry and "onerror" in entry for entry in entries)
