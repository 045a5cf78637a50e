"""Fuzz in the suite: a slice of bench/fuzz.py (the bench runs 10,000 cases).

Mutated real chapters go through check-alignment's rules, PO export/import (which must give
back the file byte for byte) and the site's lowering; a traceback, a broken identity or a hang
fails the test with the case number to replay (`python bench/fuzz.py --seed N --cases 1`).
"""

from __future__ import annotations

import random
import sys
import time

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import fuzz


def test_mutations_change_the_chapter() -> None:
    text = "# T\n\nSome words.\n\n```{.python .input}\nx = 1\n```\n"
    mutated = {fuzz.mutate(text, random.Random(seed)) for seed in range(50)}
    assert text not in mutated or len(mutated) > 40


def test_a_failing_or_hanging_case_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    fuzz.run_case("# T\n\nWords.\n", "# T\n\nKelimeler.\n", ("pytorch",), "tr")  # raises nothing

    def broken(
        english: str, text: str, tabs: tuple[str, ...], language: str, adversarial: bool = False
    ) -> None:
        if "```" in text:
            raise ValueError("boom")
        time.sleep(5)

    monkeypatch.setattr(fuzz, "run_case", broken)
    cases, failures = fuzz.fuzz(cases=4, seed=0, jobs=1, limit=0.5)
    assert cases == 4 and len(failures) == 4
    assert all("ValueError: boom" in f or f.startswith("hang") for _, f in failures)


def test_mutated_chapters_raise_nothing_and_round_trip() -> None:
    cases, failures = fuzz.fuzz(cases=300, seed=1_000_000, jobs=1, limit=30.0)
    assert cases == 300
    assert failures == [], "\n".join(f"case {c}: {f}" for c, f in failures[:5])


def test_hostile_constructs_leave_nothing_live_in_the_rendered_page() -> None:
    """The adversarial mode: a hostile contributor's constructs inserted into real chapters,
    each page rendered with the site's Markdown and sanitiser; nothing live is left."""
    cases, failures = fuzz.fuzz(cases=60, seed=7, jobs=1, limit=30.0, adversarial=True)
    assert cases == 60
    assert failures == [], "\n".join(f"case {c}: {f}" for c, f in failures[:5])


def test_the_adversarial_check_sees_live_content() -> None:
    assert fuzz.live_in_page("# T\n\nWords.\n", "T") == ""
    assert "markup in the page title" in fuzz.live_in_page("# T\n", "Bab <img src=x onerror=alert(1)>")
    parser = fuzz._Live()
    parser.feed('<a href="java&#9;script:alert(1)">x</a><div id="__config"></div><p onclick="x">y</p>')
    assert len(parser.found) == 3
