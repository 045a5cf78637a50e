"""The aligner's contract, property-tested, and its results on real chapters."""

from __future__ import annotations

import random

import pytest
from conftest import CorpusTranslation, corpus_translations, require_corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.align import Alignment, align_chapters, make_units
from toolkit.model import Chapter, CodeCell
from toolkit.parser import parse_chapter

TABS = ("mxnet", "pytorch", "tensorflow")

BLOCKS = [
    "## Heading {n}\n",
    "Paragraph {n} with `code{n}` and $x_{n}$.\n",
    "```{{.python .input}}\n#@tab pytorch\nx = {n}\n```\n",
    "```{{.python .input}}\n#@tab all\ny = {n}\n```\n",
    ":begin_tab:`mxnet`\nTab prose {n}.\n:end_tab:\n",
    "![Figure {n}](../img/f{n}.svg)\n:label:`fig_{n}`\n",
    "$$z = {n}.$$\n:eqlabel:`eq_{n}`\n",
    "* item {n}\n* other\n",
]


def assert_contract(alignment: Alignment, en: Chapter, tr: Chapter) -> None:
    en_units = make_units(en, alignment.en_tabs)
    tr_units = make_units(tr, alignment.tr_tabs)
    seen_en = [p.en.index for p in alignment.pairs if p.en is not None]
    seen_tr = [p.tr.index for p in alignment.pairs if p.tr is not None]
    assert sorted(seen_en) == list(range(len(en_units)))
    assert sorted(seen_tr) == list(range(len(tr_units)))
    in_order = [p for p in alignment.pairs if not p.moved]
    assert [p.en.index for p in in_order if p.en] == sorted(p.en.index for p in in_order if p.en)
    assert [p.tr.index for p in in_order if p.tr] == sorted(p.tr.index for p in in_order if p.tr)


def document(kinds: list[int]) -> str:
    return "\n".join(BLOCKS[k].format(n=i) for i, k in enumerate(kinds))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, len(BLOCKS) - 1), min_size=1, max_size=20),
    st.lists(st.tuples(st.sampled_from(["drop", "dup", "swap", "edit"]), st.integers(0, 30)), max_size=6),
)
def test_alignment_contract_holds_under_edits(kinds: list[int], edits: list[tuple[str, int]]) -> None:
    english = document(kinds)
    pieces = english.split("\n\n")
    for action, where in edits:
        if not pieces:
            break
        i = where % len(pieces)
        if action == "drop":
            pieces.pop(i)
        elif action == "dup":
            pieces.insert(i, pieces[i])
        elif action == "swap" and len(pieces) > 1:
            j = (i + 1) % len(pieces)
            pieces[i], pieces[j] = pieces[j], pieces[i]
        else:
            pieces[i] = pieces[i].replace("Paragraph", "Absatz")
    en = parse_chapter("en.md", english)
    tr = parse_chapter("tr.md", "\n\n".join(pieces))
    assert_contract(align_chapters(en, tr, TABS, TABS), en, tr)


def test_identical_chapters_align_one_to_one() -> None:
    en = parse_chapter("en.md", document(list(range(len(BLOCKS))) * 2))
    alignment = align_chapters(en, en, TABS, TABS)
    assert all(p.en is not None and p.tr is not None and p.en.index == p.tr.index for p in alignment.pairs)


def test_moved_cell_is_paired_as_moved() -> None:
    english = document([1, 2, 1, 3, 1])
    parts = english.split("\n\n")
    parts.append(parts.pop(1))  # the pytorch cell goes to the end
    en, tr = parse_chapter("en.md", english), parse_chapter("tr.md", "\n\n".join(parts))
    alignment = align_chapters(en, tr, TABS, TABS)
    moved = [p for p in alignment.pairs if p.moved]
    assert len(moved) == 1 and isinstance(moved[0].tr.block, CodeCell)  # type: ignore[union-attr]


CORPUS_CASES = corpus_translations()


@pytest.mark.parametrize("case", CORPUS_CASES, ids=lambda c: f"{c.edition}/{c.chapter}")
def test_real_translations_align_their_code_cells(case: CorpusTranslation) -> None:
    require_corpus()
    assert case.basis is not None
    en = parse_chapter(str(case.basis), case.basis.read_bytes())
    tr = parse_chapter(str(case.translation), case.translation.read_bytes())
    alignment = align_chapters(en, tr, case.basis_tabs, case.tabs)
    assert_contract(alignment, en, tr)
    en_cells = sum(isinstance(u.block, CodeCell) for u in make_units(en, case.basis_tabs))
    paired_cells = sum(
        p.en is not None and p.tr is not None and isinstance(p.en.block, CodeCell) for p in alignment.pairs
    )
    # every code cell of English finds its translated counterpart in the real corpus
    assert paired_cells == en_cells


def test_dropping_random_blocks_of_a_real_chapter_keeps_the_rest_aligned() -> None:
    require_corpus()
    case = next(c for c in CORPUS_CASES if c.edition == "tr" and "momentum" in c.chapter)
    text = case.translation.read_text("utf-8")
    pieces = text.split("\n\n")
    rng = random.Random(7)
    dropped = sorted(rng.sample(range(5, len(pieces) - 5), 4), reverse=True)
    for i in dropped:
        pieces.pop(i)
    assert case.basis is not None
    en = parse_chapter("en.md", case.basis.read_bytes())
    tr = parse_chapter("tr.md", "\n\n".join(pieces))
    alignment = align_chapters(en, tr, case.basis_tabs, case.tabs)
    assert_contract(alignment, en, tr)
    labels_paired = [
        p for p in alignment.pairs if p.en and p.tr and type(p.en.block).__name__ == "Attributes"
    ]
    assert all(p.en.signature == p.tr.signature for p in labels_paired)  # type: ignore[union-attr]
