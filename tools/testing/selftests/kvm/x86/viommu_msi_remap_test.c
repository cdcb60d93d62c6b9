// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_msi_remap_test: the paths by which an MSI reaches the interrupt
 * remapping of the KVM_DEV_TYPE_INTEL_VIOMMU device
 * (include/uapi/linux/kvm_viommu.h, KVM_DEV_VIOMMU_GRP_IR), and the
 * attributes that program it.
 *
 * The host writes interrupt remapping table entries (IRTEs) into guest
 * memory, programs the device and fires MSIs through KVM_SIGNAL_MSI and
 * through irqfds on KVM_SET_GSI_ROUTING MSI routes, into guests of either
 * APIC mode; see include/viommu_msi.h for how each test knows that every
 * vector arrived where it was meant to, and nowhere else.  With IR off the
 * device must leave KVM's stock decoding alone; with IR on, every handle
 * format must reach its entry, and an irqfd that keeps firing must not
 * outlive its VM.
 *
 * The program skips when the loaded KVM does not have the device or its
 * interrupt remapping attributes.
 */
#include <errno.h>
#include <pthread.h>
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
#include "viommu_msi.h"
#include "viommu_test.h"
#include "viommu_msi_apic.h"

#define TEST_TIMEOUT_S		60

FIXTURE(msi_remap) {};
FIXTURE_SETUP(msi_remap) {}
FIXTURE_TEARDOWN(msi_remap) {}

/* The guest's APIC mode and number of vCPUs. */
FIXTURE(apic_vcpus) {};

FIXTURE_VARIANT(apic_vcpus) {
	unsigned int gflags;
	int nr_vcpus;
};

FIXTURE_VARIANT_ADD(apic_vcpus, xapic_1vcpu) {
	.gflags = 0,
	.nr_vcpus = 1,
};

FIXTURE_VARIANT_ADD(apic_vcpus, xapic_4vcpu) {
	.gflags = 0,
	.nr_vcpus = 4,
};

FIXTURE_VARIANT_ADD(apic_vcpus, x2apic_1vcpu) {
	.gflags = VIOMMU_GUEST_X2APIC,
	.nr_vcpus = 1,
};

FIXTURE_VARIANT_ADD(apic_vcpus, x2apic_4vcpu) {
	.gflags = VIOMMU_GUEST_X2APIC,
	.nr_vcpus = 4,
};

FIXTURE_SETUP(apic_vcpus) {}
FIXTURE_TEARDOWN(apic_vcpus) {}

/* ---- the attributes ------------------------------------------------------------- */

static const uint64_t ir_attrs[] = {
	KVM_DEV_VIOMMU_IR_TABLE, KVM_DEV_VIOMMU_IR_STATUS,
	KVM_DEV_VIOMMU_IR_INVALIDATE, KVM_DEV_VIOMMU_IR_FAULT_FD,
	KVM_DEV_VIOMMU_IR_IOAPIC,
};

