"""Language judgement of prose blocks: English, the edition's language, or another.

- langdetect is seeded (``DetectorFactory.seed = 0``) so results are reproducible, and the
  first pass chooses only between English and the edition's language (only those two
  profiles are loaded: less noise, and loading is cheaper).
- Hangul settles Korean without a model: text that is mostly Hangul is Korean.
- Only an uncertain first pass consults a wider set of profiles (``OTHER_CANDIDATES``) to
  tell "another language" apart; loading all 55 would cost more than the whole check.
- Clear cases need no model: prose with no English function words and many of the
  edition's ("yang", "dan", "untuk"; "ve", "bir"; "của", "và") is the edition's language;
  everything else goes to langdetect, on its first ``SAMPLE`` characters.
- Judgements are cached by a hash of (language, text) in ``<cache>/language.json``, so an
  unchanged paragraph is never judged twice across runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol


class LanguageJudge(Protocol):
    """What the language rules need of a detector."""

    def judge(self, text: str, language: str) -> str:
        """'en', ``language``, 'other' or 'unknown' for a piece of prose."""
        ...


CACHE_VERSION = 1
CONFIDENT = 0.9
SAMPLE = 600
OTHER_CANDIDATES = ("en", "id", "tr", "vi", "ko", "ja", "zh-cn", "de", "fr", "es", "it", "pt", "nl")

# The most frequent function words: a cheap, reliable signal on paragraph-length prose.
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "of",
            "and",
            "to",
            "in",
            "is",
            "that",
            "for",
            "it",
            "as",
            "with",
            "be",
            "by",
            "this",
            "are",
            "on",
            "we",
            "can",
            "an",
            "or",
            "which",
            "from",
        ]
    ),
    "id": frozenset(
        [
            "yang",
            "dan",
            "di",
            "ini",
            "untuk",
            "dengan",
            "dari",
            "adalah",
            "dalam",
            "tidak",
            "kita",
            "akan",
            "pada",
            "itu",
            "dapat",
            "atau",
        ]
    ),
    "tr": frozenset(
        [
            "ve",
            "bir",
            "bu",
            "için",
            "ile",
            "da",
            "de",
            "olarak",
            "daha",
            "gibi",
            "çok",
            "olan",
            "en",
            "ne",
            "ki",
            "veya",
        ]
    ),
    "vi": frozenset(
        [
            "của",
            "và",
            "là",
            "các",
            "được",
            "trong",
            "cho",
            "một",
            "có",
            "này",
            "với",
            "những",
            "để",
            "không",
            "khi",
            "như",
        ]
    ),
}


def _function_word_shares(text: str, language: str) -> tuple[float, float]:
    words = [w.strip(".,;:!?()[]\"'").lower() for w in text.split()]
    words = [w for w in words if w]
    if not words:
        return 0.0, 0.0
    english = sum(w in FUNCTION_WORDS["en"] for w in words) / len(words)
    own = sum(w in FUNCTION_WORDS.get(language, frozenset()) for w in words) / len(words)
    return english, own


def _hangul_ratio(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    return sum("\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff" for ch in letters) / len(letters)


class LanguageDetector:
    def __init__(self, cache_file: Path | None = None) -> None:
        self.cache_file = cache_file
        self.cache: dict[str, str] = {}
        self.dirty = False
        self.model_calls = 0
        self._factories: dict[str, Any] = {}
        if cache_file is not None and cache_file.is_file():
            try:
                stored = json.loads(cache_file.read_text("utf-8"))
                if stored.get("version") == CACHE_VERSION:
                    self.cache = dict(stored["judgements"])
            except (ValueError, KeyError, TypeError):
                self.cache = {}  # a damaged cache is rebuilt, never trusted

    # -- model ------------------------------------------------------------------------
    def _factory(self, languages: tuple[str, ...]) -> Any:
        key = ",".join(languages)
        if key not in self._factories:
            import langdetect
            from langdetect.detector_factory import DetectorFactory

            profiles = Path(langdetect.__file__).parent / "profiles"
            factory = DetectorFactory()
            names = languages or tuple(sorted(p.name for p in profiles.iterdir()))
            factory.load_json_profile([(profiles / name).read_text("utf-8") for name in names])
            factory.set_seed(0)
            self._factories[key] = factory
        return self._factories[key]

    def _probabilities(self, text: str, languages: tuple[str, ...]) -> list[tuple[str, float]]:
        from langdetect.lang_detect_exception import LangDetectException

        self.model_calls += 1
        detector = self._factory(languages).create()
        detector.append(text[:SAMPLE])
        try:
            return [(p.lang, p.prob) for p in detector.get_probabilities()]
        except LangDetectException:
            return []

    def _decide(self, text: str, language: str) -> str:
        if language == "ko":
            ratio = _hangul_ratio(text)
            if ratio >= 0.3:
                return "ko"
            if ratio > 0:
                return "unknown"  # mixed Korean/English prose: not "untranslated"
            best = self._probabilities(text, OTHER_CANDIDATES)
            return best[0][0] if best and best[0][0] == "en" else ("other" if best else "unknown")
        english, own = _function_word_shares(text, language)
        if english == 0.0 and own >= 0.08 and len(text.split()) >= 8:
            return language
        first = self._probabilities(text, ("en", language))
        if not first:
            return "unknown"
        top, probability = first[0]
        if probability >= CONFIDENT:
            return top
        everything = self._probabilities(text, OTHER_CANDIDATES)
        if everything and everything[0][1] >= CONFIDENT and everything[0][0] not in ("en", language):
            return "other"
        return "unknown"

    # -- API --------------------------------------------------------------------------
    def judge(self, text: str, language: str) -> str:
        key = hashlib.sha1(f"{language}\0{text}".encode("utf-8", "surrogateescape")).hexdigest()
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        verdict = self._decide(text, language)
        if verdict not in ("en", language, "unknown"):
            verdict = "other"
        self.cache[key] = verdict
        self.dirty = True
        return verdict

    def save(self) -> None:
        if self.cache_file is None or not self.dirty:
            return
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.cache_file.parent, prefix=".language-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"version": CACHE_VERSION, "judgements": self.cache}, out)
        os.replace(temporary, self.cache_file)
        self.dirty = False


def detect_document_language(chapter: object) -> str | None:
    """The language of a whole chapter's prose (pair mode without --lang), seeded langdetect."""
    from toolkit.model import Chapter, block_inline

    assert isinstance(chapter, Chapter)
    text = " ".join(
        inline.plain_text
        for block, _ in chapter.leaves
        if (inline := block_inline(block)) is not None
    )
    if not text.strip():
        return None
    detector = LanguageDetector()
    best = detector._probabilities(text[:20000], ())  # a whole document: every profile
    return best[0][0] if best else None
