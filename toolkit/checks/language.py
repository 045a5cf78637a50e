"""Paragraphs left in English or written in another language."""

from __future__ import annotations

from collections.abc import Iterable

from toolkit.checks import CheckContext, Finding, rule
from toolkit.model import Figure, Heading, Table

MIN_LETTERS = 25


def _letters(text: str) -> int:
    return sum(map(str.isalpha, text))


@rule("P001", "paragraph-untranslated", "warning", grouped=True)
def paragraph_untranslated(context: CheckContext) -> Iterable[Finding]:
    """A block of the translation is still in English.

    Decided on the text with code, math and URLs removed: identical to the English block, or
    detected as English by langdetect (seeded, choosing only between English and the
    edition's language). Short texts are left to P003. A heading the translator changed is
    being translated, even where it keeps English terms ("Recurrent Neural Networks dengan
    Hidden States", "Jaringan Feed-Forward Positionwise"): language detection on a few words is
    no evidence, so a heading is untranslated only when it is English's word for word.
    """
    if context.language == "en":
        return
    for en_unit, en, tr_unit, tr in context.prose:
        if isinstance(tr_unit.block, (Table, Figure)):
            continue  # tables are mostly numbers and names; F003 covers captions
        text = tr.plain_text
        if _letters(text) < MIN_LETTERS:
            continue
        if text == en.plain_text:
            yield context.finding("P001", tr_unit, "block is identical to English: not translated")
        elif isinstance(tr_unit.block, Heading):
            continue
        elif context.detector is not None and context.detector.judge(text, context.language) == "en":
            yield context.finding("P001", tr_unit, "block reads as English: not translated")


@rule("P002", "paragraph-wrong-language", "warning")
def paragraph_wrong_language(context: CheckContext) -> Iterable[Finding]:
    """A block is neither English nor the edition's language (e.g. pasted from another edition)."""
    if context.language == "en" or context.detector is None:
        return
    for en_unit, en, tr_unit, tr in context.prose:
        text = tr.plain_text
        if _letters(text) < 60 or text == en.plain_text or isinstance(tr_unit.block, Table):
            continue
        if context.detector.judge(text, context.language) == "other":
            yield context.finding("P002", tr_unit, f"block reads as neither English nor `{context.language}`")


@rule("P003", "short-text-identical", "info", grouped=True)
def short_text_identical(context: CheckContext) -> Iterable[Finding]:
    """A short text (heading, link text, caption) is identical to English.

    Often fine (names, "PyTorch"), sometimes forgotten: listed as info.
    """
    if context.language == "en":
        return
    for en_unit, en, tr_unit, tr in context.prose:
        if isinstance(tr_unit.block, Figure):
            continue  # F003 covers captions
        if (
            0 < _letters(tr.plain_text) < MIN_LETTERS
            and tr.plain_text == en.plain_text
            and " " in en.plain_text.strip()
        ):
            yield context.finding("P003", tr_unit, f'text is identical to English: "{tr.plain_text}"')
        en_texts = {link.text for link in en.links if not link.image}
        for link in tr.links:
            # one word is enough: "[Discussions](…)" left in English in ko and vi
            if not link.image and link.text in en_texts and _letters(link.text) >= 8:
                yield context.finding("P003", link.line, f'link text is identical to English: "{link.text}"')


@rule("P004", "glossary-term-not-used", "info", grouped=True)
def glossary_term_not_used(context: CheckContext) -> Iterable[Finding]:
    """An English block uses a term of the edition's own glossary (ko ``TERMINOLOGY.md``, tr
    ``TERMINOLOGY.md``, vi ``glossary.md``) and its translation uses none of the glossary's
    renderings (inflected forms count: Korean particles, Turkish suffixes).

    Why: one concept, one word across the book; readers look terms up in the glossary.
    """
    if context.glossary is None:
        return
    for en_unit, en, tr_unit, tr in context.prose:
        if not tr.plain_text or tr.plain_text == en.plain_text:
            continue  # untranslated: P001's
        for term in context.glossary.expected(en.plain_text, tr.plain_text):
            yield context.finding(
                "P004",
                tr_unit,
                f'"{term.english}" is "{" / ".join(term.renderings)}" in the glossary; this block uses neither',
            )
