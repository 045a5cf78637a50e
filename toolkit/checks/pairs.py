"""Helpers shared by the rule families: walking an alignment by block type."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from toolkit.align import Alignment, Pair, Unit
from toolkit.model import Block, InlineFacts, ListBlock, Paragraph, Quote, block_inline

B = TypeVar("B", bound=Block)


def both(alignment: Alignment, kind: type[B]) -> Iterator[tuple[Unit, B, Unit, B]]:
    """Pairs where both sides exist and are blocks of ``kind``."""
    for pair in alignment.pairs:
        if pair.en is not None and pair.tr is not None:
            en, tr = pair.en.block, pair.tr.block
            if isinstance(en, kind) and isinstance(tr, kind):
                yield pair.en, en, pair.tr, tr


def only_en(alignment: Alignment, kind: type[B]) -> Iterator[tuple[Pair, Unit, B]]:
    for pair in alignment.pairs:
        if pair.en is not None and pair.tr is None and isinstance(pair.en.block, kind):
            yield pair, pair.en, pair.en.block


def only_tr(alignment: Alignment, kind: type[B]) -> Iterator[tuple[Unit, B]]:
    for pair in alignment.pairs:
        if pair.tr is not None and pair.en is None and isinstance(pair.tr.block, kind):
            yield pair.tr, pair.tr.block


SPLITTABLE = (Paragraph, ListBlock, Quote)


def merge_facts(facts: list[InlineFacts]) -> InlineFacts:
    if len(facts) == 1:
        return facts[0]
    return InlineFacts(
        plain_text="\n".join(f.plain_text for f in facts),
        roles=tuple(r for f in facts for r in f.roles),
        code_spans=tuple(c for f in facts for c in f.code_spans),
        links=tuple(link for f in facts for link in f.links),
        math=tuple(m for f in facts for m in f.math),
        numbers=tuple(n for f in facts for n in f.numbers),
        emphasis=sum(f.emphasis for f in facts),
        slide_marks=sum(f.slide_marks for f in facts),
        literal_markup=tuple(x for f in facts for x in f.literal_markup),
        joined_sentences=tuple(x for f in facts for x in f.joined_sentences),
        html=tuple(x for f in facts for x in f.html),
        display_math=tuple(x for f in facts for x in f.display_math),
    )


def _split_parts(pairs: tuple[Pair, ...], index: int, step: int) -> Iterator[tuple[Unit, InlineFacts, bool]]:
    """One-sided prose units next to ``pairs[index]`` going ``step`` (-1 before, +1 after):
    (unit, facts, is_english), until a pair or a block that is not splittable prose."""
    anchor = pairs[index]
    position = index + step
    while 0 <= position < len(pairs):
        neighbour = pairs[position]
        if (neighbour.en is None) == (neighbour.tr is None):
            return
        unit = neighbour.en if neighbour.en is not None else neighbour.tr
        side = anchor.en if neighbour.en is not None else anchor.tr
        facts = block_inline(unit.block) if unit is not None else None
        if unit is None or side is None or facts is None or not isinstance(unit.block, SPLITTABLE):
            return
        if unit.tab_block is not side.tab_block:
            return
        yield unit, facts, neighbour.en is not None
        position += step


def prose_pairs(alignment: Alignment) -> Iterator[tuple[Unit, InlineFacts, Unit, InlineFacts]]:
    """Aligned prose blocks with their inline facts.

    A translator may split one English paragraph in two, or join two: the unpaired
    paragraphs right before and after a pair (in the same tab context) are counted with it,
    so content checks compare the whole passage.
    """
    pairs = alignment.pairs
    for index, pair in enumerate(pairs):
        if pair.en is None or pair.tr is None:
            continue
        en, tr = block_inline(pair.en.block), block_inline(pair.tr.block)
        if en is None or tr is None:
            continue
        en_facts, tr_facts = [en], [tr]
        for step in (-1, 1):
            for _, facts, is_english in _split_parts(pairs, index, step):
                (en_facts if is_english else tr_facts).append(facts)
        yield pair.en, merge_facts(en_facts), pair.tr, merge_facts(tr_facts)


def anchor_line(alignment: Alignment, pair: Pair) -> int:
    """The translation line nearest to where an English-only block would have been."""
    position = alignment.pairs.index(pair)
    for earlier in reversed(alignment.pairs[:position]):
        if earlier.tr is not None:
            return earlier.tr.block.span.end
    return 1


def missing(values: tuple[str, ...], present: tuple[str, ...]) -> list[str]:
    """Items of ``values`` not in ``present``, counting repeats (multiset difference)."""
    remaining = list(present)
    lost = []
    for value in values:
        if value in remaining:
            remaining.remove(value)
        else:
            lost.append(value)
    return lost
