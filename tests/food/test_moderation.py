"""The content-safety filter: Aho-Corasick against a brute force, and the word list's rules."""

from __future__ import annotations

import random

import pytest

from server.food.moderation import (
    AhoCorasick,
    SensitiveWordFilter,
    read_word_list,
    review_filter,
)


def brute_force(terms: list[str], text: str) -> list[tuple[int, str]]:
    return sorted(
        (start + len(term) - 1, term)
        for term in set(terms)
        for start in range(len(text))
        if text.startswith(term, start)
    )


def test_aho_corasick_finds_overlapping_and_nested_terms():
    automaton = AhoCorasick(["he", "she", "his", "hers"])
    assert sorted(automaton.find("ushers")) == [(3, "he"), (3, "she"), (5, "hers")]


@pytest.mark.parametrize("seed", range(20))
def test_aho_corasick_matches_a_brute_force_on_random_text(seed):
    rng = random.Random(seed)
    alphabet = "abc温州"
    terms = ["".join(rng.choices(alphabet, k=rng.randint(1, 4))) for _ in range(12)]
    text = "".join(rng.choices(alphabet, k=300))
    assert sorted(AhoCorasick(terms).find(text)) == brute_force(terms, text)


def test_empty_list_finds_nothing():
    assert AhoCorasick([]).find("anything at all") == []
    assert SensitiveWordFilter([]).hits("加微信") == []


def test_filter_ignores_case_width_and_punctuation_between_chinese_characters():
    words = SensitiveWordFilter(["加微信", "刷单", "Spam"])
    assert words.hits("老板说好评返现，加 微-信 详聊") == ["加微信"]
    assert words.hits("ＳＰＡＭ here") == ["spam"]
    assert words.hits("招人刷单，日结") == ["刷单"]
    assert words.hits("鱼丸鲜美，汤头清爽") == []


def test_english_terms_count_only_as_whole_words():
    words = SensitiveWordFilter(["shit", "ass"])
    assert words.hits("Shiitake soup, first class service, a classic") == []
    assert words.hits("this is shit.") == ["shit"]
    assert words.hits("what an ASS!") == ["ass"]


def test_word_list_file_is_data_with_comments_and_blank_lines():
    assert read_word_list(["# a comment", "", "  加微信  ", "刷单"]) == ["加微信", "刷单"]
    packaged = review_filter()
    assert len(packaged) >= 20
    assert packaged.hits("想要便宜的加我微信") == ["加我微信"]
    assert packaged.hits("The fish balls were lovely, the broth was clear.") == []
