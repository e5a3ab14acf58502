# ringtest: two commands on a fresh Debian machine (as root).
#   make demo   set everything up and run the main job on the lab PBX
#   make test   set everything up and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint bench install system-deps lab lab-down images clean

demo: install system-deps lab
	$(BIN)/ringtest demo --out demo-out

test: install system-deps lab images
	RINGTEST_TEST_PG_URL="$$(scripts/postgres-up)" \
		RINGTEST_TEST_MARIADB_URL="$$(scripts/mariadb-up)" $(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install system-deps lab
	$(BIN)/python -m bench

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,postgres,mariadb,bench]'
	touch $(INSTALLED)

system-deps:
	scripts/system-deps

# The production containers (docker/compose.yaml), built with podman from a local
# Debian 12 image made once by debootstrap (no registry needed); see README "Containers".
images: system-deps
	scripts/images

lab: install system-deps
	$(BIN)/ringtest lab up

lab-down: install
	$(BIN)/ringtest lab down

clean:
	rm -rf $(VENV) demo-out .pytest_cache .ruff_cache
