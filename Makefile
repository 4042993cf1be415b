.PHONY: run test lint bench

run:  ## set up and serve the demo on the embedded defaults at http://127.0.0.1:8000
	scripts/run.sh

test:  ## set up and pass the whole test suite
	scripts/test.sh

bench:  ## run the benchmarks and record them in bench/RESULTS.md
	scripts/setup.sh
	.venv/bin/python bench/run_all.py

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
