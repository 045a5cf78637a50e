"""Block-by-block alignment of two chapters (a translation and its English, or two English
revisions).

Contract (property-tested):
- Every unit of either side appears in exactly one ``Pair``; ``Pair(en, None)`` is a block the
  other side lacks, ``Pair(None, tr)`` one it adds.
- Pairs that are not ``moved`` are in increasing order on both sides.

Method: units are the leaf blocks that carry meaning (blank lines and tab markers are left
out). Each unit has a *signature*; anchors that translators keep (labels, code cells compared
without comments and docstrings, equations, image paths, ``:begin_tab:`` tab sets) have
*strong* signatures. The longest common subsequence of strong signatures gives the pins; the
units between two pins are aligned by a Needleman-Wunsch pass on a similarity score (same
kind, shared code spans, numbers, references, links, math, heading level, length ratio).
Strong units left unpaired with an identical signature on the other side are paired as moved.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

from toolkit.code import code_hash, resolved_tabs
from toolkit.model import (
    Attributes,
    Blank,
    Block,
    Chapter,
    CodeCell,
    Equation,
    Figure,
    Heading,
    InlineFacts,
    Other,
    TabBlock,
    block_inline,
)

MIN_SCORE = 0.35


@dataclass(frozen=True)
class Unit:
    index: int
    block: Block
    tab_block: TabBlock | None
    signature: Hashable
    strong: bool


@dataclass(frozen=True)
class Pair:
    en: Unit | None
    tr: Unit | None
    moved: bool = False


@dataclass(frozen=True)
class Alignment:
    en: Chapter
    tr: Chapter
    en_tabs: tuple[str, ...]
    tr_tabs: tuple[str, ...]
    pairs: tuple[Pair, ...]


def make_units(chapter: Chapter, tabs: tuple[str, ...]) -> list[Unit]:
    """The chapter's alignable blocks with their signatures (computed once per chapter and
    tab list: every edition aligns with the same English)."""
    key = ("units", tabs)
    known = chapter.derived.get(key)
    if known is None:
        known = chapter.derived[key] = tuple(_make_units(chapter, tabs))
    return list(cast(tuple[Unit, ...], known))


def _make_units(chapter: Chapter, tabs: tuple[str, ...]) -> list[Unit]:
    units: list[Unit] = []
    for block, tab_block in chapter.leaves:
        if isinstance(block, (Blank, Other)):
            continue
        signature, strong = _signature(block, tab_block, tabs)
        units.append(Unit(len(units), block, tab_block, signature, strong))
    return units


def _signature(block: Block, tab_block: TabBlock | None, tabs: tuple[str, ...]) -> tuple[Hashable, bool]:
    context = tab_block.tabs if tab_block else ()
    if isinstance(block, CodeCell):
        if block.executable:
            return ("cell", resolved_tabs(block, tabs), code_hash(block.code)), True
        return ("code", code_hash(block.code)), True
    if isinstance(block, Attributes):
        return ("attributes", tuple((r.name, r.target) for r in block.roles)), True
    if isinstance(block, Equation):
        return ("equation", " ".join(block.tex.split())), True
    if isinstance(block, Figure):
        return ("figure", block.path), True
    if isinstance(block, TabBlock):
        return ("tab", frozenset(block.tabs)), True
    if isinstance(block, Heading):
        return ("heading", block.level, context), False
    return (type(block).__name__, context), False


def _facts_score(a: InlineFacts, b: InlineFacts) -> float:
    score, weight = 0.0, 0.0
    for left, right in (
        (a.code_spans, b.code_spans),
        (a.numbers, b.numbers),
        (tuple(r.target for r in a.roles), tuple(r.target for r in b.roles)),
        (tuple(link.url for link in a.links), tuple(link.url for link in b.links)),
        (a.math, b.math),
    ):
        if left or right:
            sa, sb = set(left), set(right)
            score += len(sa & sb) / len(sa | sb)
            weight += 1.0
    length = min(len(a.plain_text), len(b.plain_text)) / max(1, len(a.plain_text), len(b.plain_text))
    if weight == 0:
        return 0.4 + 0.3 * length
    return 0.3 + 0.5 * (score / weight) + 0.2 * length


def _children_facts(block: TabBlock) -> InlineFacts:
    facts = [f for child in block.children if (f := block_inline(child)) is not None]
    return InlineFacts(
        plain_text=" ".join(f.plain_text for f in facts),
        roles=tuple(r for f in facts for r in f.roles),
        code_spans=tuple(c for f in facts for c in f.code_spans),
        links=tuple(link for f in facts for link in f.links),
        math=tuple(m for f in facts for m in f.math),
        numbers=tuple(n for f in facts for n in f.numbers),
    )


@lru_cache(maxsize=65536)
def _characters(text: str) -> Counter[str]:
    return Counter(text)


def _character_overlap(a: str, b: str) -> float:
    """difflib's ``quick_ratio`` (shared characters as a multiset), from cached counts."""
    if not a and not b:
        return 1.0
    shared = sum((_characters(a) & _characters(b)).values())
    return 2.0 * shared / (len(a) + len(b))


