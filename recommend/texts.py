"""The text an item is embedded from, and the hash that says when it must be embedded again.

The text joins the item's name, category, tags and description in Chinese and in English, with
jieba keywords of the Chinese description added as tags. Descriptions are cut short: the
encoder averages its tokens, and a long story would drown the name and the category.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any

ZH, EN = "zh-CN", "en"
# Bump when the text recipe changes: every item is then embedded again on the next reindex.
TEXT_VERSION = 1
DESCRIPTION_CHARS = {ZH: 90, EN: 220}
KEYWORDS = 5
_NUMBER = re.compile(r"^[\d.,%]+$")
_lock = threading.Lock()
_keyword_tools: tuple[Any, dict[str, float], float, frozenset[str]] | None = None


def _text(field: Mapping[str, Any] | None, language: str) -> str:
    value = (field or {}).get(language) or ""
    return value if isinstance(value, str) else ""


def _words(field: Mapping[str, Any] | None, language: str) -> list[str]:
    value = (field or {}).get(language) or []
    if isinstance(value, str):
        return [value]
    return [word for word in value if isinstance(word, str) and word]


def content_hash(content: Mapping[str, Any]) -> str:
    """The hash of an item's embedded content (name, category, tags, description, terms)."""
    payload = json.dumps([TEXT_VERSION, content], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def _tools() -> tuple[Any, dict[str, float], float, frozenset[str]]:
    """jieba's tokenizer (with the food map's dish names when present) and its IDF table."""
    global _keyword_tools
    with _lock:
        if _keyword_tools is None:
            import jieba
            import jieba.analyse

            logging.getLogger("jieba").setLevel(logging.WARNING)
            try:
                from server.food.search import tokenizer

                cutter = tokenizer()
            except ImportError:
                cutter = jieba.dt
            tfidf = jieba.analyse.TFIDF()
            _keyword_tools = (
                cutter,
                tfidf.idf_freq,
                tfidf.median_idf,
                frozenset(tfidf.stop_words),
            )
    return _keyword_tools


def embedding_tools_ready() -> None:
    """Load jieba's dictionaries now (seconds), not while the first texts are built."""
    _tools()


def keywords(text: str, limit: int = KEYWORDS) -> list[str]:
    """The `limit` most telling words of a Chinese text by TF-IDF (jieba), numbers left out."""
    if not text:
        return []
    cutter, idf, median_idf, stop_words = _tools()
    counts = Counter(
        word
        for word in cutter.cut(text, HMM=False)
        if len(word) > 1 and word not in stop_words and not _NUMBER.match(word)
    )
    ranked = sorted(counts, key=lambda word: (-counts[word] * idf.get(word, median_idf), word))
    return ranked[:limit]


def embedding_text(content: Mapping[str, Any]) -> str:
    """The one text (Chinese, then English) an item's vector is computed from."""
    parts = []
    for language, stop, comma in ((ZH, "。", "、"), (EN, ". ", ", ")):
        name = _text(content.get("name"), language)
        category = _text(content.get("category"), language)
        tags = _words(content.get("tags"), language)
        description = _text(content.get("description"), language)
        if language == ZH:
            tags = list(dict.fromkeys([*tags, *keywords(description)]))
        description = description[: DESCRIPTION_CHARS[language]]
        pieces = [name, category, comma.join(tags), description]
        text = stop.join(piece for piece in pieces if piece)
        if text:
            parts.append(text)
    return "\n".join(parts)
