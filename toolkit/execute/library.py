"""The book's own ``d2l`` library: which one a program runs with, and where a chapter's
``#@save`` code differs from it.

Invariants:
- A program runs with the ``d2l/`` folder of the English revision its cells come from
  (``source_en/<revision>/d2l``); a file whose basis is an edition's ``x_origin.md`` (the v0.17
  editions) runs with the edition's own ``d2l/`` where that is proven English, else with
  English's library of the edition's release (``english/v0.17.5/d2l``), else today's English
  library; the choice is reported (``origin``). No file that is not English is ever imported.
- A ``Library`` carries its files' text, not a path: the kernel writes them into its own
  scratch directory, so a Ray worker on another machine runs exactly what the driver read,
  and the library's digest is part of every program's cache key.
- ``save_differences`` is pure: a top-level definition of a ``#@save`` cell is compared with the
  library's definition of the same name (methods added with ``@d2l.add_to_class(C)`` by class
  and name) as ASTs with ``d2l.`` prefixes, docstrings and comments left out, because
  d2lbook writes the library with the prefixes stripped and the docstrings extended.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from toolkit.book.history import EnglishHistory, edition_release, release_library

# d2l's module name of each framework (``from d2l import torch as d2l``)
MODULE_OF = {"mxnet": "mxnet", "pytorch": "torch", "tensorflow": "tensorflow", "jax": "jax"}


@dataclass(frozen=True)
class Library:
    origin: str  # where it was read, for people: "source_en/23d7a5ae/d2l"
    files: tuple[tuple[str, str], ...]  # (file name in d2l/, text)
    digest: str

    def has(self, framework: str) -> bool:
        return any(name == f"{MODULE_OF[framework]}.py" for name, _ in self.files)

    def digest_for(self, framework: str) -> str:
        """What a program of ``framework`` depends on: the package's ``__init__`` and its module."""
        wanted = {"__init__.py", f"{MODULE_OF[framework]}.py"}
        digest = hashlib.sha256()
        for name, text in self.files:
            if name in wanted:
                digest.update(name.encode() + b"\0" + text.encode("utf-8") + b"\0")
        return digest.hexdigest()[:16]

    def module_text(self, framework: str) -> str:
        return dict(self.files).get(f"{MODULE_OF[framework]}.py", "")

    def write(self, directory: Path) -> Path:
        """Write the package into ``directory/d2l``; returns ``directory`` (for sys.path)."""
        package = directory / "d2l"
        package.mkdir(parents=True, exist_ok=True)
        for name, text in self.files:
            (package / name).write_text(text, "utf-8")
        return directory


def read_library(
    folder: Path, origin: str, keep: Callable[[Path], bool] = lambda path: True
) -> Library | None:
    """The library in ``folder`` (a ``d2l/`` directory) with the files ``keep`` accepts, or None
    when it has no ``__init__.py`` to import. Symbolic links are never read."""
    if folder.is_symlink() or not (folder / "__init__.py").is_file():
        return None
    paths = [p for p in sorted(folder.glob("*.py")) if p.is_file() and not p.is_symlink() and keep(p)]
    if not any(p.name == "__init__.py" for p in paths):
        return None
    files = tuple((p.name, p.read_text("utf-8")) for p in paths)
    digest = hashlib.sha256()
    for name, text in files:
        digest.update(name.encode() + b"\0" + text.encode("utf-8") + b"\0")
    return Library(origin, files, digest.hexdigest()[:16])


class LibraryIndex:
    """Chooses and caches the library of each program's English file.

    Only English's library is imported by a kernel: a ``d2l/`` folder serves a framework when
    its ``__init__.py`` and that framework's module are proven English by their bytes
    (``toolkit.book.history``). The v0.17 editions' own ``d2l/`` was regenerated from their
    translated ``#@save`` cells, so most of it is not English; English's library of the release
    the edition names in its ``config.ini`` serves them instead. Each refusal is remembered
    (``refused``) for the run's report."""

    def __init__(
        self,
        root: Path,
        source_dir: Path,
        translations_dir: Path,
        today: str,
        history: EnglishHistory | None = None,
        english_dir: Path | None = None,
    ) -> None:
        self.root = root
        self.source_dir = source_dir
        self.translations_dir = translations_dir
        self.today = today
        self.history = history
        self.english_dir = english_dir
        self._read: dict[Path, Library | None] = {}
        self.refused: dict[str, str] = {}  # library file -> why it was not imported

    def _at(self, folder: Path) -> Library | None:
        if folder not in self._read:
            origin = folder.as_posix()
            for base in (self.root, *([self.english_dir.parent] if self.english_dir else [])):
                try:  # named for people, never by an absolute path of this machine
                    origin = folder.relative_to(base).as_posix()
                    break
                except ValueError:
                    continue
            self._read[folder] = read_library(folder, origin, self._english)
        return self._read[folder]

    def _english(self, path: Path) -> bool:
        """Whether a library file is English's; a refusal is remembered for the report."""
        if self.history is None or self.history.version_of(path) is not None:
            return True
        try:
            shown = path.relative_to(self.root).as_posix()
        except ValueError:
            shown = path.as_posix()
        self.refused[shown] = "not English's: its sha256 is in no version of English's history"
        return False

    def _release_of(self, edition: str) -> str:
        return edition_release(self.translations_dir / edition)

    def candidates(self, edition: str, english_path: Path) -> list[Path]:
        """The d2l folders to try, best first."""
        folders: list[Path] = []
        try:
            revision = english_path.resolve().relative_to(self.source_dir.resolve()).parts[0]
            folders.append(self.source_dir / revision / "d2l")
        except ValueError:
            pass  # an x_origin.md inside the edition: its own library first, then its release's
        if edition != "en":
            folders.append(self.translations_dir / edition / "d2l")
            release = self._release_of(edition)
            if release and self.english_dir is not None:
                folders.append(release_library(self.english_dir, release))
        folders.append(self.source_dir / self.today / "d2l")
        return folders

    def library_for(self, edition: str, english_path: Path, framework: str) -> Library | None:
        for folder in self.candidates(edition, english_path):
            library = self._at(folder)
            if library is not None and library.has(framework):
                return library
        return None


