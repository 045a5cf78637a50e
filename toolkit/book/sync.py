"""Set-up of the book: copy each repository's book files into the project and lock them.

Where files go: an edition's into ``translations/<edition>/``, an English revision read whole
(a ``[[revision]]`` with ``repository`` in ``source_en/LOCK.toml``) into
``source_en/<revision>/``. None of it is committed (upstream text); what is committed is the
*lock*: ``translations/<edition>/files.lock`` and ``source_en/<revision>.files.lock``, one
``path<TAB>sha256`` line per file, which proves what set-up read.

Invariants:
- A snapshot whose files differ from a committed lock is an error naming the files (the
  mirror or the clone is not at the pinned commit), unless the lock is being renewed
  (``--update-lock``, after moving the commit).
- A translator's local edit is never overwritten: a project file that differs from upstream
  and from the locked hash is kept and reported as a local change. A file still as locked
  follows upstream when the lock is renewed.
- Copies are atomic (write then rename): an interrupted set-up leaves no half-written file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.book.fetch import BOOK_EXTRAS as BOOK_FILES
from toolkit.book.fetch import FetchError, RepositorySource, fetch_snapshot
from toolkit.config import ConfigError, Edition, ProjectConfig, Revision, load_editions, load_lock

LOCK_NAME = "files.lock"
#: Files of a d2lbook repository the toolkit reads, besides the chapters' markdown.
BOOK_EXTRAS = tuple(name for name in BOOK_FILES if name != "index.md")


class SyncError(Exception):
    """The book could not be set up as locked; the message lists every problem."""


def book_files(snapshot: Path) -> Iterator[str]:
    """The repository-relative paths of the book's files in a snapshot, sorted: the root
    ``index.md``, every markdown file under ``chapter_*/`` (``x_origin.md`` included), the
    project files d2lbook reads, the ``d2l/`` library and the figures under ``img/``."""
    found: list[str] = []
    if (snapshot / "index.md").is_file():
        found.append("index.md")
    found.extend(name for name in BOOK_EXTRAS if (snapshot / name).is_file())
    for directory in sorted(snapshot.glob("chapter_*")):
        if directory.is_dir():
            found.extend(str(p.relative_to(snapshot)) for p in directory.rglob("*.md") if p.is_file())
    if (snapshot / "d2l").is_dir():
        found.extend(str(p.relative_to(snapshot)) for p in (snapshot / "d2l").rglob("*.py") if p.is_file())
    if (snapshot / "img").is_dir():
        found.extend(str(p.relative_to(snapshot)) for p in (snapshot / "img").rglob("*") if p.is_file())
    yield from sorted(found)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Lock:
    """What set-up read from one repository: its commit and every file's sha256."""

    repository: str
    commit: str
    files: dict[str, str]

    def render(self) -> str:
        lines = [
            "# The files `toolkit sync` read from this repository, by sha256 (the text is never committed).",
            f"# repository {self.repository}",
            f"# commit {self.commit}",
        ]
        lines.extend(f"{path}\t{digest}" for path, digest in sorted(self.files.items()))
        return "\n".join(lines) + "\n"


def read_lock(path: Path) -> Lock | None:
    if not path.is_file():
        return None
    repository = commit = ""
    files: dict[str, str] = {}
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if line.startswith("# repository "):
            repository = line.split(" ", 2)[2]
        elif line.startswith("# commit "):
            commit = line.split(" ", 2)[2]
        elif line and not line.startswith("#"):
            name, tab, digest = line.partition("\t")
            if not tab or len(digest) != 64:
                raise ConfigError(f"{path}:{number}: expected `path<TAB>sha256`, got {line[:60]!r}")
            files[name] = digest
    return Lock(repository, commit, files)


@dataclass
class SyncResult:
    name: str
    source: str
    target: Path
    copied: int = 0
    verified: int = 0
    local_changes: list[str] = field(default_factory=list)  # kept, differ from upstream and lock
    local_only: list[str] = field(default_factory=list)  # in the project, not upstream
    lock_written: bool = False


def _write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".sync-")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, target)


