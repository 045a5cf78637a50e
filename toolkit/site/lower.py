"""Lowering: one parsed d2l chapter -> Markdown that MkDocs Material renders (pure).

Invariants:
- Input is the ``Chapter`` the checker and the executor read; nothing here parses block
  structure itself (the rest of a paragraph mended with an English equation is read again
  through the one parser, ``parse_chapter``). Inline roles and slide marks are rewritten
  inside each block's own text, outside code spans.
- A run of framework cells and ``:begin_tab:`` blocks (blank lines between them allowed)
  becomes one group of content tabs, one tab per framework of the edition that has content, in
  the edition's tab order; tabs carry the framework's display name, so Material's
  ``content.tabs.link`` switches every group on the site at once. ``#@tab all`` cells are shown
  once.
- Every executable cell is followed by its stored outputs for each framework it ran in, or a
  visible "not executed" note with the reason; lowering never executes anything.
- Numbers (sections, figures, tables, equations) come from ``number_chapter``, the same
  function the book's label index uses, so a reference and its target always agree.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from markdown_it import MarkdownIt

from toolkit.code import (
    ALL_TABS,
    BRANCH_MARK,
    FRAMEWORKS,
    chapter_frameworks,
    is_tooling_cell,
    resolved_tabs,
    select_branches,
)
from toolkit.execute.results import CellStatus, ChapterManifest
from toolkit.model import (
    DEFINING_ROLES,
    Attributes,
    Blank,
    Block,
    Chapter,
    CodeCell,
    Equation,
    Figure,
    Heading,
    InlineFacts,
    Other,
    Paragraph,
    Role,
    Span,
    TabBlock,
    Table,
    TableCaption,
    block_inline,
    is_label,
    iter_blocks,
)
from toolkit.site.words import Words
from toolkit.tex import (
    CURRENCY,
    TEXT_COMMANDS,
    all_math,
    certain_repair,
    repaired_tex,
    spaceless_tex,
    tex_balance,
    tex_problem,
    tex_shape,
)

TargetKind = Literal["section", "figure", "table", "equation"]
TAB_TITLES = {
    "mxnet": "MXNet",
    "pytorch": "PyTorch",
    "tensorflow": "TensorFlow",
    "jax": "JAX",
    "paddle": "PaddlePaddle",
}
EXECUTED_FRAMEWORKS = FRAMEWORKS  # what run-cells executes
INDENT = "    "
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# inline-only patterns: a role, a code span, slide marks (block structure comes from the model)
# a role closes at the first run of as many backticks as opened it (toolkit/parser/roles.py)
ROLE = re.compile(r":([a-z]+):(?:`(?!`)([^`]*)`|(`{2,})(.*?)(?<!`)\3(?!`))", re.S)
ROLE_OR_CODE = re.compile(
    r"(?P<role>:[a-z]+:(?:`(?!`)[^`]*`|(?P<rt>`{2,}).*?(?<!`)(?P=rt)(?!`)))|(?P<ticks>`+)(?:(?!(?P=ticks)).)+?(?P=ticks)",
    re.S,
)
SLIDE_MARKS = (
    (re.compile(r"\[\*\*(.+?)\*\*\]", re.S), r"**\1**"),  # book and slides: shown bold
    (re.compile(r"\(\*\*(.+?)\*\*\)", re.S), r"\1"),  # book and slides: shown plain
    (re.compile(r"\(~~(.+?)~~\)", re.S), ""),  # slides only: not in the book
)


@dataclass(frozen=True)
class Target:
    """Where a label points: the page (``lang/…/x.md``), its anchor, what it is and its number."""

    page: str
    anchor: str
    kind: TargetKind
    number: str
    title: str = ""


@dataclass(frozen=True)
class CellOutputs:
    """What one framework produced for one cell, or why nothing (``status`` not-executed):
    the part of run-cells' ``ShownCell`` that the page shows."""

    status: CellStatus
    outputs: tuple[dict[str, Any], ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class PageContext:
    page: str  # this page's path in the site, e.g. "ko/chapter_x/hybridize.md"
    number: str  # the section number, e.g. "13.1"
    tabs: tuple[str, ...]  # the edition's tabs; the first is the default of untagged cells
    words: Words
    labels: Mapping[str, Target]  # every label of the language's book
    outputs: Mapping[tuple[int, str], CellOutputs]  # (cell line in this file, framework)
    bibliography: str  # "ko/bibliography.md"
    # image path as the chapter writes it -> where the site has it, relative to this page (one
    # copy of each figure serves every language: ../../figures/<digest>/x.svg)
    images: Mapping[str, str] = field(default_factory=dict)
    dead_links: frozenset[str] = frozenset()  # relative link targets that lead nowhere on the site
    citations: Mapping[str, str] = field(default_factory=dict)  # bibliography key -> "Abadi et al., 2016"
    # first lines of the blocks that follow an older English (S001's marks): each gets a
    # quiet note linking to today's English section
    fuzzy: frozenset[int] = frozenset()
    english: Mapping[str, Target] = field(default_factory=dict)  # English's labels: where the notes lead
    english_page: str = ""  # today's English page of this chapter ("en/chapter_x/y.md"), when known
    # the frameworks the chapter has code for (``chapter_frameworks``; set by lower_chapter)
    frameworks: tuple[str, ...] = ()
    # False for a downloaded notebook: references and citations as their words and numbers
    # (a link into the site leads nowhere from a notebook on a reader's disk), no anchors
    links: bool = True


@dataclass(frozen=True)
class LoweredPage:
    markdown: str
    title: str
    missing_images: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()
    citations: tuple[str, ...] = ()
    dead_links: tuple[str, ...] = ()


@dataclass
class _State:
    missing_images: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)
    dead_links: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- numbering


