"""What a visitor wants: sentence embeddings and character n-grams, plus keyword evidence.

A softmax regression, fitted on the example utterances (bots/data/train.jsonl) and kept in a
file under the data directory so that a restarted process loads it instead of fitting again,
reads two views of a message: its sentence embedding (recommend's embedder), which knows that
"how much to get in" and 门票多少钱 mean the same, and its character n-grams, which see through
the typos and short fragments an embedding blurs (cancle, tiket, 取xiao预约). Each intent's
probability gets a bonus when jieba's words (or English words) include one of its keywords, or
the message has one of its phrases (我约的, 要买票吗, 在吗); where a specific intent's evidence
overrules a generic one's (取消 over 预约), the generic's probability counts for the specific.
Below a confidence threshold the answer is `unknown`, and the dialogue offers a menu instead of
guessing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from recommend.embedder import Embedder, normalised

log = logging.getLogger("etour.chat")

# The label set of API.md, in its order.
INTENTS = (
    "book",
    "cancel_booking",
    "my_bookings",
    "opening_hours",
    "ticket_price",
    "crowd_status",
    "food",
    "route_guide",
    "recommend",
    "card_service",
    "complaint",
    "human",
    "greeting",
    "unknown",
)
UNKNOWN = "unknown"
TRAINING_SET = "data/train.jsonl"
# The training set was tuned against the dev set; the threshold, the keyword bonus and the fit's
# penalty were chosen by 5-fold cross-validation on the training set.
DEV_SET = "data/dev.jsonl"
# Held out: written apart from training and dev. The first one's misses then guided general
# fixes (keywords, the specific-over-generic rule, training examples): the second, written
# before those fixes were measured on it, was the clean measure until its misses guided the
# next round of fixes; the third was written before that round, and its misses guided the
# round after; the fourth was written before that round, and is run only to measure it.
# None is tuned on.
TEST_SETS = {
    "test": "data/test.jsonl",
    "test2": "data/test2.jsonl",
    "test3": "data/test3.jsonl",
    "test4": "data/test4.jsonl",
}
NGRAM_SIZES = (1, 2, 3)  # characters of a word (a run of Chinese is one word), padded by spaces
# The fit: an L2 penalty (1e-4 did as well in cross-validation, 1e-3 worse) and full-batch Adam
# steps, enough to converge.
L2_PENALTY = 3e-4
FIT_STEPS = 200
LEARNING_RATE = 0.05
# Bump when the fit or the features change in a way the fitted file's digest cannot see.
FITTED_FORMAT = 1
KEYWORD_BONUS = 0.3  # added to a probability: keyword evidence outweighs a near tie
# Below this score the answer is unknown. Off-topic messages are mostly caught by the unknown
# examples themselves; a higher threshold (0.45) turned away more real questions than it caught.
CONFIDENCE_THRESHOLD = 0.3

# Words that are evidence for an intent. Chinese ones of two or more characters are matched as
# substrings (jieba may cut 转人工 as 转/人工), single characters only as jieba words; English
# ones as whole lower-case words (phrases as substrings).
KEYWORDS: dict[str, tuple[str, ...]] = {
    "book": ("预约", "预订", "预定", "订票", "订", "约", "买票", "抢票", "book", "booking",
             "reserve", "reservation", "resrve"),
    "cancel_booking": ("取消", "退票", "退订", "退掉", "退了", "撤销", "撤掉", "撤了", "撤回",
                       "不要了", "不去了", "去不了", "作废", "取笑", "cancel", "cancle", "refund",
                       "undo", "call off", "get rid of", "drop it", "don't need", "dont need",
                       "no longer need", "won't make it", "wont make it", "can't make it",
                       "cant make it", "退"),
    "my_bookings": ("我的预约", "我的订单", "我的票", "我的门票", "订单", "电子票", "预约记录",
                    "订票记录", "购票记录", "预订记录", "历史订单", "my booking", "my bookings",
                    "my reservation", "my reservations", "my ticket", "my tickets", "my orders"),
    "opening_hours": ("几点", "开门", "关门", "开放", "营业", "闭馆", "入园时间", "入场时间",
                      "开着", "open", "opening", "close", "closes", "closing", "hours",
                      "last entry", "what time", "when does", "when can", "when is"),
    "ticket_price": ("多少钱", "要多少", "票价", "价格", "收费", "免费", "免票", "优惠", "半价",
                     "要钱", "几块", "贵不贵", "打折", "折扣", "半票", "学生票", "儿童票", "老人票",
                     "price", "prices", "cost", "fee", "fare", "free", "discount", "charge",
                     "admission", "how much"),
    "crowd_status": ("人多", "挤", "拥挤", "排队", "余票", "名额", "客流", "人流", "满了", "爆满",
                     "人山人海", "还有位置", "还有票", "有票吗", "位子", "剩", "crowded", "busy",
                     "queue", "queues", "lines", "packed", "left", "remain", "available", "full"),
    "food": ("吃", "餐厅", "饭店", "饭馆", "餐馆", "菜馆", "馆子", "美食", "小吃", "特产", "饿",
             "海鲜", "宵夜", "夜宵", "早餐", "早饭", "午饭", "晚饭", "本地菜", "鱼丸", "糯米饭",
             "灯盏糕", "汤圆", "馄饨", "猪脏粉", "松糕", "麦饼", "敲鱼", "江蟹", "鱼饼", "酱油肉",
             "香干", "瓯柑", "鸭舌", "eat", "food", "restaurant", "restaurants", "hungry",
             "breakfast", "dinner", "lunch", "snack", "snacks", "seafood", "dish", "dishes",
             "cuisine", "vegetarian", "halal", "duck tongue", "fish ball", "wonton"),
    "route_guide": ("怎么去", "怎么走", "怎么到", "公交", "大巴", "班车", "路线", "线路", "交通",
                    "地址", "导航", "坐车", "打车", "地铁", "怎么过去", "什么位置", "多远",
                    "get to", "directions", "bus", "route", "tour", "address", "taxi",
                    "transport", "how far", "where is", "where exactly"),
    "recommend": ("推荐", "好玩", "值得", "去哪", "景点", "逛", "recommend", "suggest",
                  "suggestions", "ideas", "worth", "things to do", "what to do", "where to go",
                  "places to visit", "sightseeing", "fun", "must-see", "attractions"),
    "card_service": ("社保卡", "市民卡", "游客卡", "一卡通", "年卡", "电子卡", "刷卡", "卡",
                     "card"),
    "complaint": ("投诉", "举报", "反映", "宰客", "被宰", "乱收费", "欺诈", "被骗", "态度", "多收",
                  "维权", "差评", "假货", "假的", "过期", "没人管", "太黑", "骂人", "缺斤短两",
                  "绕路", "强制", "强迫", "不让进", "不让我进", "气人", "气死", "太差", "差劲",
                  "恶劣", "不负责", "不合理", "黑车", "宰", "坑", "骗", "骂", "凶", "脏",
                  "complain", "complaint", "report", "rude", "scam", "cheated", "overcharged",
                  "charged", "fraud", "forced", "filthy", "dirty", "disgusting", "terrible",
                  "awful", "horrible", "unacceptable", "nobody", "delayed", "ripped off",
                  "rip-off"),
    "human": ("人工", "真人", "活人", "客服", "工作人员", "找个人", "换个人", "human", "person",
              "agent", "staff", "operator", "someone"),
    "greeting": ("你好", "您好", "嗨", "哈喽", "谢谢", "再见", "拜拜", "帮助", "会什么", "会干嘛",
                 "能干嘛", "能干啥", "能做什么", "hello", "hi", "hey", "thanks", "thank", "bye",
                 "help", "what can you do"),
    # Other errands, with words of this service's (票, 多少钱, 我的, 工作) that must not count.
    UNKNOWN: ("快递", "包裹", "外卖", "房价", "房贷", "股票", "股市", "彩票", "基金", "机票",
              "作业", "简历", "招聘", "兼职", "工资", "mortgage", "stocks", "lottery",
              "homework", "parcel"),
}  # fmt: skip
# Where a specific intent's words occur, a generic intent's words are no evidence of their own:
# 取消预约 is about cancelling, not booking; 社保卡免票 about the card, not prices; 乱收费 is a
# complaint; 推荐餐厅 is about food and 推荐路线 about routes, not recommendations in general; 我的
# 预约 asks about bookings made, not for one; 机票多少钱 and 我的快递 are other errands.
SPECIFIC_OVER: dict[str, tuple[str, ...]] = {
    "cancel_booking": ("book", "my_bookings"),
    "my_bookings": ("book",),
    "card_service": ("book", "ticket_price"),
    "complaint": ("book", "my_bookings", "ticket_price"),
    "food": ("recommend",),
    "route_guide": ("recommend",),
    UNKNOWN: ("book", "my_bookings", "ticket_price", "recommend", "human", "greeting"),
}
# The visitor's own bookings named without a fixed word (我约的那个, 我预约了几张, 我订过哪些,
# 我有没有约, 我的预订, which day is my museum reservation, what did I book, do I have a booking):
# evidence that outweighs booking words, and the words of a question about one of them (我订过
# 哪些景点, what time is my slot). 帮我订了吧 is a request, so 我 must not follow 帮 / 给 / 替 / 让.
_OWN_BOOKINGS = re.compile(
    r"(?<![帮给替让])我(?:之前|刚才|刚刚|已经|都|一共|上次|上周|上个?月|昨天|前天|前几天|今天)?"
    r"(?:在这里?|在你们这[里儿]?)?(?:预约|预订|预定|约|订)(?:了|过|的)"
    # Whether a booking went through: 约上了没, 订到了吗, 预约成功了吗 (not 还能约到吗).
    r"|(?:约|订|定)(?:上|到|好|成功)了(?:没|吗|么|嘛)|(?:预约|预订|订票)成功(?:了)?(?:没|吗|么)"
    r"|我(?:的|名下的?)(?:预约|预订|预定|订单|行程)"
    r"|(?<![帮给替让])我(?:[今明后]天|这周末?|周[一二三四五六日末])?有没有(?:预约|预订|预定|约|订)"
    r"|\bmy\s+(?:[a-z'-]+\s+){0,2}(?:bookings?|reservations?|slots?)\b"
    r"|\b(?:did|have)\s+i\s+(?:book|booked|reserve|reserved)\b"
    r"|\bdo\s+i\s+have\s+(?:a|any)\s+(?:bookings?|reservations?)\b"
)
# Whether a visit costs anything at all (要买票吗, 用不用买票, do kids need a ticket): a question
# of price, not a request to book.
_FEE_QUESTION = re.compile(
    r"买门?票(?:吗|么|嘛)|(?:要不要|需不需要|用不用|还用|不用|需要|无需|免)买门?票"
    r"|(?:要|需要|用)门票(?:吗|么|嘛)"
    r"|\b(?:do|does)\s+(?:i|we|you|kids|children|seniors)\s+need\s+"
    r"(?:to\s+buy\s+)?(?:a\s+)?tickets?\b"
)
# Whether anyone is there (在吗, 在不在, 你在嘛, ni hao, anyone there?): a greeting. 现在吗 and
# 还在吗 ask something else.
_ARE_YOU_THERE = re.compile(
    r"(?<![现存实正所还])在(?:吗|嘛|么|不在|没)(?=$|[\s,.!?~，。！？～])"
    r"|\bni\s?hao\b|\b(?:any\s?one|any\s?body|you)\s+there\b"
)
# Phrases that are evidence for an intent, each with the intents whose words they overrule.
_ABOUT_OWN_BOOKINGS = ("book", "recommend", "opening_hours")
PHRASES: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = (
    ("my_bookings", _OWN_BOOKINGS, _ABOUT_OWN_BOOKINGS),
    ("ticket_price", _FEE_QUESTION, ("book",)),
    ("greeting", _ARE_YOU_THERE, ()),
    (UNKNOWN, re.compile(r"找(?:个|份)?工作(?!人员)"), ()),  # a job, not 找工作人员
)
_ENGLISH_KEYWORDS = frozenset(
    keyword for keywords in KEYWORDS.values() for keyword in keywords if keyword.isascii()
)
FUZZY_MIN_LENGTH = 6  # English keywords this long also match with one typo (cansel, recomend)
_ENGLISH_WORD = re.compile(r"[a-z][a-z'-]*")
_LETTER = re.compile(r"[a-z\u3400-\u9fff]")


@dataclass(frozen=True)
class Example:
    """One labelled utterance."""

    text: str
    intent: str


@dataclass(frozen=True)
class Classification:
    """The intent chosen for a message, how sure, and every intent's score."""

    intent: str
    confidence: float
    scores: dict[str, float]
    evidence: bool = False  # the chosen intent's keywords occur in the message


