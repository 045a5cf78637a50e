"""Equations, figures, links, inline code, numbers and headings."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable

from toolkit.checks import CheckContext, Finding, rule
from toolkit.checks.labels import chapter_roles, defined_labels, references_to
from toolkit.checks.pairs import anchor_line, both, missing, only_en
from toolkit.model import (
    Attributes,
    Blank,
    Block,
    Chapter,
    Equation,
    Figure,
    Heading,
    ListBlock,
    Paragraph,
    block_inline,
    iter_blocks,
)
from toolkit.tex import (
    LOST_ESCAPE,
    TEX_COMMAND,
    THOUSANDS,
    all_math,
    dropped_backslashes,
    math_key,
    math_line,
    repaired_tex,
    restored_escapes,
    reworded_around_text,
    spaceless_tex,
    tex_problem,
    tex_shape,
)


def _written_as_text(number: str, text: str) -> bool:
    """``16`` appears in ``16Gb/s`` or ``60.000`` (as 60000) in the translated prose."""
    return re.search(rf"(?<![\d.,]){re.escape(number)}(?![\d])", THOUSANDS.sub("", text)) is not None


@rule("E001", "equation-changed", "warning")
def equation_changed(context: CheckContext) -> Iterable[Finding]:
    """A display equation differs from its English counterpart.

    Whitespace, braces and the words inside ``\\text{}``/``\\textrm{}``/``\\mbox{}`` (prose
    a translator translates) are not differences, nor are the symbols of such prose in the
    translation's word order (the same symbols, moved around the ``\\text{}``).
    """
    for en_unit, en, tr_unit, tr in both(context.alignment, Equation):
        if tex_problem(tr.tex, control=False) and not tex_problem(en.tex, control=False):
            continue  # E005 names the cause (a doubled backslash, a lost brace): one finding
        if (LOST_ESCAPE.search(tr.tex) and not LOST_ESCAPE.search(en.tex)) or dropped_backslashes(
            en.tex, tr.tex
        ):
            continue  # M005's: a tool read the backslashes as escapes
        if tex_shape(en.tex) != tex_shape(tr.tex) and not reworded_around_text(en.tex, tr.tex):
            yield context.finding(
                "E001",
                tr_unit,
                f"equation differs from English line {en.span.start}",
                detail=f"- {en.tex}\n+ {tr.tex}",
            )


@rule("E002", "equation-missing", "error")
def equation_missing(context: CheckContext) -> Iterable[Finding]:
    """A display equation of English is missing from the translation.

    When the same TeX is in the translation as inline math, the equation is there but not on
    lines of its own (``$$...$$:eqlabel:`x``` on one line): it renders unnumbered, and its
    label leads nowhere. When English's equation is not numbered (no ``:eqlabel:``) nothing
    is lost (the site typesets ``$$`` within a paragraph in display style): no finding.
    """
    inline_math: dict[str, int] = {}
    for block, _ in context.tr.leaves:
        if (facts := block_inline(block)) is not None:
            for math in facts.math:
                inline_math.setdefault(spaceless_tex(math), block.span.start)
    for pair, unit, block in only_en(context.alignment, Equation):
        line = inline_math.get(spaceless_tex(block.tex))
        here = defined_labels(context.tr)
        eqlabels = [
            role.target
            for role in chapter_roles(context.en)
            if role.name == "eqlabel" and block.span.start <= role.line <= block.span.end + 1
        ]
        labels = sorted(label for label in eqlabels if label not in here)
        references = [item for label in labels for item in references_to(context.tr, label)]
        named = (
            f", and its :eqlabel:`{labels[0]}` with it"
            + (f" ({len(references)} reference(s) to it here lead nowhere)" if references else "")
            if labels
            else ""
        )
        if line is not None:
            if not eqlabels:
                continue  # the same TeX, typeset in display style within the paragraph: nothing lost
            yield context.finding(
                "E002",
                line,
                f"equation of English line {block.span.start} is written inline here, not as a display equation{named}",
                hint="put $$...$$ on its own line(s) and :eqlabel: on the next line",
                items=tuple(references),
            )
        else:
            yield context.finding(
                "E002",
                anchor_line(context.alignment, pair),
                f"equation of English line {block.span.start} is missing here{named}",
                items=tuple(references),
            )


@rule("E003", "inline-math-changed", "warning", grouped=True)
def inline_math_changed(context: CheckContext) -> Iterable[Finding]:
    """Inline math of the English block is missing or altered in its translation.

    Compared as ``E001`` compares equations, and across locales: ``$60,000$`` is ``$60.000$``,
    ``$45^\\text{th}$`` is ``ke-$45$``, and math that is just a number is there when the
    translation writes the number as text (``16Gb/s`` for ``$16$ Gb/s``).
    """
    for en_unit, en, tr_unit, tr in context.prose:
        # a formula a tool damaged (a doubled backslash) is E005's: one cause, one finding
        damaged = {_loose_key(repaired_tex(m)) for m in tr.math if tex_problem(m, control=False)}
        # and one whose backslashes a tool read as escapes is M005's
        commands = frozenset(name for m in en.math for name in TEX_COMMAND.findall(m))
        damaged |= {
            _loose_key(restored[0])
            for m in tr.math
            if (restored := restored_escapes(m, commands))[1] or LOST_ESCAPE.search(m)
        }
        # "$0$, $1$ and $9/13$" written "$0, 1, 9/13$" is the same math
        parts = {part for m in tr.math for part in _loose_key(m).split(",")}
        translated = {_loose_key(m) for m in tr.math}
        lost = [
            m
            for m in missing(tuple(_loose_key(m) for m in en.math), tuple(_loose_key(m) for m in tr.math))
            if not (m.replace(".", "", 1).isdigit() and _written_as_text(m, tr.plain_text))
            and m not in damaged
            and m not in parts
            # "$t_1,t_2$" written "$t_1$, $t_2$": each value is there
            and not ("," in m and all(part in translated for part in m.split(",")))
        ]
        if lost:
            yield context.finding(
                "E003", tr_unit, f"inline math lost or changed: {', '.join('$' + m + '$' for m in lost[:4])}"
            )


def _loose_key(math: str) -> str:
    """``math_key`` with the punctuation a sentence puts at a formula's end aside: a period
    inside or outside the dollars (``$\\hat\\theta.$``), Turkish's ordinal ``$i.$``."""
    return math_key(math).rstrip(".,;:")


