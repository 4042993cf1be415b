"""Run every benchmark in bench/ one after the other; each records its own section of RESULTS.md.

Usage: .venv/bin/python bench/run_all.py [--skip NAME ...] [--only NAME ...]

Benchmarks are the scripts bench/*.py other than this one and common.py, run with their
defaults, in name order, each in its own process. One failing does not stop the others (its
section of RESULTS.md stays as it was); the run's own section lists each script with its exit
code and duration, and the command exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime

from common import PROJECT_ROOT, invoked_command, machine_line, update_results_file
from common import commit as current_commit

BENCH_NAME = "run_all"
NOT_BENCHMARKS = {"run_all", "common"}
# Each benchmark bounds its own phases; this only stops one that hangs.
SCRIPT_TIMEOUT_SECONDS = 1800


def benchmarks() -> list[str]:
    """The benchmark scripts' names, in order."""
    return sorted(
        path.stem
        for path in (PROJECT_ROOT / "bench").glob("*.py")
        if path.stem not in NOT_BENCHMARKS and not path.stem.startswith("_")
    )


def outcome(code: int | str) -> str:
    return "recorded" if code == 0 else f"failed ({code}): its section unchanged"


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks, record a summary section, exit 1 if any failed."""
    known = benchmarks()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip", nargs="*", default=[], choices=known, help="leave these out")
    parser.add_argument("--only", nargs="*", default=[], choices=known, help="run just these")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    chosen = [name for name in (args.only or known) if name not in args.skip]
    started_at = datetime.now(UTC)
    rows = []
    for name in chosen:
        print(f"== bench/{name}.py ==", flush=True)
        began = time.monotonic()
        try:
            code = subprocess.run(
                [sys.executable, str(PROJECT_ROOT / "bench" / f"{name}.py")],
                cwd=PROJECT_ROOT,
                timeout=SCRIPT_TIMEOUT_SECONDS,
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
        rows.append((name, code, time.monotonic() - began))
    table = "\n".join(
        f"| `bench/{name}.py` | {outcome(code)} | {seconds:.0f} |" for name, code, seconds in rows
    )
    update_results_file(
        BENCH_NAME,
        f"""## run_all: the last `make bench`

- date (UTC): {started_at:%Y-%m-%d %H:%M}
- commit: {current_commit()}
- machine: {machine_line()}
- command: `{invoked_command()}`

| benchmark | outcome | seconds |
|---|---|---:|
{table}
""",
    )
    print(table)
    return 0 if all(code == 0 for _, code, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
