// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_msi_observability_test: what the host can see of interrupt
 * remapping, and what it must not have to see.  The device's counters
 * (KVM_DEV_VIOMMU_CTRL_STATS_FD) count each hit, miss, fault and
 * invalidation once, read the same from debugfs, and each decision leaves
 * a trace event; a remapped MSI, through KVM_SIGNAL_MSI or an irqfd, costs
 * the guest no exit to userspace, and a warm irqfd hit is delivered in the
 * eventfd's wakeup itself.
 *
 * See include/viommu_msi.h for how each test knows that every vector
 * arrived where it was meant to, and nowhere else.  The program skips when
 * the loaded KVM does not have the device or its interrupt remapping
 * attributes.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/kvm_viommu.h>

#include "test_util.h"
#include "kselftest.h"
#include "kvm_util.h"
#include "viommu.h"
#include "viommu_msi.h"
#include "viommu_test.h"
#include "viommu_msi_apic.h"

#define TEST_TIMEOUT_S		60

#define TRACEFS			"/sys/kernel/debug/tracing/"

FIXTURE(msi_observability) {};
FIXTURE_SETUP(msi_observability) {}
FIXTURE_TEARDOWN(msi_observability) {}

/* Fires @m and waits until @vector has arrived on @vcpu once more. */
static void fire_wait(struct msi_ctx *t, enum msi_via via, struct viommu_msi m,
		      int vcpu, int vector, const char *what)
{
	uint64_t deadline = viommu_now_ns() + SETTLE_TIMEOUT_NS;
	uint32_t want = viommu_guest_count(t->g, vcpu, vector) + 1;

	msi_fire_ok(t, via, m);
	while (viommu_guest_count(t->g, vcpu, vector) < want)
		TEST_ASSERT(viommu_now_ns() < deadline, "%s: vector 0x%x not delivered to vCPU %d",
			    what, vector, vcpu);
}

/* One counter of the VM's debugfs file, viommu_stats. */
static uint64_t debugfs_stat(struct msi_ctx *t, const char *want)
{
	char path[96], name[32];
	unsigned long long v;
	bool found = false;
	uint64_t value = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/viommu_stats",
		 getpid(), t->g->vm->fd);
	f = fopen(path, "r");
	TEST_ASSERT(f, "cannot open %s", path);
	while (fscanf(f, "%31s %llu", name, &v) == 2) {
		if (!strcmp(name, want)) {
			value = v;
			found = true;
		}
	}
	fclose(f);
	TEST_ASSERT(found, "%s has no '%s' line", path, want);
	return value;
}

static void tracefs_write(const char *file, const char *value)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), TRACEFS "%s", file);
	fd = open(path, O_WRONLY | O_TRUNC);
	TEST_ASSERT(fd >= 0, "cannot open %s", path);
	TEST_ASSERT(write(fd, value, strlen(value)) == (ssize_t)strlen(value),
		    "cannot write '%s' to %s", value, path);
	close(fd);
}

/* Whether the trace buffer has a line with both @event and @text. */
static bool trace_has(const char *event, const char *text)
{
	char line[512];
	bool found = false;
	FILE *f;

	f = fopen(TRACEFS "trace", "r");
	TEST_ASSERT(f, "cannot open " TRACEFS "trace");
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, event) && strstr(line, text);
	fclose(f);
	return found;
}

/* Every counter of the stats fd reads the same from debugfs. */
static void assert_debugfs_matches_fd(struct msi_ctx *t)
{
	int stats_fd = viommu_stats_fd(t->dev);
	struct kvm_stats_header header;
	struct kvm_stats_desc *descs, *d;
	uint64_t val;
	int i;

	read_stats_header(stats_fd, &header);
	descs = read_stats_descriptors(stats_fd, &header);
	for (i = 0; i < header.num_desc; i++) {
		d = get_stats_descriptor(descs, i, &header);
		read_stat_data(stats_fd, &header, d, &val, 1);
		TEST_ASSERT(debugfs_stat(t, d->name) == val,
			    "debugfs viommu_stats %s differs from the stats fd's %llu",
			    d->name, (unsigned long long)val);
	}
	free(descs);
	close(stats_fd);
}

/*
 * A warm irqfd hit is delivered in the wakeup itself (remapped_msi_atomic),
 * the counters read the same from debugfs, and each decision leaves its
 * trace event.
 */
