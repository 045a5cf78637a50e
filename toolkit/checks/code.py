"""Code cells: missing, extra, changed, moved; ``#@save`` cells exactly."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from toolkit.align import Unit
from toolkit.checks import CheckContext, Finding, rule
from toolkit.checks.pairs import anchor_line, both, only_en, only_tr
from toolkit.code import (
    changed_literals,
    describe_tabs,
    is_cell_magic,
    is_magic_line,
    is_tooling_cell,
    normalise_code,
    resolved_tabs,
    saved_code,
)
from toolkit.model import Block, CodeCell, iter_blocks


def code_diff(en: str, tr: str) -> str:
    """The differing lines, comments and docstrings aside; when those hide the difference
    (``\"\"\"doc\"\"\"; payload`` on one line), the raw lines: a reviewer always sees what changed."""
    for ours, theirs in ((saved_code(en), saved_code(tr)), (en, tr)):
        lines = difflib.unified_diff(
            ours.splitlines(), theirs.splitlines(), "english", "translation", lineterm="", n=1
        )
        shown = "\n".join(list(lines)[2:])
        if shown:
            return shown
    return ""


@rule("C001", "code-cell-missing", "error")
def code_cell_missing(context: CheckContext) -> Iterable[Finding]:
    """An executable cell of the English basis has no counterpart in the translation.

    Why: readers of the translation miss code that later cells depend on, and the chapter
    cannot share the English outputs.
    Example: English has a ``#@tab tensorflow`` cell the translation dropped.
    """
    for pair, unit, cell in only_en(context.alignment, CodeCell):
        if cell.executable and not is_tooling_cell(cell.code):
            tabs = describe_tabs(resolved_tabs(cell, context.alignment.en_tabs))
            yield context.finding(
                "C001",
                anchor_line(context.alignment, pair),
                f"code cell [{tabs}] of English line {cell.span.start} is missing here",
                hint="copy the cell from the English source (comments may be translated)",
            )


@rule("C002", "code-cell-extra", "error")
def code_cell_extra(context: CheckContext) -> Iterable[Finding]:
    """An executable cell of the translation has no counterpart in the English basis.

    Why: translated files come from outside contributors; code English does not have is never
    reviewed upstream and is not executed by run-cells without --trust-translations.
    """
    for unit, cell in only_tr(context.alignment, CodeCell):
        if cell.executable and not is_tooling_cell(cell.code):
            tabs = describe_tabs(resolved_tabs(cell, context.alignment.tr_tabs))
            yield context.finding("C002", unit, f"code cell [{tabs}] is not in the English source")


@rule("C003", "code-cell-changed", "error")
def code_cell_changed(context: CheckContext) -> Iterable[Finding]:
    """A cell's code differs from English beyond comments, docstrings and formatting.

    Why: outputs are shared across languages, so the translation must run the English code.
    Translated comments (``# Factory for networks``) and docstrings are not drift.
    """
    newer: frozenset[str] | None = None  # computed on the first changed cell only: costly
    for en_unit, en, tr_unit, tr in changed_cells(context):
        if changed_literals(en.code, tr.code) or is_tooling_cell(en.code):
            continue  # C006's: only string literals differ; d2lbook's set-up cell is not the book's code
        newer = newer_english_code(context) if newer is None else newer
        if follows_newer_english(en, tr, newer):
            continue  # S006's: the cell is today's English code (a mixed basis)
        broken = syntax_error(tr.code) if syntax_error(en.code) is None else None
        if broken is not None:  # the cause, where the code no longer even parses
            line, what = broken
            yield context.finding(
                "C003",
                tr.body_line + line - 1 if tr.body_line else tr_unit.block.span.start,
                f"code of English line {en.span.start} no longer runs: {what}",
                hint="restore the English code's indentation and syntax; translate only comments and docstrings",
                detail=code_diff(en.code, tr.code),
            )
            continue
        yield context.finding(
            "C003",
            tr_unit,
            f"code differs from English line {en.span.start} (beyond comments and docstrings)",
            hint="restore the English code; translate only comments and docstrings",
            detail=code_diff(en.code, tr.code),
        )


def syntax_error(code: str) -> tuple[int, str] | None:
    """Where and why Python cannot read the cell (``IndentationError: unexpected indent`` at
    its line 3), IPython's ``!``/``%`` lines read as statements; None when it parses."""
    if is_cell_magic(code):
        return None
    lines = [
        (line[: len(line) - len(line.lstrip())] + "pass") if is_magic_line(line) else line
        for line in code.split("\n")
    ]
    try:
        compile("\n".join(lines), "<cell>", "exec", dont_inherit=True)
    except SyntaxError as error:
        return error.lineno or 1, f"{type(error).__name__} at its line {error.lineno or 1} ({error.msg})"
    except (ValueError, OverflowError, RecursionError, MemoryError):
        return None
    return None


def changed_cells(context: CheckContext) -> Iterator[tuple[Unit, CodeCell, Unit, CodeCell]]:
    """Aligned executable cells whose code differs from English (comments and docstrings aside)."""
    for en_unit, en, tr_unit, tr in both(context.alignment, CodeCell):
        if en.executable and tr.executable and normalise_code(en.code) != normalise_code(tr.code):
            yield en_unit, en, tr_unit, tr


def newer_english_code(context: CheckContext) -> frozenset[str]:
    """Code lines (comments aside, stripped) of today's English cells that the basis's cells
    do not have: what a translation shows when someone updated its code from newer English."""
    if context.staleness is None:
        return frozenset()

    def lines(chapter_blocks: tuple[Block, ...]) -> set[str]:
        return {
            line.strip()
            for b, _ in iter_blocks(chapter_blocks)
            if isinstance(b, CodeCell) and b.executable
            for line in saved_code(b.code).splitlines()
            if line.strip()
        }

    return frozenset(lines(context.staleness.tr.blocks) - lines(context.staleness.en.blocks))


def follows_newer_english(en: CodeCell, tr: CodeCell, newer: frozenset[str]) -> bool:
    """Every line the translated cell has and its English cell lacks is today's English."""
    theirs = {line.strip() for line in saved_code(en.code).splitlines()}
    added = {line.strip() for line in saved_code(tr.code).splitlines() if line.strip()} - theirs
    return bool(added) and added <= newer


@rule("S006", "mixed-basis", "warning")
def mixed_basis(context: CheckContext) -> Iterable[Finding]:
    """Code cells of the translation match a newer English than its declared basis: someone
    updated the code (not the words) from today's English. One finding per chapter.

    Why: the file's basis (``x_origin.md``) no longer says what it was translated from; the
    staleness report is then partly wrong. Update the prose too and move the basis forward.
    Example: ko ``chapter_optimization/minibatch-sgd.md`` has today's ``/ 2`` in ``train_ch11``.
    """
    changed = [(en, tr) for en_unit, en, tr_unit, tr in changed_cells(context)]
    newer = newer_english_code(context) if changed else frozenset()
    lines = [tr.span.start for en, tr in changed if follows_newer_english(en, tr, newer)]
    if lines:
        yield context.finding(
            "S006",
            lines[0],
            f"{len(lines)} code cell(s) match today's English ({context.today}), not the basis {context.basis}: "
            f"lines {', '.join(map(str, lines[:8]))}",
            hint="the basis file is older than the code: update the prose and the basis together",
            items=tuple(f"line {line}: code is today's English" for line in lines),
        )


@rule("C006", "string-literal-changed", "warning")
def string_literal_changed(context: CheckContext) -> Iterable[Finding]:
    """A cell differs from English only in string literals (a translated plot label, legend
    or message): the code does the same, its printed output differs.

    Why: outputs are shared across editions, so the page shows English's output under a cell
    that prints other words; a literal can also matter to the code (a file name, a key), so
    look at each.
    Example: ``print(f'epoch {epoch + 1}, loss {l:f}')`` -> ``print(f'donem {epoch + 1}, kayip {l:f}')``.
    """
    for en_unit, en, tr_unit, tr in changed_cells(context):
        literals = changed_literals(en.code, tr.code)
        if literals:
            shown = "; ".join(f"{a!r} -> {b!r}" for a, b in literals[:3])
            more = f" and {len(literals) - 3} more" if len(literals) > 3 else ""
            yield context.finding(
                "C006",
                tr_unit,
                f"only string literals differ from English line {en.span.start}: {shown}{more}",
                hint="keep English literals where the output or the code depends on them",
                detail=code_diff(en.code, tr.code),
            )


@rule("C004", "saved-cell-changed", "warning")
def saved_cell_changed(context: CheckContext) -> Iterable[Finding]:
    """A ``#@save`` cell is not line-for-line the English one (comments and docstrings aside),
    though its code is the same (C003 reports a code change).

    Why: ``#@save`` cells are saved into the d2l library; even formatting changes make the
    library differ between languages. A warning: the code still does the same.
    """
    for en_unit, en, tr_unit, tr in both(context.alignment, CodeCell):
        if not (en.save and tr.executable):
            continue
        if normalise_code(en.code) != normalise_code(tr.code):
            continue  # C003 already says so
        if saved_code(en.code) != saved_code(tr.code):
            yield context.finding(
                "C004",
                tr_unit,
                f"#@save cell differs in layout from English line {en.span.start}",
                hint="#@save cells must match English exactly; only comments and docstrings may be translated",
                detail=code_diff(en.code, tr.code),
            )


@rule("C005", "code-cell-moved", "warning")
def code_cell_moved(context: CheckContext) -> Iterable[Finding]:
    """A cell exists in both versions but at another place in the sequence.

    Why: cells run in order in one kernel; a moved cell may use names defined later.
    """
    for pair in context.alignment.pairs:
        if pair.moved and pair.tr is not None and pair.en is not None and isinstance(pair.tr.block, CodeCell):
            yield context.finding(
                "C005", pair.tr, f"code cell moved: English has it at line {pair.en.block.span.start}"
            )