def _attached_roles(blocks: tuple[Block, ...], index: int) -> tuple[Role, ...]:
    """Roles of the attribute lines after ``blocks[index]`` (``:width:``, ``:label:``), also
    after a blank line: d2lbook reads ``# Title``, a blank line, ``:label:`sec_x``` as the
    heading's label (d2l-en's attention-pooling.md:3, lstm.md:204)."""
    roles: list[Role] = []
    for following in blocks[index + 1 :]:
        if isinstance(following, Blank):
            continue
        if not isinstance(following, Attributes):
            break
        roles.extend(following.roles)
    return tuple(roles)


def _role(roles: tuple[Role, ...], *names: str) -> str:
    """The target of the first role named ``names``; a label outside d2lbook's alphabet is
    never one (it would become an id and a fragment: L005 reports it)."""
    return next(
        (r.target for r in roles if r.name in names and (r.name not in DEFINING_ROLES or is_label(r.target))),
        "",
    )


def _equation_label(blocks: tuple[Block, ...], index: int) -> str:
    block = blocks[index]
    assert isinstance(block, Equation)
    # written on the closing $$ line (the parser's Equation.roles) or on the line after
    return _role(block.roles, "eqlabel") or _role(_attached_roles(blocks, index), "eqlabel")


def number_chapter(chapter: Chapter, page: str, number: str) -> dict[str, Target]:
    """Every label the chapter defines, with its number: sections by heading depth
    (``13.1``, ``13.1.2``), figures, tables and equations counted within the section."""
    targets: dict[str, Target] = {}
    counters = {"figure": 0, "table": 0, "equation": 0}
    headings: list[int] = []
    blocks = chapter.blocks
    for index, block in enumerate(blocks):
        if isinstance(block, Heading):
            label = _role(_attached_roles(blocks, index), "label")
            heading_number = _heading_number(headings, block.level, number)
            if label:
                targets[label] = Target(page, label, "section", heading_number, block.text)
        elif isinstance(block, Figure):
            counters["figure"] += 1
            label = _role((*_attached_roles(blocks, index), *block.inline.roles), "label")
            if label:
                targets[label] = Target(
                    page, label, "figure", _numbered(number, counters["figure"]), block.caption
                )
        elif isinstance(block, TableCaption):
            counters["table"] += 1
            label = _table_label(blocks, index)
            if label:
                targets[label] = Target(
                    page, label, "table", _numbered(number, counters["table"]), block.text
                )
        elif isinstance(block, Equation):
            label = _equation_label(blocks, index)
            if label:
                counters["equation"] += 1
                targets[label] = Target(page, label, "equation", _numbered(number, counters["equation"]))
    return targets


def _numbered(number: str, *counters: int) -> str:
    """``13.1`` + 2 -> ``13.1.2``; an unnumbered chapter (front matter) counts from its own 1."""
    return ".".join([number, *map(str, counters)] if number else map(str, counters))


def _heading_number(headings: list[int], level: int, number: str) -> str:
    """Advance the heading counters; h1 is the section itself, h2 and deeper get sub-numbers
    (none in an unnumbered chapter: front matter is not numbered on d2l.ai)."""
    if level <= 1:
        headings.clear()
        return number
    depth = level - 1
    del headings[depth:]
    while len(headings) < depth:
        headings.append(0)
    headings[depth - 1] += 1
    return ".".join([number, *map(str, headings)]) if number else ""


def _table_label(blocks: tuple[Block, ...], index: int) -> str:
    """A table's label sits after the caption line or after the table itself."""
    for offset in range(index, min(index + 4, len(blocks))):
        label = _role(_attached_roles(blocks, offset), "label")
        if label:
            return label
        if isinstance(blocks[offset], Table):
            break
    return ""


# ---------------------------------------------------------------- inline


def _link(context: PageContext, page: str, anchor: str) -> str:
    if page == context.page and anchor:
        return f"#{anchor}"
    relative = posixpath.relpath(page, posixpath.dirname(context.page))
    return f"{relative}#{anchor}" if anchor else relative