TEST_F_TIMEOUT(msi_remap, ir_attrs, TEST_TIMEOUT_S)
{
	struct kvm_vm *vm;
	int fd, i, r, rfd;
	struct kvm_viommu_ir_status st;
	struct kvm_viommu_iec iec;
	struct kvm_viommu_fd ring;
	struct kvm_viommu_ir_fault f;
	struct kvm_viommu_fd stats;
	uint64_t ok_iec = 0;
	static const uint32_t bad_status[] = { 1U << 2, 1U << 31, 0xffffffffU,
					       KVM_VIOMMU_IR_ENABLE | (1U << 7) };
	static const struct kvm_viommu_iec bad_iec[] = {
		{ .flags = 1U << 1 },
		{ .flags = 0x80000000U },
		{ .flags = KVM_VIOMMU_IEC_INDEX, .mask = KVM_VIOMMU_IEC_MAX_MASK + 1 },
		{ .flags = KVM_VIOMMU_IEC_INDEX, .mask = 0xff },
		{ .flags = KVM_VIOMMU_IEC_INDEX | 4 },
		{ .__reserved = 1 },
		{ .__reserved2 = { 1 } },
		{ .__reserved2 = { 0, 0, 1ULL << 63 } },
	};
	static const uint32_t good_status[] = {
		KVM_VIOMMU_IR_ENABLE, KVM_VIOMMU_IR_CFIS,
		KVM_VIOMMU_IR_ENABLE | KVM_VIOMMU_IR_CFIS, 0,
		KVM_VIOMMU_IR_ENABLE | KVM_VIOMMU_IR_CFIS,
	};
	bool found;

	vm = viommu_vm_irqchip(&fd);

	/* Every attribute exists; unknown ones do not. */
	for (i = 0; i < (int)ARRAY_SIZE(ir_attrs); i++)
		kvm_has_device_attr(fd, KVM_DEV_VIOMMU_GRP_IR, ir_attrs[i]);
	kvm_has_device_attr(fd, KVM_DEV_VIOMMU_GRP_CTRL,
			    KVM_DEV_VIOMMU_CTRL_STATS_FD);
	VIOMMU_ASSERT_ERRNO(__kvm_has_device_attr(fd, KVM_DEV_VIOMMU_GRP_IR,
						  KVM_DEV_VIOMMU_IR_CONFIG + 1), ENXIO);
	VIOMMU_ASSERT_ERRNO(__kvm_has_device_attr(fd, KVM_DEV_VIOMMU_GRP_CTRL,
						  KVM_DEV_VIOMMU_CTRL_STATS_FD + 1), ENXIO);
	/* Attribute 4 was IR_FAULT_EVENTFD, which the fault fd replaced. */
	VIOMMU_ASSERT_ERRNO(__kvm_has_device_attr(fd, KVM_DEV_VIOMMU_GRP_IR, 4), ENXIO);

	/* Accesses an attribute does not have. */
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_get(fd, KVM_DEV_VIOMMU_GRP_IR,
						  KVM_DEV_VIOMMU_IR_INVALIDATE, &iec), ENXIO);
	memset(&ring, 0, sizeof(ring));
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(fd, KVM_DEV_VIOMMU_GRP_IR,
						  KVM_DEV_VIOMMU_IR_FAULT_FD, &ring), ENXIO);
	memset(&stats, 0, sizeof(stats));
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(fd, KVM_DEV_VIOMMU_GRP_CTRL,
						  KVM_DEV_VIOMMU_CTRL_STATS_FD, &stats), ENXIO);

	/* kvm_device_attr.flags must be zero. */
	for (i = 0; i < (int)ARRAY_SIZE(ir_attrs); i++) {
		uint64_t buf[16] = { 0 };

		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_HAS_DEVICE_ATTR, 1,
							KVM_DEV_VIOMMU_GRP_IR, ir_attrs[i], 0),
				    EINVAL);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_SET_DEVICE_ATTR, 1,
							KVM_DEV_VIOMMU_GRP_IR, ir_attrs[i],
							(uintptr_t)buf), EINVAL);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, 0x80000000,
							KVM_DEV_VIOMMU_GRP_IR, ir_attrs[i],
							(uintptr_t)buf), EINVAL);
	}

	/* Initial state: IR off, no faults, zero stats. */
	TEST_ASSERT(viommu_get_ir_status(fd) == 0, "IR_STATUS initially 0x%x",
		    viommu_get_ir_status(fd));
	found = viommu_pop_fault(fd, &f);
	TEST_ASSERT(!found,
		    "a fault record on a new device: flags 0x%x reason 0x%x", f.flags, f.reason);
	msi_assert_stats(fd, 0, 0, 0, 0, "new device");

	/* IR_STATUS round trip; unknown flags and __reserved: EINVAL. */
	for (i = 0; i < (int)ARRAY_SIZE(good_status); i++) {
		viommu_set_ir_status(fd, good_status[i]);
		r = viommu_get_ir_status(fd);
		TEST_ASSERT(r == (int)good_status[i], "IR_STATUS set 0x%x, got 0x%x",
			    good_status[i], r);
	}
	for (i = 0; i < (int)ARRAY_SIZE(bad_status) + 1 + (int)ARRAY_SIZE(st.__reserved2); i++) {
		memset(&st, 0, sizeof(st));
		if (i < (int)ARRAY_SIZE(bad_status))
			st.flags = bad_status[i];
		else if (i == ARRAY_SIZE(bad_status))
			st.__reserved = 1;
		else
			st.__reserved2[i - ARRAY_SIZE(bad_status) - 1] = 1ULL << 63;
		VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(fd, KVM_DEV_VIOMMU_GRP_IR,
							  KVM_DEV_VIOMMU_IR_STATUS, &st), EINVAL);
		r = viommu_get_ir_status(fd);
		TEST_ASSERT(r == (KVM_VIOMMU_IR_ENABLE | KVM_VIOMMU_IR_CFIS),
			    "IR_STATUS 0x%x after a rejected set, expected 0x%x", r,
			    KVM_VIOMMU_IR_ENABLE | KVM_VIOMMU_IR_CFIS);
	}

	/* IR_INVALIDATE: good requests count, bad ones are EINVAL. */
	memset(&iec, 0, sizeof(iec));
	kvm_device_attr_set(fd, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_INVALIDATE, &iec);
	ok_iec++;
	for (i = 0; i <= KVM_VIOMMU_IEC_MAX_MASK; i++) {
		viommu_iec_index(fd, 0xffff, i);
		ok_iec++;
	}
	for (i = 0; i < (int)ARRAY_SIZE(bad_iec); i++) {
		iec = bad_iec[i];
		r = __kvm_device_attr_set(fd, KVM_DEV_VIOMMU_GRP_IR, KVM_DEV_VIOMMU_IR_INVALIDATE,
					  &iec) ? -errno : 0;
		TEST_ASSERT(r == -EINVAL,
			    "IR_INVALIDATE flags 0x%x index %u mask %u __reserved %u/%llx/%llx: %d (%s), expected EINVAL",
			    iec.flags, iec.index, iec.mask, iec.__reserved,
			    (unsigned long long)iec.__reserved2[0],
			    (unsigned long long)iec.__reserved2[2], r, viommu_err_str(r));
	}
	msi_assert_stats(fd, 0, 0, 0, ok_iec, "after good and rejected IR_INVALIDATE");

	/* IR_FAULT_FD: each get is a new fd on the one ring, empty for now. */
	rfd = viommu_fault_fd(fd);
	i = viommu_fault_fd(fd);
	TEST_ASSERT(i != rfd, "two IR_FAULT_FD gets gave the same fd %d", rfd);
	found = viommu_ring_read(rfd, &f, sizeof(f));
	TEST_ASSERT(!found && !viommu_ring_readable(i),
		    "a new device's fault fd has a record: flags 0x%x", f.flags);
	close(i);
	close(rfd);

	/* Bad user addresses. */
	VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, 0, KVM_DEV_VIOMMU_GRP_IR,
						KVM_DEV_VIOMMU_IR_STATUS, 0), EFAULT);
	VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_SET_DEVICE_ATTR, 0, KVM_DEV_VIOMMU_GRP_IR,
						KVM_DEV_VIOMMU_IR_STATUS, 0), EFAULT);
	VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_SET_DEVICE_ATTR, 0, KVM_DEV_VIOMMU_GRP_IR,
						KVM_DEV_VIOMMU_IR_INVALIDATE, 0), EFAULT);
	VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, 0, KVM_DEV_VIOMMU_GRP_IR,
						KVM_DEV_VIOMMU_IR_FAULT_FD, 0), EFAULT);
	VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, 0, KVM_DEV_VIOMMU_GRP_CTRL,
						KVM_DEV_VIOMMU_CTRL_STATS_FD, 0), EFAULT);
	msi_assert_stats(fd, 0, 0, 0, ok_iec, "at the end");

	close(fd);
	kvm_vm_free(vm);
}

