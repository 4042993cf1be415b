"""What a message names: venue, date, time of day, party size, dish, county, a person, yes or no.

Venue and dish names come from the live catalogue: every name, short name and English name is
added to a jieba user dictionary of this package (its own tokenizer, so food search is not
affected), and the alias tables are rebuilt whenever the catalogue changes (CatalogueCache).
Relative dates ("明天", "下周三", "next Wednesday") resolve against a day given by the caller,
Wenzhou's today.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources

import jieba
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from bots.intents import normalise
from server.food.counties import COUNTIES
from server.food.models import Dish
from server.venues import service as venues
from server.venues.models import Venue

_CJK = re.compile(r"[\u3400-\u9fff]")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_CN_NUMBER = "[0-9零〇一二两俩三四五六七八九十]+"
# Parts of a Chinese venue name a visitor leaves out: 温州博物馆 -> 博物馆, 刘伯温故里 -> 刘伯温.
_ZH_PREFIXES = ("温州市", "温州")
_ZH_SUFFIXES = ("风景名胜区", "风景区", "景区", "故里", "古镇", "公园")
_EN_PREFIXES = ("wenzhou ",)
_WEEKDAYS_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5,
                "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}  # fmt: skip
_WEEKDAYS_EN = {"monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2,
                "wed": 2, "thursday": 3, "thu": 3, "thurs": 3, "friday": 4, "fri": 4,
                "saturday": 5, "sat": 5, "sunday": 6, "sun": 6, "weekend": 5}  # fmt: skip
_MONTH_NAMES = (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
                ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
                ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
                ("dec", "december"))  # fmt: skip
_MONTHS_EN = {name: number for number, names in enumerate(_MONTH_NAMES, start=1) for name in names}
_EN_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
               "eight": 8, "nine": 9, "ten": 10, "a couple": 2, "couple": 2}  # fmt: skip
RECHECK_SECONDS = 5.0
ID_NUMBER = re.compile(r"(?<![0-9])([1-9][0-9]{16}[0-9xX])(?![0-9])")


def language_of_text(text: str, fallback: str = "zh-CN") -> str:
    """zh-CN for a message with Chinese characters, en for one with Latin letters, else fallback."""
    if _CJK.search(text):
        return "zh-CN"
    if re.search(r"[A-Za-z]", text):
        return "en"
    return fallback


def chinese_number(text: str) -> int | None:
    """An integer from Arabic or Chinese numerals up to 99: '3', '三', '十二', '二十一', '两'."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        tens_value = _CN_DIGITS.get(tens) if tens else 1
        ones_value = _CN_DIGITS.get(ones) if ones else 0
        if tens_value is None or ones_value is None:
            return None
        return tens_value * 10 + ones_value
    if len(text) == 1 and text in _CN_DIGITS:
        return _CN_DIGITS[text]
    return None


# --- dates -------------------------------------------------------------------------------------


def _upcoming(today: date, weekday: int) -> date:
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _next_week(today: date, weekday: int) -> date:
    monday = today - timedelta(days=today.weekday())
    return monday + timedelta(days=7 + weekday)


def _month_day(today: date, month: int, day: int, year: int | None = None) -> date | None:
    try:
        found = date(year or today.year, month, day)
    except ValueError:
        return None
    if year is None and found < today:
        # "5月1日" said in June means next year's.
        try:
            found = date(today.year + 1, month, day)
        except ValueError:
            return None
    return found


