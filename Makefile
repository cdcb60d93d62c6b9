# SPDX-License-Identifier: GPL-2.0-only
#
# kvm-viommu: in-kernel fast paths for a guest-visible Intel VT-d IOMMU.
# See README.md.  Entry points:
#
#   make		build kvm.ko, kvm-amd.ko, kvm-intel.ko into build/<kernelrelease>/
#   make check		lint, unit tests, selftests and the regression suite
#   make demo		boot the test host and show the device at work
#   make bench		benchmarks in the test host
#   make regression	the regression suite on stock and on rebuilt modules
#   make lint		checkpatch --strict, sparse and W=1 on the project's code
#   make selftests	build the selftests (run them with make check)
#   make install	install the rebuilt modules for KVER on this machine
#   make vmtest CMD=...	run any command inside the test host
#
# KVER=, KDIR= and KSRC= override the target kernel, its headers and its
# source (a linux-source tarball or an unpacked tree).

KVER ?= $(shell scripts/kver)
ifeq ($(KVER),)
$(error cannot resolve KVER; pass KVER=<kernelrelease>)
endif
KLINE := $(firstword $(subst .0-, ,$(KVER)))
KDIR ?= /usr/src/linux-headers-$(KVER)
KSRC ?= /usr/src/linux-source-$(KLINE).tar.xz
BUILD := build/$(KVER)

export KVER KDIR KSRC BUILD

MODULES := $(addprefix $(BUILD)/,kvm.ko kvm-amd.ko kvm-intel.ko)
KVM_INPUTS := Kbuild $(shell find include virt arch -type f 2>/dev/null) \
	      $(wildcard patches/linux-$(KLINE)/*.patch) scripts/build-kvm
DEPS_STAMP := build/.deps-$(KVER)
VMTEST := tools/testing/vmtest/vmtest

SELFTESTS_OUT := $(BUILD)/selftests
SELFTESTS_MAKE := $(MAKE) -C tools/testing/selftests/kvm \
		  KSRC_TREE=$(CURDIR)/$(BUILD)/src.tree O=$(CURDIR)/$(SELFTESTS_OUT)

.PHONY: all modules deps selftests check lint unit demo bench regression install vmtest clean

all: modules

modules: $(MODULES)

$(DEPS_STAMP): scripts/install-deps
	scripts/install-deps $(KVER)
	@mkdir -p $(@D) && touch $@

deps:
	scripts/install-deps $(KVER)

# The kernel's source comes with the packages: a fresh machine has no
# tarball until they are installed, so installing them is how it is made.
$(KSRC): | $(DEPS_STAMP)

# One kbuild run makes all three; grouped so make runs it once.
$(MODULES) &: $(KVM_INPUTS) $(KSRC) | $(DEPS_STAMP)
	scripts/build-kvm

selftests: modules
	$(SELFTESTS_MAKE)

unit:
	$(MAKE) -C tools/testing/viommu run

lint: | $(DEPS_STAMP)
	scripts/lint

check: | $(DEPS_STAMP)
	scripts/check

demo: selftests
	scripts/demo

bench: selftests
	scripts/bench

regression: selftests
	scripts/regression

vmtest: modules
	$(VMTEST) -m $(BUILD) -- $(CMD)

install: modules
	install -D -m 644 -t /lib/modules/$(KVER)/updates/kvm-viommu $(MODULES)
	depmod $(KVER)

clean:
	rm -rf build
	$(MAKE) -C tools/testing/viommu clean