/* ---- IR off is stock KVM ------------------------------------------------------- */

TEST_F_TIMEOUT(apic, ir_off_stock, TEST_TIMEOUT_S)
{
	struct msi_ctx *t = msi_create(VIOMMU_MAX_VCPUS, variant->gflags);
	/* Stock decodes this remappable-format address as dest 1, physical. */
	const uint16_t handle = 133;
	struct viommu_msi rm = viommu_msi_remappable(handle, false, 0);
	int via, round;

	TEST_ASSERT(((rm.address_lo >> 12) & 0xff) == 1 && !(rm.address_lo & 0xc),
		    "handle %u: address 0x%x", handle, rm.address_lo);
	rm.data = VEC(5);

	/* A valid table that would send handle 133 elsewhere. */
	msi_table(t, 0, 7);
	msi_irte_phys(t, handle, VEC(1), 2);

	for (round = 0; round < 3; round++) {
		/* IR off, CFIS alone, IR off again: all stock. */
		static const uint32_t status[] = { 0, KVM_VIOMMU_IR_CFIS, 0 };
		struct viommu_stats s0;

		msi_ir(t, status[round]);
		viommu_get_stats(t->dev, &s0);
		for (via = 0; via < NR_VIAS; via++) {
			msi_step(t, "IR status 0x%x, %s, compatibility MSI", status[round],
				 via_name(via));
			msi_deliver(t, via, viommu_msi_compat(3, false, VEC(2), 0), 3, VEC(2));
			msi_step(t, "IR status 0x%x, %s, logical compatibility MSI",
				 status[round], via_name(via));
			msi_fire_ok(t, via, viommu_msi_compat(0xa, true, VEC(3), 0));
			msi_expect(t, 1, VEC(3), 1);
			msi_expect(t, 3, VEC(3), 1);
			msi_settle(t);
			msi_step(t, "IR status 0x%x, %s, remappable-format MSI decoded as stock",
				 status[round], via_name(via));
			msi_deliver(t, via, rm, 1, VEC(5));
			msi_step(t, "IR status 0x%x, %s, with a devid", status[round],
				 via_name(via));
			msi_deliver(t, via, viommu_msi_devid(rm, 0xffff), 1, VEC(5));
		}
		msi_step(t, "IR status 0x%x: stats and fault log untouched", status[round]);
		msi_assert_stats(t->dev, s0.hits, s0.misses, s0.faults, s0.invalidations, t->step);
		msi_expect_no_fault(t);

		if (round == 1) {
			/* The table is good: with IR on, it translates. */
			msi_ir(t, KVM_VIOMMU_IR_ENABLE);
			for (via = 0; via < NR_VIAS; via++) {
				msi_step(t, "IR on, %s, same remappable MSI", via_name(via));
				msi_deliver(t, via, rm, 2, VEC(1));
			}
		}
	}
	msi_destroy(t);
}

