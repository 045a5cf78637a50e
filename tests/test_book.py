"""The whole book: editions read from their repositories (git or a mirror) with a lock of
hashes, local edits kept, one basis per file, chapters mapped across English structures by
their labels, and findings a maintainer can act on, measured on all of ../shared/book.
"""

from __future__ import annotations

import json
import posixpath
import re
import statistics
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import ROOT, SHARED, build_site, make_seed_project, toolkit_command

from toolkit.checker import project_jobs
from toolkit.config import load_project

BIN = Path(sys.executable).parent
BOOK = SHARED / "book"


def toolkit(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return toolkit_command(project, *args, env=env)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


CHAPTER_EN = "# Bir Bölüm\n:label:`sec_xx_test`\n\nBirinci paragraf.\n\n```{.python .input}\nprint(1)\n```\n"
ORIGIN_EN = (
    "# A Section\n:label:`sec_xx_test`\n\nThe first paragraph.\n\n```{.python .input}\nprint(1)\n```\n"
)


def edition_repository(path: Path) -> str:
    """A made-up edition's repository: one chapter with its x_origin.md, config.ini."""
    path.mkdir(parents=True)
    git(path, "init", "--quiet", "--initial-branch=main")
    (path / "config.ini").write_text("[build]\ntabs = mxnet, pytorch, tensorflow\n", "utf-8")
    (path / "index.md").write_text("# Kitap\n", "utf-8")
    chapter = path / "chapter_xx"
    chapter.mkdir()
    (chapter / "test.md").write_text(CHAPTER_EN, "utf-8")
    (chapter / "test_origin.md").write_text(ORIGIN_EN, "utf-8")
    git(path, "add", ".")
    git(path, "commit", "--quiet", "-m", "first")
    return git(path, "rev-parse", "HEAD")


def add_edition(project: Path, name: str, commit: str, **source: str) -> None:
    lines = [
        'language = "tr"',
        f'name = "Made-up edition {name}"',
        f'repository = "example/d2l-{name}"',
        f'commit = "{commit}"',
        'basis = "fd6224a0"',
        'tabs = ["mxnet", "pytorch", "tensorflow"]',
        *(f'{key} = "{value}"' for key, value in source.items()),
    ]
    (project / "translations" / name).mkdir(parents=True)
    (project / "translations" / name / "edition.toml").write_text("\n".join(lines) + "\n", "utf-8")


def test_an_edition_is_fetched_with_git_locked_and_local_edits_survive(tmp_path: Path) -> None:
    repository = tmp_path / "upstream"
    first = edition_repository(repository)
    project = make_seed_project(tmp_path / "project")
    add_edition(project, "xx", first, url=str(repository))
    env = {"TOOLKIT_REPO_DIR": str(tmp_path / "repos"), "D2L_SHARED": str(SHARED)}

    synced = toolkit(project, "sync", "--edition", "xx", env=env)
    assert synced.returncode == 0, synced.stderr
    assert f"xx: git {repository} -> translations/xx: 4 copied, 0 unchanged, lock written" in synced.stdout
    chapter = project / "translations/xx/chapter_xx/test.md"
    assert chapter.read_text("utf-8") == CHAPTER_EN
    lock = (project / "translations/xx/files.lock").read_text("utf-8")
    assert f"# commit {first}" in lock and "chapter_xx/test.md\t" in lock

    # a translator edits the chapter: a re-run of set-up keeps it and says so
    chapter.write_text(CHAPTER_EN.replace("Birinci", "İlk"), "utf-8")
    again = toolkit(project, "sync", "--edition", "xx", env=env)
    assert again.returncode == 0 and "chapter_xx/test.md: local change kept" in again.stdout
    assert "İlk paragraf" in chapter.read_text("utf-8")
    status = toolkit(project, "status", "--edition", "xx", env=env)
    assert "translations/xx/chapter_xx/test.md: local change" in status.stdout, status.stdout + status.stderr

    # upstream moves on; the pin moves with it: without --update-lock the lock refuses
    (repository / "index.md").write_text("# Kitap (yeni)\n", "utf-8")
    (repository / "chapter_xx" / "test.md").write_text(CHAPTER_EN + "\nYeni paragraf.\n", "utf-8")
    git(repository, "commit", "--quiet", "-am", "second")
    second = git(repository, "rev-parse", "HEAD")
    edition_toml = project / "translations/xx/edition.toml"
    edition_toml.write_text(edition_toml.read_text("utf-8").replace(first, second), "utf-8")
    refused = toolkit(project, "sync", "--edition", "xx", env=env)
    assert refused.returncode == 2 and "is not what" in refused.stderr and "--update-lock" in refused.stderr
    renewed = toolkit(project, "sync", "--edition", "xx", "--update-lock", env=env)
    assert renewed.returncode == 0, renewed.stderr
    assert (project / "translations/xx/index.md").read_text(
        "utf-8"
    ) == "# Kitap (yeni)\n"  # pristine: follows
    assert "İlk paragraf" in chapter.read_text("utf-8")  # edited: kept
    assert f"# commit {second}" in (project / "translations/xx/files.lock").read_text("utf-8")

    # a commit that is not there is an error, not a half-synced edition
    edition_toml.write_text(edition_toml.read_text("utf-8").replace(second, "0" * 40), "utf-8")
    missing = toolkit(project, "sync", "--edition", "xx", env=env)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_a_sixth_edition_is_one_config_entry_plus_set_up(tmp_path: Path) -> None:
    """A made-up edition in a mirror directory: one edition.toml, `toolkit sync`, and every
    command sees it, with its file's basis from its x_origin.md."""
    mirror = tmp_path / "mirror" / "xx"
    (mirror / "chapter_xx").mkdir(parents=True)
    (mirror / "chapter_xx" / "test.md").write_text(CHAPTER_EN.replace("print(1)", "print(2)"), "utf-8")
    (mirror / "chapter_xx" / "test_origin.md").write_text(ORIGIN_EN, "utf-8")
    project = make_seed_project(tmp_path / "project")
    add_edition(project, "xx", "f" * 40, mirror=str(mirror))
    synced = toolkit(project, "sync", "--edition", "xx", env={"D2L_SHARED": str(SHARED)})
    assert synced.returncode == 0, synced.stderr
    assert f"xx: mirror {mirror} -> translations/xx: 2 copied, 0 unchanged, lock written" in synced.stdout
    checked = toolkit(project, "check-alignment", "translations/xx", "--format", "json")
    data = json.loads(checked.stdout)
    assert data["summary"]["chapters_checked"] == 1
    assert [row["basis"] for row in data["summary"]["chapters"]] == ["origin"]
    assert "C003" in {f["code"] for f in data["findings"]}  # print(2) where its English has print(1)
    status = toolkit(project, "status", "--edition", "xx", "--format", "json")
    assert json.loads(status.stdout)["editions"]["xx"]["translated"] > 0


# ---------------------------------------------------------------- the whole book (../shared/book)


@pytest.fixture(scope="module")
def book_report() -> dict[str, object]:
    """check-alignment over the whole book in the checkout (set up by `make setup`/`make test`)."""
    if not (ROOT / "translations/ko/files.lock").is_file() or not (BOOK / "en").is_dir():
        pytest.skip("the whole book is not set up (run `toolkit sync`)")
    result = toolkit(ROOT, "check-alignment", "--format", "json")
    assert result.returncode in (0, 1), result.stderr[-2000:]
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


@pytest.mark.book
def test_every_chapter_of_every_edition_is_checked(book_report: dict[str, object]) -> None:
    summary = book_report["summary"]
    assert isinstance(summary, dict)
    per_edition = {row["edition"]: row["chapters"] for row in summary["editions"]}
    assert per_edition == {"id": 192, "ko": 168, "ko-partrita": 192, "tr": 168, "vi": 167}


@pytest.mark.book
def test_findings_are_grouped_so_a_maintainer_can_read_them(book_report: dict[str, object]) -> None:
    summary, findings = book_report["summary"], book_report["findings"]
    assert isinstance(summary, dict) and isinstance(findings, list)
    per_chapter = [row["error"] + row["warning"] + row["info"] for row in summary["chapters"]]
    assert statistics.median(per_chapter) <= 10
    # one staleness finding per chapter, never stacked findings of one code on one line
    stale = Counter((f["path"]) for f in findings if f["code"] == "S001")
    assert stale and max(stale.values()) == 1
    stacked = Counter((f["path"], f["line"], f["code"]) for f in findings)
    assert max(stacked.values()) <= 3
    grouped = [f for f in findings if f["items"]]
    assert grouped and all(len(f["items"]) >= 1 for f in grouped)


@pytest.mark.book
def test_the_readmes_findings_per_chapter_are_the_whole_books(book_report: dict[str, object]) -> None:
    """The README states the median and the most findings per chapter; this keeps it true."""
    summary = book_report["summary"]
    assert isinstance(summary, dict)
    stated = re.search(
        r"median of (\d+)\s+findings per chapter and at most (\d+)", (ROOT / "README.md").read_text()
    )
    assert stated, "README.md: the sentence with the findings per chapter is gone"
    measured = summary["per_chapter"]
    assert (int(stated[1]), int(stated[2])) == (measured["median"], measured["most"]), measured


# where the page's role scanner and the parser read a block differently, and why (each a
# damaged file the checker reports); any other disagreement fails the test below
KNOWN_DISAGREEMENTS = {
    # `$1/\\|\\mathbf{w}\\|$\\$`: doubled backslashes (E005) leave a `$` open, so the parser
    # reads the role after it as math and the page as a role
    (
        "translations/ko-partrita/chapter_appendix-mathematics-for-deep-learning/geometry-linear-algebraic-ops.md",
        196,
    ),
}


@pytest.mark.book
def test_every_role_of_the_whole_book_is_read_alike_by_the_parser_and_the_page() -> None:
    """One grammar: for every prose block of every file (English and every edition), the roles
    the site lowers are the roles the parser (and so the checker) saw, name and target, in
    order: a caption's :citet:, ``:numref:``x`` ``, a role beside a code span."""
    from toolkit.model import block_inline
    from toolkit.parser import parse_chapter
    from toolkit.site.lower import page_roles

    files = sorted([*ROOT.glob("source_en/*/chapter_*/*.md"), *ROOT.glob("translations/*/chapter_*/*.md")])
    if len(files) < 1000:
        pytest.skip("the whole book is not set up (run `toolkit sync`)")
    disagreements = set()
    blocks = 0
    for path in files:
        chapter = parse_chapter(str(path), path.read_bytes())
        for block, _ in chapter.leaves:
            inline = block_inline(block)
            if inline is None:
                continue
            blocks += 1
            parsed = [(role.name, role.target.strip()) for role in inline.roles]
            if parsed != page_roles(block.source):
                disagreements.add((path.relative_to(ROOT).as_posix(), block.span.start))
    assert blocks > 50_000
    assert disagreements == KNOWN_DISAGREEMENTS


@pytest.mark.book
def test_chapters_map_to_todays_english_by_their_labels() -> None:
    if not (ROOT / "translations/ko/files.lock").is_file():
        pytest.skip("the whole book is not set up (run `toolkit sync`)")
    jobs, _, _ = project_jobs(load_project(ROOT))
    by_file = {(job.edition, job.chapter): job for job in jobs}
    ko = by_file[("ko", "chapter_linear-networks/linear-regression.md")]
    assert ko.basis is not None and ko.basis.name == "linear-regression_origin.md"
    assert ko.today is not None and ko.today.relative_to(ROOT / "source_en/23d7a5ae").as_posix() == (
        "chapter_linear-regression/linear-regression.md"
    )
    builders = by_file[("tr", "chapter_deep-learning-computation/model-construction.md")]
    assert builders.today is not None and builders.today.parent.name == "chapter_builders-guide"
    fork = by_file[("id", "chapter_preliminaries/ndarray.md")]
    assert fork.basis_id == "23d7a5ae" and fork.today == fork.basis


@pytest.mark.book
def test_mixed_basis_and_chapters_english_dropped_are_named(book_report: dict[str, object]) -> None:
    findings = book_report["findings"]
    assert isinstance(findings, list)
    codes = {(f["path"], f["code"]) for f in findings}
    for chapter in ("chapter_optimization/minibatch-sgd.md", "chapter_computer-vision/fine-tuning.md"):
        assert (f"translations/ko/{chapter}", "S006") in codes
        assert (f"translations/ko/{chapter}", "C003") not in codes
    assert any(code == "S005" for _, code in codes)  # a v0.17 chapter English no longer has


@pytest.mark.book
def test_a_v017_edition_is_not_stale_for_frameworks_it_does_not_have(book_report: dict[str, object]) -> None:
    """Today's English has a jax tab; the v0.17 editions do not: no item mentions jax cells."""
    findings = book_report["findings"]
    assert isinstance(findings, list)
    items = [
        i for f in findings if f["code"] == "S001" and f["edition"] in ("ko", "tr", "vi") for i in f["items"]
    ]
    assert items and not [i for i in items if "#@tab jax" in i or ":begin_tab:`jax`" in i]


@pytest.mark.book
def test_the_books_order_and_numbers_come_from_its_toc_blocks() -> None:
    from toolkit.book.toc import book_toc
    from toolkit.parser import parse_chapter

    english = ROOT / "source_en/23d7a5ae"
    if not (english / "index.md").is_file():
        pytest.skip("the whole book is not set up (run `toolkit sync`)")

    def parse(path: Path):  # type: ignore[no-untyped-def]
        return parse_chapter(str(path), path.read_bytes())

    toc = book_toc(english, parse)
    numbers = {entry.chapter: entry.number for entry in toc}
    assert len(toc) == 191  # every section of today's English
    assert numbers["chapter_computational-performance/hybridize.md"] == "13.1"  # as on d2l.ai
    assert numbers["chapter_computational-performance/hardware.md"] == "13.4"
    assert numbers["chapter_preface/index.md"] == "" and numbers["chapter_introduction/index.md"] == "1"
    assert toc[0].chapter == "chapter_preface/index.md"
    parents = {entry.chapter: entry.parent for entry in toc}
    assert (
        parents["chapter_computational-performance/hybridize.md"]
        == "chapter_computational-performance/index.md"
    )
    # a v0.17 edition keeps its own structure
    vietnamese = {e.chapter: e.number for e in book_toc(ROOT / "translations/vi", parse)}
    assert vietnamese["chapter_linear-networks/linear-regression.md"] == "3.1"


@pytest.fixture(scope="module")
def book_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`mkdocs build --strict` of the whole book in every language (the checkout's site)."""
    if not (ROOT / "translations/ko/files.lock").is_file() or not (BOOK / "en").is_dir():
        pytest.skip("the whole book is not set up (run `toolkit sync`)")
    site = tmp_path_factory.mktemp("book-site")
    result = build_site(ROOT, site)
    assert result.returncode == 0, result.stderr[-4000:]
    return site, result.stderr


@pytest.mark.book
def test_the_whole_book_builds_in_every_language_without_a_broken_link(book_site: tuple[Path, str]) -> None:
    from crawl import broken_links, missing_notebook_figures

    site, log = book_site
    assert "WARNING" not in log
    assert broken_links(site) == []
    assert missing_notebook_figures(site) == []
    page = (site / "en/chapter_computational-performance/hybridize/index.html").read_text("utf-8")
    assert "<title>13.1. Compilers and Interpreters" in page  # d2l.ai's number
    for language in ("ko", "id", "tr", "vi"):
        assert (site / language / "chapter_computational-performance/hybridize/index.html").is_file()
    # the book's figures are carried into the site, once: every language's page shows the
    # same file (an edition's redrawn figure is a file of its own)
    figures = {path.name: path for path in (site / "figures").glob("*/*")}
    assert "computegraph.svg" in figures
    shown = {
        language: re.findall(
            r'src="([^"]*computegraph\.svg)"',
            (site / language / "chapter_computational-performance/hybridize/index.html").read_text("utf-8"),
        )
        for language in ("en", "ko", "id", "tr", "vi")
    }
    targets = {
        language: {
            posixpath.normpath(posixpath.join(f"{language}/chapter_computational-performance/hybridize", url))
            for url in urls
        }
        for language, urls in shown.items()
    }
    # the same bytes are one file (tr redrew this figure: a file of its own)
    published = set().union(*targets.values())
    assert all(targets.values()) and all((site / target).is_file() for target in published), targets
    assert len({(site / target).read_bytes() for target in published}) == len(published), targets
    assert targets["en"] == targets["ko"] == targets["id"], targets
    assert not list(site.glob("*/img"))  # no language carries its own copies
    # :cite: is an author-year link; the bibliography page has the full reference (pybtex)
    references = (site / "en/bibliography/index.html").read_text("utf-8")
    assert (
        "Abadi et al., 2016" in references
        and "TensorFlow: a system for large-scale machine learning" in references
    )
    # d2l's references chapter is that page, never a second, empty one beside it
    assert not (site / "en/chapter_references").exists() and not (site / "vi/chapter_references").exists()
    introduction = (site / "en/chapter_introduction/index.html").read_text("utf-8")
    assert "et al., 20" in introduction and "bibliography/#bib-" in introduction


@pytest.mark.book
def test_a_v017_edition_keeps_its_own_structure_and_the_switcher_maps_sections_by_label(
    book_site: tuple[Path, str],
) -> None:
    """vi (v0.17) keeps linear regression in chapter_linear-networks/ as 3.1, its own toc's
    number; today's English has it in chapter_linear-regression/ as 3.1 too, but softmax
    regression is 4.1 in English and 3.4 in vi. The language switcher leads from each to the
    other by the chapters' labels; a section vi lacks (oo-design, new in 1.0) leads to vi's
    landing page, never to a 404."""
    site, _ = book_site
    page = (site / "vi/chapter_linear-networks/linear-regression/index.html").read_text("utf-8")
    assert "3.1. Hồi quy Tuyến tính" in page or "3.1. Hồi quy tuyến tính" in page
    assert "you are reading the English original" not in page and "bản gốc tiếng Anh" not in page
    assert "d2l-ai/d2l-vi/edit/main/chapter_linear-networks/linear-regression.md" in page
    assert "en/chapter_linear-regression/linear-regression/" in page  # the switcher
    assert not (site / "vi/chapter_linear-regression/linear-regression/index.html").exists()
    softmax = (site / "vi/chapter_linear-networks/softmax-regression/index.html").read_text("utf-8")
    assert "<title>3.4. " in softmax
    english = (site / "en/chapter_linear-classification/softmax-regression/index.html").read_text("utf-8")
    assert "<title>4.1. " in english and "vi/chapter_linear-networks/softmax-regression/" in english
    assert switcher(site, "en/chapter_linear-regression/oo-design/")["vi"] == "vi/"  # the landing page


class _Switcher(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and "d2l-language-link" in (found.get("class") or "") and found.get("href"):
            self.links[str(found["hreflang"])] = str(found["href"])


def switcher(site: Path, page: str) -> dict[str, str]:
    """The language switcher of a page (its URL path, e.g. "en/chapter_x/y/"): language ->
    the URL path it leads to."""
    parser = _Switcher()
    parser.feed((site / page / "index.html").read_text("utf-8"))
    links = {}
    for language, href in parser.links.items():
        target = posixpath.normpath(posixpath.join(page, href))
        links[language] = "" if target == "." else target + "/"
    return links


@pytest.mark.book
def test_the_language_switcher_leads_both_ways_between_the_two_structures(
    book_site: tuple[Path, str],
) -> None:
    """Every chapter page's switcher leads to the same chapter in each language and back (the
    mapping is one to one), across the v0.17 layout of tr/vi and today's English."""
    site, _ = book_site
    expected = {
        "en/chapter_attention-mechanisms-and-transformers/attention-scoring-functions/": (
            "vi/chapter_attention-mechanisms/attention-scoring-functions/"
        ),
        "en/chapter_attention-mechanisms-and-transformers/attention-pooling/": (
            "vi/chapter_attention-mechanisms/nadaraya-watson/"
        ),
        "en/chapter_builders-guide/parameters/": "vi/chapter_deep-learning-computation/parameters/",
        "en/chapter_builders-guide/lazy-init/": "vi/chapter_deep-learning-computation/deferred-init/",
        "en/chapter_multilayer-perceptrons/mlp-implementation/": "vi/chapter_multilayer-perceptrons/mlp-scratch/",
    }
    for english, vietnamese in expected.items():
        assert switcher(site, english)["vi"] == vietnamese, english
        assert switcher(site, vietnamese)["en"] == english, vietnamese
    asymmetric = []
    for language in ("ko", "id", "tr", "vi"):
        for page in sorted((site / language).glob("chapter_*/**/index.html")):
            here = page.parent.relative_to(site).as_posix() + "/"
            there = switcher(site, here)["en"]
            if there != "en/" and switcher(site, there)[language] != here:
                asymmetric.append(f"{here} -> {there} -> {switcher(site, there)[language]}")
    assert asymmetric == []


KNOWN_BROKEN_MATH = ROOT / "tests" / "fixtures" / "site" / "math-broken-in-translations.tsv"


@pytest.mark.book
@pytest.mark.browser
def test_every_formula_of_the_whole_book_renders_in_every_language(book_site: tuple[Path, str]) -> None:
    """Headless Chromium opens every page of the whole-book site that has math, in every
    language: every formula typeset by the site's own MathJax, no MathJax error, no raw TeX
    delimiter in the prose, no failed request. English pages and the site's own pages (status,
    bibliography) have none. Translated pages whose own TeX is broken upstream (inline math a
    machine translation cut, a display formula inside a paragraph the translation reflowed)
    are listed with the reason in the fixture: exactly those, so a new breakage fails this test
    and a mended one must leave the list."""
    from mathpages import math_problems, pages_with_math

    site, _ = book_site
    pages = pages_with_math(site)
    languages = {page.split("/", 1)[0] for page in pages}
    assert languages == {"en", "ko", "id", "tr", "vi"} and len(pages) > 600, (languages, len(pages))
    problems = math_problems(site, pages)
    ours = [
        p
        for p in problems
        if p.page.startswith("en/")
        or p.page.split("/", 1)[1] in ("bibliography/", "")
        or p.page.split("/", 1)[1].startswith("status/")
    ]
    assert ours == [], "\n".join(f"{p.page}: {p.detail}" for p in ours)
    known = {
        line.split("\t", 1)[0]
        for line in KNOWN_BROKEN_MATH.read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    found = {p.page for p in problems}
    assert found == known, "\n".join(
        [f"new: {p.page}: {p.detail}" for p in problems if p.page not in known]
        + [f"mended (remove from {KNOWN_BROKEN_MATH.name}): {page}" for page in sorted(known - found)]
    )
