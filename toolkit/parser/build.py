"""Turn markdown-it tokens into the ``Chapter`` model.

This is the only module that knows token names. It walks the top-level tokens, cuts the
source into blocks by the tokens' ``map`` (line spans) and fills each block from its tokens.
Lines no token claims (blank lines, link reference definitions) become ``Blank`` blocks, so the
blocks tile the file; ``toolkit.model.render_source`` gives it back exactly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it.token import Token

from toolkit.model import (
    Attributes,
    Blank,
    Block,
    CodeCell,
    Diagnostic,
    Equation,
    Figure,
    Heading,
    HtmlBlock,
    InlineFacts,
    Link,
    ListBlock,
    Other,
    Paragraph,
    Quote,
    Role,
    Span,
    TabBlock,
    Table,
    TableCaption,
)
from toolkit.parser.cells import CellInfo

# Inline *content* scanning (never block structure): numbers, half-written roles and
# sentences glued together by machine translation ("합니다.간단한", "programı.Bu").
# ASCII-only word boundaries: Korean particles attach to numbers ("2.0과"), "P3dn" is a name.
NUMBER = re.compile(r"(?<![A-Za-z0-9_.])\d+(?:[.,]\d+)*(?![A-Za-z0-9_])")
HALF_ROLE = re.compile(r":(?:label|numref|ref|eqref|eqlabel|cite|citet|width):(?:`|$)")
#: A run of emphasis or code delimiters that markdown-it may have left as text.
MARKUP_RUN = re.compile(r"\*+|_{1,3}|`+")
JOINED = re.compile(r"[^\W\d_]{2}[.!?][^\W\d_]{2}")
TIMEOUT = re.compile(r"<!--\s*toolkit:\s*timeout\s+(\d+(?:\.\d+)?)\s*-->")
SUPPRESS = re.compile(r"<!--\s*toolkit:\s*(ignore|ignore-file)\s+([A-Z0-9, ]+?)\s*-->")

LEAF_BLOCK_TOKENS = {"fence", "code_block", "html_block", "hr", "math_block", "math_block_label"}
CONTAINER_OPENERS = {
    "paragraph_open",
    "heading_open",
    "bullet_list_open",
    "ordered_list_open",
    "blockquote_open",
    "table_open",
    "d2l_caption_open",
    "d2l_tab_open",
}


def split_lines(text: str) -> list[str]:
    """Lines with their endings (\\r\\n or \\n). A carriage return alone is no line break
    here, nor for markdown-it (``parse_chapter`` hides it from its normaliser): it is damage
    (``\\rightarrow`` read by a tool as CR + "ightarrow", X006), and reading it as a line
    break would shift the line of everything after it."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def _word_around(text: str, match: re.Match[str]) -> str:
    """The whitespace-delimited word ``match`` stands in."""
    start, end = match.start(), match.end()
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[start:end]


