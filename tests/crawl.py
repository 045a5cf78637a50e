"""A crawler for a built site: every page, every link and every anchor, read with an HTML parser."""

from __future__ import annotations

import posixpath
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.fetched: list[str] = []  # what the browser loads with the page (not links to follow)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("id", "name"):
            if values.get(key):
                self.ids.add(str(values[key]))
        if tag in ("a", "link") and values.get("href"):
            self.links.append(str(values["href"]))
        if tag in ("img", "script", "iframe", "source", "video", "audio") and values.get("src"):
            self.links.append(str(values["src"]))
            self.fetched.append(str(values["src"]))
        if tag == "link" and values.get("href") and values.get("rel") in ("stylesheet", "preload", "icon"):
            self.fetched.append(str(values["href"]))


def broken_links(site: Path) -> list[str]:
    """``page -> link (why)`` for every internal link whose file or anchor does not exist, and
    for everything a page makes the browser load from another host (broken offline, and it
    tells that host who reads what)."""
    pages: dict[Path, _Page] = {}
    for path in sorted(site.rglob("*.html")):
        parser = _Page()
        parser.feed(path.read_text("utf-8", "replace"))
        pages[path] = parser
    broken = []
    for path, page in pages.items():
        for source in page.fetched:
            if urlsplit(source).scheme in ("http", "https") or source.startswith("//"):
                broken.append(f"{path.relative_to(site)} -> {source} (fetched from another host)")
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "data:", "javascript:")):
                continue
            if not parts.path:
                target = path
            elif parts.path.startswith("/"):  # the 404 page links from the site root
                target = site / unquote(parts.path).lstrip("/")
            else:
                target = path.parent / unquote(parts.path)
            if parts.path.endswith("/") or (target.is_dir() and not parts.path.endswith(".html")):
                target = target / "index.html"
            target = Path(posixpath.normpath(str(target)))
            where = f"{path.relative_to(site)} -> {link}"
            if not target.exists():
                broken.append(f"{where} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                anchors = pages[target].ids if target in pages else set()
                if unquote(parts.fragment) not in anchors:
                    broken.append(f"{where} (no such anchor)")
    return broken


def missing_notebook_figures(site: Path) -> list[str]:
    """``notebook -> figure`` for every figure a published notebook points at that the site
    lacks (the download link embeds them from there)."""
    import json
    import re

    missing = []
    for notebook in sorted(site.rglob("*.ipynb")):
        cells = json.loads(notebook.read_text("utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] != "markdown":
                continue
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for url in re.findall(r"\]\(((?:\.\./)+figures/[^)\s]+)\)", source):
                if not Path(posixpath.normpath(str(notebook.parent / url))).is_file():
                    missing.append(f"{notebook.relative_to(site)} -> {url}")
    return missing
