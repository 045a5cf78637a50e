"""Markup that will render literally, and machine-translation artifacts."""

from __future__ import annotations

import re
from collections.abc import Iterable

from toolkit.checks import CheckContext, Finding, rule
from toolkit.model import Equation, block_inline

CURRENCY = re.compile(r"^\s*\d[\d.,]*\s+[^\W\d_]{2,}")


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


# a TeX command whose backslash and first letter a tool read as an escape: "\times" -> TAB "imes"
# (the other control characters such a tool leaves, \b and \f, are X006's)
LOST_ESCAPE = re.compile(r"\t(?=[a-z]{2,})")
ESCAPES = {"\t": "\\t"}


@rule("M005", "tex-escape-lost", "error")
def tex_escape_lost(context: CheckContext) -> Iterable[Finding]:
    """A TeX command in math lost its backslash to a tool that read it as an escape:
    ``\\times`` became a tab and ``imes`` (X006 reports the other control characters).

    Why: the formula renders wrong (or not at all); such files are usually machine-processed
    with escapes interpreted.
    """
    for block, _ in context.tr.leaves:
        inline = block_inline(block)
        maths = list(inline.math) if inline is not None else []
        if isinstance(block, Equation):
            maths.append(block.tex)
        for math in maths:
            found = LOST_ESCAPE.search(math)
            if found:
                escape = ESCAPES[found.group(0)]
                shown = LOST_ESCAPE.sub(lambda m: ESCAPES[m.group(0)], math)
                yield context.finding(
                    "M005",
                    block.span.start,
                    f"math holds a control character where `{escape}…` stood: `{shown[:60]}`",
                    hint="restore the backslash (\\times, \\frac, \\beta …)",
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
