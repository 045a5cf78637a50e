"""Rules on small cases stored as data (tests/fixtures/checks/*.md).

Each case: English, a ``==== translation [tabs=…] [en-tabs=…] [lang=…] ====`` line, the
translation; expected: one ``CODE line message`` per finding, sorted (the message is what a
maintainer acts on, so it is compared too). Every rule code appears in at
least one case (``test_every_rule_has_a_case``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, FixtureRegen
from markdown_it.utils import read_fixture_file

from toolkit.align import align_chapters
from toolkit.checks import RULES, CheckContext, run_rules
from toolkit.checks.labels import defined_labels
from toolkit.language import LanguageDetector
from toolkit.parser import parse_chapter

FILES = sorted((FIXTURES / "checks").glob("*.md"))
CASES = [
    pytest.param(path, line, title, given, expected, id=f"{path.stem}:{title[:50]}")
    for path in FILES
    for line, title, given, expected in read_fixture_file(path)
]
DETECTOR = LanguageDetector()


def run_case(given: str) -> str:
    english, _, rest = given.partition("==== translation")
    options_line, _, translation = rest.partition("====\n")
    options = dict(word.split("=", 1) for word in options_line.split())
    tabs = tuple(options.get("tabs", "mxnet,pytorch,tensorflow").split(","))
    en_tabs = tuple(options.get("en-tabs", ",".join(tabs)).split(","))
    en = parse_chapter("en.md", english.encode())
    tr = parse_chapter("tr.md", translation.encode())
    context = CheckContext(
        alignment=align_chapters(en, tr, en_tabs, tabs),
        language=options.get("lang", "tr"),
        edition="test",
        chapter="case.md",
        basis="en",
        book_labels=frozenset(defined_labels(en)),
        detector=DETECTOR,
    )
    return "\n".join(f"{f.code} {f.line} {' '.join(f.message.split())}" for f in run_rules(context))


@pytest.mark.parametrize(("path", "line", "title", "given", "expected"), CASES)
def test_rule_case(
    path: Path, line: int, title: str, given: str, expected: str, fixture_regen: FixtureRegen
) -> None:
    fixture_regen.check(path, line, expected.strip(), run_case(given).strip())


def test_every_rule_has_a_case() -> None:
    covered = {
        line.split()[0]
        for _, _, _, _, expected in (c.values for c in CASES)
        for line in str(expected).splitlines()
        if line
    }
    produced_by_corpus_tests = {
        "S001",
        "S002",
        "S003",
        "S004",  # test_a_file_without_an_english_basis_is_one_s004_finding_that_suppressions_reach
        "P004",  # test_glossary_terms_with_inflection below (needs a glossary file)
        "S005",  # tests/test_book.py: a chapter today's English no longer has
        "S006",  # tests/test_book.py: ko minibatch-sgd.md and fine-tuning.md (a mixed basis)
        "X001",
        "X002",
        "X003",
        "X004",
        "X005",
        "X006",
        "P002",
        "C005",
    }
    missing = set(RULES) - covered - produced_by_corpus_tests - {"X000"}
    assert not missing, f"rules without a fixture case: {sorted(missing)}"


def test_code_change_findings_always_show_the_differing_lines() -> None:
    from toolkit.checks.code import code_diff

    english = 'def f():\n    """Doc."""\n    return 1\n'
    payload = 'def f():\n    """Belge."""; import os; os.system("x")\n    return 1\n'
    assert 'os.system("x")' in code_diff(english, payload)
    assert "+!ls README.md#; touch x" in code_diff("!ls README.md\n", "!ls README.md#; touch x\n")


def test_fixture_regeneration_is_explicit_and_a_mismatch_fails(tmp_path: Path) -> None:
    from conftest import FixtureRegen

    with pytest.raises(AssertionError):
        FixtureRegen(enabled=False).check(tmp_path / "x.md", 1, "C001 3", "C002 3")
    fixture = tmp_path / "case.md"
    fixture.write_text("a case\n.\ninput\n.\nold\n.\n", encoding="utf-8")
    regen = FixtureRegen(enabled=True)
    with pytest.raises(pytest.fail.Exception):
        regen.check(fixture, 1, "old", "new")
    regen.write()
    assert fixture.read_text("utf-8") == "a case\n.\ninput\n.\nnew\n.\n"
    FixtureRegen(enabled=False).check(fixture, 1, "new", "new\n")  # equal: passes


def test_glossary_terms_with_inflection(tmp_path: Path) -> None:
    """P004: a glossary term whose rendering the translation lacks; Korean particles and
    Turkish suffixes are inflection, not another term; the glossaries' three formats."""
    from toolkit.glossary import load_glossary

    korean = tmp_path / "TERMINOLOGY.md"
    korean.write_text(
        "| 영어 | 한국어 |\n| --- | --- |\n| hidden layer | 은닉층 |\n| activation function | 활성화 함수 |\n"
        "| bucketing |  |\n",
        "utf-8",
    )
    turkish = tmp_path / "tr.md"
    turkish.write_text(
        "## Terimler\n\nbackpropagation; geri yayma\n\nmachine learning; makine öğrenmesi veya yapay öğrenme\n",
        "utf-8",
    )
    assert [t.english for t in load_glossary(korean).terms] == ["hidden layer", "activation function"]
    assert load_glossary(turkish).terms[1].renderings == ("makine öğrenmesi", "yapay öğrenme")

    def findings(glossary: Path, english: str, translation: str, language: str) -> list[str]:
        en = parse_chapter("en.md", english.encode())
        tr = parse_chapter("tr.md", translation.encode())
        context = CheckContext(
            alignment=align_chapters(en, tr, ("mxnet",), ("mxnet",)),
            language=language,
            edition="test",
            chapter="case.md",
            basis="en",
            glossary=load_glossary(glossary),
        )
        return [f.message for f in run_rules(context, select=("P004",))]

    english = "# T\n\nEach hidden layer applies an activation function.\n"
    assert (
        findings(korean, english, "# T\n\n각 은닉층은 활성화 함수를 적용합니다.\n", "ko") == []
    )  # particles
    found = findings(korean, english, "# T\n\n각 은닉 레이어는 활성화 함수를 적용합니다.\n", "ko")
    assert found == ['"hidden layer" is "은닉층" in the glossary; this block uses neither']
    english = "# T\n\nWe use backpropagation.\n"
    assert findings(turkish, english, "# T\n\nGeri yaymayı kullanırız.\n", "tr") == []  # a suffix


def test_a_file_without_an_english_basis_is_one_s004_finding_that_suppressions_reach(tmp_path: Path) -> None:
    """S004 is a rule like any other: reported once, at line 1, and silenced by the file's own
    `ignore-file` comment or by --ignore (it used to be built by hand beside the rules)."""
    from toolkit.checker import ChapterJob, ChapterStore, check_job

    translation = tmp_path / "x.md"
    translation.write_text("# Başlık\n\nBiraz metin.\n", "utf-8")
    job = ChapterJob(translation, ("pytorch",), "tr", "tr", "chapter_x/x.md", None, "", ())
    (found,) = check_job(job, ChapterStore(tmp_path)).findings
    assert (found.code, found.line, found.severity) == ("S004", 1, "info")
    assert found.message.startswith("no English basis") and found.path == "x.md"
    assert check_job(job, ChapterStore(tmp_path), ignore=("S",)).findings == ()
    translation.write_text("<!-- toolkit: ignore-file S004 -->\n# Başlık\n", "utf-8")
    assert check_job(job, ChapterStore(tmp_path)).findings == ()
