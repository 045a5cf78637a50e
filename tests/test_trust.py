"""What the toolkit trusts, tried as a hostile contributor would, through the real commands.

Only English at a revision executes; an edition's files, PO files, edition.toml values and
mirrors are data: refused with a message (exit 2) or inert, never run, never written outside
their place, never a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polib
import pytest

BIN = Path(sys.executable).parent
CHAPTER = "chapter_computational-performance/hybridize.md"
PO = Path("po/id/chapter_computational-performance/hybridize.po")


def toolkit(project: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "toolkit"), *args], cwd=project, capture_output=True, text=True, timeout=timeout
    )


def exported(project: Path) -> polib.POFile:
    assert toolkit(project, "po", "export", "--edition", "id").returncode == 0
    return polib.pofile(str(project / PO))


@pytest.mark.parametrize(
    "target",
    ["d2l/torch.py", "chapter_computational-performance/hybridize_origin.md", "config.ini", "../ko/index.md"],
)
def test_a_po_file_writes_chapters_only(project: Path, target: str) -> None:
    catalog = exported(project)
    catalog.metadata["X-D2L-Chapter"] = target
    hostile = project / "po" / "id" / (target.replace("../", "x/").rsplit(".", 1)[0] + ".po")
    hostile.parent.mkdir(parents=True, exist_ok=True)
    catalog.save(str(hostile))
    before = {p: p.read_bytes() for p in (project / "translations").rglob("*") if p.is_file()}
    result = toolkit(project, "po", "import", str(hostile))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "not a chapter path" in result.stderr and "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in before} == before
    assert not (project / "translations" / "id" / "d2l" / "torch.py").exists() or before


def test_a_po_file_outside_po_is_refused(project: Path, tmp_path: Path) -> None:
    exported(project)
    elsewhere = tmp_path / "hybridize.po"
    elsewhere.write_bytes((project / PO).read_bytes())
    result = toolkit(project, "po", "import", str(elsewhere))
    assert result.returncode == 2 and "PO files are imported from" in result.stderr


def test_a_repeated_msgctxt_or_a_huge_msgstr_is_refused_with_its_line(project: Path) -> None:
    catalog = exported(project)
    text = (project / PO).read_text("utf-8")
    first = next(e for e in catalog if e.msgctxt and not e.obsolete)
    twice = text + f'\nmsgctxt "{first.msgctxt}"\nmsgid "{first.msgid[:20]}"\nmsgstr "lain"\n'
    (project / PO).write_text(twice, "utf-8")
    result = toolkit(project, "po", "import", str(project / PO))
    assert result.returncode == 2 and "again (first at line" in result.stderr, result.stderr
    catalog = polib.pofile(text)
    first = next(e for e in catalog if e.msgctxt and not e.obsolete)
    first.msgstr = "kata " * 30_000
    catalog.save(str(project / PO))
    result = toolkit(project, "po", "import", str(project / PO), timeout=60)
    assert result.returncode == 2 and "a msgstr of 150,000 characters" in result.stderr


def test_translated_new_entries_are_refused_by_name_never_dropped(project: Path) -> None:
    """A `new/` entry (a block English added after the file's basis, as `po export` writes
    it) that a translator filled in must not end in "updated", exit 0, with the words gone."""
    catalog = exported(project)
    catalog.append(
        polib.POEntry(msgctxt="new/3.1", msgid="A paragraph English added.", msgstr="Paragraf baru")
    )
    catalog.save(str(project / PO))
    line = next(e for e in polib.pofile(str(project / PO)) if e.msgctxt == "new/3.1").linenum
    result = toolkit(project, "po", "import", str(project / PO))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"hybridize.po:{line}: new/3.1: refused" in result.stdout
    assert "added after this file's basis" in result.stdout


PAYLOAD = "import pathlib; pathlib.Path({marker!r}).write_text('owned')"


@pytest.mark.kernels
def test_an_origin_file_no_english_version_has_never_runs(project: Path, tmp_path: Path) -> None:
    """A new `pwn.md` with a `pwn_origin.md` beside it: the origin is a contributor's text, not
    English of any revision, so none of its cells runs without --trust-translations."""
    marker = tmp_path / "owned-by-origin"
    folder = project / "translations" / "tr" / "chapter_computational-performance"
    cell = "```{.python .input}\n#@tab all\n" + PAYLOAD.format(marker=str(marker)) + "\n```\n"
    (folder / "pwn_origin.md").write_text("# Pwn\n\n" + cell, "utf-8")
    (folder / "pwn.md").write_text("# Pwn\n\n" + cell, "utf-8")
    result = toolkit(project, "run-cells", str(folder / "pwn.md"), "-f", "pytorch", "--format", "json")
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert not marker.exists()
    report = json.loads(result.stdout)
    assert [u["english"] for u in report["unproven"]] == [
        "translations/tr/chapter_computational-performance/pwn_origin.md"
    ]
    text = toolkit(project, "run-cells", str(folder / "pwn.md"), "-f", "pytorch")
    assert "pwn_origin.md, which is not English of any revision" in text.stdout
    assert not marker.exists()


@pytest.mark.kernels
def test_an_editions_own_library_runs_only_where_it_is_english(project: Path, tmp_path: Path) -> None:
    """A line added to tr's d2l/torch.py never runs: tr's PyTorch programs import English's
    library of tr's release (v0.17.5) instead, and the run names the refused file."""
    marker = tmp_path / "owned-by-library"
    library = project / "translations" / "tr" / "d2l" / "torch.py"
    library.write_text(library.read_text("utf-8") + "\n" + PAYLOAD.format(marker=str(marker)) + "\n", "utf-8")
    chapter = project / "translations" / "tr" / CHAPTER
    result = toolkit(project, "run-cells", str(chapter), "-f", "pytorch", "--format", "json")
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert not marker.exists()
    report = json.loads(result.stdout)
    refused = {r["path"] for r in report["library_files_refused"]}
    assert "translations/tr/d2l/torch.py" in refused
    assert report["unproven"] == []  # tr's x_origin.md is English (history.tsv proves it)
    statuses = {(r["edition"], r["framework"]): r["status"] for r in report["results"]}
    assert statuses[("tr", "pytorch")] == "ok", statuses


