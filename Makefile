# Two commands: `make serve` and `make test`. Each builds its own virtual
# environment from nothing, so a fresh clone needs only python3.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: serve test install bench example clean

YASGUI := src/bepgraph/http/static/yasgui
GRAPHIQL := src/bepgraph/http/static/graphiql

$(STAMP): pyproject.toml web/package.json web/package-lock.json web/graphiql/package.json web/graphiql/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	# YASGUI for /sparql: installed from npm, its built files copied where the app serves them
	cd web && npm ci --no-audit --no-fund --ignore-scripts
	mkdir -p $(YASGUI)
	cp web/node_modules/@zazuko/yasgui/build/yasgui.min.js web/node_modules/@zazuko/yasgui/build/yasgui.min.css $(YASGUI)/
	# GraphiQL for /graphql: the same, so no CDN is reached at run time
	cd web/graphiql && npm ci --no-audit --no-fund --ignore-scripts
	mkdir -p $(GRAPHIQL)
	cp web/graphiql/node_modules/react/umd/react.production.min.js web/graphiql/node_modules/react-dom/umd/react-dom.production.min.js web/graphiql/node_modules/graphiql/graphiql.min.js web/graphiql/node_modules/graphiql/graphiql.min.css $(GRAPHIQL)/
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/bepgraph serve

test: $(STAMP)
	$(BIN)/python -m pytest

example: $(STAMP)
	$(BIN)/python -m bepgraph.examples.generate --out examples/jnl-2002-2005

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache web/node_modules $(YASGUI) web/graphiql/node_modules $(GRAPHIQL)