@rule("E005", "math-does-not-typeset", "error")
def math_does_not_typeset(context: CheckContext) -> Iterable[Finding]:
    """Math of the translation that MathJax cannot typeset as meant: braces or
    ``\\begin``/``\\end`` that do not pair up (MathJax stops: "Extra close brace or missing
    open brace"); a command's backslash doubled (``\\\\mathbf``, a row break and the letters
    "mathbf", or a subscript with nothing to take). ``E001``/``E003`` compare formulas without
    their braces, so this is the rule that sees it (ko-partrita adam.md:157, a brace a machine
    translation added; batch-norm.md, doubled backslashes). A ``\\beta`` a tool turned into a
    backspace is ``X006``'s. Math English writes the same way itself is not reported.

    One cause, one finding: where a tool doubled the backslashes of two or more formulas of a
    file, that is one finding for the file, each formula an item (ko-partrita: 33 files, every
    formula). A formula's finding points at the line the formula starts on.
    """
    english = {spaceless_tex(m) for block, _ in context.en.leaves for m in all_math(block)}
    doubled: list[tuple[int, str]] = []
    others: list[tuple[int, str]] = []
    for block, _ in context.tr.leaves:
        for math in all_math(block):
            problem = tex_problem(math, control=False)
            if problem and spaceless_tex(math) not in english:
                line = math_line(block, math)
                text = f"math does not typeset ({problem}): `{math.strip()[:60]}`"
                (doubled if problem.startswith("a doubled backslash") else others).append((line, text))
    if len(doubled) > 1:  # one tool's doing, whatever the count: one finding for the file
        lines = sorted({line for line, _ in doubled})
        shown = ", ".join(map(str, lines[:5])) + (", …" if len(lines) > 5 else "")
        yield context.finding(
            "E005",
            doubled[0][0],
            f"{len(doubled)} formulas with doubled backslashes (`\\\\mathbf` for `\\mathbf`: a tool doubled "
            f"every command's backslash in this file; lines {shown})",
            hint="restore single backslashes in the file's formulas (the site shows English's formulas meanwhile)",
            items=tuple(f"line {line}: {text}" for line, text in doubled),
        )
    else:
        others.extend(doubled)
    for line, text in sorted(others):
        yield context.finding("E005", line, text, hint="compare the formula with English's and restore it")


# "$" that a machine translation turned into the word for dollar, glued to the formula
CURRENCY_WORDS = ("달러", "dollar", "dolar", "đô la", "doları", "dolları")