TEST_F_TIMEOUT(msi_observability, observability, TEST_TIMEOUT_S)
{
	struct msi_ctx *t = msi_create(2, 0);
	struct viommu_stats s;
	int i;

	msi_table(t, 0, 7);
	msi_irte_phys(t, 60, VEC(0), 1);
	msi_ir(t, KVM_VIOMMU_IR_ENABLE);
	tracefs_write("trace", "");
	tracefs_write("events/kvm_viommu/enable", "1");

	fire_wait(t, VIA_SIGNAL, msi_remap(60), 1, VEC(0), "first use");
	for (i = 0; i < 4; i++)
		fire_wait(t, VIA_IRQFD, msi_remap(60), 1, VEC(0), "irqfd, cached");
	fire_wait(t, VIA_SIGNAL, msi_remap(60), 1, VEC(0), "signal, cached");
	viommu_iec_index(t->dev, 60, 0);
	msi_fire_blocked(t, VIA_SIGNAL, msi_remap(300));
	tracefs_write("events/kvm_viommu/enable", "0");

	viommu_get_stats(t->dev, &s);
	TEST_ASSERT(s.hits == 5 && s.misses == 1 && s.msi_atomic == 4,
		    "hits %llu misses %llu remapped_msi_atomic %llu, expected 5 1 4:\n"
		    "  the irqfd's cached hits must not leave the wakeup",
		    (unsigned long long)s.hits, (unsigned long long)s.misses,
		    (unsigned long long)s.msi_atomic);
	assert_debugfs_matches_fd(t);

	TEST_ASSERT(trace_has("kvm_viommu_translate:", "index 60 ") &&
		    trace_has("kvm_viommu_translate:", " miss") &&
		    trace_has("kvm_viommu_translate:", " hit"),
		    "no kvm_viommu_translate hit and miss for index 60 in the trace");
	TEST_ASSERT(trace_has("kvm_viommu_iec:", "selective index 60 mask 0"),
		    "no kvm_viommu_iec for index 60 in the trace");
	TEST_ASSERT(trace_has("kvm_viommu_fault:", "reason 0x21 index 300"),
		    "no kvm_viommu_fault 0x21 for index 300 in the trace");
	msi_destroy(t);
}

/* hits, misses, faults and invalidations, KVM_SIGNAL_MSI unless said. */
TEST_F_TIMEOUT(msi_observability, stats, TEST_TIMEOUT_S)
{
	struct msi_ctx *t = msi_create(2, 0);
	struct viommu_stats s;
	struct viommu_msi rm;
	int i;

	/* No sentinels here: they would move the counters. */
	msi_assert_stats(t->dev, 0, 0, 0, 0, "new device");
	msi_table(t, 0, 7);
	msi_irte_phys(t, 60, VEC(0), 1);
	msi_irte_phys(t, 61, VEC(1), 0);
	msi_irte(t, 62, viommu_irte_lo(VEC(2), 0, false, 0, VIOMMU_IRTE_FPD) & ~VIOMMU_IRTE_P, 0);
	msi_ir(t, KVM_VIOMMU_IR_ENABLE);
	msi_assert_stats(t->dev, 0, 0, 0, 0, "after IRTA and IR_STATUS");

	fire_wait(t, VIA_SIGNAL, msi_remap(60), 1, VEC(0), "first use");
	msi_assert_stats(t->dev, 0, 1, 0, 0, "first use of IRTE 60");
	for (i = 0; i < 3; i++)
		fire_wait(t, VIA_SIGNAL, msi_remap(60), 1, VEC(0), "cached");
	msi_assert_stats(t->dev, 3, 1, 0, 0, "IRTE 60 used 3 more times");
	for (i = 0; i < 2; i++)
		fire_wait(t, VIA_IRQFD, msi_remap(60), 1, VEC(0), "irqfd, cached");
	msi_assert_stats(t->dev, 5, 1, 0, 0, "IRTE 60 used twice through an irqfd");
	fire_wait(t, VIA_SIGNAL, msi_remap(61), 0, VEC(1), "first use");
	msi_assert_stats(t->dev, 5, 2, 0, 0, "first use of IRTE 61");

	viommu_iec_index(t->dev, 60, 0);
	msi_assert_stats(t->dev, 5, 2, 0, 1, "IEC index 60");
	fire_wait(t, VIA_SIGNAL, msi_remap(60), 1, VEC(0), "after IEC");
	fire_wait(t, VIA_SIGNAL, msi_remap(61), 0, VEC(1), "other entry");
	msi_assert_stats(t->dev, 6, 3, 0, 1, "IRTE 60 after IEC index, IRTE 61 cached");
	viommu_iec_global(t->dev);
	viommu_iec_index(t->dev, 0, 16);
	msi_assert_stats(t->dev, 6, 3, 0, 3, "IEC global, IEC index 0 mask 16");
	fire_wait(t, VIA_SIGNAL, msi_remap(60), 1, VEC(0), "after IEC");
	fire_wait(t, VIA_SIGNAL, msi_remap(61), 0, VEC(1), "after IEC");
	msi_assert_stats(t->dev, 6, 5, 0, 3, "both entries after a global IEC");

	/* Faults that read no IRTE: no hit, no miss. */
	msi_fire_blocked(t, VIA_SIGNAL, msi_remap(300));
	msi_assert_stats(t->dev, 6, 5, 1, 3, "index beyond the table");
	msi_fire_blocked(t, VIA_SIGNAL, viommu_msi_compat(0, false, VEC(3), 0));
	msi_assert_stats(t->dev, 6, 5, 2, 3, "compatibility format, CFIS off");
	t->faults = 2;
	/* Counted whether logged or not. */
	msi_fire_blocked(t, VIA_SIGNAL, msi_remap(62));
	msi_wait_faults(t, 1);
	msi_expect_fault(t, KVM_VIOMMU_FR_IR_INDEX_OVER, 300, DEVID);
	msi_expect_fault(t, KVM_VIOMMU_FR_IR_COMPAT, 0, -1);	/* no devid */
	msi_expect_no_fault(t);

	/* IR off: stock, nothing counted. */
	viommu_get_stats(t->dev, &s);
	TEST_ASSERT(s.faults == 3 && s.invalidations == 3,
		    "after the faults: faults %llu invalidations %llu, expected 3 3",
		    (unsigned long long)s.faults, (unsigned long long)s.invalidations);
	msi_ir(t, 0);
	fire_wait(t, VIA_SIGNAL, viommu_msi_compat(1, false, VEC(4), 0), 1, VEC(4), "IR off");
	fire_wait(t, VIA_IRQFD, viommu_msi_compat(0, false, VEC(5), 0), 0, VEC(5), "IR off");
	rm = msi_remap(100);		/* stock: physical destination 0 */
	rm.data = VEC(6);
	fire_wait(t, VIA_SIGNAL, rm, 0, VEC(6), "IR off, remappable format");
	msi_assert_stats(t->dev, s.hits, s.misses, 3, 3, "IR off");
	msi_destroy(t);
}

