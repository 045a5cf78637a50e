"""The real MkDocs build of the project's site (`mkdocs build --strict`), and the book model.

The build runs once per session into a temporary directory, after `toolkit run-cells` (cached
after the first run) so the pages carry real outputs.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

from toolkit.config import ConfigError, load_editions, load_lock, load_project
from toolkit.site.book import SiteOptions, build_book, chapter_numbers, page_url, pick_edition
from toolkit.site.search import split_index
from toolkit.site.words import words_for

BIN = Path(sys.executable).parent
LANGUAGES = ("en", "ko", "id", "tr", "vi")
CHAPTER = "chapter_computational-performance/hybridize"
PAGES_PER_LANGUAGE = {
    "",
    f"{CHAPTER}/",
    "status/",
    "status/chapter_computational-performance/",
    "bibliography/",
}


def pages_of(site: Path, language: str) -> set[str]:
    root = site / language
    return {
        str(p.parent.relative_to(root)) + "/" if p.parent != root else "" for p in root.rglob("index.html")
    }


def test_every_language_has_exactly_its_pages(built_site: tuple[Path, str]) -> None:
    site, _ = built_site
    for language in LANGUAGES:
        assert pages_of(site, language) == PAGES_PER_LANGUAGE, language
    assert {p.name for p in site.iterdir() if p.is_dir()} >= set(LANGUAGES)
    assert (site / "index.html").is_file()  # the root sends readers to their language


def test_chapter_pages_carry_tabs_outputs_and_numbered_references(built_site: tuple[Path, str]) -> None:
    site, _ = built_site
    words = {"en": "Fig.", "ko": "그림", "id": "Gambar", "tr": "Şekil", "vi": "Hình"}
    for language, word in words.items():
        page = (site / language / CHAPTER / "index.html").read_text("utf-8")
        assert f'href="#fig_compute_graph">{word} 13.1.1</a>' in page, language
        assert 'id="fig_compute_graph"' in page
        for title in ("MXNet", "PyTorch", "TensorFlow"):
            assert f">{title}</label>" in page
        assert 'class="language-text highlight d2l-output"' in page or "d2l-output" in page
        # ../img/computegraph.svg is not in the seed project: the reader sees the caption only
        assert "d2l-missing-image" not in page and "not in this repository" not in page
        assert 'class="d2l-figure"' in page and "<figcaption>" in page
    english = (site / "en" / CHAPTER / "index.html").read_text("utf-8")
    assert english.count("Eager Mode:") >= 1  # TensorFlow's own benchmark output, executed


def test_every_chapter_credits_its_translators_and_links_to_its_file(built_site: tuple[Path, str]) -> None:
    site, _ = built_site
    vietnamese = (site / "vi" / CHAPTER / "index.html").read_text("utf-8")
    assert (
        'href="https://github.com/d2l-ai/d2l-vi/edit/main/chapter_computational-performance/hybridize.md"'
        in vietnamese
    )
    assert "d2l-ai/d2l-vi</a>" in vietnamese and "CC BY-SA 4.0" in vietnamese
    english = (site / "en" / CHAPTER / "index.html").read_text("utf-8")
    assert (
        "https://github.com/d2l-ai/d2l-en/edit/master/chapter_computational-performance/hybridize.md"
        in english
    )
    assert 'data-md-color-scheme="slate"' in english  # the dark palette (toggle in the header)


def test_the_theme_speaks_the_page_language(built_site: tuple[Path, str]) -> None:
    site, _ = built_site
    for language, search in {
        "en": "Search",
        "ko": "검색",
        "id": "Cari",
        "tr": "Ara",
        "vi": "Tìm kiếm",
    }.items():
        page = (site / language / CHAPTER / "index.html").read_text("utf-8")
        assert f'<html lang="{language}"' in page
        # the header and the <title> name the book in the page's language
        title = words_for(language).landing_title
        assert "<title>13.1. " in page and f" - {title}</title>" in page, language
        assert re.search(r'md-header__topic">\s*<span class="md-ellipsis">\s*' + re.escape(title), page)
        assert f'placeholder="{search}"' in page


def test_math_is_served_locally(built_site: tuple[Path, str]) -> None:
    site, _ = built_site
    assert (site / "assets/mathjax/startup.js").is_file() and (
        site / "assets/mathjax/core.js"
    ).stat().st_size > 100_000
    assert any((site / "assets/mathjax/output/chtml/fonts/woff-v2").glob("*.woff"))
    page = (site / "en" / CHAPTER / "index.html").read_text("utf-8")
    scripts = re.findall(r'<script src="([^"]+)"', page)
    # the configuration loads the site's own MathJax, on pages with math only
    assert any(s.endswith("assets/mathjax-config.js") for s in scripts)
    assert '"mathjax/startup.js"' in (site / "assets/mathjax-config.js").read_text("utf-8")
    assert not [s for s in scripts if s.startswith(("http:", "https:", "//"))]


def test_the_site_root_is_a_small_redirect(built_site: tuple[Path, str]) -> None:
    site, _ = built_site
    root = (site / "index.html").read_text("utf-8")
    assert len(root.encode()) < 4000 and "md-nav" not in root
    assert 'href="en/"' in root and "location.replace" in root


def test_language_switcher_leads_to_the_same_chapter(built_site: tuple[Path, str]) -> None:
    site, _ = built_site
    page = (site / "ko" / CHAPTER / "index.html").read_text("utf-8")
    links = dict(re.findall(r'<a href="([^"]+)" hreflang="([a-z]+)"', page))
    assert {lang: href for href, lang in links.items()} == {
        lang: "./" if lang == "ko" else f"../../../{lang}/{CHAPTER}/" for lang in LANGUAGES
    }


def test_search_index_per_language(built_site: tuple[Path, str]) -> None:
    site, _ = built_site
    for language in LANGUAGES:
        index = json.loads((site / language / "search" / "search_index.json").read_text("utf-8"))
        assert index["docs"] and not any(
            d["location"].startswith(tuple(f"{x}/" for x in LANGUAGES)) for d in index["docs"]
        )
    korean = json.loads((site / "ko" / "search" / "search_index.json").read_text("utf-8"))
    assert korean["config"]["lang"] == ["ko"] and any("하이브리드" in d["text"] for d in korean["docs"])
    # no page asks for the whole site's index (every language's pages, tens of MB): not published
    assert not (site / "search" / "search_index.json").exists()
    missing = (site / "404.html").read_text("utf-8")
    assert '+ "en" + "/"' in missing  # the 404 page searches the English index


def test_status_pages_show_drift_and_the_execution_matrix(built_site: tuple[Path, str]) -> None:
    site, _ = built_site
    # vi is based on fd6224a0 (2021): English changed 8 blocks since
    status = (site / "vi" / "status" / "index.html").read_text("utf-8")
    assert "Tình trạng dịch" in status and "PyTorch" in status
    # one column, a symbol per framework the edition has (no JAX in v0.17), words in a tooltip
    assert 'title="PyTorch: ok (cpu)">PT&nbsp;✓</span>' in status and "cached" not in status
    assert 'title="JAX' not in status and "✓ đã chạy" in status
    assert (
        'href="chapter_computational-performance/#status-chapter-computational-performance-hybridize"'
        in status
    )
    part = (site / "vi" / "status" / "chapter_computational-performance" / "index.html").read_text("utf-8")
    assert 'id="status-chapter-computational-performance-hybridize"' in part and "S001" in part
    assert "S001" not in status  # the overview counts; each part's page lists the findings
    chapter = (site / "vi" / CHAPTER / "index.html").read_text("utf-8")
    assert (
        "Một số phần của bản dịch này" in chapter
    )  # the banner: one sentence, the counts on the status page
    assert (
        "../../status/chapter_computational-performance/#status-chapter-computational-performance-hybridize"
        in chapter
    )
    partrita = (site / "ko" / CHAPTER / "index.html").read_text("utf-8")
    assert "#status-" not in partrita  # nothing stale, no banner


def test_a_missing_image_is_named_once(built_site: tuple[Path, str]) -> None:
    _, log = built_site
    assert log.count("computegraph.svg") == 1
    assert "WARNING  -" not in log


def test_split_index_keeps_one_language_and_rebases_locations() -> None:
    data = {
        "config": {"lang": ["en"], "pipeline": ["stopWordFilter"]},
        "docs": [
            {"location": "ko/a/", "text": "x"},
            {"location": "en/a/", "text": "y"},
            {"location": "", "text": "z"},
        ],
    }
    assert split_index(data, "ko") == {
        "config": {"lang": ["ko"], "pipeline": ["stopWordFilter"]},
        "docs": [{"location": "a/", "text": "x"}],
    }
    assert split_index(data, "id")["config"] == {"lang": ["en"], "pipeline": ["stopWordFilter"]}


def test_page_urls_and_numbers() -> None:
    assert page_url("ko/index.md") == "ko/" and page_url("ko/a/b.md") == "ko/a/b/"
    numbers = chapter_numbers(
        ["c_a/index.md", "c_a/x.md", "c_a/y.md", "c_b/z.md"], SiteOptions(chapter_numbers={"c_b": 7})
    )
    assert numbers == {"c_b/z.md": "7.1", "c_a/index.md": "8", "c_a/x.md": "8.1", "c_a/y.md": "8.2"}


def test_two_korean_editions_need_an_explicit_choice() -> None:
    """A new edition of a language never replaces the published one by itself."""
    config = load_project(ROOT)
    lock = load_lock(config.source_dir / "LOCK.toml")
    editions = load_editions(config)
    with pytest.raises(ConfigError, match=r"2 editions of 'ko' \(ko, ko-partrita\).*editions: \{ko: ko\}"):
        pick_edition("ko", editions, lock, SiteOptions())
    chosen = pick_edition("ko", editions, lock, SiteOptions(editions={"ko": "ko-partrita"}))
    assert chosen is not None and chosen.id == "ko-partrita"
    assert pick_edition("tr", editions, lock, SiteOptions()) is not None  # one edition: no choice needed
    picked = pick_edition("ko", editions, lock, SiteOptions(editions={"ko": "ko"}))
    assert picked is not None and picked.id == "ko"


def test_a_chapter_an_edition_lacks_falls_back_to_english_with_a_banner(project: Path) -> None:
    (project / "translations" / "vi" / f"{CHAPTER}.md").unlink()
    book = build_book(load_project(project), SiteOptions(languages=("en", "vi")))
    vietnamese = next(s for s in book.languages if s.language == "vi")
    page = next(p for p in vietnamese.pages if p.kind == "chapter")
    assert page.fallback and "Chương này chưa được dịch" in page.markdown
    assert page.title == "1.1. Compilers and Interpreters"  # today's English (no chapter_numbers given)


def test_no_broken_link_or_anchor_on_the_site(built_site: tuple[Path, str]) -> None:
    from crawl import broken_links

    site, _ = built_site
    assert broken_links(site) == []


def test_each_chapter_has_a_notebook_per_framework_with_its_language_and_outputs(
    built_site: tuple[Path, str],
) -> None:
    import nbformat

    site, _ = built_site
    page = (site / "tr" / CHAPTER / "index.html").read_text("utf-8")
    assert 'href="../hybridize.pytorch.ipynb"' in page and "Jupyter" in page
    notebook = nbformat.read(  # type: ignore[no-untyped-call]
        site / "tr" / "chapter_computational-performance/hybridize.pytorch.ipynb", as_version=4
    )
    nbformat.validate(notebook)
    # cells are built without per-cell validation: every notebook of the site is validated here
    published = sorted(site.rglob("*.ipynb"))
    assert len(published) >= 15
    for path in published:
        nbformat.validate(nbformat.read(path, as_version=4))  # type: ignore[no-untyped-call]
    markdown = "".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert "Derleyiciler" in markdown  # the Turkish text
    assert code and all("from mxnet" not in c.source for c in code)  # PyTorch's cells only
    assert any(c.outputs for c in code)  # the outputs run-cells stored
    assert notebook.metadata["d2l"] == {"framework": "pytorch", "language": "tr"}
    assert notebook.metadata["kernelspec"]["name"] == "python3"  # Jupyter starts it without asking
    # the page's words for references, no d2lbook markup, no link into the site
    assert not any(role in markdown for role in (":label:", ":numref:", ":eqref:", ":cite:", ":width:"))
    assert "Şekil" in markdown  # :numref:`fig_compute_graph` reads "Şekil 13.1.1" as on the page
    # (figures travel inside it: test_a_notebook_carries_its_figures; the seed has no img/)


def test_a_chapter_with_errors_carries_one_quiet_true_sentence(project: Path) -> None:
    """A reader gets one sentence that is true whatever the findings are, and the link to the
    status page that counts them: no alarm, no numbers on the page (the site repairs what it
    can, so a page with findings rarely looks broken)."""
    chapter = project / "translations" / "tr" / f"{CHAPTER.rstrip('/')}.md"
    text = chapter.read_text("utf-8")
    start = text.index("```{.python .input}")
    chapter.write_text(
        text[:start] + text[text.index("```\n", start + 3) + 4 :], "utf-8"
    )  # a lost cell: C001
    book = build_book(load_project(project), SiteOptions(languages=("en", "tr")))
    turkish = next(s for s in book.languages if s.language == "tr")
    page = next(p for p in turkish.pages if p.kind == "chapter")
    banner = page.markdown.split("\n\n", 2)[:2]
    assert banner[0] == '!!! note "Çeviri durumu"' and "bazı bölümleri" in banner[1]
    assert "status/chapter_computational-performance.md#status-" in banner[1] and not any(
        ch.isdigit() for ch in banner[1].split("](")[0]
    )
    assert page.markdown.count('!!! note "Çeviri durumu"') == 1
    untouched = next(
        p for p in next(s for s in book.languages if s.language == "en").pages if p.kind == "chapter"
    )
    assert "Çeviri durumu" not in untouched.markdown and "!!! danger" not in untouched.markdown


def test_a_rebuild_with_the_book_cache_publishes_what_a_fresh_build_does(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mkdocs serve` keeps a BookCache between builds: after an edit only the edited chapter
    is lowered again, and the book is the one a fresh build makes."""
    import toolkit.site.book as book_module
    from toolkit.site.book import BookCache

    lowered: list[str] = []
    real_lower = book_module.lower_chapter  # type: ignore[attr-defined]  # the name book.py calls

    def counting_lower(parsed: Any, context: Any) -> Any:
        lowered.append(context.page)
        return real_lower(parsed, context)

    monkeypatch.setattr(book_module, "lower_chapter", counting_lower)
    config = load_project(project)
    options = SiteOptions(languages=LANGUAGES, editions={"ko": "ko-partrita"})
    cache = BookCache(config.root)
    build_book(config, options, cache)
    assert len(lowered) == len(LANGUAGES)
    lowered.clear()
    assert build_book(config, options, cache) == build_book(config, options)  # nothing changed
    assert lowered == [f"{language}/{CHAPTER}.md" for language in LANGUAGES]  # only the fresh build
    lowered.clear()

    chapter = project / "translations" / "ko-partrita" / f"{CHAPTER}.md"
    chapter.write_text(chapter.read_text("utf-8") + "\n\nA paragraph added while serving.\n", "utf-8")
    cached = build_book(config, options, cache)
    assert lowered == [f"ko/{CHAPTER}.md"]
    assert cached == build_book(config, options)
    korean = next(s for s in cached.languages if s.language == "ko")
    assert "A paragraph added while serving." in next(p for p in korean.pages if p.kind == "chapter").markdown


