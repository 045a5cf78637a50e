"""The guide's reference pages, generated from the code that defines them: every rule from
its registration and docstring, every configuration key from the schema tables in
``toolkit.config`` and ``toolkit/languages.toml`` (as ruff and sqlfluff generate theirs), so
the reference cannot drift from what the toolkit does. Pure functions: text in, text out."""

from __future__ import annotations

from dataclasses import fields

from toolkit.checks import RULES
from toolkit.config import EDITION_KEYS, EDITION_SETTINGS, PROJECT_SETTINGS

FAMILIES = {
    "X": "Parse diagnostics",
    "C": "Code cells",
    "T": "Framework tabs",
    "L": "Labels",
    "R": "References",
    "E": "Equations",
    "F": "Figures",
    "K": "Links",
    "I": "Inline code and numbers",
    "H": "Headings",
    "P": "Language",
    "M": "Markup that renders literally, machine-translation artifacts",
    "S": "Staleness against today's English and the declared basis",
    "U": "Raw HTML and active content",
}


def rules_reference() -> str:
    """Every rule, by family: code, name, severity and its docstring (its documentation)."""
    from toolkit.checks import families  # noqa: F401  (registers every rule)

    out = [
        "# Rules\n\n",
        "Generated from the rules themselves (`toolkit rules CODE` prints the same). A finding reads "
        "`path:line: CODE message`; silence one with `<!-- toolkit: ignore CODE -->` on the line before "
        "the block, `<!-- toolkit: ignore-file CODE -->` for a file, or `--ignore CODE` (prefixes work).\n",
    ]
    for letter, title in FAMILIES.items():
        rules = sorted((r for r in RULES.values() if r.code.startswith(letter) and r.code != "X000"), key=lambda r: r.code)
        if not rules:
            continue
        out.append(f"\n## {letter}: {title}\n")
        for spec in rules:
            grouped = " · grouped" if spec.grouped else ""
            out.append(f"\n### {spec.code} {spec.name}\n\n*{spec.severity}{grouped}*\n\n{_dedented(spec.doc)}\n")
    missing = sorted(code for code in RULES if code[0] not in FAMILIES and code != "X000")
    if missing:
        raise ValueError(f"rules of no family in the reference: {', '.join(missing)}")
    return "".join(out)


def configuration_reference() -> str:
    """Every key of ``[tool.toolkit]``, ``edition.toml`` and a languages.toml table."""
    from toolkit.site.words import Words

    out = ["# Configuration\n\nGenerated from the schema the toolkit validates with.\n"]
    out.append("\n## `[tool.toolkit]` in `pyproject.toml`\n\n| key | meaning |\n| --- | --- |\n")
    out.extend(f"| `{key}` | {text} |\n" for key, text in PROJECT_SETTINGS.items())
    out.append(
        "\nEvery value is checked: a wrong type or range, a path outside the project (`source`, "
        "`translations`, `cache`, `build`, `po`) or an unknown key exits 2 with the file, the key and "
        "what is allowed.\n"
    )
    out.append("\n## `translations/<edition>/edition.toml`\n\n| key | | meaning |\n| --- | --- | --- |\n")
    out.extend(
        f"| `{key}` | {'required' if key in EDITION_KEYS else 'optional'} | {text.removeprefix('optional: ')} |\n"
        for key, text in EDITION_SETTINGS.items()
    )
    out.append(
        "\n## A language: `toolkit/languages.toml`\n\nOne table per language code. `plural_forms` "
        "(gettext's Plural-Forms of its PO catalogs) and `search` (the lunr languages of its search "
        "index; `ja` brings Material's Japanese segmenter) describe the language; every other key is a "
        "word the site puts around a chapter:\n\n"
    )
    out.append(", ".join(f"`{f.name}`" for f in fields(Words)) + ".\n")
    return "".join(out)


def _dedented(doc: str) -> str:
    lines = doc.splitlines()
    if len(lines) <= 1:
        return doc
    indents = [len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()]
    cut = min(indents, default=0)
    return "\n".join([lines[0], *(line[cut:] for line in lines[1:])])