def load_examples(source: str | Path = TRAINING_SET) -> list[Example]:
    """The labelled utterances of a JSON-lines file (a path, or one inside this package)."""
    path = Path(source)
    if path.exists():
        text = path.read_text(encoding="utf-8")
    else:
        text = resources.files("bots").joinpath(str(source)).read_text(encoding="utf-8")
    examples = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row["intent"] not in INTENTS:
            raise ValueError(f"{source}:{number}: unknown intent {row['intent']!r}")
        examples.append(Example(text=row["text"], intent=row["intent"]))
    return examples


def normalise(text: str) -> str:
    """Full-width letters and digits folded, lower case, surrounding space stripped."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


def keyword_hits(text: str, words: Iterable[str]) -> set[str]:
    """The intents whose keywords occur in the text (given jieba's words of it), a generic
    intent's dropped where a more specific one's occur (SPECIFIC_OVER)."""
    return set(_evidence(text, words))


def _evidence(text: str, words: Iterable[str]) -> dict[str, set[str]]:
    """The intents with keyword evidence, each with the generic intents it overrules (those of
    SPECIFIC_OVER, and those a phrase of PHRASES is not about)."""
    plain = normalise(text)
    english = set(_ENGLISH_WORD.findall(plain))
    # A word that is itself a keyword is no typo of another one ("charge" is no "charged").
    typed = english - _ENGLISH_KEYWORDS
    squeezed = {_squeezed(word) for word in typed}
    tokens = set(words)
    hits = set()
    for intent, keywords in KEYWORDS.items():
        for keyword in keywords:
            if keyword.isascii():
                found = (
                    keyword in plain
                    if " " in keyword
                    else keyword in english
                    or _SQUEEZED_KEYWORDS[keyword] in squeezed
                    or _typed_with_one_typo(keyword, typed)
                )
            elif len(keyword) == 1:
                # One character ("订", "卡") is evidence only as a word of its own: 订单 is no 订.
                found = keyword in tokens
            else:
                found = keyword in plain
            if found:
                hits.add(intent)
                break
    overrules: dict[str, set[str]] = {}
    for intent, phrase, generic in PHRASES:
        if phrase.search(plain):
            hits.add(intent)
            overrules.setdefault(intent, set()).update(generic)
    for specific, generic in SPECIFIC_OVER.items():
        if specific in hits:
            overrules.setdefault(specific, set()).update(generic)
    overruled = set().union(*overrules.values())
    return {intent: overrules.get(intent, set()) for intent in hits - overruled}


def _squeezed(word: str) -> str:
    """A word with each run of one letter cut to one (helloo, hiii, cancell)."""
    return re.sub(r"(.)\1+", r"\1", word)


# Each English keyword squeezed once, not on every message.
_SQUEEZED_KEYWORDS = {keyword: _squeezed(keyword) for keyword in _ENGLISH_KEYWORDS}


def _typed_with_one_typo(keyword: str, words: set[str]) -> bool:
    """True when one of `words` is `keyword` with one letter changed, added, dropped or two
    neighbours swapped (for keywords of FUZZY_MIN_LENGTH letters or more)."""
    if len(keyword) < FUZZY_MIN_LENGTH:
        return False
    return any(
        abs(len(word) - len(keyword)) <= 1 and _one_edit_apart(word, keyword) for word in words
    )


def _one_edit_apart(a: str, b: str) -> bool:
    if a == b:
        return False
    if len(a) == len(b):
        differ = [i for i in range(len(a)) if a[i] != b[i]]
        return len(differ) == 1 or (
            len(differ) == 2
            and differ[1] == differ[0] + 1
            and a[differ[0]] == b[differ[1]]
            and a[differ[1]] == b[differ[0]]
        )
    shorter, longer = sorted((a, b), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def char_ngrams(text: str) -> list[str]:
    """The character n-grams of a normalised message, word by word, each word padded by spaces
    (so " hi " is told from "hi" inside "which")."""
    grams = []
    for word in text.split():
        padded = f" {word} "
        for size in NGRAM_SIZES:
            grams.extend(padded[i : i + size] for i in range(len(padded) - size + 1))
    return grams


@dataclass(frozen=True)
class _Ngrams:
    """The training set's character n-grams, each with its inverse document frequency."""

    index: dict[str, int]
    idf: np.ndarray

    @classmethod
    def of(cls, texts: Sequence[str]) -> _Ngrams:
        counts = Counter(gram for text in texts for gram in set(char_ngrams(text)))
        grams = sorted(counts)
        idf = [math.log((1 + len(texts)) / (1 + counts[gram])) + 1 for gram in grams]
        return cls({gram: i for i, gram in enumerate(grams)}, np.array(idf, dtype=np.float32))

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Sublinear TF-IDF rows of unit length (n-grams unseen in training count for nothing)."""
        matrix = np.zeros((len(texts), len(self.index)), dtype=np.float32)
        for row, text in enumerate(texts):
            for gram, count in Counter(char_ngrams(text)).items():
                column = self.index.get(gram)
                if column is not None:
                    matrix[row, column] = 1 + math.log(count)
        return normalised(matrix * self.idf)


@dataclass(frozen=True)
class _Model:
    """The fitted regression: n-gram vocabulary, weights (features x intents) and biases."""

    ngrams: _Ngrams
    weights: np.ndarray
    biases: np.ndarray

    def probabilities(self, embeddings: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        features = np.hstack([embeddings, self.ngrams.vectors(texts)])
        return softmax(features @ self.weights + self.biases)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def fit_softmax(
    features: np.ndarray, labels: np.ndarray, classes: int, *, l2: float = L2_PENALTY
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression by full-batch Adam from zero: deterministic, numpy only,
    about a second for the training set."""
    count, dimension = features.shape
    targets = np.eye(classes, dtype=np.float32)[labels]
    weights = np.zeros((dimension, classes), dtype=np.float32)
    biases = np.zeros(classes, dtype=np.float32)
    moments = [np.zeros_like(weights), np.zeros_like(weights)]
    bias_moments = [np.zeros_like(biases), np.zeros_like(biases)]
    beta1, beta2, epsilon = 0.9, 0.999, 1e-8
    for step in range(1, FIT_STEPS + 1):
        error = (softmax(features @ weights + biases) - targets) / count
        for value, gradient, (first, second) in (
            (weights, features.T @ error + l2 * weights, moments),
            (biases, error.sum(axis=0), bias_moments),
        ):
            first *= beta1
            first += (1 - beta1) * gradient
            second *= beta2
            second += (1 - beta2) * gradient * gradient
            corrected = np.sqrt(second / (1 - beta2**step)) + epsilon
            value -= LEARNING_RATE * (first / (1 - beta1**step)) / corrected
    return weights, biases


class IntentClassifier:
    """A regression on sentence embeddings and character n-grams, with keyword evidence and a
    threshold."""

    def __init__(
        self,
        embedder: Embedder,
        examples: Sequence[Example],
        *,
        threshold: float = CONFIDENCE_THRESHOLD,
        fitted_dir: Path | None = None,
    ) -> None:
        self.embedder = embedder
        self.examples = list(examples)
        self.threshold = threshold
        self.fitted_dir = fitted_dir
        self._model: _Model | None = None
        self._lock = threading.Lock()

    @property
    def is_ready(self) -> bool:
        """True once the model is loaded and the regression fitted."""
        return self._model is not None

    def prepare(self) -> None:
        """Load the model and the fitted regression, fitting it first if no file has it
        (blocking: the fit encodes every example, seconds of CPU)."""
        with self._lock:
            if self._model is not None:
                return
            texts = [normalise(e.text) for e in self.examples]
            ngrams = _Ngrams.of(texts)
            stored = self._fitted_path(texts)
            if stored is not None and stored.exists():
                with np.load(stored) as fitted:
                    self._model = _Model(ngrams, fitted["weights"], fitted["biases"])
                return
            features = np.hstack([self.embedder.encode(texts), ngrams.vectors(texts)])
            labels = np.array([INTENTS.index(e.intent) for e in self.examples])
            weights, biases = fit_softmax(features, labels, len(INTENTS))
            self._model = _Model(ngrams, weights, biases)
            if stored is not None:
                _store_fitted(stored, weights, biases)

    def _fitted_path(self, texts: Sequence[str]) -> Path | None:
        """Where the fit of these examples on this model is kept: named by a digest of all
        that decides it, including one encoded probe, so new model weights fit anew."""
        if self.fitted_dir is None:
            return None
        digest = hashlib.sha256()
        settings = (
            FITTED_FORMAT,
            self.embedder.model_name,
            INTENTS,
            NGRAM_SIZES,
            L2_PENALTY,
            FIT_STEPS,
            LEARNING_RATE,
        )
        digest.update(repr(settings).encode())
        for example, text in zip(self.examples, texts, strict=True):
            digest.update(f"{example.intent}\t{text}\n".encode())
        digest.update(np.round(self.embedder.encode(texts[:1]), 5).tobytes())
        return self.fitted_dir / f"intents-{digest.hexdigest()[:32]}.npz"

    def classify(self, text: str, words: Iterable[str] = ()) -> Classification:
        """The intent of one message; `words` are its jieba words, for keyword evidence."""
        plain = normalise(text)
        if not _LETTER.search(plain):
            # Digits, punctuation or emoji alone ask for nothing ("0", "。。。", "?").
            return Classification(intent=UNKNOWN, confidence=0.0, scores={})
        self.prepare()
        probabilities = self._model.probabilities(self.embedder.encode([plain]), [plain])[0]
        return self._decide(probabilities, _evidence(text, words))

    def _decide(self, probabilities: np.ndarray, evidence: dict[str, set[str]]) -> Classification:
        scores = {
            intent: float(probabilities[index]) + (KEYWORD_BONUS if intent in evidence else 0.0)
            for index, intent in enumerate(INTENTS)
        }
        for specific, generics in evidence.items():
            # The model's belief in a generic reading counts for the specific one its words
            # name: 取消预约 reads like booking, and is about cancelling one.
            for generic in generics:
                scores[specific] += float(probabilities[INTENTS.index(generic)])
        best = max(scores, key=scores.__getitem__)
        confidence = scores[best]
        if confidence < self.threshold:
            best = UNKNOWN
        return Classification(
            intent=best, confidence=round(confidence, 4), scores=scores, evidence=best in evidence
        )


def _store_fitted(path: Path, weights: np.ndarray, biases: np.ndarray) -> None:
    """Write the fit whole or not at all (two processes fitting at once both write it)."""
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npz")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(partial, weights=weights, biases=biases)
        os.replace(partial, path)
    except OSError as problem:
        # A read-only data directory costs the next start a fit, nothing more.
        log.warning("the fitted intent classifier was not kept: %s", problem)
        with suppress(OSError):
            partial.unlink(missing_ok=True)


_classifiers: dict[str, IntentClassifier] = {}
_registry_lock = threading.Lock()


def classifier_for(embedder: Embedder, *, fitted_dir: Path | None = None) -> IntentClassifier:
    """This process's classifier on `embedder` and the packaged training set (created once);
    with `fitted_dir`, its fit is kept there and loaded by the next process."""
    with _registry_lock:
        if embedder.model_name not in _classifiers:
            _classifiers[embedder.model_name] = IntentClassifier(
                embedder, load_examples(), fitted_dir=fitted_dir
            )
        return _classifiers[embedder.model_name]


@dataclass(frozen=True)
class Evaluation:
    """Accuracy on a labelled set: per intent (correct, total) and overall, with the misses."""

    per_intent: dict[str, tuple[int, int]]
    correct: int
    total: int
    misses: list[tuple[str, str, str]]  # (text, expected, predicted)

    @property
    def accuracy(self) -> float:
        """The share of utterances classified right."""
        return self.correct / self.total if self.total else 0.0


def evaluate(
    classifier: IntentClassifier, examples: Sequence[Example], cut: callable = lambda t: []
) -> Evaluation:
    """Classify every example; count right answers per intent."""
    per_intent: dict[str, list[int]] = {}
    misses = []
    for example in examples:
        predicted = classifier.classify(example.text, cut(example.text)).intent
        tally = per_intent.setdefault(example.intent, [0, 0])
        tally[1] += 1
        if predicted == example.intent:
            tally[0] += 1
        else:
            misses.append((example.text, example.intent, predicted))
    correct = sum(right for right, _ in per_intent.values())
    return Evaluation(
        per_intent={intent: (right, total) for intent, (right, total) in per_intent.items()},
        correct=correct,
        total=len(examples),
        misses=misses,
    )
