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
- What runs for whom: an edition shows the outputs of the code it displays, so each source's
  program is built from its own basis (today's English for en, id and ko-partrita; the file's
  ``x_origin.md`` for ko, tr and vi) with that basis's ``d2l`` library; equal programs (same
  normalised code, framework, library, environment) still run once for every edition.
- ``--shard i/n`` keeps the chapters whose stable hash falls in shard i, so every edition of a
  chapter lands in the same shard and sharing across editions is kept.
- With a Ray address the queued programs run as Ray tasks (``toolkit.execute.cluster``); the
  driver alone writes the cache and the manifests, as with the local pool.
- ``<project>/build/cells/<edition>/<chapter>.json`` lists, per translated cell and
  framework, its outputs or why it has none; the site reads these and never executes code.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.book.history import EnglishHistory, load_history
from toolkit.cache import write_json_atomic
from toolkit.checker import project_jobs
from toolkit.config import ProjectConfig
from toolkit.execute.devices import Device, probe_devices
from toolkit.execute.environments import Environment, find_environment
from toolkit.execute.kernel import DEFAULT_MAX_OUTPUT_BYTES, CellResult, ProgramRun, run_program
from toolkit.execute.library import LibraryIndex, SaveDifference, save_differences
from toolkit.execute.programs import (
    Program,
    SharedCell,
    chapter_program,
    executable_cells,
    share_translation,
    translated_program,
)
from toolkit.model import Chapter

START_ORDER = ("tensorflow", "jax", "mxnet", "pytorch")


class Scheduler:
    """Hands queued programs to workers, framework by framework in the given order.

    Any idle worker takes the next program of the first framework that has one, so two CPU
    workers share even a single framework's queue. A framework in ``exclusive`` (one that runs
    on the GPU) is held by one worker at a time: two kernels of one framework never share a GPU.
    """

    def __init__(self, queues: dict[str, list[Planned]], exclusive: set[str]) -> None:
        self._pending = {fw: list(reversed(entries)) for fw, entries in queues.items()}
        self._exclusive = exclusive
        self._held: set[str] = set()
        self._lock = threading.Lock()

    def useful_workers(self) -> int:
        """How many workers can ever be busy at once."""
        return sum(1 if fw in self._exclusive else len(entries) for fw, entries in self._pending.items())

    def take(self) -> Planned | None:
        """The next program this worker may run, or None when none is left for it."""
        with self._lock:
            for fw, entries in self._pending.items():
                if entries and fw not in self._held:
                    if fw in self._exclusive:
                        self._held.add(fw)
                    return entries.pop()
            return None

    def release(self, framework: str) -> None:
        """The worker finished its program of ``framework``."""
        with self._lock:
            self._held.discard(framework)


def in_shard(chapter: str, shard: tuple[int, int] | None) -> bool:
    """Whether ``chapter`` belongs to shard ``(i, n)`` (1-based), by a hash stable across runs."""
    if shard is None:
        return True
    index, count = shard
    return int(hashlib.sha256(chapter.encode()).hexdigest()[:8], 16) % count == index - 1


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
    history = load_history(config.english_dir, config.source_dir)
    for job in chapter_jobs:
        if job.basis is None:
            continue
        english, english_tabs = job.basis, job.basis_tabs
        if (
            history.version_of(job.basis) is None
            and job.today is not None
            and _same_code(job.basis, job.basis_tabs, job.today, job.today_tabs)
        ):
            # an x_origin.md `toolkit update` wrote holds today's English cells among older
            # prose: no English version has its bytes, today's English has its code
            english, english_tabs = job.today, job.today_tabs
        sources.append(Source(job.edition, job.chapter, job.translation, job.tabs, english, english_tabs))
    return sources


