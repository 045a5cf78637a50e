"""MkDocs hooks of the guide: the reference pages, generated from the code on every build
(``toolkit.reference``), so they cannot go stale."""

from __future__ import annotations

from typing import Any

from mkdocs.structure.files import File, Files

from toolkit.reference import configuration_reference, rules_reference


def on_files(files: Files, config: Any) -> Files:
    for path, text in (
        ("reference/rules.md", rules_reference()),
        ("reference/configuration.md", configuration_reference()),
    ):
        files.append(File.generated(config, path, content=text))
    return files
