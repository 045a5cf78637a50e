"""Shared test helpers: where the corpus is, and fixture-file handling.

``pytest --force-regen`` rewrites the expected sections of the fixture files from the current
output (as pytest-regressions' option of that name does) and fails every case it changed, so
a regeneration is never a silent pass; review the diff before committing it. Without the
option a fixture test only compares.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.checker import ChapterJob
from toolkit.corpus import NEW_TABS, OLD_TABS, corpus_jobs

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(os.environ.get("D2L_SHARED", ROOT.parent / "shared")).resolve()
# projects the tests make under tmp read the same ../shared (English's history proves what runs)
os.environ.setdefault("D2L_SHARED", str(SHARED))
CORPUS = SHARED / "corpus"
BIN = Path(sys.executable).parent


def require_corpus() -> Path:
    if not (CORPUS / "MANIFEST.tsv").is_file():
        pytest.skip(f"{CORPUS} is absent (set D2L_SHARED)")
    return CORPUS


CorpusTranslation = ChapterJob
__all__ = ["NEW_TABS", "OLD_TABS", "CorpusTranslation", "corpus_translations", "require_corpus"]


def corpus_translations() -> list[ChapterJob]:
    """Every translated chapter in the corpus with its English basis (empty without corpus)."""
    if not (CORPUS / "MANIFEST.tsv").is_file():
        return []
    return corpus_jobs(CORPUS)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--force-regen",
        action="store_true",
        default=False,
        help="rewrite the expected sections of fixture files from the current output (cases that change fail)",
    )


class FixtureRegen:
    """Collects the produced output of every fixture case; at the end of the session, writes
    back the files in which a case changed (only under --force-regen)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.produced: dict[Path, dict[int, str]] = {}

    def check(self, path: Path, line: int, expected: str, produced: str) -> None:
        """Assert ``produced`` equals ``expected``; under --force-regen record it and fail."""
        if produced.rstrip("\n") == expected.rstrip("\n"):
            return
        if not self.enabled:
            assert produced.rstrip("\n") == expected.rstrip("\n")
        self.produced.setdefault(path, {})[line] = produced
        pytest.fail(f"{path.name}:{line}: expected section regenerated (--force-regen); review the diff")

    def write(self) -> None:
        from markdown_it.utils import read_fixture_file

        for path, changed in self.produced.items():
            cases = [
                (title, given, changed.get(line, expected))
                for line, title, given, expected in read_fixture_file(path)
            ]
            rewrite_fixture(path, cases)


_REGEN: FixtureRegen | None = None


@pytest.fixture(scope="session")
def fixture_regen(request: pytest.FixtureRequest) -> FixtureRegen:
    global _REGEN
    _REGEN = FixtureRegen(bool(request.config.getoption("--force-regen")))
    return _REGEN


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _REGEN is not None and _REGEN.enabled:
        _REGEN.write()


def rewrite_fixture(path: Path, cases: list[tuple[str, str, str]]) -> None:
    """Write a fixture file back with new expected sections (title, input, expected)."""
    parts = []
    for title, given, expected in cases:
        expected = expected if expected.endswith("\n") or not expected else expected + "\n"
        parts.append(f"{title}\n.\n{given}.\n{expected}.\n")
    path.write_text("\n".join(parts), encoding="utf-8")


SEED_CHAPTER = "chapter_computational-performance/hybridize.md"


def make_seed_project(destination: Path) -> Path:
    """A project holding only the seed chapter: the project's configuration and locks, the
    seed chapter of every English revision and edition (with its x_origin.md). The checkout
    itself holds the whole book after `toolkit sync`; tests that count chapters, build a site
    or run cells on "the project" use this one, so they stay small and exact."""
    import shutil

    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "pyproject.toml", destination / "pyproject.toml")
    config = (ROOT / "mkdocs.yml").read_text("utf-8")
    (destination / "mkdocs.yml").write_text(
        config.replace("docs_dir: toolkit/site/docs", f"docs_dir: {ROOT / 'toolkit/site/docs'}"), "utf-8"
    )
    wanted = [ROOT / "source_en" / "LOCK.toml", *sorted((ROOT / "source_en").glob("*.files.lock"))]
    wanted += sorted((ROOT / "source_en").glob(f"*/{SEED_CHAPTER}"))
    wanted += sorted((ROOT / "source_en").glob("*/d2l/*.py"))  # the book's own d2l libraries
    for edition in sorted(p for p in (ROOT / "translations").iterdir() if p.is_dir()):
        wanted += [edition / "edition.toml", edition / "files.lock", edition / SEED_CHAPTER]
        wanted.append(edition / "config.ini")  # the release whose English library its code runs with
        wanted += sorted((edition / "d2l").glob("*.py"))
        wanted.append(edition / SEED_CHAPTER.replace(".md", "_origin.md"))
    for source in wanted:
        if source.is_file():
            target = destination / source.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    return destination


@pytest.fixture(scope="session")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed project, shared by the tests that only read it."""
    return make_seed_project(tmp_path_factory.mktemp("seed") / "project")


def toolkit_command(
    project: Path, *args: str, env: dict[str, str] | None = None, timeout: int = 900
) -> subprocess.CompletedProcess[str]:
    """The real `toolkit` command in ``project``, its output captured (``env`` adds to ours)."""
    return subprocess.run(
        [str(BIN / "toolkit"), *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def build_site(
    project: Path, site: Path, languages: str = "", strict: bool = True
) -> subprocess.CompletedProcess[str]:
    """The real `mkdocs build` of ``project`` into ``site`` (``languages``: e.g. "en,tr")."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    if languages:
        env["TOOLKIT_SITE_LANGUAGES"] = languages
    return subprocess.run(
        [str(BIN / "mkdocs"), "build", *(["--strict"] if strict else []), "--site-dir", str(site)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=1200,
        env=env,
    )


@pytest.fixture(scope="session")
def built_site(seed: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The seed project's site, built once per session by the real `mkdocs build --strict`,
    after `toolkit run-cells` (cached after its first run) so pages carry real outputs."""
    cells = subprocess.run(
        [str(BIN / "toolkit"), "run-cells"], cwd=seed, capture_output=True, text=True, timeout=900
    )
    assert cells.returncode in (0, 1), cells.stderr[-2000:]
    site = tmp_path_factory.mktemp("site")
    result = build_site(seed, site)
    assert result.returncode == 0, result.stderr[-4000:]
    return site, result.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A seed project to change freely."""
    return make_seed_project(tmp_path / "project")
