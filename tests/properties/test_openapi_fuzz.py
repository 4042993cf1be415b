"""Bad input for every operation: schemathesis fuzzes the live /openapi.json of a real process.

For each operation in the document (so every endpoint other domains add is covered too) it
sends the documented examples, boundary values and random, mostly malformed, requests, and
requires no 5xx answer and every documented answer to match its declared schema. Each part
of the API is fuzzed with the token of the caller it is for: visitors, gate staff, the bureau.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import httpx
import pytest
from concurrency.test_oversell import ETOUR
from factories import make_reservable_venue, make_slot, make_staff_token, make_visitor_token
from proof.processes import serve_processes, signing_app_for, storm_environment
from stubs.card_issuer import card_issuer  # noqa: F401 (registers the fixture)
from stubs.wechat_api import APPID, SECRET, WeChatAPIStub, wechat_stub  # noqa: F401

from server.config import Settings

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

SCHEMATHESIS = [sys.executable, "-m", "schemathesis.cli"]
EXAMPLES_PER_OPERATION = 10
SEED = 11643  # fixed: CI explores the same cases every run; change it to explore others
RUN_TIMEOUT_SECONDS = 600
WARM_UP_SECONDS = 300
STAFF_PATHS = r"^/api/v1/(admin|gate|supervision)/"
# Live server-sent event streams answer for minutes by design: not request/response operations.
STREAMS = r"/stream$"
# (who calls, which paths): each part fuzzed with its caller's token
CALLERS = [
    ("visitor", {"exclude": STAFF_PATHS}),
    ("venue_staff", {"include": r"^/api/v1/gate/"}),
    ("admin", {"include": r"^/api/v1/(admin|supervision)/", "exclude": STREAMS}),
]


def failure_report(output: str) -> str:
    """The failing operations, then the failures and errors part of schemathesis's output."""
    failing = re.findall(r"^_{3,} (.+?) _{3,}$", output, re.MULTILINE)
    start = min(
        (output.find(marker) for marker in ("= ERRORS =", "= FAILURES =") if marker in output),
        default=0,
    )
    return "failing: " + "; ".join(failing) + "\n" + output[start:][-15_000:]


@pytest.fixture
async def tokens(database: Settings) -> dict[str, str]:
    """One token per kind of caller, with something of theirs to find (a booked slot)."""
    app = signing_app_for(database)
    venue = await make_reservable_venue()
    await make_slot(venue, capacity=50)
    _, visitor = await make_visitor_token(app)
    _, staff = await make_staff_token(app, venue)
    _, admin = await make_staff_token(app, None, role="admin")
    return {"visitor": visitor, "venue_staff": staff, "admin": admin}


async def test_no_operation_answers_5xx_or_breaks_its_schema(
    settings: Settings,
    tmp_path: Path,
    tokens: dict[str, str],
    wechat_stub: WeChatAPIStub,  # noqa: F811 (fixture)
    card_issuer,  # noqa: F811 (fixture)
):
    env = storm_environment(
        settings,
        WECHAT_API_BASE=wechat_stub.url,
        WECHAT_MINIAPP_APPID=APPID,
        WECHAT_MINIAPP_SECRET=SECRET,
        # Outside services answer through their stand-ins: their outage is not under test here.
        CARD_ISSUER_BASE=card_issuer.url,
    )
    # The demo catalogue gives tours, restaurants and dishes to find, beside the test's venue.
    seeding = await asyncio.create_subprocess_exec(
        *ETOUR,
        "seed-demo",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    seeded, _ = await asyncio.wait_for(seeding.communicate(), RUN_TIMEOUT_SECONDS)
    assert seeding.returncode == 0, seeded.decode(errors="replace")[-3000:]
    with serve_processes(env, 1, tmp_path) as servers:
        # The chatbot loads its classifier on the first message (seconds, more on a busy
        # machine), as a deployed process does once: prime it, so no fuzzed request waits on it.
        async with httpx.AsyncClient(timeout=WARM_UP_SECONDS) as warm_up:
            primed = await warm_up.post(
                f"{servers.urls[0]}/api/v1/chat",
                json={"session_id": "fuzz-warm-up", "text": "你好"},
            )
            assert primed.status_code == 200, primed.text
        reports = []
        for caller, paths in CALLERS:
            selection = [f"--{kind}-path-regex={pattern}" for kind, pattern in paths.items()]
            command = [
                *SCHEMATHESIS,
                "run",
                f"{servers.urls[0]}/openapi.json",
                *selection,
                "--checks=not_a_server_error,response_schema_conformance",
                f"--max-examples={EXAMPLES_PER_OPERATION}",
                f"--seed={SEED}",
                "--phases=examples,coverage,fuzzing",
                "--workers=1",
                "--request-timeout=30",
                f"--header=Authorization: Bearer {tokens[caller]}",
                "--output-truncate=true",
                "--warnings=off",
            ]
            run = await asyncio.create_subprocess_exec(
                *command,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                cwd=tmp_path,  # its report directory, if any, goes there
            )
            output, _ = await asyncio.wait_for(run.communicate(), RUN_TIMEOUT_SECONDS)
            text = output.decode(errors="replace")
            (tmp_path / f"schemathesis-{caller}.txt").write_text(text)
            if run.returncode != 0:
                reports.append(f"### as {caller} (exit {run.returncode})\n{failure_report(text)}")
            else:
                assert re.search(r"\d+ generated", text), text[-3000:]
    assert not reports, "\n\n".join(reports) + "\n\nserver log:\n" + servers.output()[-5000:]
