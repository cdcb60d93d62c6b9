# SPDX-License-Identifier: GPL-2.0-only
#
# Read by the kernel's own tools/testing/selftests/kvm/Makefile (as a second
# -f, after it), see ./Makefile.  Everything the kernel's Makefile defines is
# visible here: CFLAGS (with the kernel's include paths, relative to its
# directory, and KHDR_INCLUDES), LDFLAGS, LDLIBS and LIBKVM_OBJS.
#
# Inputs: VIOMMU_SRCDIR (this repo's x86/), VIOMMU_LIBDIR and VIOMMU_INCDIR
# (lib/ and include/ next to it: helpers shared by the programs),
# VIOMMU_UAPI (this repo's include/uapi), VIOMMU_OUTPUT (where the programs
# go; the helpers' objects go to its lib/), VIOMMU_HDR_STAMP (touched when
# the exported uapi headers change).

# The kernel's rules track no header dependencies; at least rebuild the
# library when the uapi headers it was compiled against change.  (Its rules
# compile $<, so the extra prerequisite is safe; the tests' link rules use $^,
# so they get none.)
$(LIBKVM_OBJS): $(VIOMMU_HDR_STAMP)

VIOMMU_SRCS  := $(wildcard $(VIOMMU_SRCDIR)/*.c)
VIOMMU_HDRS  := $(wildcard $(VIOMMU_SRCDIR)/*.h $(VIOMMU_INCDIR)/*.h) \
		$(shell find $(VIOMMU_UAPI) -name '*.h')
VIOMMU_PROGS := $(patsubst $(VIOMMU_SRCDIR)/%.c,$(VIOMMU_OUTPUT)/%,$(VIOMMU_SRCS))
VIOMMU_LIB_OBJS := $(patsubst $(VIOMMU_LIBDIR)/%.c,$(VIOMMU_OUTPUT)/lib/%.o, \
		   $(wildcard $(VIOMMU_LIBDIR)/*.c))
VIOMMU_CFLAGS = -I$(VIOMMU_UAPI) -I$(VIOMMU_INCDIR) $(CFLAGS) -Werror $(CPPFLAGS)

x := $(shell mkdir -p $(VIOMMU_OUTPUT)/lib)

.PHONY: viommu
viommu: $(VIOMMU_PROGS)

# Same command as lib.mk's "$(OUTPUT)/%: %.c" rule for the kernel's tests,
# plus -Werror, with this repository's uapi headers and include/ ahead of
# everything; every program links the shared helpers too.
$(VIOMMU_LIB_OBJS): $(VIOMMU_OUTPUT)/lib/%.o: $(VIOMMU_LIBDIR)/%.c $(VIOMMU_HDRS)
	@echo "  CC      $@"
	$(CC) $(VIOMMU_CFLAGS) $(TARGET_ARCH) -c $< -o $@

$(VIOMMU_PROGS): $(VIOMMU_OUTPUT)/%: $(VIOMMU_SRCDIR)/%.c $(VIOMMU_LIB_OBJS) $(LIBKVM_OBJS) \
		 $(VIOMMU_HDRS)
	@echo "  CCLD    $@"
	$(CC) $(VIOMMU_CFLAGS) $(LDFLAGS) $(TARGET_ARCH) \
		$< $(VIOMMU_LIB_OBJS) $(LIBKVM_OBJS) $(LDLIBS) -o $@
