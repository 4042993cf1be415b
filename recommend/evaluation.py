"""Offline evaluation of the recommender on synthetic but realistic interaction logs.

A generated catalogue of Wenzhou-like items (museums, old villages, temples, mountains, gorges,
islands, night markets, snack shops, seafood houses, tours ...) and generated visitors, each
from a persona (families, history lovers, foodies, hikers, night owls) with its tastes: they
view, favourite, book, enter, review and walk items they like more often, popular ones a bit
more, with some noise, over three months; half of them also chose interests at onboarding.
Each visitor's later interactions are held out; the recommender, given only the earlier ones,
should put them in its top ten more often than the most popular items do.

Only the generator is committed, not figures: `etour eval-recommend` prints hit-rate@10 and
NDCG@10 of the recommender next to the popularity baseline, for a seed.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from recommend.catalogue import Catalogue, make_catalogue
from recommend.items import Item, Live
from recommend.profiles import (
    INTERESTS,
    Profile,
    Signal,
    build_profile,
    interest_items,
    item_weights,
)
from recommend.ranking import profile_candidates, rerank
from server.clock import LOCAL_TZ

TOP_K = 10
START = datetime(2026, 6, 1, 9, 0, tzinfo=LOCAL_TZ)
DAYS = 90
HELD_OUT_SHARE = 0.25

PLACES = [
    ("鹿城", "Lucheng"), ("瓯海", "Ouhai"), ("龙湾", "Longwan"), ("洞头", "Dongtou"),
    ("乐清", "Yueqing"), ("瑞安", "Rui'an"), ("永嘉", "Yongjia"), ("平阳", "Pingyang"),
    ("苍南", "Cangnan"), ("文成", "Wencheng"), ("泰顺", "Taishun"), ("龙港", "Longgang"),
]  # fmt: skip


@dataclass(frozen=True)
class Archetype:
    """A sort of item the generator makes in several places: its texts and its themes."""

    type: str
    kind: str
    themes: dict[str, float]
    name: tuple[str, str]  # with {zh} / {en} for the place
    category: tuple[str, str]
    tags: tuple[tuple[str, ...], tuple[str, ...]]
    description: tuple[str, str]
    night: bool = False


def _a(type_, kind, themes, name, category, tags_zh, tags_en, desc_zh, desc_en, night=False):
    return Archetype(
        type_, kind, themes, name, category, (tags_zh, tags_en), (desc_zh, desc_en), night
    )


ARCHETYPES: list[Archetype] = [
    _a("venue", "museum", {"museums": 1.0, "history": 0.8, "family": 0.2},
       ("{zh}博物馆", "{en} Museum"), ("博物馆", "museum"),
       ("博物馆", "历史", "文物", "展览"), ("museum", "history", "relics", "exhibition"),
       "{zh}博物馆陈列出土文物与古代瓷器，讲述千年地方历史。",
       "The {en} Museum shows excavated relics and old porcelain and tells a thousand years of "
       "local history."),
    _a("venue", "museum", {"museums": 0.9, "history": 0.7, "arts": 0.3},
       ("{zh}民俗馆", "{en} Folk Culture Museum"), ("博物馆", "museum"),
       ("民俗", "非遗", "手工艺", "展览"), ("folk customs", "intangible heritage", "crafts"),
       "{zh}民俗馆展示瓯绣、米塑、木雕等非物质文化遗产和老手艺。",
       "Embroidery, rice sculpture and wood carving: the crafts and customs of {en}."),
    _a("venue", "heritage_site", {"history": 1.0, "museums": 0.2},
       ("{zh}古村落", "{en} Old Village"), ("名胜古迹", "heritage site"),
       ("古村落", "古建筑", "宗祠", "耕读文化"), ("old village", "ancient houses", "clan hall"),
       "{zh}古村保存明清古宅与宗祠，石板小巷里可见耕读传家的遗风。",
       "Ming and Qing houses, a clan hall and stone lanes in an old village of {en}."),
    _a("venue", "heritage_site", {"history": 0.9, "reading": 0.3},
       ("{zh}名人故居", "{en} Former Residence"), ("名胜古迹", "heritage site"),
       ("故居", "名人", "历史", "纪念馆"), ("former residence", "historic figure", "memorial"),
       "{zh}名人故居，陈列书信、手稿与旧物，纪念一位近代学者。",
       "The former home of a modern scholar from {en}, with letters, manuscripts and keepsakes."),
    _a("venue", "heritage_site", {"history": 0.8, "nature": 0.2},
       ("{zh}古寺", "{en} Old Temple"), ("名胜古迹", "heritage site"),
       ("寺庙", "古刹", "佛教", "古建筑"), ("temple", "buddhism", "ancient architecture"),
       "{zh}古寺始建于唐代，殿宇依山而建，古树参天，香火绵延千年。",
       "A temple of {en} founded in the Tang dynasty, its halls climbing the hillside."),
    _a("venue", "scenic_area", {"hiking": 1.0, "nature": 0.9},
       ("{zh}山风景区", "{en} Mountain Scenic Area"), ("风景名胜区", "scenic area"),
       ("登山", "徒步", "奇峰", "怪石"), ("hiking", "climbing", "peaks", "rocks"),
       "{zh}山奇峰林立，登山步道穿过竹林通往山顶观景台，适合一日徒步。",
       "Peaks and rock needles above {en}; a trail through bamboo climbs to the summit."),
    _a("venue", "scenic_area", {"nature": 1.0, "hiking": 0.7},
       ("{zh}大峡谷", "{en} Gorge"), ("风景名胜区", "scenic area"),
       ("峡谷", "瀑布", "溪流", "溯溪"), ("gorge", "waterfalls", "stream"),
       "{zh}峡谷中瀑布成群，溪水清澈，栈道沿溪而上。",
       "Waterfalls one after another in the {en} gorge, a boardwalk beside the stream."),
    _a("venue", "scenic_area", {"nature": 0.8, "family": 0.6},
       ("{zh}森林公园", "{en} Forest Park"), ("风景名胜区", "scenic area"),
       ("森林", "湖泊", "露营", "亲子"), ("forest", "lake", "camping", "family"),
       "{zh}森林公园有湖泊、草坪和露营地，适合全家休闲。",
       "Lakes, lawns and a campsite in the {en} forest park: a relaxed family day."),
    _a("venue", "scenic_area", {"seaside": 1.0, "family": 0.6},
       ("{zh}金沙滩", "{en} Golden Beach"), ("风景名胜区", "scenic area"),
       ("海滨", "沙滩", "海岛", "日出"), ("beach", "seaside", "island", "sunrise"),
       "{zh}金沙滩沙细浪平，可以赶海、看日出，夏天是亲子玩水的好去处。",
       "Fine sand and gentle waves at {en}: sunrise, rock pools and paddling for children."),
    _a("venue", "scenic_area", {"seaside": 0.9, "seafood": 0.4, "history": 0.2},
       ("{zh}渔村", "{en} Fishing Village"), ("风景名胜区", "scenic area"),
       ("渔村", "海岛", "灯塔", "石头屋"), ("fishing village", "island", "lighthouse"),
       "{zh}渔村的石头屋依山面海，码头渔船进出，灯塔守望海湾。",
       "Stone houses facing the sea, fishing boats and a lighthouse at {en}."),
    _a("venue", "museum", {"family": 1.0, "museums": 0.4},
       ("{zh}科技馆", "{en} Science Centre"), ("博物馆", "museum"),
       ("科技馆", "亲子", "儿童", "科普"), ("science centre", "family", "kids", "hands-on"),
       "{zh}科技馆有互动展品和儿童乐园，孩子可以动手做实验。",
       "Hands-on exhibits and a play area at the {en} Science Centre: kids run experiments."),
    _a("venue", "scenic_area", {"family": 1.0, "nature": 0.3},
       ("{zh}儿童乐园", "{en} Children's Park"), ("风景名胜区", "scenic area"),
       ("亲子", "游乐园", "动物", "儿童"), ("family", "playground", "animals", "kids"),
       "{zh}儿童乐园有小动物、游乐设施和草地，适合带孩子玩一整天。",
       "Small animals, rides and lawns: a whole day out with children in {en}."),
    _a("venue", "theatre", {"arts": 1.0, "night": 0.5},
       ("{zh}大剧院", "{en} Grand Theatre"), ("剧院", "theatre"),
       ("剧院", "演出", "越剧", "音乐会"), ("theatre", "shows", "opera", "concerts"),
       "{zh}大剧院上演越剧、瓯剧和交响音乐会，晚间演出居多。",
       "Yue opera, Ou opera and concerts at the {en} Grand Theatre, mostly in the evening.",
       True),
    _a("venue", "street", {"night": 1.0, "food": 0.6, "shopping": 0.5},
       ("{zh}夜市", "{en} Night Market"), ("历史文化街区", "historic street"),
       ("夜市", "夜宵", "小吃", "灯光"), ("night market", "late-night food", "street food"),
       "{zh}夜市傍晚开张，摊位一路排开，烤海鲜、糖水和小吃到深夜。",
       "The {en} night market opens at dusk: grilled seafood, sweet soups and snacks till late.",
       True),
    _a("venue", "street", {"shopping": 1.0, "history": 0.5, "food": 0.3},
       ("{zh}老街", "{en} Old Street"), ("历史文化街区", "historic street"),
       ("老街", "老字号", "购物", "骑楼"), ("old street", "old brands", "shopping", "arcades"),
       "{zh}老街骑楼林立，老字号店铺卖糕点、布鞋和手工艺品。",
       "Arcaded shophouses on the {en} old street sell pastries, cloth shoes and crafts."),
    _a("venue", "scenic_area", {"night": 1.0, "nature": 0.2},
       ("{zh}夜游码头", "{en} Night Cruise Pier"), ("风景名胜区", "scenic area"),
       ("夜游", "游船", "灯光秀", "夜景"), ("night cruise", "boat", "light show", "night views"),
       "{zh}夜游船从码头出发，两岸灯光秀倒映水中。",
       "Evening boats leave the {en} pier; light shows ripple on the water.", True),
    _a("venue", "library", {"reading": 1.0, "family": 0.3},
       ("{zh}图书馆", "{en} Library"), ("图书馆", "library"),
       ("图书馆", "阅读", "自习", "讲座"), ("library", "reading", "study", "lectures"),
       "{zh}图书馆藏书丰富，周末有亲子阅读和文化讲座。",
       "A well-stocked library in {en} with family reading hours and weekend lectures."),
    _a("restaurant", "restaurant", {"food": 1.0},
       ("{zh}小吃店", "{en} Snack Shop"), ("餐厅", "restaurant"),
       ("小吃", "早点", "鱼丸", "灯盏糕"), ("snacks", "breakfast", "fish balls", "fried cakes"),
       "{zh}小吃店一早开门，鱼丸汤、灯盏糕和糯米饭是老街坊的早点。",
       "Fish-ball soup, fried radish cakes and sticky rice for breakfast in {en}."),
    _a("restaurant", "restaurant", {"seafood": 1.0, "food": 0.7, "seaside": 0.2},
       ("{zh}海鲜排档", "{en} Seafood House"), ("餐厅", "restaurant"),
       ("海鲜", "江蟹生", "鱼", "虾"), ("seafood", "raw marinated crab", "fish", "prawns"),
       "{zh}海鲜排档当天渔船靠岸的鲜货现点现做，江蟹生是招牌。",
       "The day's catch cooked to order in {en}; raw marinated crab is the house dish."),
    _a("restaurant", "restaurant", {"night": 0.9, "food": 0.7, "seafood": 0.3},
       ("{zh}夜宵烧烤", "{en} Late-Night Grill"), ("餐厅", "restaurant"),
       ("夜宵", "烧烤", "啤酒", "深夜"), ("late-night", "barbecue", "beer", "after midnight"),
       "{zh}夜宵烧烤开到凌晨两点，烤串、烤生蚝配啤酒。",
       "Open until 2 a.m. in {en}: skewers, grilled oysters and beer.", True),
    _a("restaurant", "restaurant", {"food": 0.8, "nature": 0.3, "hiking": 0.2},
       ("{zh}农家乐", "{en} Farmhouse Kitchen"), ("餐厅", "restaurant"),
       ("农家菜", "土鸡", "山野菜", "麦饼"), ("farmhouse food", "free-range chicken", "greens"),
       "{zh}山脚下的农家乐，土鸡煲和山野菜，登山回来正好吃一顿。",
       "Free-range chicken and wild greens at the foot of the hills of {en}."),
    _a("restaurant", "restaurant", {"food": 0.7, "arts": 0.2, "history": 0.2},
       ("{zh}茶楼", "{en} Teahouse"), ("餐厅", "restaurant"),
       ("茶楼", "茶点", "早茶", "老字号"), ("teahouse", "dim sum", "morning tea", "old brand"),
       "{zh}老茶楼的早茶，松糕、汤圆配一壶乌牛早。",
       "Morning tea at an old {en} teahouse: song cake, tangyuan and a pot of green tea."),
    _a("tour", "tour", {"history": 1.0, "shopping": 0.3},
       ("{zh}古城文化漫步", "{en} Old Town Heritage Walk"), ("导览路线", "guided tour"),
       ("古城", "历史", "老街", "古建筑"), ("old town", "history", "old streets"),
       "沿{zh}古城墙和老街走一圈，听讲解了解千年城史。",
       "A guided walk along the old walls and streets of {en}, through a thousand years."),
    _a("tour", "tour", {"hiking": 1.0, "nature": 0.8},
       ("{zh}登山徒步线", "{en} Hiking Route"), ("导览路线", "guided tour"),
       ("徒步", "登山", "步道", "山顶"), ("hiking", "trail", "summit"),
       "{zh}登山徒步线全程约十二公里，穿越竹林和山脊。",
       "A 12 km hike across bamboo forest and ridges above {en}."),
    _a("tour", "night_tour", {"night": 1.0, "history": 0.2},
       ("{zh}夜游线路", "{en} Night Walk"), ("夜游导览路线", "night guided tour"),
       ("夜游", "夜景", "灯光", "夜市"), ("night walk", "night views", "lights", "night market"),
       "{zh}夜游线路串起灯光夜景、夜市和江边步道。",
       "Lights, a night market and the riverside after dark in {en}.", True),
    _a("tour", "tour", {"family": 1.0, "nature": 0.3},
       ("{zh}亲子研学线", "{en} Family Discovery Route"), ("导览路线", "guided tour"),
       ("亲子", "研学", "儿童", "自然课堂"), ("family", "kids", "learning", "nature class"),
       "{zh}亲子研学线带孩子认识植物、做手工、听故事。",
       "Plants, crafts and stories for children on a family route in {en}."),
]  # fmt: skip

DISHES = [
    ("温州鱼丸", "Wenzhou fish balls", {"food": 1.0, "seafood": 0.5}),
    ("灯盏糕", "Dengzhan cake", {"food": 1.0}),
    ("县前汤圆", "Xianqian tangyuan", {"food": 1.0}),
    ("长人馄饨", "Changren wontons", {"food": 1.0}),
    ("温州糯米饭", "Wenzhou sticky rice", {"food": 1.0}),
    ("江蟹生", "Raw marinated crab", {"seafood": 1.0, "food": 0.6}),
    ("酱鸭舌", "Soy-braised duck tongue", {"food": 0.9, "night": 0.3}),
    ("猪脏粉", "Pork offal noodles", {"food": 1.0}),
    ("松糕", "Song cake", {"food": 1.0}),
    ("三丝敲鱼", "Pounded fish with three shreds", {"seafood": 0.9, "food": 0.7}),
    ("永嘉麦饼", "Yongjia wheat pie", {"food": 1.0, "hiking": 0.2}),
    ("洞头鱼饼", "Dongtou fish cake", {"seafood": 0.9, "food": 0.7}),
    ("烤生蚝", "Grilled oysters", {"seafood": 0.8, "night": 0.6, "food": 0.5}),
    ("白象香干", "Baixiang dried tofu", {"food": 1.0}),
]


@dataclass(frozen=True)
class Persona:
    """A sort of visitor: how much each theme appeals, and how many things they do."""

    name: str
    tastes: dict[str, float]
    interactions: tuple[int, int]


PERSONAS = [
    Persona("families", {"family": 1.0, "seaside": 0.6, "museums": 0.4, "nature": 0.4}, (6, 14)),
    Persona("history lovers", {"history": 1.0, "museums": 0.9, "reading": 0.3}, (8, 18)),
    Persona("foodies", {"food": 1.0, "seafood": 0.8, "shopping": 0.2}, (10, 20)),
    Persona("hikers", {"hiking": 1.0, "nature": 0.9, "seaside": 0.2}, (6, 14)),
    Persona("night owls", {"night": 1.0, "food": 0.4, "arts": 0.4}, (8, 16)),
]


@dataclass
class SyntheticWorld:
    """A generated catalogue, each item's themes and audience size, and visitors' logs."""

    items: list[Item]
    themes: dict[str, dict[str, float]]
    appeal: dict[str, float]  # how widely known an item is (some are famous, most are not)
    visitors: list[Visitor] = field(default_factory=list)


@dataclass
class Visitor:
    """A generated visitor: persona, onboarding interests, time-ordered signals."""

    persona: str
    interests: list[str]
    signals: list[Signal]


def synthetic_catalogue(rng: random.Random, *, items: int) -> SyntheticWorld:
    """About `items` items: each archetype in several places, plus the dishes."""
    catalogue: list[Item] = []
    themes: dict[str, dict[str, float]] = {}
    appeal: dict[str, float] = {}
    counters: Counter[str] = Counter()
    per_archetype = max(1, round((items - len(DISHES)) / len(ARCHETYPES)))
    for archetype in ARCHETYPES:
        for zh_place, en_place in rng.sample(PLACES, k=min(per_archetype, len(PLACES))):
            counters[archetype.type] += 1
            item_id = f"{archetype.type}:{counters[archetype.type]}"
            catalogue.append(
                Item(
                    id=item_id,
                    name={
                        "zh-CN": archetype.name[0].format(zh=zh_place),
                        "en": archetype.name[1].format(en=en_place),
                    },
                    category={"zh-CN": archetype.category[0], "en": archetype.category[1]},
                    tags={"zh-CN": list(archetype.tags[0]), "en": list(archetype.tags[1])},
                    description={
                        "zh-CN": archetype.description[0].format(zh=zh_place),
                        "en": archetype.description[1].format(en=en_place),
                    },
                    night=archetype.night,
                    prior=rng.random() * 0.6,
                    kind=archetype.kind,
                )
            )
            themes[item_id] = archetype.themes
    for zh, en, dish_themes in DISHES:
        counters["dish"] += 1
        item_id = f"dish:{counters['dish']}"
        catalogue.append(
            Item(
                id=item_id,
                name={"zh-CN": zh, "en": en},
                category={"zh-CN": "温州美食", "en": "Wenzhou food"},
                tags={"zh-CN": ["小吃", "美食"], "en": ["snack", "local food"]},
                description={"zh-CN": f"{zh}是温州人从小吃到大的味道。", "en": f"{en}."},
                prior=rng.random() * 0.6,
                kind="dish",
            )
        )
        themes[item_id] = dish_themes
    for item in catalogue:
        appeal[item.id] = rng.paretovariate(1.5)  # a few famous places, a long tail
    return SyntheticWorld(catalogue, themes, appeal)


def _affinity(tastes: dict[str, float], themes: dict[str, float]) -> float:
    return sum(tastes.get(theme, 0.0) * weight for theme, weight in themes.items())


def _signals_for(rng: random.Random, item: Item, liking: float, at: datetime) -> list[Signal]:
    """What a visitor does with one item they picked: always a view, then by type and liking."""
    signals = [Signal(item.id, "view", at)]
    later = at + timedelta(hours=rng.randint(1, 48))
    keen = min(1.0, 0.3 + liking)
    if rng.random() < 0.3 * keen:
        signals.append(Signal(item.id, "favourite", at + timedelta(minutes=5)))
    if item.type == "venue" and rng.random() < 0.5 * keen:
        signals.append(Signal(item.id, "reservation", at + timedelta(minutes=10)))
        if rng.random() < 0.75:
            signals.append(Signal(item.id, "entry", later))
    elif item.type == "restaurant" and rng.random() < 0.4:
        rating = 5 if liking > 0.6 else rng.choice([2, 3, 4])
        signals.append(Signal(item.id, "review", later, rating=rating))
    elif item.type == "tour" and rng.random() < 0.5 * keen:
        signals.append(Signal(item.id, "tour_visit", later))
    elif item.type == "dish" and rng.random() < 0.15:
        signals.append(Signal(item.id, "chat_interest", at + timedelta(minutes=1)))
    return signals


def synthetic_visitors(rng: random.Random, world: SyntheticWorld, *, visitors: int) -> None:
    """Generate `visitors` visitors' logs into the world, personas in turn."""
    ids = [item.id for item in world.items]
    by_id = {item.id: item for item in world.items}
    appeal = np.array([world.appeal[item_id] for item_id in ids])
    for number in range(visitors):
        persona = PERSONAS[number % len(PERSONAS)]
        # Each visitor leans their own way within the persona.
        tastes = {theme: w * rng.uniform(0.6, 1.4) for theme, w in persona.tastes.items()}
        liking = np.array([_affinity(tastes, world.themes[item_id]) for item_id in ids])
        chance = (0.03 + liking) ** 2 * np.sqrt(appeal)
        chance /= chance.sum()
        noise = appeal / appeal.sum()
        interests = []
        if rng.random() < 0.5:
            ranked = sorted(tastes, key=lambda theme: -tastes[theme])
            interests = [theme for theme in ranked[:2] if theme in INTERESTS]
        count = rng.randint(*persona.interactions)
        moments = sorted(
            START + timedelta(minutes=rng.randint(0, DAYS * 24 * 60)) for _ in range(count)
        )
        signals: list[Signal] = []
        seen: set[str] = set()
        for moment in moments:
            pick = noise if rng.random() < 0.15 else chance  # now and then, just what is famous
            row = int(np.searchsorted(np.cumsum(pick), rng.random() * pick.sum()))
            item_id = ids[min(row, len(ids) - 1)]
            if item_id in seen and rng.random() < 0.7:
                continue
            seen.add(item_id)
            signals.extend(_signals_for(rng, by_id[item_id], float(liking[row]), moment))
        world.visitors.append(Visitor(persona.name, interests, signals))


