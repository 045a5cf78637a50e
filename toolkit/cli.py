"""The ``toolkit`` command line. The only module that parses arguments or exits.

Exit codes: 0 clean, 1 findings of severity error, 2 usage, configuration or input error.
A user mistake prints ``toolkit: error: ...`` and never a traceback.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

import click

from toolkit.cache import ResultCache
from toolkit.checker import ChapterJob, ChapterStore, RunResult, check_jobs, project_jobs
from toolkit.checks import RULES
from toolkit.code import FRAMEWORKS
from toolkit.config import ConfigError, find_project_root, load_editions, load_lock, load_project
from toolkit.sources import SourceError, sync_sources
from toolkit.workers import CheckWorkers, workers_for

if TYPE_CHECKING:
    from toolkit.config import ProjectConfig
    from toolkit.execute.runner import RunReport, Source

FORMATS = ("text", "json", "html", "sarif", "github")
FAIL_ON = ("error", "warning", "info", "never")


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def _rule_codes(values: tuple[str, ...], option: str) -> tuple[str, ...]:
    """Rule codes or prefixes; one that names no rule is a usage error (a typo must not
    silently check nothing)."""
    from toolkit.checks import families  # noqa: F401  (registers the rules)

    codes = tuple(code.upper() for code in _split(values))
    for code in codes:
        if not any(known.startswith(code) for known in RULES):
            raise click.UsageError(
                f"{option} {code}: no rule has this code or prefix; `toolkit rules` lists them"
            )
    return codes


def _tabs(value: str | None, option: str) -> tuple[str, ...]:
    if value is None:
        raise click.UsageError(f"{option} is required in pair mode (e.g. {option} mxnet,pytorch,tensorflow)")
    tabs = _split((value,))
    if not tabs:
        raise click.UsageError(f"{option} needs at least one tab name")
    return tabs


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can fix into a message and exit code 2."""
    try:
        yield
    except (ConfigError, SourceError) as error:
        click.echo(f"toolkit: error: {error}", err=True)
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="d2l-i18n-toolkit")
def main() -> None:
    """d2l-i18n toolkit: keep translated editions of Dive into Deep Learning honest.

    \b
    check-alignment   drift of every translation against its English (and today's)
    update            carry every translation forward onto today's English
    diff              an edition's changes as a patch for its own repository
    run-cells         execute the shared code once per framework, outputs for every edition
    po / status       gettext files for translators; how far each edition is
    The site: `mkdocs serve` / `mkdocs build --strict` (plugin d2l-i18n, mkdocs.yml).

    Run inside the project (the directory with pyproject.toml, source_en/, translations/).
    """


@main.command("sync")
@click.option(
    "--shared",
    type=click.Path(file_okay=False, path_type=Path),
    help="The shared/ directory holding corpus/ and mirrors (default: [tool.toolkit] shared, or $D2L_SHARED).",
)
@click.option(
    "--edition",
    "-e",
    "editions",
    multiple=True,
    help="Only this edition (repeatable; English is always read).",
)
@click.option(
    "--update-lock",
    is_flag=True,
    help="Renew the locks after moving a pinned commit (files still as locked follow upstream; local edits stay).",
)
def sync_command(shared: Path | None, editions: tuple[str, ...], update_lock: bool) -> None:
    """Read the whole book: English and every edition, each at its pinned commit.

    \b
    Each repository comes from its mirror directory when one is configured and present
    (`mirror` in edition.toml / source_en/LOCK.toml; these machines have no network), else
    from git (`url`, default https://github.com/<repository>.git, cloned once into
    ~/.cache/d2l-i18n-toolkit/repos). Its book files (index.md, chapter_*/, config.ini,
    d2l.bib, glossaries, d2l/) are copied into translations/<edition>/ or
    source_en/<revision>/ and checked against the committed lock of hashes (files.lock).
    A file a translator changed is kept and reported as a local change, never overwritten.
    Exit: 0 done, 2 a repository could not be read or does not match its lock.
    """
    from dataclasses import replace

    from toolkit.book.sync import SyncError, sync_book

    with user_errors():
        config = load_project(find_project_root())
        if shared is not None:
            config = replace(config, shared_dir=shared.resolve())
        lock = load_lock(config.source_dir / "LOCK.toml")
        if any(not r.whole for r in lock.revisions) and lock.files:
            corpus = config.shared_dir / "corpus"
            if not corpus.is_dir():
                raise ConfigError(f"{corpus}: corpus directory not found (set --shared or D2L_SHARED)")
            copied = sync_sources(lock, config.source_dir, corpus)
            click.echo(
                f"source_en (older revisions): {len(copied.copied)} file(s) copied, "
                f"{len(copied.verified)} already verified ({len(lock.files)} locked)"
            )
        try:
            results = sync_book(config, update_lock, editions)
        except SyncError as error:
            raise ConfigError(str(error)) from error
        for result in results:
            where = _shown(result.target)
            click.echo(
                f"{result.name}: {result.source} -> {where}: {result.copied} copied, {result.verified} unchanged"
                + (", lock written" if result.lock_written else ", as locked")
            )
            for path in result.local_changes:
                click.echo(f"  {where}/{path}: local change kept (differs from upstream and from the lock)")
            if result.local_only:
                click.echo(
                    f"  {len(result.local_only)} file(s) only in the project: {', '.join(result.local_only[:5])}"
                )


