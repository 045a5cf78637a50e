"""Language judgement of prose blocks: English, the edition's language, or another.

- langdetect is seeded (``DetectorFactory.seed = 0``) so results are reproducible, and the
  first pass chooses only between English and the edition's language (only those two
  profiles are loaded: less noise, and loading is cheaper).
- Hangul settles Korean without a model: text that is mostly Hangul is Korean.
- Only an uncertain first pass loads every profile to tell "another language" apart.
- Judgements are cached by a hash of (language, text) in ``<cache>/language.json``, so an
  unchanged paragraph is never judged twice across runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from toolkit.checks import LanguageJudge

CACHE_VERSION = 1
CONFIDENT = 0.9


def _hangul_ratio(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    return sum("\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff" for ch in letters) / len(letters)


class LanguageDetector(LanguageJudge):
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
        detector.append(text)
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
            best = self._probabilities(text, ())
            return best[0][0] if best and best[0][0] == "en" else ("other" if best else "unknown")
        first = self._probabilities(text, ("en", language))
        if not first:
            return "unknown"
        top, probability = first[0]
        if probability >= CONFIDENT:
            return top
        everything = self._probabilities(text, ())
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
    from toolkit.model import Chapter, block_inline, iter_blocks

    assert isinstance(chapter, Chapter)
    text = " ".join(
        inline.plain_text
        for block, _ in iter_blocks(chapter.blocks)
        if (inline := block_inline(block)) is not None
    )
    if not text.strip():
        return None
    detector = LanguageDetector()
    best = detector._probabilities(text[:20000], ())
    return best[0][0] if best else None