def _same_code(path: Path, tabs: tuple[str, ...], other: Path, other_tabs: tuple[str, ...]) -> bool:
    """Whether two chapters' executable cells are the same programs in every framework."""
    from toolkit.code import normalise_code, resolved_tabs
    from toolkit.model import CodeCell, iter_blocks
    from toolkit.parser import parse_chapter

    def cells(file: Path, file_tabs: tuple[str, ...]) -> list[tuple[frozenset[str], str]]:
        chapter = parse_chapter(str(file), file.read_bytes())
        return [
            (frozenset(resolved_tabs(b, file_tabs)), normalise_code(b.code))
            for b, _ in iter_blocks(chapter.blocks)
            if isinstance(b, CodeCell) and b.executable
        ]

    try:
        return cells(path, tabs) == cells(other, other_tabs)
    except OSError:
        return False


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
    # (English file, framework, library origin, difference): #@save code the library defines otherwise
    save_differences: list[tuple[Path, str, str, SaveDifference]] = field(default_factory=list)
    no_library: list[tuple[str, str, str]] = field(default_factory=list)  # edition, chapter, framework
    # (edition, chapter, the file its code would come from): not proven English, not executed
    unproven: list[tuple[str, str, Path]] = field(default_factory=list)
    refused_library: dict[str, str] = field(default_factory=dict)  # library file -> why not imported

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
    first_failure = next((c for c in run.cells if c.status != "ok"), None)
    if first_failure is not None and first_failure.status == "needs-data":
        return "needs data"
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
    libraries: LibraryIndex | None = None,
    data_dir: Path | None = None,
    downloads: bool = True,
    shard: tuple[int, int] | None = None,
    ray_address: str = "",
    history: EnglishHistory | None = None,
) -> RunReport:
    """Plan, answer from the cache, run and write the manifests (module docstring).

    With ``history``, a source's English file executes only when its bytes are a version of
    English (``EnglishHistory.version_of``); else none of its cells runs (``report.unproven``)
    unless ``trust_translations``."""
    started = time.monotonic()
    sources = [s for s in sources if in_shard(s.chapter, shard)]
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

    compared: set[tuple[Path, str, str]] = set()
    for source in sources:
        report.paths[(source.edition, source.chapter)] = source.path
        unproven = (
            history is not None and not trust_translations and history.version_of(source.english_path) is None
        )
        if unproven:
            report.unproven.append((source.edition, source.chapter, source.english_path))
        english = parse(source.english_path)
        translation = parse(source.path)
        # chapter_x/y.md sits in the book's root, whose img/ the cells read as ../img; an
        # edition's img/ has only the figures it redrew, today's English has the others
        image_dirs = tuple(
            dict.fromkeys(
                str(folder.resolve())
                for folder in (
                    source.english_path.resolve().parent.parent / "img",
                    *([libraries.source_dir / libraries.today / "img"] if libraries else []),
                )
                if folder.is_dir()
            )
        )
        for framework in frameworks:
            library = (
                libraries.library_for(source.edition, source.english_path, framework) if libraries else None
            )
            program = chapter_program(
                english, source.chapter, source.english_tabs, framework, library, image_dirs
            )
            if program is None:
                continue
            if libraries is not None and library is None:
                report.no_library.append((source.edition, source.chapter, framework))
            module = library.digest_for(framework) if library is not None else ""
            if library is not None and (source.english_path, framework, module) not in compared:
                compared.add((source.english_path, framework, module))
                saved = [
                    (c.span.start, c.code)
                    for c in executable_cells(english, source.english_tabs, framework)
                    if c.save
                ]
                report.save_differences.extend(
                    (source.english_path, framework, library.origin, d)
                    for d in save_differences(saved, library, framework)
                )
            shared, replacements = share_translation(
                english, source.english_tabs, translation, source.tabs, program
            )
            if unproven:
                # the code would come from a file a contributor may have written: it never runs
                where = f"{source.edition}\0{source.chapter}\0{framework}"
                key = f"unproven-{hashlib.sha256(where.encode()).hexdigest()[:24]}"
                plans[key] = Planned(
                    program,
                    key,
                    [(source.edition, source.chapter)],
                    skipped=f"{source.english_path.name} is not English of any revision (its sha256 is in no "
                    "version of English's history); not executed (--trust-translations runs it)",
                )
            elif replacements and trust_translations:
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
        if entry.skipped:
            continue
        env = environments[entry.program.framework]
        if not env.ready:
            entry.skipped = env.reason
            continue
        entry.cached = _load_run(cache_dir / "outputs" / f"{entry.key}.json")
        if entry.cached is None:
            queue.setdefault(entry.program.framework, []).append(entry)
    report.planned = list(plans.values())

    def write_manifest(edition: str, chapter: str) -> None:
        """The chapter's manifest for the site, from what its programs did (run or cached)."""
        by_framework = per_source[(edition, chapter)]
        manifest: dict[str, Any] = {"edition": edition, "chapter": chapter, "frameworks": {}}
        for framework, (key, shared) in by_framework.items():
            entry = plans[key]
            run = entry.run or entry.cached
            status = program_status(run, entry.skipped, entry.run is None and entry.cached is not None)
            cells = []
            # cells after a missing dataset fail for want of it, not for their own code
            missing_from = next(
                (i for i, c in enumerate(run.cells if run else ()) if c.status == "needs-data"), None
            )
            for item in shared:
                result = (
                    run.cells[item.index]
                    if run is not None and item.index is not None and item.index < len(run.cells)
                    else None
                )
                if (
                    result is not None
                    and missing_from is not None
                    and item.index is not None
                    and item.index > missing_from
                    and result.status != "ok"
                ):
                    result = CellResult(
                        result.line,
                        "needs-data",
                        result.outputs,
                        result.seconds,
                        result.error,
                        result.traceback,
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
                        }.get(
                            item.status,
                            result.error if result and result.status == "needs-data" else entry.skipped,
                        ),
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

    # a chapter's manifest is written as soon as every program it shows has settled, so an
    # interrupted book run leaves the site the outputs of every chapter it finished
    sources_of: dict[str, list[tuple[str, str]]] = {}
    for source_key, by_framework in per_source.items():
        for key, _ in by_framework.values():
            sources_of.setdefault(key, []).append(source_key)
    manifest_lock = threading.Lock()

    def settled(key: str) -> bool:
        entry = plans[key]
        return entry.run is not None or entry.cached is not None or bool(entry.skipped)

    def chapter_finished(key: str) -> None:
        for edition, chapter in sources_of.get(key, []):
            if all(settled(k) for k, _ in per_source[(edition, chapter)].values()):
                with manifest_lock:
                    write_manifest(edition, chapter)

    # the framework with the slowest start (TensorFlow) first, so it never waits for a worker
    order = sorted(queue, key=lambda fw: START_ORDER.index(fw) if fw in START_ORDER else 99)
    scheduler = Scheduler(
        {fw: queue[fw] for fw in order}, exclusive={fw for fw in queue if devices[fw].kind == "gpu"}
    )

    def work() -> None:
        while (entry := scheduler.take()) is not None:
            try:
                run_one(entry)
            finally:
                scheduler.release(entry.program.framework)

    def run_one(entry: Planned) -> None:
        framework = entry.program.framework

        def cell_done(cell: CellResult) -> None:
            if on_event:
                on_event(framework, "cell", cell)

        if on_event:
            on_event(framework, "program", entry)
        run = run_program(
            entry.program,
            environments[framework],
            default_timeout,
            on_cell=cell_done,
            threads=threads,
            max_output_bytes=max_output_bytes,
            data_dir=data_dir,
            downloads=downloads,
        )
        finished(entry, run)

    def finished(entry: Planned, run: ProgramRun) -> None:
        entry.run = run
        if not run.problem:
            framework = entry.program.framework
            write_json_atomic(
                cache_dir / "outputs" / f"{entry.key}.json",
                {
                    "key": entry.key,
                    "framework": framework,
                    "chapter": entry.program.chapter,
                    "device": devices[framework].kind,
                    "seconds": run.seconds,
                    "cells": [c.to_json() for c in run.cells],
                    "extra": run.extra,  # e.g. the Ray node that ran it
                },
            )
        chapter_finished(entry.key)

    report.executions = sum(len(q) for q in queue.values())
    workers = max(1, min(jobs, scheduler.useful_workers()))
    threads = max(1, (os.cpu_count() or 1) // workers)
    if queue and ray_address:
        from toolkit.execute.cluster import run_on_ray

        entries = [entry for fw in queue for entry in queue[fw]]

        def job_done(index: int, run: ProgramRun) -> None:
            if on_event:
                on_event(entries[index].program.framework, "program", entries[index])
            finished(entries[index], run)

        run_on_ray(
            ray_address,
            [(entry.program, environments[entry.program.framework].lock_hash) for entry in entries],
            gpu={fw: devices[fw].kind == "gpu" for fw in queue},
            default_timeout=default_timeout,
            max_output_bytes=max_output_bytes,
            data_dir=data_dir,
            downloads=downloads,
            on_done=job_done,
        )
    elif queue:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(work) for _ in range(workers)]:
                future.result()

    for edition, chapter in per_source:
        write_manifest(edition, chapter)
    if libraries is not None:
        report.refused_library = dict(libraries.refused)
    report.seconds = time.monotonic() - started
    return report
