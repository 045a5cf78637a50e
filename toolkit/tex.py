"""TeX as the book writes it and as tools damage it: one module for the rules that report
damage, the site that repairs it for readers and ``update`` that carries English's math.

Pure functions on strings (and, for ``all_math``/``math_line``, on the model's blocks). A
repair is made only where it is certain; a formula is never guessed.
"""

from __future__ import annotations

import re
from collections import Counter

from toolkit.model import Block, Equation, block_inline

CURRENCY = re.compile(r"^\s*\d[\d.,]*\s+[^\W\d_]{2,}")


def spaceless_tex(text: str) -> str:
    """TeX compared as MathJax reads it: spacing aside."""
    return "".join(text.split())


# words inside these commands are prose a translator translates ("\text{if } x > 0")
TEXT_COMMANDS = re.compile(
    r"\\(?:text|textrm|textit|textbf|textsf|mbox)\s*\{[^{}]*\}|\\mathrm\s*\{[^{}\\]{3,}\}"
)
# "60,000", "60.000", "60{,}000", "60\,000": one number in every locale
THOUSANDS = re.compile(r"(?<=\d)(?:\{[.,]\}|[.,]|\\,|\\ |~)(?=\d{3}(?!\d))")
ORDINAL = re.compile(r"\^\{?(?:\\(?:text|mathrm|textrm)\{)?(?:st|nd|rd|th)\}*\}?$")


# thin and negative spaces ("[\![x]\!]", "60\,000"): spacing, not structure
SPACING = re.compile(r"(?<!\\)\\[!,;:]")


def tex_shape(text: str) -> str:
    """TeX as the reader sees its structure: words in text commands, braces and spacing aside."""
    return (
        spaceless_tex(SPACING.sub("", TEXT_COMMANDS.sub(r"\\text{}", text))).replace("{", "").replace("}", "")
    )


SHAPE_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|.", re.S)


def reworded_around_text(english: str, translated: str) -> bool:
    """Whether ``translated`` is ``english`` with its ``\\text{}`` prose put in another word
    order: the same symbols and commands, moved (``\\text{is near}\\; x`` becomes
    ``x\\text{'ye yakın}``, as Turkish says it). Only formulas that hold prose qualify."""
    if "\\text" not in english or "\\text" not in translated:
        return False

    def symbols(tex: str) -> Counter[str]:
        shaped = spaceless_tex(SPACING.sub("", TEXT_COMMANDS.sub(r"\\text{}", tex)))
        return Counter(t for t in SHAPE_TOKEN.findall(shaped) if t not in ("{", "}", "\\text"))

    return symbols(english) == symbols(translated)


def math_key(math: str) -> str:
    """Inline math compared across locales: number formats and ordinal suffixes aside."""
    return THOUSANDS.sub("", tex_shape(ORDINAL.sub("", spaceless_tex(math))))


def tex_balance(tex: str) -> tuple[int, int]:
    """Unescaped ``{`` minus ``}``, and ``\\begin`` minus ``\\end``: zero in TeX that typesets."""
    plain = re.sub(r"\\.", "", tex)  # \{ and \} are braces in the formula, not groups
    return plain.count("{") - plain.count("}"), tex.count("\\begin{") - tex.count("\\end{")


# "\beta", "\frac" read by a tool as Python escapes: a backspace and "eta", a form feed and "rac"
ESCAPED = {"\x07": "\\a", "\x08": "\\b", "\x0b": "\\v", "\x0c": "\\f"}
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# "\\mathbf", "\\|": a tool doubled the backslash of a command. "\\" then a letter is also a
# row break followed by a variable ("x_1 \\x_2"), so only a command of two letters or more, or
# a symbol command that no row starts with, counts
DOUBLED = re.compile(r"(?<!\\)\\\\([A-Za-z]{2,}|[|.,;!])")
# "[\[x\]]" for "[\![x]\!]": a tool escaped the brackets (markdown's habit), and MathJax
# reads "\[" inside a formula as the start of display math; "\\[2pt]" is a row break
ESCAPED_BRACKET = re.compile(r"(?<!\\)\\([\[\]])")
# "D \def = {…}": a machine translation's word for "\stackrel{\text{def}}{=}" (ko-partrita
# ranking.md); TeX's \def defines a macro and must name it ("\def\x{…}")
UNNAMED_DEF = re.compile(r"(?<!\\)\\def(?![A-Za-z])(?!\s*\\[A-Za-z])")
# undone only in a formula whose commands were doubled: "\\\\left\\\\{" was "\\left\\{"
DOUBLED_BRACE = re.compile(r"(?<!\\)\\\\([{}])")


