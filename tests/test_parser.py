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