@rule("E004", "display-math-made-inline", "error")
def display_math_made_inline(context: CheckContext) -> Iterable[Finding]:
    """A formula English writes as display math (``$$…$$`` in the paragraph) is single-dollar
    inline math in the translation: it renders inline, and its ``:eqlabel:`` numbers nothing,
    so references to it break.

    Often a machine translation read one ``$`` as the currency: ``$…$달러`` (ko calculus.md:21).
    A formula with no label that the translation writes inline, with nothing glued to it,
    renders fine: no finding.
    """
    for en_unit, en, tr_unit, tr in context.prose:
        if not en.display_math:
            continue
        shown = {math_key(m) for m in tr.display_math}
        inline = {math_key(m) for m in tr.math} - shown
        labelled = any(r.name == "eqlabel" for r in en.roles)
        for math in en.display_math:
            key = math_key(math)
            if key not in shown and key.rstrip(".,") in {m.rstrip(".,") for m in inline}:
                currency = [w for w in CURRENCY_WORDS if w in tr.plain_text.lower()]
                if not currency and not labelled:
                    continue
                glued = f"; `$` read as a currency ({currency[0]!r} in the text)" if currency else ""
                yield context.finding(
                    "E004",
                    tr_unit,
                    f"display math `$${math.strip()[:50]}$$` of English is inline `$…$` here{glued}",
                    hint="write it as $$…$$ again (and remove the currency word)",
                )


@rule("F001", "figure-path-changed", "error")
def figure_path_changed(context: CheckContext) -> Iterable[Finding]:
    """A figure points at another image than its English counterpart."""
    for en_unit, en, tr_unit, tr in both(context.alignment, Figure):
        if en.path != tr.path:
            yield context.finding(
                "F001", tr_unit, f"image `{tr.path}` but English has `{en.path}`", hint=f"use {en.path}"
            )


@rule("F002", "figure-missing", "error")
def figure_missing(context: CheckContext) -> Iterable[Finding]:
    """A figure of English is missing from the translation.

    When the image is there but inside a paragraph (no blank line before it), the figure
    renders inline, without caption number, and its ``:label:`` names the paragraph: that is
    said, with the image's line.
    """
    inline_images: dict[str, int] = {}
    for block, _ in context.tr.leaves:
        inline = block_inline(block)
        if inline is not None and not isinstance(block, Figure):
            for link in inline.links:
                if link.image:
                    inline_images.setdefault(link.url, link.line)
    for pair, unit, block in only_en(context.alignment, Figure):
        line = inline_images.get(block.path)
        if line is not None:
            yield context.finding(
                "F002",
                line,
                f"figure `{block.path}` of English line {block.span.start} is inside a paragraph here, not a figure of its own",
                hint="put a blank line before the image (and keep :label: on the next line)",
            )
            continue
        yield context.finding(
            "F002",
            anchor_line(context.alignment, pair),
            f"figure `{block.path}` of English line {block.span.start} is missing here",
        )


@rule("F003", "caption-untranslated", "warning", grouped=True)
def caption_untranslated(context: CheckContext) -> Iterable[Finding]:
    """A figure caption is word for word the English caption."""
    for en_unit, en, tr_unit, tr in both(context.alignment, Figure):
        if (
            en.caption.strip()
            and en.caption.strip() == tr.caption.strip()
            and any(c.isalpha() for c in en.caption)
        ):
            yield context.finding("F003", tr_unit, f'caption is still English: "{tr.caption.strip()}"')


@rule("K001", "link-changed", "warning", grouped=True)
def link_changed(context: CheckContext) -> Iterable[Finding]:
    """A link URL of the English block is dropped or changed in its translation. A link an
    edition localised to its own site or repository (``d2l.ai/…`` → ``tr.d2l.ai/…``,
    ``d2l-en`` → ``d2l-tr``) is kept, not changed."""
    for en_unit, en, tr_unit, tr in context.prose:
        wanted = tuple(_site_neutral(link.url) for link in en.links if not link.image)
        have = tuple(_site_neutral(link.url) for link in tr.links if not link.image)
        lost = missing(wanted, have)
        if lost:
            yield context.finding(
                "K001",
                tr_unit,
                f"link(s) dropped or changed: {', '.join(lost)}",
                hint="keep the English URLs (a localised page may be linked beside them)",
            )


@rule("I001", "inline-code-lost", "warning", grouped=True)
def inline_code_lost(context: CheckContext) -> Iterable[Finding]:
    """Inline code spans of the English block are missing from its translation.

    Why: identifiers in backticks are code, not words, and must survive translation. A span
    an edition localised on purpose (``cd …/d2l-en`` → ``cd …/d2l-tr``: its own repository) is
    kept, not lost.
    """
    for en_unit, en, tr_unit, tr in context.prose:
        # in the order English has them: a set would order them by hash, differently each run
        lost = missing(
            tuple(dict.fromkeys(_repository_neutral(c) for c in en.code_spans)),
            tuple(dict.fromkeys(_repository_neutral(c) for c in tr.code_spans)),
        )
        if lost:
            yield context.finding(
                "I001", tr_unit, f"inline code lost: {', '.join('`' + c + '`' for c in lost[:5])}"
            )


