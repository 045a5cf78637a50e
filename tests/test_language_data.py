"""A language is data: a sixth edition in a language the project never had (Japanese) is
read from a mirror, checked, exported to PO and published with working search, with an
edition.toml and the language's table in toolkit/languages.toml, no code.

The Japanese chapter is made here from today's English seed chapter with a few blocks put
into Japanese (the project commits no upstream text); its x_origin.md is that English.
"""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import sys
import threading
from pathlib import Path

import polib
import pytest
from conftest import SEED_CHAPTER, SHARED, build_site, make_seed_project, toolkit_command
from mathpages import CHROMIUM, FLAGS

from toolkit.languages import language_table, plural_forms, search_languages

BIN = Path(sys.executable).parent
PAGE = SEED_CHAPTER.removesuffix(".md")
# English block -> its Japanese (each an exact block of today's English seed chapter)
JAPANESE = {
    "# Compilers and Interpreters": "# コンパイラとインタプリタ",
    "## Symbolic Programming": "## シンボリックプログラミング",
    "## Hybrid Programming": "## ハイブリッドプログラミング",
    "## Hybridizing the `Sequential` Class": "## `Sequential` クラスのハイブリダイズ",
}
FIRST_PARAGRAPH = "So far, this book has focused on imperative programming"
FIRST_JAPANESE = (
    "これまで本書では、`print`、`+`、`if` などの文でプログラムの状態を変える命令型プログラミングを"
    "扱ってきました。ネットワークをハイブリダイズすると、シンボリックプログラミングの速さが得られます。"
    "次の簡単な命令型プログラムの例を考えてみましょう。"
)


def toolkit(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return toolkit_command(project, *args, env={"D2L_SHARED": str(SHARED)})


def japanese_edition(tmp_path: Path) -> Path:
    """A seed project with a ``ja`` edition synced from a mirror directory."""
    project = make_seed_project(tmp_path / "project")
    english = (project / "source_en" / "23d7a5ae" / SEED_CHAPTER).read_text("utf-8")
    text = english
    for before, after in JAPANESE.items():
        assert f"\n{before}\n" in f"\n{text}", before
        text = text.replace(f"{before}\n", f"{after}\n", 1)
    start = text.index(FIRST_PARAGRAPH)
    text = text[:start] + FIRST_JAPANESE + text[text.index("\n", start) :]
    mirror = tmp_path / "mirror" / "ja"
    (mirror / PAGE).parent.mkdir(parents=True)
    (mirror / SEED_CHAPTER).write_text(text, "utf-8")
    (mirror / SEED_CHAPTER.replace(".md", "_origin.md")).write_text(english, "utf-8")
    edition = project / "translations" / "ja"
    edition.mkdir()
    (edition / "edition.toml").write_text(
        "\n".join(
            [
                'language = "ja"',
                'name = "日本語 (made-up edition for the tests)"',
                'repository = "example/d2l-ja"',
                f'commit = "{"f" * 40}"',
                'basis = "23d7a5ae"',
                'tabs = ["pytorch", "mxnet", "jax", "tensorflow"]',
                f'mirror = "{mirror}"',
            ]
        )
        + "\n",
        "utf-8",
    )
    synced = toolkit(project, "sync", "--edition", "ja")
    assert synced.returncode == 0, synced.stderr
    return project


def test_the_language_table_holds_every_published_language() -> None:
    table = language_table()
    assert next(iter(table)) == "en" and {"ko", "id", "tr", "vi", "ja"} <= set(table)
    assert plural_forms("tr") == "nplurals=2; plural=(n != 1);" and plural_forms("ja") == "nplurals=1; plural=0;"
    assert search_languages("ja") == ("ja",) and search_languages("id") == ("en",)
    assert plural_forms("xx") == "nplurals=2; plural=(n != 1);"  # gettext's default for a language not in it


@pytest.fixture(scope="module")
def japanese_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp_path = tmp_path_factory.mktemp("ja")
    project = japanese_edition(tmp_path)
    site = tmp_path / "site"
    built = build_site(project, site, "en,ja")
    assert built.returncode == 0, built.stderr[-4000:]
    return project, site


def test_a_japanese_edition_is_checked_and_exported_with_its_plural_forms(japanese_site: tuple[Path, Path]) -> None:
    project, _ = japanese_site
    checked = toolkit(project, "check-alignment", "translations/ja", "--format", "json")
    summary = json.loads(checked.stdout)["summary"]
    assert summary["chapters_checked"] == 1 and [r["basis"] for r in summary["chapters"]] == ["origin"]
    exported = toolkit(project, "po", "export", "--edition", "ja")
    assert exported.returncode == 0, exported.stderr
    catalog = polib.pofile(str(project / "po" / "ja" / SEED_CHAPTER.replace(".md", ".po")))
    assert catalog.metadata["Plural-Forms"] == "nplurals=1; plural=0;" and catalog.metadata["Language"] == "ja"
    assert any(e.msgstr.startswith("コンパイラ") for e in catalog)


def test_a_japanese_edition_is_published_in_its_language(japanese_site: tuple[Path, Path]) -> None:
    _, site = japanese_site
    page = (site / "ja" / PAGE / "index.html").read_text("utf-8")
    assert '<html lang="ja"' in page and "コンパイラとインタプリタ" in page
    assert "このページを編集" in page  # the table's words around the chapter
    index = json.loads((site / "ja" / "search" / "search_index.json").read_text("utf-8"))
    assert index["config"]["lang"] == ["ja"]
    assert all(not d["location"].startswith(("en/", "ja/")) for d in index["docs"])


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.browser
def test_japanese_search_finds_a_word_inside_a_sentence(japanese_site: tuple[Path, Path]) -> None:
    """Japanese writes no spaces between words: the word ハイブリダイズ is found only where the
    index is segmented as Japanese (Material's segmenter, from the table's `search`)."""
    playwright_sync = pytest.importorskip("playwright.sync_api")
    _, site = japanese_site
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    errors: list[str] = []
    try:
        with playwright_sync.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(base + "ja/" + PAGE + "/")
            page.locator("label.md-search__icon, .md-search__input").first.click()
            field = page.locator("input.md-search__input")
            field.fill("ハイブリダイズ")
            field.press("End")  # Material searches on keyup
            page.wait_for_selector(".md-search-result__item", timeout=20000)
            hits = page.eval_on_selector_all(".md-search-result__item a", "links => links.map(a => a.href)")
            browser.close()
    finally:
        server.shutdown()
    assert hits and all(hit.startswith(base + "ja/") for hit in hits), hits
    assert errors == []
