"""Lowering fixtures (tests/fixtures/site/lower.md): d2l markdown in, Material markdown out.

Each case is ``title / . / chapter / . / lowered markdown / .``, lowered as page
``en/chapter_x/page.md`` numbered 3.2, with one label on another page (``sec_other``) and, for
every executable cell, a stored stdout naming the framework and the cell's line.
`pytest --force-regen` rewrites the expected sections (review the diff).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, FixtureRegen
from markdown_it.utils import read_fixture_file

from toolkit.execute.results import ChapterManifest, ResultFormatError
from toolkit.model import Chapter, CodeCell, iter_blocks
from toolkit.parser import parse_chapter
from toolkit.site.lower import (
    EXECUTED_FRAMEWORKS,
    CellOutputs,
    PageContext,
    Target,
    lower_chapter,
    lower_inline,
    number_chapter,
    outputs_from_manifest,
)
from toolkit.site.words import all_words, words_for

FILE = FIXTURES / "site" / "lower.md"
PAGE = "en/chapter_x/page.md"
TABS = ("mxnet", "pytorch", "tensorflow")
OTHER = Target("en/chapter_y/other.md", "sec_other", "section", "4.1", "Other Things")


def context_for(
    text: str, language: str = "en", outputs: dict[tuple[int, str], CellOutputs] | None = None
) -> PageContext:
    chapter = parse_chapter("page.md", text.encode("utf-8"))
    labels = {"sec_other": OTHER, **number_chapter(chapter, PAGE, "3.2")}
    if outputs is None:
        outputs = {
            (block.span.start, fw): CellOutputs(
                "ok",
                (
                    {
                        "output_type": "stream",
                        "name": "stdout",
                        "text": f"{fw} output of line {block.span.start}\n",
                    },
                ),
            )
            for block, _ in iter_blocks(chapter.blocks)
            if isinstance(block, CodeCell) and block.executable
            for fw in EXECUTED_FRAMEWORKS
        }
    # the book says which links lead nowhere on the site; here, the one the fixture uses
    dead = frozenset({"https732293614"})
    # a chapter of the fixtures has code for every framework of TABS (as the book's chapters
    # name them); test_shared_outputs_show_only_the_chapters_frameworks says what else happens
    return PageContext(
        PAGE,
        "3.2",
        TABS,
        words_for(language),
        labels,
        outputs,
        "en/bibliography.md",
        dead_links=dead,
        frameworks=TABS,
    )


def lower(text: str) -> str:
    chapter = parse_chapter("page.md", text.encode("utf-8"))
    return lower_chapter(chapter, context_for(text)).markdown


CASES = [
    pytest.param(line, title, given, expected, id=f"{line}:{title[:50]}")
    for line, title, given, expected in read_fixture_file(FILE)
]


@pytest.mark.parametrize(("line", "title", "given", "expected"), CASES)
def test_lowering_fixture(
    line: int, title: str, given: str, expected: str, fixture_regen: FixtureRegen
) -> None:
    fixture_regen.check(FILE, line, expected, lower(given))


CELL = "# T\n\n```{.python .input}\n#@tab all\nprint(2)\n```\n"


def test_identical_outputs_of_a_shared_cell_are_shown_once() -> None:
    same = {
        (3, fw): CellOutputs("ok", ({"output_type": "stream", "name": "stdout", "text": "2\n"},))
        for fw in EXECUTED_FRAMEWORKS
    }
    chapter = parse_chapter("page.md", CELL.encode())
    lowered = lower_chapter(chapter, context_for(CELL, outputs=same)).markdown
    assert lowered.count("{.text .d2l-output}") == 1 and '=== "' not in lowered


def test_images_errors_and_missing_outputs() -> None:
    outputs = {
        (3, "mxnet"): CellOutputs(
            "ok",
            (
                {
                    "output_type": "display_data",
                    "data": {"image/png": "iVBORw0KGgo=\n", "text/plain": "<Figure>"},
                },
            ),
        ),
        (3, "pytorch"): CellOutputs(
            "error",
            (
                {
                    "output_type": "error",
                    "ename": "NameError",
                    "evalue": "x",
                    "traceback": ["\x1b[31mNameError\x1b[0m: name 'x' is not defined"],
                },
            ),
        ),
        (3, "tensorflow"): CellOutputs("not-executed", (), "code differs from English; not executed"),
    }
    chapter = parse_chapter("page.md", CELL.encode())
    lowered = lower_chapter(chapter, context_for(CELL, outputs=outputs)).markdown
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in lowered
    assert "NameError: name 'x' is not defined" in lowered and "\x1b" not in lowered
    # a cell not executed shows its code alone: why is the maintainers' (the status page)
    assert "Not executed" not in lowered and "code differs from English" not in lowered


def test_an_image_output_that_is_not_base64_never_reaches_the_page() -> None:
    """Outputs can come from another machine's archive: an image payload is written into a
    data: URL attribute, so only base64 text may get there."""
    hostile = 'x" onerror="alert(1)'
    outputs = {
        (3, fw): CellOutputs("ok", ({"output_type": "display_data", "data": {"image/png": hostile}},))
        for fw in EXECUTED_FRAMEWORKS
    }
    chapter = parse_chapter("page.md", CELL.encode())
    lowered = lower_chapter(chapter, context_for(CELL, outputs=outputs)).markdown
    assert "onerror" not in lowered and "data:image/png" not in lowered


def test_remote_images_become_links_the_reader_can_follow_and_their_math_typesets() -> None:
    """gp-intro.md shows two SVGs from another host in one paragraph: offline they are broken,
    and their alt text would show raw TeX. The page never fetches them: each is a link whose
    text is the alt text, Markdown with its math."""
    url = "https://user-images.githubusercontent.com/6753639/206867364-b4707db5.svg"
    text = (
        f"# T\n\n![Contours over $f(x_1)$ with $k(x,x_1) = 0.9$.]({url})\n"
        "![Local, and [bracketed].](../img/a.svg)\n\n"
        f"![A remote figure.]({url})\n:label:`fig_remote`\n"
    )
    lowered = lower_chapter(parse_chapter("page.md", text.encode()), context_for(text)).markdown
    assert f"[Contours over $f(x_1)$ with $k(x,x_1) = 0.9$.]({url}){{.d2l-remote-image}}" in lowered
    assert "![Local, and [bracketed].](../img/a.svg)" in lowered  # a local image stays an image
    assert f"[user-images.githubusercontent.com]({url}){{.d2l-remote-image}}" in lowered
    assert f"]({url})" in lowered and "!\\[" not in lowered and "![Contours" not in lowered
    assert "A remote figure." in lowered and "fig_remote" in lowered


def test_a_page_without_stored_outputs_shows_the_code_alone() -> None:
    chapter = parse_chapter("page.md", CELL.encode())
    lowered = lower_chapter(chapter, context_for(CELL, outputs={})).markdown
    assert "toolkit run-cells" not in lowered and "!!! note" not in lowered
    assert "```" in lowered  # the code is there


@pytest.mark.parametrize(
    ("language", "word"), [("ko", "그림"), ("id", "Gambar"), ("tr", "Şekil"), ("vi", "Hình"), ("en", "Fig.")]
)
def test_figure_references_are_worded_per_language(language: str, word: str) -> None:
    text = "# T\n\n![Cap.](x.svg)\n:label:`fig_x`\n\nSee :numref:`fig_x`.\n"
    chapter = parse_chapter("page.md", text.encode())
    lowered = lower_chapter(chapter, context_for(text, language)).markdown
    assert f"[{word} 3.2.1](#fig_x)" in lowered


def test_every_language_has_every_word() -> None:
    assert set(all_words()) == {"en", "ko", "id", "tr", "vi", "ja"}


def test_roles_inside_code_spans_are_left_alone() -> None:
    context = context_for("# T\n")
    assert (
        lower_inline("write ``:numref:`sec_other` `` to refer", context)
        == "write ``:numref:`sec_other` `` to refer"
    )


def test_outputs_from_a_run_cells_manifest() -> None:
    """The site reads the manifest run-cells writes, through its typed form."""
    written: dict[str, Any] = {
        "edition": "tr",
        "chapter": "x.md",
        "frameworks": {
            "pytorch": {
                "status": "ok",
                "cached": True,
                "device": "gpu",
                "device_detail": "",
                "key": "k",
                "skipped": "",
                "seconds": 1.5,
                "cells": [
                    {
                        "line": 7,
                        "english_line": 5,
                        "index": 0,
                        "sharing": "shared",
                        "status": "ok",
                        "outputs": [{"output_type": "stream", "text": "hi"}],
                        "reason": "",
                    }
                ],
            }
        },
    }
    manifest = ChapterManifest.from_json(written)
    assert manifest.to_json() == written
    assert outputs_from_manifest(manifest)[(7, "pytorch")].outputs[0]["text"] == "hi"
    assert outputs_from_manifest(None) == {}
    # a manifest of another shape (an older toolkit's, or a hand-edited one) is refused whole
    older = {**written, "frameworks": {"pytorch": {**written["frameworks"]["pytorch"], "status": "cached"}}}
    with pytest.raises(ResultFormatError, match="'status' is 'cached'"):
        ChapterManifest.from_json(older)


def test_seed_chapter_lowers_in_every_edition() -> None:
    root = Path(__file__).resolve().parent.parent / "translations"
    for path in sorted(root.glob("*/chapter_computational-performance/hybridize.md")):
        text = path.read_text("utf-8")
        chapter = parse_chapter(str(path), text.encode())
        lowered = lower_chapter(chapter, context_for(text))
        assert lowered.title.startswith("3.2. ")
        assert lowered.unresolved == () and lowered.missing_images == ("../img/computegraph.svg",)
        assert '=== "PyTorch"' in lowered.markdown and '=== "TensorFlow"' in lowered.markdown


def test_an_image_in_the_repository_is_a_markdown_image_mkdocs_can_check() -> None:
    text = "# T\n\n![Cap [a].](../img/x.svg)\n:label:`fig_x`\n:width:`300px`\n"
    chapter = parse_chapter("page.md", text.encode())
    context = context_for(text)
    present = replace(context, outputs={}, images={"../img/x.svg": "../../figures/0123abcd/x.svg"})
    lowered = lower_chapter(chapter, present)
    # the site's one copy of the figure, wherever the chapter's own folder is
    assert '![Cap [a\\].](../../figures/0123abcd/x.svg){ style="width: 300px" }' in lowered.markdown
    assert lowered.missing_images == ()
    inline = "# T\n\nSee ![a](../img/x.svg) and [the file](../img/x.svg#top).\n"
    lowered = lower_chapter(parse_chapter("page.md", inline.encode()), replace(present, outputs={}))
    assert "![a](../../figures/0123abcd/x.svg)" in lowered.markdown
    assert "[the file](../../figures/0123abcd/x.svg#top)" in lowered.markdown


def test_a_framework_without_an_environment_says_why_it_was_not_run() -> None:
    """d2l-zh has a PaddlePaddle tab, which run-cells does not execute."""
    text = "# T\n\n```{.python .input}\n#@tab paddle\nimport paddle\n```\n"
    chapter = parse_chapter("page.md", text.encode())
    context = context_for(text)
    paddle_context = replace(context, tabs=("pytorch", "paddle"), words=words_for("tr"), outputs={})
    lowered = lower_chapter(chapter, paddle_context).markdown
    assert '===! "PaddlePaddle"' in lowered and "run-cells için PaddlePaddle ortamı yok" in lowered


def test_citations_are_author_year_links_to_the_full_reference(tmp_path: Path) -> None:
    from toolkit.site.bibliography import load_bibliography

    bib = tmp_path / "d2l.bib"
    bib.write_text(
        "@inproceedings{Abadi.Barham.Chen.ea.2016,\n  title={Tensor{F}low: A system},\n"
        "  author={Abadi, Mart{\\'\\i}n and Barham, Paul and Chen, Jianmin},\n  booktitle={OSDI},\n"
        "  pages={265--283},\n  year={2016}\n}\n"
        "@article{Cho.Lee.2020,\n  title={Two},\n  author={Cho, K. and Lee, Y.},\n  journal={J},\n  year={2020}\n}\n",
        "utf-8",
    )
    references = load_bibliography(bib)
    assert references["Abadi.Barham.Chen.ea.2016"].short == "Abadi et al., 2016"
    assert references["Cho.Lee.2020"].short == "Cho and Lee, 2020"
    assert (
        "Martín Abadi" in references["Abadi.Barham.Chen.ea.2016"].full
        and "2016" in references["Abadi.Barham.Chen.ea.2016"].full
    )
    text = "# T\n\nAs shown :cite:`Abadi.Barham.Chen.ea.2016,Cho.Lee.2020` and by :citet:`Cho.Lee.2020`.\n"
    chapter = parse_chapter("page.md", text.encode())
    context = replace(context_for(text), citations={k: r.short for k, r in references.items()})
    lowered = lower_chapter(chapter, context).markdown
    assert (
        "([Abadi et al., 2016](../bibliography.md#bib-abadi-barham-chen-ea-2016); [Cho and Lee, 2020]("
        in lowered
    )
    assert "by [Cho and Lee, 2020](../bibliography.md#bib-cho-lee-2020)." in lowered


def test_display_math_inside_a_paragraph_is_typeset_in_display_style() -> None:
    """English writes `$$…$$` inside list items (eigendecomposition's exercises); arithmatex only
    sees `$$` that opens a block, so the page would show raw TeX."""
    text = "# T\n\n1. What are the eigenvalues of\n$$\n\\mathbf{A} = 1?\n$$\n2. Next.\n"
    chapter = parse_chapter("page.md", text.encode())
    lowered = lower_chapter(chapter, context_for(text)).markdown
    assert "$\\displaystyle \\mathbf{A} = 1?$" in lowered and "$$" not in lowered


def test_a_broken_translated_equation_is_published_as_englishs() -> None:
    """Math is the same in every language: a display equation E001 flags (here a brace the
    translation lost) is shown as English's, which typesets; equal ones are kept."""
    english = "# T\n\nText.\n\n$$\\frac{a}{b}$$\n\nMore.\n\n$$x^2$$\n"
    translation = "# T\n\nMetin.\n\n$$\\frac{a}{b$$\n\nDaha.\n\n$$x^2$$\n"
    _fixed, lines, lowered = published_with_english(english, translation)
    assert lines == (5,) and "\\frac{a}{b}" in lowered and "\\frac{a}{b\n" not in lowered
    assert "x^2" in lowered and "Metin." in lowered


def published_with_english(english: str, translation: str) -> tuple[Chapter, tuple[int, ...], str]:
    """The translation with its math mended from English's (``with_english_equations``), the
    lines mended, and the page's markdown."""
    from toolkit.site.lower import with_english_equations

    en = parse_chapter("en.md", english.encode())
    tr = parse_chapter("tr.md", translation.encode())
    fixed, lines = with_english_equations(tr, en, ("mxnet",), ("mxnet",))
    return fixed, lines, lower_chapter(fixed, context_for(translation)).markdown


def test_a_damaged_formula_in_the_prose_is_published_as_englishs() -> None:
    """Formulas in paragraphs that a tool damaged (ko-partrita batch-norm: doubled backslashes,
    ``_\\\\mathcal`` a subscript MathJax cannot take; momentum: ``\\beta`` read as a backspace;
    adam: an added brace; approx-training: escaped brackets and a lost ``\\!``) are shown as the
    same formula of English; a row break English writes itself stays the translation's; a
    damaged formula English does not have is shown as its TeX in code type, never raw."""
    english = (
        "# T\n\nThe mean $\\hat{\\boldsymbol{\\mu}}_\\mathcal{B}$ and $\\beta = 0.25$ here.\n\n"
        "Then $\\mathbf{g}_t^2$ and $\\begin{bmatrix}x_1 \\\\x_2\\end{bmatrix}$.\n\n"
        "- an item with $$\\frac{a}{b}$$ in it\n\nIf $x$ is true, $[\\![x]\\!] = 1$.\n"
    )
    translation = (
        "# T\n\n평균 $\\\\hat{\\\\boldsymbol{\\\\mu}}_\\\\mathcal{B}$ 과 $\beta = 0.25$ 입니다.\n\n"
        "그리고 $\\mathbf{g}_t^2}$ 와 $\\begin{bmatrix}x_1 \\\\x_2\\end{bmatrix}$, 새 식 $y^{2$.\n\n"
        "- 항목 $$\\\\frac{a}{b}$$ 입니다\n\n$x$가 참이면 $[\\[x\\]] = 1$.\n"
    )
    _fixed, lines, lowered = published_with_english(english, translation)
    assert lines == (3, 5, 7, 9)
    assert "평균 $\\hat{\\boldsymbol{\\mu}}_\\mathcal{B}$ 과 $\\beta = 0.25$ 입니다." in lowered
    assert "그리고 $\\mathbf{g}_t^2$ 와 $\\begin{bmatrix}x_1 \\\\x_2\\end{bmatrix}$" in lowered
    assert "새 식 ` y^{2 `." in lowered  # no English twin: the page's banner tells the reader
    assert "$\\displaystyle \\frac{a}{b}$" in lowered and "\b" not in lowered
    assert "참이면 $[\\![x]\\!] = 1$." in lowered


def test_a_display_formula_that_lost_its_closing_dollars_or_has_blank_lines_is_published_whole() -> None:
    """ko-partrita anchor.md lost the closing ``$$`` of an English equation (the paragraph goes
    on with the slide mark's ``**]`` and prose): the equation is English's, the prose after it
    a paragraph of its own. gp-inference.md has blank lines inside ``$$…$$``, which end
    arithmatex's block: the published equation has none."""
    english = "# T\n\n$$\nx\n\\sim\ny\n$$\n\nWe label\n\n$$\\left( a,\nb\\right),$$\n**]\nwhere $c = 0$.\n"
    translation = "# T\n\n$$\nx\n\n\n\\sim\n\ny\n$$\n\n라벨링\n\n$$\\left( a,\nb\\right),\n**]\n여기서 $c = 0$ 입니다.\n"
    fixed, lines, lowered = published_with_english(english, translation)
    assert lines == (14,)
    assert [type(b).__name__ for b in fixed.blocks[6:]] == ["Equation", "Paragraph"]
    assert fixed.blocks[7].span.start == 16  # the prose keeps its lines in the file
    assert "$$\n\\left( a,\nb\\right),\n$$\n\n**]\n여기서 $c = 0$ 입니다." in lowered
    assert "$$\nx\n\\sim\ny\n$$" in lowered


def test_a_formula_only_a_tool_damaged_is_published_repaired_where_english_has_no_twin() -> None:
    """ko-partrita geometry-linear-algebraic-ops.md's exercises: matrices with doubled
    backslashes that English writes otherwise, in a list item (whose source indents the
    formula's lines) and as a display equation. Undoing the doubling is certain and enough:
    they are published repaired, not as MathJax's "Misplaced &" or raw TeX."""
    english = "# T\n\n1. What is the angle?\n2. What is the area?\n"
    translation = (
        "# T\n\n1. 각도는?\n   $$ \n   \\\\vec v = \\begin{bmatrix}\n   1 \\\\ 0\n   \\end{bmatrix}?\n   $$ \n\n"
        "$$\n\\\\begin{bmatrix} 2 & 3\\\\ 1 & 2 \\end{bmatrix}.\n$$\n"
    )
    _fixed, lines, lowered = published_with_english(english, translation)
    assert lines == (3, 10)
    assert "\\\\vec" not in lowered and "\\\\begin" not in lowered
    assert (
        "\\vec v = \\begin{bmatrix}" in lowered
        and "\\begin{bmatrix} 2 & 3\\\\ 1 & 2 \\end{bmatrix}." in lowered
    )


def test_an_equation_labelled_on_its_closing_line_is_numbered_and_the_prose_after_it_stays_prose() -> None:
    """id linear-algebra.md closes an equation with ``$$:eqlabel:`eq_matrix_def```: the page
    has the numbered equation and its anchor, and the code and prose after it are theirs."""
    text = "# T\n\n$$\nA = 1.\n$$:eqlabel:`eq_matrix_def`\n\nDalam kode, $x$.\n\n$$\nB\n$$\n"
    lowered = lower_chapter(parse_chapter("tr.md", text.encode()), context_for(text)).markdown
    assert '<a id="eq_matrix_def"></a>\n\n$$\nA = 1.\\tag{' in lowered
    assert "\n\nDalam kode, $x$." in lowered and "$$\nB\n$$" in lowered


def test_inline_math_is_written_as_arithmatex_reads_it() -> None:
    """Formulas the parser reads as math but arithmatex would leave as text: spaces inside the
    dollars (vi optimization-intro ``$ d! $``, introduction ``$100\\% $``, tr statistics
    ``$\\hat{\\theta}_n $``) are trimmed; a ``\\textrm`` whose ``\\t`` a tool read as a tab
    (ko-partrita similarity-analogy) is restored. Prose between two prices stays as written."""
    english = "# T\n\nAt least $d!$ solutions.\n"  # English's own formula: trimmed all the same
    translation = (
        "# T\n\nít nhất $ d! $ các, $100\\% $ thời gian, $\\hat{\\theta}_n $ ve $\textrm{vec}(w)$.\n\n"
        "Kiếm $ mỗi lần bán $ và $ 5 dolar $.\n\nObserve that $$ V = \\sum_a x $$ for all.\n"
    )
    _fixed, lines, lowered = published_with_english(english, translation)
    assert "ít nhất $d!$ các, $100\\%$ thời gian, $\\hat{\\theta}_n$ ve $\\textrm{vec}(w)$." in lowered
    assert "Kiếm $ mỗi lần bán $ và $ 5 dolar $." in lowered and lines == (3,)
    assert "Observe that $\\displaystyle V = \\sum_a x$ for all." in lowered  # display math: not trimmed


def test_notebooks_are_made_as_d2lbook_makes_them() -> None:
    """A notebook per framework the chapter names (the default tab wherever there is code):
    `#@tab all` cells alone make no JAX or TensorFlow notebook, and d2lbook's set-up cell is
    in none of them."""
    import json

    from toolkit.site.notebooks import chapter_notebook, notebook_frameworks

    text = (
        "```{.python .input}\n%load_ext d2lbook.tab\ntab.interact_select(['pytorch', 'mxnet'])\n```\n\n"
        "# Title\n\n```{.python .input}\n#@tab all\nx = 1\n```\n\n"
        "```{.python .input}\n#@tab mxnet\nfrom mxnet import np\n```\n\n"
        "```{.python .input}\nimport torch\n```\n"
    )
    chapter = parse_chapter("t.md", text.encode("utf-8"))
    tabs = ("pytorch", "mxnet", "jax", "tensorflow")
    assert notebook_frameworks(chapter, tabs) == ["pytorch", "mxnet"]
    only_shared = parse_chapter("t.md", b"# Title\n\n```{.python .input}\n#@tab all\nx = 1\n```\n")
    assert notebook_frameworks(only_shared, tabs) == ["pytorch"]
    notebook = json.loads(chapter_notebook(chapter, "pytorch", tabs, {}, "en"))
    code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code == ["x = 1", "import torch"]


def test_a_findings_message_reads_on_the_status_page_as_written() -> None:
    """Entities inside a Markdown code span show literally (`&#92;&#92;mathbf` on the page):
    the message's code spans become <code> with its characters as entities, and nothing in
    it is read as a table cell's end, emphasis, math or HTML."""
    import markdown

    from toolkit.site.book import table_text

    message = "math does not typeset: `\\\\mathbf{x} | $a$` near post_sig_est**2 <b>x</b>"
    cell = table_text(message)
    html = markdown.markdown(f"| a |\n|---|\n| {cell} |\n", extensions=["tables"])
    assert "<code>\\\\mathbf{x} | $a$</code>" in html.replace("&#92;", "\\").replace("&#124;", "|").replace(
        "&#36;", "$"
    )
    assert "<em>" not in html and "<strong>" not in html and "<b>" not in html and html.count("<td>") == 1
    assert "&amp;#92;" not in html


def test_shared_outputs_show_only_the_chapters_frameworks_and_never_merge_with_the_next_tabs() -> None:
    """13.1 on d2l.ai: a shared cell's outputs per framework (only those the chapter has code
    for: no JAX tab in a chapter without JAX code), then the chapter's framework cells, are two
    tab sets; written one after the other they must not merge into one bar of 7 tabs."""
    text = (
        "# T\n\n```{.python .input}\n#@tab all\nprint(2)\n```\n\n"
        "```{.python .input}\n#@tab mxnet\nx = 1\n```\n\n```{.python .input}\n#@tab pytorch\nx = 1\n```\n"
    )
    chapter = parse_chapter("page.md", text.encode())
    outputs = {
        (3, fw): CellOutputs("ok", ({"output_type": "stream", "name": "stdout", "text": f"{fw}\n"},))
        for fw in EXECUTED_FRAMEWORKS
    }
    context = replace(
        context_for(text, outputs=outputs), tabs=("pytorch", "mxnet", "jax", "tensorflow"), frameworks=()
    )
    lowered = lower_chapter(chapter, context).markdown
    sets = [line for line in lowered.splitlines() if line.startswith("===")]
    assert sets == ['===! "PyTorch"', '=== "MXNet"', '===! "PyTorch"', '=== "MXNet"']


def test_a_notebook_points_at_the_sites_figures_and_reads_roles_as_the_page() -> None:
    """A notebook's figures are the site's one copy of each (the download link embeds them:
    test_site_browser), never `../img/…`; references read as the page's words and numbers,
    with no raw d2lbook markup and no link into the site."""
    import json

    from toolkit.site.notebooks import chapter_notebook

    text = (
        "# T\n\nSee :numref:`fig_graph`.\n\n![Data flow.](../img/graph.svg)\n:label:`fig_graph`\n\n"
        "```{.python .input}\nx = 1\n```\n"
    )
    chapter = parse_chapter("page.md", text.encode())
    context = replace(context_for(text), images={"../img/graph.svg": "../../figures/0123abcd/graph.svg"})
    notebook = json.loads(chapter_notebook(chapter, "mxnet", TABS, {}, "en", context))
    markdown = [c for c in notebook["cells"] if c["cell_type"] == "markdown"]
    source = "".join("".join(c["source"]) for c in markdown)
    assert "Fig. 3.2.1" in source and ":numref:" not in source and ":label:" not in source
    assert (
        "](../../figures/0123abcd/graph.svg)" in source
        and "../img/" not in source
        and "#fig_graph" not in source
    )
    assert not any(c.get("attachments") for c in markdown)  # one copy on the site, embedded on download
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
