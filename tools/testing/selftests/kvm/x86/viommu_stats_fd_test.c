// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_stats_fd_test: the KVM_DEV_TYPE_INTEL_VIOMMU device's statistics
 * (KVM_DEV_VIOMMU_CTRL_STATS_FD in include/uapi/linux/kvm_viommu.h), a file
 * in KVM's binary stats format that the VMM and its monitoring read: the
 * file's layout and descriptors, the attribute's errors, and what each
 * path of the interrupt remapping counts.
 *
 * The program skips without the device's interrupt remapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/kvm_viommu.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "viommu.h"
#include "viommu_regs.h"
#include "viommu_test.h"

#define TEST_TIMEOUT_S		60

FIXTURE(stats_fd) {};
FIXTURE_SETUP(stats_fd) {}
FIXTURE_TEARDOWN(stats_fd) {}

/* Every counter, in the order the kernel describes them. */
static const char *const stat_names[] = {
	"remapped_msi_atomic", "remapped_msi_process", "remapped_ioapic",
	"ir_hits", "ir_misses", "ir_fills", "ir_invalidations",
	"ir_fault_req_rsvd", "ir_fault_index_over", "ir_fault_entry_p",
	"ir_fault_root_inval", "ir_fault_irte_rsvd", "ir_fault_compat",
	"ir_fault_sid_err", "dmar_faults",
	"qi_desc_invalid", "qi_desc_context", "qi_desc_iotlb", "qi_desc_devtlb",
	"qi_desc_iec", "qi_desc_wait",
	"events_queued", "events_lost", "exits_avoided",
};

/* The header and id string, as kvm_binary_stats_test checks a VM's. */
static void assert_stats_header(int stats_fd, const struct kvm_stats_header *h)
{
	char id[64];
	size_t len;

	TEST_ASSERT(!h->flags, "header flags 0x%x", h->flags);
	/* KVM's KVM_STATS_NAME_SIZE, which only the kernel has. */
	TEST_ASSERT(h->name_size == 48, "name_size %u", h->name_size);
	TEST_ASSERT(h->num_desc == ARRAY_SIZE(stat_names), "num_desc %u, expected %zu",
		    h->num_desc, ARRAY_SIZE(stat_names));
	TEST_ASSERT(h->id_offset == sizeof(*h), "id_offset %u", h->id_offset);
	TEST_ASSERT(h->desc_offset == h->id_offset + h->name_size,
		    "desc_offset %u", h->desc_offset);
	TEST_ASSERT(h->data_offset ==
		    h->desc_offset + h->num_desc * get_stats_descriptor_size((void *)h),
		    "data_offset %u", h->data_offset);

	TEST_ASSERT(pread(stats_fd, id, h->name_size, h->id_offset) == h->name_size,
		    "read the id string");
	len = strnlen(id, h->name_size);
	TEST_ASSERT(len < h->name_size, "id string not terminated");
	TEST_ASSERT(!strncmp(id, "kvm-", 4) && len > 7 &&
		    !strcmp(id + len - 7, "-viommu"), "id string '%s'", id);
}

/*
 * Each descriptor: its name, a plain counter of one u64, and data that
 * neither overlaps another's nor leaves the data block.
 */
static void assert_stats_descs(const struct kvm_stats_header *h,
			       struct kvm_stats_desc *descs)
{
	size_t data_size = h->num_desc * sizeof(uint64_t);
	uint8_t used[ARRAY_SIZE(stat_names)] = { 0 };
	struct kvm_stats_desc *d;
	uint32_t i;

	for (i = 0; i < h->num_desc; i++) {
		d = get_stats_descriptor(descs, i, (void *)h);
		TEST_ASSERT(!strcmp(d->name, stat_names[i]),
			    "descriptor %u is '%s', expected '%s'", i, d->name,
			    stat_names[i]);
		TEST_ASSERT((d->flags & KVM_STATS_TYPE_MASK) == KVM_STATS_TYPE_CUMULATIVE &&
			    (d->flags & KVM_STATS_UNIT_MASK) == KVM_STATS_UNIT_NONE &&
			    (d->flags & KVM_STATS_BASE_MASK) == KVM_STATS_BASE_POW10 &&
			    !d->exponent && d->size == 1 && !d->bucket_size,
			    "%s: flags 0x%x exponent %d size %u bucket_size %u", d->name,
			    d->flags, d->exponent, d->size, d->bucket_size);
		TEST_ASSERT(!(d->offset % sizeof(uint64_t)) &&
			    d->offset + sizeof(uint64_t) <= data_size,
			    "%s: offset %u outside %zu bytes of data", d->name,
			    d->offset, data_size);
		TEST_ASSERT(!used[d->offset / sizeof(uint64_t)]++,
			    "%s: offset %u used twice", d->name, d->offset);
	}
}

/* The whole file reads in one go, exactly to the end of the data. */
static void assert_stats_file_size(int stats_fd, const struct kvm_stats_header *h)
{
	size_t size = h->data_offset + h->num_desc * sizeof(uint64_t);
	char *buf = malloc(size + 64);

	TEST_ASSERT(buf, "malloc");
	TEST_ASSERT(pread(stats_fd, buf, size + 64, 0) == (ssize_t)size,
		    "the stats file is not %zu bytes long", size);
	free(buf);
}