def split(visitor: Visitor) -> tuple[list[Signal], set[str], datetime] | None:
    """(earlier signals, later items to find, the moment between) or None if too short."""
    items_in_order = list(dict.fromkeys(signal.item_id for signal in visitor.signals))
    held = max(1, round(len(items_in_order) * HELD_OUT_SHARE))
    if len(items_in_order) - held < 2:
        return None
    later = set(items_in_order[-held:])
    first_later = min(s.at for s in visitor.signals if s.item_id in later)
    earlier = [s for s in visitor.signals if s.at < first_later and s.item_id not in later]
    return earlier, later, first_later


def hit_and_ndcg(ranked: Sequence[str], wanted: set[str], k: int = TOP_K) -> tuple[float, float]:
    """Hit (some wanted item in the top k) and NDCG@k with binary relevance."""
    top = list(ranked)[:k]
    gains = [1.0 / math.log2(position + 2) for position, item in enumerate(top) if item in wanted]
    ideal = sum(1.0 / math.log2(position + 2) for position in range(min(k, len(wanted))))
    return (1.0 if gains else 0.0), (sum(gains) / ideal if ideal else 0.0)


@dataclass(frozen=True)
class MethodScore:
    """One method's figures over the evaluated visitors."""

    method: str
    hit_rate: float
    ndcg: float


