"""gettext workflow: segments, export, import, the round trip, fuzzy entries, msgfmt, status."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import polib
import pytest
from conftest import ROOT, SHARED, corpus_translations
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from toolkit.checker import ChapterStore
from toolkit.model import TabBlock, block_inline, iter_blocks
from toolkit.parser import parse_chapter
from toolkit.po.catalog import counts, export_catalog, import_catalog, round_trip, unreachable_blocks
from toolkit.po.segments import split_block

BIN = Path(sys.executable).parent
CHAPTER = "chapter_computational-performance/hybridize.md"
SOURCE = ROOT / "source_en"
TABS_OLD = ("mxnet", "pytorch", "tensorflow")
TABS_NEW = ("pytorch", "mxnet", "jax", "tensorflow")
BASIS = SOURCE / "fd6224a0" / CHAPTER
TODAY = SOURCE / "23d7a5ae" / CHAPTER


def chapter(path: Path) -> object:
    return parse_chapter(str(path.relative_to(ROOT)), path.read_bytes())


def test_every_block_splits_into_frame_and_segments_and_joins_back() -> None:
    for path in (BASIS, TODAY, *sorted((ROOT / "translations").glob(f"*/{CHAPTER}"))):
        parsed = parse_chapter(str(path), path.read_bytes())
        for block, _ in iter_blocks(parsed.blocks):
            assert split_block(block).join() == block.source


def test_code_cells_give_comments_and_docstrings_only() -> None:
    text = '# T\n\n```{.python .input}\n#@tab pytorch\ndef f(x):  # the answer\n    """Add one."""\n    return x + 1  #@save\n!ls -lh\n```\n'
    cell = next(
        b
        for b, _ in iter_blocks(parse_chapter("t.md", text.encode()).blocks)
        if type(b).__name__ == "CodeCell"
    )
    assert split_block(cell).segments == ("the answer", "Add one.")


WORDS = (
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz가나다라 ", min_size=1, max_size=20)
    .map(str.strip)
    .filter(bool)
)


# no shrinking: a failing example is already small enough to read (one chapter's blocks)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)
@given(st.data())
def test_a_translation_that_changes_only_words_round_trips(data: st.DataObject) -> None:
    """Property: replace segments of the English with other words -> export, import -> same
    bytes. Segments that carry roles, math, links or raw HTML keep them (words only: dropping
    a role is a structure change the import refuses, tested below)."""
    basis = parse_chapter("en.md", BASIS.read_bytes())
    pieces = []
    for block, _ in iter_blocks(basis.blocks):
        if isinstance(block, TabBlock):
            continue
        split = split_block(block)
        inline = block_inline(block)
        plain = inline is None or not (inline.roles or inline.math or inline.links or inline.html)
        words = tuple(
            data.draw(WORDS) if plain and data.draw(st.booleans()) and segment.strip() else segment
            for segment in split.segments
        )
        pieces.append(split.join(words))
    text = "".join(pieces)
    translation = parse_chapter("tr.md", text.encode())
    catalog = export_catalog(basis, TABS_OLD, translation, TABS_OLD, "ko")
    assert import_catalog(basis, catalog).text == text  # a new chapter, from the skeleton
    assert import_catalog(basis, catalog, translation, TABS_OLD, TABS_OLD).text == text


def test_seed_export_marks_what_english_changed_as_fuzzy() -> None:
    basis, today = chapter(BASIS), chapter(TODAY)
    translation = chapter(ROOT / "translations" / "ko" / CHAPTER)
    catalog = export_catalog(basis, TABS_OLD, translation, TABS_OLD, "ko", today, TABS_NEW)  # type: ignore[arg-type]
    fuzzy = [e for e in catalog if "fuzzy" in e.flags]
    assert fuzzy and all(e.previous_msgid and e.previous_msgid != e.msgid for e in fuzzy)
    moved = next(e for e in fuzzy if e.msgctxt == "sec_hybridize/p3.1")
    assert "On the one hand" in moved.msgid and "On one hand" in (moved.previous_msgid or "")
    assert moved.msgstr.startswith("명령형 프로그래밍은")
    contexts = [e.msgctxt for e in catalog]
    assert len(contexts) == len(set(contexts))  # stable and unique
    assert (
        catalog.metadata["Language"] == "ko" and catalog.metadata["Plural-Forms"] == "nplurals=1; plural=0;"
    )
    assert counts(catalog).fuzzy == len(fuzzy)


def toolkit(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "toolkit"), *args], cwd=project, capture_output=True, text=True, timeout=600
    )


def test_export_files_pass_msgfmt_and_load_in_polib_without_warnings(project: Path) -> None:
    result = toolkit(project, "po", "export")
    assert result.returncode == 0, result.stderr
    files = sorted((project / "po").rglob("*.po"))
    assert {f.relative_to(project / "po").parts[0] for f in files} == {"ko", "ko-partrita", "id", "tr", "vi"}
    for po_file in files:
        check = subprocess.run(
            ["msgfmt", "--check", "-o", "/dev/null", str(po_file)], capture_output=True, text=True
        )
        assert check.returncode == 0 and not check.stderr, check.stderr
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert len(polib.pofile(str(po_file))) > 50
    # blocks that cannot round-trip are named with path:line and why
    assert (
        "translations/ko/chapter_computational-performance/hybridize.md:65: list spacing differs"
        in result.stdout
    )


def test_a_translators_edit_lands_in_the_right_paragraph(project: Path) -> None:
    assert toolkit(project, "po", "export", "--edition", "ko-partrita").returncode == 0
    po_file = project / "po" / "ko-partrita" / "chapter_computational-performance" / "hybridize.po"
    target = project / "translations" / "ko-partrita" / CHAPTER
    before = target.read_bytes()
    assert toolkit(project, "po", "import", str(po_file)).returncode == 0
    assert target.read_bytes() == before  # no edit: no byte changes
    catalog = polib.pofile(str(po_file))
    entry = next(e for e in catalog if e.msgctxt == "symbolic-programming/h1.1")
    entry.msgstr = "심볼릭 프로그래밍 (편집됨)"
    catalog.save(str(po_file))
    result = toolkit(project, "po", "import", str(po_file))
    assert result.returncode == 0 and "updated" in result.stdout, result.stdout + result.stderr
    lines_before, after = before.decode("utf-8").splitlines(), target.read_text("utf-8").splitlines()
    changed = [i for i, (a, b) in enumerate(zip(lines_before, after, strict=True)) if a != b]
    assert len(changed) == 1 and after[changed[0]] == "## 심볼릭 프로그래밍 (편집됨)"
    # export again, import --check: nothing to change
    assert toolkit(project, "po", "export", "--edition", "ko-partrita").returncode == 0
    assert toolkit(project, "po", "import", "--check", "--edition", "ko-partrita").returncode == 0


def test_export_then_import_with_no_edit_changes_no_byte_of_any_seed(project: Path) -> None:
    """Blocks that cannot round-trip (list numbering, blank lines) are left alone, never
    replaced by English (id `1. Mendefinisikan operasi…` stayed Indonesian)."""
    before = {p: p.read_bytes() for p in (project / "translations").rglob("*.md")}
    assert toolkit(project, "po", "export").returncode == 0
    result = toolkit(project, "po", "import")
    assert result.returncode == 0, result.stdout + result.stderr
    assert {p: p.read_bytes() for p in before} == before
    assert result.stdout.count(": unchanged") == 5


HOSTILE_MSGSTRS = [
    ("a code fence", "Derleyiciler\n\n```{.python .input}\nimport os\nos.system('x')\n```\n"),
    ("a tab marker", "Derleyiciler\n\n:begin_tab:`pytorch`\nx\n:end_tab:"),
    ("a heading", "Derleyiciler\n\n# Yeni bölüm"),
    ("a label line", "Derleyiciler\n:label:`sec_fake`"),
    ("a role", "Derleyiciler :numref:`sec_fake`"),
    ("math", "Derleyiciler $x^2$"),
    ("raw HTML", "Derleyiciler <script>alert(1)</script>"),
    ("a javascript: link", "[Derleyiciler](javascript:alert(1))"),
]


@pytest.mark.parametrize(("what", "msgstr"), HOSTILE_MSGSTRS, ids=[w for w, _ in HOSTILE_MSGSTRS])
def test_a_msgstr_that_adds_structure_is_refused_with_its_po_line(
    project: Path, what: str, msgstr: str
) -> None:
    assert toolkit(project, "po", "export", "--edition", "tr").returncode == 0
    po_file = project / "po" / "tr" / "chapter_computational-performance" / "hybridize.po"
    target = project / "translations" / "tr" / CHAPTER
    before = target.read_bytes()
    catalog = polib.pofile(str(po_file))
    paragraph = next(e for e in catalog if e.msgctxt == "sec_hybridize/p1.1")
    heading = next(e for e in catalog if e.msgctxt == "sec_hybridize/h1.1")
    paragraph.msgstr = msgstr
    heading.msgstr = "Derleyiciler ve Yorumlayıcılar (düzenlendi)"  # a fair edit beside it
    catalog.save(str(po_file))
    line = next(e for e in polib.pofile(str(po_file)) if e.msgctxt == "sec_hybridize/p1.1").linenum
    result = toolkit(project, "po", "import", str(po_file))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"hybridize.po:{line}: sec_hybridize/p1.1: refused" in result.stdout
    after = target.read_text("utf-8")
    assert "(düzenlendi)" in after  # the fair edit landed
    old_lines, new_lines = before.decode("utf-8").splitlines(), after.splitlines()
    assert len(old_lines) == len(new_lines)
    assert sum(a != b for a, b in zip(old_lines, new_lines, strict=True)) == 1  # only the heading


def test_a_malformed_po_file_is_an_error_and_nothing_is_written(project: Path) -> None:
    assert toolkit(project, "po", "export", "--edition", "tr").returncode == 0
    po_file = project / "po" / "tr" / "chapter_computational-performance" / "hybridize.po"
    target = project / "translations" / "tr" / CHAPTER
    before = target.read_bytes()
    text = po_file.read_text("utf-8")
    at = text.index('msgctxt "sec_hybridize/h1.1"')
    at = text.index("msgstr ", at)
    end = text.index("\n", at)
    po_file.write_text(text[:at] + "msgstr Derleyiciler ve Yorumlayıcılar" + text[end:], "utf-8")
    result = toolkit(project, "po", "import")
    assert result.returncode == 2
    assert "hybridize.po:" in result.stderr and "not valid PO syntax" in result.stderr
    assert "Traceback" not in result.stderr
    assert target.read_bytes() == before


def test_an_unknown_msgctxt_or_another_editions_file_is_an_error(project: Path) -> None:
    assert toolkit(project, "po", "export").returncode == 0
    tr_po = project / "po" / "tr" / "chapter_computational-performance" / "hybridize.po"
    ko_po = project / "po" / "ko" / "chapter_computational-performance" / "hybridize.po"
    before = {p: p.read_bytes() for p in (project / "translations").rglob("*.md")}
    catalog = polib.pofile(str(tr_po))
    entry = next(e for e in catalog if e.msgctxt == "sec_hybridize/h1.1")
    entry.msgctxt = "sec_nowhere/h1.1"
    catalog.save(str(tr_po))
    result = toolkit(project, "po", "import")
    assert (
        result.returncode == 2 and "sec_nowhere/h1.1" in result.stderr and "another chapter" in result.stderr
    )
    # Korean words into the Turkish edition: the header says ko
    tr_po.write_bytes(ko_po.read_bytes())
    result = toolkit(project, "po", "import", "--edition", "tr")
    assert result.returncode == 2 and "a PO file of edition ko" in result.stderr
    result = toolkit(project, "po", "import", str(tr_po))
    assert result.returncode == 2 and "a PO file of another edition or chapter" in result.stderr
    assert {p: p.read_bytes() for p in before} == before


def test_status_counts_and_fail_under(project: Path) -> None:
    result = toolkit(project, "status", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["editions"]) == {"ko", "ko-partrita", "id", "tr", "vi"}
    ko = data["editions"]["ko"]
    assert ko["fuzzy"] > 0 and 0 < ko["percent"] < 100
    assert data["editions"]["ko-partrita"]["fuzzy"] == 0  # its basis is today's chapter text
    assert toolkit(project, "status", "--fail-under", "99").returncode == 1
    assert toolkit(project, "status", "--fail-under", "10").returncode == 0
    assert toolkit(project, "status", "--edition", "nope").returncode == 2


def test_import_errors_are_messages_not_tracebacks(project: Path) -> None:
    bad = project / "po" / "ko" / "x.po"
    bad.parent.mkdir(parents=True)
    bad.write_text('msgid ""\nmsgstr ""\n"Language: ko\\n"\n', "utf-8")
    result = toolkit(project, "po", "import", str(bad))
    assert result.returncode == 2 and "X-D2L-Skeleton" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.corpus
def test_every_corpus_chapter_round_trips_and_names_what_the_catalog_cannot_change() -> None:
    store = ChapterStore()
    jobs = corpus_translations()
    for job in jobs:
        assert job.basis is not None
        basis, translation = store.get(job.basis), store.get(job.translation)
        today = store.get(job.today) if job.today else None
        imported = round_trip(
            basis, job.basis_tabs, translation, job.tabs, job.language, today, job.today_tabs
        )
        assert imported.text == translation.text and not imported.refused, job.translation
        problems = unreachable_blocks(basis, job.basis_tabs, translation, job.tabs)
        assert all((p.line or p.english_line) and p.reason for p in problems)
    assert len(jobs) == 30


BOOK = SHARED / "book"


@pytest.mark.corpus
@pytest.mark.book
def test_export_then_import_changes_no_byte_on_the_whole_book() -> None:
    """Every translated chapter of every edition in ../shared/book (≈880 files), each against
    its own basis (x_origin.md, or English at the fork)."""
    from toolkit.corpus import book_jobs

    if not (BOOK / "en" / "config.ini").is_file():
        pytest.skip(f"{BOOK} is absent (set D2L_SHARED)")
    store = ChapterStore()
    jobs = book_jobs(BOOK)
    changed = []
    for job in jobs:
        assert job.basis is not None
        basis, translation = store.get(job.basis), store.get(job.translation)
        today = store.get(job.today) if job.today else None
        imported = round_trip(
            basis, job.basis_tabs, translation, job.tabs, job.language, today, job.today_tabs
        )
        if imported.text != translation.text or imported.refused:
            changed.append(str(job.translation))
    assert len(jobs) > 850
    assert changed == []
