"""Block rule for display math whose closing ``$$`` carries its label on the same line.

d2lbook's pandoc reads ``$$`` … ``$$:eqlabel:`eq_x``` as one display equation followed by its
label (id linear-algebra.md writes ``\\end{bmatrix}.`` then ``$$:eqlabel:`eq_matrix_def```).
mdit-py-plugins' dollarmath block only closes on a line that *ends* with ``$$``, so it ran on
to the next equation's ``$$`` and took the prose between for TeX. This rule claims exactly
that form, and leaves every other ``$$`` block to dollarmath: the opening line starts with
``$$`` and does not close, and the first line after it holding ``$$`` ends in attribute roles
(``parse_attribute_line``). Token: ``math_block`` (as dollarmath's) with
``meta["roles"] = [(name, target), ...]``.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

from toolkit.parser.attributes import parse_attribute_line

DOLLARS = "$$"


def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


def labelled_equation_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    first = _line(state, start)
    if not first.startswith(DOLLARS) or DOLLARS in first[len(DOLLARS) :]:
        return False
    for line in range(start + 1, end):
        text = _line(state, line)
        if DOLLARS not in text:
            continue
        before, _, after = text.rpartition(DOLLARS)
        roles = parse_attribute_line(after) if after.strip() else None
        if roles is None or DOLLARS in before:
            return False  # closed as dollarmath closes, or not this form: dollarmath's
        if silent:
            return True
        body = [first[len(DOLLARS) :], *(_line(state, i) for i in range(start + 1, line)), before]
        token = state.push("math_block", "math", 0)
        token.block = True
        token.content = "\n".join(body).strip("\n") + "\n"
        token.markup = DOLLARS
        token.map = [start, line + 1]
        token.meta = {"roles": roles}
        state.line = line + 1
        return True
    return False


def labelled_equations_plugin(md: MarkdownIt) -> None:
    md.block.ruler.before(
        "math_block", "d2l_labelled_equation", labelled_equation_rule, {"alt": ["paragraph"]}
    )
