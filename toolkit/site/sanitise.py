"""The allow-list sanitiser every generated page goes through (nh3, i.e. Rust's ammonia).

Translations come from outside contributors and their raw HTML, attribute lists
(``{: onclick=… }``) and links reach Python-Markdown's output as they are. The plugin runs
every page's HTML through ``sanitise_html`` after Markdown and before the theme, so what a
reader's browser receives is, by construction, only:

- elements of a fixed allow-list (what Markdown, our lowering and Material's extensions emit:
  text structure, tables, figures, images, code highlighting, content tabs, admonitions);
  ``<script>``, ``<style>``, ``<iframe>``, ``<object>`` and the like are removed *with* their
  content;
- attributes of an allow-list (no ``on*`` event handlers, ever); ``style`` keeps only layout
  properties (``width``, ``text-align`` …);
- URLs with the schemes ``http``, ``https``, ``mailto`` or none (relative); ``data:`` only as
  the ``src`` of an image with an image media type (the executed outputs' plots), so
  ``javascript:``, ``vbscript:`` and ``data:`` links are dropped.

The check-alignment rules U001/U002 report the same constructs in the markdown, so a
maintainer sees what the site would strip.
"""

from __future__ import annotations

import re

import nh3

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "center", "cite", "code", "col",
        "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption",
        "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "input", "ins", "kbd",
        "label", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong",
        "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u",
        "ul", "var", "wbr",
    }
)  # fmt: skip
#: removed with everything inside them, not just the tags
REMOVED_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "iframe",
        "object",
        "embed",
        "applet",
        "frame",
        "frameset",
        "noscript",
        "template",
        "svg",
        "math",
        "form",
    }
)
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir", "style", "align"},
    "a": {"href", "name", "hreflang"},
    "img": {"src", "alt", "width", "height", "loading"},
    # Material's content tabs are radio inputs with labels (no script needed to switch)
    "input": {"type", "name", "checked", "disabled"},
    "label": {"for"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start", "type"},
    "details": {"open"},
}
STYLE_PROPERTIES = frozenset(
    {"width", "max-width", "min-width", "height", "text-align", "vertical-align", "margin-left"}
)
URL_SCHEMES = frozenset({"http", "https", "mailto", "data"})
URL_ATTRIBUTES = frozenset({"href", "src"})
DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml)[;,]", re.I)


#: ids (and names) the theme looks up: a page element with one would replace Material's own
#: (``<div id="__config">`` is its configuration: search would fetch an index from elsewhere).
#: Markdown's extensions make ``__tabbed_…`` (content tabs) and ``__codelineno-…`` ids.
RESERVED_ID = re.compile(r"__(?!tabbed_\d|codelineno-|span-)")


def _filter_attribute(element: str, attribute: str, value: str) -> str | None:
    """``data:`` URLs only as an image's source, and only image media types; no id or name
    the theme owns, no ``data-md-*`` attribute (Material's script binds to them)."""
    if attribute in ("id", "name", "for") and RESERVED_ID.match(value.strip()):
        return None
    if attribute.startswith("data-md"):
        return None
    if attribute in URL_ATTRIBUTES and re.sub(r"[\x00-\x20]", "", value).lower().startswith("data:"):
        return value if element == "img" and attribute == "src" and DATA_IMAGE.match(value.strip()) else None
    if element == "input" and attribute == "type" and value.lower() not in ("radio", "checkbox"):
        return None
    return value


def sanitise_html(html: str) -> str:
    """``html`` with only the allow-listed elements, attributes and URL schemes."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(REMOVED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_filter_attribute,
        generic_attribute_prefixes={"data-"},
        url_schemes=set(URL_SCHEMES),
        filter_style_properties=set(STYLE_PROPERTIES),
        strip_comments=True,
        link_rel=None,
    )


def sanitise_text(html: str) -> str:
    """HTML reduced to its text, still escaped: for the places the theme prints a page's
    words unescaped outside its body (the table of contents, titles)."""
    return nh3.clean(html, tags=set(), clean_content_tags=set(REMOVED_WITH_CONTENT), strip_comments=True)


#: what could end an attribute value or a URL fragment early (headings' slugs keep letters of
#: every script: Korean sections have Korean ids)
UNSAFE_IN_ID = re.compile(r"[\s\"'<>&`\\]")


def safe_id(anchor: str) -> str:
    """An anchor as an id and URL fragment: quotes, brackets, ``&`` and blanks become ``-``."""
    return UNSAFE_IN_ID.sub("-", anchor)
