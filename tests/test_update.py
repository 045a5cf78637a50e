"""toolkit update: translations carried forward onto today's English, through the real command.

The invariants the issue names: structure from today's English, the translation kept where
its English did not change (byte for byte), fuzzy where it did, nothing translated lost
(placed, or retired with its old path:line), idempotent, x_origin.md saying what each block
was made from (so check-alignment reports exactly the fuzzy blocks).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, toolkit_command

from toolkit.checker import ChapterStore, project_jobs
from toolkit.config import load_project
from toolkit.model import Block, CodeCell
from toolkit.parser import parse_chapter
from toolkit.update import OldFile, plan_update, translated_blocks

BIN = Path(sys.executable).parent
CHAPTER = "chapter_computational-performance/hybridize.md"
STRUCTURAL = ("C", "T", "L", "F", "X", "R")  # code, tab, label, figure, parse and reference rules


def toolkit(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "toolkit"), *args], cwd=project, capture_output=True, text=True, timeout=1800
    )


def old_files(project: Path, edition: str) -> list[OldFile]:
    config = load_project(project)
    store = ChapterStore(config.root)
    jobs, _, _ = project_jobs(config, (config.translations_dir / edition,), store)
    return [OldFile.of_job(job, store) for job in jobs]


def nothing_lost(project: Path, edition: str) -> None:
    """Every translated block of the edition is placed in an updated file or retired."""
    olds = old_files(project, edition)
    plan = plan_update(load_project(project), (), (edition,))
    (update,) = plan.updates
    placed = {
        p.came_from.removeprefix("memory: ")
        for file in update.files
        for p in file.placed
        if p.kind in ("exact", "fuzzy", "memory")
    }
    retired = {f"{r.path}:{r.line}" for r in update.retired}
    lost = [
        f"{old.shown}:{block.span.start}"
        for old in olds
        for _, block in translated_blocks(old)
        if f"{old.shown}:{block.span.start}" not in placed | retired
    ]
    assert lost == []


def test_the_seed_chapter_is_carried_onto_todays_english(project: Path) -> None:
    """ko's hybridize.md (a v0.17 translation of fd6224a0's English) onto 23d7a5ae's: the
    unchanged paragraphs byte for byte, the changed ones fuzzy, today's code cells, no
    structural finding English itself does not have, nothing lost, idempotent."""
    target = project / "translations" / "ko" / CHAPTER
    before = parse_chapter(CHAPTER, target.read_bytes())
    nothing_lost(project, "ko")
    result = toolkit(project, "update", str(target), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)["editions"]["ko"]
    assert report["exact"] > 5 and report["fuzzy"] > 0, report
    after = target.read_text("utf-8")
    today = (project / "source_en" / "23d7a5ae" / CHAPTER).read_text("utf-8")
    # today's code cells, every one (with an explicit tab where ko's default tab is another)
    today_cells = [b.code for b in parse_chapter("t", today.encode()).blocks if isinstance(b, CodeCell)]
    after_cells = [b.code for b in parse_chapter("t", after.encode()).blocks if isinstance(b, CodeCell)]
    assert len(after_cells) == len(today_cells)
    # a paragraph whose English did not change keeps its translation byte for byte
    kept = [b.source for b in before.blocks if type(b).__name__ == "Paragraph" and b.source in after]
    assert len(kept) >= 5
    origin = target.with_name("hybridize_origin.md")
    assert origin.is_file()
    checked = toolkit(project, "check-alignment", str(target), "--format", "json")
    findings = json.loads(checked.stdout)["findings"]
    structural = [f for f in findings if f["code"].startswith(STRUCTURAL) and f["severity"] == "error"]
    assert structural == [], structural
    stale = [f for f in findings if f["code"] == "S001"]
    assert len(stale) == 1 and f"{report['fuzzy']} block(s) changed" in stale[0]["message"], stale
    again = toolkit(project, "update", str(target), "--check")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 file(s) would change" in again.stdout


def test_the_po_flow_goes_through_an_update(project: Path) -> None:
    """After an update every block of today's English has its place in the file, so PO
    export has no `new/` entry and a translator's words for a fuzzy entry land."""
    import polib

    target = project / "translations" / "ko" / CHAPTER
    assert toolkit(project, "update", str(target)).returncode == 0
    assert toolkit(project, "po", "export", "--edition", "ko").returncode == 0
    po_file = project / "po" / "ko" / "chapter_computational-performance" / "hybridize.po"
    catalog = polib.pofile(str(po_file))
    assert not [e for e in catalog if e.msgctxt and e.msgctxt.startswith("new/")]
    contexts = [e.msgctxt.rsplit(".", 1)[0] for e in catalog if e.msgctxt]
    fuzzy = [  # a fuzzy block of one segment (a paragraph), so one entry revises it whole
        e
        for e in catalog
        if "fuzzy" in e.flags
        and len(e.msgid) > 40
        and e.msgctxt
        and contexts.count(e.msgctxt.rsplit(".", 1)[0]) == 1
    ]
    assert fuzzy, "blocks whose English changed since ko's translation are fuzzy entries"
    fuzzy[0].msgstr = "오늘의 영어를 따르는 새 번역"
    fuzzy[0].flags.remove("fuzzy")
    catalog.save(str(po_file))
    stale_before = stale_blocks(project, target)
    result = toolkit(project, "po", "import", str(po_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "오늘의 영어를 따르는 새 번역" in target.read_text("utf-8")
    # the revised block follows today's English now: x_origin.md says so, S001 counts one less
    assert "follow today's English" in result.stdout
    assert stale_blocks(project, target) == stale_before - 1


def stale_blocks(project: Path, target: Path) -> int:
    checked = toolkit(project, "check-alignment", str(target), "--format", "json")
    stale = [f for f in json.loads(checked.stdout)["findings"] if f["code"] == "S001"]
    if not stale:
        return 0
    return int(stale[0]["message"].split(": ", 1)[1].split(" block(s) changed")[0])


@pytest.mark.book
@pytest.mark.parametrize("edition", ["ko", "tr", "vi"])
def test_a_v017_edition_is_carried_whole_onto_todays_english(tmp_path: Path, edition: str) -> None:
    """The whole edition in a copy of the project: today's structure (edition.toml's basis and
    tabs), nothing translated lost, idempotent."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "mkdocs.yml"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "source_en", project / "source_en")
    shutil.copytree(ROOT / "translations" / edition, project / "translations" / edition)
    nothing_lost(project, edition)
    first = toolkit(project, "update", "--edition", edition)
    assert first.returncode == 0, first.stderr[-2000:]
    toml = (project / "translations" / edition / "edition.toml").read_text("utf-8")
    assert 'basis = "23d7a5ae"' in toml and 'tabs = ["pytorch", "mxnet", "jax", "tensorflow"]' in toml
    assert (
        project / "translations" / edition / "chapter_linear-regression" / "linear-regression.md"
    ).is_file()
    again = toolkit(project, "update", "--edition", edition, "--check")
    assert again.returncode == 0, again.stdout[-3000:]


def test_the_patch_for_the_editions_repository_applies_with_git(tmp_path: Path) -> None:
    """`toolkit diff --edition xx`: a translator's edit and a new file, against the commit the
    lock pins, applied by `git apply` in a clone of the edition's repository."""
    from conftest import SHARED, make_seed_project
    from test_book import add_edition, edition_repository, git

    repository = tmp_path / "upstream"
    commit = edition_repository(repository)
    project = make_seed_project(tmp_path / "project")
    add_edition(project, "xx", commit, url=str(repository))
    env_repos = {"TOOLKIT_REPO_DIR": str(tmp_path / "repos"), "D2L_SHARED": str(SHARED)}
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return toolkit_command(project, *args, env=env_repos)

    assert run("sync", "--edition", "xx").returncode == 0
    chapter = project / "translations" / "xx" / "chapter_xx" / "test.md"
    chapter.write_text(chapter.read_text("utf-8").replace("Birinci", "İlk"), "utf-8")
    (project / "translations" / "xx" / "chapter_xx" / "new.md").write_text("# Yeni\n", "utf-8")
    patch = tmp_path / "xx.patch"
    result = run("diff", "--edition", "xx", "--output", str(patch))
    assert result.returncode == 0, result.stderr
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(repository), str(clone)], check=True)
    git(clone, "apply", "--check", str(patch))
    git(clone, "apply", str(patch))
    assert (clone / "chapter_xx" / "test.md").read_text("utf-8") == chapter.read_text("utf-8")
    assert (clone / "chapter_xx" / "new.md").read_text("utf-8") == "# Yeni\n"
    assert "edition.toml" not in patch.read_text("utf-8")  # the project's own files stay out


