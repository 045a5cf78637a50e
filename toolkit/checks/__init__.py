"""Drift checks: small rules with a stable code, a name, a severity and a docstring.

A rule is a function ``(CheckContext) -> Iterable[Finding]`` registered with ``@rule``. Its
docstring is its documentation (``toolkit rules`` prints it). Findings are values; the
framework applies suppression comments and ``--select/--ignore`` after the rules ran, so rules
never need to know about either.

Suppression, in the markdown:
- ``<!-- toolkit: ignore C003 -->`` on its own line silences those codes for the next block;
- ``<!-- toolkit: ignore-file P001 -->`` anywhere silences them for the whole file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from toolkit.align import Alignment, Unit
from toolkit.findings import SEVERITIES, Finding, Severity
from toolkit.glossary import Glossary
from toolkit.language import LanguageJudge
from toolkit.model import Blank, Chapter, HtmlBlock, InlineFacts


@dataclass(frozen=True)
class BasisCandidate:
    """How well a translation matches one known English revision."""

    revision: str
    score: float


@dataclass(frozen=True)
class CheckContext:
    """Everything a rule may look at for one translated chapter."""

    alignment: Alignment  # English basis <-> translation
    language: str  # the edition's language code
    edition: str
    chapter: str
    basis: str
    book_labels: frozenset[str] = frozenset()
    staleness: Alignment | None = None  # English basis <-> today's English
    today: str = ""
    basis_candidates: tuple[BasisCandidate, ...] = ()
    detector: LanguageJudge | None = None
    missing_today: bool = False  # today's English has no chapter for this file (by labels or path)
    today_chapter: str = ""  # today's English chapter when its path differs from this file's
    glossary: Glossary | None = None  # the edition's own glossary
    # no English basis at all: ``alignment`` pairs the translation with an empty chapter and
    # only the rules that report the missing basis run (S004)
    no_basis: bool = False

    @property
    def en(self) -> Chapter:
        return self.alignment.en

    @property
    def tr(self) -> Chapter:
        return self.alignment.tr

    @cached_property
    def prose(self) -> tuple[tuple[Unit, InlineFacts, Unit, InlineFacts], ...]:
        """``prose_pairs(self.alignment)``, merged once for every rule that compares prose."""
        from toolkit.checks.pairs import prose_pairs

        return tuple(prose_pairs(self.alignment))

    def finding(self, rule_code: str, unit_or_line: Unit | int, message: str, **extra: Any) -> Finding:
        spec = RULES[rule_code]
        line = unit_or_line if isinstance(unit_or_line, int) else unit_or_line.block.span.start
        return Finding(
            code=spec.code,
            name=spec.name,
            severity=spec.severity,
            path=self.tr.path,
            line=line,
            message=message,
            edition=self.edition,
            chapter=self.chapter,
            **extra,
        )


__all__ = ["SEVERITIES", "Finding", "LanguageJudge", "Severity"]

RuleFunction = Callable[[CheckContext], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    function: RuleFunction = field(repr=False)
    grouped: bool = False  # a mechanical fault: many in one file become one finding

    @property
    def doc(self) -> str:
        return (self.function.__doc__ or "").strip()

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""


RULES: dict[str, Rule] = {}


def rule(
    code: str, name: str, severity: Severity, grouped: bool = False
) -> Callable[[RuleFunction], RuleFunction]:
    """Register a rule. Codes are stable: never reuse or renumber one. ``grouped`` rules report
    a mechanical fault: past ``GROUP_OVER`` in one file they become one finding with the count
    and every place as an item."""

    def register(function: RuleFunction) -> RuleFunction:
        if code in RULES:
            raise ValueError(f"rule code {code} registered twice")
        RULES[code] = Rule(code, name, severity, function, grouped)
        return function

    return register


def declare(code: str, name: str, severity: Severity, doc: str) -> None:
    """Register a code whose findings another rule produces (e.g. parser diagnostics)."""

    def produced_elsewhere(context: CheckContext) -> Iterable[Finding]:
        return ()

    produced_elsewhere.__doc__ = doc
    RULES[code] = Rule(code, name, severity, produced_elsewhere)


def matches(code: str, patterns: Iterable[str]) -> bool:
    """``C`` matches every C rule, ``C00`` C001..C009, ``C001`` itself (ruff-style prefixes)."""
    return any(code.startswith(p) for p in patterns)


def suppressed_codes(chapter: Chapter) -> tuple[set[str], dict[int, set[str]]]:
    """Codes silenced for the whole file, and per line for the block after each comment."""
    whole: set[str] = set()
    by_line: dict[int, set[str]] = {}
    pending: set[str] = set()
    for block, _ in chapter.leaves:
        if isinstance(block, HtmlBlock):
            whole.update(block.suppress_file)
            pending.update(block.suppress)
            continue
        if isinstance(block, Blank):
            continue
        if pending:
            for line in range(block.span.start, block.span.end + 1):
                by_line.setdefault(line, set()).update(pending)
            pending = set()
    return whole, by_line


#: the rules that run for a translation without any English basis (nothing to align with)
NO_BASIS_RULES = frozenset({"S004"})


def run_rules(
    context: CheckContext,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> list[Finding]:
    from toolkit.checks import families  # noqa: F401  (registers the rules)

    select, ignore = tuple(select), tuple(ignore)
    whole, by_line = suppressed_codes(context.tr)
    findings: list[Finding] = []
    for spec in RULES.values():
        if context.no_basis and spec.code not in NO_BASIS_RULES:
            continue
        if ignore and matches(spec.code, ignore):
            continue  # not run at all: --ignore P also saves the language detection
        for found in spec.function(context):
            if select and not matches(found.code, select):
                continue
            if ignore and matches(found.code, ignore):
                continue
            if matches(found.code, whole) or matches(found.code, by_line.get(found.line, ())):
                continue
            findings.append(found)
    findings.sort(key=lambda f: (f.path, f.line, f.code))
    return group_findings(fold_into_swallowing(fold_into_incomplete(findings)))


#: what a chapter that ends early or is no translation of its English lacks, finding by
#: finding: S007 says it once, these are its items
CASCADE = frozenset(
    {"C001", "C006", "E002", "E003", "F002", "H001", "H002", "I001", "K001", "L001", "M006", "R002", "R003", "T003"}
)


#: what the aligner reports lost from the block after a heading that swallowed its
#: paragraph (English's paragraph pairs with that block): H003 says it once
SWALLOWED = frozenset({"E003", "I001", "I002", "K001", "R002", "P001"})


def fold_into_swallowing(findings: list[Finding]) -> list[Finding]:
    """Each H003 finding with the findings its cause made on the next block as its items."""
    swallowing = [f for f in findings if f.code == "H003" and f.marks]
    if not swallowing:
        return findings
    folded: dict[int, list[Finding]] = {}
    for found in findings:
        owner = next(
            (
                i
                for i, h in enumerate(swallowing)
                if (found.code in SWALLOWED and found.line in h.marks)
                # a list glued onto the heading: its bullets show as literal `*`
                or (found.code == "M001" and found.line == h.line)
            ),
            None,
        )
        if owner is not None:
            folded.setdefault(owner, []).append(found)
    merged = {
        id(h): replace(h, items=tuple(f"line {f.line}: {f.code} {f.message}" for f in folded.get(i, [])))
        for i, h in enumerate(swallowing)
    }
    gone = {id(f) for group in folded.values() for f in group}
    return [merged.get(id(f), f) for f in findings if id(f) not in gone]


def fold_into_incomplete(findings: list[Finding]) -> list[Finding]:
    """An S007 finding with the cascade under it as its items: from its line on (the chapter
    ends early there) or the whole file (it is no translation of its English)."""
    whole = next((f for f in findings if f.code == "S007"), None)
    if whole is None:
        return findings
    folded = [f for f in findings if f.code in CASCADE and f.line >= whole.line]
    if not folded:
        return findings
    items = tuple(f"line {f.line}: {f.code} {f.message}" for f in folded)
    merged = replace(whole, message=f"{whole.message}; {len(folded)} finding(s) of what it lacks are its items", items=items)
    return [merged if f is whole else f for f in findings if f not in folded]


GROUP_OVER = 3  # more findings of one kind than this become one


def _merged(found: list[Finding], what: str) -> Finding:
    first = found[0]
    lines = sorted({f.line for f in found})
    shown = ", ".join(map(str, lines[:5])) + (", …" if len(lines) > 5 else "")
    return replace(
        first,
        message=f"{len(found)} × {what} (lines {shown}); first: {first.message}",
        items=tuple(f"line {f.line}: {f.message}" + (f"\n{f.detail}" if f.detail else "") for f in found),
        detail="",
    )


def group_findings(findings: list[Finding]) -> list[Finding]:
    """Findings a maintainer can act on: many findings of one code stacked on one line (a
    missing section: every English block of it anchors at the same place) become one, and so
    do the findings of a ``grouped`` rule in one file. Nothing is lost: each becomes an item."""
    by_line: dict[tuple[str, int], list[Finding]] = {}
    for found in findings:
        by_line.setdefault((found.code, found.line), []).append(found)
    stacked: list[Finding] = []
    for (code, line), group in by_line.items():
        if len(group) > GROUP_OVER:
            stacked.append(_merged(group, f"{RULES[code].name if code in RULES else code} at one place"))
        else:
            stacked.extend(group)
    by_code: dict[str, list[Finding]] = {}
    kept: list[Finding] = []
    for found in stacked:
        spec = RULES.get(found.code)
        if spec is not None and spec.grouped and not found.items:
            by_code.setdefault(found.code, []).append(found)
        else:
            kept.append(found)
    for code, group in by_code.items():
        if len(group) > GROUP_OVER:
            kept.append(_merged(group, RULES[code].name))
        else:
            kept.extend(group)
    kept.sort(key=lambda f: (f.path, f.line, f.code))
    return kept


def with_severity(found: Finding, severity: Severity) -> Finding:
    return replace(found, severity=severity)