def test_a_downloaded_notebook_carries_no_live_html_or_script() -> None:
    """Jupyter renders text/html and runs application/javascript outputs, and renders a
    markdown cell's raw HTML: a notebook keeps only inert outputs and sanitised prose."""
    from toolkit.parser import parse_chapter
    from toolkit.site.lower import CellOutputs
    from toolkit.site.notebooks import chapter_notebook

    text = (
        "# Judul\n\nParagraf <img src=x onerror=alert(1)> aman.\n\n"
        "```{.python .input}\n#@tab pytorch\nx = 1\n```\n"
    )
    chapter = parse_chapter("t.md", text.encode())
    outputs = {
        (5, "pytorch"): CellOutputs(
            "ok",
            (
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"text/html": "<script>alert(2)</script>", "text/plain": "x"},
                },
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"application/javascript": "alert(3)"},
                },
            ),
        )
    }
    notebook = json.loads(chapter_notebook(chapter, "pytorch", ("pytorch",), outputs, "id"))
    markdown = "".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
    assert "Paragraf" in markdown and "onerror" not in markdown
    code = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    assert code["outputs"] == [{"output_type": "display_data", "metadata": {}, "data": {"text/plain": ["x"]}}]


def _edition_toml(project: Path, **values: str) -> Path:
    path = project / "translations" / "tr" / "edition.toml"
    lines = [line for line in path.read_text("utf-8").splitlines() if line.split(" ", 1)[0] not in values]
    path.write_text("\n".join([*lines, *(f"{k} = {v}" for k, v in values.items())]) + "\n", "utf-8")
    return path


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"commit": '"--upload-pack=touch pwned;"'}, "commit must be a commit id"),
        ({"url": '"ext::sh -c touch% pwned"'}, "url must be an https://"),
        ({"url": '"--upload-pack=touch pwned"'}, "url must be an https://"),
        ({"tabs": '["../x"]'}, "tabs must be a non-empty list of framework names"),
        ({"name": '"' + "x" * 5_000_000 + '"'}, "at most 1000 characters"),
        ({"language": '"tr\\" onmouseover=\\"x"'}, "language must be a language code"),
    ],
    ids=["commit-option", "ext-url", "option-url", "tab-path", "huge-name", "language-markup"],
)
def test_hostile_edition_values_are_refused_with_a_message(
    project: Path, tmp_path: Path, values: dict[str, str], message: str
) -> None:
    _edition_toml(project, **values)
    result = toolkit(project, "sync", "--edition", "tr", timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (project / "pwned").exists() and not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('po = "/"', "must be a folder inside the project"),
        ('cache = "/proc/x"', "must be a folder inside the project"),
        ('build = "../elsewhere"', "must be a folder inside the project"),
        ("cell_timeout = nan", "cell_timeout (seconds) must be a number"),
        ("cell_timeout = inf", "cell_timeout (seconds) must be a number"),
    ],
)
def test_hostile_project_settings_are_refused(project: Path, setting: str, message: str) -> None:
    pyproject = project / "pyproject.toml"
    key = setting.split(" ", 1)[0]
    text = "\n".join(
        line for line in pyproject.read_text("utf-8").splitlines() if not line.startswith(f"{key} ")
    )
    pyproject.write_text(text.replace("[tool.toolkit]\n", f"[tool.toolkit]\n{setting}\n"), "utf-8")
    result = toolkit(project, "check-alignment", timeout=120)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_deeply_nested_toml_is_a_message_not_a_traceback(project: Path) -> None:
    _edition_toml(project, nested="[" * 5000 + "]" * 5000)
    result = toolkit(project, "check-alignment", timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-500:]


