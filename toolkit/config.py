"""The project's configuration: ``[tool.toolkit]`` in pyproject.toml, one ``edition.toml`` per
edition, and ``source_en/LOCK.toml`` (the English revisions and their files).

Invariant: unknown keys and missing keys are ``ConfigError``s that name the file and list the
valid keys; nothing here guesses.
"""

from __future__ import annotations

import math
import os
import re
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
    max_output_bytes: int = 1_000_000
    # the dataset cache kernels see as d2l's ``../data`` (persistent, shared by every run)
    data_dir: Path = Path.home() / ".cache" / "d2l-i18n-toolkit" / "data"
    downloads: bool = True  # may d2l download datasets? (off: they are "needs-data")
    ray: str = ""  # a Ray cluster's address for run-cells ("" = the local pool)

    @property
    def english_dir(self) -> Path:
        """English's history (``history.tsv``) and releases (``v0.17.5/``): ``<shared>/english``."""
        return self.shared_dir / "english"


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
    url: str = ""  # git URL to fetch the repository from (default: GitHub's, from `repository`)
    mirror: str = ""  # a directory holding the repository at `commit` (relative to the shared dir)
    branch: str = "master"  # where "edit this page" leads

    @property
    def default_tab(self) -> str:
        return self.tabs[0]

    @property
    def git_url(self) -> str:
        return self.url or f"https://github.com/{self.repository}.git"


@dataclass(frozen=True)
class Revision:
    id: str
    commit: str
    date: str
    tabs: tuple[str, ...]
    today: bool
    repository: str = ""  # set for a revision set-up reads whole (every chapter) from its repository
    url: str = ""
    mirror: str = ""

    @property
    def whole(self) -> bool:
        return bool(self.repository)

    @property
    def git_url(self) -> str:
        return self.url or f"https://github.com/{self.repository}.git"


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


#: ``[tool.toolkit]`` in pyproject.toml: every key, with what it means (the guide's
#: configuration reference is generated from this table)
PROJECT_SETTINGS: dict[str, str] = {
    "source": "English revisions, one directory each (default `source_en`)",
    "translations": "the editions, one directory each (default `translations`)",
    "shared": "the mirror of the book's repositories (default `../shared`; `$D2L_SHARED` overrides)",
    "cache": "language judgements, check results and cell outputs by content hash (default `.toolkit-cache`)",
    "build": "run-cells manifests and reports (default `build`)",
    "po": "where `toolkit po export` writes (default `po`)",
    "cell_timeout": "seconds a cell may run, >= 1 (default 600)",
    "max_output_bytes": "stored output per cell, >= 1024 (default 1000000)",
    "data_dir": "the dataset cache d2l reads as `../data` (default `~/.cache/d2l-i18n-toolkit/data`)",
    "downloads": "whether kernels may download datasets (default true)",
    "ray": "a Ray cluster address for run-cells (default: the local pool)",
}
PROJECT_KEYS = set(PROJECT_SETTINGS)
PATH_KEYS = ("source", "translations", "shared", "cache", "build", "po")
INSIDE_KEYS = ("source", "translations", "cache", "build", "po")
#: ``translations/<edition>/edition.toml``: every key, required first
EDITION_SETTINGS: dict[str, str] = {
    "language": "its language's code: a table of toolkit/languages.toml for the site",
    "name": "the name readers see",
    "repository": "its repository, `owner/name`",
    "commit": "the pinned commit read (7-40 hex digits)",
    "basis": "the English revision of files without an `x_origin.md` (an id of source_en/LOCK.toml)",
    "tabs": "its d2lbook `config.ini` tabs; the first is the default tab of untagged cells",
    "url": "optional: where git fetches it (default GitHub's, from `repository`)",
    "mirror": "optional: a directory holding the repository at `commit`, relative to `shared`",
    "branch": "optional: the branch its 'edit this page' links open (default `master`)",
}
EDITION_KEYS = {"language", "name", "repository", "commit", "basis", "tabs"}
EDITION_OPTIONAL_KEYS = set(EDITION_SETTINGS) - EDITION_KEYS
REVISION_KEYS = {"id", "commit", "date", "tabs", "today", "repository", "url", "mirror"}
FILE_KEYS = {"revision", "path", "corpus", "sha256"}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as error:
        raise ConfigError(f"{path}: file not found") from error
    except IsADirectoryError as error:
        raise ConfigError(f"{path}: is a directory, not a TOML file") from error
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (TOML files must be UTF-8): {error.reason}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error
    except RecursionError as error:
        raise ConfigError(f"{path}: nested too deeply to be a configuration file") from error