def tex_problem(tex: str, control: bool = True) -> str:
    """Why MathJax cannot typeset ``tex`` as its author meant, or "" when nothing is seen
    (control characters only with ``control``)."""
    braces, environments = tex_balance(tex)
    if braces:
        return f"{abs(braces)} {'unclosed' if braces > 0 else 'unopened'} brace(s)"
    if environments:
        return f"{abs(environments)} unmatched \\begin/\\end"
    character = CONTROL.search(tex) if control else None
    if character:
        escape = ESCAPED.get(character.group(0), "an escape")
        return f"a control character where {escape} was (a tool read it as an escape)"
    if control and LOST_ESCAPE.search(tex):  # M005's to report
        return "a tab where `\\t` was (a tool read `\\textrm`, `\\times` as an escape)"
    doubled = DOUBLED.search(tex)
    if doubled:
        return f"a doubled backslash: `\\\\{doubled.group(1)}` for `\\{doubled.group(1)}`"
    if UNNAMED_DEF.search(tex):
        return "`\\def` with no macro name after it (MathJax: \\def must be followed by a control sequence)"
    bracket = ESCAPED_BRACKET.search(tex)
    if bracket:
        return f"an escaped bracket `\\{bracket.group(1)}` (MathJax reads it as display math)"
    return ""


def repaired_tex(tex: str) -> str:
    """``tex`` with what a tool did to it undone where that is certain (escapes read as control
    characters or tabs, doubled backslashes of commands, escaped brackets); braces a tool lost
    or added are not guessed."""
    tex = CONTROL.sub(lambda m: ESCAPED.get(m.group(0), m.group(0)), tex)
    tex = ESCAPED_BRACKET.sub(r"\1", LOST_ESCAPE.sub(lambda m: ESCAPES[m.group(0)], tex))
    if DOUBLED.search(tex) is None:
        return tex
    tex = DOUBLED.sub(lambda m: "\\" + m.group(1), tex)
    return DOUBLED_BRACE.sub(lambda m: "\\" + m.group(1), tex)


def certain_repair(tex: str) -> str:
    """``tex`` with a tool's damage undone (``repaired_tex``) when that was its only problem,
    or "" when it has none or more than that."""
    if not tex_problem(tex):
        return ""
    repaired = repaired_tex(tex)
    return repaired if not tex_problem(repaired) else ""


def math_line(block: Block, math: str) -> int:
    """The line of ``block`` the formula starts on (its first line when it is not found):
    an equation's first line of TeX, not its ``$$``."""
    at = block.source.find(math)
    if at < 0:
        at = block.source.find(math.strip())
    return block.span.start + block.source.count("\n", 0, at) if at >= 0 else block.span.start


def all_math(block: object) -> list[str]:
    """Every formula of a block: its inline and in-paragraph display math, or the equation."""
    if isinstance(block, Equation):
        return [block.tex]
    facts = block_inline(block)  # type: ignore[arg-type]
    # the inline facts list a paragraph's $$…$$ among its math as well: each formula once
    return list(dict.fromkeys([*facts.math, *facts.display_math])) if facts is not None else []


# a TeX command whose backslash and first letter a tool read as an escape: "\times" -> TAB "imes"
# (the other control characters such a tool leaves, \b and \f, are X006's)
LOST_ESCAPE = re.compile(r"\t(?=[a-z]{2,})")
ESCAPES = {"\t": "\\t"}


#: A TeX command's name, as English writes them (``\\sim``): the words a tool may leave bare.
TEX_COMMAND = re.compile(r"\\([A-Za-z]{2,})")


#: A word of letters no backslash begins: plain text, or a command name a tool left bare.
BARE_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}(?![A-Za-z])")


def bare_commands(math: str, commands: frozenset[str]) -> list[str]:
    """English's command names that ``math`` writes as bare words (``X sim U(n)``)."""
    return sorted(commands.intersection(BARE_WORD.findall(math)))


def restored_escapes(math: str, commands: frozenset[str]) -> tuple[str, list[str]]:
    """``math`` with the backslashes a tool took restored: tabs that stood for ``\\t``, and
    the bare words that are ``commands`` (English's); and the commands restored."""
    shown = LOST_ESCAPE.sub(lambda m: ESCAPES[m.group(0)], math)
    bare = bare_commands(shown, commands)
    if bare:
        names = set(bare)
        shown = BARE_WORD.sub(lambda m: "\\" + m.group(0) if m.group(0) in names else m.group(0), shown)
    return shown, bare


def dropped_backslashes(english: str, translated: str) -> list[str]:
    """English's commands that ``translated`` writes bare when that is all that differs
    (``X sim U(n)`` for ``X \\sim U(n)``: a tool dropped the backslashes it read as escapes)."""
    commands = frozenset(TEX_COMMAND.findall(english))
    restored, bare = restored_escapes(translated, commands)
    if not bare or tex_shape(translated) == tex_shape(english):
        return []  # nothing lost: English writes the same words bare (`\text{exp}` beside `\exp`)
    return bare if tex_shape(restored) == tex_shape(english) else []