@dataclass(frozen=True)
class EvaluationReport:
    """The evaluation's figures, and what it ran on."""

    scores: list[MethodScore]
    visitors: int
    items: int
    held_out: int
    seed: int

    def score(self, method: str) -> MethodScore:
        """The figures of one method by name."""
        return next(score for score in self.scores if score.method == method)


POPULARITY = "popularity baseline"
SIMILARITY = "profile similarity only"
RECOMMENDER = "recommender (re-ranked, MMR)"


def _popularity(train: list[list[Signal]]) -> dict[str, float]:
    """Distinct visitors per item in the earlier logs."""
    counts: Counter[str] = Counter()
    for signals in train:
        counts.update({signal.item_id for signal in signals})
    return dict(counts)


def evaluate(
    *,
    encode: Callable[[list[str]], np.ndarray],
    visitors: int = 500,
    items: int = 400,
    seed: int = 42,
    model: str = "evaluation",
) -> EvaluationReport:
    """Generate a world for `seed`, hold out each visitor's later items, and score the
    recommender and the popularity baseline on finding them (hit-rate@10, NDCG@10)."""
    rng = random.Random(seed)  # noqa: S311 (synthetic data, reproducible by seed)
    world = synthetic_catalogue(rng, items=items)
    synthetic_visitors(rng, world, visitors=visitors)
    cases = [(visitor, parts) for visitor in world.visitors if (parts := split(visitor))]
    train = [earlier for _, (earlier, _, _) in cases]
    usage = _popularity(train)
    top_usage = max(usage.values(), default=1)
    popularity = {
        item.id: 0.5 * item.prior + 0.5 * math.log1p(usage.get(item.id, 0)) / math.log1p(top_usage)
        for item in world.items
    }
    documents = [*world.items, *interest_items()]
    vectors = encode([document.text() for document in documents])
    catalogue = make_catalogue(
        model=model,
        items=world.items,
        vectors={document.id: vector for document, vector in zip(documents, vectors, strict=True)},
        popularity=popularity,
        built_at=START,
    )
    by_popularity = sorted(world.items, key=lambda item: (-usage.get(item.id, 0), item.id))
    totals: dict[str, list[float]] = {name: [0.0, 0.0] for name in (POPULARITY, SIMILARITY)}
    totals[RECOMMENDER] = [0.0, 0.0]
    for visitor, (earlier, later, moment) in cases:
        known = frozenset(signal.item_id for signal in earlier)
        ranked = {
            POPULARITY: [item.id for item in by_popularity if item.id not in known][:TOP_K],
            **_recommended(catalogue, visitor, earlier, known, moment),
        }
        for name, found in ranked.items():
            hit, ndcg = hit_and_ndcg(found, later)
            totals[name][0] += hit
            totals[name][1] += ndcg
    count = max(len(cases), 1)
    return EvaluationReport(
        scores=[
            MethodScore(name, hits / count, ndcg / count) for name, (hits, ndcg) in totals.items()
        ],
        visitors=len(cases),
        items=len(world.items),
        held_out=sum(len(later) for _, (_, later, _) in cases),
        seed=seed,
    )


