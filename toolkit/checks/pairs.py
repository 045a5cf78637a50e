"""Helpers shared by the rule families: walking an alignment by block type."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from toolkit.align import Alignment, Pair, Unit
from toolkit.model import Block, InlineFacts, block_inline

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


def prose_pairs(alignment: Alignment) -> Iterator[tuple[Unit, InlineFacts, Unit, InlineFacts]]:
    for pair in alignment.pairs:
        if pair.en is None or pair.tr is None:
            continue
        en, tr = block_inline(pair.en.block), block_inline(pair.tr.block)
        if en is not None and tr is not None:
            yield pair.en, en, pair.tr, tr


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
