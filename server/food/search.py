"""Text search of dishes and restaurants in Chinese and English.

Chinese is cut into words by jieba with a user dictionary of dish and place names
(data/jieba_userdict.txt), in search mode, so "温州鱼丸" yields 温州鱼丸, 温州 and 鱼丸. English is
split into lower-case words with a plural "s" dropped. A document keeps all of these plus each
Chinese character; a query matches when every one of its terms is among the document's.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from importlib import resources

import jieba

USER_DICTIONARY = "data/jieba_userdict.txt"
_ENGLISH_STOPWORDS = frozenset(
    ("a", "an", "and", "the", "of", "in", "on", "at", "with", "for", "to", "near", "me", "my",
     "some", "from", "by", "or", "is", "are", "best", "good")
)  # fmt: skip
_CHINESE_STOPWORDS = frozenset(
    ("的", "了", "和", "与", "及", "在", "有", "吗", "呢", "吧", "啊", "哪", "哪里", "哪儿",
     "附近", "好吃", "推荐", "一下", "想", "要", "吃")
)  # fmt: skip
_WORD = re.compile(r"[0-9a-z]+|[\u3400-\u9fff]+")
_tokenizer: jieba.Tokenizer | None = None
_lock = threading.Lock()


def tokenizer() -> jieba.Tokenizer:
    """This package's own jieba tokenizer with the user dictionary (built once, ~1 s)."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            logging.getLogger("jieba").setLevel(logging.WARNING)
            built = jieba.Tokenizer()
            path = resources.files("server.food").joinpath(USER_DICTIONARY)
            with resources.as_file(path) as dictionary:
                built.load_userdict(str(dictionary))
            _tokenizer = built
    return _tokenizer


def _english_term(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _is_chinese(word: str) -> bool:
    return "\u3400" <= word[0] <= "\u9fff"


def _terms(text: str, *, for_document: bool) -> list[str]:
    plain = unicodedata.normalize("NFKC", text).casefold().replace("'", "")
    terms: list[str] = []
    for run in _WORD.findall(plain):
        if not _is_chinese(run):
            if run not in _ENGLISH_STOPWORDS or for_document:
                terms.append(_english_term(run))
            continue
        words = tokenizer().cut_for_search(run, HMM=False)
        terms.extend(w for w in words if for_document or w not in _CHINESE_STOPWORDS)
        if for_document:
            terms.extend(run)  # single characters, so "蟹" finds 江蟹生
    return list(dict.fromkeys(terms))


def document_terms(texts: Iterable[str]) -> str:
    """The stored search terms of a document made of `texts`: ' term term ... ' (spaces round)."""
    terms = dict.fromkeys(t for text in texts if text for t in _terms(text, for_document=True))
    return f" {' '.join(terms)} " if terms else ""


def query_terms(query: str) -> list[str]:
    """The terms a query must all match; empty when it holds nothing searchable."""
    return _terms(query, for_document=False)


def matches(stored_terms: str, terms: Iterable[str]) -> bool:
    """True when every term is among the stored terms (the same test the database runs)."""
    return all(f" {term} " in stored_terms for term in terms)


def texts_of(field: dict | None) -> list[str]:
    """Every language's text of a {"zh-CN": ..., "en": ...} field, lists flattened."""
    found: list[str] = []
    for value in (field or {}).values():
        found.extend(value if isinstance(value, list) else [value])
    return [text for text in found if isinstance(text, str)]
