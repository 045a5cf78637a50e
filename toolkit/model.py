"""The typed, immutable document model of a d2l chapter.

Invariants:
- Every value is a frozen dataclass; collections are tuples. Nothing here is mutated after
  ``parse_chapter`` returns, so the checker, the executor and the site read the same object.
- Line numbers are 1-based and inclusive (``Span.start``..``Span.end``), as editors show them.
- ``Chapter.blocks`` tile the source: concatenating ``block.source`` for every top-level block
  gives back ``Chapter.text`` exactly (blank lines are ``Blank`` blocks). ``render_source``
  proves it and the property tests check it.
- ``CodeCell.tabs`` is what the cell *says* (``None`` when it has no ``#@tab`` / ``%%tab``
  header); which tabs it *belongs to* depends on the edition's default tab and is resolved by
  ``resolved_tabs`` at the point of use, never stored.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Union

from toolkit.findings import Severity

RoleName = str  # label, numref, ref, eqref, eqlabel, cite, citet, width, ...

#: Roles that name a target defined elsewhere.
REFERENCE_ROLES = frozenset({"numref", "ref", "eqref"})
#: Roles that define a target.
DEFINING_ROLES = frozenset({"label", "eqlabel"})
#: d2lbook's label alphabet (``sec_linear-regression``, ``eq_sgd-xt+1-xstar``): a label becomes an
#: HTML id and a URL fragment on the site, so anything else is refused, never published
LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+.-]{0,199}")


def is_label(target: str) -> bool:
    """Whether ``target`` is a label the site may publish as an id."""
    return LABEL.fullmatch(target) is not None


#: Roles that cite bibliography keys (comma-separated).
CITATION_ROLES = frozenset({"cite", "citet"})


@dataclass(frozen=True)
class Span:
    """Where something is: a file and an inclusive 1-based line range."""

    path: str
    start: int
    end: int


@dataclass(frozen=True)
class Diagnostic:
    """A problem the parser met and recovered from (never an exception)."""

    code: str
    message: str
    line: int
    severity: Severity = "error"


@dataclass(frozen=True)
class Role:
    """A d2lbook role such as :label:`sec_x` or :numref:`fig_y`."""

    name: RoleName
    target: str
    line: int


@dataclass(frozen=True)
class Link:
    url: str
    text: str
    line: int
    image: bool = False


@dataclass(frozen=True)
class InlineFacts:
    """What the inline content of a prose block carries, as the checks and aligner need it.

    ``plain_text`` is the prose with code spans, math and URLs removed: the input of language
    detection. ``literal_markup`` lists delimiter runs that markdown-it left as literal text
    (emphasis that cannot open or close, lone backticks, half-written roles).
    """

    plain_text: str = ""
    roles: tuple[Role, ...] = ()
    code_spans: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    math: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    emphasis: int = 0
    slide_marks: int = 0
    literal_markup: tuple[tuple[int, str], ...] = ()  # (line, the literal text around it)
    joined_sentences: tuple[tuple[int, str], ...] = ()  # (line, excerpt) e.g. "합니다.간단한"
    html: tuple[tuple[int, str], ...] = ()  # (line, raw inline HTML tag) e.g. "<script>"
    display_math: tuple[str, ...] = ()  # the math written ``$$…$$`` inside a paragraph (shown as display)


@dataclass(frozen=True)
class _Block:
    span: Span
    source: str


@dataclass(frozen=True)
class Blank(_Block):
    """Blank lines, or lines markdown-it consumes without a token (link definitions)."""


@dataclass(frozen=True)
class Heading(_Block):
    level: int
    text: str
    inline: InlineFacts


@dataclass(frozen=True)
class Paragraph(_Block):
    text: str
    inline: InlineFacts


@dataclass(frozen=True)
class ListBlock(_Block):
    ordered: bool
    items: tuple[str, ...]
    inline: InlineFacts


@dataclass(frozen=True)
class Quote(_Block):
    text: str
    inline: InlineFacts


@dataclass(frozen=True)
class Attributes(_Block):
    """A line of attribute roles that qualifies the block before it (:label:, :width:,
    :eqlabel:). Kept as a block of its own so the model still tiles the source; the
    builder also attaches its roles to the preceding block's ``labels``."""

    roles: tuple[Role, ...]


