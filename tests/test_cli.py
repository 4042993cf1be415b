"""The `etour` script as a user runs it: real processes, a real server, real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import BACKEND, TEST_DATABASE_URL, TEST_REDIS_URL, TEST_SECRET

ETOUR = [sys.executable, "-m", "server.cli"]


@pytest.fixture
def cli_env(settings, tmp_path: Path) -> dict[str, str]:
    """The environment of an `etour` process on this test's (empty, migrated) database."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ETOUR_")}
    env.update(ETOUR_DATA_DIR=str(tmp_path), ETOUR_SECRET_KEY=TEST_SECRET, ETOUR_LOG_LEVEL="INFO")
    env.pop("REDIS_URL", None)
    if BACKEND == "services":
        env.update(DATABASE_URL=TEST_DATABASE_URL, REDIS_URL=TEST_REDIS_URL)
    else:
        env["DATABASE_URL"] = f"sqlite://{tmp_path / 'etour.sqlite3'}"
    return env


def etour(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ETOUR, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_init_seed_create_user_and_serve_the_demo_in_english(cli_env):
    assert etour(cli_env, "init-db").returncode == 0
    first = etour(cli_env, "seed-demo")
    assert first.returncode == 0, first.stderr
    second = etour(cli_env, "seed-demo")
    assert "0 venues added or changed, 0 new time slots" in second.stdout
    made = etour(cli_env, "create-user", "--username", "gate1", "--password", "correct-horse-9",
                 "--role", "venue_staff", "--venue", "wenzhou-museum")  # fmt: skip
    assert made.returncode == 0, made.stderr

    port = _free_port()
    server = subprocess.Popen(
        [*ETOUR, "serve", "--port", str(port)],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        venues = httpx.get(f"{base}/api/v1/venues", params={"lang": "en"}).json()
        assert {"Wenzhou Museum", "Jiangxin Islet", "Yandang Mountain"} <= {
            v["name"] for v in venues
        }
        login = httpx.post(
            f"{base}/api/v1/admin/login", json={"username": "gate1", "password": "correct-horse-9"}
        )
        assert login.status_code == 200 and login.json()["role"] == "venue_staff"
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "correct-horse-9" not in output  # no secrets in the logs
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("args", "env_override", "message"),
    [
        (["init-db"], {"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        (["serve", "--workers", "2"], {"REDIS_URL": ""}, "set REDIS_URL for more than one worker"),
        (
            ["create-user", "--username", "m", "--password", "long-enough-pw", "--role", "admin",
             "--venue", "wenzhou-museum"],
            {},
            "not tied to a venue",
        ),
        (
            ["create-user", "--username", "m", "--password", "short", "--role", "admin"],
            {},
            "at least 10 characters",
        ),
    ],
)  # fmt: skip
def test_cli_refuses_bad_input_with_a_clear_message(cli_env, args, env_override, message):
    env = {**cli_env, **env_override}
    if env.get("REDIS_URL") == "":
        env.pop("REDIS_URL")
    answer = etour(env, *args)
    assert answer.returncode != 0
    assert message in answer.stderr
    assert "Traceback" not in answer.stderr
