"""The `etour` console script: init-db, seed-demo, create-user, serve, reindex, eval-recommend.

Commands import what they need inside themselves (torch above all): `etour --help` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from functools import partial

from tqdm import tqdm

from server import db
from server.accounts.models import Role
from server.config import ConfigError, Settings, get_settings
from server.errors import AppError

log = logging.getLogger("etour.cli")


async def _with_database(settings: Settings, work: Callable[[], Awaitable[None]]) -> None:
    await db.open_database(settings)
    try:
        await work()
    finally:
        await db.close_database()


def init_db(settings: Settings, _: argparse.Namespace) -> None:
    """Create or migrate the schema in DATABASE_URL."""
    bar = tqdm(desc="migrations", unit="step", leave=True)

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            bar.update(1)
            bar.set_postfix_str(name)

    async def work() -> None:
        await db.migrate_database(settings, progress=progress)
        await db.close_database()

    asyncio.run(work())
    bar.close()
    print(f"database ready: {_safe_url(settings.effective_database_url)}")


def seed_demo(settings: Settings, _: argparse.Namespace) -> None:
    """Load the Wenzhou demo catalogue and the coming days' slots."""
    from server.clock import local_now
    from server.venues.demo import load_demo_catalogue
    from server.venues.demo_data import DEMO_VENUES

    async def work() -> None:
        with tqdm(total=len(DEMO_VENUES), desc="demo venues", unit="venue") as bar:
            counts = await load_demo_catalogue(
                today=local_now().date(),
                days=settings.slot_days_ahead,
                progress=lambda code: (bar.set_postfix_str(code), bar.update(1)),
            )
        print(
            f"demo data: {counts['venues_changed']} venues added or changed, "
            f"{counts['slots_created']} new time slots"
        )
        await _seed_food_and_tours()
        await _seed_card()
        await _seed_supervision(settings)

    asyncio.run(_with_database(settings, work))


async def _seed_card() -> None:
    """The library's demo books and the venues' social-security card benefits."""
    from server.card.demo import load_demo_card_data

    counts = await load_demo_card_data()
    print(
        f"demo card data: {counts['books_changed']} books, {counts['copies_added']} copies, "
        f"{counts['benefits_changed']} card benefits added or changed"
    )


