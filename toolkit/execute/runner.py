"""run-cells: plan the programs, answer from the cache, run the rest in parallel kernels, and
write what every edition shows.

Invariants:
- Programs are deduplicated by key before anything runs, so the seed chapter's five editions
  (two English bases whose cells are the same code) cost one kernel per framework.
- A finished program is stored at ``<cache>/outputs/<key>.json`` by write-then-rename: a run
  killed with ``kill -9`` leaves finished programs cached and nothing half-written, and the
  next run redoes only what was unfinished.
- A program whose cells failed is stored too (failure is a result), unless the kernel could
  not start (a set-up problem, retried next time).
- ``<project>/build/cells/<edition>/<chapter>.json`` lists, per translated cell and
  framework, its outputs or why it has none; the site reads these and never executes code.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.cache import write_json_atomic
from toolkit.checker import project_jobs
from toolkit.config import ProjectConfig
from toolkit.execute.devices import Device, probe_devices
from toolkit.execute.environments import Environment, find_environment
from toolkit.execute.kernel import DEFAULT_MAX_OUTPUT_BYTES, CellResult, ProgramRun, run_program
from toolkit.execute.programs import (
    Program,
    SharedCell,
    chapter_program,
    share_translation,
    translated_program,
)
from toolkit.model import Chapter

START_ORDER = ("tensorflow", "mxnet", "pytorch")


@dataclass(frozen=True)
class Source:
    """One chapter as an edition publishes it, with the English its code comes from."""

    edition: str  # "en" for today's English
    chapter: str
    path: Path
    tabs: tuple[str, ...]
    english_path: Path
    english_tabs: tuple[str, ...]


def project_sources(config: ProjectConfig, only: Iterable[Path] = ()) -> list[Source]:
    """Today's English of every translated chapter, then every edition's chapters (or those under ``only``)."""
    from toolkit.cache import ResultCache

    chapter_jobs, lock, _ = project_jobs(config, only, cache=ResultCache(config.cache_dir))
    today = lock.today
    sources: list[Source] = []
    for chapter in sorted({job.chapter for job in chapter_jobs}):
        english = config.source_dir / today.id / chapter
        if english.is_file():
            sources.append(Source("en", chapter, english, today.tabs, english, today.tabs))
    for job in chapter_jobs:
        if job.basis is not None:
            sources.append(
                Source(job.edition, job.chapter, job.translation, job.tabs, job.basis, job.basis_tabs)
            )
    return sources


@dataclass
class Planned:
    program: Program
    key: str
    sources: list[tuple[str, str]] = field(default_factory=list)  # (edition, chapter) using it
    cached: ProgramRun | None = None
    run: ProgramRun | None = None
    skipped: str = ""


@dataclass
class RunReport:
    devices: dict[str, Device]
    environments: dict[str, Environment]
    planned: list[Planned]
    manifests: dict[tuple[str, str], dict[str, Any]]
    executions: int = 0
    seconds: float = 0.0
    untrusted: list[tuple[str, str, int, str]] = field(
        default_factory=list
    )  # edition, chapter, line, framework
    paths: dict[tuple[str, str], Path] = field(default_factory=dict)  # (edition, chapter) -> file

    def status(self, edition: str, chapter: str, framework: str) -> str:
        manifest = self.manifests.get((edition, chapter), {})
        return str(manifest.get("frameworks", {}).get(framework, {}).get("status", "—"))


def _load_run(path: Path) -> ProgramRun | None:
    try:
        data = json.loads(path.read_text("utf-8"))
        return ProgramRun(
            tuple(CellResult.from_json(c) for c in data["cells"]),
            data["seconds"],
            extra=data.get("extra", {}),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def program_status(run: ProgramRun | None, skipped: str, cached: bool) -> str:
    if skipped:
        return "skipped"
    if run is None:
        return "not run"
    if run.problem:
        return "failed"
    if any(c.status in ("timeout",) for c in run.cells):
        return "timed out"
    if any(c.status in ("error", "crashed", "not-run") for c in run.cells):
        return "failed"
    return "cached" if cached else "ok"


def run_cells(
    sources: list[Source],
    parse: Callable[[Path], Chapter],
    frameworks: tuple[str, ...],
    cache_dir: Path,
    manifest_dir: Path,
    default_timeout: float,
    jobs: int,
    trust_translations: bool,
    environments: dict[str, Environment] | None = None,
    on_event: Callable[[str, str, Any], None] | None = None,
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
) -> RunReport:
    started = time.monotonic()
    environments = environments or {fw: find_environment(fw) for fw in frameworks}
    devices = probe_devices(environments)
    plans: dict[str, Planned] = {}
    per_source: dict[tuple[str, str], dict[str, tuple[str, list[SharedCell]]]] = {}
    report = RunReport(devices, environments, [], {})

    def plan(program: Program, edition: str, chapter: str) -> str:
        env = environments[program.framework]
        key = program.key(env.lock_hash, devices[program.framework].kind)
        entry = plans.setdefault(key, Planned(program, key))
        entry.sources.append((edition, chapter))
        return key

    for source in sources:
        report.paths[(source.edition, source.chapter)] = source.path
        english = parse(source.english_path)
        translation = parse(source.path)
        for framework in frameworks:
            program = chapter_program(english, source.chapter, source.english_tabs, framework)
            if program is None:
                continue
            shared, replacements = share_translation(
                english, source.english_tabs, translation, source.tabs, program
            )
            if replacements and trust_translations:
                key = plan(
                    translated_program(program, translation, replacements), source.edition, source.chapter
                )
                shared = [
                    SharedCell(
                        s.line,
                        s.framework,
                        s.english_line,
                        "own" if s.status == "differs" else s.status,
                        s.index,
                    )
                    for s in shared
                ]
            else:
                key = plan(program, source.edition, source.chapter)
                report.untrusted.extend(
                    (source.edition, source.chapter, s.line, framework)
                    for s in shared
                    if s.status == "differs"
                )
            per_source.setdefault((source.edition, source.chapter), {})[framework] = (key, shared)

    queue: dict[str, list[Planned]] = {}
    for entry in plans.values():
        env = environments[entry.program.framework]
        if not env.ready:
            entry.skipped = env.reason
            continue
        entry.cached = _load_run(cache_dir / "outputs" / f"{entry.key}.json")
        if entry.cached is None:
            queue.setdefault(entry.program.framework, []).append(entry)
    report.planned = list(plans.values())

    def work(framework: str) -> None:
        def cell_done(cell: CellResult) -> None:
            if on_event:
                on_event(framework, "cell", cell)

        for entry in queue[framework]:
            if on_event:
                on_event(framework, "program", entry)
            run = run_program(
                entry.program,
                environments[framework],
                default_timeout,
                on_cell=cell_done,
                threads=threads,
                max_output_bytes=max_output_bytes,
            )
            entry.run = run
            if not run.problem:
                write_json_atomic(
                    cache_dir / "outputs" / f"{entry.key}.json",
                    {
                        "key": entry.key,
                        "framework": framework,
                        "chapter": entry.program.chapter,
                        "device": devices[framework].kind,
                        "seconds": run.seconds,
                        "cells": [c.to_json() for c in run.cells],
                    },
                )

    report.executions = sum(len(q) for q in queue.values())
    workers = max(1, min(jobs, len(queue)))
    threads = max(1, (os.cpu_count() or 1) // workers)
    if queue:
        # the framework with the slowest start (TensorFlow) first, so it never waits for a worker
        order = sorted(queue, key=lambda fw: START_ORDER.index(fw) if fw in START_ORDER else 99)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(work, order))

    for (edition, chapter), by_framework in per_source.items():
        manifest: dict[str, Any] = {"edition": edition, "chapter": chapter, "frameworks": {}}
        for framework, (key, shared) in by_framework.items():
            entry = plans[key]
            run = entry.run or entry.cached
            status = program_status(run, entry.skipped, entry.run is None and entry.cached is not None)
            cells = []
            for item in shared:
                result = (
                    run.cells[item.index]
                    if run is not None and item.index is not None and item.index < len(run.cells)
                    else None
                )
                cells.append(
                    {
                        "line": item.line,
                        "english_line": item.english_line,
                        "index": item.index,  # the cell's place in the program that ran it
                        "sharing": item.status,
                        "status": result.status
                        if result and item.status in ("shared", "own")
                        else "not-executed",
                        "outputs": list(result.outputs)
                        if result and item.status in ("shared", "own")
                        else [],
                        "reason": {
                            "differs": "code differs from English; not executed (use --trust-translations)",
                            "extra": "no English counterpart; not executed",
                        }.get(item.status, entry.skipped),
                    }
                )
            manifest["frameworks"][framework] = {
                "status": status,
                "device": devices[framework].kind,
                "device_detail": devices[framework].detail,
                "key": key,
                "skipped": entry.skipped,
                "seconds": round(run.seconds, 2) if run else 0.0,
                "cells": cells,
            }
        report.manifests[(edition, chapter)] = manifest
        write_json_atomic(manifest_dir / edition / f"{chapter}.json", manifest)
    report.seconds = time.monotonic() - started
    return report