/* ---- remapped delivery --------------------------------------------------------- */

/*
 * Physical fixed edge and level, NMI, logical single-vCPU, available bits
 * set, and a handle with bit 15, to every vCPU through both paths.
 */
TEST_F_TIMEOUT(apic_vcpus, remap, TEST_TIMEOUT_S)
{
	int nr = variant->nr_vcpus;
	struct msi_ctx *t = msi_create_ir(nr, variant->gflags | VIOMMU_GUEST_TMR);
	int via, v, vec;

	for (via = 0; via < NR_VIAS; via++) {
		for (v = 0; v < nr; v++) {
			uint32_t idx = 16 + v * 8 + via * 64;

			vec = VEC(0x10 + v * 2 + via);
			msi_step(t, "%s: physical fixed edge to vCPU %d, IRTE %u vector 0x%x",
				 via_name(via), v, idx, vec);
			msi_irte_phys(t, idx, vec, v);
			msi_deliver(t, via, msi_remap(idx), v, vec);
			TEST_ASSERT(!viommu_guest_tmr(t->g, v, vec), "%s: TMR set", t->step);

			vec = VEC(0x20 + v * 2 + via);
			msi_step(t, "%s: physical fixed level to vCPU %d, IRTE %u vector 0x%x",
				 via_name(via), v, idx + 1, vec);
			msi_irte(t, idx + 1, viommu_irte_lo(vec, v, t->eime, VIOMMU_DLM_FIXED,
							    VIOMMU_IRTE_TM_LEVEL), 0);
			msi_deliver(t, via, msi_remap(idx + 1), v, vec);
			TEST_ASSERT(viommu_guest_tmr(t->g, v, vec) == 1,
				    "%s: TMR clear, expected set (level)", t->step);

			msi_step(t, "%s: NMI to vCPU %d, IRTE %u", via_name(via), v, idx + 2);
			msi_irte(t, idx + 2, viommu_irte_lo(0, v, t->eime, VIOMMU_DLM_NMI, 0), 0);
			msi_deliver(t, via, msi_remap(idx + 2), v, NMI_VECTOR);

			vec = VEC(0x30 + v * 2 + via);
			msi_step(t, "%s: logical fixed to vCPU %d alone, IRTE %u vector 0x%x",
				 via_name(via), v, idx + 3, vec);
			msi_irte(t, idx + 3, viommu_irte_lo(vec, 1U << v, t->eime, VIOMMU_DLM_FIXED,
							    VIOMMU_IRTE_DM_LOGICAL), 0);
			msi_deliver(t, via, msi_remap(idx + 3), v, vec);

			vec = VEC(0x40 + v * 2 + via);
			msi_step(t, "%s: available bits 11:8 set, vCPU %d, IRTE %u vector 0x%x",
				 via_name(via), v, idx + 4, vec);
			msi_irte(t, idx + 4, viommu_irte_lo(vec, v, t->eime, VIOMMU_DLM_FIXED,
							    VIOMMU_IRTE_AVAIL_MASK), 0);
			msi_deliver(t, via, msi_remap(idx + 4), v, vec);

			vec = VEC(0x50 + v * 2 + via);
			msi_step(t, "%s: handle bit 15, vCPU %d, IRTE 0x%x vector 0x%x",
				 via_name(via), v, 0x8000 + idx, vec);
			msi_irte_phys(t, 0x8000 + idx, vec, v);
			msi_deliver(t, via, msi_remap(0x8000 + idx), v, vec);

			vec = VEC(0x60 + v * 2 + via);
			msi_step(t, "%s: no devid, SVT 0, vCPU %d, IRTE %u vector 0x%x",
				 via_name(via), v, idx + 5, vec);
			msi_irte_phys(t, idx + 5, vec, v);
			msi_deliver(t, via, viommu_msi_remappable(idx + 5, false, 0), v, vec);

			/* Warm now: the same again, served by the cache. */
			msi_step(t, "%s: again (cached), vCPU %d, IRTE %u vector 0x%x",
				 via_name(via), v, idx + 5, vec);
			msi_deliver(t, via, viommu_msi_remappable(idx + 5, false, 0), v, vec);
		}
	}
	msi_step(t, "end");
	msi_assert_no_faults(t);
	msi_destroy(t);
}

