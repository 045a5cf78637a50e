"""Labels and references: :label:, :eqlabel:, :numref:, :ref:, :eqref:, :cite:."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from toolkit.checks import CheckContext, Finding, rule
from toolkit.checks.pairs import both, missing, only_en
from toolkit.model import (
    CITATION_ROLES,
    DEFINING_ROLES,
    REFERENCE_ROLES,
    Attributes,
    Chapter,
    Equation,
    Role,
    is_label,
)


def chapter_roles(chapter: Chapter) -> tuple[Role, ...]:
    return chapter.roles


def defined_labels(chapter: Chapter) -> set[str]:
    return {r.target for r in chapter_roles(chapter) if r.name in DEFINING_ROLES}


def lost_equation_labels(context: CheckContext) -> set[str]:
    """The labels of English's display equations the translation lost whole: E002 reports
    each lost equation once, with its label and the references to it."""
    lost = [block for _, _, block in only_en(context.alignment, Equation)]
    return {
        role.target
        for role in chapter_roles(context.en)
        if role.name == "eqlabel" and any(b.span.start <= role.line <= b.span.end + 1 for b in lost)
    }


def references_to(chapter: Chapter, label: str) -> list[str]:
    """``line N: :eqref:`x``` for every reference to ``label`` in ``chapter``."""
    return [
        f"line {role.line}: :{role.name}:`{role.target}` leads nowhere"
        for role in chapter_roles(chapter)
        if role.name in REFERENCE_ROLES and role.target == label
    ]


@rule("L001", "label-missing", "error")
def label_missing(context: CheckContext) -> Iterable[Finding]:
    """A label (or equation label) English defines is not defined in the translation.

    Why: every :numref:/:eqref: to it, in this chapter or another, breaks in this language.
    One cause, one finding: the chapter's references to the label are its items (not each an
    R003), and the label of an equation lost whole is E002's.
    """
    tr_labels = defined_labels(context.tr)
    renamed = {en.target for en, _ in _renamed(context)}
    equations = lost_equation_labels(context)
    for role in chapter_roles(context.en):
        if (
            role.name in DEFINING_ROLES
            and role.target not in tr_labels
            and role.target not in renamed
            and role.target not in equations
        ):
            references = references_to(context.tr, role.target)
            leads = f"; {len(references)} reference(s) to it here lead nowhere" if references else ""
            yield context.finding(
                "L001",
                _nearest_tr_line(context, role.line),
                f":{role.name}:`{role.target}` (English line {role.line}) is not defined in the translation{leads}",
                hint="labels are never translated: copy the English :label: line",
                items=tuple(references),
            )


def _renamed(context: CheckContext) -> list[tuple[Role, Role]]:
    out: list[tuple[Role, Role]] = []
    tr_labels = defined_labels(context.tr)
    en_labels = defined_labels(context.en)
    for _, en, _, tr in both(context.alignment, Attributes):
        for en_role, tr_role in zip(en.roles, tr.roles, strict=False):
            if (
                en_role.name == tr_role.name
                and en_role.name in DEFINING_ROLES
                and en_role.target != tr_role.target
                and en_role.target not in tr_labels
                and tr_role.target not in en_labels
                and _kind_of(en_role.target) == _kind_of(tr_role.target)
            ):
                out.append((en_role, tr_role))
    return out


def _kind_of(label: str) -> str:
    """``sec``, ``fig``, ``eq``, ``tab`` …: a section label renamed to a figure label is two
    unrelated labels the aligner paired, not a rename."""
    return label.split("_", 1)[0] if "_" in label else ""


def _nearest_tr_line(context: CheckContext, en_line: int) -> int:
    best = 1
    for pair in context.alignment.pairs:
        if pair.en is not None and pair.tr is not None and pair.en.block.span.start <= en_line:
            best = pair.tr.block.span.start
    return best


@rule("L002", "label-renamed", "error")
def label_renamed(context: CheckContext) -> Iterable[Finding]:
    """A label sits where English has one, under another name.

    Why: references use the English name; the renamed label is unreachable.
    """
    for en_role, tr_role in _renamed(context):
        yield context.finding(
            "L002",
            tr_role.line,
            f":{tr_role.name}:`{tr_role.target}` should be `{en_role.target}` as in English line {en_role.line}",
            hint=f"rename it back to {en_role.target}",
        )


@rule("L003", "label-duplicated", "error")
def label_duplicated(context: CheckContext) -> Iterable[Finding]:
    """The same label is defined twice in the translated chapter."""
    counts = Counter(r.target for r in chapter_roles(context.tr) if r.name in DEFINING_ROLES)
    seen: set[str] = set()
    for role in chapter_roles(context.tr):
        if role.name in DEFINING_ROLES and counts[role.target] > 1:
            if role.target in seen:
                yield context.finding("L003", role.line, f"label `{role.target}` is defined again here")
            seen.add(role.target)


@rule("L004", "label-extra", "warning")
def label_extra(context: CheckContext) -> Iterable[Finding]:
    """The translation defines a label English does not have."""
    en_labels = defined_labels(context.en)
    renamed = {tr.target for _, tr in _renamed(context)}
    for role in chapter_roles(context.tr):
        if role.name in DEFINING_ROLES and role.target not in en_labels and role.target not in renamed:
            yield context.finding("L004", role.line, f"label `{role.target}` is not in English")


@rule("L005", "label-invalid", "error")
def label_invalid(context: CheckContext) -> Iterable[Finding]:
    """A ``:label:`` or ``:eqlabel:`` holds characters outside d2lbook's label alphabet
    (letters, digits, ``_``, ``-``, ``+``, ``.``).

    Why: a label becomes an HTML id and a link's fragment on the site; quotes, spaces or
    ``<`` there could break out of the attribute. The site publishes no such label (the
    heading or figure gets no anchor, references to it stay unresolved).
    Example: ``:label:`sec_x"><script>…``.
    Fix: use the English label.
    """
    for role in chapter_roles(context.tr):
        if role.name in DEFINING_ROLES and not is_label(role.target):
            yield context.finding(
                "L005",
                role.line,
                f"label {role.target[:60]!r} is not a label (letters, digits, _ - + . only): the site drops it",
                hint="use the English label",
            )


@rule("R001", "reference-unresolved", "error")
def reference_unresolved(context: CheckContext) -> Iterable[Finding]:
    """A :numref:, :ref: or :eqref: points at a label defined nowhere in the chapter or book.

    References English itself makes to chapters this project does not hold are not reported:
    only targets the translation introduced.
    """
    known = defined_labels(context.tr) | set(context.book_labels)
    english_refs = {r.target for r in chapter_roles(context.en) if r.name in REFERENCE_ROLES}
    for role in chapter_roles(context.tr):
        if role.name in REFERENCE_ROLES and role.target not in known and role.target not in english_refs:
            yield context.finding(
                "R001",
                role.line,
                f":{role.name}:`{role.target}` points at no label in this chapter or book",
                hint="check the spelling against the English label",
            )


@rule("R003", "reference-dangling", "error")
def reference_dangling(context: CheckContext) -> Iterable[Finding]:
    """A reference points at a label English defines in this chapter under the name English
    gives it, where the translation renamed the label (a label lost whole is L001's, and E002's
    for an equation, with every reference to it as an item).

    Example: vi ``random-variables.md``: ``:eqref:`eq_cor_def``` after its ``:eqlabel:`` was dropped.
    """
    here = defined_labels(context.tr)
    # a label the translation lost is L001's (or E002's) with its references as items: only a
    # label the translation renamed leaves references to the old name for this rule
    renamed = {en.target for en, _ in _renamed(context)}
    for role in chapter_roles(context.tr):
        if role.name in REFERENCE_ROLES and role.target in renamed and role.target not in here:
            yield context.finding(
                "R003",
                role.line,
                f":{role.name}:`{role.target}` leads nowhere: English defines it in this chapter, the translation lost it",
                hint=f"restore the label `{role.target}` where English has it",
            )


@rule("R002", "reference-dropped", "warning")
def reference_dropped(context: CheckContext) -> Iterable[Finding]:
    """A reference or citation of the English block is missing from its translation."""
    for en_unit, en, tr_unit, tr in context.prose:
        wanted = tuple(
            f":{r.name}:`{r.target}`" for r in en.roles if r.name in REFERENCE_ROLES | CITATION_ROLES
        )
        have = tuple(
            f":{r.name}:`{r.target}`" for r in tr.roles if r.name in REFERENCE_ROLES | CITATION_ROLES
        )
        lost = missing(wanted, have)
        # citet/cite swaps are a stylistic choice in some languages, not a loss
        lost = [
            x
            for x in lost
            if x.replace(":citet:", ":cite:") not in {h.replace(":citet:", ":cite:") for h in have}
        ]
        if lost:
            yield context.finding(
                "R002",
                tr_unit,
                f"{', '.join(lost)} of English line {en_unit.block.span.start} is missing here",
                hint="keep references and citations as they are in English",
            )
