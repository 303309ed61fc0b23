# pulpanalytics: `make run` (the site on SQLite) and `make test` (every test) are all a new user needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The throw-away PostgreSQL database of `make test` (pytest-django creates test_<name> in it).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/pulpanalytics
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help venv run reset-demo test test-setup test-sqlite test-postgres lint check-deploy format proto screenshots bench stress stress-quick stress-tools clean

help:
	@echo "make run            set up and serve the site at http://$(HOST):$(PORT)/ (SQLite, demo data)"
	@echo "make reset-demo     replace the SQLite database with a fresh demo fleet"
	@echo "make test           lint, then the whole suite on SQLite and on PostgreSQL"
	@echo "make test-setup     install Chromium / start PostgreSQL if needed (make test runs it first)"
	@echo "make test-sqlite    the suite on SQLite only"
	@echo "make test-postgres  the suite on PostgreSQL only (TEST_DATABASE_URL)"
	@echo "make bench          ingest, summarize and site benchmarks on PostgreSQL -> docs/performance.md"
	@echo "make stress         tier 2 reliability scenarios (about 50 min, as root) -> docs/reliability.md"
	@echo "make stress-quick   the same scenarios with small sizes (a smoke test of the scripts)"
	@echo "make proto          regenerate pulpanalytics/*_pb2.py(i) from the .proto files"
	@echo "make screenshots    regenerate docs/screenshots/ (headless Chromium, seeded data)"
	@echo "make lint / format  ruff (and bandit: no high-severity finding)"
	@echo "make check-deploy   Django's deploy checks under production settings, warnings fail"

# The virtual environment is rebuilt only when a requirements file changes.
$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Front-end dependencies (Chart.js), pinned in package-lock.json; reinstalled when it changes.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

venv: $(BIN)/.installed node_modules/.installed

# The demo fleet goes only into an empty database, so a second `make run` starts at once.
run: venv
	DEBUG=true $(BIN)/python manage.py migrate --noinput
	DEBUG=true $(BIN)/python manage.py simulate_fleet --if-empty
	DEBUG=true $(BIN)/gunicorn app.asgi --bind $(HOST):$(PORT) --workers 2 --access-logfile -

reset-demo: venv
	rm -f db.sqlite3 db.sqlite3-journal db.sqlite3-wal db.sqlite3-shm
	DEBUG=true $(BIN)/python manage.py migrate --noinput
	DEBUG=true $(BIN)/python manage.py simulate_fleet

test: test-setup lint check-deploy test-sqlite test-postgres

# Chromium for the browser tests and a PostgreSQL server at TEST_DATABASE_URL: installed or
# started when the machine can, else one line saying what to install (scripts/test-setup.sh).
test-setup:
	@TEST_DATABASE_URL='$(TEST_DATABASE_URL)' scripts/test-setup.sh

# Tests marked postgres_only (a real gunicorn on the test database, concurrency) run in the
# PostgreSQL pass only: SQLite's test database lives in the test process's memory.
test-sqlite: venv
	$(BIN)/python -m pytest -m "not postgres_only"

test-postgres: venv
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest --create-db

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit --quiet --recursive app pulpanalytics --exclude pulpanalytics/migrations --severity-level high

# Production settings with dummy secrets; every silenced check is explained in README.
check-deploy: venv
	env -u DEBUG SECRET_KEY=deploy-check-dummy-key-0123456789-abcdefghijklmnopqrstuvwxyz \
		ALLOWED_HOSTS=analytics.example.org $(BIN)/python manage.py check --deploy --fail-level WARNING

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

screenshots: venv
	$(BIN)/python -m pytest tests/browser/test_screenshots.py tests/browser/test_opendata_screenshots.py --screenshots=docs/screenshots

# PostgreSQL on 127.0.0.1:5432 (throw-away databases); about 7 minutes on 2 cores.
bench: venv
	$(BIN)/python -m bench.run

# Tier 2 of the reliability plan: atheris (pip) and, for G4's buffering proxy, Debian's nginx.
$(BIN)/.stress-installed: $(BIN)/.installed requirements-stress.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-stress.txt
	touch $@

stress-tools: venv $(BIN)/.stress-installed
	@test -x /usr/sbin/nginx || { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends nginx-light >/dev/null; } || \
		echo "G4 needs nginx (apt-get install nginx-light) and will say so"

stress: stress-tools
	$(BIN)/python -m bench.reliability.run_all

stress-quick: stress-tools
	$(BIN)/python -m bench.reliability.run_all --quick

proto: venv
	$(BIN)/python -m grpc_tools.protoc -I. --python_out=pulpanalytics --pyi_out=pulpanalytics *.proto

clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache .ruff_cache
