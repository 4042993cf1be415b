"""Wenzhou's districts, county-level cities and counties (the "百县" of 百县千碗 that are ours)."""

from __future__ import annotations

# code -> {"zh-CN": ..., "en": ...}; restaurants and dishes store the code, answers the name.
COUNTIES: dict[str, dict[str, str]] = {
    "lucheng": {"zh-CN": "鹿城区", "en": "Lucheng District"},
    "longwan": {"zh-CN": "龙湾区", "en": "Longwan District"},
    "ouhai": {"zh-CN": "瓯海区", "en": "Ouhai District"},
    "dongtou": {"zh-CN": "洞头区", "en": "Dongtou District"},
    "ruian": {"zh-CN": "瑞安市", "en": "Rui'an"},
    "yueqing": {"zh-CN": "乐清市", "en": "Yueqing"},
    "longgang": {"zh-CN": "龙港市", "en": "Longgang"},
    "yongjia": {"zh-CN": "永嘉县", "en": "Yongjia County"},
    "pingyang": {"zh-CN": "平阳县", "en": "Pingyang County"},
    "cangnan": {"zh-CN": "苍南县", "en": "Cangnan County"},
    "wencheng": {"zh-CN": "文成县", "en": "Wencheng County"},
    "taishun": {"zh-CN": "泰顺县", "en": "Taishun County"},
}


def _short_names(code: str) -> set[str]:
    names = COUNTIES[code]
    zh, en = names["zh-CN"], names["en"].lower()
    short_en = en.removesuffix(" district").removesuffix(" county")
    return {code, zh, zh[:-1], en, short_en, short_en.replace("'", "")}


_BY_NAME = {name: code for code in COUNTIES for name in _short_names(code)}


def county_code(text: str) -> str | None:
    """The county code for a code or a zh/en name ('瑞安', '瑞安市', "Rui'an", 'ruian')."""
    return _BY_NAME.get(text.strip().lower()) or _BY_NAME.get(text.strip())


def county_names(code: str) -> dict[str, str]:
    """The county's {"zh-CN", "en"} names; empty for an unknown code."""
    return COUNTIES.get(code, {})