def parse_date(text: str, *, today: date) -> date | None:
    """The day a message names, relative ones resolved against `today` (Wenzhou's)."""
    plain = normalise(text)
    if match := re.search(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})", plain):
        return _month_day(today, int(match[2]), int(match[3]), int(match[1]))
    if match := re.search(rf"({_CN_NUMBER})月({_CN_NUMBER})[日号]?", plain):
        month, day = chinese_number(match[1]), chinese_number(match[2])
        if month and day:
            return _month_day(today, month, day)
    for words, offset in (("大后天", 3), ("后天", 2), ("明天", 1), ("明日", 1), ("今天", 0),
                          ("今日", 0), ("今晚", 0), ("前天", -2), ("昨天", -1), ("昨晚", -1),
                          ("day after tomorrow", 2), ("tomorrow", 1), ("tmr", 1), ("tomorow", 1),
                          ("today", 0), ("tonight", 0), ("yesterday", -1)):  # fmt: skip
        if words in plain:
            return today + timedelta(days=offset)
    if match := re.search(
        r"(下下|下个?|这个?|本)?(?:周|星期|礼拜)([一二三四五六日天末1-7])", plain
    ):
        weekday = _WEEKDAYS_ZH[match[2]]
        if match[1] and match[1].startswith("下下"):
            return _next_week(today, weekday) + timedelta(days=7)
        if match[1] and match[1].startswith("下"):
            return _next_week(today, weekday)
        return _upcoming(today, weekday)
    weekday_names = "|".join(sorted(_WEEKDAYS_EN, key=len, reverse=True))
    if match := re.search(rf"\b(next|this|coming)?\s*({weekday_names})\b", plain):
        weekday = _WEEKDAYS_EN[match[2]]
        if match[1] == "next":
            return _next_week(today, weekday)
        return _upcoming(today, weekday)
    month_names = "|".join(sorted(_MONTHS_EN, key=len, reverse=True))
    if match := re.search(rf"\b({month_names})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b", plain):
        return _month_day(today, _MONTHS_EN[match[1]], int(match[2]))
    if match := re.search(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({month_names})\b", plain):
        return _month_day(today, _MONTHS_EN[match[2]], int(match[1]))
    if match := re.search(rf"(?<![0-9月])({_CN_NUMBER})[日号](?!期)", plain):
        day = chinese_number(match[1])
        if day and 1 <= day <= 31:
            found = _month_day(today, today.month, day)
            if found is None or found < today:
                month = today.month % 12 + 1
                found = _month_day(today, month, day, today.year + (month == 1))
            return found
    return None


# --- time of day -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeOfDay:
    """A part of the day ("morning", "afternoon", "evening") and/or an hour (0-23)."""

    part: str | None = None
    hour: int | None = None

    def matches(self, starts_hour: int, ends_hour: int) -> bool:
        """True when a slot from `starts_hour` to `ends_hour` fits this time of day."""
        if self.hour is not None:
            return starts_hour <= self.hour < max(ends_hour, starts_hour + 1)
        if self.part == "morning":
            return starts_hour < 12
        if self.part == "afternoon":
            return 12 <= starts_hour < 18
        if self.part == "evening":
            return starts_hour >= 17
        return True


_PARTS = (("上午", "morning"), ("早上", "morning"), ("早晨", "morning"), ("清早", "morning"),
          ("中午", "afternoon"), ("下午", "afternoon"), ("傍晚", "evening"), ("晚上", "evening"),
          ("夜里", "evening"), ("夜间", "evening"), ("今晚", "evening"), ("明晚", "evening"),
          ("morning", "morning"), ("afternoon", "afternoon"), ("evening", "evening"),
          ("tonight", "evening"), ("night", "evening"))  # fmt: skip


def parse_time_of_day(text: str) -> TimeOfDay | None:
    """The time of day a message names: 上午, 下午3点, 10点半, 3pm, 15:00, morning."""
    plain = normalise(text)
    part = next((name for word, name in _PARTS if word in plain), None)
    hour = None
    if match := re.search(r"(?<![0-9])(\d{1,2})[:：](\d{2})(?![0-9])", plain):
        hour = int(match[1])
    elif match := re.search(r"\b(\d{1,2})\s*(am|pm|a\.m\.|p\.m\.)", plain):
        hour = int(match[1]) % 12 + (12 if match[2].startswith("p") else 0)
    elif match := re.search(rf"({_CN_NUMBER})\s*[点點时](?!钟头)", plain):
        hour = chinese_number(match[1])
    if hour is not None:
        if hour > 23:
            hour = None
        elif part in ("afternoon", "evening") and hour < 12:
            hour += 12
        elif part is None and 1 <= hour <= 6:
            # Venues open in the day: "3点" alone means 3 in the afternoon.
            hour += 12
    if part is None and hour is None:
        return None
    return TimeOfDay(part=part, hour=hour)


# --- party size --------------------------------------------------------------------------------


def parse_party_size(text: str) -> int | None:
    """How many people: 两个人, 3位, 一家四口, 我一个人, two of us, for 3, just me."""
    plain = normalise(text)
    match = re.search(
        rf"(?<!第)({_CN_NUMBER})\s*(?:个人|位|个|人|张票|张|口人|口)(?!点|月|号|日)", plain
    )
    if match and (number := chinese_number(match[1])):
        return number
    if re.search(r"我一个人|就我自己|就我一个|只有我|独自", plain):
        return 1
    numbers = "|".join([*_EN_NUMBERS, r"\d+"])
    if match := re.search(
        rf"\b({numbers})\s+(?:of us|people|persons|adults|visitors|guests|tickets|pax|ppl)\b",
        plain,
    ):
        return _EN_NUMBERS.get(match[1]) or int(match[1])
    if match := re.search(rf"\bfor\s+({numbers})\b(?!\s*(?:am|pm|days?|hours?|o'?clock|:))", plain):
        return _EN_NUMBERS.get(match[1]) or int(match[1])
    if re.search(r"\b(just me|only me|myself|alone|solo)\b", plain):
        return 1
    return None


# --- answers inside a dialogue -----------------------------------------------------------------

_YES = re.compile(
    r"^(确认|确定|是的?|对的?|好的?|好啊|可以|行|没问题|嗯+|要|预订吧|订吧|就这个|yes|y|yeah|yep|"
    r"sure|ok|okay|confirm|confirmed|correct|go ahead|do it|please do)[!！。. ]*$"
)
_NO = re.compile(r"^(不|不要|不用|否|算了|不对|错了|no|n|nope|nah|not now|stop)[!！。. ]*$")
_QUIT = re.compile(
    r"^(退出|算了|不用了|不订了|不要了|结束|quit|exit|never ?mind|forget it|stop)[!！。. ]*$"
)


def parse_yes_no(text: str) -> bool | None:
    """True for a yes (确认, 好的, yes, ok), False for a no (不要, no), None otherwise."""
    plain = normalise(text)
    if _YES.match(plain):
        return True
    if _NO.match(plain):
        return False
    return None


def is_quit(text: str) -> bool:
    """True when the visitor wants out of the current form (算了, never mind)."""
    return bool(_QUIT.match(normalise(text)))


def parse_choice(text: str, count: int) -> int | None:
    """A 1-based pick among `count` numbered options: '2', '第二个', 'option 2', 'the 2nd'."""
    plain = normalise(text)
    match = (
        re.fullmatch(r"\s*(\d{1,2})\s*[.。)号个]?\s*", plain)
        or re.search(rf"第\s*({_CN_NUMBER})\s*[个项场]?", plain)
        or re.search(r"\b(?:option|number|no\.?|#)\s*(\d{1,2})\b", plain)
        or re.search(r"\b(\d)(?:st|nd|rd|th)\b", plain)
    )
    if not match:
        ordinals = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}
        word = next((n for w, n in ordinals.items() if re.search(rf"\b{w}\b", plain)), None)
        return word if word and word <= count else None
    number = chinese_number(match[1])
    return number if number and 1 <= number <= count else None