def _lower_role(match: re.Match[str], context: PageContext, state: _State) -> str:
    name, target = _role_parts(match)
    text = ""
    custom = re.fullmatch(r"(.+?)\s*<([^<>]+)>", target)  # :numref:`the text <label>`
    if custom:
        text, target = custom.group(1), custom.group(2)
    if name in ("label", "eqlabel"):
        return f'<a id="{target}"></a>' if is_label(target) and context.links else ""
    if name == "width":
        return ""
    if name in ("cite", "citet"):
        keys = [k.strip() for k in target.split(",") if k.strip()]
        state.citations.extend(keys)
        links = "; ".join(
            f"[{context.citations.get(k, k)}]({_link(context, context.bibliography, bib_anchor(k))})"
            if context.links
            else context.citations.get(k, k)
            for k in keys
        )
        return links if name == "citet" else f"({links})"
    if name in ("numref", "ref", "eqref"):
        found = context.labels.get(target)
        if found is None:
            state.unresolved.append(target)
            if not context.links:
                return f"`{target}`"
            return f'<span class="d2l-unresolved" title="unresolved reference"><code>{html.escape(target)}</code></span>'
        words = context.words
        if name == "eqref":
            shown = text or f"({found.number})"
        elif name == "ref":
            shown = text or found.title or found.number
        else:
            prefix = {
                "section": words.section,
                "figure": words.figure,
                "table": words.table,
                "equation": words.equation,
            }[found.kind]
            # an unnumbered target (the preface) is named by its title
            shown = text or (f"{prefix} {found.number}" if found.number else found.title or found.anchor)
        return f"[{shown}]({_link(context, found.page, found.anchor)})" if context.links else shown
    return match.group(0)


_TITLE_READER = MarkdownIt("commonmark")


def plain_title(text: str) -> str:
    """A heading's words as the page title the theme prints unescaped (navigation, header,
    ``<title>``, search results): Markdown read as markdown-it reads it, its text and code
    kept, raw HTML dropped, and the rest HTML-escaped. ``The `d2l` API`` -> ``The d2l API``;
    ``Bab <img/src/onerror=…>`` -> ``Bab &lt;img/src/onerror=…&gt;``."""
    words: list[str] = []
    for token in _TITLE_READER.parseInline(text):
        for child in token.children or ():
            if child.type in ("text", "code_inline"):
                words.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                words.append(" ")
    return html.escape(" ".join("".join(words).split()), quote=True)


def bib_anchor(key: str) -> str:
    return "bib-" + re.sub(r"[^A-Za-z0-9_-]+", "-", key).strip("-").lower()


def _role_parts(role: re.Match[str]) -> tuple[str, str]:
    """(name, target) of a ``ROLE`` match, whichever backticks it was written with."""
    target = role.group(2) if role.group(2) is not None else role.group(4)
    return role.group(1), target.strip()


def page_roles(text: str) -> list[tuple[str, str]]:
    """(name, target) of every role the page lowers in ``text``, in order: what a test holds
    against the parser's roles of the same block (one grammar: they must agree)."""
    found = []
    for match in ROLE_OR_CODE.finditer(text):
        role = ROLE.fullmatch(match.group("role")) if match.group("role") else None
        if role is not None:
            found.append(_role_parts(role))
    return found


def lower_inline(text: str, context: PageContext, state: _State | None = None) -> str:
    """Slide marks to bold or plain text, roles to links and anchors; code spans untouched.

    Roles and code spans are found in one left-to-right scan (a role is ``:name:`` before a
    backtick span, so ````:numref:`x` ```` stays code) and swapped for placeholders while
    the slide marks around them are rewritten."""
    state = state or _State()
    kept: list[str] = []

    def hide(match: re.Match[str]) -> str:
        if match.group("role"):
            role = ROLE.fullmatch(match.group("role"))
            assert role is not None
            kept.append(_lower_role(role, context, state))
        else:
            kept.append(match.group(0))
        return f"\ue000{len(kept) - 1}\ue001"

    hidden = _drop_dead_links(_slides(ROLE_OR_CODE.sub(hide, text)), context.dead_links, state)
    return re.sub("\ue000(\\d+)\ue001", lambda m: kept[int(m.group(1))], hidden)


def _drop_dead_links(text: str, dead: frozenset[str], state: _State) -> str:
    """A link whose target is nowhere on the site (a machine translation's ``https732293614``)
    shows its text, not a link to a 404; the build log names it."""
    for url in dead:
        pattern = re.compile(r"(?<!!)\[([^\[\]]*)\]\(\s*<?" + re.escape(url) + r">?(?:\s+\"[^\"]*\")?\s*\)")
        if pattern.search(text):
            state.dead_links.append(url)
            text = pattern.sub(lambda m: m.group(1), text)
    return text


# "[text](.. /img/x.svg)": no link for CommonMark (and so for the model and the checks, which
# report the figure as missing), a link to a file that is not there for Python-Markdown. The
# page shows what was checked: the text, with its brackets escaped.
NOT_A_LINK = re.compile(r"(?<!\\)\[([^\[\]]*)\]\(([^()\s]*\s+[^\s\"'()][^()]*)\)")


def _slides(text: str) -> str:
    for pattern, replacement in SLIDE_MARKS:
        text = pattern.sub(replacement, text)
    return NOT_A_LINK.sub(lambda m: f"\\[{m.group(1)}\\]\\({m.group(2)}\\)", text)