@main.command("sync-sources", hidden=True)
@click.option("--shared", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def sync_sources_command(context: click.Context, shared: Path | None) -> None:
    """Old name of `toolkit sync`."""
    context.invoke(sync_command, shared=shared, editions=(), update_lock=False)


@main.command("parse")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def parse_command(path: Path) -> None:
    """Show how PATH parses: one line per block with its line span, tabs, labels and roles."""
    from toolkit.model import describe
    from toolkit.parser import parse_chapter

    click.echo(describe(parse_chapter(str(path), path.read_bytes())))


@main.command("rules")
@click.argument("codes", nargs=-1)
def rules_command(codes: tuple[str, ...]) -> None:
    """List the checks (code, name, severity), or show the documentation of CODES."""
    from toolkit.checks import families  # noqa: F401

    if codes:
        for code in codes:
            spec = RULES.get(code.upper())
            if spec is None:
                raise click.UsageError(f"unknown rule {code}; `toolkit rules` lists them")
            click.echo(f"{spec.code} {spec.name} [{spec.severity}]\n\n{spec.doc}\n")
        return
    for spec in sorted(RULES.values(), key=lambda r: r.code):
        if spec.code != "X000":
            click.echo(f"{spec.code}  {spec.name:<26} {spec.severity:<8} {spec.summary}")


@main.command("check-alignment")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--source",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Pair mode: the English chapter the translation was made from.",
)
@click.option(
    "--source-tabs",
    help="Pair mode: the English revision's tabs, default first (e.g. pytorch,mxnet,jax,tensorflow).",
)
@click.option(
    "--translation",
    "translations",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Pair mode: a translated chapter (repeatable).",
)
@click.option("--tabs", help="Pair mode: the edition's tabs, default first (e.g. mxnet,pytorch,tensorflow).")
@click.option("--lang", help="Pair mode: the translation's language code (detected when absent).")
@click.option(
    "--today",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Pair mode: today's English, to report what changed since --source.",
)
@click.option("--today-tabs", help="Pair mode: tabs of --today (default: --source-tabs).")
@click.option(
    "--select", multiple=True, help="Only these rule codes or prefixes (C003, C, P00). Comma lists allowed."
)
@click.option("--ignore", multiple=True, help="Skip these rule codes or prefixes.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to a file instead of standard output.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Do not read or write the caches (results and language judgements, by content hash).",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="error",
    show_default=True,
    help="Exit 1 when a finding of this severity or worse is reported (never: always exit 0).",
)
@click.option(
    "--verbose", "-v", is_flag=True, help="Text: list every place of a grouped finding (JSON/HTML always do)."
)
def check_alignment(
    paths: tuple[Path, ...],
    source: Path | None,
    source_tabs: str | None,
    translations: tuple[Path, ...],
    tabs: str | None,
    lang: str | None,
    today: Path | None,
    today_tabs: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    output_format: str,
    output: Path | None,
    no_cache: bool,
    fail_on: str,
    verbose: bool,
) -> None:
    """Align every translation block by block with its English and report drift.

    \b
    Project mode (default): every chapter of every edition under translations/, or those
    under PATHS, against the English revision the edition declares as its basis and
    against today's English.
    \b
    Pair mode, for files anywhere:
      toolkit check-alignment --source EN.md --source-tabs mxnet,pytorch,tensorflow \\
          --translation TR.md [--translation TR2.md ...] --tabs mxnet,pytorch,tensorflow [--lang ko]
    \b
    Findings print as `path:line: CODE message`; `toolkit rules CODE` explains a code.
    Repeated mechanical faults and English's changes are one finding per chapter with the
    count (every place: --verbose, or --format json/html). --format sarif for code-scanning
    tools, github for workflow annotations; a per-edition summary ends the text report.
    Silence one with `<!-- toolkit: ignore CODE -->` before the block, or
    `<!-- toolkit: ignore-file CODE -->` anywhere in the file.
    Exit: 0 no errors (or nothing at --fail-on), 1 errors found, 2 usage or input error.
    """
    from toolkit.language import LanguageDetector

    with user_errors():
        select_codes, ignore_codes = _rule_codes(select, "--select"), _rule_codes(ignore, "--ignore")
        pair_mode = source is not None or bool(translations)
        if pair_mode:
            if source is None or not translations:
                raise click.UsageError("pair mode needs both --source and at least one --translation")
            if paths:
                raise click.UsageError(
                    "give either PATHS (project mode) or --source/--translation (pair mode), not both"
                )
            root = None
            with suppress(ConfigError):  # pair mode works outside a project too
                root = find_project_root()
            cache_dir = load_project(root).cache_dir if root is not None else Path(".toolkit-cache")
            store = ChapterStore(Path.cwd())
            detector = LanguageDetector(None if no_cache else cache_dir / "language.json")
            source_tab_list = _tabs(source_tabs, "--source-tabs")
            edition_tabs = _tabs(tabs, "--tabs")
            jobs = []
            for translation in translations:
                language = lang or _detect_language(store, translation, detector)
                jobs.append(
                    ChapterJob(
                        translation=translation,
                        tabs=edition_tabs,
                        language=language,
                        edition=language,
                        chapter=translation.name,
                        basis=source,
                        basis_id="source",
                        basis_tabs=source_tab_list,
                        today=today,
                        today_id="today" if today else "",
                        today_tabs=_split((today_tabs,)) if today_tabs else source_tab_list,
                    )
                )
        else:
            config = load_project(find_project_root())
            cache_dir = config.cache_dir
            store = ChapterStore(config.root)
            detector = LanguageDetector(None if no_cache else config.cache_dir / "language.json")
            for path in paths:
                if not path.exists():
                    raise click.BadParameter(f"{path}: no such file or directory", param_hint="PATHS")
        cache = None if no_cache else ResultCache(cache_dir)
        with workers_for(store) as workers:
            if not pair_mode:
                jobs, _, _ = project_jobs(config, paths, store=store, cache=cache, workers=workers)
            result = _run(jobs, store, detector, select_codes, ignore_codes, cache, workers)
        detector.save()
        _emit(result, output_format, output, verbose)
        failing = FAIL_ON[: FAIL_ON.index(fail_on) + 1] if fail_on != "never" else ()
        sys.exit(1 if any(f.severity in failing for f in result.findings) else 0)