@dataclass(frozen=True)
class Figure(_Block):
    """A paragraph that is a single image: ``![caption](path)``."""

    path: str
    caption: str
    inline: InlineFacts


@dataclass(frozen=True)
class TableCaption(_Block):
    """d2lbook's ``:Caption text`` line placed before a table."""

    text: str
    inline: InlineFacts


@dataclass(frozen=True)
class Table(_Block):
    rows: tuple[tuple[str, ...], ...]
    inline: InlineFacts


@dataclass(frozen=True)
class Equation(_Block):
    """Display math. ``roles``: attribute roles written after the closing ``$$`` on its line
    (``$$:eqlabel:`eq_x```); an ``:eqlabel:`` on the next line is an ``Attributes`` block."""

    tex: str
    roles: tuple[Role, ...] = ()


@dataclass(frozen=True)
class CodeCell(_Block):
    """A fenced code block. ``executable`` is true for ```` ```{.python .input} ```` cells.

    ``code`` is the cell body without the tab header line; ``tabs`` is the header's tab list
    (``("all",)`` for ``#@tab all``) or ``None`` when the cell has no header.
    """

    info: str
    language: str
    executable: bool
    attributes: tuple[tuple[str, str], ...]
    header: str | None
    tabs: tuple[str, ...] | None
    save: bool
    code: str
    body_line: int  # first line of ``code`` in the file


@dataclass(frozen=True)
class HtmlBlock(_Block):
    html: str
    suppress: tuple[str, ...] = ()  # codes named by a <!-- toolkit: ignore ... --> comment
    suppress_file: tuple[str, ...] = ()
    timeout: float | None = None  # seconds, from <!-- toolkit: timeout 600 --> (per chapter)


@dataclass(frozen=True)
class Other(_Block):
    """Any other block (thematic break, indented code, ...), kept for the round trip."""

    kind: str


@dataclass(frozen=True)
class TabBlock(_Block):
    """``:begin_tab:`a,b` ... :end_tab:`` with its parsed content."""

    tabs: tuple[str, ...]
    children: tuple[Block, ...]
    closed: bool


Block = Union[  # noqa: UP007  (a runtime alias of many types reads better this way)
    Blank,
    Heading,
    Paragraph,
    ListBlock,
    Quote,
    Attributes,
    Figure,
    TableCaption,
    Table,
    Equation,
    CodeCell,
    HtmlBlock,
    Other,
    TabBlock,
]

#: Blocks whose words a translator translates.
PROSE_TYPES = (Heading, Paragraph, ListBlock, Quote, Figure, TableCaption, Table)