# ---------------------------------------------------------------- outputs


BASE64_TEXT = re.compile(r"[A-Za-z0-9+/=\s]*")


def _output_markdown(output: dict[str, Any]) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return _text_block(
            str(output.get("text", "")),
            "d2l-output" + (" d2l-stderr" if output.get("name") == "stderr" else ""),
        )
    if kind == "error":
        traceback = ANSI.sub("", "\n".join(output.get("traceback", []))) or (
            f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
        )
        return _text_block(traceback, "d2l-output d2l-error")
    if kind in ("execute_result", "display_data"):
        data = output.get("data", {})
        for mime in ("image/png", "image/jpeg"):
            if mime in data:
                payload = "".join(data[mime]) if isinstance(data[mime], list) else str(data[mime])
                # written into an attribute: base64 only (an imported run is another machine's)
                if not BASE64_TEXT.fullmatch(payload):
                    return ""
                return f'<img class="d2l-output-image" alt="output" src="data:{mime};base64,{"".join(payload.split())}">\n'
        if "image/svg+xml" in data:
            svg = data["image/svg+xml"]
            svg = "".join(svg) if isinstance(svg, list) else str(svg)
            encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
            return f'<img class="d2l-output-image" alt="output" src="data:image/svg+xml;base64,{encoded}">\n'
        if "text/plain" in data:
            plain = data["text/plain"]
            return _text_block("".join(plain) if isinstance(plain, list) else str(plain), "d2l-output")
    return ""


def _text_block(text: str, classes: str) -> str:
    text = ANSI.sub("", text).rstrip("\n")
    if not text.strip():
        return ""
    fence = "```"
    while fence in text:
        fence += "`"
    class_list = " ".join(f".{c}" for c in classes.split())
    return f"{fence} {{.text {class_list}}}\n{text}\n{fence}\n"


def _outputs_markdown(result: CellOutputs | None, words: Words) -> str:
    """What a reader sees under a cell: its outputs; a note where a dataset was missing (why
    outputs they would expect are absent); nothing where the cell has not run (no stored
    output, or not executed: a maintainer's business, on the status page), as on d2l.ai."""
    if result is None or result.status == "not-executed":
        return ""
    if result.status == "needs-data":
        return f'!!! note "{words.not_executed}"\n\n{INDENT}{words.needs_data}\n'
    return "\n".join(part for part in (_output_markdown(o) for o in result.outputs) if part)


def _indent(text: str) -> str:
    return "".join(INDENT + line if line.strip() else line for line in text.splitlines(keepends=True))


# ---------------------------------------------------------------- blocks


def _cell_code(cell: CodeCell, framework: str = "") -> str:
    """The cell's code as a reader of ``framework`` sees it: its ``if tab.selected(...)``
    branches resolved as d2lbook writes that framework's page (all of it without one)."""
    code = select_branches(cell.code, framework) if framework else cell.code
    fence = "```"
    while fence in code:
        fence += "`"
    return f"{fence} python\n{code.strip(chr(10)).rstrip()}\n{fence}\n"


def _cell_with_outputs(cell: CodeCell, framework: str, context: PageContext) -> str:
    outputs = _outputs_markdown(context.outputs.get((cell.span.start, framework)), context.words)
    if framework not in EXECUTED_FRAMEWORKS:
        reason = context.words.no_environment.format(framework=TAB_TITLES.get(framework, framework))
        outputs = f'!!! note "{context.words.not_executed}"\n\n{INDENT}{reason}\n'
    return _cell_code(cell, framework) + ("\n" + outputs if outputs else "")


def _shared_cell(cell: CodeCell, context: PageContext) -> str:
    """A ``#@tab all`` cell: the code once; the outputs once when every framework printed the
    same, else one linked tab per framework."""
    frameworks = [t for t in (context.frameworks or context.tabs) if t in EXECUTED_FRAMEWORKS]
    if BRANCH_MARK in cell.code:  # per-framework code (d2lbook's tab.selected): a tab each
        return _tab_set({fw: _cell_with_outputs(cell, fw, context) for fw in frameworks})
    results = {fw: context.outputs.get((cell.span.start, fw)) for fw in frameworks}
    rendered = {fw: _outputs_markdown(r, context.words) for fw, r in results.items()}
    distinct = set(rendered.values())
    if len(distinct) <= 1:
        outputs = next(iter(distinct), "")
        return _cell_code(cell) + ("\n" + outputs if outputs else "")
    return _cell_code(cell) + "\n" + _tab_set({fw: text or "&nbsp;" for fw, text in rendered.items()})


def _tab_set(panes: Mapping[str, str]) -> str:
    """Linked content tabs, one per framework, as a set of their own: ``===!`` starts a new
    set, so two sets one after the other (a shared cell's outputs, then a framework group)
    never merge into one bar with every framework twice."""
    return "\n".join(
        f'==={"!" if index == 0 else ""} "{TAB_TITLES.get(fw, fw)}"\n\n' + _indent(text.rstrip("\n") + "\n")
        for index, (fw, text) in enumerate(panes.items())
    )


