"""Message catalogues (gettext .po files under locales/) and the helpers that pick a language."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

DEFAULT_LANGUAGE = "zh-CN"
SUPPORTED_LANGUAGES = ("zh-CN", "en")
_LOCALE_DIRS = {"zh-CN": "zh_CN", "en": "en"}
_LOCALES = Path(__file__).parent / "locales"


def normalize_language(tag: str | None) -> str | None:
    """Map a language tag such as 'zh', 'zh-Hans-CN' or 'en_US' to a supported language."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    if primary == "zh":
        return "zh-CN"
    if primary == "en":
        return "en"
    return None


# Every request asks, and clients send a handful of distinct headers: each is parsed once.
@lru_cache(maxsize=1024)
def negotiate(explicit: str | None, accept_language: str | None) -> str:
    """The language to answer in: `lang` first, then Accept-Language by weight, then zh-CN."""
    chosen = normalize_language(explicit)
    if chosen:
        return chosen
    candidates: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        language = normalize_language(tag)
        if language and weight > 0:
            candidates.append((-weight, position, language))
    return min(candidates)[2] if candidates else DEFAULT_LANGUAGE


@cache
def catalogue(language: str) -> Mapping[str, str]:
    """The translated messages of one language, merged from its .po files (one per domain)."""
    messages: dict[str, str] = {}
    for path in sorted((_LOCALES / _LOCALE_DIRS[language] / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            parsed = read_po(handle, locale=_LOCALE_DIRS[language])
        messages.update(
            {str(m.id): str(m.string) for m in parsed if m.id and m.string and not m.fuzzy}
        )
    return messages


def gettext(key: str, language: str, **params: object) -> str:
    """Translate a message key, falling back per string to zh-CN and then to the key itself."""
    language = language if language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE
    template = catalogue(language).get(key) or catalogue(DEFAULT_LANGUAGE).get(key) or key
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        # A translator's typo in a placeholder must not turn a refusal into a crash.
        return template


def pick(texts: Mapping[str, str] | None, language: str) -> str:
    """Choose one language from a {"zh-CN": ..., "en": ...} content field, with fallbacks."""
    if not texts:
        return ""
    return (
        texts.get(language)
        or texts.get(DEFAULT_LANGUAGE)
        or next((value for value in texts.values() if value), "")
    )