EDITION_REPOSITORY = re.compile(r"\bd2l-(?:en|[a-z]{2}(?:-[a-z]+)?)\b")


LOCAL_SITE = re.compile(r"//(?:[a-z]{2}(?:-[a-z]+)?\.)?d2l\.ai\b")


def _site_neutral(url: str) -> str:
    """A URL with the book's site (``d2l.ai``, ``tr.d2l.ai``) and repository names as one."""
    return _repository_neutral(LOCAL_SITE.sub("//d2l.ai", url))


def _repository_neutral(span: str) -> str:
    """A code span with the book's repository name (``d2l-en``, ``d2l-tr``, ``d2l-zh``) as one."""
    return EDITION_REPOSITORY.sub("d2l-*", span)


@rule("I002", "number-lost", "info", grouped=True)
def number_lost(context: CheckContext) -> Iterable[Finding]:
    """Numbers of the English block do not appear in its translation."""
    for en_unit, en, tr_unit, tr in context.prose:
        tr_numbers = set(tr.numbers) | {n.replace(",", ".") for n in tr.numbers}
        lost = sorted(
            {
                n
                for n in en.numbers
                if n not in tr_numbers
                and n.replace(",", ".") not in tr_numbers
                and n.replace(".", ",") not in tr_numbers
            }
        )
        if lost:
            yield context.finding(
                "I002", tr_unit, f"number(s) not found in the translation: {', '.join(lost[:6])}"
            )


@rule("H001", "heading-structure", "warning")
def heading_structure(context: CheckContext) -> Iterable[Finding]:
    """The translation has another number of headings per level than English."""

    def count(chapter_blocks: tuple) -> Counter[int]:  # type: ignore[type-arg]
        return Counter(b.level for b, _ in iter_blocks(chapter_blocks) if isinstance(b, Heading))

    en, tr = count(context.en.blocks), count(context.tr.blocks)
    for level in sorted(set(en) | set(tr)):
        if en[level] != tr[level]:
            yield context.finding(
                "H001", 1, f"{tr[level]} heading(s) of level {level}, English has {en[level]}"
            )


#: a translated heading this many times longer than its English one (and this long) has
#: swallowed the text after it
SWALLOWED_RATIO = 3
SWALLOWED_LENGTH = 60


@rule("H003", "heading-swallowed-text", "error")
def heading_swallowed_text(context: CheckContext) -> Iterable[Finding]:
    """A heading holds the paragraph (or list) English has after it: the line break after
    the heading was lost, so the whole paragraph renders as a heading (ko ``seqrec.md:105``,
    ``## 모델 구현 다음 코드는 …``).

    One cause, one finding: what the aligner then reports missing from the next block (the
    paragraph's inline math, code, numbers, references) is this finding's items. Told by
    length: the heading is over three times English's and over 60 characters, and English
    has prose right after its heading.
    """
    english_after = _prose_after_headings(context.en)
    pairs = list(both(context.alignment, Heading))
    for en_unit, en, tr_unit, tr in pairs:
        if (
            len(tr.text) > SWALLOWED_RATIO * max(len(en.text), 1)
            and len(tr.text) > SWALLOWED_LENGTH
            and en.span.start in english_after
        ):
            following = _next_block_line(context.tr, tr)
            yield context.finding(
                "H003",
                tr_unit,
                f"the heading swallowed the text after it (a lost line break): it renders as one heading of "
                f'{len(tr.text)} characters, English\'s is "{en.text[:60]}"',
                hint="put the heading on its own line and a blank line before the paragraph",
                marks=(following,) if following else (),
            )


def _prose_after_headings(chapter: Chapter) -> set[int]:
    """First lines of the headings of ``chapter`` that a paragraph or list follows."""
    blocks = [b for b, _ in chapter.leaves if not isinstance(b, (Blank, Attributes))]
    return {
        block.span.start
        for block, after in itertools.pairwise(blocks)
        if isinstance(block, Heading) and isinstance(after, (Paragraph, ListBlock))
    }


def _next_block_line(chapter: Chapter, block: Block) -> int:
    later = [
        b.span.start
        for b, _ in chapter.leaves
        if b.span.start > block.span.end and not isinstance(b, (Blank, Attributes))
    ]
    return min(later, default=0)


@rule("H002", "heading-level-changed", "warning")
def heading_level_changed(context: CheckContext) -> Iterable[Finding]:
    """A heading's level differs from its English counterpart."""
    for en_unit, en, tr_unit, tr in both(context.alignment, Heading):
        if en.level != tr.level:
            yield context.finding(
                "H002",
                tr_unit,
                f"heading level {tr.level}, English line {en.span.start} has level {en.level}",
                hint=f"use {'#' * en.level}",
            )