@dataclass(frozen=True)
class Chapter:
    """A parsed chapter. ``text`` is the decoded source (BOM and line endings kept)."""

    path: str
    text: str
    blocks: tuple[Block, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    labels: tuple[tuple[str, int], ...] = field(default=())  # (label, line) in order

    # Derived once per chapter (``cached_property`` writes the instance's ``__dict__``, which
    # a frozen dataclass allows): every rule walks the same chapter again.
    @cached_property
    def leaves(self) -> tuple[tuple[Block, TabBlock | None], ...]:
        """``iter_blocks(self.blocks)``: every leaf block with its ``:begin_tab:`` block."""
        return tuple(iter_blocks(self.blocks))

    @cached_property
    def derived(self) -> dict[Hashable, object]:
        """Values other modules derive from this chapter alone, kept with it (the chapter is
        immutable, so they never go stale): the aligner's units per tab list."""
        return {}

    @cached_property
    def roles(self) -> tuple[Role, ...]:
        """Every role the chapter writes, in document order."""
        return tuple(role for block, _ in self.leaves for role in block_roles(block))


def render_source(chapter: Chapter) -> str:
    """Give back the exact source text from the model (the round-trip invariant)."""
    return "".join(block.source for block in chapter.blocks)


def iter_blocks(blocks: tuple[Block, ...]) -> list[tuple[Block, TabBlock | None]]:
    """All leaf blocks in document order, each with the ``:begin_tab:`` block around it."""
    out: list[tuple[Block, TabBlock | None]] = []
    for block in blocks:
        if isinstance(block, TabBlock):
            out.append((block, None))
            out.extend((child, block) for child in block.children)
        else:
            out.append((block, None))
    return out


def block_inline(block: Block) -> InlineFacts | None:
    """The inline facts of a prose block, ``None`` for blocks without prose."""
    inline = getattr(block, "inline", None)
    return inline if isinstance(inline, InlineFacts) else None


def block_roles(block: Block) -> tuple[Role, ...]:
    """The roles a block writes: an attribute line's, an equation's on its closing line, or
    those of its prose."""
    if isinstance(block, (Attributes, Equation)):
        return block.roles
    inline = block_inline(block)
    return inline.roles if inline is not None else ()


def block_kind(block: Block) -> str:
    return type(block).__name__


def describe_block(block: Block, indent: str = "") -> list[str]:
    """One line per block: kind, line span and the facts the checks use (for fixtures and
    ``toolkit parse``)."""
    head = f"{indent}{block_kind(block)} {block.span.start}-{block.span.end}"
    if isinstance(block, Heading):
        head += f" h{block.level} {block.text!r}"
    elif isinstance(block, CodeCell):
        tabs = "-" if block.tabs is None else ",".join(block.tabs)
        head += f" {block.language or '-'} exec={block.executable} tabs={tabs}"
        head += f" save={block.save} body@{block.body_line}"
        if block.attributes:
            head += " " + " ".join(f"{k}={v}" for k, v in block.attributes)
    elif isinstance(block, Attributes):
        head += " " + " ".join(f":{r.name}:{r.target}" for r in block.roles)
    elif isinstance(block, Figure):
        head += f" {block.path} {block.caption!r}"
    elif isinstance(block, Equation):
        head += f" {block.tex!r}" + "".join(f" :{r.name}:{r.target}@{r.line}" for r in block.roles)
    elif isinstance(block, TabBlock):
        head += f" tabs={','.join(block.tabs)} closed={block.closed}"
    elif isinstance(block, Table):
        head += f" rows={len(block.rows)}"
    elif isinstance(block, (TableCaption, Paragraph, Quote)):
        head += f" {block.text[:40]!r}"
    elif isinstance(block, ListBlock):
        head += f" items={len(block.items)} ordered={block.ordered}"
    elif isinstance(block, HtmlBlock) and (block.suppress or block.suppress_file):
        head += f" ignore={','.join(block.suppress)} ignore-file={','.join(block.suppress_file)}"
    elif isinstance(block, Other):
        head += f" {block.kind}"
    lines = [head]
    inline = block_inline(block)
    if inline is not None:
        facts = []
        facts += [f":{r.name}:{r.target}@{r.line}" for r in inline.roles]
        facts += [f"code={c!r}" for c in inline.code_spans]
        facts += [f"{'img' if link.image else 'link'}={link.url}" for link in inline.links]
        facts += [f"math={m!r}" for m in inline.math]
        if inline.slide_marks:
            facts.append(f"slides={inline.slide_marks}")
        facts += [f"literal@{line}={text!r}" for line, text in inline.literal_markup]
        facts += [f"html@{line}={tag!r}" for line, tag in inline.html]
        if facts:
            lines.append(f"{indent}  " + " ".join(facts))
    if isinstance(block, TabBlock):
        for child in block.children:
            if not isinstance(child, Blank):
                lines.extend(describe_block(child, indent + "  "))
    return lines


def describe(chapter: Chapter) -> str:
    lines = [f"! {d.code} line {d.line}: {d.message}" for d in chapter.diagnostics]
    for block in chapter.blocks:
        if not isinstance(block, Blank):
            lines.extend(describe_block(block))
    return "\n".join(lines)
