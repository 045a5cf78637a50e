"""The d2l dialect parser: markdown-it-py plus one small plugin per dialect construct.

``parse_chapter(path, data)`` never raises on malformed input: problems become
``Diagnostic`` values with a line number, and parsing goes on.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

from toolkit.model import Chapter, block_roles, iter_blocks
from toolkit.parser.attributes import attributes_plugin
from toolkit.parser.build import build_blocks, split_lines
from toolkit.parser.captions import captions_plugin
from toolkit.parser.cells import cells_plugin
from toolkit.parser.equations import labelled_equations_plugin
from toolkit.parser.roles import roles_plugin
from toolkit.parser.slides import slides_plugin
from toolkit.parser.source import BOM, decode_source
from toolkit.parser.tabs import tabs_plugin


@lru_cache(maxsize=1)
def make_parser() -> MarkdownIt:
    """The one configured parser (CommonMark + GFM tables + math + the d2l plugins)."""
    md = MarkdownIt("commonmark").enable("table")
    # d2l writes $x$, $$x$$ on a line, and "$5" rarely: allow digits so currency shows up
    # as math that the markup check can report.
    md.use(dollarmath_plugin, allow_space=True, allow_digits=True, double_inline=True)
    md.use(labelled_equations_plugin)
    md.use(roles_plugin)
    md.use(attributes_plugin)
    md.use(tabs_plugin)
    md.use(captions_plugin)
    md.use(slides_plugin)
    md.use(cells_plugin)
    # Keep escaped characters (text_special) apart from text, so "\\*" is not taken for a
    # delimiter that failed to match.
    md.core.ruler.disable("text_join")
    md.core.ruler.after("inline", "d2l_restore_cr", restore_rule)
    # markdown-it refuses javascript:, vbscript:, file: and data: links and leaves them as text,
    # but Python-Markdown (the site) renders them as links: the model must see what the site
    # will render, so the checks can report them (U001) and the sanitiser strips them.
    md.validateLink = _any_link  # type: ignore[method-assign]
    return md


def _any_link(url: str) -> bool:
    return True


def parse_chapter(path: str, data: bytes | str) -> Chapter:
    """Parse one chapter file. ``path`` is how findings will name it."""
    if isinstance(data, bytes):
        decoded = decode_source(data)
        text, diagnostics = decoded.text, decoded.diagnostics
    else:
        text, diagnostics = data, ()
    body = text[1:] if text.startswith(BOM) else text
    lines = split_lines(text)
    # markdown-it reads a lone \r as a line break: it stands in as a private-use character
    # while markdown-it reads the text, and is \r again in every token's text after
    lone = LONE_CR.search(body) is not None and STAND_IN not in body
    tokens = make_parser().parse(LONE_CR.sub(STAND_IN, body) if lone else body)
    blocks, build_diagnostics = build_blocks(path, lines, tokens)
    chapter = Chapter(path, text, blocks, (*diagnostics, *build_diagnostics))
    return Chapter(path, text, blocks, chapter.diagnostics, tuple(_labels(chapter)))


LONE_CR = re.compile(r"\r(?!\n)")
STAND_IN = "\ue00d"


def _restore_carriage_returns(tokens: list[Token]) -> None:
    for token in tokens:
        token.content = token.content.replace(STAND_IN, "\r")
        token.info = token.info.replace(STAND_IN, "\r")
        if token.children:
            _restore_carriage_returns(token.children)


def restore_rule(state: StateCore) -> None:
    """Right after block and inline parsing, before the dialect's core rules read the tokens:
    each stand-in is the carriage return it was again."""
    if STAND_IN in state.src:
        _restore_carriage_returns(state.tokens)


def _labels(chapter: Chapter) -> list[tuple[str, int]]:
    return [
        (role.target, role.line)
        for block, _ in iter_blocks(chapter.blocks)
        for role in block_roles(block)
        if role.name in ("label", "eqlabel")
    ]


__all__ = ["make_parser", "parse_chapter"]
