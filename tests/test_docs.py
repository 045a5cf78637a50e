"""The toolkit's own guide: built by the real MkDocs with --strict (a broken link or anchor
fails), its reference pages generated from the code, so every rule and every configuration
key is documented where a user reads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

from toolkit.checks import RULES
from toolkit.config import EDITION_SETTINGS, PROJECT_KEYS, PROJECT_SETTINGS
from toolkit.reference import configuration_reference, rules_reference

BIN = Path(sys.executable).parent


def test_the_guide_builds_strict_with_its_generated_reference(tmp_path: Path) -> None:
    built = subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "-f", str(ROOT / "docs" / "mkdocs.yml"), "-d", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert built.returncode == 0, built.stderr[-3000:]
    rules = (tmp_path / "reference" / "rules" / "index.html").read_text("utf-8")
    assert all(code in rules for code in RULES if code != "X000")
    configuration = (tmp_path / "reference" / "configuration" / "index.html").read_text("utf-8")
    assert all(key in configuration for key in [*PROJECT_SETTINGS, *EDITION_SETTINGS, "plural_forms"])


def test_every_rule_is_in_the_reference_with_its_documentation() -> None:
    from toolkit.checks import families  # noqa: F401

    text = rules_reference()
    for spec in RULES.values():
        if spec.code != "X000":
            assert f"### {spec.code} {spec.name}" in text
            assert spec.summary in text


def test_the_configuration_reference_is_the_schema_the_toolkit_validates() -> None:
    assert set(PROJECT_SETTINGS) == PROJECT_KEYS
    text = configuration_reference()
    assert "| `branch` | optional |" in text and "| `commit` | required |" in text


def test_the_readme_is_a_readme() -> None:
    """What it is, the two set-up commands, the everyday commands and links: the rest is the
    guide's and the changelog's (a README that grows into a lab notebook goes stale)."""
    readme = (ROOT / "README.md").read_text("utf-8")
    assert len(readme) < 6000
    assert "make setup" in readme and "make test" in readme
    for link in ("docs/guide/workflow.md", "docs/guide/trust.md", "docs/CHANGELOG.md"):
        assert link in readme and (ROOT / link).is_file()