def _detect_language(store: ChapterStore, path: Path, detector: object) -> str:
    from toolkit.language import detect_document_language

    language = detect_document_language(store.get(path))
    if language is None:
        raise click.UsageError(f"{path}: cannot tell its language; give --lang")
    click.echo(f"{path}: language detected as `{language}` (give --lang to set it)", err=True)
    return language


def _run(
    jobs: list[ChapterJob],
    store: ChapterStore,
    detector: object,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    cache: ResultCache | None,
    workers: CheckWorkers | None = None,
) -> RunResult:
    from rich.console import Console
    from rich.progress import Progress

    from toolkit.language import LanguageDetector

    assert isinstance(detector, LanguageDetector)
    show = sys.stderr.isatty() and len(jobs) > 1
    with Progress(transient=True, disable=not show, console=Console(stderr=True)) as progress:
        task = progress.add_task("checking", total=len(jobs))

        def advance(job: ChapterJob) -> None:
            progress.update(task, advance=1, description=f"{job.edition}/{job.chapter}")

        return check_jobs(jobs, store, detector, select, ignore, advance, cache, workers)


def _emit(result: RunResult, output_format: str, output: Path | None, verbose: bool = False) -> None:
    from toolkit.report import render_github, render_html, render_json, render_sarif, render_text

    if output_format == "json":
        text = render_json(result)
    elif output_format == "html":
        text = render_html(result)
    elif output_format == "sarif":
        text = render_sarif(result)
    elif output_format == "github":
        text = render_github(result)
    else:
        text = render_text(result, color=output is None and sys.stdout.isatty(), verbose=verbose)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        click.echo(f"report written to {output}", err=True)


framework_option = click.option(
    "--framework",
    "-f",
    "frameworks",
    multiple=True,
    type=click.Choice(FRAMEWORKS),
    help="Only this framework (repeatable; default: all four, each where the chapter has its tab).",
)


