"""What makes two code cells "the same code": normalisation and tab resolution.

Translators may translate comments and docstrings; that is not code drift. So cells are
compared on their *normalised* code:

- ``normalise_code`` drops comments and docstrings and ignores formatting, by comparing the
  Python AST. IPython lines such as ``!ls`` or ``%timeit f()`` are kept as opaque statements
  holding their whole text: a shell line is not Python, ``#`` does not start a comment there
  (``!ls README.md#; touch x`` runs ``touch``). A cell magic cell (``%%bash``,
  ``%%writefile``) is compared as text, line by line. Code that does not parse falls back to
  the token stream without comments.
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
import warnings
from functools import lru_cache

from toolkit.model import Chapter, CodeCell, iter_blocks

ALL_TABS = "all"
# the frameworks run-cells executes, in d2l.ai's tab order (the CLI offers exactly these)
FRAMEWORKS = ("mxnet", "pytorch", "tensorflow", "jax")
_MAGIC_PREFIXES = ("!", "%")


def is_magic_line(line: str) -> bool:
    """An IPython line magic or shell escape (``!ls``, ``%timeit f()``): not Python."""
    return line.lstrip().startswith(_MAGIC_PREFIXES)


def is_tooling_cell(code: str) -> bool:
    """d2lbook's own set-up cell (``%load_ext d2lbook.tab`` / ``tab.interact_select(...)``):
    it drives the book's build, is not the book's code and is not shown to readers."""
    return "%load_ext d2lbook" in code


BRANCH_MARK = "tab.selected"


def select_branches(code: str, framework: str) -> str:
    """The cell as d2lbook's build runs it in ``framework``'s notebook: each ``if
    tab.selected(...)`` line is dropped and its block kept, dedented by four spaces, when it
    names the framework, else dropped whole.

    This is d2lbook 1.0.3's ``notebook._clean_if_branches``, line for line (its module imports
    notedown and nbconvert, which the kernels do not need; a test compares the two on every
    cell of the book). It is not Python's ``if``: a branch ends at the first line indented no
    deeper than its ``if``, and a branch inside a kept one starts anew, so the book's
    ``if tab.selected('tensorflow'): self.training = None`` under ``__init__`` lands in
    ``__init__`` (oo-design.md), as on d2l.ai.
    """
    lines = code.split("\n")
    if not any(BRANCH_MARK in line for line in lines):
        return code
    mode, indent = 0, 0  # mode 1: in a selected branch, 2: in another framework's branch
    kept = []
    for line in lines:
        leading = len(line) - len(line.lstrip())
        if "if" in line and BRANCH_MARK in line:
            mode = 1 if (f'"{framework}"' in line or f"'{framework}'" in line) else 2
            indent = leading
            continue
        if mode != 0 and line.strip() != "" and leading <= indent:
            mode = 0
        if mode == 0:
            kept.append(line)
        if mode == 1:
            kept.append(line[4:])
    return "\n".join(kept)


def chapter_frameworks(chapter: Chapter, tabs: tuple[str, ...]) -> tuple[str, ...]:
    """The frameworks a chapter has code for, in ``tabs``' order, as d2lbook makes a page or
    notebook per framework: the default tab wherever there is code, another framework only
    where a cell names it (``#@tab all`` cells alone are no JAX code). d2lbook's set-up
    cell counts for none."""
    cells = [
        block
        for block, _ in iter_blocks(chapter.blocks)
        if isinstance(block, CodeCell) and block.executable and not is_tooling_cell(block.code)
    ]
    named = {tab for cell in cells for tab in (cell.tabs or ()) if tab != ALL_TABS}
    found = {tabs[0]} if cells and tabs else set()
    return tuple(tab for tab in tabs if tab in found or tab in named)


def is_cell_magic(code: str) -> bool:
    """A cell whose first line is a cell magic (``%%bash``, ``%%writefile x.py``): its body is
    another language or a file's text, not Python."""
    first = next((line for line in code.splitlines() if line.strip()), "").lstrip()
    # d2lbook's `%%tab` header is no cell magic (English puts one after a blank line too)
    return first.startswith("%%") and not first.startswith("%%tab")


def blank_magics(code: str) -> str:
    """IPython lines become blanks of the same length, so ``tokenize`` sees only Python and
    columns and line numbers stay where they were."""
    out = []
    for line in code.splitlines(keepends=True):
        if is_magic_line(line):
            body = line.rstrip("\r\n")
            out.append(" " * len(body) + line[len(body) :])
        else:
            out.append(line)
    return "".join(out)


def _shield_magics(code: str) -> str:
    """Turn IPython lines into string statements holding their whole text, so the code parses
    as Python and a change anywhere on a magic or shell line is a change of code.

    A ``#`` there is no comment to IPython: it expands ``{expression}`` and ``$name`` on the
    whole line before the shell or the magic sees it (``!ls #{open('x','w')}`` runs Python),
    so even the text after a shell comment counts."""
    lines = []
    for line in code.splitlines():
        stripped = line.lstrip()
        if is_magic_line(line):
            indent = line[: len(line) - len(stripped)]
            lines.append(f"{indent}__ipython_magic__({stripped.rstrip()!r})")
        else:
            lines.append(line)
    return "\n".join(lines)


def _parse_python(code: str) -> ast.Module:
    """The cell's AST; Python's SyntaxWarnings (``1if x``, ``"\\d"``) about a translator's code
    are the checks' business, not lines on the user's terminal."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        return ast.parse(_shield_magics(code))


def _text_lines(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip("\n").splitlines())


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


def _is_bare_string(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _drop_docstrings(tree: ast.Module) -> ast.Module:
    """Remove docstrings, wherever nested: every statement that is a bare string (a
    docstring, or a translated docstring added beside the English one; it does nothing).

    Only statement lists are walked (a docstring can only own a statement list), which is
    what makes this cheap next to a visitor over every expression node."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for name in _STATEMENT_LISTS:
            children = getattr(node, name, None)
            if isinstance(children, list):
                if name != "handlers" and any(_is_bare_string(child) for child in children):
                    kept = [child for child in children if not _is_bare_string(child)]
                    setattr(node, name, kept or ([ast.Pass()] if name == "body" else []))
                    children = getattr(node, name)
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


@lru_cache(maxsize=65536)
def normalise_code(code: str) -> str:
    """A canonical form of ``code`` that ignores comments, docstrings and formatting."""
    if is_cell_magic(code):
        return "text:" + _text_lines(code)
    try:
        tree = _parse_python(code)
    except (SyntaxError, ValueError):
        return "tokens:" + _tokens_without_comments(code)
    tree = _drop_docstrings(tree)
    return "ast:" + ast.dump(tree, annotate_fields=False, include_attributes=False)


@lru_cache(maxsize=65536)
def saved_code(code: str) -> str:
    """The lines of ``code`` without comments and docstrings, otherwise exact (``#@save``).

    A line that holds a docstring and another statement (``\"\"\"doc\"\"\"; payload``) is kept:
    the payload is code."""
    if is_cell_magic(code):
        return _text_lines(code)
    docstring_lines: set[int] = set()
    try:
        tree = _parse_python(code)
    except (SyntaxError, ValueError):
        tree = None
    if tree is not None:
        docstrings = [d for d in map(_docstring_of, ast.walk(tree)) if d is not None]
        statement_lines = {
            line
            for node in ast.walk(tree)
            # simple statements only: a class or def spans its own docstring's lines
            if isinstance(node, ast.stmt)
            and not hasattr(node, "body")
            and not any(node is d for d in docstrings)
            for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)
        }
        for docstring in docstrings:
            end = docstring.end_lineno or docstring.lineno
            docstring_lines.update(set(range(docstring.lineno, end + 1)) - statement_lines)
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
    """Where each Python comment starts (shell lines have none: ``#`` is bash's there)."""
    columns: dict[int, int] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(blank_magics(code)).readline):
            if token.type == tokenize.COMMENT and token.string.strip() != "#@save":
                columns[token.start[0]] = token.start[1]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return columns


