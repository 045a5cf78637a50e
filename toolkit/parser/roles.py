"""Inline rule for d2lbook roles: ``:name:`content``` (also with a two-backtick span).

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
    opening = end + 1
    ticks = opening
    while ticks < maximum and src[ticks] == "`":
        ticks += 1
    close = _closing_run(src, ticks, maximum, ticks - opening)
    if close == -1:
        return False
    # ``:numref:``sec_x`` `` (English's linear-regression-scratch.md:328): the role around a
    # code span of two backticks, whose content CommonMark strips as it strips a code span's
    target = src[ticks:close] if ticks - opening == 1 else src[ticks:close].strip()
    if not silent:
        token = state.push("d2l_role", "", 0)
        token.meta = {"name": src[pos + 1 : end], "target": target}
        token.content = target
        token.markup = src[pos : close + ticks - opening]
    state.pos = close + ticks - opening
    return True


def _closing_run(src: str, start: int, maximum: int, width: int) -> int:
    """Where the first run of exactly ``width`` backticks at or after ``start`` begins, or -1
    (one backtick: the next backtick, as a role has always closed)."""
    if width == 1:
        return src.find("`", start, maximum)
    at = start
    while (at := src.find("`" * width, at, maximum)) != -1:
        run_end = at + width
        while run_end < maximum and src[run_end] == "`":
            run_end += 1
        if run_end - at == width:
            return at
        at = run_end
    return -1


def roles_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("backticks", "d2l_role", role_rule)
