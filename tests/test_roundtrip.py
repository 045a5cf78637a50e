"""The model gives back the exact source text, for any input (property-tested)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CORPUS, ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.model import Blank, Chapter, TabBlock, render_source
from toolkit.parser import parse_chapter
from toolkit.parser.source import decode_source, encode_source

# Pieces of the d2l dialect, glued together at random: the parser must tile any mix of them.
SNIPPETS = [
    "# Title\n",
    ":label:`sec_x`\n",
    "Prose with `code`, $x^2$ and :numref:`fig_a`.\n",
    "Korean *기호(symbolic)*을 prose.\n",
    "```{.python .input}\n#@tab mxnet, pytorch\nx = 1  # comment\n```\n",
    "```{.python .input}\n",
    "```\n",
    "```python\nprint(1)\n```\n",
    ":begin_tab:`mxnet`\n",
    ":end_tab:\n",
    "![Cap](../img/a.svg)\n:width:`300px`\n:label:`fig_a`\n",
    "$$y = x.$$\n:eqlabel:`eq_y`\n",
    "$$\n",
    ":Caption of a table.\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n",
    "* item [**slide**]\n* (**two**)\n",
    "1. one\n1. two\n",
    "<!-- toolkit: ignore C003 -->\n",
    "> quote\n",
    "[ref]: https://d2l.ai\n",
    "    indented code\n",
    "---\n",
    "\n",
    "\n\n",
    "text without newline",
    "\r\n",
    "line with CRLF\r\n",
    "\ufeff",
    ":numref:`unclosed\n",
    "`lone backtick\n",
]


def assert_tiles(chapter: Chapter) -> None:
    """Top-level blocks cover every line once, in order; so do a tab block's children."""
    assert render_source(chapter) == chapter.text
    line = 1
    for block in chapter.blocks:
        assert block.span.start == line, (block, line)
        line = block.span.end + 1
        if isinstance(block, TabBlock):
            assert "".join(child.source for child in block.children) == block.source
        if not isinstance(block, Blank):
            assert block.source.strip() or block.source == ""


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(SNIPPETS), max_size=25))
def test_any_mix_of_dialect_round_trips(pieces: list[str]) -> None:
    text = "".join(pieces)
    chapter = parse_chapter("random.md", text.encode("utf-8"))
    assert_tiles(chapter)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_arbitrary_text_never_raises_and_round_trips(text: str) -> None:
    chapter = parse_chapter("random.md", text.encode("utf-8", "surrogatepass"))
    assert render_source(chapter) == chapter.text


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_decode_back_to_the_same_bytes(data: bytes) -> None:
    decoded = decode_source(data)
    assert encode_source(decoded.text) == data
    chapter = parse_chapter("random.md", data)
    assert encode_source(render_source(chapter)) == data


def test_malformed_inputs_become_diagnostics_with_lines() -> None:
    cases = {
        b"\xff\xfe broken": "X003",
        b"\x00\x01binary": "X003",
        "\ufeff# Title\n".encode(): "X004",
        b"a\r\nb\r\n": "X004",
        b"": "X005",
        b"x\n\n```{.python .input}\nx = 1\n": "X001",
        b":begin_tab:`mxnet`\ntext\n": "X002",
        b"text\n:end_tab:\n": "X002",
        b"$\x08eta$\n": "X006",
    }
    for data, code in cases.items():
        chapter = parse_chapter("bad.md", data)
        assert code in {d.code for d in chapter.diagnostics}, (data, chapter.diagnostics)
        assert all(d.line >= 1 for d in chapter.diagnostics)


def test_bom_does_not_hide_the_first_heading() -> None:
    chapter = parse_chapter("bom.md", "\ufeff# Title\n:label:`sec_a`\n".encode())
    assert chapter.labels == (("sec_a", 2),)
    assert type(chapter.blocks[0]).__name__ == "Heading"


def corpus_files() -> list[Path]:
    files = sorted(CORPUS.rglob("*.md")) + sorted((ROOT / "translations").rglob("*.md"))
    return [f for f in files if f.name != "README.md"]


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: "/".join(p.parts[-3:]))
def test_every_real_chapter_round_trips(path: Path) -> None:
    data = path.read_bytes()
    chapter = parse_chapter(str(path), data)
    assert_tiles(chapter)
    assert encode_source(render_source(chapter)) == data