def sync_repository(
    source: RepositorySource, target: Path, lock_path: Path, update_lock: bool = False
) -> SyncResult:
    """Copy one repository's book files into ``target``, keeping local edits, and check or
    write its lock."""
    try:
        snapshot = fetch_snapshot(source)
    except FetchError as error:
        raise SyncError(f"{source.name}: {error}") from error
    upstream = {path: sha256_file(snapshot / path) for path in book_files(snapshot)}
    if not upstream:
        raise SyncError(f"{source.name}: {source.describe()} holds no book files (index.md, chapter_*/)")
    locked = read_lock(lock_path)
    if locked is not None and not update_lock:
        problems = []
        if locked.commit and locked.commit != source.commit:
            problems.append(f"the lock is of commit {locked.commit}, the configuration pins {source.commit}")
        changed = sorted(p for p in upstream.keys() & locked.files.keys() if upstream[p] != locked.files[p])
        added = sorted(upstream.keys() - locked.files.keys())
        gone = sorted(locked.files.keys() - upstream.keys())
        for label, names in (
            ("differ from the lock", changed),
            ("are not in the lock", added),
            ("are missing", gone),
        ):
            if names:
                shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
                problems.append(f"{len(names)} file(s) {label}: {shown}")
        if problems:
            raise SyncError(
                f"{source.name}: {source.describe()} is not what {lock_path} locks:\n  "
                + "\n  ".join(problems)
                + "\n  (after moving the pinned commit: `toolkit sync --update-lock`)"
            )
    result = SyncResult(source.name, source.describe(), target)
    previous = locked.files if locked is not None else {}
    for path, digest in upstream.items():
        destination = target / path
        if destination.is_file():
            current = sha256_file(destination)
            if current == digest:
                result.verified += 1
                continue
            if current != previous.get(path):
                result.local_changes.append(path)  # a translator's edit: never overwritten
                continue
        _write_atomic(destination, (snapshot / path).read_bytes())
        result.copied += 1
    project_files = set(book_files(target)) if target.is_dir() else set()
    result.local_only = sorted(project_files - upstream.keys())
    if locked is None or update_lock:
        _write_atomic(lock_path, Lock(source.repository, source.commit, upstream).render().encode("utf-8"))
        result.lock_written = True
    return result


def _mirror(config: ProjectConfig, mirror: str) -> Path | None:
    """A configured mirror directory, when it is there (else git is used)."""
    if not mirror:
        return None
    path = Path(mirror)
    path = path if path.is_absolute() else config.shared_dir / path
    return path if path.is_dir() else None


def edition_source(config: ProjectConfig, edition: Edition) -> RepositorySource:
    return RepositorySource(
        edition.id, edition.repository, edition.commit, edition.git_url, _mirror(config, edition.mirror)
    )


def revision_source(config: ProjectConfig, revision: Revision) -> RepositorySource:
    return RepositorySource(
        "en", revision.repository, revision.commit, revision.git_url, _mirror(config, revision.mirror)
    )


def edition_lock_path(edition: Edition) -> Path:
    return edition.directory / LOCK_NAME


def revision_lock_path(config: ProjectConfig, revision: Revision) -> Path:
    return config.source_dir / f"{revision.id}.{LOCK_NAME}"


def sync_book(
    config: ProjectConfig, update_lock: bool = False, editions: tuple[str, ...] = ()
) -> list[SyncResult]:
    """English read whole, then every edition (or those named)."""
    lock = load_lock(config.source_dir / "LOCK.toml")
    results = []
    for revision in lock.revisions:
        if revision.whole:
            results.append(
                sync_repository(
                    revision_source(config, revision),
                    config.source_dir / revision.id,
                    revision_lock_path(config, revision),
                    update_lock,
                )
            )
    known = load_editions(config)
    unknown = sorted(set(editions) - {e.id for e in known})
    if unknown:
        raise ConfigError(f"unknown edition(s) {', '.join(unknown)}; known: {', '.join(e.id for e in known)}")
    for edition in known:
        if editions and edition.id not in editions:
            continue
        results.append(
            sync_repository(
                edition_source(config, edition), edition.directory, edition_lock_path(edition), update_lock
            )
        )
    return results


def local_changes(edition: Edition) -> tuple[list[str], list[str]]:
    """Files of an edition that differ from what set-up read (its lock), and files the lock
    does not know: a translator's work in progress."""
    locked = read_lock(edition_lock_path(edition))
    if locked is None:
        return [], []
    present = set(book_files(edition.directory))
    changed = sorted(
        path
        for path in present & locked.files.keys()
        if sha256_file(edition.directory / path) != locked.files[path]
    )
    return changed, sorted(present - locked.files.keys())
