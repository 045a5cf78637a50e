"""Core rule that reads d2l code cells out of fence tokens.

A fence whose info string is ``{.python .input}`` (optionally with ``n=...`` style attributes)
is an executable cell. Its first line may be a tab header: ``#@tab a,b`` or ``%%tab a, b``;
``#@save`` anywhere marks a cell saved into the d2l library. Fence tokens get
``meta["cell"] = CellInfo``; the builder turns that into a ``CodeCell``.
"""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

from toolkit.parser.tabs import split_tab_list

TAB_HEADERS = ("#@tab", "%%tab")


@dataclass(frozen=True)
class CellInfo:
    language: str
    executable: bool
    attributes: tuple[tuple[str, str], ...]
    header: str | None
    tabs: tuple[str, ...] | None
    save: bool
    code: str


def parse_info(info: str) -> tuple[str, bool, tuple[tuple[str, str], ...]]:
    """``{.python .input n=1}`` -> ("python", True, (("n", "1"),)); ``python`` -> plain code."""
    info = info.strip()
    if info.startswith("{") and info.endswith("}"):
        classes: list[str] = []
        attributes: list[tuple[str, str]] = []
        for word in info[1:-1].split():
            if word.startswith("."):
                classes.append(word[1:])
            elif "=" in word:
                key, _, value = word.partition("=")
                attributes.append((key, value.strip("\"'")))
        language = classes[0] if classes else ""
        return language, "input" in classes and language == "python", tuple(attributes)
    return (info.split()[0] if info else ""), False, ()


def parse_header(line: str) -> tuple[str, ...] | None:
    stripped = line.strip()
    for marker in TAB_HEADERS:
        if stripped == marker or stripped.startswith(marker + " "):
            return split_tab_list(stripped[len(marker) :])
    return None


def read_cell(info: str, content: str) -> CellInfo:
    """A fence's cell. Its tab header is its first line that is not blank (d2l-en writes a
    blank line before ``%%tab pytorch, tensorflow, jax``, and d2lbook finds it there)."""
    language, executable, attributes = parse_info(info)
    blank = len(content) - len(content.lstrip("\n"))
    first, _, rest = content[blank:].partition("\n")
    tabs = parse_header(first) if executable else None
    header = first if tabs is not None else None
    code = rest if tabs is not None else content
    save = executable and any(line.rstrip().endswith("#@save") for line in content.splitlines())
    return CellInfo(language, executable, attributes, header, tabs, save, code)


def cells_rule(state: StateCore) -> None:
    for token in state.tokens:
        if token.type == "fence":
            token.meta = {**(token.meta or {}), "cell": read_cell(token.info, token.content)}


def cells_plugin(md: MarkdownIt) -> None:
    md.core.ruler.push("d2l_cells", cells_rule)
