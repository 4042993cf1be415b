"""The content-safety filter of reviews: a sensitive-word list matched by Aho-Corasick.

The list is data (data/sensitive_words.txt, one term a line, `#` comments) so the bureau can
change it without a release of code. Matching is case-insensitive and width-insensitive (NFKC),
and Chinese terms are also found when split by spaces or punctuation ("加 微-信").
"""

from __future__ import annotations

import unicodedata
from collections import deque
from collections.abc import Iterable
from functools import cache
from importlib import resources

WORD_LIST = "data/sensitive_words.txt"


class AhoCorasick:
    """Finds every occurrence of a set of terms in one pass over a text (Aho and Corasick, 1975).

    The trie's nodes are numbered; `_goto[node]` maps a character to the next node, `_fail[node]`
    is the longest proper suffix of the node's string that is also in the trie, and `_out[node]`
    the terms ending there (its own and, through the fail links, its suffixes').
    """

    def __init__(self, terms: Iterable[str]) -> None:
        self._goto: list[dict[str, int]] = [{}]
        self._fail: list[int] = [0]
        self._out: list[tuple[str, ...]] = [()]
        for term in terms:
            if term:
                self._add(term)
        self._link()

    def _add(self, term: str) -> None:
        node = 0
        for char in term:
            following = self._goto[node].get(char)
            if following is None:
                following = len(self._goto)
                self._goto[node][char] = following
                self._goto.append({})
                self._fail.append(0)
                self._out.append(())
            node = following
        if term not in self._out[node]:
            self._out[node] = (*self._out[node], term)

    def _link(self) -> None:
        # Breadth first, so a node's fail target (a shorter string) is always linked before it.
        queue = deque(self._goto[0].values())
        while queue:
            node = queue.popleft()
            for char, child in self._goto[node].items():
                queue.append(child)
                fallback = self._fail[node]
                while fallback and char not in self._goto[fallback]:
                    fallback = self._fail[fallback]
                target = self._goto[fallback].get(char, 0)
                self._fail[child] = target if target != child else 0
                self._out[child] = self._out[child] + self._out[self._fail[child]]

    def find(self, text: str) -> list[tuple[int, str]]:
        """Every (end index, term) occurrence in `text`, in order of the end index."""
        found = []
        node = 0
        for index, char in enumerate(text):
            while node and char not in self._goto[node]:
                node = self._fail[node]
            node = self._goto[node].get(char, 0)
            found.extend((index, term) for term in self._out[node])
        return found


def normalize(text: str) -> str:
    """Full-width to half-width, compatibility forms folded, lower case: what the list holds."""
    return unicodedata.normalize("NFKC", text).casefold()


def _is_ascii_word(term: str) -> bool:
    return term.isascii()


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


class SensitiveWordFilter:
    """Which listed terms a text contains.

    English terms count only as whole words ("class" does not hit "ass"); Chinese terms are also
    looked for in the text with spaces and punctuation removed, a common way round such filters.
    """

    def __init__(self, terms: Iterable[str]) -> None:
        self._terms = sorted({normalize(term).strip() for term in terms if term.strip()})
        self._automaton = AhoCorasick(self._terms)

    def __len__(self) -> int:
        return len(self._terms)

    def hits(self, text: str) -> list[str]:
        """The distinct listed terms found in `text`, in order of first appearance."""
        plain = normalize(text)
        found: dict[str, None] = {}
        for end, term in self._automaton.find(plain):
            start = end - len(term) + 1
            if _is_ascii_word(term):
                before = plain[start - 1] if start > 0 else " "
                after = plain[end + 1] if end + 1 < len(plain) else " "
                if _is_word_char(before) or _is_word_char(after):
                    continue
            found.setdefault(term)
        squeezed = "".join(char for char in plain if char.isalnum())
        for _, term in self._automaton.find(squeezed):
            if not _is_ascii_word(term):
                found.setdefault(term)
        return list(found)


def read_word_list(lines: Iterable[str]) -> list[str]:
    """The terms of a word-list file: one a line, blank lines and `#` comments skipped."""
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


@cache
def review_filter() -> SensitiveWordFilter:
    """The filter built from the packaged word list (once per process)."""
    text = resources.files("server.food").joinpath(WORD_LIST).read_text(encoding="utf-8")
    return SensitiveWordFilter(read_word_list(text.splitlines()))