def card_issuer_standin(settings: Settings, args: argparse.Namespace) -> None:
    """Run the stand-in social-security card issuer with its demo cards (CARD_ISSUER_BASE)."""
    import time

    from server.card.standin import DEMO_CARDS, CardIssuerStandIn

    standin = CardIssuerStandIn(DEMO_CARDS)
    standin.start(host=args.host, port=args.port)
    print(f"card issuer stand-in on {standin.url} (set CARD_ISSUER_BASE={standin.url})")
    for card in DEMO_CARDS:
        print(f"  demo card {card.card_number} region {card.region} {card.status}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        standin.stop()


async def _seed_food_and_tours() -> None:
    """The demo food map and guided tours (after the venues, which the tours refer to)."""
    from server.food.demo import load_demo_food
    from server.food.demo_data import DEMO_DISHES, DEMO_RESTAURANTS
    from server.tours.demo import load_demo_tours
    from server.tours.demo_data import DEMO_TOURS

    food_total = len(DEMO_DISHES) + len(DEMO_RESTAURANTS)
    with tqdm(total=food_total, desc="demo food", unit="place") as bar:
        food = await load_demo_food(
            progress=lambda code: (bar.set_postfix_str(code), bar.update(1))
        )
    with tqdm(total=len(DEMO_TOURS), desc="demo tours", unit="tour") as bar:
        tours = await load_demo_tours(
            progress=lambda code: (bar.set_postfix_str(code), bar.update(1))
        )
    print(
        f"demo food and tours: {food['dishes_changed']} dishes, "
        f"{food['restaurants_changed']} restaurants, "
        f"{tours['tours_changed']} tours added or changed"
    )


async def _seed_supervision(settings: Settings) -> None:
    """The demo market entities, inspectors and credit facts (after the venues they refer to)."""
    from server.clock import local_now
    from server.personal_data import FieldCipher
    from server.supervision.demo import load_demo_supervision

    counts = await load_demo_supervision(cipher=FieldCipher(settings.secret()), now=local_now())
    print(
        f"demo supervision: {counts['entities_changed']} market entities added or changed, "
        f"{counts['inspectors_added']} inspectors, {counts['credit_records_added']} credit records"
    )


def create_user(settings: Settings, args: argparse.Namespace) -> None:
    """Create a staff account."""
    from server.accounts import service as accounts

    async def work() -> None:
        staff = await accounts.create_staff_user(
            username=args.username, password=args.password, role=args.role, venue_code=args.venue
        )
        print(f"created {staff.role.value} {staff.username}")

    asyncio.run(_with_database(settings, work))


def serve(settings: Settings, args: argparse.Namespace) -> None:
    """Run the HTTP service."""
    from sanic import Sanic
    from sanic.worker.loader import AppLoader

    from server.app import create_app

    if args.workers > 1 and settings.uses_embedded_redis:
        # The embedded Redis lives inside one process: workers would not see each other's state.
        raise ConfigError(
            "set REDIS_URL for more than one worker (the embedded Redis is per process)"
        )
    loader = AppLoader(factory=partial(create_app, settings))
    app = loader.load()
    app.prepare(
        host=args.host,
        port=args.port,
        workers=args.workers,
        single_process=args.workers == 1,
        # A crowd opens hundreds of connections at once: Sanic's default queue of 100 pending
        # connections would reset the rest.
        backlog=1024,
        access_log=False,
        motd=False,
    )
    if args.workers == 1:
        Sanic.serve_single(primary=app)
    else:
        Sanic.serve(primary=app, app_loader=loader)


def reindex(settings: Settings, args: argparse.Namespace) -> None:
    """Encode the recommendation vectors of new and changed items (all with --full)."""
    from recommend.embedder import embedder_for
    from recommend.vectors import reindex as reindex_items

    embedder = embedder_for(settings.embedding_model)
    with tqdm(desc="encoding items", unit="item", total=0) as bar:

        def start(total: int) -> None:
            bar.reset(total=total)
            if total and not embedder.is_ready:
                bar.set_postfix_str(f"loading {embedder.model_name}")

        def advance(count: int) -> None:
            bar.set_postfix_str("")
            bar.update(count)

        async def work() -> None:
            nonlocal report
            report = await reindex_items(
                embedder=embedder,
                full=args.full,
                batch_size=args.batch_size,
                on_total=start,
                on_progress=advance,
            )

        report = None
        asyncio.run(_with_database(settings, work))
    print(
        f"reindex ({report.model}): {report.items} items and interests, {report.encoded} "
        f"encoded, {report.unchanged} unchanged, {report.removed} removed; "
        f"{report.items_per_second:.1f} items/s over {report.encode_seconds:.2f} s of encoding, "
        f"{report.seconds:.2f} s in all ({report.encode_cpu_seconds:.2f} s of CPU encoding)"
    )


def eval_recommend(settings: Settings, args: argparse.Namespace) -> None:
    """Offline evaluation on synthetic visitor logs: hit-rate@10, NDCG@10 vs popularity."""
    from recommend.embedder import embedder_for
    from recommend.evaluation import evaluate, report_table

    embedder = embedder_for(settings.embedding_model)
    print(f"loading {embedder.model_name} ...", flush=True)
    embedder.load()
    print(
        f"generating {args.visitors} visitors over about {args.items} items (seed {args.seed})"
        " and ranking ...",
        flush=True,
    )
    report = evaluate(
        encode=embedder.encode,
        visitors=args.visitors,
        items=args.items,
        seed=args.seed,
        model=embedder.model_name,
    )
    print(report_table(report))


def eval_chat(settings: Settings, args: argparse.Namespace) -> None:
    """Chatbot intent accuracy per intent and overall on the dev set."""
    from bots.cli import eval_chat as run

    run(settings, args)


def chat(settings: Settings, args: argparse.Namespace) -> None:
    """Chat with the bot in the terminal (as a logged-in visitor with --visitor ID)."""
    from bots.cli import chat as run

    run(settings, args)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _safe_url(url: str) -> str:
    """A database URL without its password, for printing."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        rest = f"{credentials.split(':')[0]}:***@{host}"
    return f"{scheme}{sep}{rest}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="etour", description="E-Tour Wenzhou service")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("init-db", help=init_db.__doc__).set_defaults(run=init_db)
    commands.add_parser("seed-demo", help=seed_demo.__doc__).set_defaults(run=seed_demo)
    user = commands.add_parser("create-user", help=create_user.__doc__)
    user.add_argument("--username", required=True)
    user.add_argument("--password", required=True)
    user.add_argument("--role", required=True, choices=[role.value for role in Role])
    user.add_argument("--venue", help="venue code, for venue_manager and venue_staff")
    user.set_defaults(run=create_user)
    server = commands.add_parser("serve", help=serve.__doc__)
    server.add_argument("--host", default="127.0.0.1")
    server.add_argument("--port", type=int, default=8000)
    server.add_argument("--workers", type=int, default=1)
    server.set_defaults(run=serve)
    index = commands.add_parser("reindex", help=reindex.__doc__)
    index.add_argument("--full", action="store_true", help="encode every item again")
    index.add_argument("--batch-size", type=_positive, default=512, help="items per batch")
    index.set_defaults(run=reindex)
    issuer = commands.add_parser("card-issuer-standin", help=card_issuer_standin.__doc__)
    issuer.add_argument("--host", default="127.0.0.1")
    issuer.add_argument("--port", type=int, default=8700)
    issuer.set_defaults(run=card_issuer_standin)
    evaluation = commands.add_parser("eval-recommend", help=eval_recommend.__doc__)
    evaluation.add_argument("--visitors", type=_positive, default=500)
    evaluation.add_argument("--items", type=_positive, default=400, help="catalogue size, about")
    evaluation.add_argument("--seed", type=int, default=42)
    evaluation.set_defaults(run=eval_recommend)
    chat_evaluation = commands.add_parser("eval-chat", help=eval_chat.__doc__)
    chat_evaluation.add_argument("--data", help="a JSON-lines file of labelled utterances")
    chat_evaluation.add_argument("--train", help="examples to classify against (default: bots')")
    chat_evaluation.add_argument("--show-misses", action="store_true")
    chat_evaluation.set_defaults(run=eval_chat)
    conversation = commands.add_parser("chat", help=chat.__doc__)
    conversation.add_argument("--visitor", type=int, help="act as this visitor id (to book)")
    conversation.add_argument("--lang", choices=["zh-CN", "en"], help="language of bare numbers")
    conversation.set_defaults(run=chat)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `etour` script; configuration problems exit with a clear message."""
    args = _parser().parse_args(argv)
    try:
        settings = get_settings()
        from server.observability import configure_logging

        configure_logging(settings.log_level)
        args.run(settings, args)
    except ConfigError as problem:
        print(f"etour: {problem}", file=sys.stderr)
        return 2
    except AppError as refusal:
        from i18n import gettext

        print(f"etour: {gettext(f'error.{refusal.code}', 'en', **refusal.params)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