def _framework_group(items: list[Block], context: PageContext, state: _State, section: str = "") -> str:
    """Cells and :begin_tab: prose of several frameworks -> one set of linked content tabs.
    A block that follows an older English text gets its note inside its pane."""
    per_tab: dict[str, list[str]] = {}
    for item in items:
        if isinstance(item, CodeCell):
            note = _note_for(item, section, context)
            for tab in sorted(resolved_tabs(item, context.tabs)):
                per_tab.setdefault(tab, []).append(_cell_with_outputs(item, tab, context) + note)
        elif isinstance(item, TabBlock):
            body = "".join(
                _lower_block(item.children, i, context, state) + _note_for(item.children[i], section, context)
                for i in range(len(item.children))
                if not _is_tab_marker(item.children[i])
            ).strip("\n")
            for tab in item.tabs:
                per_tab.setdefault(tab, []).append(body + "\n")
    order = [t for t in context.tabs if t in per_tab] + [t for t in per_tab if t not in context.tabs]
    return _tab_set({tab: "\n".join(per_tab[tab]) for tab in order})


def _is_tab_marker(block: Block) -> bool:
    """The ``:begin_tab:`` / ``:end_tab:`` lines themselves (kept in the model for the round trip)."""
    return isinstance(block, Other) and block.kind in ("begin_tab", "end_tab")


def _is_group_member(block: Block, tabs: tuple[str, ...]) -> bool:
    if isinstance(block, TabBlock):
        return True
    return (
        isinstance(block, CodeCell)
        and block.executable
        and not is_tooling_cell(block.code)
        and ALL_TABS not in resolved_tabs(block, tabs)
    )


def _heading(
    block: Heading, roles: tuple[Role, ...], number: str, state: _State, context: PageContext
) -> str:
    label = _role(roles, "label")
    text = lower_inline(block.text, context, state)
    anchor = f" {{#{label}}}" if label else ""
    prefix = f"{number}. " if number else ""
    return f"{'#' * block.level} {prefix}{text}{anchor}\n"


def _figure(block: Figure, roles: tuple[Role, ...], number: str, context: PageContext, state: _State) -> str:
    label = _role(roles, "label")
    width = _role(roles, "width")
    caption = lower_inline(block.caption, context, state)
    title = f"{context.words.figure} {number}"
    anchor = f'<a id="{html.escape(label)}"></a>' if label else ""
    if is_remote(block.path):
        image = _remote_link("", block.path)  # the caption follows
    elif block.path in context.images:
        # Markdown image syntax, so MkDocs rewrites the path for the page's URL and checks it
        style = f'{{ style="width: {html.escape(width)}" }}' if width else ""
        alt = block.caption.replace("]", "\\]")
        image = f"![{alt}]({context.images[block.path]}){style}"
    else:
        # the reader sees the caption; the build log names the file (once) for maintainers
        state.missing_images.append(block.path)
        image = ""
    return (
        f'<figure class="d2l-figure" markdown="1">\n{anchor}{image}\n'
        # markdown="span": the caption's math, references and emphasis are Markdown too
        # (md_in_html leaves a child element's text raw without it)
        f'<figcaption markdown="span"><strong>{title}</strong> {caption}</figcaption>\n'
        "</figure>\n"
    )


def _equation(block: Equation, label: str, number: str) -> str:
    # a blank line ends arithmatex's block (and is a paragraph break, an error, inside TeX's
    # display math); translations reflowed by a tool have them (ko-partrita gp-inference.md)
    tex = "\n".join(line for line in block.tex.strip().splitlines() if line.strip())
    # a blank line after: arithmatex sees a formula only as a block of its own, and English
    # sometimes goes on right below the closing $$ (anchor.md's "**]" line)
    if not label:
        return f"$$\n{tex}\n$$\n\n"
    return f'<a id="{html.escape(label)}"></a>\n\n$$\n{tex}\\tag{{{number}}}\n$$\n\n'


def _lower_block(blocks: tuple[Block, ...], index: int, context: PageContext, state: _State) -> str:
    block = blocks[index]
    if isinstance(block, Blank):
        return block.source
    if isinstance(block, Attributes):
        return ""  # consumed by the block it qualifies
    if isinstance(block, CodeCell):
        if block.executable and is_tooling_cell(block.code):
            return ""  # d2lbook's set-up cell drives its build: d2l.ai never shows it
        if block.executable:
            return _shared_cell(block, context)
        if block.language == "eval_rst":
            return ""  # reStructuredText for d2lbook's Sphinx build: nothing a reader should see
        return block.source
    if isinstance(block, TabBlock):
        return _framework_group([block], context, state)
    return lower_inline(_image_links(block, _inline_display_math(block), context), context, state)


def is_remote(url: str) -> bool:
    """An image on another host: the site never makes the reader's browser fetch it (it is
    broken offline, and a URL a contributor wrote would tell a third party who reads what)."""
    return url.lower().startswith(("http://", "https://", "//"))


