"""Inline rule for d2lbook roles: ``:name:`content```.

Produces a ``d2l_role`` token with ``meta = {"name": ..., "target": ...}``. A role whose closing
backtick is missing is left as text; the markup check reports it.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline


def _is_name_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in "_-")


def role_rule(state: StateInline, silent: bool) -> bool:
    src, pos, maximum = state.src, state.pos, state.posMax
    if src[pos] != ":":
        return False
    if pos > 0 and src[pos - 1].isascii() and src[pos - 1].isalnum():
        return False  # "ratio:`x`" is not a role; "a`--:numref:`b`" (a range, any dash) is

    end = pos + 1
    while end < maximum and _is_name_char(src[end]):
        end += 1
    if end == pos + 1 or end + 1 >= maximum or src[end] != ":" or src[end + 1] != "`":
        return False
    close = src.find("`", end + 2, maximum)
    if close == -1:
        return False
    if not silent:
        token = state.push("d2l_role", "", 0)
        token.meta = {"name": src[pos + 1 : end], "target": src[end + 2 : close]}
        token.content = src[end + 2 : close]
        token.markup = src[pos : close + 1]
    state.pos = close + 1
    return True


def roles_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("backticks", "d2l_role", role_rule)
