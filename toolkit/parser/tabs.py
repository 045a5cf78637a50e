"""Block rule for ``:begin_tab:`a,b` ... :end_tab:``.

The content between the markers is parsed as ordinary blocks (nested). Tokens:
``d2l_tab_open`` (``meta["tabs"]``, ``meta["closed"]``) ... ``d2l_tab_close``. A block with no
``:end_tab:`` stops before the next ``:begin_tab:`` or at the end of the file and is marked
``closed=False``; a stray ``:end_tab:`` becomes a ``d2l_tab_stray_end`` token. Both are
reported by the builder as diagnostics; parsing goes on.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

BEGIN = ":begin_tab:`"
END = ":end_tab:"


def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]].rstrip()


def split_tab_list(text: str) -> tuple[str, ...]:
    """``"mxnet, pytorch"`` and ``"mxnet,pytorch"`` both give ``("mxnet", "pytorch")``."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def tab_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    first = _line(state, start)
    if first == END:
        if silent:
            return True
        token = state.push("d2l_tab_stray_end", "", 0)
        token.map = [start, start + 1]
        state.line = start + 1
        return True
    if not first.startswith(BEGIN):
        return False
    close = first.find("`", len(BEGIN))
    if close == -1:
        return False
    if silent:
        return True
    tabs = split_tab_list(first[len(BEGIN) : close])
    line, closed = start + 1, False
    while line < end:
        text = _line(state, line)
        if state.sCount[line] < state.blkIndent:
            pass  # markers are matched at any indentation d2lbook accepts
        if text == END:
            closed = True
            break
        if text.startswith(BEGIN):
            break
        line += 1
    content_end = line
    old_parent, old_max = state.parentType, state.lineMax
    state.parentType = "d2l_tab"
    state.lineMax = content_end
    opener = state.push("d2l_tab_open", "div", 1)
    opener.map = [start, content_end + (1 if closed else 0)]
    opener.meta = {"tabs": tabs, "closed": closed}
    opener.info = first[len(BEGIN) : close]
    state.md.block.tokenize(state, start + 1, content_end)
    closer = state.push("d2l_tab_close", "div", -1)
    closer.map = [content_end, content_end + (1 if closed else 0)]
    state.parentType, state.lineMax = old_parent, old_max
    state.line = content_end + (1 if closed else 0)
    return True


def tabs_plugin(md: MarkdownIt) -> None:
    md.block.ruler.before("fence", "d2l_tab", tab_rule, {"alt": ["paragraph", "blockquote"]})