def _remote_link(text: str, url: str) -> str:
    """A remote image as the reader gets it: a link to it, its text Markdown (math typeset;
    the image's alt text would show TeX raw)."""
    return f"[{text or urlsplit(url).netloc or url}]({url}){{.d2l-remote-image}}"


def _image_links(block: Block, source: str, context: PageContext) -> str:
    """The block's images (and links to figures) as the site has them: a remote image becomes
    a link to it, a local one points at the site's one copy of its file."""
    inline = block_inline(block)
    return _remote_images(inline, pointing_at_copies(inline, source, context.images))


def pointing_at_copies(
    inline: InlineFacts | None, source: str, images: Mapping[str, str], images_only: bool = False
) -> str:
    """``source`` with each link of the block (each image, with ``images_only``) to a file the
    site has pointing at the site's copy (``images``: the path the chapter writes -> its URL
    relative to the page)."""
    for link in inline.links if inline is not None else ():
        path, hash_mark, fragment = link.url.partition("#")
        if (link.image or not images_only) and path in images and f"]({link.url}" in source:
            source = source.replace(f"]({link.url}", f"]({images[path]}{hash_mark}{fragment}")
    return source


def _remote_images(inline: InlineFacts | None, source: str) -> str:
    """Each remote image the parser found in the block's prose becomes a link to it."""
    for url in dict.fromkeys(
        link.url
        for link in (inline.links if inline is not None else ())
        if link.image and is_remote(link.url)
    ):
        pattern = re.compile(
            r"!\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?" + re.escape(url) + r">?(?:\s+\"[^\"]*\")?\s*\)"
        )
        source = pattern.sub(lambda m, url=url: _remote_link(m.group(1), url), source)  # type: ignore[misc]
    return source


def _inline_display_math(block: Block) -> str:
    """``$$…$$`` written inside a paragraph or list item (the parser's ``display_math``): d2l.ai
    shows it as a display formula, but Python-Markdown's arithmatex only sees ``$$`` that starts
    a block, so it would stay raw TeX. It becomes ``$\\displaystyle …$``: typeset, display style."""
    inline = block_inline(block)
    source = block.source
    for tex in inline.display_math if inline is not None else ():
        body = tex.strip()
        if body:
            source = source.replace(f"$${tex}$$", f"$\\displaystyle {body}$", 1)
    return source


def with_english_equations(
    translation: Chapter, english: Chapter, en_tabs: tuple[str, ...], tr_tabs: tuple[str, ...]
) -> tuple[Chapter, tuple[int, ...]]:
    """The translation with its math that does not typeset replaced by English's: each display
    equation that differs from its English counterpart (check-alignment's E001: a lost brace, a
    ``\\`` eaten by a tool), and each formula in the prose that E005 flags where English has the
    same formula (the same commands and symbols once a tool's damage is undone).

    Math is the same in every language, as code is: readers get the formula that typesets,
    and the status page still lists the difference. Returns the chapter and the lines replaced.
    """
    from toolkit.align import align_chapters

    replaced: dict[int, str] = {}
    for pair in align_chapters(english, translation, en_tabs, tr_tabs).pairs:
        en = pair.en.block if pair.en is not None else None
        tr = pair.tr.block if pair.tr is not None else None
        if isinstance(en, Equation) and isinstance(tr, Equation) and _broken_copy(en.tex, tr.tex, tex_shape):
            replaced[tr.span.start] = en.tex
    twins = _english_twins(english)
    equations = {
        spaceless_tex(block.tex): block.tex for block in english.blocks if isinstance(block, Equation)
    }
    lines: set[int] = set(replaced)
    blocks: list[Block] = []
    for block in translation.blocks:
        closed = _closed_equation(block, equations)
        if closed:
            lines.add(block.span.start)
            blocks.extend(closed)
            continue
        if isinstance(block, Equation):
            # English's where it is a damaged copy of it, else the tool's damage undone
            own = spaceless_tex(block.tex) in twins[0]
            tex = replaced.get(block.span.start) or ("" if own else certain_repair(block.tex))
            if tex:
                block = dataclasses.replace(block, tex=tex)
                lines.add(block.span.start)
        elif isinstance(block, TabBlock):
            children = tuple(_with_english_math(child, twins, lines) for child in block.children)
            if children != block.children:
                block = dataclasses.replace(block, children=children)
        else:
            block = _with_english_math(block, twins, lines)
        blocks.append(block)
    if not lines:
        return translation, ()
    return dataclasses.replace(translation, blocks=tuple(blocks)), tuple(sorted(lines))


