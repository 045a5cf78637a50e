"""Markup that will render literally, and machine-translation artifacts."""

from __future__ import annotations

import re
from collections.abc import Iterable

from toolkit.checks import CheckContext, Finding, rule
from toolkit.checks.pairs import both
from toolkit.model import Equation, block_inline
from toolkit.tex import (
    BARE_WORD,
    CURRENCY,
    ESCAPES,
    LOST_ESCAPE,
    TEX_COMMAND,
    all_math,
    dropped_backslashes,
    math_line,
    restored_escapes,
)


def _inline_blocks(context: CheckContext) -> Iterable[tuple[int, object]]:
    for block, _ in context.tr.leaves:
        inline = block_inline(block)
        if inline is not None:
            yield block.span.start, inline


@rule("M001", "literal-emphasis", "warning", grouped=True)
def literal_emphasis(context: CheckContext) -> Iterable[Finding]:
    """Emphasis delimiters that cannot open or close by CommonMark rules show as ``*``.

    Why: ``*기호 프로그래밍(symbolic programming)*을`` renders with its asterisks, because a
    closing ``*`` preceded by punctuation must be followed by a space or punctuation. This
    bites Korean text, where particles follow the word directly.
    Fix: move the delimiter inside the punctuation, add a space, or use ``<em>...</em>``.
    A ``*`` English writes the same way (``post_sig_est**2``, Python's power in prose) is
    English's text, not the translation's fault.
    """
    english = {
        word
        for block, _ in context.en.leaves
        if (facts := block_inline(block)) is not None
        for _, excerpt in facts.literal_markup
        for word in _delimited_words(excerpt)
    }
    for block, _ in context.tr.leaves:
        inline = block_inline(block)
        if inline is None:
            continue
        by_line: dict[int, list[str]] = {}
        for line, excerpt in inline.literal_markup:
            if "`" in excerpt or re.search(r":\w+:", excerpt):
                continue  # M002's
            if _delimited_words(excerpt) and _delimited_words(excerpt) <= english:
                continue
            by_line.setdefault(line, []).append(excerpt.strip())
        for line, excerpts in by_line.items():
            yield context.finding(
                "M001",
                line,
                "emphasis will show literally: " + " … ".join(f'"{e}"' for e in excerpts),
                hint="a `*` closes only if it is not preceded by punctuation that a letter follows, and "
                "never after a space: write <em>…</em>, or move the `*`",
            )


def _delimited_words(excerpt: str) -> set[str]:
    """The words of an excerpt that hold an emphasis delimiter (``post_sig_est**2``)."""
    return {word for word in excerpt.split() if "*" in word or "_" in word}


@rule("M002", "unclosed-code-or-role", "error")
def unclosed_code_or_role(context: CheckContext) -> Iterable[Finding]:
    """A backtick or a role (``:numref:`x``) is never closed and will show literally."""
    for block, _ in context.tr.leaves:
        inline = block_inline(block)
        if inline is None:
            continue
        for line, excerpt in inline.literal_markup:
            if "`" in excerpt or re.search(r":\w+:", excerpt):
                yield context.finding(
                    "M002",
                    line,
                    f'unclosed backtick or role: "{excerpt.strip()}"',
                    hint="close it with a backtick",
                )


@rule("M003", "dollar-as-currency", "warning")
def dollar_as_currency(context: CheckContext) -> Iterable[Finding]:
    """A ``$`` meant as a currency sign starts inline math (``$5 and $10``)."""
    for block, _ in context.tr.leaves:
        inline = block_inline(block)
        if inline is None:
            continue
        for math in inline.math:
            if "\t" not in math and CURRENCY.match(math):
                yield context.finding(
                    "M003",
                    block.span.start,
                    f"`${math}$` reads as math; is `$` a currency sign here?",
                    hint="escape it as \\$",
                )