MAX_STRING = 1000  # a name, URL or path longer than this is no configuration value

#: a git commit, as pinned: 7 to 40 hex digits (anything else could be read by git as an option)
COMMIT = re.compile(r"[0-9a-f]{7,40}")
#: a framework tab as d2lbook names them (``mxnet``, ``pytorch``, ``tensorflow``, ``jax``)
TAB = re.compile(r"[a-z][a-z0-9_]{0,31}")
#: an edition directory / language code: letters, digits, ``-`` and ``_``
IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: a GitHub-style ``owner/name``
REPOSITORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}/[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
#: where git may fetch from: https, ssh (``ssh://`` or ``user@host:path``), git, or a local path
#: (``file://``, absolute). Never git's ``ext::``/``fd::`` transports or anything starting with ``-``.
URL = re.compile(
    r"(https|ssh|git|file)://[^\s]+|[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:[^\s-][^\s]*|/[^\s]*",
)


def _string(where: str, key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key} must be a non-empty string, not {value!r}")
    if len(value) > MAX_STRING or any(ord(c) < 32 and c not in "\t" for c in value):
        shown = value[:40] + "…" if len(value) > 40 else value
        raise ConfigError(
            f"{where}: {key} must be one line of at most {MAX_STRING} characters, not {shown!r} "
            f"({len(value):,} characters)"
        )
    return value


def _matching(where: str, key: str, value: object, pattern: re.Pattern[str], what: str) -> str:
    text = _string(where, key, value)
    if not pattern.fullmatch(text):
        raise ConfigError(f"{where}: {key} must be {what}, not {text!r}")
    return text


def _commit(where: str, value: object) -> str:
    return _matching(where, "commit", value, COMMIT, "a commit id: 7 to 40 lowercase hex digits")


def _url(where: str, value: object) -> str:
    return _matching(
        where,
        "url",
        value,
        URL,
        "an https://, ssh://, git://, file:// or user@host:path URL, or an absolute path",
    )


def _tabs(where: str, value: object) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(t, str) and TAB.fullmatch(t) for t in value)
    ):
        raise ConfigError(
            f"{where}: tabs must be a non-empty list of framework names (lowercase letters, digits, _), e.g. "
            f'["mxnet", "pytorch"], not {value!r:.80}'
        )
    if len(set(value)) != len(value):
        raise ConfigError(f"{where}: tabs must not repeat a name: {value}")
    return tuple(value)