def similarity(a: Unit, b: Unit, same_language: bool) -> float:
    """How likely two units are one block in two versions (0 = never, ~1 = surely)."""
    ba, bb = a.block, b.block
    if type(ba) is not type(bb):
        return 0.0
    if (a.tab_block is None) != (b.tab_block is None):
        return 0.0
    if a.strong:
        if a.signature == b.signature:
            return 1.0
        if isinstance(ba, CodeCell) and isinstance(bb, CodeCell):
            if ba.executable != bb.executable:
                return 0.0
            same_tabs = a.signature[1] == b.signature[1]  # type: ignore[index]
            same_code = a.signature[-1] == b.signature[-1]  # type: ignore[index]
            if not (same_tabs or same_code):
                return 0.0  # a different cell, not this one changed
            return 0.3 + 0.6 * _character_overlap(ba.code, bb.code)
        if isinstance(ba, TabBlock) and isinstance(bb, TabBlock):
            shared = len(set(ba.tabs) & set(bb.tabs)) / max(1, len(set(ba.tabs) | set(bb.tabs)))
            content = _facts_score(_children_facts(ba), _children_facts(bb))
            return 0.3 + 0.3 * shared + 0.3 * content
        return 0.5
    score = 0.0
    fa, fb = block_inline(ba), block_inline(bb)
    if fa is not None and fb is not None:
        score = _facts_score(fa, fb)
        if same_language:
            score = 0.3 * score + 0.7 * _character_overlap(fa.plain_text, fb.plain_text)
    if isinstance(ba, Heading) and isinstance(bb, Heading):
        score = score + (0.3 if ba.level == bb.level else -0.1)
    return max(0.0, min(1.0, score))


def _align_gap(en: list[Unit], tr: list[Unit], same_language: bool) -> list[Pair]:
    """Needleman-Wunsch over one gap between pins: maximise the summed similarity."""
    n, m = len(en), len(tr)
    if n == 0 or m == 0:
        return [Pair(u, None) for u in en] + [Pair(None, u) for u in tr]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    move = [[0] * (m + 1) for _ in range(n + 1)]  # 0 diag, 1 up (skip en), 2 left (skip tr)
    for i in range(1, n + 1):
        move[i][0] = 1
    for j in range(1, m + 1):
        move[0][j] = 2
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            score = similarity(en[i - 1], tr[j - 1], same_language)
            diagonal = best[i - 1][j - 1] + score if score >= MIN_SCORE else -1.0
            up, left = best[i - 1][j], best[i][j - 1]
            if diagonal >= up and diagonal >= left:
                best[i][j], move[i][j] = diagonal, 0
            elif up >= left:
                best[i][j], move[i][j] = up, 1
            else:
                best[i][j], move[i][j] = left, 2
    pairs: list[Pair] = []
    i, j = n, m
    while i > 0 or j > 0:
        step = move[i][j]
        if step == 0:
            pairs.append(Pair(en[i - 1], tr[j - 1]))
            i, j = i - 1, j - 1
        elif step == 1:
            pairs.append(Pair(en[i - 1], None))
            i -= 1
        else:
            pairs.append(Pair(None, tr[j - 1]))
            j -= 1
    pairs.reverse()
    return pairs


def align_units(en: list[Unit], tr: list[Unit], same_language: bool = False) -> list[Pair]:
    # Patience-style pins: only anchors whose signature occurs once on each side, so a
    # repeated anchor (three ":begin_tab:`tensorflow`" blocks) never pins the wrong copy;
    # repeated ones are placed by the similarity pass, which also weighs their content.
    en_counts = Counter(u.signature for u in en if u.strong)
    tr_counts = Counter(u.signature for u in tr if u.strong)
    strong_en = [u for u in en if u.strong and en_counts[u.signature] == 1 and tr_counts[u.signature] == 1]
    strong_tr = [u for u in tr if u.strong and tr_counts[u.signature] == 1 and en_counts[u.signature] == 1]
    matcher = difflib.SequenceMatcher(
        None, [u.signature for u in strong_en], [u.signature for u in strong_tr], autojunk=False
    )
    pins = [
        (strong_en[block.a + k].index, strong_tr[block.b + k].index)
        for block in matcher.get_matching_blocks()
        for k in range(block.size)
    ]
    pairs: list[Pair] = []
    i = j = 0
    for pin_en, pin_tr in [*pins, (len(en), len(tr))]:
        pairs.extend(_align_gap(en[i:pin_en], tr[j:pin_tr], same_language))
        if pin_en < len(en):
            pairs.append(Pair(en[pin_en], tr[pin_tr]))
        i, j = pin_en + 1, pin_tr + 1
    return _pair_moved(pairs)


def _pair_moved(pairs: list[Pair]) -> list[Pair]:
    """Strong units unpaired on both sides with the same signature moved; pair them."""
    missing = {id(p): p for p in pairs if p.tr is None and p.en is not None and p.en.strong}
    extra = [p for p in pairs if p.en is None and p.tr is not None and p.tr.strong]
    replaced: dict[int, Pair | None] = {}
    for extra_pair in extra:
        assert extra_pair.tr is not None
        for key, missing_pair in missing.items():
            assert missing_pair.en is not None
            if key not in replaced and missing_pair.en.signature == extra_pair.tr.signature:
                replaced[key] = None
                replaced[id(extra_pair)] = Pair(missing_pair.en, extra_pair.tr, moved=True)
                break
    out: list[Pair] = []
    for pair in pairs:
        if id(pair) in replaced:
            new = replaced[id(pair)]
            if new is not None:
                out.append(new)
        else:
            out.append(pair)
    return out


def align_chapters(
    en: Chapter,
    tr: Chapter,
    en_tabs: tuple[str, ...],
    tr_tabs: tuple[str, ...],
    same_language: bool = False,
) -> Alignment:
    pairs = align_units(make_units(en, en_tabs), make_units(tr, tr_tabs), same_language)
    return Alignment(en, tr, en_tabs, tr_tabs, tuple(pairs))