@main.command("update")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--edition", "-e", "editions", multiple=True, help="Only this edition (repeatable).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when an update would change a file.")
@click.option(
    "--format", "output_format", type=click.Choice(("text", "json")), default="text", show_default=True
)
@click.option("--verbose", "-v", is_flag=True, help="List every retired block with its old path:line.")
@click.option(
    "--to",
    "to",
    default="",
    metavar="REVISION",
    help="Carry onto this English revision of source_en/LOCK.toml (its id or commit) instead of today's.",
)
def update_command(
    paths: tuple[Path, ...],
    editions: tuple[str, ...],
    check: bool,
    output_format: str,
    verbose: bool,
    to: str,
) -> None:
    """Carry translations forward onto today's English, block by block.

    \b
    For each translated chapter (default: every edition; or the files under PATHS), the
    chapter is rewritten in today's English structure (today's path, code cells, labels,
    math, figures, tabs), every block keeping its translation:
      exact    English did not change since the translation was made: kept byte for byte
               (also a block that moved from another chapter)
      fuzzy    English changed: the old translation is kept, check-alignment reports it (S001)
      memory   English added it: a translation of similar English from the edition's other
               files or another edition of its language (ko-partrita for ko), fuzzy
      english  nothing to carry: today's English, reported as untranslated (P001)
    The chapter's x_origin.md says which English each block was made from. A translated
    block whose English left the book is retired to translations/<edition>/obsolete.jsonl
    with its old path:line: no translated text is lost. Updating a whole edition also moves
    its edition.toml (basis, tabs) to today's English. Updating again changes nothing.
    A fuzzy block is done when its translation follows today's English: put today's English
    block into x_origin.md in place of the old one (S001 then no longer reports it).
    --to REVISION carries onto an older English the project has read instead (an id of
    source_en/LOCK.toml, or a commit): a whole book when it was read whole, else only the
    chapters it has (the rest stays as it is).
    Exit: 0 done (or nothing to change), 1 with --check when files would change, 2 usage error.
    """
    import json

    from toolkit.update import apply_writes, changed_writes, plan_update, planned_writes

    with user_errors():
        config = load_project(find_project_root())
        _check_paths(paths)
        plan = plan_update(config, paths, editions, ChapterStore(config.root), to)
        changes = changed_writes(planned_writes(config, plan))
        if not check:
            apply_writes(changes)
    verb = "would change" if check else "changed"
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "editions": {
                        u.edition: {
                            **u.counts(),
                            "files": len(u.files),
                            "removed": sorted(u.removed),
                            "retired": [r.to_json() for r in u.retired],
                        }
                        for u in plan.updates
                    },
                    "changed": sorted(str(p.relative_to(config.root)) for p in changes),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        onto = "today's English" if not to else f"English {plan.today}"
        for update in plan.updates:
            counted = update.counts()
            total = sum(counted[k] for k in ("exact", "fuzzy", "memory", "english"))
            click.echo(
                f"{update.edition}: {len(update.files)} chapter(s) on {onto}, {total} block(s): "
                f"{counted['exact']} exact, {counted['fuzzy']} fuzzy, {counted['memory']} from memory, "
                f"{counted['english']} English; {counted['retired']} retired"
                + (f" (translations/{update.edition}/obsolete.jsonl)" if counted["retired"] else "")
                + (f"; {len(update.removed)} old file(s) replaced" if update.removed else "")
            )
            for retired in update.retired if verbose else update.retired[:5]:
                first = retired.text.strip().splitlines()[0][:70] if retired.text.strip() else ""
                click.echo(f"  {retired.path}:{retired.line}: retired: {first}")
            if not verbose and len(update.retired) > 5:
                click.echo(f"  … and {len(update.retired) - 5} more (--verbose)")
        click.echo(f"{len(changes)} file(s) {verb}")
    sys.exit(1 if check and changes else 0)


@main.command("diff")
@click.option("--edition", "-e", "edition_id", required=True, help="The edition whose changes to write.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the patch here.")
def diff_command(edition_id: str, output: Path | None) -> None:
    """A patch of an edition's changes for its own repository.

    \b
    Every book file the project changed (a translator's edit, `toolkit update`, `po import`),
    added or removed, against the commit the edition's files.lock pins, in the edition's own
    layout: in a clone of its repository at that commit, `git apply PATCH` (or `git am`-free
    review with `git apply --check`). Nothing else of the project is in it.
    Exit: 0 (an empty patch when nothing changed), 2 usage error.
    """
    from toolkit.update import edition_patch

    with user_errors():
        config = load_project(find_project_root())
        editions = {e.id: e for e in load_editions(config)}
        if edition_id not in editions:
            raise ConfigError(f"unknown edition {edition_id}; known: {', '.join(editions)}")
        patch = edition_patch(config, editions[edition_id])
    if output is not None:
        output.write_text(patch, "utf-8", errors="surrogateescape")
        click.echo(f"{_shown(output)}: {patch.count('diff --git')} file(s) changed", err=True)
    else:
        click.echo(patch, nl=False)


@main.command("envs")
@framework_option
@click.option("--rebuild", is_flag=True, help="Build again even when a ready environment exists.")
def envs_command(frameworks: tuple[str, ...], rebuild: bool) -> None:
    """Build one isolated environment per framework from the pinned requirement files.

    Environments live outside the checkout ($TOOLKIT_ENV_DIR, default
    ~/.cache/d2l-i18n-toolkit/envs), keyed by the hash of their requirements, so clones and
    CI runs reuse them. A build that fails is reported with its reason (exit 2); run-cells
    then reports that framework's cells as skipped.
    """
    from toolkit.execute.devices import probe_devices
    from toolkit.execute.environments import build_environment, environment_root

    built = {}
    for framework in frameworks or FRAMEWORKS:
        click.echo(f"{framework}: building in {environment_root()} (reused when ready)…", err=True)
        built[framework] = build_environment(framework, rebuild=rebuild)
    devices = probe_devices(built)
    failed = False
    for framework, env in built.items():
        if env.ready:
            click.echo(
                f"{framework}: ready ({env.python}); device: {devices[framework].kind} ({devices[framework].detail})"
            )
        else:
            failed = True
            click.echo(f"{framework}: NOT ready: {env.reason}")
    sys.exit(2 if failed else 0)