class _Builder:
    def __init__(self, path: str, lines: list[str]) -> None:
        self.path = path
        self.lines = lines
        self.diagnostics: list[Diagnostic] = []

    # -- spans -------------------------------------------------------------------------
    def source(self, start: int, end: int) -> str:
        return "".join(self.lines[start:end])

    def span(self, start: int, end: int) -> Span:
        return Span(self.path, start + 1, max(start + 1, end))

    # -- blocks ------------------------------------------------------------------------
    def build(self, tokens: Sequence[Token], start: int, end: int) -> tuple[Block, ...]:
        """Blocks for the token run covering lines [start, end)."""
        blocks: list[Block] = []
        line = start
        index = 0
        while index < len(tokens):
            token = tokens[index]
            close = self._matching_close(tokens, index)
            if token.map is None:
                index = close + 1
                continue
            block_start, block_end = token.map
            if block_start > line:
                blocks.append(self._blank(line, block_start))
            block_start = max(block_start, line)
            blocks.append(self._block(tokens[index : close + 1], block_start, block_end))
            line = max(line, block_end)
            index = close + 1
        if line < end:
            blocks.append(self._blank(line, end))
        return tuple(blocks)

    @staticmethod
    def _matching_close(tokens: Sequence[Token], index: int) -> int:
        if tokens[index].nesting != 1:
            return index
        depth = 0
        for position in range(index, len(tokens)):
            depth += tokens[position].nesting
            if depth == 0:
                return position
        return len(tokens) - 1

    def _blank(self, start: int, end: int) -> Blank:
        return Blank(self.span(start, end), self.source(start, end))

    def _block(self, tokens: Sequence[Token], start: int, end: int) -> Block:
        token = tokens[0]
        span, source = self.span(start, end), self.source(start, end)
        kind = token.type
        if kind == "fence":
            return self._cell(token, span, source, start, end)
        if kind in ("math_block", "math_block_label"):
            roles = tuple(Role(name, target, end) for name, target in (token.meta or {}).get("roles", ()))
            return Equation(span, source, token.content.strip(), roles)
        if kind == "html_block":
            ignore = [m for m in SUPPRESS.finditer(token.content)]
            return HtmlBlock(
                span,
                source,
                token.content,
                suppress=tuple(c for m in ignore if m[1] == "ignore" for c in _codes(m[2])),
                suppress_file=tuple(c for m in ignore if m[1] == "ignore-file" for c in _codes(m[2])),
                timeout=float(found[1]) if (found := TIMEOUT.search(token.content)) else None,
            )
        if kind == "d2l_attributes":
            roles = tuple(Role(name, target, start + 1) for name, target in token.meta["roles"])
            return Attributes(span, source, roles)
        if kind == "d2l_tab_stray_end":
            self.diagnostics.append(Diagnostic("X002", ":end_tab: without a matching :begin_tab:", start + 1))
            return Other(span, source, "stray_end_tab")
        if kind == "d2l_tab_open":
            return self._tab_block(tokens, span, source, start, end)
        inline_tokens = [t for t in tokens if t.type == "inline"]
        facts = self.inline_facts(inline_tokens)
        text = "\n".join(t.content for t in inline_tokens)
        if kind == "heading_open":
            return Heading(span, source, int(token.tag[1:]), text, facts)
        if kind == "paragraph_open":
            figure = self._figure(inline_tokens, span, source, facts)
            return figure if figure is not None else Paragraph(span, source, text, facts)
        if kind in ("bullet_list_open", "ordered_list_open"):
            items = tuple(t.content for t in inline_tokens)
            return ListBlock(span, source, kind == "ordered_list_open", items, facts)
        if kind == "blockquote_open":
            return Quote(span, source, text, facts)
        if kind == "table_open":
            return Table(span, source, self._rows(tokens), facts)
        if kind == "d2l_caption_open":
            return TableCaption(span, source, text, facts)
        return Other(span, source, kind)

    def _cell(self, token: Token, span: Span, source: str, start: int, end: int) -> CodeCell:
        cell: CellInfo = token.meta["cell"]
        last = self.lines[end - 1].strip() if end > start else ""
        fence_char = token.markup[:1]
        closed = end - start >= 2 and last.startswith(token.markup) and set(last) <= {fence_char}
        if not closed and not "".join(self.lines[start + 1 : end]).strip():
            # a stray fence with nothing after it (often the file's last line): an empty code
            # block at the end, nothing is lost
            self.diagnostics.append(
                Diagnostic(
                    "X001",
                    f"a stray {token.markup} with nothing after it opens an empty code block here; remove the line",
                    start + 1,
                    "warning",
                )
            )
        elif not closed:
            self.diagnostics.append(
                Diagnostic(
                    "X001",
                    "code fence opened here is never closed: "
                    + (f"lines {start + 2}-{end} are" if end > start + 2 else f"line {end} is")
                    + " read as code, not as the chapter's text",
                    start + 1,
                )
            )
        body_line = start + 2 + (1 if cell.header is not None else 0)
        return CodeCell(
            span,
            source,
            token.info,
            cell.language,
            cell.executable,
            cell.attributes,
            cell.header,
            cell.tabs,
            cell.save,
            cell.code,
            body_line,
        )

    def _tab_block(self, tokens: Sequence[Token], span: Span, source: str, start: int, end: int) -> TabBlock:
        opener = tokens[0]
        closed = bool(opener.meta["closed"])
        if not closed:
            self.diagnostics.append(
                Diagnostic(
                    "X002",
                    f":begin_tab:`{opener.info}` has no :end_tab:; the block is taken to end at line {end}",
                    start + 1,
                )
            )
        inner_end = end - 1 if closed else end
        children = self.build(tokens[1:-1], start + 1, inner_end)
        if closed:
            children = (*children, Other(self.span(inner_end, end), self.source(inner_end, end), "end_tab"))
        head = Other(self.span(start, start + 1), self.source(start, start + 1), "begin_tab")
        return TabBlock(span, source, tuple(opener.meta["tabs"]), (head, *children), closed)

    def _figure(
        self, inline_tokens: list[Token], span: Span, source: str, facts: InlineFacts
    ) -> Figure | None:
        if len(inline_tokens) != 1:
            return None
        children = [
            c
            for c in inline_tokens[0].children or []
            if c.type not in ("softbreak", "hardbreak") and not (c.type == "text" and not c.content.strip())
        ]
        # an image alone, or followed on its own line by its :label:/:width: roles (some
        # translations put them there; d2lbook reads them as the figure's)
        attached = children[1:]
        if (
            children
            and children[0].type == "image"
            and all(c.type == "d2l_role" and c.meta.get("name") in ("label", "width") for c in attached)
        ):
            image = children[0]
            return Figure(span, source, str(image.attrGet("src") or ""), image.content, facts)
        return None

    @staticmethod
    def _rows(tokens: Sequence[Token]) -> tuple[tuple[str, ...], ...]:
        rows: list[tuple[str, ...]] = []
        current: list[str] = []
        for token in tokens:
            if token.type == "tr_open":
                current = []
            elif token.type == "inline":
                current.append(token.content)
            elif token.type == "tr_close":
                rows.append(tuple(current))
        return tuple(rows)

    # -- inline ------------------------------------------------------------------------
    def inline_facts(self, inline_tokens: list[Token]) -> InlineFacts:
        words: list[str] = []
        roles: list[Role] = []
        code: list[str] = []
        links: list[Link] = []
        math: list[str] = []
        numbers: list[str] = []
        literal: list[tuple[int, str]] = []
        joined: list[tuple[int, str]] = []
        raw_html: list[tuple[int, str]] = []
        display: list[str] = []
        emphasis = slides = 0
        for inline in inline_tokens:
            line = (inline.map[0] if inline.map else 0) + 1
            open_link: list[Link] = []
            link_text: list[str] = []
            for child in inline.children or []:
                kind = child.type
                if kind in ("softbreak", "hardbreak"):
                    line += 1
                    words.append(" ")
                elif kind == "text":
                    words.append(child.content)
                    link_text.append(child.content)
                    numbers.extend(NUMBER.findall(child.content))
                    self._literal_markup(child.content, line, literal)
                    joined.extend((line, m) for m in joined_sentences(child.content))
                elif kind == "code_inline":
                    code.append(child.content)
                    link_text.append(child.content)
                elif kind == "d2l_role":
                    roles.append(Role(child.meta["name"], child.meta["target"], line))
                elif kind in ("math_inline", "math_inline_double", "math_single", "math_inline_label"):
                    math.append(child.content)
                    if kind == "math_inline_double":
                        display.append(child.content)
                elif kind == "link_open":
                    open_link.append(Link(str(child.attrGet("href") or ""), "", line))
                    link_text = []
                elif kind == "link_close" and open_link:
                    started = open_link.pop()
                    links.append(Link(started.url, "".join(link_text).strip(), started.line))
                elif kind == "image":
                    links.append(Link(str(child.attrGet("src") or ""), child.content, line, True))
                    words.append(child.content)
                    # an image's alt text keeps its raw HTML and its roles as tokens of its own
                    # (a caption's :citet: is the page's citation: checked as the page shows it)
                    raw_html.extend(
                        (line, c.content) for c in child.children or [] if c.type == "html_inline"
                    )
                    roles.extend(
                        Role(c.meta["name"], c.meta["target"], line)
                        for c in child.children or []
                        if c.type == "d2l_role"
                    )
                elif kind in ("em_open", "strong_open"):
                    emphasis += 1
                elif kind == "d2l_slide_open":
                    slides += 1
                elif kind == "html_inline":
                    words.append(" ")
                    raw_html.append((line, child.content))
            words.append("\n")
        plain = re.sub(r"[ \t]+", " ", "".join(words)).strip()
        return InlineFacts(
            plain_text=plain,
            roles=tuple(roles),
            code_spans=tuple(code),
            links=tuple(links),
            math=tuple(math),
            numbers=tuple(numbers),
            emphasis=emphasis,
            slide_marks=slides,
            literal_markup=tuple(literal),
            joined_sentences=tuple(joined),
            html=tuple(raw_html),
            display_math=tuple(display),
        )

    @staticmethod
    def _literal_markup(text: str, line: int, out: list[tuple[int, str]]) -> None:
        """Delimiters markdown-it left as text: they will show literally on the page."""
        # a half-written role needs its colon: most text tokens skip the role pattern
        halves = list(HALF_ROLE.finditer(text)) if ":" in text else []
        half_roles = {m.end() for m in halves}
        for match in MARKUP_RUN.finditer(text):
            run = match.group(0)
            if match.end() in half_roles:
                continue  # the backtick of a half-written role: reported once, below
            before = text[match.start() - 1] if match.start() > 0 else " "
            after = text[match.end()] if match.end() < len(text) else " "
            if before.isspace() and after.isspace():
                continue  # "a * b" is arithmetic, not markup
            if run.startswith("_") and before.isalnum() and after.isalnum():
                continue  # snake_case words
            if run.startswith("_") and not before.isspace() and "/" in _word_around(text, match):
                continue  # inside a URL or path (`https_://github.com/…`): no emphasis was meant
            excerpt = text[max(0, match.start() - 12) : match.end() + 12]
            out.append((line, excerpt))
        for match in halves:
            out.append((line, text[match.start() : match.start() + 30]))


def joined_sentences(text: str) -> list[str]:
    """Places where a sentence ends and the next begins with no space: "합니다.간단한".

    The next word must start with a capital or a Hangul syllable, so "e.g.," and file names
    such as "d2l.torch" are not taken for sentences.
    """
    found = []
    for match in JOINED.finditer(text):
        after = match.group(0)[3]
        if after.isupper() or "\uac00" <= after <= "\ud7a3":
            found.append(text[max(0, match.start() - 8) : match.end() + 8])
    return found


def _codes(text: str) -> list[str]:
    return [code.strip() for code in text.replace(",", " ").split() if code.strip()]


def build_blocks(
    path: str, lines: list[str], tokens: Sequence[Token]
) -> tuple[tuple[Block, ...], tuple[Diagnostic, ...]]:
    builder = _Builder(path, lines)
    blocks = builder.build(tokens, 0, len(lines))
    return blocks, tuple(builder.diagnostics)


__all__ = ["CONTAINER_OPENERS", "LEAF_BLOCK_TOKENS", "build_blocks", "split_lines"]
