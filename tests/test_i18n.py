"""Language negotiation and per-string fallback."""

from __future__ import annotations

import pytest

import i18n


@pytest.mark.parametrize(
    ("explicit", "header", "expected"),
    [
        ("en", "zh-CN", "en"),
        (None, "en-GB,en;q=0.9", "en"),
        (None, "fr-FR, de;q=0.8", "zh-CN"),
        (None, "de, en;q=0.5, zh;q=0.9", "zh-CN"),
        (None, "en;q=0, zh-Hant", "zh-CN"),
        ("xx", "en", "en"),
        (None, None, "zh-CN"),
        (None, "en;q=notanumber", "zh-CN"),
    ],
)
def test_language_comes_from_lang_then_accept_language(explicit, header, expected):
    assert i18n.negotiate(explicit, header) == expected


def test_content_falls_back_per_field():
    assert i18n.pick({"zh-CN": "江心屿", "en": "Jiangxin Islet"}, "en") == "Jiangxin Islet"
    assert i18n.pick({"zh-CN": "江心屿"}, "en") == "江心屿"
    assert i18n.pick({}, "en") == ""


def test_missing_translation_falls_back_to_chinese_then_the_key(monkeypatch):
    english = dict(i18n.catalogue("en"))
    english.pop("error.forbidden")
    monkeypatch.setattr(i18n, "catalogue", lambda lang: english if lang == "en" else i18n_zh)
    i18n_zh = {"error.forbidden": "您无权进行此操作。"}
    assert i18n.gettext("error.forbidden", "en") == "您无权进行此操作。"
    assert i18n.gettext("error.never_written", "en") == "error.never_written"


def test_a_broken_placeholder_does_not_crash():
    assert i18n.gettext("error.venue_not_found", "en") == "There is no venue {venue_id}."
