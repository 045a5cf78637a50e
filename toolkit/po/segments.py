"""A block as *frame* + *segments*: the words a translator changes, and the markup around them.

Invariant (property-tested): ``join(split(block))`` is ``block.source`` exactly, for every
block kind. Segments are the inline contents the parser found (heading text, paragraph text,
each list item, each table cell, a figure's caption, a table caption) located in the block's
own source text, and, in code cells, each comment and docstring body; the frame is everything
between them. Two blocks with equal frames differ only in their words, which is what makes a
PO file drift-free by construction: markup, code, labels and URLs live in the frame.
"""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass

from toolkit.code import blank_magics, is_cell_magic
from toolkit.model import (
    PROSE_TYPES,
    Block,
    CodeCell,
    Figure,
    Heading,
    ListBlock,
    Paragraph,
    Quote,
    Table,
    TableCaption,
)

KIND_NAMES = {
    Heading: "h",
    Paragraph: "p",
    ListBlock: "li",
    Quote: "q",
    Figure: "fig",
    TableCaption: "cap",
    Table: "td",
    CodeCell: "code",
}


@dataclass(frozen=True)
class Split:
    frame: tuple[str, ...]  # len(frame) == len(segments) + 1
    segments: tuple[str, ...]

    def join(self, segments: tuple[str, ...] | None = None) -> str:
        words = self.segments if segments is None else segments
        assert len(words) == len(self.segments)
        out = [self.frame[0]]
        for word, after in zip(words, self.frame[1:], strict=True):
            out.append(word)
            out.append(after)
        return "".join(out)


def _contents(block: Block) -> list[str]:
    if isinstance(block, (Heading, Paragraph)):
        return [block.text]
    if isinstance(block, Quote):
        return block.text.split("\n")
    if isinstance(block, ListBlock):
        return list(block.items)
    if isinstance(block, Figure):
        return [block.caption]
    if isinstance(block, TableCaption):
        return [block.text]
    if isinstance(block, Table):
        return [cell for row in block.rows for cell in row]
    return []


def _locate(source: str, contents: list[str]) -> Split | None:
    """Find each content, line by line and in order, in the source; None if one is missing."""
    frame: list[str] = []
    segments: list[str] = []
    cursor = 0
    for content in contents:
        lines = content.split("\n")
        start = source.find(lines[0], cursor) if lines[0] else cursor
        if start < 0:
            return None
        end = start + len(lines[0])
        for line in lines[1:]:
            found = source.find(line, end)
            if found < 0:
                return None
            end = found + len(line)
        if not content:
            # an empty cell: its segment is empty and sits where the cursor is
            start = end = _empty_cell_position(source, cursor)
        # trailing blanks belong to the words (markdown-it drops them; translations vary)
        while end < len(source) and source[end] in " \t":
            end += 1
        frame.append(source[cursor:start])
        segments.append(source[start:end])
        cursor = end
    frame.append(source[cursor:])
    return Split(tuple(frame), tuple(segments))


def _empty_cell_position(source: str, cursor: int) -> int:
    """Just after the next cell delimiter (and its padding), for an empty table cell."""
    pipe = source.find("|", cursor)
    if pipe < 0:
        return cursor
    position = pipe + 1
    while position < len(source) and source[position] == " ":
        position += 1
    return position


def _code_segments(cell: CodeCell) -> Split:
    """Comments (after ``#`` and one space) and docstring bodies of a code cell's source."""
    source = cell.source
    offset = source.find(cell.code) if cell.code else -1
    if offset < 0 or is_cell_magic(cell.code):
        # a %%bash or %%writefile body is not Python: no comment in it is a translatable segment
        return Split((source,), ())
    lines = cell.code.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    spans: list[tuple[int, int]] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(blank_magics(cell.code)).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return Split((source,), ())
    previous = tokenize.NEWLINE
    for index, token in enumerate(tokens):
        (row, column), (end_row, end_column) = token.start, token.end
        absolute = starts[row - 1] + column
        absolute_end = starts[end_row - 1] + end_column
        if token.type == tokenize.COMMENT:
            body = token.string[1:]
            skip = 1 + (1 if body.startswith(" ") else 0)
            if token.string[skip:].strip() and not token.string.startswith(("#@", "#!")):
                spans.append((absolute + skip, absolute_end))
        elif token.type == tokenize.STRING and previous in (
            tokenize.NEWLINE,
            tokenize.INDENT,
            tokenize.DEDENT,
        ):
            following = tokens[index + 1].type if index + 1 < len(tokens) else tokenize.NEWLINE
            quote = 3 if token.string.lstrip("rRbBuUfF")[:3] in ('"""', "'''") else 1
            prefix = len(token.string) - len(token.string.lstrip("rRbBuUfF"))
            if following in (tokenize.NEWLINE, tokenize.ENDMARKER) and quote == 3:
                spans.append((absolute + prefix + quote, absolute_end - quote))
        if token.type not in (tokenize.NL, tokenize.COMMENT):
            previous = token.type
    frame: list[str] = []
    segments: list[str] = []
    cursor = 0
    for start, end in spans:
        frame.append(source[cursor : offset + start])
        segments.append(source[offset + start : offset + end])
        cursor = offset + end
    frame.append(source[cursor:])
    return Split(tuple(frame), tuple(segments))


def split_block(block: Block) -> Split:
    """The block's frame and segments; a block with nothing to translate is all frame."""
    if isinstance(block, CodeCell):
        return _code_segments(block)
    if isinstance(block, PROSE_TYPES):
        located = _locate(block.source, _contents(block))
        if located is not None:
            return located
    return Split((block.source,), ())
