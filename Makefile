# Shishi: `make demo` serves the demo county; `make test` runs every check CI runs.
# Both set up what they need first: system packages (Debian/Ubuntu), the virtual environment,
# front-end files from npm and the compiled message catalogues.

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHISHI := $(BIN)/shishi
PG_URL ?= postgres://postgres@127.0.0.1:5432/shishi

.PHONY: demo test setup system system-test venv assets compile messages check-messages lint \
        migrations-check deploy-check test-sqlite test-pg test-browser screenshots bench lock clean

demo: system venv assets compile
	$(SHISHI) migrate --noinput
	$(SHISHI) demo
	$(SHISHI) collectstatic --noinput -v0
	@echo
	@echo "Shishi demo county: http://127.0.0.1:8000   (Ctrl-C stops it)"
	$(SHISHI) runserver --noreload 127.0.0.1:8000

test: system-test venv assets compile lint migrations-check check-messages deploy-check \
      test-sqlite test-pg test-browser
	@echo "make test: every check passed"

setup: system-test venv assets compile

system:
	@scripts/system-deps.sh demo

system-test:
	@scripts/system-deps.sh test

venv: $(SHISHI)
$(SHISHI): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[test]"
	touch $(SHISHI)

assets: shishi/static/vendor/htmx.min.js
shishi/static/vendor/htmx.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p shishi/static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

compile: venv
	cd shishi && ../$(SHISHI) compilemessages -v0

# Extract new strings, fill the English catalogue; translate the new zh_Hans entries by hand.
messages: venv
	$(BIN)/python scripts/messages.py update

check-messages: venv
	$(BIN)/python scripts/messages.py check

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

migrations-check: venv
	SHISHI_VAR_DIR=$(CURDIR)/var/test $(SHISHI) makemigrations --check --dry-run

# Production settings as docs/deploy.md writes them: SITE_URL in https:// alone turns on secure
# cookies, the redirect to HTTPS and HSTS.
deploy-check: venv
	SHISHI_VAR_DIR=$(CURDIR)/var/test DEBUG=false SITE_URL=https://shishi.example.org \
	ALLOWED_HOSTS=shishi.example.org \
	SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	$(SHISHI) check --deploy --fail-level WARNING

# The fault drills (marked postgresql) need other processes on the test database: test-pg runs them.
test-sqlite: venv
	SHISHI_VAR_DIR=$(CURDIR)/var/test $(BIN)/pytest -q -m "not browser and not postgresql" -p no:cacheprovider

# scripts/require-postgres.sh exits 0 when PostgreSQL answers, 3 to skip (not strict), 1 to fail.
test-pg: venv
	@scripts/require-postgres.sh "$(PG_URL)"; rc=$$?; \
	if [ $$rc = 0 ]; then \
	  SHISHI_VAR_DIR=$(CURDIR)/var/test DATABASE_URL="$(PG_URL)" $(BIN)/pytest -q -m "not browser" -p no:cacheprovider; \
	elif [ $$rc != 3 ]; then exit $$rc; fi

# The browser tests run on PostgreSQL, or on SQLite when PostgreSQL is absent and not required.
test-browser: venv
	@scripts/require-postgres.sh "$(PG_URL)" >/dev/null; rc=$$?; \
	if [ $$rc = 0 ]; then url="$(PG_URL)"; elif [ $$rc = 3 ]; then url=""; else exit $$rc; fi; \
	DJANGO_ALLOW_ASYNC_UNSAFE=true SHISHI_VAR_DIR=$(CURDIR)/var/test DATABASE_URL="$$url" $(BIN)/pytest -q -m browser -p no:cacheprovider

# Regenerates docs/screenshots/*.png from the browser tests' pages.
screenshots: venv
	DJANGO_ALLOW_ASYNC_UNSAFE=true SHISHI_SCREENSHOTS=docs/screenshots SHISHI_VAR_DIR=$(CURDIR)/var/test DATABASE_URL="$(PG_URL)" \
	$(BIN)/pytest -q -m browser -p no:cacheprovider -k screenshot

# Every page and endpoint under wrk against gunicorn on PostgreSQL, then the bulk paths (imports,
# exports, generate, verify-audit), each beside its floor: `make bench` (one county, minutes) or
# `make bench SCALE=province` (100 counties, generated once; about 15 minutes).
SCALE ?= county
bench: system-test venv assets compile
	@command -v wrk >/dev/null || { sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get install -y -qq wrk || { $$sudo apt-get update -qq && $$sudo apt-get install -y -qq wrk; }; }
	@scripts/require-postgres.sh "$(PG_URL)"
	$(BIN)/python bench/run.py --scale $(SCALE)
	$(BIN)/python bench/bulk.py --scale $(SCALE)

lock: venv
	$(BIN)/pip freeze --exclude-editable | sort -f > requirements.lock.new
	( echo "# Exact versions of every Python package Shishi installs (constraints for pip -c)."; \
	  echo "# Regenerate with: make lock"; cat requirements.lock.new ) > requirements.lock
	rm requirements.lock.new

clean:
	rm -rf $(VENV) node_modules shishi/static/vendor var/static
