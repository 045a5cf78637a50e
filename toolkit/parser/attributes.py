"""Block rule for attribute lines: a line holding only :label:, :eqlabel: or :width: roles.

d2lbook writes them on the line right after the thing they qualify (a heading, a figure, a
table, an equation). As a block of their own they end a preceding paragraph or table (a GFM
table would otherwise read ``:label:`tab_x``` as one more row). Token: ``d2l_attributes``
with ``meta["roles"] = [(name, target), ...]``.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

ATTRIBUTE_ROLES = ("label", "eqlabel", "width")


def parse_attribute_line(line: str) -> list[tuple[str, str]] | None:
    """The roles of a line made only of attribute roles, else ``None``."""
    rest = line.strip()
    roles: list[tuple[str, str]] = []
    while rest:
        for name in ATTRIBUTE_ROLES:
            prefix = f":{name}:`"
            if rest.startswith(prefix):
                close = rest.find("`", len(prefix))
                if close == -1:
                    return None
                roles.append((name, rest[len(prefix) : close]))
                rest = rest[close + 1 :].lstrip()
                break
        else:
            return None
    return roles or None


def attributes_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    begin = state.bMarks[start] + state.tShift[start]
    line = state.src[begin : state.eMarks[start]]
    roles = parse_attribute_line(line)
    if roles is None:
        return False
    if silent:
        return True
    token = state.push("d2l_attributes", "", 0)
    token.map = [start, start + 1]
    token.meta = {"roles": roles}
    token.content = line
    state.line = start + 1
    return True


def attributes_plugin(md: MarkdownIt) -> None:
    md.block.ruler.before("table", "d2l_attributes", attributes_rule, {"alt": ["paragraph", "blockquote"]})
