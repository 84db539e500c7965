# fusewire: one resilience engine, four doors. The same verbs work here and in
# every sub-folder that has a Makefile; the root runs them across all parts.
#
#   make demo    the Express service with a live breaker dashboard (Ctrl-C stops it)
#   make test    every test of every part; installs what it needs
#   make dist    everything a release publishes, into dist/ (release/dist.sh)
#   make dist-test  checks and runs every artifact in dist/ (release/dist-test.sh)
#
# Parts are taken in dependency order and only when their folder exists.
PARTS := $(foreach p,core tower store ffi-c py node tests demo fuzz,$(if $(wildcard $(p)/Makefile),$(p)))

.PHONY: help demo test lint fmt bench fuzz dist dist-test dist-quick $(PARTS)
help: ## list the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'
	@echo "parts: $(PARTS)"

demo: ## run the main job: an Express app on fusewire with a live dashboard
	@if [ -f demo/Makefile ]; then $(MAKE) -C demo demo; else $(MAKE) -C core demo; fi

test: ## every test of every part, in dependency order, then every linter
	@scripts/check-versions.sh
	@set -e; for p in $(PARTS); do echo "==> $$p: make test"; $(MAKE) -C $$p test; done
	@$(MAKE) --no-print-directory dist-quick
	@$(MAKE) --no-print-directory lint
	@echo "==> all parts passed: $(PARTS)"

lint: ## clippy -D warnings, rustfmt --check and each language's linters
	@set -e; for p in $(PARTS); do echo "==> $$p: make lint"; $(MAKE) -C $$p lint; done

fmt: ## format every part
	@set -e; for p in $(PARTS); do $(MAKE) -C $$p fmt; done

bench: ## run the benchmarks of every part (results go to BENCHMARKS.md by hand)
	@set -e; for p in $(PARTS); do $(MAKE) -C $$p bench; done

fuzz: ## run every fuzz target for FUZZ_SECONDS each (default 60)
	$(MAKE) -C fuzz fuzz

dist: ## build every release artifact into dist/: npm (4 native + WebAssembly), wheels + sdist, the C bundle
	release/dist.sh

dist-test: ## check every artifact in dist/ (built first if absent) and run each where this machine can (qemu for arm64)
	@[ -f dist/SHA256SUMS ] || release/dist.sh
	release/dist-test.sh

dist-quick: ## make test's share: the npm x64 + WebAssembly packages built, installed offline and run; metadata checks
	release/quick.sh