_EN_PICKS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
             "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
             "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
             "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}  # fmt: skip
_EN_PICK_WORDS = "|".join(sorted(_EN_PICKS, key=len, reverse=True))
_MENU_PICK = re.compile(
    r"(?:我选|我要|就选|选择|选|就|要)?\s*"
    r"(?:(?:i'?ll\s+|i\s+)?(?:choose|pick|take|want)\s+)?(?:the\s+)?"
    r"(?:option|number|no\.?|#|choice)?\s*"
    rf"(?:第\s*(?P<nth>{_CN_NUMBER})\s*[个项条场]?"
    rf"|(?P<number>{_CN_NUMBER})\s*(?:号|个|项|条|st|nd|rd|th)?"
    rf"|(?P<word>{_EN_PICK_WORDS}))"
    r"\s*(?:one|个|吧|啦|好了|please|pls)?[\s.。!！)）]*"
)


def parse_menu_pick(text: str, count: int) -> int | None:
    """A 1-based pick among `count` menu entries when the whole message is one: '2', '第二个',
    '选3', 'option 2', 'the first one' (a message saying more is a question of its own)."""
    match = _MENU_PICK.fullmatch(normalise(text))
    if match is None:
        return None
    if match["word"]:
        number = _EN_PICKS[match["word"]]
    else:
        number = chinese_number(match["nth"] or match["number"])
    return number if number and 1 <= number <= count else None


@dataclass(frozen=True)
class PersonGiven:
    """A name and an ID-card number typed by the visitor (not validated yet)."""

    name: str
    id_number: str