def test_the_site_publishes_an_updated_edition_with_a_note_under_each_fuzzy_block(
    project: Path, tmp_path: Path
) -> None:
    """tr updated whole, then the real `mkdocs build --strict`: the page follows today's
    English (its code cells, its structure) and each block check-alignment counts as changed
    carries one quiet note leading to today's English; a block carried exactly has none."""
    from conftest import build_site

    assert toolkit(project, "update", "--edition", "tr").returncode == 0
    edition = (project / "translations" / "tr" / "edition.toml").read_text("utf-8")
    assert 'basis = "23d7a5ae"' in edition
    target = project / "translations" / "tr" / CHAPTER
    checked = toolkit(project, "check-alignment", str(target), "--format", "json")
    (stale,) = [f for f in json.loads(checked.stdout)["findings"] if f["code"] == "S001"]
    changed = int(stale["message"].split(": ", 1)[1].split(" block(s) changed")[0])
    assert changed > 0 and len(stale["marks"]) == changed
    site = tmp_path / "site"
    result = build_site(project, site, "en,tr")
    assert result.returncode == 0, result.stderr[-4000:]
    page = (site / "tr" / CHAPTER.removesuffix(".md") / "index.html").read_text("utf-8")
    notes = re.findall(r'<p class="d2l-fuzzy">[^<]*<a href="([^"]+)">', page)
    assert len(notes) == changed == page.count('class="d2l-fuzzy"')
    # each leads to today's English section, by the page's URL (not a .md path)
    assert set(notes) == {"../../../en/chapter_computational-performance/hybridize/#sec_hybridize"}
    # tabs in today's English order (tr's edition.toml moved from mxnet-first to pytorch-first)
    first_label = re.search(r'class="tabbed-labels"><label for="[^"]+">([^<]+)</label>', page)
    assert first_label is not None and first_label.group(1) == "PyTorch", page[:200]


