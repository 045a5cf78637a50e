"""Raw HTML, scripts and foreign-scheme links that a translation adds to its English.

Translations come from outside contributors and are published on the site. The site strips
what its allow-list does not know (``toolkit.site.sanitise``); these rules tell the maintainer
before it gets that far, so a hostile or careless change is reviewed, not silently dropped.

What counts is read from the model: raw HTML blocks, the ``html_inline`` tokens the parser
kept per block, link and image URLs, and Python-Markdown attribute lists (``{: onclick=… }``)
in a block's source text. Code cells are code, never markup, and are not looked at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from toolkit.checks import CheckContext, Finding, rule
from toolkit.model import Block, CodeCell, HtmlBlock, TabBlock, block_inline

TAG = re.compile(r"<\s*/?\s*([A-Za-z][\w:-]*)")
#: Elements that run code, load another document or change the page around them.
ACTIVE_TAGS = frozenset(
    {
        "script", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
        "meta", "link", "base", "style", "svg", "math", "template", "noscript",
    }
)  # fmt: skip
EVENT_ATTRIBUTE = re.compile(r"""(?:^|[\s"'/;{])(on[a-z]+)\s*=""", re.I)
SCHEME_ATTRIBUTE = re.compile(
    r"""\b(?:href|src|action|formaction|xlink:href|srcdoc)\s*=\s*["']?\s*([a-z][a-z0-9+.-]*):""", re.I
)
ATTRIBUTE_LIST = re.compile(r"\{:?[^{}\n]*\}")
FOREIGN_SCHEMES = frozenset({"javascript", "vbscript", "data", "file"})
#: anything that may be a tag to some HTML reader, written without a space after the name too
LOOSE_TAG = re.compile(r"<\s*/?\s*[A-Za-z][^<>]*>")
#: MathJax's commands that link, style or load: the site turns them off (safe mode), and a
#: translation has no business with them
MATHJAX_ACTIVE = re.compile(r"\\(href|style|cssId|class|require|unicode)(?![A-Za-z])")
#: YAML front matter at the top of a file: MkDocs would read it as the page's title and meta
FRONT_MATTER = re.compile(r"\A-{3}[ \t]*\r?\n.*?\n(?:\.{3}|-{3})[ \t]*(?:\r?\n|\Z)", re.S)


def _scheme(url: str) -> str:
    # browsers ignore whitespace and control characters inside a scheme ("java\tscript:")
    cleaned = re.sub(r"[\x00-\x20]", "", url).lower()
    found = re.match(r"([a-z][a-z0-9+.-]*):", cleaned)
    return found.group(1) if found else ""


def _raw_html(block: Block) -> Iterator[tuple[int, str]]:
    """(line, raw HTML text) of a block: an HTML block, or its inline tags."""
    if isinstance(block, HtmlBlock):
        yield block.span.start, block.html
        return
    inline = block_inline(block)
    if inline is not None:
        yield from inline.html


def active_content(block: Block) -> list[tuple[int, str]]:
    """What in ``block`` could run script or leave the page: (line, description)."""
    if isinstance(block, (CodeCell, TabBlock)):
        return []
    found: list[tuple[int, str]] = []
    for line, text in _raw_html(block):
        for tag in TAG.findall(text):
            if tag.lower() in ACTIVE_TAGS:
                found.append((line, f"<{tag.lower()}>"))
        found.extend((line, f"event attribute {name.lower()}=") for name in EVENT_ATTRIBUTE.findall(text))
        found.extend(
            (line, f"{scheme.lower()}: URL")
            for scheme in SCHEME_ATTRIBUTE.findall(text)
            if scheme.lower() in FOREIGN_SCHEMES
        )
    # Python-Markdown reads more as HTML than markdown-it does (``<img/src/onerror=…>`` is text
    # to markdown-it, a tag to the site's Markdown): every ``<…>`` of the prose counts
    loose = () if isinstance(block, HtmlBlock) else block.source.splitlines()  # HTML blocks: above
    for number, source_line in enumerate(loose, start=block.span.start):
        for text in LOOSE_TAG.findall(source_line):
            name = TAG.match(text)
            if name is not None and name.group(1).lower() in ACTIVE_TAGS:
                found.append((number, f"<{name.group(1).lower()}>"))
            found.extend(
                (number, f"event attribute {event.lower()}=") for event in EVENT_ATTRIBUTE.findall(text)
            )
        found.extend(
            (number, f"MathJax \\{command} (it can link or style the page)")
            for command in MATHJAX_ACTIVE.findall(source_line)
        )
    inline = block_inline(block)
    if inline is not None:
        for link in inline.links:
            scheme = _scheme(link.url)
            if scheme in FOREIGN_SCHEMES:
                found.append((link.line, f"{scheme}: URL in a {'image' if link.image else 'link'}"))
    for number, source_line in enumerate(block.source.splitlines(), start=block.span.start):
        for attributes in ATTRIBUTE_LIST.findall(source_line):
            found.extend(
                (number, f"event attribute {name.lower()}= in an attribute list")
                for name in EVENT_ATTRIBUTE.findall(attributes)
            )
    return list(dict.fromkeys(found))  # <script>…</script> is one finding, not two


def raw_tags(block: Block) -> list[tuple[int, str]]:
    """(line, tag name) of every raw HTML element in ``block`` (comments aside)."""
    if isinstance(block, (CodeCell, TabBlock)):
        return []
    return [(line, tag.lower()) for line, text in _raw_html(block) for tag in TAG.findall(text)]


def _english_counterparts(context: CheckContext) -> dict[int, Block]:
    return {
        pair.tr.block.span.start: pair.en.block
        for pair in context.alignment.pairs
        if pair.tr is not None and pair.en is not None
    }


@rule("U001", "active-content-added", "error")
def active_content_added(context: CheckContext) -> Iterable[Finding]:
    """The translation adds a script, an embedded document, an event handler attribute or a
    ``javascript:``/``data:``/``vbscript:`` URL that the English block at that place lacks.

    Why: translated chapters are published on the site; such markup runs in every reader's
    browser. The site's sanitiser strips it, so the page also loses whatever it carried.
    Example: ``[more](javascript:alert(1))``, ``<img src=x onerror=…>``, ``{: onmouseover="…" }``,
    ``<script>`` in a heading.
    Fix: remove it; write the words only.
    """
    english = _english_counterparts(context)
    for block, _ in context.tr.leaves:
        counterpart = english.get(block.span.start)
        allowed = {what for _, what in active_content(counterpart)} if counterpart is not None else set()
        for line, what in active_content(block):
            if what not in allowed:
                yield context.finding(
                    "U001",
                    line,
                    f"{what} that English does not have here: it would run on the site (the site strips it)",
                    hint="translations carry words, not active markup; remove it",
                )


@rule("U003", "front-matter", "error")
def front_matter(context: CheckContext) -> Iterable[Finding]:
    """The translation starts with a YAML front matter block (``---`` … ``---``).

    Why: d2lbook's markdown has none; MkDocs would read it as the page's title, description
    and other meta, which the theme prints without escaping. The site never reads a
    translation's front matter as meta (its own comes first), so the block shows as text.
    Example: ``---\\ntitle: <img src=x onerror=alert(1)>\\n---`` on line 1.
    Fix: remove the block; the chapter's first heading is its title.
    """
    if FRONT_MATTER.match(context.tr.text) and not FRONT_MATTER.match(context.en.text):
        yield context.finding(
            "U003",
            1,
            "YAML front matter: the site shows it as text, never as the page's title or meta",
            hint="remove it; the first heading is the title",
        )


@rule("U002", "raw-html-added", "warning", grouped=True)
def raw_html_added(context: CheckContext) -> Iterable[Finding]:
    """The translation uses a raw HTML element that its English chapter never uses.

    Why: raw HTML bypasses Markdown; the site keeps only an allow-list of harmless elements and
    attributes, so the rest is stripped from the page, and what remains may not look as meant.
    Example: ``<div style="…">`` or ``<font>`` around a translated paragraph.
    """
    used = {tag for block, _ in context.en.leaves for _, tag in raw_tags(block)}
    for block, _ in context.tr.leaves:
        added = sorted({tag for _, tag in raw_tags(block) if tag not in used and tag not in ACTIVE_TAGS})
        if added:
            yield context.finding(
                "U002",
                block.span.start,
                "raw HTML English does not use: " + ", ".join(f"<{t}>" for t in added),
                hint="use Markdown instead of raw HTML",
            )
