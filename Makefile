# Two commands: `make serve` and `make test`. Each builds its own virtual
# environment from nothing, so a fresh clone needs only python3, make and npm
# (npm for the pages' scripts; the wheel ships them built, see README "Quick start").
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: serve test install bench example clean tools

YASGUI := src/bepgraph/http/static/yasgui
GRAPHIQL := src/bepgraph/http/static/graphiql
VIZ_VENDOR := web/viz/vendor

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
	# Cytoscape.js, its dagre layout and SVG export for /viz: from npm (web/package.json), served from web/viz/vendor/
	mkdir -p $(VIZ_VENDOR)
	cp web/node_modules/cytoscape/dist/cytoscape.min.js web/node_modules/cytoscape-svg/cytoscape-svg.js $(VIZ_VENDOR)/
	cp web/node_modules/cytoscape-dagre/dist/cytoscape-dagre.min.js $(VIZ_VENDOR)/cytoscape-dagre.js
	# d3-sankey (and the d3 modules it needs) for the money view's Sankey
	cp web/node_modules/d3-array/dist/d3-array.min.js web/node_modules/d3-path/dist/d3-path.min.js web/node_modules/d3-shape/dist/d3-shape.min.js web/node_modules/d3-sankey/dist/d3-sankey.min.js $(VIZ_VENDOR)/
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/bepgraph serve

test: $(STAMP) tools
	$(BIN)/python -m pytest

# programs the /viz page, board-pack and Virtuoso tests drive: .ci/run installs them from Debian
tools:
	@missing=""; for p in chromium dot pdftoppm virtuoso-t isql-vt; do command -v $$p >/dev/null || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make: missing$$missing: the /viz, board-pack and Virtuoso tests need them;" >&2; \
	  echo "      install with: apt-get install chromium graphviz poppler-utils virtuoso-opensource (as .ci/run does)" >&2; exit 1; fi

example: $(STAMP)
	$(BIN)/python -m bepgraph.examples.generate --out examples/jnl-2002-2005

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info .pytest_cache web/node_modules $(YASGUI) web/graphiql/node_modules $(GRAPHIQL) $(VIZ_VENDOR)