def test_a_block_english_removed_is_kept_as_an_obsolete_po_entry(project: Path) -> None:
    """A paragraph English dropped since tr's basis leaves the file on update, is kept in
    obsolete.jsonl with its old path:line and today's chapter, and shows in the chapter's PO
    catalog as a ``#~`` entry (import never reads it: the file stays byte for byte)."""
    import polib

    target = project / "translations" / "tr" / CHAPTER
    origin = target.with_name("hybridize_origin.md")
    english = "A paragraph English later removed from this section, about compilers."
    turkish = "İngilizcenin daha sonra bu bölümden çıkardığı, derleyiciler hakkında bir paragraf."
    for path, words in ((origin, english), (target, turkish)):
        text = path.read_text("utf-8")
        cut = text.index("\n\n", text.index("\n\n") + 2) + 2  # after the title's first paragraph
        path.write_text(text[:cut] + words + "\n\n" + text[cut:], "utf-8")
    line = target.read_text("utf-8")[: target.read_text("utf-8").index(turkish)].count("\n") + 1
    result = toolkit(project, "update", "--edition", "tr")
    assert result.returncode == 0, result.stderr
    assert turkish not in target.read_text("utf-8")
    records = [json.loads(r) for r in (project / "translations" / "tr" / "obsolete.jsonl").read_text("utf-8").splitlines()]
    (record,) = [r for r in records if r["text"].strip() == turkish]
    assert record == {
        "path": f"translations/tr/{CHAPTER}",
        "line": line,
        "text": turkish + "\n",
        "english": english + "\n",
        "chapter": CHAPTER,
    }
    assert toolkit(project, "po", "export", "--edition", "tr").returncode == 0
    po_file = project / "po" / "tr" / CHAPTER.replace(".md", ".po")
    text = po_file.read_text("utf-8")
    assert f'#~ msgctxt "obsolete/translations/tr/{CHAPTER}:{line}"' in text
    (entry,) = [e for e in polib.pofile(text) if e.obsolete]
    assert entry.msgstr.strip() == turkish and entry.msgid.strip() == english
    before = target.read_bytes()
    imported = toolkit(project, "po", "import", str(po_file))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert target.read_bytes() == before


