"""What changed in English since the translation's basis, and whether the basis is right."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from toolkit.align import Unit
from toolkit.checks import CheckContext, Finding, rule
from toolkit.code import normalise_code, resolved_tabs
from toolkit.model import Block, CodeCell, TabBlock


def _word_diff(old: str, new: str) -> str:
    old_words, new_words = old.split(), new.split()
    out: list[str] = []
    for tag, a0, a1, b0, b1 in difflib.SequenceMatcher(
        None, old_words, new_words, autojunk=False
    ).get_opcodes():
        if tag == "equal":
            words = old_words[a0:a1]
            out.append(" ".join(words if len(words) <= 6 else [*words[:3], "…", *words[-3:]]))
        else:
            if a1 > a0:
                out.append("[-" + " ".join(old_words[a0:a1]) + "-]")
            if b1 > b0:
                out.append("{+" + " ".join(new_words[b0:b1]) + "+}")
    return " ".join(out)


def _basis_to_translation(context: CheckContext) -> dict[int, Block]:
    """English-basis block start line -> the translated block aligned with it."""
    return {
        pair.en.block.span.start: pair.tr.block
        for pair in context.alignment.pairs
        if pair.en is not None and pair.tr is not None
    }


def _changed(context: CheckContext, old_unit: Unit, new_unit: Unit) -> bool:
    """Did English change this block in a way a translator must act on?

    Code cells compare as the executor sees them (resolved tabs, code without comments), so
    d2l-en adding an explicit `#@tab mxnet` when its default tab changed is no change. A tab
    block compares on its tab list only: its paragraphs are units of their own.
    """
    assert context.staleness is not None
    old, new = old_unit.block, new_unit.block
    if isinstance(old, CodeCell) and isinstance(new, CodeCell):
        before = resolved_tabs(old, context.staleness.en_tabs), normalise_code(old.code)
        after = resolved_tabs(new, context.staleness.tr_tabs), normalise_code(new.code)
        return before != after
    if isinstance(old, TabBlock) and isinstance(new, TabBlock):
        return set(old.tabs) != set(new.tabs)
    # re-wrapped lines are no change to a translator: compare the words
    return old.source.split() != new.source.split()


@rule("S001", "english-changed", "warning")
def english_changed(context: CheckContext) -> Iterable[Finding]:
    """English changed a block since the translation's basis; the translation may be stale.

    The finding sits on the translated block and carries the English word diff
    (``[-old-]{+new+}``) from the basis to today's English.
    """
    if context.staleness is None:
        return
    translated = _basis_to_translation(context)
    for pair in context.staleness.pairs:
        if pair.en is None or pair.tr is None:
            continue
        old, new = pair.en.block, pair.tr.block
        if not _changed(context, pair.en, pair.tr):
            continue
        target = translated.get(old.span.start)
        if target is None:
            continue
        yield context.finding(
            "S001",
            target.span.start,
            f"English changed since {context.basis} (line {old.span.start} -> {context.today} line {new.span.start})",
            hint="update the translation, then move the edition's basis forward",
            detail=_word_diff(old.source, new.source),
        )


@rule("S002", "english-block-added", "warning")
def english_block_added(context: CheckContext) -> Iterable[Finding]:
    """English added or removed a block since the translation's basis."""
    if context.staleness is None:
        return
    translated = _basis_to_translation(context)
    last_line = 1
    for pair in context.staleness.pairs:
        if pair.en is not None and pair.tr is None:
            target = translated.get(pair.en.block.span.start)
            yield context.finding(
                "S002",
                target.span.start if target else last_line,
                f"English removed this block after {context.basis}",
                detail=pair.en.block.source.strip()[:200],
            )
        elif pair.en is None and pair.tr is not None:
            yield context.finding(
                "S002",
                last_line,
                f"English added a block after {context.basis} ({context.today} line {pair.tr.block.span.start})",
                detail=pair.tr.block.source.strip()[:200],
            )
        if pair.en is not None and (target := translated.get(pair.en.block.span.start)) is not None:
            last_line = target.span.end


@rule("S003", "basis-mismatch", "warning")
def basis_mismatch(context: CheckContext) -> Iterable[Finding]:
    """The translation matches another known English revision better than its declared basis.

    Scored on what translations keep verbatim: code cells with their tab headers, labels,
    equations, image paths, tab blocks.
    """
    if not context.basis_candidates:
        return
    best = max(context.basis_candidates, key=lambda c: c.score)
    declared = next((c for c in context.basis_candidates if c.revision == context.basis), None)
    if declared is not None and best.revision != declared.revision and best.score > declared.score:
        scores = ", ".join(f"{c.revision}={c.score:.2f}" for c in context.basis_candidates)
        yield context.finding(
            "S003",
            1,
            f"declared basis {context.basis} but the text matches English {best.revision} best ({scores})",
            hint=f'set basis = "{best.revision}" in the edition\'s edition.toml',
        )