def _number(where: str, key: str, value: object, *, minimum: float, integer: bool = False) -> float:
    """A number at least ``minimum`` (bool is not a number here, though Python says it is)."""
    allowed = isinstance(value, int) or (isinstance(value, float) and not integer and math.isfinite(value))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not allowed or value < minimum:
        what = "a whole number" if integer else "a number"
        raise ConfigError(f"{where}: {key} must be {what} >= {minimum:g}, not {value!r}")
    return float(value)


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
    where = f"{root / 'pyproject.toml'} [tool.toolkit]"
    table = _read_toml(root / "pyproject.toml").get("tool", {}).get("toolkit", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table of settings")
    _check_keys(where, table, PROJECT_KEYS, set())
    for key in PATH_KEYS:
        if key in table:
            _string(where, key, table[key])
    for key in INSIDE_KEYS:
        # what the toolkit writes (and deletes, for a cache) stays inside the project
        if key in table and not _inside(root, table[key]):
            raise ConfigError(
                f"{where}: {key} = {table[key]!r} must be a folder inside the project ({root}), "
                "given relative to it"
            )
    shared = os.environ.get("D2L_SHARED") or table.get("shared", "../shared")
    return ProjectConfig(
        root=root,
        source_dir=root / table.get("source", "source_en"),
        translations_dir=root / table.get("translations", "translations"),
        shared_dir=(root / shared).resolve(),
        cache_dir=root / table.get("cache", ".toolkit-cache"),
        build_dir=root / table.get("build", "build"),
        cell_timeout=_number(where, "cell_timeout (seconds)", table.get("cell_timeout", 600), minimum=1),
        po_dir=root / table.get("po", "po"),
        max_output_bytes=int(
            _number(
                where,
                "max_output_bytes",
                table.get("max_output_bytes", 1_000_000),
                minimum=1024,
                integer=True,
            )
        ),
        data_dir=_data_dir(where, root, table),
        downloads=_boolean(where, "downloads", table.get("downloads", True)),
        ray=_string(where, "ray", table["ray"]) if "ray" in table else "",
    )


def _inside(root: Path, value: str) -> bool:
    """Whether ``value`` names a folder strictly inside ``root`` (relative, no way out)."""
    path = Path(value)
    if path.is_absolute():
        return False
    resolved = (root / path).resolve()
    return resolved != root.resolve() and root.resolve() in resolved.parents


def _data_dir(where: str, root: Path, table: dict[str, Any]) -> Path:
    """``$TOOLKIT_DATA_DIR``, else ``data_dir`` (relative to the project), else the user's cache."""
    configured = os.environ.get("TOOLKIT_DATA_DIR") or (
        _string(where, "data_dir", table["data_dir"]) if "data_dir" in table else ""
    )
    if not configured:
        return Path.home() / ".cache" / "d2l-i18n-toolkit" / "data"
    return (root / Path(configured).expanduser()).resolve()


def _boolean(where: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be true or false, not {value!r}")
    return value


def load_edition(directory: Path) -> Edition:
    path = directory / "edition.toml"
    table = _read_toml(path)
    _check_keys(str(path), table, EDITION_KEYS | EDITION_OPTIONAL_KEYS, EDITION_KEYS)
    where = str(path)
    if not IDENTIFIER.fullmatch(directory.name):
        raise ConfigError(f"{directory}: an edition's directory name must be letters, digits, - and _")
    return Edition(
        id=directory.name,
        language=_matching(
            where, "language", table["language"], IDENTIFIER, "a language code such as ko or pt-BR"
        ),
        name=_string(where, "name", table["name"]),
        repository=_matching(where, "repository", table["repository"], REPOSITORY, "owner/name"),
        commit=_commit(where, table["commit"]),
        basis=_string(where, "basis", table["basis"]),
        tabs=_tabs(where, table["tabs"]),
        directory=directory,
        url=_url(where, table["url"]) if "url" in table else "",
        mirror=_string(where, "mirror", table["mirror"]) if "mirror" in table else "",
        branch=_string(where, "branch", table["branch"]) if "branch" in table else "master",
    )


def load_editions(config: ProjectConfig) -> list[Edition]:
    """Every edition directory; a directory without its edition.toml is an error (a deleted
    metadata file must not silently drop an edition), hidden directories aside."""
    if not config.translations_dir.is_dir():
        raise ConfigError(f"{config.translations_dir}: the translations directory is missing")
    directories = [
        d for d in sorted(config.translations_dir.iterdir()) if d.is_dir() and not d.name.startswith(".")
    ]
    for directory in directories:
        if not (directory / "edition.toml").is_file():
            raise ConfigError(
                f"{directory / 'edition.toml'}: missing: every directory under {config.translations_dir} is "
                f"an edition and needs one (keys: {', '.join(sorted(EDITION_KEYS))}); remove the directory "
                "if it is not an edition"
            )
    return [load_edition(d) for d in directories]


def load_lock(path: Path) -> Lock:
    table = _read_toml(path)
    _check_keys(str(path), table, {"revision", "file"}, {"revision"})
    table.setdefault("file", [])
    revisions = []
    if not isinstance(table["revision"], list) or not isinstance(table["file"], list):
        raise ConfigError(f"{path}: revision and file must be arrays of tables ([[revision]], [[file]])")
    for entry in table["revision"]:
        where = f"{path} [[revision]]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: must be a table")
        _check_keys(where, entry, REVISION_KEYS, {"id", "commit", "tabs"})
        revisions.append(
            Revision(
                _matching(where, "id", entry["id"], IDENTIFIER, "a revision id such as 23d7a5ae"),
                _commit(where, entry["commit"]),
                str(entry.get("date", "")),
                _tabs(where, entry["tabs"]),
                entry.get("today", False) is True,
                _matching(where, "repository", entry["repository"], REPOSITORY, "owner/name")
                if "repository" in entry
                else "",
                _url(where, entry["url"]) if "url" in entry else "",
                _string(where, "mirror", entry["mirror"]) if "mirror" in entry else "",
            )
        )
    if sum(r.today for r in revisions) != 1:
        raise ConfigError(f"{path}: exactly one [[revision]] must have today = true")
    files = []
    known = {r.id for r in revisions}
    for entry in table["file"]:
        _check_keys(f"{path} [[file]]", entry, FILE_KEYS, FILE_KEYS)
        for key in FILE_KEYS:
            _string(f"{path} [[file]]", key, entry[key])
        if entry["revision"] not in known:
            raise ConfigError(f"{path}: file {entry['path']} names unknown revision {entry['revision']}")
        files.append(LockedFile(entry["revision"], entry["path"], entry["corpus"], entry["sha256"]))
    return Lock(path, tuple(revisions), tuple(files))