def test_a_symbolic_link_in_a_mirror_is_refused(project: Path, tmp_path: Path) -> None:
    """`img/computegraph.svg -> /etc/passwd` (or a linked folder) never reaches the project."""
    for link, target in (("img/computegraph.svg", "/etc/passwd"), ("chapter_evil", "/etc")):
        mirror = tmp_path / f"mirror-{link.replace('/', '-')}" / "tr"
        (mirror / "chapter_x").mkdir(parents=True)
        (mirror / "index.md").write_text("# Kitap\n", "utf-8")
        (mirror / "chapter_x" / "a.md").write_text("# A\n", "utf-8")
        (mirror / link).parent.mkdir(parents=True, exist_ok=True)
        (mirror / link).symlink_to(target)
        _edition_toml(project, mirror=f'"{mirror}"')
        result = toolkit(project, "sync", "--edition", "tr", "--update-lock", timeout=120)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "symbolic link" in result.stderr and link in result.stderr and "Traceback" not in result.stderr
        assert not (project / "translations" / "tr" / link).exists()


def test_a_toc_entry_outside_the_edition_is_not_published(project: Path, tmp_path: Path) -> None:
    from toolkit.book.toc import book_toc
    from toolkit.parser import parse_chapter

    outside = tmp_path / "evil.md"
    outside.write_text("# Secret\n", "utf-8")
    book = tmp_path / "book"
    (book / "chapter_a").mkdir(parents=True)
    (book / "chapter_a" / "index.md").write_text("# A\n", "utf-8")
    (book / "index.md").write_text(
        f"# Book\n\n```toc\n:numbered:\nchapter_a/index\n{tmp_path / 'evil'}\n../evil\n```\n", "utf-8"
    )
    entries = book_toc(book, lambda path: parse_chapter(str(path), path.read_bytes()))
    assert [e.chapter for e in entries] == ["chapter_a/index.md"]
