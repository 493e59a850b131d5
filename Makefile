# InfoPlane: the two commands of the quick start, and a few more.
#
#   make demo    install what is missing, build (release), run the demo
#   make test    install what is missing, run the Swift and Python tests
#   make bench   release-mode benchmarks
#   make fuzz    every reader under libFuzzer and AddressSanitizer (FUZZ_SECONDS=60 each)
#   make sanitize   the Swift tests under AddressSanitizer, then under ThreadSanitizer

SWIFT ?= swift

.PHONY: setup demo test bench fuzz sanitize

setup:
	@scripts/setup.sh

demo: setup
	$(SWIFT) build -c release --product infoplane-compute
	$(SWIFT) build -c release --product infoplane
	.build/release/infoplane demo

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	python3 -m pytest -q Tests/python

bench: setup
	$(SWIFT) build -c release
	OPENBLAS_NUM_THREADS=1 .build/release/infoplane-bench

fuzz:
	scripts/fuzz.sh

sanitize: setup
	scripts/sanitize.sh address
	scripts/sanitize.sh thread