def test_each_language_has_a_folding_vocabulary_for_its_search(built_site: tuple[Path, str]) -> None:
    from toolkit.site.search import fold

    site, _ = built_site
    turkish = json.loads((site / "tr" / "search" / "folding.json").read_text("utf-8"))
    assert "öğrenme" in turkish["ogrenme"]
    assert fold("Öğrenme") == "ogrenme" and fold("hồi") == "hoi" and fold("ılık") == "ilik"
    korean = json.loads((site / "ko" / "search" / "folding.json").read_text("utf-8"))
    assert all(key.isascii() for key in korean)  # only words with diacritics, none of Hangul


@pytest.mark.kernels
@pytest.mark.parametrize("framework", ["mxnet", "pytorch", "tensorflow"])
def test_a_downloaded_notebook_runs_in_its_framework_from_a_scratch_directory(
    built_site: tuple[Path, str], framework: str, tmp_path: Path
) -> None:
    """What a reader does: download the chapter's notebook for one framework, open it in a
    fresh folder with that framework and d2l installed (here: the framework's environment and
    the book's own d2l library of today's English on its path, as `pip install d2l==1.0.3`
    gives), and run every cell. Nothing of the site, the book or d2lbook is beside it."""
    import shutil

    import nbformat
    from nbclient import NotebookClient

    from toolkit.execute.environments import find_environment

    environment = find_environment(framework)
    if not environment.ready:
        pytest.fail(f"{framework} environment not ready: {environment.reason} (run `make setup`)")
    site, _ = built_site
    scratch = tmp_path / "downloads"
    scratch.mkdir()
    notebook_file = scratch / f"hybridize.{framework}.ipynb"
    shutil.copy(site / "en" / f"{CHAPTER}.{framework}.ipynb", notebook_file)
    notebook = nbformat.read(notebook_file, as_version=4)  # type: ignore[no-untyped-call]
    nbformat.validate(notebook)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "d2lbook" not in code and "tab.selected" not in code  # d2lbook resolved, per framework
    assert f"from d2l import {'torch' if framework == 'pytorch' else framework} as d2l" in code
    library = tmp_path / "site-packages"
    today = load_lock(ROOT / "source_en" / "LOCK.toml").today.id
    shutil.copytree(ROOT / "source_en" / today / "d2l", library / "d2l")
    kernels = tmp_path / "jupyter" / "kernels" / "reader"
    kernels.mkdir(parents=True)
    kernel_env = environment.kernel_env(threads=2)
    kernel_env["PYTHONPATH"] = str(library)
    (kernels / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(environment.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": f"reader's {framework}",
                "language": "python",
                "env": kernel_env,
            }
        ),
        "utf-8",
    )
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    manager = AsyncKernelManager(
        kernel_name="reader", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels.parent)])
    )
    client = NotebookClient(notebook, km=manager, timeout=600, resources={"metadata": {"path": str(scratch)}})
    client.execute()  # raises CellExecutionError at the first cell that fails
    ran = [c for c in notebook.cells if c.cell_type == "code"]
    assert ran and all(c.get("execution_count") for c in ran)
    assert not any(o.get("output_type") == "error" for c in ran for o in c.outputs)
