# dmr -- one Makefile for the binary, the bundled jobs, tests and benchmarks.
#
#   make               build bin/dmr and lib/dmr/*.so
#   make deps          install missing Debian packages (as root)
#   make demo          build, start a local cluster, run wordcount, stop it
#   make test          unit tests (Criterion) then process-level tests
#   make testjobs      build the test jobs (tests/jobs/*.c) only
#   make SANITIZER=address test   the same under ASan+UBSan (build/san-address)
#   make valgrind      unit tests under valgrind's leak checker
#   make bench         benchmarks (bench/)
#   make format-check  clang-format against .clang-format

CC       ?= cc
SANITIZER ?=
OPT      ?= -O2 -g

ifeq ($(SANITIZER),)
OUT      := .
OBJ      := build/obj
else
OUT      := build/san-$(SANITIZER)
OBJ      := $(OUT)/obj
SANFLAGS := -fsanitize=$(SANITIZER),undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT      := -O1 -g
endif

BIN      := $(OUT)/bin
LIBDIR   := $(OUT)/lib/dmr
TESTDIR  := $(if $(SANITIZER),$(OUT)/test,build/test)

PKGS     := libzmq msgpack zlib libdeflate
DEB_PKGS := libzmq3-dev libmsgpack-dev zlib1g-dev libdeflate-dev libcriterion-dev pkg-config
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS   += -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(SANFLAGS) -I.
DEPFLAGS  = -MMD -MP -MF $(OBJ)/$(subst /,_,$@).d
LDFLAGS  += $(SANFLAGS)

# pkg-config may be missing on a fresh machine; fall back to plain -l flags.
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lzmq -lmsgpackc -lz -ldeflate)
LDLIBS   += $(PKG_LIBS) -ldl -lm

CHECK_SRC := $(wildcard check/*.c)
CORE_SRC := $(wildcard common/*.c shuffle/*.c storage/*.c master/*.c worker/*.c check/*.c) \
            $(filter-out cli/main.c,$(wildcard cli/*.c))
CORE_OBJ := $(CORE_SRC:%.c=$(OBJ)/%.o)
MAIN_OBJ := $(OBJ)/cli/main.o
JOB_SRC  := $(wildcard jobs/*.c)
JOBS     := $(JOB_SRC:jobs/%.c=$(LIBDIR)/%.so)
TESTJOB_SRC := $(wildcard tests/jobs/*.c)
TESTJOBS := $(TESTJOB_SRC:tests/jobs/%.c=$(TESTDIR)/jobs/%.so)
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(OBJ)/%.o)
TESTTOOL_SRC := $(wildcard tests/tools/*.c)
TESTTOOLS := $(TESTTOOL_SRC:tests/tools/%.c=$(TESTDIR)/tools/%)
TOOL_SRC := $(wildcard bench/*.c)
TOOLS    := $(TOOL_SRC:bench/%.c=$(BIN)/dmr-%)

.PHONY: all deps check-deps demo demo-kill test test-faults testjobs unit integration valgrind bench format format-check clean
.DELETE_ON_ERROR:

all: check-deps $(BIN)/dmr $(JOBS) $(TOOLS)

# --- dependencies -----------------------------------------------------------
check-deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "dmr: missing Debian packages:$$missing"; \
	  echo "  install them with: sudo apt-get install -y$$missing   (or: sudo make deps)"; \
	  exit 1; fi

deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "dmr: all packages present"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "dmr: missing:$$missing -- run as root, or: sudo apt-get install -y$$missing"; exit 1; fi; \
	echo "dmr: installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y -q$$missing || { apt-get update -q && apt-get install -y -q$$missing; }

# --- build ------------------------------------------------------------------
$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BIN)/dmr: $(MAIN_OBJ) $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LIBDIR)/topwords.so: jobs/wordcount.c
$(LIBDIR)/%.so: jobs/%.c jobs/dmr_job.h
	@mkdir -p $(dir $@)
	@mkdir -p $(OBJ)
	$(CC) $(CFLAGS) $(DEPFLAGS) -fPIC -shared -o $@ $< $(SANFLAGS)

# The analysis jobs carry dmr's check/ layer inside the object (hidden
# symbols), so they need nothing from the binary that loads them.
$(LIBDIR)/lincheck.so: jobs/lincheck.c jobs/dmr_job.h $(CHECK_SRC) common/alloc.c common/error.c common/buf.c
	@mkdir -p $(dir $@)
	@mkdir -p $(OBJ)
	$(CC) $(CFLAGS) $(DEPFLAGS) -fPIC -shared -fvisibility=hidden -o $@ jobs/lincheck.c $(CHECK_SRC) common/alloc.c common/error.c common/buf.c $(SANFLAGS)

$(LIBDIR)/txncheck.so: jobs/txncheck.c jobs/dmr_job.h $(CHECK_SRC) common/alloc.c common/error.c common/buf.c
	@mkdir -p $(dir $@)
	@mkdir -p $(OBJ)
	$(CC) $(CFLAGS) $(DEPFLAGS) -fPIC -shared -fvisibility=hidden -o $@ jobs/txncheck.c $(CHECK_SRC) common/alloc.c common/error.c common/buf.c $(SANFLAGS)

$(TESTDIR)/jobs/%.so: tests/jobs/%.c jobs/dmr_job.h
	@mkdir -p $(dir $@)
	@mkdir -p $(OBJ)
	$(CC) $(CFLAGS) $(DEPFLAGS) -fPIC -shared -o $@ $< $(SANFLAGS)

$(BIN)/dmr-%: $(OBJ)/bench/%.o $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(TESTDIR)/tools/%: $(OBJ)/tests/tools/%.o $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(TESTDIR)/unit: $(UNIT_OBJ) $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

# --- tests ------------------------------------------------------------------
export LSAN_OPTIONS = suppressions=$(abspath tests/lsan.supp)
export UBSAN_OPTIONS = print_stacktrace=1
IT_ENV = DMR_BIN=$(BIN) DMR_TESTJOBS=$(abspath $(TESTDIR)/jobs) DMR_TESTTOOLS=$(abspath $(TESTDIR)/tools)

testjobs: $(TESTJOBS)

test: all $(TESTDIR)/unit testjobs $(TESTTOOLS)
	$(TESTDIR)/unit --jobs 2
	$(IT_ENV) tests/integration/run

unit: check-deps $(TESTDIR)/unit testjobs
	$(TESTDIR)/unit --jobs 2

integration: all testjobs $(TESTTOOLS)
	$(IT_ENV) tests/integration/run $(T)

# The fault tests alone (make test runs them too).
test-faults: all testjobs $(TESTTOOLS)
	$(IT_ENV) tests/integration/run $$(cd tests/integration && ls t_fault_*.sh)

valgrind: check-deps $(TESTDIR)/unit
	valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
	  --error-exitcode=1 --trace-children=yes -q $(TESTDIR)/unit --jobs 1

# --- demo and benchmarks ------------------------------------------------------
demo: deps
	@$(MAKE) --no-print-directory all
	@sh examples/demo.sh

demo-kill: deps
	@$(MAKE) --no-print-directory all
	@sh examples/demo.sh kill

bench: all
	@sh bench/run.sh

# --- housekeeping ---------------------------------------------------------------
FORMAT_SRC = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_SRC)
format-check:
	clang-format --dry-run --Werror $(FORMAT_SRC)

clean:
	rm -rf build bin lib

-include $(shell find build -name '*.d' 2>/dev/null)