TEST_F_TIMEOUT(msi_remap, subhandle, TEST_TIMEOUT_S)
{
	struct msi_ctx *t = msi_create_ir(4, VIOMMU_GUEST_X2APIC);
	int via, k;

	for (via = 0; via < NR_VIAS; via++) {
		uint16_t base = 100 + via * 16;

		for (k = 0; k < 4; k++)
			msi_irte_phys(t, base + k, VEC(k + via * 4), k);
		msi_irte_phys(t, 0x8000 + base + 7, VEC(0x10 + via), 3);
		for (k = 0; k < 4; k++) {
			msi_step(t, "%s: SHV, handle %u + subhandle %d", via_name(via),
				 base, k);
			msi_deliver(t, via, msi_remap_shv(base, k), k, VEC(k + via * 4));
		}
		msi_step(t, "%s: SHV, handle 0x%x + subhandle 5", via_name(via),
			 0x8000 + base + 2);
		msi_deliver(t, via, msi_remap_shv(0x8000 + base + 2, 5), 3, VEC(0x10 + via));
		/* Only data[15:0] is the subhandle; the rest is reserved. */
		msi_step(t, "%s: SHV, handle %u + data 0xabcd0002", via_name(via), base);
		msi_fault(t, via, viommu_msi_devid((struct viommu_msi){
				.address_lo = msi_remap_shv(base, 0).address_lo,
				.data = 0xabcd0002 }, DEVID),
			  KVM_VIOMMU_FR_IR_REQ_RSVD, 0);
		/* Without SHV, data does not move the index. */
		msi_step(t, "%s: no SHV, handle %u, data 3", via_name(via), base + 1);
		msi_deliver(t, via, viommu_msi_devid((struct viommu_msi){
				.address_lo = msi_remap(base + 1).address_lo,
				.data = 3 }, DEVID), 1, VEC(1 + via * 4));
	}
	msi_step(t, "end");
	msi_assert_no_faults(t);
	msi_destroy(t);
}

TEST_F_TIMEOUT(msi_remap, table_64k, TEST_TIMEOUT_S)
{
	struct msi_ctx *t = msi_create_ir(4, VIOMMU_GUEST_X2APIC);
	int via;

	msi_irte_phys(t, 0xffff, VEC(0), 3);
	msi_irte_phys(t, 0x8000, VEC(1), 2);
	msi_irte_phys(t, 0x7fff, VEC(2), 1);
	for (via = 0; via < NR_VIAS; via++) {
		msi_step(t, "%s: handle 65535", via_name(via));
		msi_deliver(t, via, msi_remap(0xffff), 3, VEC(0));
		msi_step(t, "%s: handle 0xff00 + subhandle 0xff", via_name(via));
		msi_deliver(t, via, msi_remap_shv(0xff00, 0xff), 3, VEC(0));
		msi_step(t, "%s: handle 0 + subhandle 0xffff", via_name(via));
		msi_deliver(t, via, msi_remap_shv(0, 0xffff), 3, VEC(0));
		msi_step(t, "%s: handle 0x8000", via_name(via));
		msi_deliver(t, via, msi_remap(0x8000), 2, VEC(1));
		msi_step(t, "%s: handle 0x7fff", via_name(via));
		msi_deliver(t, via, msi_remap(0x7fff), 1, VEC(2));
		msi_step(t, "%s: handle 0xffff + subhandle 1", via_name(via));
		msi_fault(t, via, msi_remap_shv(0xffff, 1), KVM_VIOMMU_FR_IR_INDEX_OVER, 0x10000);
		msi_step(t, "%s: handle 0xfff0 + subhandle 0xffff", via_name(via));
		msi_fault(t, via, msi_remap_shv(0xfff0, 0xffff), KVM_VIOMMU_FR_IR_INDEX_OVER,
			  0xfff0 + 0xffff);
	}
	msi_destroy(t);
}