def parse_person(text: str) -> PersonGiven | None:
    """A visitor's name and ID number from '张三 330302199005171234' (any order, any separator)."""
    plain = unicodedata_fold(text)
    match = ID_NUMBER.search(plain)
    if match is None:
        return None
    rest = (plain[: match.start()] + " " + plain[match.end() :]).strip()
    rest = re.sub(
        r"(姓名|名字|身份证号?码?|证件号|name|id( number)?|is)[:：]?", " ", rest, flags=re.I
    )
    name = re.sub(r"[\s,，;；:：、/|]+", " ", rest).strip()
    if not name or len(name) > 32:
        return None
    return PersonGiven(name=name, id_number=match[1].upper())


def unicodedata_fold(text: str) -> str:
    """Full-width digits and letters folded to ASCII (case kept)."""
    import unicodedata

    return unicodedata.normalize("NFKC", text).strip()


# --- the catalogue's names ---------------------------------------------------------------------


def _venue_aliases(venue: Venue) -> set[str]:
    zh = (venue.name.get("zh-CN") or "").strip()
    en = (venue.name.get("en") or "").strip().lower()
    aliases = {zh, en, venue.code.lower(), venue.code.replace("-", " ").lower()}
    for prefix in _ZH_PREFIXES:
        if zh.startswith(prefix) and len(zh) - len(prefix) >= 2:
            aliases.add(zh.removeprefix(prefix))
    for suffix in _ZH_SUFFIXES:
        for name in list(aliases):
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                aliases.add(name.removesuffix(suffix))
    for prefix in _EN_PREFIXES:
        if en.startswith(prefix):
            aliases.add(en.removeprefix(prefix))
    return {alias for alias in aliases if len(alias) >= 2}


def _dish_aliases(dish: Dish) -> set[str]:
    names = [*dish.name.values()]
    for values in (dish.aliases or {}).values():
        names.extend(values if isinstance(values, list) else [values])
    return {str(name).strip().lower() for name in names if name and len(str(name).strip()) >= 2}


@dataclass
class Gazetteer:
    """The catalogue's names: alias -> venue id, alias -> dish id, county names -> code."""

    venues: dict[str, int] = field(default_factory=dict)
    dishes: dict[str, int] = field(default_factory=dict)
    counties: dict[str, str] = field(default_factory=dict)
    _longest_first: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for kind in ("venues", "dishes", "counties"):
            self._longest_first[kind] = sorted(getattr(self, kind), key=len, reverse=True)

    def find(self, kind: str, text: str, words: list[str]) -> object | None:
        """The venue, dish or county a message names: a jieba word first, then the longest
        alias found inside the text."""
        table = getattr(self, kind)
        for word in words:
            if word in table:
                return table[word]
        plain = normalise(text)
        for alias in self._longest_first[kind]:
            if alias.isascii():
                if re.search(rf"(?<![a-z]){re.escape(alias)}(?![a-z])", plain):
                    return table[alias]
            elif alias in plain:
                return table[alias]
        return None


