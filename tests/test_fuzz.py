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
    assert fuzz.run_case("# T\n\nWords.\n", "# T\n\nKelimeler.\n", ("pytorch",), "tr") is None

    def broken(english: str, text: str, tabs: tuple[str, ...], language: str) -> None:
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