@dataclass(frozen=True)
class SaveDifference:
    line: int  # the cell's line in the chapter
    name: str  # "Trainer.fit", "load_array"
    detail: str  # "differs from d2l/torch.py:412" or "not in d2l/torch.py"


def _selected_tabs(test: ast.expr) -> tuple[str, ...] | None:
    """The tabs of ``tab.selected('a', 'b')`` (or ``tab.selected(['a', 'b'])``, or several
    joined by ``or``), else None."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        parts = [_selected_tabs(value) for value in test.values]
        if any(part is None for part in parts):
            return None
        return tuple(name for part in parts if part for name in part)
    if not (isinstance(test, ast.Call) and ast.unparse(test.func) == "tab.selected"):
        return None
    args: list[ast.expr] = list(test.args)
    if len(args) == 1 and isinstance(args[0], ast.List | ast.Tuple):
        args = list(args[0].elts)
    names = [a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return tuple(names) if len(names) == len(args) else None


class _Normaliser(ast.NodeTransformer):
    """``d2l.x`` -> ``x``; docstrings dropped; ``if tab.selected(...)`` resolved for one
    framework, as d2lbook does when it writes each framework's library."""

    def __init__(self, framework: str) -> None:
        self.tab = framework  # d2lbook's tab names are the frameworks' names

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id == "d2l":
            return ast.copy_location(ast.Name(node.attr, node.ctx), node)
        return node

    def visit_If(self, node: ast.If) -> ast.AST | list[ast.stmt]:
        tabs = _selected_tabs(node.test)
        if tabs is None:
            self.generic_visit(node)
            return node
        kept = node.body if self.tab in tabs else node.orelse
        return [result for stmt in kept for result in _as_list(self.visit(stmt))]

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        body = getattr(node, "body", None)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and body:
            first = body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
        return node


def _as_list(result: object) -> list[ast.stmt]:
    if result is None:
        return []
    if isinstance(result, list):
        return [r for r in result if isinstance(r, ast.stmt)]
    return [result] if isinstance(result, ast.stmt) else []


def _dump(node: ast.AST, framework: str) -> str:
    """The normalised AST of a copy of ``node`` as text (comparable, line numbers aside)."""
    copy = ast.parse(ast.unparse(node))
    return ast.dump(_Normaliser(framework).visit(copy))


def _method_owner(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """``Trainer`` for a function decorated ``@d2l.add_to_class(d2l.Trainer)``."""
    for decorator in node.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and ast.unparse(decorator.func).endswith("add_to_class")
            and decorator.args
        ):
            return ast.unparse(decorator.args[0]).removeprefix("d2l.")
    return None


def _without_add_to_class(node: ast.FunctionDef | ast.AsyncFunctionDef, framework: str) -> str:
    copy = ast.parse(ast.unparse(node)).body[0]
    assert isinstance(copy, ast.FunctionDef | ast.AsyncFunctionDef)
    copy.decorator_list = [
        d
        for d in copy.decorator_list
        if not (isinstance(d, ast.Call) and ast.unparse(d.func).endswith("add_to_class"))
    ]
    return _dump(copy, framework)


def _definitions(tree: ast.Module, framework: str) -> dict[str, list[tuple[str, int]]]:
    """Every definition by name (``f``, ``C``, ``C.m``): its normalised AST and line.

    d2lbook merges ``@add_to_class`` methods into the class body of the library, so a class
    there may define a method twice (the stub, then the real one); any of them may match.
    A class itself is represented by its bases and decorators; its methods by ``C.m``.
    """
    found: dict[str, list[tuple[str, int]]] = {}

    def add(key: str, dump: str, line: int) -> None:
        found.setdefault(key, []).append((dump, line))

    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            owner = _method_owner(node)
            name = f"{owner}.{node.name}" if owner else node.name
            add(name, _without_add_to_class(node, framework), node.lineno)
        elif isinstance(node, ast.ClassDef):
            shell = _dump(ast.Tuple(list(node.bases), ast.Load()), framework)
            add(node.name, shell, node.lineno)
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    add(f"{node.name}.{item.name}", _dump(item, framework), item.lineno)
    return found


def _parse_python(code: str) -> ast.Module | None:
    # IPython lines (%magic, !shell) are not Python; a cell with them is compared without them
    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def save_differences(
    saved_cells: list[tuple[int, str]], library: Library, framework: str
) -> list[SaveDifference]:
    """Definitions of the ``#@save`` cells ``(line, code)`` that the library lacks or defines otherwise."""
    module = library.module_text(framework)
    library_tree = _parse_python(module)
    if library_tree is None:
        return []
    defined = _definitions(library_tree, framework)
    file_name = f"d2l/{MODULE_OF[framework]}.py"
    differences: list[SaveDifference] = []
    for line, code in saved_cells:
        tree = _parse_python(code)
        if tree is None:
            continue
        for key, entries in _definitions(tree, framework).items():
            theirs = defined.get(key)
            if not theirs:
                differences.append(SaveDifference(line, key, f"not in {file_name}"))
            elif not any(dump == entries[-1][0] for dump, _ in theirs):
                differences.append(SaveDifference(line, key, f"differs from {file_name}:{theirs[-1][1]}"))
    return differences
