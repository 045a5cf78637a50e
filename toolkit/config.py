"""The project's configuration: ``[tool.toolkit]`` in pyproject.toml, one ``edition.toml`` per
edition, and ``source_en/LOCK.toml`` (the English revisions and their files).

Invariant: unknown keys and missing keys are ``ConfigError``s that name the file and list the
valid keys; nothing here guesses.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A configuration problem a user can fix; the CLI prints it and exits 2."""


@dataclass(frozen=True)
class ProjectConfig:
    root: Path
    source_dir: Path
    translations_dir: Path
    shared_dir: Path
    cache_dir: Path
    build_dir: Path
    cell_timeout: float
    po_dir: Path


@dataclass(frozen=True)
class Edition:
    """One translation repository (two Korean editions exist, so edition != language)."""

    id: str
    language: str
    name: str
    repository: str
    commit: str
    basis: str
    tabs: tuple[str, ...]
    directory: Path

    @property
    def default_tab(self) -> str:
        return self.tabs[0]


@dataclass(frozen=True)
class Revision:
    id: str
    commit: str
    date: str
    tabs: tuple[str, ...]
    today: bool


@dataclass(frozen=True)
class LockedFile:
    revision: str
    path: str
    corpus: str
    sha256: str


@dataclass(frozen=True)
class Lock:
    path: Path
    revisions: tuple[Revision, ...]
    files: tuple[LockedFile, ...]

    @property
    def today(self) -> Revision:
        return next(r for r in self.revisions if r.today)

    def revision(self, revision_id: str) -> Revision | None:
        return next((r for r in self.revisions if r.id == revision_id), None)


PROJECT_KEYS = {"source", "translations", "shared", "cache", "cell_timeout", "build", "po"}
EDITION_KEYS = {"language", "name", "repository", "commit", "basis", "tabs"}
REVISION_KEYS = {"id", "commit", "date", "tabs", "today"}
FILE_KEYS = {"revision", "path", "corpus", "sha256"}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as error:
        raise ConfigError(f"{path}: file not found") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error


def _check_keys(where: str, table: dict[str, Any], valid: set[str], required: set[str]) -> None:
    unknown = sorted(set(table) - valid)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(sorted(valid))}"
        )
    missing = sorted(required - set(table))
    if missing:
        raise ConfigError(f"{where}: missing key(s) {', '.join(missing)}")


def find_project_root(start: Path | None = None) -> Path:
    """The nearest directory at or above ``start`` whose pyproject.toml has [tool.toolkit]."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and "toolkit" in _read_toml(candidate).get("tool", {}):
            return directory
    raise ConfigError(
        f"{here}: not inside a d2l-i18n project (no pyproject.toml with [tool.toolkit] here or "
        "above); run from the project, or use --source/--translation for files elsewhere"
    )


def load_project(root: Path) -> ProjectConfig:
    table = _read_toml(root / "pyproject.toml").get("tool", {}).get("toolkit", {})
    _check_keys(f"{root / 'pyproject.toml'} [tool.toolkit]", table, PROJECT_KEYS, set())
    shared = os.environ.get("D2L_SHARED") or table.get("shared", "../shared")
    return ProjectConfig(
        root=root,
        source_dir=root / table.get("source", "source_en"),
        translations_dir=root / table.get("translations", "translations"),
        shared_dir=(root / shared).resolve(),
        cache_dir=root / table.get("cache", ".toolkit-cache"),
        build_dir=root / table.get("build", "build"),
        cell_timeout=float(table.get("cell_timeout", 600)),
        po_dir=root / table.get("po", "po"),
    )


def load_edition(directory: Path) -> Edition:
    path = directory / "edition.toml"
    table = _read_toml(path)
    _check_keys(str(path), table, EDITION_KEYS, EDITION_KEYS)
    tabs = table["tabs"]
    if not isinstance(tabs, list) or not tabs or not all(isinstance(t, str) for t in tabs):
        raise ConfigError(f'{path}: tabs must be a non-empty list of names, e.g. ["mxnet", "pytorch"]')
    return Edition(
        id=directory.name,
        language=str(table["language"]),
        name=str(table["name"]),
        repository=str(table["repository"]),
        commit=str(table["commit"]),
        basis=str(table["basis"]),
        tabs=tuple(tabs),
        directory=directory,
    )


def load_editions(config: ProjectConfig) -> list[Edition]:
    if not config.translations_dir.is_dir():
        raise ConfigError(f"{config.translations_dir}: the translations directory is missing")
    return [
        load_edition(d)
        for d in sorted(config.translations_dir.iterdir())
        if d.is_dir() and (d / "edition.toml").is_file()
    ]


def load_lock(path: Path) -> Lock:
    table = _read_toml(path)
    _check_keys(str(path), table, {"revision", "file"}, {"revision", "file"})
    revisions = []
    for entry in table["revision"]:
        _check_keys(f"{path} [[revision]]", entry, REVISION_KEYS, REVISION_KEYS - {"today", "date"})
        revisions.append(
            Revision(
                entry["id"],
                entry["commit"],
                str(entry.get("date", "")),
                tuple(entry["tabs"]),
                bool(entry.get("today", False)),
            )
        )
    if sum(r.today for r in revisions) != 1:
        raise ConfigError(f"{path}: exactly one [[revision]] must have today = true")
    files = []
    known = {r.id for r in revisions}
    for entry in table["file"]:
        _check_keys(f"{path} [[file]]", entry, FILE_KEYS, FILE_KEYS)
        if entry["revision"] not in known:
            raise ConfigError(f"{path}: file {entry['path']} names unknown revision {entry['revision']}")
        files.append(LockedFile(entry["revision"], entry["path"], entry["corpus"], entry["sha256"]))
    return Lock(path, tuple(revisions), tuple(files))
