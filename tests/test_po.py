"""gettext workflow: segments, export, import, the round trip, fuzzy entries, msgfmt, status."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import polib
import pytest
from conftest import ROOT, corpus_translations
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from toolkit.checker import ChapterStore
from toolkit.model import TabBlock, iter_blocks
from toolkit.parser import parse_chapter
from toolkit.po.catalog import counts, export_catalog, import_catalog, round_trip_problems
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
    """Property: replace any segments of the English with other words -> export, import -> same bytes."""
    basis = parse_chapter("en.md", BASIS.read_bytes())
    pieces = []
    for block, _ in iter_blocks(basis.blocks):
        if isinstance(block, TabBlock):
            continue
        split = split_block(block)
        words = tuple(
            data.draw(WORDS) if data.draw(st.booleans()) and segment.strip() else segment
            for segment in split.segments
        )
        pieces.append(split.join(words))
    text = "".join(pieces)
    translation = parse_chapter("tr.md", text.encode())
    catalog = export_catalog(basis, TABS_OLD, translation, TABS_OLD, "ko")
    assert import_catalog(basis, catalog) == text


def test_seed_export_marks_what_english_changed_as_fuzzy() -> None:
    basis, today = chapter(BASIS), chapter(TODAY)
    translation = chapter(ROOT / "translations" / "ko" / CHAPTER)
    catalog = export_catalog(basis, TABS_OLD, translation, TABS_OLD, "ko", today, TABS_NEW)  # type: ignore[arg-type]
    fuzzy = [e for e in catalog if "fuzzy" in e.flags]
    assert fuzzy and all(e.previous_msgid and e.previous_msgid != e.msgid for e in fuzzy)
    moved = next(e for e in fuzzy if e.msgctxt == "sec_hybridize/p3.1")
    assert "On the one hand" in moved.msgid and "On one hand" in moved.previous_msgid
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
    assert toolkit(project, "po", "import", str(po_file)).returncode == 0  # normalise markup to English once
    before = target.read_text("utf-8").splitlines()
    catalog = polib.pofile(str(po_file))
    entry = next(e for e in catalog if e.msgctxt == "symbolic-programming/h1.1")
    entry.msgstr = "심볼릭 프로그래밍 (편집됨)"
    catalog.save(str(po_file))
    result = toolkit(project, "po", "import", str(po_file))
    assert result.returncode == 0 and "updated" in result.stdout, result.stdout + result.stderr
    after = target.read_text("utf-8").splitlines()
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(changed) == 1 and after[changed[0]] == "## 심볼릭 프로그래밍 (편집됨)"
    # import is a fixpoint: export again, import --check changes nothing
    assert toolkit(project, "po", "export", "--edition", "ko-partrita").returncode == 0
    assert toolkit(project, "po", "import", "--check", "--edition", "ko-partrita").returncode == 0


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
def test_every_corpus_chapter_round_trips_or_says_which_blocks_and_why() -> None:
    store = ChapterStore()
    exact = 0
    jobs = corpus_translations()
    for job in jobs:
        basis, translation = store.get(job.basis), store.get(job.translation)
        today = store.get(job.today) if job.today else None
        catalog = export_catalog(
            basis, job.basis_tabs, translation, job.tabs, job.language, today, job.today_tabs
        )
        rebuilt = import_catalog(basis, catalog)
        problems = round_trip_problems(basis, job.basis_tabs, translation, job.tabs, rebuilt)
        if rebuilt == translation.text:
            exact += 1
            assert problems == []
        else:
            assert problems, f"{job.translation}: differs but no block explains it"
            assert all((p.line or p.english_line) and p.reason for p in problems)
        # whatever the translation's drift, its import is structurally English: a fixpoint
        again = parse_chapter("again.md", rebuilt.encode())
        second = import_catalog(basis, export_catalog(basis, job.basis_tabs, again, job.tabs, job.language))
        assert second == rebuilt, job.translation
    assert len(jobs) == 30