class _BlankLiterals(ast.NodeTransformer):
    """Blanks every string literal and f-string, collecting them in order; an f-string keeps
    the expressions it formats (sorted), so reordered placeholders are still the same code."""

    def __init__(self) -> None:
        self.literals: list[str] = []

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        self.literals.append(ast.unparse(node))
        expressions = sorted(
            ast.dump(part.value, annotate_fields=False)
            for part in node.values
            if isinstance(part, ast.FormattedValue)
        )
        return ast.Constant("\0".join(expressions))

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, str):
            self.literals.append(node.value)
            return ast.Constant("")
        return node


def _literals(code: str) -> tuple[str, list[str]] | None:
    """The code's canonical form with every string literal blanked, and the literals in
    order; None when it is not Python."""
    if is_cell_magic(code):
        return None
    try:
        tree = _drop_docstrings(_parse_python(code))
    except (SyntaxError, ValueError):
        return None
    blanker = _BlankLiterals()
    tree = blanker.visit(tree)
    return ast.dump(tree, annotate_fields=False, include_attributes=False), blanker.literals


def changed_literals(english: str, translated: str) -> list[tuple[str, str]] | None:
    """When two cells differ only in string literals (a translated plot label or message),
    the (English, translated) literals that differ; None when they differ in anything else."""
    ours, theirs = _literals(english), _literals(translated)
    if ours is None or theirs is None or ours[0] != theirs[0] or len(ours[1]) != len(theirs[1]):
        return None
    return [(a, b) for a, b in zip(ours[1], theirs[1], strict=True) if a != b]


@lru_cache(maxsize=65536)
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
