"""Demo card data for `etour seed-demo`: library books and copies, venues' card benefits.

Idempotent: books are keyed by (library, ISBN), copies by barcode, benefits by venue.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from server.card.models import Book, BookCopy, CardBenefit
from server.card.service import book_search_text
from server.venues.models import Venue

LIBRARY_CODE = "wenzhou-library"
COPIES_PER_BOOK = 2

# Titles on Wenzhou and the region, with ISBN-13s (978-7 = Chinese publishers) whose check
# digits are valid; the stock is made up.
DEMO_BOOKS = (
    (
        "9787533950125",
        "温州模式的历史与逻辑",
        "The Wenzhou Model: History and Logic",
        "史晋川",
        "Shi Jinchuan",
        "浙江人民出版社",
        2019,
    ),
    (
        "9787208123458",
        "永嘉学派研究",
        "Studies of the Yongjia School",
        "周梦江",
        "Zhou Mengjiang",
        "上海人民出版社",
        2014,
    ),
    (
        "9787101045673",
        "南戏：中国戏曲的源头",
        "Nanxi: Where Chinese Opera Began",
        "徐宏图",
        "Xu Hongtu",
        "中华书局",
        2005,
    ),
    (
        "9787540218768",
        "雁荡山志",
        "Gazetteer of Yandang Mountain",
        "雁荡山管委会",
        "Yandang Mountain Committee",
        "浙江古籍出版社",
        2017,
    ),
    (
        "9787533976545",
        "楠溪江古村落",
        "Old Villages of the Nanxi River",
        "陈志华",
        "Chen Zhihua",
        "浙江人民出版社",
        2021,
    ),
    (
        "9787302032151",
        "瓯越文化概论",
        "An Introduction to Ouyue Culture",
        "胡珠生",
        "Hu Zhusheng",
        "清华大学出版社",
        2010,
    ),
    (
        "9787020055210",
        "谢灵运诗选",
        "Selected Poems of Xie Lingyun",
        "谢灵运",
        "Xie Lingyun",
        "人民文学出版社",
        2008,
    ),
    (
        "9787533908188",
        "温州方言词典",
        "A Dictionary of the Wenzhou Dialect",
        "游汝杰",
        "You Rujie",
        "浙江人民出版社",
        2016,
    ),
    (
        "9787101112344",
        "孙诒让与籀园",
        "Sun Yirang and the Zhouyuan Library",
        "温州市图书馆",
        "Wenzhou Library",
        "中华书局",
        2019,
    ),
    (
        "9787543441071",
        "刘伯温传",
        "A Life of Liu Bowen",
        "吕立汉",
        "Lü Lihan",
        "浙江古籍出版社",
        2012,
    ),
)

# What venues offer social-security card holders (by venue code).
DEMO_BENEFITS = {
    "wenzhou-library": {
        "walk_in": True,
        "note": {
            "zh-CN": "刷社保卡免预约入馆，可借阅图书",
            "en": "Walk in with the card, and borrow books",
        },
    },
    "wenzhou-museum": {
        "walk_in": True,
        "priority_percent": 10,
        "note": {
            "zh-CN": "刷社保卡免预约入馆；每场预留10%名额",
            "en": "Walk in with the card; 10% of each slot kept for card holders",
        },
    },
    "jiangxin-islet": {
        "discount_percent": 20,
        "priority_percent": 10,
        "note": {
            "zh-CN": "长三角社保卡持卡人门票八折",
            "en": "20% off for Yangtze River Delta card holders",
        },
    },
    "yandang-mountain": {
        "discount_percent": 50,
        "note": {
            "zh-CN": "长三角社保卡持卡人门票半价",
            "en": "Half price for Yangtze River Delta card holders",
        },
    },
    "nanxi-river": {
        "free_entry": True,
        "note": {
            "zh-CN": "长三角社保卡持卡人免门票",
            "en": "Free entry for Yangtze River Delta card holders",
        },
    },
}


def barcode_of(isbn: str, copy_number: int) -> str:
    """A copy's barcode: the library's prefix, the ISBN's title digits, the copy number."""
    return f"WZL{isbn[3:12]}{copy_number:02d}"


async def load_demo_card_data() -> dict[str, int]:
    """Upsert the demo books, copies and benefits; counts of what was added or changed."""
    counts = {"books_changed": 0, "copies_added": 0, "benefits_changed": 0}
    library = await Venue.get_or_none(code=LIBRARY_CODE)
    if library is not None:
        async with in_transaction():
            for isbn, title_zh, title_en, author_zh, author_en, publisher, year in DEMO_BOOKS:
                title = {"zh-CN": title_zh, "en": title_en}
                author = {"zh-CN": author_zh, "en": author_en}
                values = {
                    "title": title,
                    "author": author,
                    "publisher": publisher,
                    "year": year,
                    "search_text": book_search_text(isbn=isbn, title=title, author=author),
                }
                book = await Book.get_or_none(venue=library, isbn=isbn)
                if book is None:
                    book = await Book.create(venue=library, isbn=isbn, **values)
                    counts["books_changed"] += 1
                elif any(getattr(book, key) != value for key, value in values.items()):
                    await Book.filter(id=book.id).update(**values)
                    counts["books_changed"] += 1
                for number in range(1, COPIES_PER_BOOK + 1):
                    _, created = await BookCopy.get_or_create(
                        barcode=barcode_of(isbn, number),
                        defaults={"book": book, "venue": library},
                    )
                    counts["copies_added"] += created
    for code, offer in DEMO_BENEFITS.items():
        venue = await Venue.get_or_none(code=code)
        if venue is None:
            continue
        wanted = {
            "walk_in": False, "free_entry": False, "discount_percent": 0, "priority_percent": 0,
            **offer,
        }  # fmt: skip
        benefit = await CardBenefit.get_or_none(venue=venue)
        if benefit is None:
            await CardBenefit.create(venue=venue, **wanted)
            counts["benefits_changed"] += 1
        elif any(getattr(benefit, key) != value for key, value in wanted.items()):
            await CardBenefit.filter(id=benefit.id).update(**wanted)
            counts["benefits_changed"] += 1
    return counts
