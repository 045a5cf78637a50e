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
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from toolkit.book.history import EnglishHistory, load_history
from toolkit.cache import write_json_atomic
from toolkit.checker import project_jobs
from toolkit.config import ProjectConfig
from toolkit.execute.devices import Device, probe_devices
from toolkit.execute.environments import Environment, find_environment
from toolkit.execute.kernel import DEFAULT_MAX_OUTPUT_BYTES, run_program
from toolkit.execute.library import LibraryIndex, SaveDifference, save_differences
from toolkit.execute.programs import (
    Program,
    SharedCell,
    chapter_program,
    executable_cells,
    share_translation,
    translated_program,
)
from toolkit.execute.results import (
    CellResult,
    ChapterManifest,
    FrameworkOutputs,
    ProgramRun,
    ProgramStatus,
    ShownCell,
    StoredRun,
    program_status,
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


@dataclass(frozen=True)
class Planned:
    """One distinct program to run (or skip), and the (edition, chapter) pages that show it."""

    program: Program
    key: str  # its cache key on this machine's device
    sources: tuple[tuple[str, str], ...]
    skipped: str = ""  # why it never runs ("" when it does)
    # keys of the same program run on a GPU: a CPU machine shows such a run (one imported with
    # --import-cache, say) rather than running it again; a GPU machine never takes a CPU run
    fallback_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunPlan:
    """Everything run-cells decided before any kernel starts.

    Invariant: every key in ``shown`` is a key of ``programs``."""

    programs: Mapping[str, Planned]
    # (edition, chapter) -> framework -> (program key, how each translated cell gets its output)
    shown: Mapping[tuple[str, str], Mapping[str, tuple[str, tuple[SharedCell, ...]]]]
    paths: Mapping[tuple[str, str], Path]  # (edition, chapter) -> the edition's file
    untrusted: tuple[tuple[str, str, int, str], ...]  # edition, chapter, line, framework
    unproven: tuple[tuple[str, str, Path], ...]  # edition, chapter, the file its code would come from
    # (English file, framework, library origin, difference): #@save code the library defines otherwise
    save_differences: tuple[tuple[Path, str, str, SaveDifference], ...]
    no_library: tuple[tuple[str, str, str], ...]  # edition, chapter, framework


@dataclass(frozen=True)
class ExecutionSettings:
    """How kernels run: the same for every program of one run-cells call."""

    default_timeout: float
    jobs: int
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    data_dir: Path | None = None
    downloads: bool = True
    ray_address: str = ""


@dataclass
class RunReport:
    """What one run-cells call planned, found in the cache, ran and wrote."""

    devices: dict[str, Device]
    environments: dict[str, Environment]
    plan: RunPlan
    stored: dict[str, StoredRun] = field(default_factory=dict)  # key -> the cached run it showed
    runs: dict[str, ProgramRun] = field(default_factory=dict)  # key -> run by this call
    manifests: dict[tuple[str, str], ChapterManifest] = field(default_factory=dict)
    executions: int = 0
    seconds: float = 0.0
    refused_library: dict[str, str] = field(default_factory=dict)  # library file -> why not imported

    @property
    def planned(self) -> list[Planned]:
        return list(self.plan.programs.values())

    @property
    def paths(self) -> Mapping[tuple[str, str], Path]:
        return self.plan.paths

    @property
    def untrusted(self) -> tuple[tuple[str, str, int, str], ...]:
        return self.plan.untrusted

    @property
    def unproven(self) -> tuple[tuple[str, str, Path], ...]:
        return self.plan.unproven

    @property
    def save_differences(self) -> tuple[tuple[Path, str, str, SaveDifference], ...]:
        return self.plan.save_differences

    @property
    def no_library(self) -> tuple[tuple[str, str, str], ...]:
        return self.plan.no_library

    def exportable_keys(self) -> set[str]:
        """The cache keys of every run this report shows: what ``--export-cache`` packs."""
        keys = {key for key, run in self.runs.items() if not run.problem}
        return keys | {stored.key for stored in self.stored.values()}

    def run_of(self, key: str) -> ProgramRun | None:
        """The program's run: this call's, else the cached one, else None."""
        if key in self.runs:
            return self.runs[key]
        stored = self.stored.get(key)
        return stored.run if stored is not None else None

    def status(self, edition: str, chapter: str, framework: str) -> ProgramStatus:
        manifest = self.manifests.get((edition, chapter))
        return manifest.status(framework) if manifest is not None else "not-run"


def plan_runs(
    sources: list[Source],
    parse: Callable[[Path], Chapter],
    frameworks: tuple[str, ...],
    environments: Mapping[str, Environment],
    devices: Mapping[str, Device],
    trust_translations: bool,
    libraries: LibraryIndex | None = None,
    history: EnglishHistory | None = None,
) -> RunPlan:
    """Which programs run for which pages (module docstring); runs nothing.

    With ``history``, a source's English file executes only when its bytes are a version of
    English (``EnglishHistory.version_of``); else none of its cells runs (``unproven``) unless
    ``trust_translations``."""
    programs: dict[str, Program] = {}
    users: dict[str, list[tuple[str, str]]] = {}
    skipped: dict[str, str] = {}
    shown: dict[tuple[str, str], dict[str, tuple[str, tuple[SharedCell, ...]]]] = {}
    paths: dict[tuple[str, str], Path] = {}
    untrusted: list[tuple[str, str, int, str]] = []
    unproven: list[tuple[str, str, Path]] = []
    differences: list[tuple[Path, str, str, SaveDifference]] = []
    no_library: list[tuple[str, str, str]] = []
    compared: set[tuple[Path, str, str]] = set()

    def use(program: Program, page: tuple[str, str], key: str = "") -> str:
        env = environments[program.framework]
        key = key or program.key(env.lock_hash, devices[program.framework].kind)
        programs.setdefault(key, program)
        users.setdefault(key, []).append(page)
        if not env.ready:
            skipped.setdefault(key, env.reason)
        return key

    for source in sources:
        page = (source.edition, source.chapter)
        paths[page] = source.path
        is_unproven = (
            history is not None and not trust_translations and history.version_of(source.english_path) is None
        )
        if is_unproven:
            unproven.append((source.edition, source.chapter, source.english_path))
        english = parse(source.english_path)
        translation = parse(source.path)
        image_dirs = _image_dirs(source, libraries)
        for framework in frameworks:
            library = (
                libraries.library_for(source.edition, source.english_path, framework) if libraries else None
            )
            program = chapter_program(
                english,
                source.chapter,
                source.english_tabs,
                framework,
                library,
                image_dirs,
            )
            if program is None:
                continue
            if libraries is not None and library is None:
                no_library.append((source.edition, source.chapter, framework))
            module = library.digest_for(framework) if library is not None else ""
            if library is not None and (source.english_path, framework, module) not in compared:
                compared.add((source.english_path, framework, module))
                saved = [
                    (c.span.start, c.code)
                    for c in executable_cells(english, source.english_tabs, framework)
                    if c.save
                ]
                differences.extend(
                    (source.english_path, framework, library.origin, d)
                    for d in save_differences(saved, library, framework)
                )
            shared, replacements = share_translation(
                english, source.english_tabs, translation, source.tabs, program
            )
            if is_unproven:
                # the code would come from a file a contributor may have written: it never runs
                where = f"{source.edition}\0{source.chapter}\0{framework}"
                key = use(program, page, f"unproven-{hashlib.sha256(where.encode()).hexdigest()[:24]}")
                skipped[key] = (
                    f"{source.english_path.name} is not English of any revision (its sha256 is in no "
                    "version of English's history); not executed (--trust-translations runs it)"
                )
            elif replacements and trust_translations:
                key = use(translated_program(program, translation, replacements), page)
                shared = [replace(s, status="own" if s.status == "differs" else s.status) for s in shared]
            else:
                key = use(program, page)
                untrusted.extend(
                    (source.edition, source.chapter, s.line, framework)
                    for s in shared
                    if s.status == "differs"
                )
            shown.setdefault(page, {})[framework] = (key, tuple(shared))

    def fallbacks(key: str, program: Program) -> tuple[str, ...]:
        if key.startswith("unproven-") or devices[program.framework].kind == "gpu":
            return ()
        return (program.key(environments[program.framework].lock_hash, "gpu"),)

    return RunPlan(
        {
            key: Planned(program, key, tuple(users[key]), skipped.get(key, ""), fallbacks(key, program))
            for key, program in programs.items()
        },
        shown,
        paths,
        tuple(untrusted),
        tuple(unproven),
        tuple(differences),
        tuple(no_library),
    )


def _image_dirs(source: Source, libraries: LibraryIndex | None) -> tuple[str, ...]:
    """The figure folders a chapter's cells read as ../img: chapter_x/y.md sits in the book's
    root, whose img/ it is; an edition's img/ has only the figures it redrew, today's English
    has the others."""
    folders = (
        source.english_path.resolve().parent.parent / "img",
        *([libraries.source_dir / libraries.today / "img"] if libraries else []),
    )
    return tuple(dict.fromkeys(str(folder.resolve()) for folder in folders if folder.is_dir()))


def cached_runs(plan: RunPlan, outputs_dir: Path) -> dict[str, StoredRun]:
    """The stored run of each program that will not be skipped, under its own key or, failing
    that, a fallback key (a GPU run of the same program)."""
    found: dict[str, StoredRun] = {}
    for entry in plan.programs.values():
        if entry.skipped:
            continue
        for key in (entry.key, *entry.fallback_keys):
            stored = StoredRun.load(outputs_dir / f"{key}.json")
            if stored is not None and stored.key == key and stored.framework == entry.program.framework:
                found[entry.key] = stored
                break
    return found


def chapter_manifest(
    plan: RunPlan,
    page: tuple[str, str],
    runs: Mapping[str, ProgramRun],
    stored: Mapping[str, StoredRun],
    devices: Mapping[str, Device],
) -> ChapterManifest:
    """What one edition's chapter shows, from what its programs did (run now or cached)."""
    frameworks: dict[str, FrameworkOutputs] = {}
    for framework, (key, shared) in plan.shown[page].items():
        entry = plan.programs[key]
        cached = key not in runs and key in stored
        run = runs.get(key) or (stored[key].run if cached else None)
        device = stored[key].device if cached else devices[framework].kind
        detail = devices[framework].detail
        if device != devices[framework].kind:
            detail = f"run on another machine's {device} (from the cache)"
        # cells after a missing dataset fail for want of it, not for their own code
        missing_from = next(
            (i for i, c in enumerate(run.cells if run else ()) if c.status == "needs-data"), None
        )
        frameworks[framework] = FrameworkOutputs(
            program_status(run, entry.skipped),
            cached,
            device,
            detail,
            key,
            entry.skipped,
            round(run.seconds, 2) if run else 0.0,
            tuple(_shown_cell(item, run, missing_from, entry.skipped) for item in shared),
        )
    return ChapterManifest(page[0], page[1], frameworks)


def _shown_cell(
    item: SharedCell, run: ProgramRun | None, missing_from: int | None, skipped: str
) -> ShownCell:
    """The output one translated cell shows, or why it has none (``missing_from``: the program's
    first cell that lacked a dataset; the failures after it are for want of it)."""
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
        result = replace(result, status="needs-data")
    executed = result is not None and item.status in ("shared", "own")
    if item.status == "differs":
        reason = "code differs from English; not executed (use --trust-translations)"
    elif item.status == "extra":
        reason = "no English counterpart; not executed"
    elif result is not None and result.status == "needs-data":
        reason = result.error
    else:
        reason = skipped
    return ShownCell(
        item.line,
        item.english_line,
        item.index,
        item.status,
        result.status if result is not None and executed else "not-executed",
        result.outputs if result is not None and executed else (),
        reason,
    )


class ManifestWriter:
    """Writes a chapter's manifest as soon as every program it shows has settled, so an
    interrupted book run leaves the site the outputs of every chapter it finished."""

    def __init__(self, report: RunReport, manifest_dir: Path) -> None:
        self._report = report
        self._directory = manifest_dir
        self._lock = threading.Lock()
        self._pages_of: dict[str, list[tuple[str, str]]] = {}
        for page, by_framework in report.plan.shown.items():
            for key, _ in by_framework.values():
                self._pages_of.setdefault(key, []).append(page)

    def _settled(self, key: str) -> bool:
        report = self._report
        return key in report.runs or key in report.stored or bool(report.plan.programs[key].skipped)

    def write(self, page: tuple[str, str]) -> None:
        report = self._report
        with self._lock:
            manifest = chapter_manifest(report.plan, page, report.runs, report.stored, report.devices)
            report.manifests[page] = manifest
            write_json_atomic(self._directory / page[0] / f"{page[1]}.json", manifest.to_json())

    def program_finished(self, key: str) -> None:
        for page in self._pages_of.get(key, []):
            if all(self._settled(k) for k, _ in self._report.plan.shown[page].values()):
                self.write(page)


def execute(
    queue: list[Planned],
    environments: Mapping[str, Environment],
    devices: Mapping[str, Device],
    settings: ExecutionSettings,
    on_started: Callable[[Planned], None],
    on_cell: Callable[[str, CellResult], None],
    on_finished: Callable[[Planned, ProgramRun], None],
) -> None:
    """Run every queued program: on the Ray cluster when ``settings.ray_address`` names one,
    else in a local pool of kernels (the slowest-starting framework first, one kernel per
    framework on a GPU, the cores shared between the kernels running side by side)."""
    if not queue:
        return
    if settings.ray_address:
        from toolkit.execute.cluster import run_on_ray

        def job_done(index: int, run: ProgramRun) -> None:
            on_started(queue[index])
            on_finished(queue[index], run)

        run_on_ray(
            settings.ray_address,
            [(entry.program, environments[entry.program.framework].lock_hash) for entry in queue],
            gpu={entry.program.framework: devices[entry.program.framework].kind == "gpu" for entry in queue},
            default_timeout=settings.default_timeout,
            max_output_bytes=settings.max_output_bytes,
            data_dir=settings.data_dir,
            downloads=settings.downloads,
            on_done=job_done,
        )
        return
    by_framework: dict[str, list[Planned]] = {}
    for entry in queue:
        by_framework.setdefault(entry.program.framework, []).append(entry)
    # the framework with the slowest start (TensorFlow) first, so it never waits for a worker
    order = sorted(by_framework, key=lambda fw: START_ORDER.index(fw) if fw in START_ORDER else 99)
    scheduler = Scheduler(
        {fw: by_framework[fw] for fw in order},
        exclusive={fw for fw in by_framework if devices[fw].kind == "gpu"},
    )
    workers = max(1, min(settings.jobs, scheduler.useful_workers()))
    threads = max(1, (os.cpu_count() or 1) // workers)

    def work() -> None:
        while (entry := scheduler.take()) is not None:
            framework = entry.program.framework
            try:
                on_started(entry)
                run = run_program(
                    entry.program,
                    environments[framework],
                    settings.default_timeout,
                    on_cell=partial(on_cell, framework),
                    threads=threads,
                    max_output_bytes=settings.max_output_bytes,
                    data_dir=settings.data_dir,
                    downloads=settings.downloads,
                )
                on_finished(entry, run)
            finally:
                scheduler.release(framework)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(work) for _ in range(workers)]:
            future.result()


def run_cells(
    sources: list[Source],
    parse: Callable[[Path], Chapter],
    frameworks: tuple[str, ...],
    cache_dir: Path,
    manifest_dir: Path,
    settings: ExecutionSettings,
    trust_translations: bool,
    environments: dict[str, Environment] | None = None,
    on_event: Callable[[str, str, Any], None] | None = None,
    libraries: LibraryIndex | None = None,
    shard: tuple[int, int] | None = None,
    history: EnglishHistory | None = None,
    cached_only: bool = False,
) -> RunReport:
    """Plan, answer from the cache, run the rest and write the manifests (module docstring);
    with ``cached_only``, run nothing: what the cache lacks is ``not-run``.

    ``on_event(framework, kind, payload)``: "program" with the ``Planned`` entry as it starts,
    "cell" with each ``CellResult``."""
    started = time.monotonic()
    sources = [s for s in sources if in_shard(s.chapter, shard)]
    environments = environments or {fw: find_environment(fw) for fw in frameworks}
    devices = probe_devices(environments)
    plan = plan_runs(
        sources, parse, frameworks, environments, devices, trust_translations, libraries, history
    )
    outputs_dir = cache_dir / "outputs"
    report = RunReport(devices, environments, plan, stored=cached_runs(plan, outputs_dir))
    queue = [
        entry
        for entry in plan.programs.values()
        if not entry.skipped and entry.key not in report.stored and not cached_only
    ]
    report.executions = len(queue)
    writer = ManifestWriter(report, manifest_dir)

    def finished(entry: Planned, run: ProgramRun) -> None:
        report.runs[entry.key] = run
        if not run.problem:  # a kernel that never started is a set-up problem: retried next time
            framework = entry.program.framework
            stored = StoredRun(entry.key, framework, entry.program.chapter, devices[framework].kind, run)
            write_json_atomic(outputs_dir / f"{entry.key}.json", stored.to_json())
        writer.program_finished(entry.key)

    execute(
        queue,
        environments,
        devices,
        settings,
        on_started=lambda entry: on_event(entry.program.framework, "program", entry) if on_event else None,
        on_cell=lambda framework, cell: on_event(framework, "cell", cell) if on_event else None,
        on_finished=finished,
    )
    for page in plan.shown:
        writer.write(page)
    if libraries is not None:
        report.refused_library = dict(libraries.refused)
    report.seconds = time.monotonic() - started
    return report