def _recommended(
    catalogue: Catalogue,
    visitor: Visitor,
    earlier: list[Signal],
    known: frozenset[str],
    moment: datetime,
) -> dict[str, list[str]]:
    """The top ten by profile similarity alone, and by the whole ranking (all items open)."""
    built = build_profile(
        weights=item_weights(earlier, now=moment),
        interests=visitor.interests,
        index=catalogue.index,
        interest_vectors=catalogue.interest_vectors,
        label_of=catalogue.label_of,
    )
    profile = Profile(
        vector=built.vector,
        anchors=built.anchors,
        anchor_vectors=built.anchor_vectors,
        known=known,
        weights=built.weights,
    )
    candidates = profile_candidates(catalogue, profile, k=100)
    by_similarity = sorted(candidates, key=lambda c: -c.similarity)
    everything_open = {
        c.item_id: Live(name=catalogue.label_of(c.item_id), open_now=True) for c in candidates
    }
    midday = moment.replace(hour=12, minute=0)
    ranked = rerank(
        candidates,
        catalogue=catalogue,
        profile=profile,
        live=everything_open,
        at=midday,
        live_now=False,
        position=None,
        limit=TOP_K,
    )
    return {
        SIMILARITY: [c.item_id for c in by_similarity[:TOP_K]],
        RECOMMENDER: [r.item.id for r in ranked],
    }


def report_table(report: EvaluationReport) -> str:
    """The figures as a small text table, the baseline first."""
    lines = [
        f"offline evaluation (seed {report.seed}): {report.visitors} visitors, "
        f"{report.items} items, {report.held_out} held-out items",
        f"{'method':<32} {'hit-rate@10':>12} {'NDCG@10':>9}",
    ]
    for score in report.scores:
        lines.append(f"{score.method:<32} {score.hit_rate:>12.3f} {score.ndcg:>9.3f}")
    baseline = report.score(POPULARITY)
    ours = report.score(RECOMMENDER)
    lift = ours.ndcg / baseline.ndcg if baseline.ndcg else float("inf")
    lines.append(f"recommender vs popularity: NDCG@10 x{lift:.2f}")
    return "\n".join(lines)
