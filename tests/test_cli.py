"""The toolkit command line, run as a user runs it (a subprocess of the installed script)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT, make_seed_project, require_corpus

TOOLKIT = str(Path(sys.executable).parent / "toolkit")
HYBRIDIZE = "chapter_computational-performance/hybridize.md"


SEED: list[Path] = []  # the session's seed project (set by the autouse fixture below)


@pytest.fixture(autouse=True)
def _seed_project(seed: Path) -> None:
    SEED[:] = [seed]


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The toolkit as a user runs it, by default inside the seed project."""
    cwd = cwd or SEED[0]
    return subprocess.run(
        [TOOLKIT, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


def test_help_explains_both_modes() -> None:
    result = run("check-alignment", "--help")
    assert result.returncode == 0
    assert "Pair mode" in result.stdout and "--source-tabs" in result.stdout and "Exit:" in result.stdout


def test_project_mode_reports_findings_with_path_line_code() -> None:
    result = run("check-alignment")
    assert result.returncode == 0, result.stderr  # the seeds have warnings, no errors
    assert "translations/ko/chapter_computational-performance/hybridize.md:4: M004" in result.stdout
    assert "findings per edition × chapter" in result.stdout
    assert "5 chapter(s) checked" in result.stdout
    last = result.stdout.rstrip().splitlines()[-1]
    assert re.fullmatch(r"findings per chapter: median \d+(\.5)?, most \d+ \(translations/[\w/.-]+\.md\)", last), last


def test_json_report_has_the_documented_shape() -> None:
    result = run("check-alignment", "--format", "json")
    data = json.loads(result.stdout)
    assert set(data) == {"findings", "summary"}
    keys = {"code", "name", "severity", "path", "line", "message", "edition", "chapter"}
    assert data["findings"] and all(keys <= set(f) for f in data["findings"])
    assert data["summary"]["chapters_checked"] == 5
    assert {row["edition"] for row in data["summary"]["chapters"]} == {"ko", "ko-partrita", "id", "tr", "vi"}
    # paths as the findings show them, never the machine's absolute ones
    assert all(row["path"].startswith("translations/") for row in data["summary"]["chapters"])
    most = max(row["error"] + row["warning"] + row["info"] for row in data["summary"]["chapters"])
    assert data["summary"]["per_chapter"]["most"] == most


def test_html_report_is_written(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    result = run("check-alignment", "translations/ko", "--format", "html", "--output", str(target))
    assert result.returncode == 0
    html = target.read_text("utf-8")
    assert "<table>" in html and "M004" in html and "ko-partrita" not in html


def test_select_and_ignore() -> None:
    only_m = json.loads(run("check-alignment", "--format", "json", "--select", "M00").stdout)
    assert only_m["findings"] and {f["code"][:3] for f in only_m["findings"]} == {"M00"}
    without = json.loads(run("check-alignment", "--format", "json", "--ignore", "M,S").stdout)
    assert not [f for f in without["findings"] if f["code"][0] in "MS"]


def test_suppression_comment_in_the_markdown(tmp_path: Path) -> None:
    require_corpus()
    english = CORPUS / "en-history/hybridize.fd6224a0.md"
    translation = (ROOT / "translations/ko" / HYBRIDIZE).read_text("utf-8")
    silenced = tmp_path / "ko.md"
    silenced.write_text("<!-- toolkit: ignore-file M004 -->\n" + translation, "utf-8")
    args = [
        "--source",
        str(english),
        "--source-tabs",
        "mxnet,pytorch,tensorflow",
        "--tabs",
        "mxnet,pytorch,tensorflow",
        "--lang",
        "ko",
        "--format",
        "json",
    ]
    before = json.loads(
        run("check-alignment", *args, "--translation", str(ROOT / "translations/ko" / HYBRIDIZE)).stdout
    )
    after = json.loads(run("check-alignment", *args, "--translation", str(silenced)).stdout)
    assert any(f["code"] == "M004" for f in before["findings"])
    assert not any(f["code"] == "M004" for f in after["findings"])


def test_pair_mode_detects_the_language_and_exits_1_on_errors(tmp_path: Path) -> None:
    require_corpus()
    broken = tmp_path / "tr.md"
    text = (ROOT / "translations/tr" / HYBRIDIZE).read_text("utf-8")
    broken.write_text(text.replace("net.hybridize()", "net.hybridise()", 1), "utf-8")
    result = run(
        "check-alignment",
        "--source",
        str(CORPUS / "en-history/hybridize.fd6224a0.md"),
        "--source-tabs",
        "mxnet,pytorch,tensorflow",
        "--translation",
        str(broken),
        "--tabs",
        "mxnet, pytorch, tensorflow",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "language detected as `tr`" in result.stderr
    assert "tr.md:" in result.stdout and "C003" in result.stdout and "hint:" in result.stdout


def test_pair_mode_against_todays_english_reports_staleness() -> None:
    require_corpus()
    result = run(
        "check-alignment",
        "--source",
        str(CORPUS / "en-history/hybridize.fd6224a0.md"),
        "--source-tabs",
        "mxnet,pytorch,tensorflow",
        "--today",
        str(CORPUS / "en" / HYBRIDIZE),
        "--today-tabs",
        "pytorch,mxnet,jax,tensorflow",
        "--translation",
        str(ROOT / "translations/vi" / HYBRIDIZE),
        "--tabs",
        "mxnet,pytorch,tensorflow",
        "--lang",
        "vi",
        "--select",
        "S",
        "--verbose",
    )
    # one staleness finding for the chapter; --verbose lists each block with its word diff
    assert result.stdout.count(": S001 English moved on since the basis source") == 1
    assert "block(s) changed" in result.stdout and "[-Let us-] {+Let's+}" in result.stdout
    # the explicit `#@tab mxnet` English added is no change: same cell, same tabs
    assert "#@tab mxnet+}" not in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["check-alignment", "--source", "pyproject.toml"],
            "pair mode needs both --source and at least one --translation",
        ),
        (["check-alignment", "--format", "xml"], "Invalid value for '--format'"),
        (["check-alignment", "no/such/dir"], "no such file or directory"),
        (["rules", "Z999"], "unknown rule Z999"),
        (["check-alignment", "--select", "ZZZ"], "--select ZZZ: no rule has this code or prefix"),
        (["check-alignment", "--ignore", "C,Q9"], "--ignore Q9: no rule has this code or prefix"),
    ],
)
def test_user_mistakes_exit_2_without_traceback(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert_no_traceback(result)


def copy_project(tmp_path: Path) -> Path:
    return make_seed_project(tmp_path / "project")


def test_bad_edition_metadata_names_the_file_and_valid_keys(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    edition = project / "translations/tr/edition.toml"
    edition.write_text(edition.read_text("utf-8") + 'colour = "red"\n', "utf-8")
    result = run("check-alignment", cwd=project)
    assert result.returncode == 2
    assert "translations/tr/edition.toml: unknown key(s) colour; valid keys:" in result.stderr
    assert_no_traceback(result)


@pytest.mark.parametrize(
    ("command", "setting", "message"),
    [
        (
            ["run-cells", "--format", "json"],
            'cell_timeout = "abc"',
            "cell_timeout (seconds) must be a number >= 1, not 'abc'",
        ),
        (["run-cells"], "cell_timeout = -5", "cell_timeout (seconds) must be a number >= 1, not -5"),
        (["check-alignment"], "source = 5", "source must be a non-empty string, not 5"),
        (["status"], "max_output_bytes = 1.5", "max_output_bytes must be a whole number >= 1024, not 1.5"),
        (
            ["check-alignment"],
            "cell_timeout = true",
            "cell_timeout (seconds) must be a number >= 1, not True",
        ),
    ],
)
def test_bad_project_settings_name_file_key_and_what_is_allowed(
    tmp_path: Path, command: list[str], setting: str, message: str
) -> None:
    project = copy_project(tmp_path)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text("utf-8")
    key = setting.split(" = ")[0]
    lines = [line for line in text.splitlines() if not line.startswith(f"{key} = ")]
    at = lines.index("[tool.toolkit]") + 1
    pyproject.write_text("\n".join([*lines[:at], setting, *lines[at:]]) + "\n", "utf-8")
    result = run(*command, cwd=project)
    assert result.returncode == 2, result.stdout[-500:]
    assert "pyproject.toml [tool.toolkit]: " + message in result.stderr
    assert_no_traceback(result)


def test_edition_metadata_that_is_not_utf8_or_missing_is_an_error(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    edition = project / "translations/tr/edition.toml"
    edition.write_bytes(edition.read_bytes().replace("ü".encode(), "ü".encode("latin-1")) + b"# \xff\n")
    result = run("status", cwd=project)
    assert result.returncode == 2
    assert "translations/tr/edition.toml: not UTF-8 text" in result.stderr
    assert_no_traceback(result)
    edition.unlink()  # a deleted metadata file must not silently drop the edition
    result = run("check-alignment", cwd=project)
    assert result.returncode == 2
    assert "translations/tr/edition.toml: missing: every directory under" in result.stderr
    assert_no_traceback(result)


def test_altered_english_source_is_an_error_naming_file_and_hash(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    source = project / "source_en/fd6224a0" / HYBRIDIZE
    source.write_text(source.read_text("utf-8") + "\nedited\n", "utf-8")
    result = run("check-alignment", cwd=project)
    assert result.returncode == 2
    assert f"fd6224a0/{HYBRIDIZE}: altered" in result.stderr and "expected 939daa62" in result.stderr
    # sync-sources repairs it from the corpus and verifies it
    require_corpus()
    repaired = run("sync", "--shared", str(CORPUS.parent), cwd=project)
    assert repaired.returncode == 0, repaired.stderr
    assert "source_en (older revisions): 1 file(s) copied" in repaired.stdout
    assert run("check-alignment", f"translations/ko/{HYBRIDIZE}", cwd=project).returncode == 0


def test_sync_sources_reports_a_corpus_that_does_not_match_the_lock(tmp_path: Path) -> None:
    require_corpus()
    project = copy_project(tmp_path)
    shutil.rmtree(project / "source_en/fd6224a0")
    fake_shared = tmp_path / "shared"
    shutil.copytree(CORPUS, fake_shared / "corpus")
    (fake_shared / "corpus/en-history/hybridize.fd6224a0.md").write_text("tampered\n", "utf-8")
    result = run("sync-sources", "--shared", str(fake_shared), cwd=project)
    assert result.returncode == 2
    assert (
        "hybridize.fd6224a0.md: sha256" in result.stderr
        and "does not match the lock (939daa62" in result.stderr
    )
    (fake_shared / "corpus/en-history/hybridize.fd6224a0.md").unlink()
    missing = run("sync-sources", "--shared", str(fake_shared), cwd=project)
    assert "missing from the corpus" in missing.stderr


def test_rules_lists_every_code_with_its_documentation() -> None:
    listing = run("rules").stdout
    for code in ("C001", "C003", "T001", "L001", "R001", "M001", "P001", "S001", "S003", "X001"):
        assert code in listing
    doc = run("rules", "T001").stdout
    assert "default tab" in doc


def test_parse_shows_the_model() -> None:
    result = run("parse", f"translations/ko/{HYBRIDIZE}")
    assert result.returncode == 0
    assert "CodeCell 6-18 python exec=True tabs=all" in result.stdout
