"""Block rule for d2lbook table captions: a single line ``:Caption text`` (not a role).

Token: ``d2l_caption`` whose single ``inline`` child holds the caption text, so the caption's
words go through the same inline rules as any prose.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

from toolkit.parser.attributes import parse_attribute_line


def _is_caption(line: str) -> bool:
    if len(line) < 2 or line[0] != ":" or line[1] in " :`":
        return False
    # ":name:`...`" is a role, not a caption
    name_end = 1
    while name_end < len(line) and (line[name_end].isalnum() or line[name_end] in "_-"):
        name_end += 1
    return not line.startswith(":`", name_end)


def caption_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    begin = state.bMarks[start] + state.tShift[start]
    line = state.src[begin : state.eMarks[start]]
    if not _is_caption(line):
        return False
    # a caption is a line of its own (the rule never interrupts a paragraph, so only the
    # line after it needs looking at): a blank line, or its attribute line (d2l-en's
    # ":Dataset vs. computer memory" then ":label:`tab_intro_decade`")
    if start + 1 < end and not state.isEmpty(start + 1):
        following = state.src[state.bMarks[start + 1] + state.tShift[start + 1] : state.eMarks[start + 1]]
        if parse_attribute_line(following) is None:
            return False
    if silent:
        return True
    token = state.push("d2l_caption_open", "p", 1)
    token.map = [start, start + 1]
    inline = state.push("inline", "", 0)
    inline.content = line[1:].strip()
    inline.map = [start, start + 1]
    inline.children = []
    state.push("d2l_caption_close", "p", -1)
    state.line = start + 1
    return True


def captions_plugin(md: MarkdownIt) -> None:
    md.block.ruler.before("paragraph", "d2l_caption", caption_rule)
