"""Which of today's English chapters a translated chapter is (toolkit.book.basis.map_to_today):
one to one within an edition, by the strongest evidence first."""

from __future__ import annotations

from pathlib import Path

from toolkit.book.basis import EnglishIndex, map_to_today, shared_lines

TODAY = {
    "chapter_attention/index.md": ["chap_attention"],
    "chapter_attention/attention-pooling.md": ["sec_attention-pooling"],
    "chapter_attention/attention-scoring-functions.md": ["sec_attention-scoring-functions", "subsec_batch_dot"],
    "chapter_builders-guide/parameters.md": ["subsec_param-access"],
    "chapter_builders-guide/lazy-init.md": ["sec_lazy_init"],
    "chapter_builders-guide/index.md": ["chap_builders"],
    "chapter_mlp/mlp-implementation.md": ["sec_mlp-implementation"],
    "chapter_mlp/index.md": [],
}


def index() -> EnglishIndex:
    by_label: dict[str, str] = {}
    for chapter, labels in TODAY.items():
        for label in labels:
            by_label.setdefault(label, chapter)
    return EnglishIndex(Path("today"), frozenset(TODAY), by_label)


def mapping(chapters: dict[str, list[str]], **kwargs: object) -> dict[str, str | None]:
    return map_to_today(chapters, index(), lambda c: TODAY[c], **kwargs)  # type: ignore[arg-type]


def test_a_shared_sublabel_never_takes_a_chapter_another_claims_by_its_section_label() -> None:
    found = mapping(
        {
            "chapter_attention-mechanisms/attention-scoring-functions.md": ["sec_attention-scoring-functions"],
            # English moved subsec_batch_dot from this chapter to attention-scoring-functions
            "chapter_attention-mechanisms/nadaraya-watson.md": ["sec_nadaraya-watson", "subsec_batch_dot"],
        }
    )
    assert found["chapter_attention-mechanisms/attention-scoring-functions.md"] == (
        "chapter_attention/attention-scoring-functions.md"
    )
    assert found["chapter_attention-mechanisms/nadaraya-watson.md"] is None  # nothing else points anywhere


def test_englishs_renames_a_unique_name_and_shared_lines_find_what_labels_do_not() -> None:
    texts = {
        "chapter_attention-mechanisms/nadaraya-watson.md": "x = kernel_regression(features, labels)\nplain\n",
        "chapter_attention/attention-pooling.md": "x = kernel_regression(features, labels)\nother words here\n",
        "chapter_deep-learning-computation/deferred-init.md": "net = nn.Sequential(nn.LazyLinear(256))\n",
        "chapter_builders-guide/lazy-init.md": "net = nn.Sequential(nn.LazyLinear(256))\n",
        "chapter_builders-guide/parameters.md": "print(net[2].state_dict())  # the parameters\n",
        "chapter_mlp/mlp-implementation.md": "",
    }
    renames = {"chapter_multilayer-perceptrons/mlp-scratch.md": frozenset({"chapter_mlp/mlp-implementation.md"})}
    found = mapping(
        {
            "chapter_attention-mechanisms/attention-scoring-functions.md": ["sec_attention-scoring-functions"],
            "chapter_attention-mechanisms/nadaraya-watson.md": ["sec_nadaraya-watson", "subsec_batch_dot"],
            "chapter_attention-mechanisms/index.md": ["chap_attention-mechanisms"],
            "chapter_deep-learning-computation/parameters.md": [],
            "chapter_deep-learning-computation/deferred-init.md": ["sec_deferred-init"],
            "chapter_multilayer-perceptrons/mlp-scratch.md": ["sec_mlp_scratch"],
        },
        renamed=lambda chapter: renames.get(chapter, frozenset()),
        similarity=lambda chapter, today: shared_lines(texts.get(chapter, ""), texts.get(today, "")),
    )
    assert found == {
        "chapter_attention-mechanisms/attention-scoring-functions.md": "chapter_attention/attention-scoring-functions.md",
        "chapter_attention-mechanisms/nadaraya-watson.md": "chapter_attention/attention-pooling.md",
        "chapter_attention-mechanisms/index.md": "chapter_attention/index.md",  # where its chapters went
        "chapter_deep-learning-computation/parameters.md": "chapter_builders-guide/parameters.md",  # the name
        "chapter_deep-learning-computation/deferred-init.md": "chapter_builders-guide/lazy-init.md",  # the lines
        "chapter_multilayer-perceptrons/mlp-scratch.md": "chapter_mlp/mlp-implementation.md",  # English's rename
    }


def test_the_mapping_is_one_to_one_and_the_same_path_wins() -> None:
    found = mapping(
        {
            "chapter_mlp/mlp-implementation.md": ["sec_mlp-implementation"],
            "chapter_multilayer-perceptrons/mlp-concise.md": ["sec_mlp-implementation"],
        }
    )
    assert found == {
        "chapter_mlp/mlp-implementation.md": "chapter_mlp/mlp-implementation.md",
        "chapter_multilayer-perceptrons/mlp-concise.md": None,
    }


def test_shared_lines_counts_long_lines_of_the_smaller_text() -> None:
    assert shared_lines("a long line of code = 1\nshort\n", "a long line of code = 1\nanother long line here\n") == 1.0
    assert shared_lines("", "anything at all, long enough") == 0.0