def _unique(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """Aliases that name exactly one thing (an ambiguous short name names nothing)."""
    owners: dict[str, set[object]] = {}
    for alias, owner in pairs:
        owners.setdefault(alias, set()).add(owner)
    return {alias: next(iter(found)) for alias, found in owners.items() if len(found) == 1}


class CatalogueCache:
    """The catalogue as the bot reads it every turn: the gazetteer, this package's jieba tokenizer
    and the visible venues with their hours and closing days, rebuilt when the catalogue changes.

    Whether it changed is asked of the database at most every `recheck_seconds` (one aggregate
    query over venues, dishes, opening hours and closing days), so an edited venue is answered
    from within that time. Only catalogue data is kept: crowds and places left are read live.
    """

    recheck_seconds = RECHECK_SECONDS

    def __init__(self) -> None:
        self._tokenizer: jieba.Tokenizer | None = None
        self._added: set[str] = set()
        self._gazetteer = Gazetteer()
        self._venues: dict[int, Venue] = {}
        self._version: tuple | None = None
        # The database connection it was read from (a new one, as in each test, means reread it)
        # and when the version was last asked.
        self._read_from: weakref.ref | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def tokenizer(self) -> jieba.Tokenizer:
        """This package's jieba tokenizer: the dish dictionary and every venue alias added."""
        with self._lock:
            if self._tokenizer is None:
                logging.getLogger("jieba").setLevel(logging.WARNING)
                built = jieba.Tokenizer()
                path = resources.files("server.food").joinpath("data/jieba_userdict.txt")
                with resources.as_file(path) as dictionary:
                    built.load_userdict(str(dictionary))
                built.initialize()
                self._tokenizer = built
            return self._tokenizer

    def cut(self, text: str) -> list[str]:
        """jieba's words of a message, lower case."""
        return [word for word in self.tokenizer().lcut(normalise(text), HMM=False) if word.strip()]

    async def gazetteer(self) -> Gazetteer:
        """The catalogue's names as they are now (or at most `recheck_seconds` ago)."""
        await self._refresh()
        return self._gazetteer

    async def venue(self, venue_id: int) -> Venue | None:
        """A visible venue with its hours and closing days loaded; None if hidden or unknown."""
        await self._refresh()
        return self._venues.get(venue_id)

    async def visible_venues(self) -> list[Venue]:
        """The visible venues in id order, with their hours and closing days loaded."""
        await self._refresh()
        return list(self._venues.values())

    async def _refresh(self) -> None:
        connection = connections.get("default")
        same_connection = self._read_from is not None and self._read_from() is connection
        if same_connection and time.monotonic() - self._checked_at < self.recheck_seconds:
            return
        version = await _catalogue_version(connection)
        self._checked_at = time.monotonic()
        if same_connection and version == self._version:
            return
        visible = await venues.list_venues()
        dishes = await Dish.all().order_by("id")
        gazetteer = Gazetteer(
            venues=_unique([(a, v.id) for v in visible for a in _venue_aliases(v)]),
            dishes=_unique([(a, d.id) for d in dishes for a in _dish_aliases(d)]),
            counties=_county_names(),
        )
        tokenizer = self.tokenizer()
        for alias in [*gazetteer.venues, *gazetteer.dishes, *gazetteer.counties]:
            if alias not in self._added and not alias.isascii():
                # A high frequency keeps the whole name one word: 江心屿, not 江心/屿.
                tokenizer.add_word(alias, freq=50_000)
                self._added.add(alias)
        self._gazetteer, self._venues = gazetteer, {venue.id: venue for venue in visible}
        self._version, self._read_from = version, weakref.ref(connection)


# What changes whenever the catalogue does: its rows counted, and the newest edit or row id.
# Hours and closing days are only ever inserted and deleted (ids are never reused), so their
# count and largest id move with every change; venues and dishes carry `updated_at`.
_CATALOGUE_VERSION = (
    "SELECT (SELECT COUNT(*) FROM venue) AS venues,"
    " (SELECT MAX(updated_at) FROM venue) AS venue_edited,"
    " (SELECT COUNT(*) FROM dish) AS dishes,"
    " (SELECT MAX(updated_at) FROM dish) AS dish_edited,"
    " (SELECT COUNT(*) FROM opening_hours) AS hours,"
    " (SELECT MAX(id) FROM opening_hours) AS newest_hours,"
    " (SELECT COUNT(*) FROM closing_day) AS closing_days,"
    " (SELECT MAX(id) FROM closing_day) AS newest_closing_day"
)


async def _catalogue_version(connection: BaseDBAsyncClient) -> tuple:
    rows = await connection.execute_query_dict(_CATALOGUE_VERSION)
    return tuple(rows[0].values())


def _county_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for code, labels in COUNTIES.items():
        zh, en = labels["zh-CN"], labels["en"].lower()
        for name in (zh, zh[:-1], en, en.removesuffix(" district").removesuffix(" county")):
            if len(name) >= 2:
                names[name] = code
    return names


catalogue_cache = CatalogueCache()


@dataclass(frozen=True)
class Entities:
    """Everything one message names."""

    venue_id: int | None = None
    day: date | None = None
    time_of_day: TimeOfDay | None = None
    party_size: int | None = None
    dish_id: int | None = None
    county: str | None = None


async def extract(text: str, *, today: date, words: list[str] | None = None) -> Entities:
    """The entities of one message, against the live catalogue."""
    gazetteer = await catalogue_cache.gazetteer()
    words = words if words is not None else catalogue_cache.cut(text)
    venue_id = gazetteer.find("venues", text, words)
    county = gazetteer.find("counties", text, words)
    if venue_id is not None and county is not None:
        # 洞头 is a venue and a district: the venue wins.
        county = None
    return Entities(
        venue_id=venue_id,
        day=parse_date(text, today=today),
        time_of_day=parse_time_of_day(text),
        party_size=parse_party_size(text),
        dish_id=gazetteer.find("dishes", text, words),
        county=county,
    )
