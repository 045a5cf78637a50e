"""What makes two code cells "the same code": normalisation and tab resolution.

Translators may translate comments and docstrings; that is not code drift. So cells are
compared on their *normalised* code:

- ``normalise_code`` drops comments and docstrings and ignores formatting, by comparing the
  Python AST (IPython lines such as ``!ls`` or ``%timeit f()`` are kept as opaque statements).
  Code that does not parse falls back to the token stream without comments.
- ``saved_code`` is stricter, for ``#@save`` cells that go into the d2l library: the text must
  match line for line, only comments and docstrings may differ.

``resolved_tabs`` turns what a cell header says into the tabs the cell belongs to, given the
edition's tab list: no header means the first (default) tab.
"""

from __future__ import annotations

import ast
import hashlib
import io
import tokenize
from functools import lru_cache

from toolkit.model import CodeCell

ALL_TABS = "all"
_MAGIC_PREFIXES = ("!", "%")


def _shield_magics(code: str) -> str:
    """Turn IPython magics into string statements so the code parses as Python."""
    lines = []
    for line in code.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(_MAGIC_PREFIXES):
            indent = line[: len(line) - len(stripped)]
            magic = stripped[: _comment_columns(stripped).get(1, len(stripped))].rstrip()
            lines.append(f"{indent}__ipython_magic__({magic!r})")
        else:
            lines.append(line)
    return "\n".join(lines)


_DOCSTRING_OWNERS = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_STATEMENT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")


def _docstring_of(node: ast.AST) -> ast.Expr | None:
    """The docstring statement of a module, function or class, if it has one."""
    if not isinstance(node, _DOCSTRING_OWNERS) or not node.body:
        return None
    first = node.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return first
    return None


def _drop_docstrings(tree: ast.Module) -> ast.Module:
    """Remove the docstring of the module and of every function and class, wherever nested.

    Only statement lists are walked (a docstring can only own a statement list), which is
    what makes this cheap next to a visitor over every expression node."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if _docstring_of(node) is not None:
            assert isinstance(node, _DOCSTRING_OWNERS)
            node.body = node.body[1:] or [ast.Pass()]
        for name in _STATEMENT_LISTS:
            children = getattr(node, name, None)
            if isinstance(children, list):
                stack.extend(child for child in children if isinstance(child, ast.AST))
    return tree


def _tokens_without_comments(code: str) -> str:
    words: list[str] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE):
                continue
            words.append(token.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        # Not Python at all: compare the non-comment lines, whitespace-insensitively.
        return "\n".join(
            " ".join(line.split()) for line in code.splitlines() if not line.lstrip().startswith("#")
        )
    return " ".join(words)


@lru_cache(maxsize=4096)
def normalise_code(code: str) -> str:
    """A canonical form of ``code`` that ignores comments, docstrings and formatting."""
    try:
        tree = ast.parse(_shield_magics(code))
    except (SyntaxError, ValueError):
        return "tokens:" + _tokens_without_comments(code)
    tree = _drop_docstrings(tree)
    return "ast:" + ast.dump(tree, annotate_fields=False, include_attributes=False)


@lru_cache(maxsize=4096)
def saved_code(code: str) -> str:
    """The lines of ``code`` without comments and docstrings, otherwise exact (``#@save``)."""
    docstring_lines: set[int] = set()
    try:
        tree = ast.parse(_shield_magics(code))
    except (SyntaxError, ValueError):
        tree = None
    if tree is not None:
        for node in ast.walk(tree):
            docstring = _docstring_of(node)
            if docstring is not None:
                end = docstring.end_lineno or docstring.lineno
                docstring_lines.update(range(docstring.lineno, end + 1))
    kept: list[str] = []
    comment_columns = _comment_columns(code)
    for number, line in enumerate(code.splitlines(), start=1):
        if number in docstring_lines:
            continue
        column = comment_columns.get(number)
        if column is not None:
            line = line[:column]
        line = line.rstrip()
        if line:
            kept.append(line)
    return "\n".join(kept)


def _comment_columns(code: str) -> dict[int, int]:
    columns: dict[int, int] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.COMMENT and token.string.strip() != "#@save":
                columns[token.start[0]] = token.start[1]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return columns


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def resolved_tabs(cell: CodeCell, edition_tabs: tuple[str, ...]) -> frozenset[str]:
    """The tabs a cell belongs to under an edition's ``tabs`` list.

    ``#@tab all`` means every tab; no header means the default (first) tab.
    """
    if cell.tabs is None:
        return frozenset(edition_tabs[:1])
    if ALL_TABS in cell.tabs:
        return frozenset({ALL_TABS})
    return frozenset(cell.tabs)


def describe_tabs(tabs: frozenset[str]) -> str:
    return ", ".join(sorted(tabs)) if tabs else "(none)"