def _closed_equation(block: Block, english: Mapping[str, str]) -> tuple[Block, ...]:
    """A paragraph that opens display math with ``$$`` and never closes it (the translation
    lost the closing ``$$``: ko-partrita anchor.md) whose first lines are an English display
    equation: that equation, then the rest of the paragraph read again by the parser.
    Empty when the block is not such a paragraph."""
    from toolkit.parser import parse_chapter

    if not isinstance(block, Paragraph) or not block.source.startswith("$$") or block.source.count("$$") != 1:
        return ()
    lines = block.source[2:].splitlines()
    for end in range(1, len(lines)):
        tex = english.get(spaceless_tex("".join(lines[:end])))
        if tex is None:
            continue
        start, path = block.span.start, block.span.path
        equation = Equation(Span(path, start, start + end - 1), "$$" + "\n".join(lines[:end]), tex)
        rest = parse_chapter(path, "\n".join(lines[end:]) + "\n").blocks
        shift = start + end - 1
        return equation, *(
            dataclasses.replace(b, span=Span(path, b.span.start + shift, b.span.end + shift)) for b in rest
        )
    return ()


def _english_twins(english: Chapter) -> tuple[frozenset[str], dict[str, str]]:
    """English's formulas (spacing aside), and by shape those that typeset."""

    exact: set[str] = set()
    by_shape: dict[str, str] = {}
    for block, _ in iter_blocks(english.blocks):
        for tex in all_math(block):
            exact.add(spaceless_tex(tex))
            if not tex_problem(tex):
                by_shape.setdefault(tex_shape(tex), tex)
    return frozenset(exact), by_shape


def _with_english_math(block: Block, twins: tuple[frozenset[str], dict[str, str]], lines: set[int]) -> Block:
    """A prose block whose formulas that do not typeset (``tex_problem``) are replaced by the
    English formula they are a damaged copy of, when English has one, else by the formula with
    the tool's damage undone when that is certain and enough (``certain_repair``), else shown
    as the TeX the translation wrote (``_tex_as_code``); inline math is written as arithmatex
    reads it (``_trimmed``). ``lines`` gets the block's line when anything changed."""

    inline = block_inline(block)
    if inline is None:
        return block
    exact, by_shape = twins
    source = block.source
    math: list[str] = []
    display: list[str] = []
    for formulas, kept, delimiter in ((inline.display_math, display, "$$"), (inline.math, math, "$")):
        for tex in formulas:
            if delimiter == "$" and tex in inline.display_math:
                kept.append(tex)  # the inline facts list $$…$$ among the math as well
                continue
            written = _written(source, delimiter, tex)
            if not written or (tex_problem(tex) and spaceless_tex(tex) in exact):
                kept.append(tex)  # not where the facts say, or English writes it so: English's to mend
                continue
            if not tex_problem(tex):
                mended = tex
            elif not (mended := by_shape.get(tex_shape(repaired_tex(tex)), "") or certain_repair(tex)):
                source = source.replace(written, _tex_as_code(repaired_tex(tex)), 1)
                continue
            mended = _trimmed(mended) if delimiter == "$" else mended
            if mended != tex:
                source = source.replace(written, f"{delimiter}{mended}{delimiter}", 1)
            kept.append(mended)
    if source == block.source:
        return block
    lines.add(block.span.start)
    fixed = dataclasses.replace(inline, math=tuple(math), display_math=tuple(display))
    return dataclasses.replace(block, source=source, inline=fixed)  # type: ignore[arg-type]  # a block with inline facts has the field


def _trimmed(tex: str) -> str:
    """Inline math as arithmatex reads it: no space after the opening ``$`` or before the
    closing one (``$ d! $``, ``$100\\% $`` stay text for it, and for d2lbook's pandoc, though the
    translator wrote math), a trailing control space ``\\ `` dropped with it. Unchanged when
    it looks like prose or a price (``$ 5 and $``: letters beyond ASCII, M003's currency)."""

    prose = any(ch.isalpha() and not ch.isascii() for ch in TEXT_COMMANDS.sub("", tex))
    if tex == tex.strip() or prose or CURRENCY.match(tex):
        return tex
    trimmed = tex.strip()
    while trimmed.endswith("\\") and (len(trimmed) - len(trimmed.rstrip("\\"))) % 2:
        trimmed = trimmed[:-1].rstrip()  # "\ " at the end: a space TeX would drop anyway
    return trimmed or tex


def _written(source: str, delimiter: str, tex: str) -> str:
    """``tex`` between its delimiters as the block's source writes it: inline facts hold a
    list item's formula without the item's indentation, which the source has on each line."""
    exact = f"{delimiter}{tex}{delimiter}"
    if exact in source:
        return exact
    if not tex.split():
        return ""
    words = r"\s+".join(re.escape(word) for word in tex.split())
    found = re.search(rf"{re.escape(delimiter)}\s*{words}\s*{re.escape(delimiter)}", source)
    return found.group(0) if found else ""


def _tex_as_code(tex: str) -> str:
    """A formula that cannot typeset and has no English twin, as a code span of its TeX: the
    reader sees what the translation wrote instead of a MathJax error or stray delimiters, and
    the page's banner says the chapter has broken equations."""
    ticks = "`" * (max((len(run) for run in re.findall("`+", tex)), default=0) + 1)
    return f"{ticks} {' '.join(tex.split())} {ticks}"


def _broken_copy(en: str, tr: str, shape: Callable[[str], str]) -> bool:
    """The translation's formula is English's with something lost: a different shape (E001:
    commands, symbols) or unbalanced braces or environments where English's are balanced."""

    return shape(en) != shape(tr) or (tex_balance(tr) != (0, 0) and tex_balance(en) == (0, 0))


