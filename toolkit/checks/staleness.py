"""What changed in English since the translation's basis, and whether the basis is right."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import lru_cache

from toolkit.align import Unit
from toolkit.checks import CheckContext, Finding, declare, rule
from toolkit.code import normalise_code, resolved_tabs
from toolkit.model import Block, CodeCell, TabBlock


@lru_cache(maxsize=8192)  # English's own change: the same for every edition made from it
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


def _foreign_tabs_only(block: Block, edition_tabs: tuple[str, ...], english_tabs: tuple[str, ...]) -> bool:
    """A block that exists only for frameworks the edition does not have (jax, in a v0.17
    edition): not drift for it."""
    if isinstance(block, CodeCell):
        tabs = resolved_tabs(block, english_tabs)
        return "all" not in tabs and not (tabs & set(edition_tabs))
    if isinstance(block, TabBlock):
        return not (set(block.tabs) & set(edition_tabs))
    return False


def _excerpt(block: Block) -> str:
    text = " ".join(block.source.split())
    return text if len(text) <= 80 else text[:77] + "…"


@rule("S001", "english-moved-on", "warning")
def english_moved_on(context: CheckContext) -> Iterable[Finding]:
    """English changed, added or removed blocks since the translation's basis: one finding
    per chapter with the counts; each block is an item (JSON, HTML, ``--verbose``) with the
    English word diff (``[-old-]{+new+}``) or the block added or removed.

    Code cells compare as the executor sees them (resolved tabs, code without comments), so
    d2l-en adding an explicit ``#@tab mxnet`` when its default tab changed is no change; blocks
    only for frameworks the edition does not have (a ``jax`` cell in a v0.17 edition) are not
    drift for it; re-wrapped lines are no change.
    """
    if context.staleness is None:
        return
    edition_tabs = context.alignment.tr_tabs
    translated = _basis_to_translation(context)
    changed: list[tuple[int, str]] = []
    added: list[tuple[int, str]] = []
    removed: list[tuple[int, str]] = []
    marked: set[int] = set()
    last_line = 1
    for pair in context.staleness.pairs:
        old = pair.en.block if pair.en is not None else None
        new = pair.tr.block if pair.tr is not None else None
        target = translated.get(old.span.start) if old is not None else None
        if pair.en is not None and pair.tr is not None and old is not None and new is not None:
            if _changed(context, pair.en, pair.tr) and not _foreign_tabs_only(
                new, edition_tabs, context.staleness.tr_tabs
            ):
                where = target.span.start if target is not None else last_line
                if target is not None:
                    marked.add(target.span.start)
                changed.append(
                    (
                        where,
                        f"line {where}: changed (English {old.span.start} -> {new.span.start}): {_word_diff(old.source, new.source)}",
                    )
                )
        elif new is not None:
            if not _foreign_tabs_only(new, edition_tabs, context.staleness.tr_tabs) and new.source.strip():
                added.append(
                    (
                        last_line,
                        f"after line {last_line}: added ({context.today or 'today'} line {new.span.start}): {_excerpt(new)}",
                    )
                )
        elif old is not None and old.source.strip():
            where = target.span.start if target is not None else last_line
            if target is not None:
                marked.add(target.span.start)
            removed.append((where, f"line {where}: removed (English {old.span.start}): {_excerpt(old)}"))
        if target is not None:
            last_line = target.span.end
    if not (changed or added or removed):
        return
    items = sorted(changed + added + removed)
    moved = f" (today in {context.today_chapter})" if context.today_chapter else ""
    yield context.finding(
        "S001",
        items[0][0],
        f"English moved on since the basis {context.basis}{moved}: {len(changed)} block(s) changed, "
        f"{len(added)} added, {len(removed)} removed",
        hint="update the translation block by block (`--verbose` or the JSON/HTML report lists them)",
        items=tuple(text for _, text in items),
        # what the site marks "follows an older English": translated blocks English changed or
        # removed (an added block has no translation to mark)
        marks=tuple(sorted(marked)),
    )


declare(
    "S002",
    "english-block-added",
    "warning",
    """Retired: blocks English added or removed since the basis are items of S001 now (one
    staleness finding per chapter). Kept so the code is never reused.""",
)


@rule("S005", "not-in-english-today", "info")
def not_in_english_today(context: CheckContext) -> Iterable[Finding]:
    """Today's English has no chapter for this file, by its labels or its path.

    Why: English removed or merged the section; the translation may be kept for readers of
    its edition, but it will not follow English any more.
    """
    if context.missing_today:
        yield context.finding("S005", 1, "today's English has no chapter with this file's labels or path")


@rule("S004", "no-english-basis", "info")
def no_english_basis(context: CheckContext) -> Iterable[Finding]:
    """A translated file has no English basis: no ``x_origin.md`` beside it and no English
    at the edition's basis revision (the checker reports it; it is not aligned at all).

    Why: without the English it was made from, drift cannot be told from translation.
    """
    if context.no_basis:
        yield context.finding(
            "S004", 1, "no English basis: neither an x_origin.md beside it nor English at the edition's basis revision"
        )


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


#: a translation with a counterpart for fewer of its English's blocks than this is no
#: translation of that English (on the whole book: ten ko-partrita files below 0.5, the next
#: file at 0.76)
MIN_COVERAGE = 0.6
#: English blocks after the translation's last one, beyond which the chapter "ends early"
MIN_TAIL_BLOCKS = 10
MIN_TAIL_SHARE = 0.2


def incompleteness(context: CheckContext) -> tuple[str, int] | None:
    """Why the translated chapter is not a whole translation of its English, and from which
    translation line that holds (1: the whole file), or None when it is one."""
    english = [pair for pair in context.alignment.pairs if pair.en is not None]
    if len(english) < MIN_TAIL_BLOCKS:
        return None
    paired = [index for index, pair in enumerate(english) if pair.tr is not None]
    coverage = len(paired) / len(english)
    tail = len(english) - (paired[-1] + 1) if paired else len(english)
    if coverage < MIN_COVERAGE:
        share = len(context.tr.text) / max(len(context.en.text), 1)
        return (
            f"not a translation of its English: only {len(paired)} of English's {len(english)} blocks have a "
            f"counterpart here, and the file is {share:.0%} of English's length (a summary, a rewrite, or "
            "another text)",
            1,
        )
    if tail >= MIN_TAIL_BLOCKS and tail >= MIN_TAIL_SHARE * len(english):
        last = english[paired[-1]]
        assert last.tr is not None and last.en is not None
        resumes = english[paired[-1] + 1]
        assert resumes.en is not None
        return (
            f"the translation ends early, after line {last.tr.block.span.end}: English goes on for {tail} of its "
            f"{len(english)} blocks from line {resumes.en.block.span.start}",
            last.tr.block.span.end,
        )
    return None


@rule("S007", "chapter-incomplete", "error")
def chapter_incomplete(context: CheckContext) -> Iterable[Finding]:
    """The translated file is not a whole translation of its English: it ends early (English
    goes on for many blocks after the translation's last one: ko-partrita
    ``random-variables.md`` stops mid-sentence), or it has a counterpart for few of English's
    blocks (a summary, a rewrite, code only: ko-partrita ``sagemaker.md``, ``value-iter.md``).

    One cause, one finding: what English has and the file lacks past that point (cells,
    figures, equations, labels, tab blocks, sections, references) is this finding's items,
    not a finding each.
    """
    found = incompleteness(context)
    if found is not None:
        message, line = found
        yield context.finding(
            "S007",
            line,
            message,
            hint="translate the rest of the chapter from its English (or take today's English as the start: "
            "`toolkit update`)",
        )