@main.command("run-cells")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@framework_option
@click.option(
    "--gpu", is_flag=True, help="Require a GPU: exit 2, naming what each framework sees, when one has none."
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1),
    default=None,
    help="Kernels running at once (default: the core count).",
)
@click.option(
    "--timeout", type=click.FloatRange(min=1), help="Seconds per cell (default: [tool.toolkit] cell_timeout)."
)
@click.option(
    "--trust-translations",
    is_flag=True,
    help="Also execute translated cells whose code differs from English.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The dataset cache kernels see as d2l's ../data (default: [tool.toolkit] data_dir, "
    "$TOOLKIT_DATA_DIR, else ~/.cache/d2l-i18n-toolkit/data).",
)
@click.option(
    "--downloads/--no-downloads",
    default=None,
    help="Let d2l download datasets (default: [tool.toolkit] downloads, true). Without, a cell "
    "that needs a file the cache lacks is reported as needs-data and nothing leaves the machine.",
)
@click.option(
    "--shard",
    metavar="I/N",
    help="Run only shard I of N (chapters split by a stable hash; every edition of a chapter "
    "in the same shard), e.g. for a CI matrix.",
)
@click.option(
    "--ray",
    "ray_address",
    metavar="ADDRESS",
    help="Run the programs as tasks on the Ray cluster at ADDRESS (e.g. 10.0.0.5:6379, or "
    "[tool.toolkit] ray); each asks for a GPU when its framework uses one.",
)
@click.option(
    "--import-cache",
    "import_from",
    metavar="ARCHIVE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="First add the runs in ARCHIVE (another machine's --export-cache) to the cache; an "
    "archive with anything but checked runs in it is refused whole. A GPU run serves a CPU machine.",
)
@click.option(
    "--export-cache",
    "export_to",
    metavar="ARCHIVE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Afterwards, write every run this call shows (run now or cached) to ARCHIVE (.tar.gz), "
    "for --import-cache elsewhere.",
)
@click.option(
    "--cached-only",
    is_flag=True,
    help="Start no kernel: the pages show what the cache (or an imported archive) has, the rest is not run.",
)
@click.option(
    "--format", "output_format", type=click.Choice(("text", "json")), default="text", show_default=True
)
def run_cells_command(
    paths: tuple[Path, ...],
    frameworks: tuple[str, ...],
    gpu: bool,
    jobs: int | None,
    timeout: float | None,
    trust_translations: bool,
    data_dir: Path | None,
    downloads: bool | None,
    shard: str | None,
    ray_address: str | None,
    import_from: Path | None,
    export_to: Path | None,
    cached_only: bool,
    output_format: str,
) -> None:
    """Execute the shared code once per framework and give every edition its outputs.

    \b
    For each chapter and framework, the English cells of that tab plus the `#@tab all`
    cells run in order in one kernel of the framework's environment, in a fresh working
    directory beside the dataset cache (d2l's ../data), with the book's own d2l library of
    the revision the cells come from: today's English for en, id and ko-partrita, each
    file's x_origin.md (and the edition's d2l/) for ko, tr and vi. `#@save` code that the
    library defines otherwise is reported. A translated cell whose code matches English (comments and docstrings aside)
    shares its output; one whose code differs is reported and not executed unless
    --trust-translations. Results are cached by the code, the environment and the device:
    a second run with nothing changed starts no kernel.
    Outputs go to build/cells/<edition>/<chapter>.json, where the site reads them.
    Outputs travel: `--export-cache book.tar.gz` on the machine that ran them (a GPU box),
    `--import-cache book.tar.gz --cached-only` where the site is built.
    Exit: 0 all ran, 1 a cell failed or timed out, 2 usage or set-up error.
    """
    from toolkit.execute.archive import ArchiveError, export_runs, import_runs
    from toolkit.execute.runner import project_sources
    from toolkit.execute.summary import exit_code

    with user_errors():
        config = load_project(find_project_root())
        for path in paths:
            if not path.exists():
                raise click.BadParameter(f"{path}: no such file or directory", param_hint="PATHS")
        shard_of = _parse_shard(shard) if shard else None
        if import_from is not None:
            try:
                imported = import_runs(import_from, config.cache_dir / "outputs")
            except ArchiveError as error:
                raise ConfigError(f"--import-cache: {error}") from error
            click.echo(
                f"{_shown(import_from)}: {len(imported.written)} run(s) imported, "
                f"{len(imported.present)} already in the cache",
                err=True,
            )
        sources = project_sources(config, paths)
        selected = frameworks or FRAMEWORKS
        store = ChapterStore(config.root)
        config = dataclasses.replace(
            config,
            data_dir=data_dir.resolve() if data_dir else config.data_dir,
            downloads=config.downloads if downloads is None else downloads,
            ray=ray_address or config.ray,
        )
        report = _run_cells_with_progress(
            sources,
            store,
            selected,
            config,
            timeout or config.cell_timeout,
            jobs or os.cpu_count() or 1,
            trust_translations,
            gpu,
            shard_of,
            cached_only,
        )
        _emit_run_report(report, selected, output_format, config.root)
        if export_to is not None:
            count = export_runs(report.exportable_keys(), config.cache_dir / "outputs", export_to)
            click.echo(f"{_shown(export_to)}: {count} run(s) exported", err=True)
        sys.exit(exit_code(report))


def _parse_shard(text: str) -> tuple[int, int]:
    index, _, count = text.partition("/")
    if not (index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise click.BadParameter(f"{text!r}: expected I/N with 1 <= I <= N, e.g. 2/4", param_hint="--shard")
    return int(index), int(count)


def _run_cells_with_progress(
    sources: list[Source],
    store: ChapterStore,
    frameworks: tuple[str, ...],
    config: ProjectConfig,
    timeout: float,
    jobs: int,
    trust: bool,
    gpu: bool,
    shard: tuple[int, int] | None = None,
    cached_only: bool = False,
) -> RunReport:
    """Run with a rich progress bar per framework (on a terminal) or a line per program (in CI)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    from toolkit.execute.cluster import ClusterError
    from toolkit.execute.devices import probe_devices
    from toolkit.execute.environments import find_environment
    from toolkit.execute.library import LibraryIndex
    from toolkit.execute.runner import ExecutionSettings, Planned, run_cells
    from toolkit.execute.summary import gpu_problem

    environments = {fw: find_environment(fw) for fw in frameworks}
    if gpu:
        devices = probe_devices(environments)
        problem = gpu_problem(devices, environments)
        if problem is not None:
            raise ConfigError(problem)
    console = Console(stderr=True)
    progress = Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} cells"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def on_event(framework: str, kind: str, payload: object) -> None:
        if framework not in tasks:
            tasks[framework] = progress.add_task(framework, total=0)
        task = tasks[framework]
        if kind == "program" and isinstance(payload, Planned):
            cells = len(payload.program.cells)
            total = (progress.tasks[task].total or 0) + cells
            progress.update(task, total=total)
            if not console.is_terminal:
                click.echo(f"{framework}: running {payload.program.path} ({cells} cells)", err=True)
        elif kind == "cell":
            progress.update(task, advance=1)

    from toolkit.book.history import load_history

    today = load_lock(config.source_dir / "LOCK.toml").today.id
    history = load_history(config.english_dir, config.source_dir)
    libraries = LibraryIndex(
        config.root, config.source_dir, config.translations_dir, today, history, config.english_dir
    )
    with progress:
        try:
            return run_cells(
                sources,
                store.get,
                frameworks,
                config.cache_dir,
                config.build_dir / "cells",
                ExecutionSettings(
                    timeout,
                    jobs,
                    max_output_bytes=config.max_output_bytes,
                    data_dir=config.data_dir,
                    downloads=config.downloads,
                    ray_address=config.ray,
                ),
                trust,
                environments=environments,
                on_event=on_event,
                libraries=libraries,
                shard=shard,
                history=history,
                cached_only=cached_only,
            )
        except ClusterError as error:
            raise ConfigError(str(error)) from error


def _emit_run_report(
    report: RunReport, frameworks: tuple[str, ...], output_format: str, root: Path | None = None
) -> None:
    import json

    from rich.console import Console
    from rich.table import Table

    from toolkit.execute.summary import (
        failures,
        matrix_cell,
        matrix_rows,
        report_json,
        save_difference_lines,
        served_pages,
        status_counts,
    )

    if output_format == "json":
        click.echo(json.dumps(report_json(report, root), indent=2, ensure_ascii=False))
        return
    for failure in failures(report, root):
        click.echo(failure.headline())
        for place in failure.shown_at:
            click.echo(f"    shown at {place}")
        for detail in failure.detail_lines():
            click.echo(f"    | {detail}")
    for edition, chapter, line, framework in report.untrusted:
        path = report.paths.get((edition, chapter), Path(f"{edition}/{chapter}"))
        click.echo(
            f"{_shown(path)}:{line}: {framework} cell differs from English: "
            "not executed (--trust-translations runs it)"
        )
    for edition, chapter, english in report.unproven:
        path = report.paths.get((edition, chapter), Path(f"{edition}/{chapter}"))
        click.echo(
            f"{_shown(path)}:1: not executed: its code would come from {_shown(english)}, which is not "
            "English of any revision (sha256 in no version of English's history; --trust-translations runs it)"
        )
    for name, why in sorted(report.refused_library.items()):
        click.echo(f"{name}: not imported by any kernel: {why}")
    for framework, env in report.environments.items():
        if not env.ready:
            click.echo(f"{framework}: skipped: {env.reason}")
    for difference in save_difference_lines(report, root):
        click.echo(difference)
    for edition, chapter, framework in report.no_library:
        click.echo(
            f"{edition}/{chapter}: {framework}: no d2l library for its revision; cells ran without one"
        )
    devices = Table(title="devices")
    for column in ("framework", "device", "what the framework sees"):
        devices.add_column(column)
    for framework, device in report.devices.items():
        devices.add_row(framework, device.kind, device.detail)
    matrix = Table(title="run-cells: chapter × framework × edition")
    matrix.add_column("chapter")
    matrix.add_column("edition")
    for framework in frameworks:
        matrix.add_column(framework)
    for chapter, edition, manifest in matrix_rows(report):
        matrix.add_row(chapter, edition, *(matrix_cell(manifest, fw) for fw in frameworks))
    console = Console(width=160)
    console.print(devices)
    console.print(matrix)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(status_counts(report).items()))
    click.echo(
        f"{report.executions} kernel execution(s), {len(report.planned)} distinct program(s) ({counts}) "
        f"serving {served_pages(report)} chapter × framework page(s) of "
        f"{len({e for e, _ in report.manifests})} edition(s); "
        f"{len(save_difference_lines(report, root))} #@save difference(s) from the library; {report.seconds:.1f}s"
    )


@main.group("po")
def po_group() -> None:
    """Translator workflow: gettext PO files made from, and turned back into, the markdown.

    \b
    po export   writes po/<edition>/<chapter>.po: one entry per translatable segment of the
                edition's English basis (headings, paragraphs, list items, table cells,
                captions, :begin_tab: prose, code comments and docstrings), msgstr = the
                aligned translation; English changed since the basis -> fuzzy.
    po import   puts the PO file's words into translations/<edition>/<chapter>.md: only
                words change; structure, code, labels and tabs stay as they are.
    """


@po_group.command("export")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--edition", "-e", "editions", multiple=True, help="Only this edition (repeatable).")
def po_export(paths: tuple[Path, ...], editions: tuple[str, ...]) -> None:
    """Write one PO file per edition and chapter, and say which blocks it cannot change.

    Export then import with no edit changes no byte. A translated block whose markup differs
    from its English (or that has no English counterpart) is outside the catalog: import
    leaves it as it is; each is listed as `path:line: why` (the file is still exported).
    """
    from toolkit.po.project import project_catalogs

    with user_errors():
        config = load_project(find_project_root())
        _check_paths(paths)
        for found in project_catalogs(config, paths, editions):
            target = found.po_path(config.po_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            found.catalog.save(str(target))
            c = found.counts
            state = (
                "every block reachable"
                if not found.problems
                else f"{len(found.problems)} block(s) outside the catalog (import leaves them as they are)"
            )
            click.echo(
                f"{target.relative_to(config.root)}: {c.translated} translated, {c.fuzzy} fuzzy, "
                f"{c.untranslated} untranslated, {c.stale} stale; {state}"
            )
            for problem in found.problems:
                where = (
                    f"{found.job.translation.relative_to(config.root)}:{problem.line}"
                    if problem.line
                    else (f"{_shown(found.job.basis or found.job.translation)}:{problem.english_line}")
                )
                click.echo(f"  {where}: {problem.reason}")


@po_group.command("import")
@click.argument("po_files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--edition",
    "-e",
    "editions",
    multiple=True,
    help="Only this edition's PO files (default: all under po/); a PO file of another edition is an error.",
)
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 if an import would change a markdown file."
)
def po_import(po_files: tuple[Path, ...], editions: tuple[str, ...], check: bool) -> None:
    """Put the PO files' words into the translated markdown.

    \b
    Only words change: a block whose markup differs from English, and a msgstr that would
    add or remove structure (a fence, a heading, a tab marker, a label, a role, math, raw
    HTML) are left as they are; each refused msgstr is named with the PO file's line (exit 1).
    An empty msgstr keeps the translation's words. With no edit, nothing changes.
    A malformed PO file, one of another edition or chapter, or an entry whose msgctxt the
    chapter does not have: exit 2 and nothing is written.
    """
    from toolkit.po.project import TodaysChapters, import_file

    with user_errors():
        config = load_project(find_project_root())
        _check_paths(po_files)
        files = list(po_files) or sorted(
            p
            for p in config.po_dir.rglob("*.po")
            if not editions or p.relative_to(config.po_dir).parts[0] in editions
        )
        if not files:
            raise ConfigError(f"no PO files under {config.po_dir}: run `toolkit po export` first")
        # every file is read and checked before anything is written: an error writes nothing
        todays = TodaysChapters(config)
        imports = [(po_file, import_file(config, po_file, editions, todays)) for po_file in files]
    changed = refused = 0
    for po_file, imported in imports:
        target = config.translations_dir / imported.edition / imported.chapter
        shown = target.relative_to(config.root)
        for refusal in imported.refused:
            refused += 1
            click.echo(
                f"{_shown(po_file)}:{refusal.po_line}: {refusal.msgctxt}: refused, {shown}:{refusal.line} "
                f"left as it was: {refusal.reason}"
            )
        origin = target.with_name(target.name[: -len(".md")] + "_origin.md")
        if imported.origin is not None and origin.read_text("utf-8") != imported.origin:
            # entries a translator brought up to date (no longer fuzzy): x_origin.md says so
            changed += 1
            if check:
                click.echo(f"{origin.relative_to(config.root)}: would change")
            else:
                origin.write_text(imported.origin, "utf-8", newline="")
                click.echo(
                    f"{origin.relative_to(config.root)}: the blocks revised in Poedit follow today's English"
                )
        new = imported.text.encode("utf-8")
        if target.is_file() and target.read_bytes() == new:
            click.echo(f"{shown}: unchanged")
            continue
        changed += 1
        if check:
            click.echo(f"{shown}: would change")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(new)
        click.echo(f"{shown}: updated from {_shown(po_file)}")
    sys.exit(1 if refused or (check and changed) else 0)


@main.command("status")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--edition", "-e", "editions", multiple=True, help="Only this edition (repeatable).")
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    help="Exit 1 when an edition is less than N percent translated.",
)
@click.option(
    "--format", "output_format", type=click.Choice(("text", "json")), default="text", show_default=True
)
def status_command(
    paths: tuple[Path, ...], editions: tuple[str, ...], fail_under: float | None, output_format: str
) -> None:
    """Translated / fuzzy / untranslated / stale segments per edition and chapter.

    \b
    translated    the edition has words for it and English did not change since its basis
    fuzzy         English changed the segment since the basis (the translation may be stale)
    untranslated  missing, or still in English
    stale         English added it since the basis; the edition does not have it at all
    Files a translator changed since `toolkit sync` read them (they differ from the edition's
    files.lock) are listed as local changes.
    """
    import json

    from rich.console import Console
    from rich.table import Table

    from toolkit.book.sync import local_changes
    from toolkit.config import load_editions
    from toolkit.po.catalog import Counts
    from toolkit.po.project import project_catalogs

    with user_errors():
        config = load_project(find_project_root())
        _check_paths(paths)
        found = project_catalogs(config, paths, editions)
        changes = {
            edition.id: local_changes(edition)
            for edition in load_editions(config)
            if not editions or edition.id in editions
        }
    totals: dict[str, Counts] = {}
    for item in found:
        c, t = item.counts, totals.get(item.job.edition, Counts(0, 0, 0, 0))
        totals[item.job.edition] = Counts(
            t.translated + c.translated, t.fuzzy + c.fuzzy, t.untranslated + c.untranslated, t.stale + c.stale
        )
    failing = sorted(e for e, c in totals.items() if fail_under is not None and c.percent < fail_under)
    if output_format == "json":
        data = {
            "chapters": [
                {"edition": f.job.edition, "chapter": f.job.chapter, **_counts_json(f.counts)} for f in found
            ],
            "editions": {edition: _counts_json(c) for edition, c in sorted(totals.items())},
            "fail_under": fail_under,
            "failing": failing,
            "local_changes": {
                edition: {"changed": changed, "added": added} for edition, (changed, added) in changes.items()
            },
        }
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        table = Table(title="translation status (segments)")
        for column in ("edition", "chapter", "translated", "fuzzy", "untranslated", "stale", "%"):
            table.add_column(column, justify="right" if column not in ("edition", "chapter") else "left")
        for f in found:
            c = f.counts
            table.add_row(
                f.job.edition,
                f.job.chapter,
                str(c.translated),
                str(c.fuzzy),
                str(c.untranslated),
                str(c.stale),
                f"{c.percent:.0f}",
            )
        for edition, c in sorted(totals.items()):
            table.add_row(
                edition,
                "(all)",
                str(c.translated),
                str(c.fuzzy),
                str(c.untranslated),
                str(c.stale),
                f"{c.percent:.1f}",
                style="bold",
            )
        Console(width=140).print(table)
        for edition, (changed, added) in changes.items():
            for path in changed:
                click.echo(
                    f"translations/{edition}/{path}: local change (differs from what `toolkit sync` read)"
                )
            for path in added:
                click.echo(f"translations/{edition}/{path}: local file (not in the edition's repository)")
        for edition in failing:
            click.echo(
                f"{edition}: {totals[edition].percent:.1f}% translated, under --fail-under {fail_under:g}"
            )
    sys.exit(1 if failing else 0)


def _counts_json(c: object) -> dict[str, object]:
    from toolkit.po.catalog import Counts

    assert isinstance(c, Counts)
    return {
        "translated": c.translated,
        "fuzzy": c.fuzzy,
        "untranslated": c.untranslated,
        "stale": c.stale,
        "percent": round(c.percent, 1),
    }


def _shown(path: Path) -> str:
    """A path as the user can click it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _check_paths(paths: tuple[Path, ...]) -> None:
    for path in paths:
        if not path.exists():
            raise click.BadParameter(f"{path}: no such file or directory", param_hint="PATHS")


if __name__ == "__main__":  # pragma: no cover
    main()
