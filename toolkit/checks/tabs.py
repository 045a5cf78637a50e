"""Framework tabs: the tab set of each cell and of each ``:begin_tab:`` block."""

from __future__ import annotations

from collections.abc import Iterable

from toolkit.checks import CheckContext, Finding, rule
from toolkit.checks.pairs import anchor_line, both, only_en, only_tr
from toolkit.code import ALL_TABS, describe_tabs, resolved_tabs
from toolkit.model import CodeCell, TabBlock


@rule("T001", "cell-tabs-mismatch", "error")
def cell_tabs_mismatch(context: CheckContext) -> Iterable[Finding]:
    """A cell belongs to other framework tabs than its English counterpart.

    Tabs are resolved per edition: a cell without a ``#@tab`` line belongs to the edition's
    default tab (the first of its ``tabs``), so an untagged MXNet cell in an edition whose
    default is mxnet matches English's explicit ``#@tab mxnet``.
    """
    en_tabs, tr_tabs = context.alignment.en_tabs, context.alignment.tr_tabs
    for en_unit, en, tr_unit, tr in both(context.alignment, CodeCell):
        if not (en.executable and tr.executable):
            continue
        expected, actual = resolved_tabs(en, en_tabs), resolved_tabs(tr, tr_tabs)
        if expected != actual:
            hint = f"make the cell's first line `#@tab {', '.join(sorted(expected))}`"
            if tr.tabs is None:
                hint += (
                    f" (without a #@tab line the cell belongs to this edition's default tab, {tr_tabs[0]})"
                )
            yield context.finding(
                "T001",
                tr_unit,
                f"cell belongs to [{describe_tabs(actual)}] but English line {en.span.start} is [{describe_tabs(expected)}]",
                hint=hint,
            )


@rule("T002", "tab-block-mismatch", "error")
def tab_block_mismatch(context: CheckContext) -> Iterable[Finding]:
    """A ``:begin_tab:`` block names other frameworks than its English counterpart."""
    for en_unit, en, tr_unit, tr in both(context.alignment, TabBlock):
        if set(en.tabs) != set(tr.tabs):
            yield context.finding(
                "T002",
                tr_unit,
                f":begin_tab:`{','.join(tr.tabs)}` but English line {en.span.start} has :begin_tab:`{','.join(en.tabs)}`",
                hint=f"use :begin_tab:`{','.join(en.tabs)}`",
            )


@rule("T003", "tab-block-missing", "error")
def tab_block_missing(context: CheckContext) -> Iterable[Finding]:
    """A ``:begin_tab:`` block of English is missing from the translation, or one is added.

    Why: framework-specific prose then shows for the wrong framework, or not at all.
    """
    for pair, unit, block in only_en(context.alignment, TabBlock):
        yield context.finding(
            "T003",
            anchor_line(context.alignment, pair),
            f":begin_tab:`{','.join(block.tabs)}` block of English line {block.span.start} is missing here",
        )
    for unit, block in only_tr(context.alignment, TabBlock):
        yield context.finding("T003", unit, f":begin_tab:`{','.join(block.tabs)}` block is not in English")


@rule("T004", "unknown-tab", "warning")
def unknown_tab(context: CheckContext) -> Iterable[Finding]:
    """A cell or tab block names a framework that is not in the edition's ``tabs``."""
    known = set(context.alignment.tr_tabs) | {ALL_TABS}
    for block, _ in context.tr.leaves:
        names: tuple[str, ...] = ()
        if isinstance(block, CodeCell) and block.executable:
            names = block.tabs or ()
        elif isinstance(block, TabBlock):
            names = block.tabs
        for name in names:
            if name not in known:
                yield context.finding(
                    "T004",
                    block.span.start,
                    f"tab `{name}` is not one of this edition's tabs ({', '.join(context.alignment.tr_tabs)})",
                    hint="fix the spelling, or add the framework to the edition's tabs",
                )