def test_update_to_an_older_english_revision(project: Path) -> None:
    """`--to fd6224a0` (the English ko was translated from, read for a few chapters only)
    carries every block exactly and leaves the drift to today's English as it was; an
    unknown revision is a usage error that names the ones the project has."""
    target = project / "translations" / "ko" / CHAPTER
    stale_before = stale_blocks(project, target)
    assert stale_before > 0
    result = toolkit(project, "update", "--to", "fd6224a0", "--format", "json", str(target))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)["editions"]["ko"]
    assert report["fuzzy"] == 0 and report["exact"] > 40, report
    # ko's edition.toml stays: fd6224a0 is no whole book here, so nothing moves to it
    assert 'basis = "fd6224a0"' in (project / "translations" / "ko" / "edition.toml").read_text("utf-8")
    assert stale_blocks(project, target) == stale_before
    # and on to today's English: the changed blocks are fuzzy now
    onward = toolkit(project, "update", "--format", "json", str(target))
    assert json.loads(onward.stdout)["editions"]["ko"]["fuzzy"] == stale_before
    unknown = toolkit(project, "update", "--to", "v9.9", str(target))
    assert unknown.returncode == 2
    assert "not an English revision this project has read" in unknown.stderr and "fd6224a0" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def _block(text: str) -> Block:
    (block,) = [b for b in parse_chapter("t.md", text.encode("utf-8")).blocks if type(b).__name__ != "Blank"]
    return block


def test_carried_math_takes_englishs_structure() -> None:
    """Math is English's structure: a display formula a machine translation made inline (one
    `$` read as a currency) is displayed again, also where today's English respelled it
    (\\text -> \\textrm); a formula a tool damaged (doubled backslashes) is English's again;
    a formula the translation wrote well stays the translation's."""
    from toolkit.update import _with_english_math

    older = _block("If $X$ is discrete, $$H(X) = - \\sum_i p_i \\text{, where } p_i.$$\n")
    today = _block("If $X$ is discrete, $$H(X) = - \\sum_i p_i \\textrm{, where } p_i.$$\n")
    korean = "$X$가 이산형이면 $H(X) = - \\sum_i p_i \\text{, where } p_i.$달러입니다.\n"
    assert _with_english_math(today, korean, older) == (
        "$X$가 이산형이면 $$H(X) = - \\sum_i p_i \\text{, where } p_i.$$달러입니다.\n"
    )
    english = _block("The vector $\\mathbf{x}_i$ is $\\frac{1}{2}$ long.\n")
    damaged = "벡터 $\\\\mathbf{x}_i$의 길이는 $\\frac{1}{2}$입니다.\n"
    assert _with_english_math(english, damaged) == "벡터 $\\mathbf{x}_i$의 길이는 $\\frac{1}{2}$입니다.\n"
    fine = "벡터 $\\mathbf{x}_{i}$의 길이\n"
    assert _with_english_math(english, fine) == fine


def test_a_role_the_translation_left_open_is_closed_as_english_writes_it() -> None:
    from toolkit.update import _closed_roles

    english = _block("We discussed this in :numref:`sec_maximum_likelihood`, but see it here.\n")
    open_role = "Bunu :numref:`sec_maximum_likelihood içinde tartıştık.\n"
    assert _closed_roles([english], open_role) == "Bunu :numref:`sec_maximum_likelihood` içinde tartıştık.\n"
    closed = "Bunu :numref:`sec_maximum_likelihood` içinde tartıştık.\n"
    assert _closed_roles([english], closed) == closed
    longer = "Bunu :numref:`sec_maximum_likelihood_x` içinde.\n"  # another label: never cut
    assert _closed_roles([english], longer) == longer
