"""Inline rule for d2lbook slide marks: ``[**text**]``, ``(**text**)`` and ``(~~text~~)``.

The marked text stays ordinary inline content between ``d2l_slide_open`` and
``d2l_slide_close`` tokens (``markup`` keeps the delimiters), so roles, code and math inside a
mark are still seen.

``(`` is not a terminator character of markdown-it's text rule, so a rule never starts on it:
the ``(**`` and ``(~~`` forms are matched at the ``**``/``~~`` and take the ``(`` back from
the pending text.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

PAIRS = {"[**": "**]", "(**": "**)", "(~~": "~~)"}


def slide_rule(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    if src.startswith("[**", pos):
        opening, inner = "[**", pos + 3
    elif (
        not silent
        and src.startswith(("**", "~~"), pos)
        and pos > 0
        and src[pos - 1] == "("
        and state.pending.endswith("(")
    ):
        opening, inner = "(" + src[pos : pos + 2], pos + 2
    else:
        return False
    closing = PAIRS[opening]
    close = src.find(closing, inner, state.posMax)
    if close == -1 or close == inner:
        return False
    if silent:
        state.pos = close + 3
        return True
    if opening[0] == "(":
        state.pending = state.pending[:-1]
    token = state.push("d2l_slide_open", "", 1)
    token.markup = opening
    old_max = state.posMax
    state.pos, state.posMax = inner, close
    state.md.inline.tokenize(state)
    state.posMax = old_max
    token = state.push("d2l_slide_close", "", -1)
    token.markup = closing
    state.pos = close + 3
    return True


def slides_plugin(md: MarkdownIt) -> None:
    # before "emphasis": "(**x**)" must not become <strong>
    md.inline.ruler.before("emphasis", "d2l_slide", slide_rule)