def _english_commands(context: CheckContext) -> frozenset[str]:
    """The commands English's math uses and never writes as a bare word."""
    maths = [m for block, _ in context.en.leaves for m in all_math(block)]
    named = {name for math in maths for name in TEX_COMMAND.findall(math)}
    return frozenset(named.difference(*(BARE_WORD.findall(math) for math in maths)))


@rule("M005", "tex-escape-lost", "error", grouped=True)
def tex_escape_lost(context: CheckContext) -> Iterable[Finding]:
    """A TeX command in math lost its backslash to a tool that read it as an escape:
    ``\\times`` became a tab and ``imes``, or ``\\sim`` became ``sim`` where that is all that
    differs from English's formula. X006 and E005 report the other control characters.

    Why: the formula renders wrong (or not at all); such files are usually machine-processed
    with escapes interpreted, so it is one finding per file with each formula as an item (and
    the formula is not also E001 or E003).
    Fix: restore every backslash; the message shows the formula as it should read.
    """
    commands: frozenset[str] | None = None
    for block, _ in context.tr.leaves:
        for math in all_math(block):
            if not LOST_ESCAPE.search(math):
                continue
            if commands is None:
                commands = _english_commands(context)
            shown, bare = restored_escapes(math, commands)
            escapes = sorted({ESCAPES[t] for t in LOST_ESCAPE.findall(math)})
            yield _lost(
                context, math_line(block, math), [f"a tab where `{e}…` stood" for e in escapes], bare, shown
            )
    for _, en, tr_unit, tr in both(context.alignment, Equation):
        if not LOST_ESCAPE.search(tr.tex) and (bare := dropped_backslashes(en.tex, tr.tex)):
            yield _lost(
                context, math_line(tr, tr.tex), [], bare, restored_escapes(tr.tex, frozenset(bare))[0]
            )
    for _, en_facts, tr_unit, tr_facts in context.prose:
        for math in dict.fromkeys(tr_facts.math):
            if LOST_ESCAPE.search(math):
                continue
            for english in en_facts.math:
                if bare := dropped_backslashes(english, math):
                    shown = restored_escapes(math, frozenset(bare))[0]
                    yield _lost(context, math_line(tr_unit.block, math), [], bare, shown)
                    break


def _lost(context: CheckContext, line: int, tabs: list[str], bare: list[str], shown: str) -> Finding:
    lost = tabs + [f"`\\{name}` written `{name}`" for name in bare]
    return context.finding(
        "M005",
        line,
        f"math lost backslashes ({', '.join(lost)}); it should read `{shown[:80]}`",
        hint="restore the backslashes (\\times, \\sim, \\textrm …); a tool read them as escapes",
    )


@rule("M004", "sentences-joined", "warning", grouped=True)
def sentences_joined(context: CheckContext) -> Iterable[Finding]:
    """Sentences joined without a space after the full stop (a machine-translation artifact).

    Example: ``두었습니다.간단한`` should be ``두었습니다. 간단한``.
    """
    for block, _ in context.tr.leaves:
        inline = block_inline(block)
        if inline is None or not inline.joined_sentences:
            continue
        first_line, first = inline.joined_sentences[0]
        count = len(inline.joined_sentences)
        yield context.finding(
            "M004",
            first_line,
            f'{count} sentence(s) joined without a space, e.g. "{first}"',
            hint="add a space after the full stop",
        )


@rule("M006", "highlight-marks-lost", "warning", grouped=True)
def highlight_marks_lost(context: CheckContext) -> Iterable[Finding]:
    """English marks a passage for the slides (``[** … **]`` shown bold, ``(** … **)`` shown
    plain) and the translation lost the marks.

    Why: d2l's slides are made from the marked passages; an edition without them has no
    slides for that block.
    """

    for en_unit, en, tr_unit, tr in context.prose:
        if en.slide_marks > tr.slide_marks:
            yield context.finding(
                "M006",
                tr_unit,
                f"{en.slide_marks - tr.slide_marks} of English's {en.slide_marks} slide mark(s) ([** **], (** **)) lost",
                hint="wrap the same passage in [** … **] or (** … **) as English does",
            )
