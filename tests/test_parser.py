"""Parser fixture files: one per dialect construct (tests/fixtures/parser/*.md).

Each case is ``title / . / markdown / . / model dump / .``; the dump is
``toolkit.model.describe``: one line per block with its line span and facts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, FixtureRegen
from markdown_it.utils import read_fixture_file

from toolkit.model import describe, render_source
from toolkit.parser import parse_chapter

FILES = sorted((FIXTURES / "parser").glob("*.md"))
CASES = [
    pytest.param(path, line, title, given, expected, id=f"{path.stem}:{line}:{title[:40]}")
    for path in FILES
    for line, title, given, expected in read_fixture_file(path)
]


def dump(given: str) -> str:
    chapter = parse_chapter("fixture.md", given.encode("utf-8"))
    assert render_source(chapter) == given
    return describe(chapter)


@pytest.mark.parametrize(("path", "line", "title", "given", "expected"), CASES)
def test_parser_fixture(
    path: Path, line: int, title: str, given: str, expected: str, fixture_regen: FixtureRegen
) -> None:
    fixture_regen.check(path, line, expected, dump(given))


def test_a_lone_carriage_return_shifts_no_line_and_is_reported() -> None:
    """``\\rightarrow`` through a tool that reads ``\\r`` as an escape leaves CR + "ightarrow":
    markdown-it would read the CR as a line break and every later finding would point one
    line too high; it is damage (X006), on its own line, and the text keeps it byte for byte."""
    from toolkit.parser.source import encode_source

    data = b"# T\n\nMaps $a \rightarrow b$ here.\n\n$$x$$\n:eqlabel:`eq_x`\n\nLast.\n"
    chapter = parse_chapter("t.md", data)
    assert [b.span.start for b in chapter.blocks if type(b).__name__ != "Blank"] == [1, 3, 5, 6, 8]
    assert [(d.code, d.line) for d in chapter.diagnostics] == [("X006", 3)]
    assert encode_source("".join(b.source for b in chapter.blocks)) == data
    paragraph = chapter.blocks[2]
    assert "\r" in paragraph.source and paragraph.inline.math == ("a \rightarrow b",)  # type: ignore[union-attr]