def _note_for(block: Block, section: str, context: PageContext) -> str:
    """The fuzzy note under ``block`` when its translation follows an older English, else ""."""
    if block.span.start not in context.fuzzy or isinstance(block, (Blank, Attributes)):
        return ""
    return _fuzzy_note(section, context)


def _fuzzy_note(section: str, context: PageContext) -> str:
    """The quiet note under a block whose translation follows an older English text, with a
    link to that section of today's English (its page when the section has no label there)."""
    target = context.english.get(section) if section else None
    if target is not None:
        link = _link(context, target.page, target.anchor)
    elif context.english_page:
        link = _link(context, context.english_page, "")
    else:
        link = ""
    words = context.words
    # a Markdown link inside md_in_html's span, so MkDocs makes it the page's URL (and checks it)
    english = f" [{words.english}]({link})" if link else ""
    return f'\n<p class="d2l-fuzzy" markdown="span">{words.fuzzy}{english}</p>\n\n'


def lower_chapter(chapter: Chapter, context: PageContext) -> LoweredPage:
    """The chapter as Material markdown, with what the build should report about it."""
    if not context.frameworks:
        context = dataclasses.replace(context, frameworks=chapter_frameworks(chapter, context.tabs))
    state = _State()
    targets = number_chapter(chapter, context.page, context.number)
    by_label_number = {t.anchor: t.number for t in targets.values()}
    blocks = chapter.blocks
    out: list[str] = []
    headings: list[int] = []
    figures = 0
    title = ""
    section = ""  # the label of the nearest heading above: a fuzzy note leads to its English
    index = 0
    while index < len(blocks):
        block = blocks[index]
        roles = _attached_roles(blocks, index)
        if _is_group_member(block, context.tabs):
            group: list[Block] = [block]
            end = index + 1
            while end < len(blocks):
                if _is_group_member(blocks[end], context.tabs):
                    group.append(blocks[end])
                    end += 1
                    continue
                if isinstance(blocks[end], Blank):
                    after = end + 1
                    while after < len(blocks) and isinstance(blocks[after], Blank):
                        after += 1
                    if after < len(blocks) and _is_group_member(blocks[after], context.tabs):
                        end = after
                        continue
                break
            out.append(_framework_group(group, context, state, section) + "\n")
            index = end
            continue
        if isinstance(block, Heading):
            number = _heading_number(headings, block.level, context.number)
            if block.level == 1 and not title:
                title = f"{number}. {plain_title(block.text)}" if number else plain_title(block.text)
            section = _role(roles, "label") or section
            out.append(_heading(block, roles, number, state, context))
        elif isinstance(block, Figure):
            figures += 1
            roles = (*roles, *block.inline.roles)  # roles on the image's own line are the figure's
            out.append(_figure(block, roles, _numbered(context.number, figures), context, state))
        elif isinstance(block, TableCaption):
            label = _table_label(blocks, index)
            number = by_label_number.get(label, "")
            anchor = f'<a id="{html.escape(label)}"></a>' if label else ""
            caption = lower_inline(block.text, context, state)
            out.append(
                # a block of its own (the anchor inside), so md_in_html reads the caption as
                # Markdown: its math, references and emphasis
                f'<p class="d2l-table-caption" markdown="span">{anchor}<strong>{context.words.table} {number}</strong>'
                f" {caption}</p>\n"
            )
        elif isinstance(block, Equation):
            label = _equation_label(blocks, index)
            out.append(_equation(block, label, by_label_number.get(label, "")))
        else:
            out.append(_lower_block(blocks, index, context, state))
        out.append(_note_for(block, section, context))
        index += 1
    body = "".join(out)
    if not title:
        title = posixpath.splitext(posixpath.basename(chapter.path))[0]
    return LoweredPage(
        body,
        title,
        tuple(dict.fromkeys(state.missing_images)),
        tuple(dict.fromkeys(state.unresolved)),
        tuple(dict.fromkeys(state.citations)),
        tuple(dict.fromkeys(state.dead_links)),
    )


def outputs_from_manifest(manifest: ChapterManifest | None) -> dict[tuple[int, str], CellOutputs]:
    """The run-cells manifest of one edition's chapter, keyed for ``PageContext.outputs``."""
    found: dict[tuple[int, str], CellOutputs] = {}
    for framework, info in (manifest.frameworks if manifest is not None else {}).items():
        for cell in info.cells:
            found[(cell.line, framework)] = CellOutputs(cell.status, cell.outputs, cell.reason)
    return found


def is_references_chapter(chapter: Chapter) -> bool:
    """d2l's references chapter (``chapter_references/zreferences.md``): no heading, an
    eval_rst block and the ``:bibliography:`` role. The site's own bibliography page takes its
    place, so the book never shows a second, empty one."""
    leaves = [block for block, _ in chapter.leaves]
    return not any(isinstance(block, Heading) for block in leaves) and any(
        ":bibliography:" in block.source for block in leaves
    )