TEST_F_TIMEOUT(stats_fd, stats_fd_layout, TEST_TIMEOUT_S)
{
	int fd, stats_fd, i;
	struct kvm_vm *vm = viommu_vm_irqchip(&fd);
	struct kvm_stats_header h;
	struct kvm_stats_desc *descs;

	stats_fd = viommu_stats_fd(fd);
	TEST_ASSERT(fcntl(stats_fd, F_GETFD) & FD_CLOEXEC, "stats fd without O_CLOEXEC");
	TEST_ASSERT((fcntl(stats_fd, F_GETFL) & O_ACCMODE) == O_RDONLY,
		    "stats fd not read-only");
	TEST_ASSERT(write(stats_fd, &h, sizeof(h)) < 0 && errno == EBADF,
		    "stats fd writable");

	read_stats_header(stats_fd, &h);
	assert_stats_header(stats_fd, &h);
	descs = read_stats_descriptors(stats_fd, &h);
	assert_stats_descs(&h, descs);
	assert_stats_file_size(stats_fd, &h);
	free(descs);

	/* A new device counts nothing yet. */
	for (i = 0; i < (int)ARRAY_SIZE(stat_names); i++)
		TEST_ASSERT(!viommu_read_stat(stats_fd, stat_names[i]),
			    "%s is %llu in a new device", stat_names[i],
			    (unsigned long long)viommu_read_stat(stats_fd, stat_names[i]));

	/* The stats fd holds the VM and the device, as a VM's stats fd does. */
	close(fd);
	kvm_vm_free(vm);
	TEST_ASSERT(!viommu_read_stat(stats_fd, "ir_hits"), "ir_hits after the VM's close");
	TEST_ASSERT(!close(stats_fd), "close(stats fd): %s", strerror(errno));
}

TEST_F_TIMEOUT(stats_fd, stats_fd_bad_input, TEST_TIMEOUT_S)
{
	struct kvm_viommu_fd s;
	int fd;
	struct kvm_vm *vm = viommu_vm_irqchip(&fd);

	kvm_has_device_attr(fd, KVM_DEV_VIOMMU_GRP_CTRL,
			    KVM_DEV_VIOMMU_CTRL_STATS_FD);
	memset(&s, 0, sizeof(s));
	VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, 1, KVM_DEV_VIOMMU_GRP_CTRL,
						KVM_DEV_VIOMMU_CTRL_STATS_FD, (uint64_t)&s),
			    EINVAL);
	/* Whatever the structure holds on the way in is not read. */
	s.fd = 12345;
	s.__reserved = ~0U;
	VIOMMU_ASSERT_ERRNO(__viommu_stats_fd(fd, &s), 0);
	TEST_ASSERT(s.fd >= 0 && s.fd != 12345 && !s.__reserved, "stats fd %d, __reserved 0x%x",
		    s.fd, s.__reserved);
	close(s.fd);

	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(fd, KVM_DEV_VIOMMU_GRP_CTRL,
						  KVM_DEV_VIOMMU_CTRL_STATS_FD, &s), ENXIO);
	VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, 0, KVM_DEV_VIOMMU_GRP_CTRL,
						KVM_DEV_VIOMMU_CTRL_STATS_FD, 0), EFAULT);
	/* The old fixed-layout attribute, 1, is gone. */
	VIOMMU_ASSERT_ERRNO(__kvm_has_device_attr(fd, KVM_DEV_VIOMMU_GRP_CTRL, 1), ENXIO);
	close(fd);
	kvm_vm_free(vm);
}

#define STATS_IRT_S	7	/* 2^8 entries */

struct stat_want {
	const char *name;
	uint64_t want;
};

/* Asserts each counter's value, all read from one stats fd. */
static void assert_stats(int dev, const char *step, const struct stat_want *w, int n)
{
	int stats_fd = viommu_stats_fd(dev), i;
	uint64_t v;

	for (i = 0; i < n; i++) {
		v = viommu_read_stat(stats_fd, w[i].name);
		TEST_ASSERT(v == w[i].want, "%s: %s is %llu, expected %llu", step,
			    w[i].name, (unsigned long long)v,
			    (unsigned long long)w[i].want);
	}
	close(stats_fd);
}

#define ASSERT_STATS(dev, step, ...)					\
	assert_stats(dev, step, (const struct stat_want[]){ __VA_ARGS__ },	\
		     ARRAY_SIZE(((const struct stat_want[]){ __VA_ARGS__ })))

/*
 * Remapped MSIs count a miss, its fill and then hits, on the
 * process-context path (KVM_SIGNAL_MSI); faults count their reason; the
 * VMM's IEC and DMAR fault count too.
 */