/* ---- teardown while an irqfd fires --------------------------------------------- */

struct storm {
	int fd;
	bool stop;
	uint64_t writes;
};

static void *storm_writer(void *data)
{
	struct storm *s = data;
	uint64_t one = 1;

	while (!__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST)) {
		if (write(s->fd, &one, sizeof(one)) == sizeof(one))
			s->writes++;
	}
	return NULL;
}

struct iec_loop {
	int dev;
	bool stop;
};

static void *iec_looper(void *data)
{
	struct iec_loop *l = data;

	while (!__atomic_load_n(&l->stop, __ATOMIC_SEQ_CST))
		viommu_iec_global(l->dev);
	return NULL;
}

/* The VM goes away while another thread keeps writing an irqfd's eventfd. */
TEST_F_TIMEOUT(msi_remap, teardown_irqfd_storm, TEST_TIMEOUT_S)
{
	int round;

	for (round = 0; round < 6; round++) {
		/*
		 * 0/3: warm entry, 1/4: IEC storm (cold), 2/5: faulting, with a
		 * fault fd that outlives the VM's other references.
		 */
		struct msi_ctx *t = msi_create_ir(2, round < 3 ? 0 : VIOMMU_GUEST_X2APIC);
		struct storm s = { .fd = -1 };
		struct iec_loop l = { .dev = t->dev };
		struct viommu_msi m = msi_remap(70);
		pthread_t writer, iec;
		struct kvm_viommu_ir_fault f;
		int rfd = -1, r, n;

		if (round % 3 == 2) {
			rfd = viommu_fault_fd(t->dev);
			msi_irte(t, 70, 0, 0);
		} else {
			msi_irte_phys(t, 70, VEC(0), 1);
		}
		viommu_route_msi(t->g, 5, &m);
		viommu_commit_routes(t->g);
		/* The writer's own reference: the VM, not the close, ends the irqfd. */
		s.fd = dup(viommu_irqfd(t->g, 5));
		TEST_ASSERT(s.fd >= 0, "dup: %s", strerror(errno));

		r = pthread_create(&writer, NULL, storm_writer, &s);
		TEST_ASSERT(!r, "pthread_create: %s", strerror(r));
		if (round % 3 == 1) {
			r = pthread_create(&iec, NULL, iec_looper, &l);
			TEST_ASSERT(!r, "pthread_create: %s", strerror(r));
		}
		usleep(200 * 1000);
		if (round % 3 == 1) {
			__atomic_store_n(&l.stop, true, __ATOMIC_SEQ_CST);
			pthread_join(iec, NULL);
			viommu_iec_global(t->dev);
		}
		/* vCPUs stopped, eventfds and device closed; only a fault fd keeps the VM. */
		msi_destroy(t);
		usleep(100 * 1000);
		__atomic_store_n(&s.stop, true, __ATOMIC_SEQ_CST);
		pthread_join(writer, NULL);
		TEST_ASSERT(s.writes > 0, "round %d: the writer never wrote", round);
		close(s.fd);
		if (rfd >= 0) {
			/* The faults are still there to read; the last close frees the VM. */
			for (n = 0; viommu_ring_read(rfd, &f, sizeof(f)); n++)
				TEST_ASSERT(f.flags == KVM_VIOMMU_FAULT_LOST ||
					    f.reason == KVM_VIOMMU_FR_IR_ENTRY_P,
					    "round %d: fault record flags 0x%x reason 0x%x after the teardown",
					    round, f.flags, f.reason);
			TEST_ASSERT(n > 0,
				    "round %d: no fault record left to read after the teardown",
				    round);
			close(rfd);
		}
	}

	/* The host is fine: a new VM delivers. */
	{
		struct msi_ctx *t = msi_create_ir(2, 0);

		msi_irte_phys(t, 70, VEC(0), 1);
		msi_step(t, "new VM after the teardowns");
		msi_deliver(t, VIA_IRQFD, msi_remap(70), 1, VEC(0));
		msi_destroy(t);
	}
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, msi_unsupported);
}