/* ---- no exits to userspace ------------------------------------------------------ */

#define NO_EXIT_DELIVERIES	10000

TEST_F_TIMEOUT(apic, no_exits_10k, TEST_TIMEOUT_S)
{
	struct msi_ctx *t = msi_create_ir(4, variant->gflags);
	uint64_t exits0, ucalls0, t0, t1, deadline;
	uint32_t base[4];
	int v, k;

	for (v = 0; v < 4; v++) {
		struct viommu_msi m = msi_remap(1000 + v);

		msi_irte_phys(t, 1000 + v, VEC(v), v);
		viommu_route_msi(t->g, v, &m);
		base[v] = viommu_guest_count(t->g, v, VEC(v));
	}
	viommu_commit_routes(t->g);

	exits0 = viommu_guest_exits(t->g);
	ucalls0 = viommu_guest_ucalls(t->g);
	t0 = viommu_now_ns();
	for (k = 0; k < NO_EXIT_DELIVERIES; k++) {
		v = k % 4;
		if ((k / 4) % 2) {
			struct viommu_msi m = msi_remap(1000 + v);

			TEST_ASSERT(viommu_signal_msi(t->g->vm, &m) >= 0, "KVM_SIGNAL_MSI");
		} else {
			viommu_irqfd_fire(t->g, v);
		}
		base[v]++;
		deadline = viommu_now_ns() + SETTLE_TIMEOUT_NS;
		while (viommu_guest_count(t->g, v, VEC(v)) < base[v]) {
			if (viommu_now_ns() < deadline)
				continue;
			msi_step(t, "delivery %d (vCPU %d, %s) not counted in %llu s: %u of %u",
				 k, v, (k / 4) % 2 ? "KVM_SIGNAL_MSI" : "irqfd",
				 SETTLE_TIMEOUT_NS / 1000000000ULL,
				 viommu_guest_count(t->g, v, VEC(v)), base[v]);
			msi_stalled(t);
		}
	}
	t1 = viommu_now_ns();
	TEST_ASSERT(viommu_guest_exits(t->g) == exits0 && viommu_guest_ucalls(t->g) == ucalls0,
		    "%llu KVM_RUN returns to userspace (%llu ucalls) during %d deliveries, expected 0",
		    (unsigned long long)(viommu_guest_exits(t->g) - exits0),
		    (unsigned long long)(viommu_guest_ucalls(t->g) - ucalls0),
		    NO_EXIT_DELIVERIES);
	ksft_print_msg("%d deliveries, %.1f us each, 0 exits to userspace\n",
		       NO_EXIT_DELIVERIES, (double)(t1 - t0) / NO_EXIT_DELIVERIES / 1000);
	for (v = 0; v < 4; v++)
		msi_expect(t, v, VEC(v), NO_EXIT_DELIVERIES / 4);
	msi_step(t, "after %d deliveries", NO_EXIT_DELIVERIES);
	msi_settle(t);
	msi_assert_no_faults(t);
	msi_destroy(t);
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, msi_unsupported);
}
