"""Worker processes that parse and check (toolkit.workers): the same findings as one process,
their errors raised in the parent, and what they parsed used again when they check."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from toolkit import checker
from toolkit.cache import ResultCache
from toolkit.checker import ChapterStore, check_jobs, project_jobs
from toolkit.config import ConfigError, load_project
from toolkit.findings import Finding
from toolkit.language import LanguageDetector
from toolkit.workers import CheckWorkers, chapter_key


def _serial(monkeypatch: pytest.MonkeyPatch, project: Path) -> list[Finding]:
    monkeypatch.setattr(checker, "PARALLEL_FROM", 10**9)
    config = load_project(project)
    store = ChapterStore(project)
    jobs, _, _ = project_jobs(config, store=store)
    result = check_jobs(jobs, store, LanguageDetector())
    return list(result.findings)


def test_workers_started_before_parsing_give_the_findings_of_one_process(
    seed: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = load_project(seed)
    store = ChapterStore(seed)
    with CheckWorkers(store, 2) as workers:
        jobs, _, _ = project_jobs(config, store=store, cache=ResultCache(tmp_path), workers=workers)
        # the parent mapped every chapter by labels the workers parsed: it parsed nothing
        assert not store._chapters
        result = check_jobs(jobs, store, LanguageDetector(), cache=ResultCache(tmp_path), workers=workers)
        assert not store._chapters
    parallel = list(result.findings)
    assert parallel and parallel == _serial(monkeypatch, seed)


def test_workers_forked_late_inherit_the_parsed_chapters(seed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The site's way: the parent parsed while mapping; check_jobs forks its own workers."""
    monkeypatch.setattr(checker, "PARALLEL_FROM", 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    config = load_project(seed)
    store = ChapterStore(seed)
    jobs, _, _ = project_jobs(config, store=store)
    parallel = check_jobs(jobs, store, LanguageDetector()).findings
    assert parallel == _serial(monkeypatch, seed)


def test_a_file_a_worker_cannot_read_is_the_parents_config_error(tmp_path: Path) -> None:
    store = ChapterStore(tmp_path)
    missing = tmp_path / "chapter_x" / "gone.md"
    with CheckWorkers(store, 2) as workers, pytest.raises(ConfigError, match=r"gone\.md: cannot read"):
        workers.prefetch_labels([missing])


def test_one_chapters_files_in_every_edition_share_a_key() -> None:
    keys = {
        chapter_key(Path(p))
        for p in (
            "translations/ko/chapter_preliminaries/ndarray.md",
            "translations/tr/chapter_preliminaries/ndarray_origin.md",
            "source_en/fd6224a0/chapter_preliminaries/ndarray.md",
        )
    }
    assert keys == {"chapter_preliminaries/ndarray.md"}
    assert chapter_key(Path("translations/ko/index.md")) == "index.md"
