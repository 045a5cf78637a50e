"""Jupyter notebooks to download: one per chapter, language and framework (pure).

Invariants: a notebook holds the chapter as its language shows it — the prose as Markdown
cells (``:begin_tab:`` prose only for its framework), the framework's code cells (its tab and
``#@tab all``) with the outputs ``toolkit run-cells`` stored for that cell — and nothing is
executed here. Written with nbformat (v4), so Jupyter opens them as they are; the same chapter
always gives the same bytes (cells are numbered, not given random ids).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from toolkit.checks.unsafe import active_content
from toolkit.code import ALL_TABS, chapter_frameworks, is_tooling_cell, resolved_tabs, select_branches
from toolkit.model import Attributes, Blank, Block, Chapter, CodeCell, Other, TabBlock, block_inline
from toolkit.site.lower import CellOutputs, PageContext, lower_inline, pointing_at_copies
from toolkit.site.sanitise import sanitise_html

#: output types a notebook may carry: Jupyter renders HTML and runs JavaScript outputs
INERT_MIME_TYPES = ("text/plain", "image/png", "image/jpeg", "image/gif", "text/latex", "text/markdown")


def _inert_output(output: Mapping[str, Any]) -> dict[str, Any] | None:
    """An output without the types Jupyter would render as live HTML or script."""
    kept = dict(output)
    if "data" in kept:
        data = {k: v for k, v in kept["data"].items() if k in INERT_MIME_TYPES}
        if not data:
            return None
        kept["data"] = data
    return kept


def _inert_prose(block: Block, context: PageContext | None = None) -> str:
    """A prose block's Markdown for a notebook cell: d2lbook's roles as the words and numbers
    the page shows (no raw ``:numref:``; no links into the site, which a notebook on a
    reader's disk cannot follow), attribute lines dropped, and the page's sanitiser applied
    where the block holds what could run in Jupyter (the checker's own test, U001)."""
    if isinstance(block, Attributes):
        return ""  # :label: / :width: lines: the page's anchors, nothing a reader reads
    text = block.source
    if context is not None and not isinstance(block, Blank):
        text = lower_inline(text, dataclasses.replace(context, links=False))
    return sanitise_html(text) if active_content(block) else text


def _figure_links(block: Block, text: str, figures: Mapping[str, str]) -> str:
    """``text`` with each of the block's images the site has pointing at the site's copy (the
    page's URL is the notebook's folder too). The page's download link embeds them as cell
    attachments as the reader downloads it (``assets/notebooks.js``), so one copy of each figure
    serves every notebook and page; ``../img/x.svg`` would lead nowhere."""
    return pointing_at_copies(block_inline(block), text, figures, images_only=True)


def _node(**fields: object) -> Any:
    """A notebook node (a dict with attribute access), as nbformat's constructors make them."""
    from nbformat import NotebookNode

    return NotebookNode(**fields)  # type: ignore[no-untyped-call]


def notebook_frameworks(chapter: Chapter, tabs: tuple[str, ...]) -> list[str]:
    """The frameworks the chapter has code for, in the edition's tab order, as d2lbook makes
    its notebooks: the default tab where the chapter has any code, another framework only
    where a cell names it (``#@tab all`` cells alone make no JAX notebook of a chapter whose
    framework code is PyTorch's). d2lbook's set-up cell is no code of the chapter's."""
    return list(chapter_frameworks(chapter, tabs))


def chapter_notebook(
    chapter: Chapter,
    framework: str,
    tabs: tuple[str, ...],
    outputs: Mapping[tuple[int, str], CellOutputs],
    language: str,
    context: PageContext | None = None,
) -> str:
    """The notebook of ``chapter`` for ``framework``. With the page's ``context``, roles read
    as on the page and figures point at the site's copies (embedded as it is downloaded)."""
    import nbformat

    cells: list[Any] = []
    prose: list[str] = []
    figures = context.images if context is not None else {}

    def add(block: Block) -> None:
        prose.append(_figure_links(block, _inert_prose(block, context), figures))

    def flush() -> None:
        text = "".join(prose).strip("\n")
        if text:
            cells.append(_node(cell_type="markdown", metadata=_node(), source=text))
        prose.clear()

    for block in chapter.blocks:
        if isinstance(block, CodeCell) and block.executable and is_tooling_cell(block.code):
            continue  # d2lbook's set-up cell: d2lbook drops it from every notebook
        if isinstance(block, CodeCell) and block.executable:
            cell_tabs = resolved_tabs(block, tabs)
            if ALL_TABS not in cell_tabs and framework not in cell_tabs:
                continue
            flush()
            stored = outputs.get((block.span.start, framework))
            results = (
                [nbformat.from_dict(o) for o in map(_inert_output, stored.outputs) if o]  # type: ignore[no-untyped-call]
                if stored and stored.status != "not-executed"
                else []
            )
            code = select_branches(block.code, framework).strip("\n")  # d2lbook's per-framework code
            cells.append(
                _node(cell_type="code", execution_count=None, metadata=_node(), outputs=results, source=code)
            )
        elif isinstance(block, TabBlock):
            if framework in block.tabs:
                for child in block.children:
                    if not (isinstance(child, Other) and child.kind in ("begin_tab", "end_tab")):
                        add(child)
        elif not isinstance(block, Blank) or prose:
            add(block)
    flush()
    # cells are built as nbformat's new_*_cell build them, without validating each (a fifth of
    # a whole-book build): the tests validate every notebook of a built site. Numbered ids, not
    # random ones: the same chapter always makes the same notebook (reproducible sites;
    # `mkdocs serve` rewrites only changed files)
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index}"
    notebook = nbformat.v4.new_notebook(cells=cells)  # type: ignore[no-untyped-call]
    notebook.metadata.update(
        {
            # the kernel Jupyter starts for it: a notebook without one asks the reader to pick
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
            "d2l": {"framework": framework, "language": language},
        }
    )
    # nbformat.writes validates against the schema on every call (≈10 ms): the v4 JSON writer
    # alone serves
    from nbformat.v4.nbjson import writes

    return str(writes(notebook))  # type: ignore[no-untyped-call]
