"""The chatbot's commands: `etour eval-chat` (intent accuracy) and `etour chat`."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid

from server.config import Settings


def eval_chat(settings: Settings, args: argparse.Namespace) -> None:
    """Print intent accuracy per intent and overall: on the dev and the held-out test sets, side
    by side, or on one labelled file given with --data."""
    from bots.entities import catalogue_cache
    from bots.intents import DEV_SET, TEST_SETS, IntentClassifier, evaluate, load_examples
    from recommend.embedder import embedder_for

    embedder = embedder_for(settings.embedding_model)
    print(f"loading {embedder.model_name} ...", flush=True)
    classifier = IntentClassifier(
        embedder, load_examples(args.train) if args.train else load_examples()
    )
    classifier.prepare()
    sources = {args.data: args.data} if args.data else {"dev": DEV_SET, **TEST_SETS}
    reports = {
        name: evaluate(classifier, load_examples(source), catalogue_cache.cut)
        for name, source in sources.items()
    }
    if not args.data:
        held_out = ", ".join(f"{name}: bots/{source}" for name, source in TEST_SETS.items())
        print(f"dev: bots/{DEV_SET} (tuned on); held out: {held_out}")
    intents = sorted({intent for report in reports.values() for intent in report.per_intent})
    width = max(len(intent) for intent in [*intents, "overall"])
    print(f"{'intent':<{width}}" + "".join(f"  {name:>17}" for name in reports))
    for intent in intents:
        cells = [report.per_intent.get(intent, (0, 0)) for report in reports.values()]
        print(f"{intent:<{width}}" + "".join(_accuracy_cell(*cell) for cell in cells))
    overall = [(report.correct, report.total) for report in reports.values()]
    print(f"{'overall':<{width}}" + "".join(_accuracy_cell(*cell) for cell in overall))
    if args.show_misses:
        for name, report in reports.items():
            if report.misses:
                print(f"\nmisclassified ({name}):")
                for text, expected, predicted in report.misses:
                    print(f"  {expected} -> {predicted}: {text}")


def _accuracy_cell(right: int, total: int) -> str:
    accuracy = f"{right / total:.1%}" if total else "-"
    return f"  {f'{right}/{total}':>9} {accuracy:>7}"


def chat(settings: Settings, args: argparse.Namespace) -> None:
    """A conversation with the bot in this terminal (as a visitor with --visitor ID)."""
    asyncio.run(_chat(settings, args))


async def _chat(settings: Settings, args: argparse.Namespace) -> None:
    from bots import dialogue
    from bots.intents import classifier_for
    from bots.models import ChatChannel
    from recommend.runtime import Recommender
    from server import cache, db
    from server.accounts import service as accounts
    from server.clock import local_now
    from server.personal_data import FieldCipher

    await db.open_database(settings)
    redis = cache.connect_redis(settings)
    recommender = Recommender(settings.embedding_model)
    try:
        if args.visitor is not None:
            await accounts.get_visitor(visitor_id=args.visitor)
        print("loading the language model ...", flush=True)
        classifier = classifier_for(recommender.embedder, fitted_dir=settings.cache_dir)
        await asyncio.to_thread(classifier.prepare)
        tools = dialogue.Tools(
            redis=redis,
            cipher=FieldCipher(settings.secret()),
            recommender=recommender,
            classifier=classifier,
        )
        caller = dialogue.Caller(
            session_key=f"cli:{uuid.uuid4().hex}",
            channel=ChatChannel.CLI,
            visitor_id=args.visitor,
        )
        print("E游温州 · 输入 quit 结束 (type quit to leave)", flush=True)
        while True:
            try:
                text = await asyncio.to_thread(input, "> ")
            except EOFError:
                break
            if text.strip().lower() in ("quit", "exit", "退出"):
                break
            if not text.strip():
                continue
            answer = await dialogue.respond(
                tools, caller, text[:500], now=local_now(), language_hint=args.lang
            )
            print(f"[{answer.intent}] {answer.reply}", flush=True)
    finally:
        await recommender.stop()
        await redis.aclose()
        await db.close_database()
    sys.stdout.flush()