TEST_F_TIMEOUT(stats_fd, stats_fd_counts, TEST_TIMEOUT_S)
{
	struct viommu_guest *g;
	struct kvm_viommu_dmar_fault f = { .reason = 0x5, .sid = 0x10 };
	struct viommu_msi m;
	int i;

	g = viommu_guest_create(1, 0, true);
	viommu_set_irta(g->dev, VIOMMU_IRT_GPA | STATS_IRT_S);
	viommu_guest_write_irte(g, 0, 5, viommu_irte_lo(0x40, 0, false,
							VIOMMU_DLM_FIXED, 0), 0);
	viommu_set_ir_status(g->dev, KVM_VIOMMU_IR_ENABLE);

	m = viommu_msi_devid(viommu_msi_remappable(5, false, 0), 0x10);
	for (i = 0; i < 3; i++)
		viommu_signal_msi(g->vm, &m);
	ASSERT_STATS(g->dev, "three MSIs through IRTE 5",
		     { "ir_misses", 1 }, { "ir_fills", 1 }, { "ir_hits", 2 },
		     { "remapped_msi_process", 3 }, { "remapped_msi_atomic", 0 });

	m = viommu_msi_devid(viommu_msi_remappable(6, false, 0), 0x10);
	viommu_signal_msi(g->vm, &m);
	m = viommu_msi_devid(viommu_msi_remappable(1000, false, 0), 0x10);
	viommu_signal_msi(g->vm, &m);
	m = viommu_msi_devid(viommu_msi_compat(0, false, 0x41, VIOMMU_DLM_FIXED), 0x10);
	viommu_signal_msi(g->vm, &m);
	ASSERT_STATS(g->dev, "a fault of each of three reasons",
		     { "ir_fault_entry_p", 1 }, { "ir_fault_index_over", 1 },
		     { "ir_fault_compat", 1 }, { "ir_fault_sid_err", 0 },
		     { "remapped_msi_process", 3 }, { "ir_misses", 1 });

	viommu_iec_index(g->dev, 5, 0);
	viommu_signal_msi(g->vm, &m);
	m = viommu_msi_devid(viommu_msi_remappable(5, false, 0), 0x10);
	viommu_signal_msi(g->vm, &m);
	ASSERT_STATS(g->dev, "an IEC, and IRTE 5 read again",
		     { "ir_invalidations", 1 }, { "ir_misses", 2 }, { "ir_fills", 2 },
		     { "ir_fault_compat", 2 }, { "remapped_msi_process", 4 });

	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(g->dev, VTD_BASE, 0, 0), 0);
	kvm_device_attr_set(g->dev, KVM_DEV_VIOMMU_GRP_REGS,
			    KVM_DEV_VIOMMU_REGS_FAULT, &f);
	ASSERT_STATS(g->dev, "a DMAR fault from the VMM", { "dmar_faults", 1 });
	viommu_guest_destroy(g);
}

#define FALLBACK_GSI		30
#define FALLBACK_IDX		7
#define FALLBACK_FIRES		10
#define FALLBACK_WAIT_NS	(10ULL * 1000000000ULL)

/*
 * An irqfd MSI that hits the IR cache where KVM cannot sleep, but cannot
 * be delivered there (a broadcast), goes to the irqfd worker, which
 * translates it again: it counts one hit, on the path that delivered it.
 */
TEST_F_TIMEOUT(stats_fd, stats_atomic_fallback, TEST_TIMEOUT_S)
{
	struct viommu_msi m = viommu_msi_devid(viommu_msi_remappable(FALLBACK_IDX, false, 0),
					       0x10);
	struct viommu_guest *g;
	uint64_t deadline;
	int i;

	g = viommu_guest_create(1, 0, true);
	viommu_set_irta(g->dev, VIOMMU_IRT_GPA | STATS_IRT_S);
	/* Destination 0xff: the xAPIC broadcast, which no atomic path takes. */
	viommu_guest_write_irte(g, 0, FALLBACK_IDX,
				viommu_irte_lo(0x40, 0xff, false, VIOMMU_DLM_FIXED, 0), 0);
	viommu_set_ir_status(g->dev, KVM_VIOMMU_IR_ENABLE);
	viommu_route_msi(g, FALLBACK_GSI, &m);
	viommu_commit_routes(g);
	/* Cached, so that the irqfd's atomic path hits. */
	viommu_signal_msi(g->vm, &m);
	ASSERT_STATS(g->dev, "the entry read", { "ir_misses", 1 }, { "ir_hits", 0 });

	for (i = 1; i <= FALLBACK_FIRES; i++) {
		viommu_irqfd_fire(g, FALLBACK_GSI);
		deadline = viommu_now_ns() + FALLBACK_WAIT_NS;
		while (viommu_stat(g->dev, "remapped_msi_process") < 1 + i) {
			TEST_ASSERT(viommu_now_ns() < deadline,
				    "irqfd MSI %d: the worker did not deliver it", i);
			usleep(100);
		}
	}
	ASSERT_STATS(g->dev, "broadcasts through the irqfd, each by its worker",
		     { "ir_hits", FALLBACK_FIRES }, { "ir_misses", 1 },
		     { "remapped_msi_atomic", 0 },
		     { "remapped_msi_process", 1 + FALLBACK_FIRES });
	viommu_guest_destroy(g);
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, viommu_ir_unsupported);
}
