// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_msi_fault_test: the interrupt remapping faults of the
 * KVM_DEV_TYPE_INTEL_VIOMMU device, one test per VT-d fault reason
 * (0x20-0x26), with fault processing disabled (FPD), and the fault log
 * behind the fault fd (KVM_DEV_VIOMMU_IR_FAULT_FD).
 *
 * A request that faults must be blocked, whichever way it came
 * (KVM_SIGNAL_MSI or an irqfd), be counted in the statistics and, unless
 * its entry has FPD, leave exactly one record with the reason, the
 * interrupt index and the requester ID; the request made good afterwards
 * must be delivered.  See include/viommu_msi.h for how each test knows
 * that nothing arrived anywhere.
 *
 * The program skips when the loaded KVM does not have the device or its
 * interrupt remapping attributes.
 */
#include <stdint.h>
#include <unistd.h>

#include <linux/kvm_viommu.h>

#include "test_util.h"
#include "kvm_util.h"
#include "viommu.h"
#include "viommu_msi.h"
#include "viommu_test.h"

#define TEST_TIMEOUT_S		60

FIXTURE(msi_fault) {};
FIXTURE_SETUP(msi_fault) {}
FIXTURE_TEARDOWN(msi_fault) {}

TEST_F_TIMEOUT(msi_fault, fault_0x20_req_rsvd, TEST_TIMEOUT_S)
{
	struct msi_ctx *t = msi_create_ir(2, VIOMMU_GUEST_X2APIC);
	struct viommu_msi m;
	int via;

	msi_irte_phys(t, 40, VEC(0), 1);
	for (via = 0; via < NR_VIAS; via++) {
		static const uint32_t hi[] = { 1, 0x100, 0x80000000U };
		int i;

		for (i = 0; i < (int)ARRAY_SIZE(hi); i++) {
			m = msi_remap(40);
			m.address_hi = hi[i];
			msi_step(t, "%s: remappable MSI with address_hi 0x%x", via_name(via),
				 hi[i]);
			/* The contract leaves the recorded index open here. */
			msi_fault(t, via, m, KVM_VIOMMU_FR_IR_REQ_RSVD, NO_INDEX);
		}
		msi_step(t, "%s: the same request, address_hi 0", via_name(via));
		msi_deliver(t, via, msi_remap(40), 1, VEC(0));
	}
	msi_destroy(t);
}

TEST_F_TIMEOUT(msi_fault, fault_0x21_index, TEST_TIMEOUT_S)
{
	struct msi_ctx *t = msi_create(2, 0);
	int via;

	/* 256 entries. */
	msi_table(t, 0, 7);
	msi_ir(t, KVM_VIOMMU_IR_ENABLE);
	msi_irte_phys(t, 255, VEC(0), 1);
	/* Beyond the table, but in guest memory and valid: never read. */
	msi_irte_phys(t, 256, VEC(1), 1);
	msi_irte_phys(t, 260, VEC(1), 1);
	for (via = 0; via < NR_VIAS; via++) {
		msi_step(t, "%s: handle 255 of 256", via_name(via));
		msi_deliver(t, via, msi_remap(255), 1, VEC(0));
		msi_step(t, "%s: handle 256 of 256", via_name(via));
		msi_fault(t, via, msi_remap(256), KVM_VIOMMU_FR_IR_INDEX_OVER, 256);
		msi_step(t, "%s: handle 250 + subhandle 10", via_name(via));
		msi_fault(t, via, msi_remap_shv(250, 10), KVM_VIOMMU_FR_IR_INDEX_OVER, 260);
		msi_step(t, "%s: handle 0xffff", via_name(via));
		msi_fault(t, via, msi_remap(0xffff), KVM_VIOMMU_FR_IR_INDEX_OVER, 0xffff);
		msi_step(t, "%s: handle 256 without devid", via_name(via));
		msi_fault(t, via, viommu_msi_remappable(256, false, 0),
			  KVM_VIOMMU_FR_IR_INDEX_OVER, 256);
	}
	/* A 2-entry table. */
	msi_table(t, 0, 0);
	viommu_iec_global(t->dev);
	for (via = 0; via < NR_VIAS; via++) {
		msi_step(t, "%s: handle 2 of 2", via_name(via));
		msi_fault(t, via, msi_remap(2), KVM_VIOMMU_FR_IR_INDEX_OVER, 2);
	}
	msi_destroy(t);
}

TEST_F_TIMEOUT(msi_fault, fault_0x22_not_present, TEST_TIMEOUT_S)
{
	struct msi_ctx *t = msi_create_ir(2, 0);
	uint64_t lo = viommu_irte_lo(VEC(0), 1, t->eime, VIOMMU_DLM_FIXED, 0);
	int via;

	msi_irte(t, 50, lo & ~VIOMMU_IRTE_P, 0);
	/* An all-zero entry. */
	msi_irte(t, 51, 0, 0);
	for (via = 0; via < NR_VIAS; via++) {
		msi_step(t, "%s: IRTE 50 with P=0", via_name(via));
		msi_fault(t, via, msi_remap(50), KVM_VIOMMU_FR_IR_ENTRY_P, 50);
		msi_step(t, "%s: IRTE 51 all zero", via_name(via));
		msi_fault(t, via, msi_remap(51), KVM_VIOMMU_FR_IR_ENTRY_P, 51);
	}
	/* Made present (it was never cached valid): IEC, then it works. */
	msi_irte(t, 50, lo, 0);
	viommu_iec_index(t->dev, 50, 0);
	for (via = 0; via < NR_VIAS; via++) {
		msi_step(t, "%s: IRTE 50 made present, IEC", via_name(via));
		msi_deliver(t, via, msi_remap(50), 1, VEC(0));
	}
	msi_destroy(t);
}

/* IRTEs outside guest memory: a table partly or wholly beyond the memslots. */
TEST_F_TIMEOUT(msi_fault, fault_0x23_unreadable, TEST_TIMEOUT_S)
{
	struct msi_ctx *t = msi_create_ir(2, VIOMMU_GUEST_X2APIC);
	static const uint64_t far[] = {
		0x20000000ULL,			/* no memslot */
		0x000ffffffffff000ULL,		/* beyond any guest MAXPHYADDR */
		0xd0000000ULL,			/* MMIO hole below 4G */
	};
	uint64_t last_page = VIOMMU_IRT_SIZE - 4096;
	int via, i;

	for (i = 0; i < (int)ARRAY_SIZE(far); i++) {
		viommu_set_irta(t->dev, msi_irta(t, far[i], 7));
		viommu_iec_global(t->dev);
		for (via = 0; via < NR_VIAS; via++) {
			msi_step(t, "%s: IRTA base 0x%llx, handle 3", via_name(via),
				 (unsigned long long)far[i]);
			msi_fire_blocked(t, via, msi_remap(3));
			msi_wait_faults(t, 1);
			msi_expect_fault(t, KVM_VIOMMU_FR_IR_ROOT_INVAL, 3, DEVID);
			msi_expect_no_fault(t);
		}
		/* Back to a good table: nothing had been delivered. */
		msi_table(t, 0, 15);
		viommu_iec_global(t->dev);
		msi_step(t, "IRTA base 0x%llx, after restoring the table",
			 (unsigned long long)far[i]);
		msi_settle(t);
	}

	/* 2^16 entries from the IRT memory's last page: 256 are readable. */
	t->irt_off = last_page;
	viommu_set_irta(t->dev, msi_irta(t, VIOMMU_IRT_GPA + last_page, 15));
	viommu_iec_global(t->dev);
	msi_sentinels(t);
	msi_irte_phys(t, 255, VEC(0), 1);
	for (via = 0; via < NR_VIAS; via++) {
		msi_step(t, "%s: table straddling the end of memory, IRTE 255", via_name(via));
		msi_deliver(t, via, msi_remap(255), 1, VEC(0));
		msi_step(t, "%s: table straddling the end of memory, IRTE 256", via_name(via));
		msi_fault(t, via, msi_remap(256), KVM_VIOMMU_FR_IR_ROOT_INVAL, 256);
		msi_step(t, "%s: table straddling the end of memory, IRTE 65535", via_name(via));
		msi_fault(t, via, msi_remap(0xffff), KVM_VIOMMU_FR_IR_ROOT_INVAL, 0xffff);
	}
	msi_destroy(t);
}

/* Reserved fields: every one faults 0x24, with the entry otherwise good. */
TEST_F_TIMEOUT(msi_fault, fault_0x24_irte_rsvd, TEST_TIMEOUT_S)
{
	struct msi_ctx *t = msi_create_ir(2, 0);	/* xAPIC: EIME = 0 */
	static const struct { uint64_t lo, hi; const char *what; } bad[] = {
		{ 1ULL << 12, 0, "lo bit 12" },
		{ 1ULL << 13, 0, "lo bit 13" },
		{ 1ULL << 14, 0, "lo bit 14" },
		{ VIOMMU_IRTE_IM, 0, "IM (posted)" },
		{ 1ULL << 24, 0, "lo bit 24" },
		{ 1ULL << 31, 0, "lo bit 31" },
		{ 3ULL << VIOMMU_IRTE_DLM_SHIFT, 0, "DLM 3" },
		{ 6ULL << VIOMMU_IRTE_DLM_SHIFT, 0, "DLM 6" },
		{ 1ULL << 32, 0, "xAPIC DST bit 0" },
		{ 1ULL << 39, 0, "xAPIC DST bit 7" },
		{ 1ULL << 48, 0, "xAPIC DST bit 16" },
		{ 1ULL << 63, 0, "xAPIC DST bit 31" },
		{ 0, 1ULL << 20, "hi bit 20" },
		{ 0, 1ULL << 40, "hi bit 40" },
		{ 0, 1ULL << 63, "hi bit 63" },
		{ 0, 3ULL << VIOMMU_IRTE_SVT_SHIFT, "SVT 3" },
	};
	uint64_t lo = viommu_irte_lo(VEC(0), 1, t->eime, VIOMMU_DLM_FIXED, 0);
	int via, i;

	for (via = 0; via < NR_VIAS; via++) {
		for (i = 0; i < (int)ARRAY_SIZE(bad); i++) {
			uint32_t idx = 300 + via * 32 + i;

			msi_irte(t, idx, lo | bad[i].lo, bad[i].hi);
			msi_step(t, "%s: IRTE %u with %s", via_name(via), idx, bad[i].what);
			msi_fault(t, via, msi_remap(idx), KVM_VIOMMU_FR_IR_IRTE_RSVD, idx);
		}
	}

	/* With EIME = 1 the whole DST is the destination: vCPU 1, no fault. */
	viommu_set_irta(t->dev, VIOMMU_IRT_GPA | KVM_VIOMMU_IRTA_EIME | 15);
	viommu_iec_global(t->dev);
	t->eime = true;
	msi_sentinels(t);
	msi_irte(t, 400, viommu_irte_lo(VEC(1), 1, true, VIOMMU_DLM_FIXED, 0), 0);
	for (via = 0; via < NR_VIAS; via++) {
		msi_step(t, "%s: EIME 1, DST 0x00000001", via_name(via));
		msi_deliver(t, via, msi_remap(400), 1, VEC(1));
	}
	/* The same entry with EIME = 0: DST bits 7:0 are reserved. */
	viommu_set_irta(t->dev, VIOMMU_IRT_GPA | 15);
	viommu_iec_global(t->dev);
	t->eime = false;
	msi_sentinels(t);
	for (via = 0; via < NR_VIAS; via++) {
		msi_step(t, "%s: EIME 0, DST 0x00000001", via_name(via));
		msi_fault(t, via, msi_remap(400), KVM_VIOMMU_FR_IR_IRTE_RSVD, 400);
	}
	msi_destroy(t);
}

TEST_F_TIMEOUT(msi_fault, fault_0x25_compat_cfis, TEST_TIMEOUT_S)
{
	struct msi_ctx *t = msi_create_ir(2, 0);
	struct viommu_msi c = viommu_msi_devid(viommu_msi_compat(1, false, VEC(0), 0), DEVID);
	int via, round;

	for (round = 0; round < 2; round++) {
		msi_ir(t, KVM_VIOMMU_IR_ENABLE);
		for (via = 0; via < NR_VIAS; via++) {
			msi_step(t, "%s: compatibility MSI, IR on, CFIS off", via_name(via));
			msi_fault(t, via, c, KVM_VIOMMU_FR_IR_COMPAT, 0);
			msi_step(t, "%s: compatibility MSI without devid, CFIS off", via_name(via));
			msi_fault(t, via, viommu_msi_compat(1, false, VEC(0), 0),
				  KVM_VIOMMU_FR_IR_COMPAT, 0);
		}
		msi_ir(t, KVM_VIOMMU_IR_ENABLE | KVM_VIOMMU_IR_CFIS);
		for (via = 0; via < NR_VIAS; via++) {
			msi_step(t, "%s: compatibility MSI, IR on, CFIS on", via_name(via));
			msi_deliver(t, via, c, 1, VEC(0));
			msi_step(t, "%s: logical compatibility MSI, CFIS on", via_name(via));
			msi_fire_ok(t, via, viommu_msi_compat(3, true, VEC(1), 0));
			msi_expect(t, 0, VEC(1), 1);
			msi_expect(t, 1, VEC(1), 1);
			msi_settle(t);
		}
		msi_step(t, "CFIS on, round %d", round);
		msi_assert_no_faults(t);
	}
	msi_destroy(t);
}

TEST_F_TIMEOUT(msi_fault, fault_0x26_sid, TEST_TIMEOUT_S)
{
	struct msi_ctx *t = msi_create_ir(2, VIOMMU_GUEST_X2APIC);
	static const struct {
		uint16_t sid;
		uint8_t sq, svt;
		int64_t devid;		/* -1: none */
		bool ok;
	} c[] = {
		/* SVT 1, SQ 0: all 16 bits; devid bits 31:16 are not the SID. */
		{ 0x1234, 0, 1, 0x1234, true },
		{ 0x1234, 0, 1, 0xabcd1234, true },
		{ 0x1234, 0, 1, 0x1235, false },
		{ 0x1234, 0, 1, 0x1230, false },
		{ 0x1234, 0, 1, 0x0234, false },
		{ 0x1234, 0, 1, 0xabcd1235, false },
		/* SQ 1: bit 2 ignored. */
		{ 0x1234, 1, 1, 0x1230, true },
		{ 0x1234, 1, 1, 0x1236, false },
		{ 0x1234, 1, 1, 0x1235, false },
		/* SQ 2: bits 2:1 ignored. */
		{ 0x1234, 2, 1, 0x1232, true },
		{ 0x1234, 2, 1, 0x1230, true },
		{ 0x1234, 2, 1, 0x1235, false },
		/* SQ 3: bits 2:0 ignored. */
		{ 0x1234, 3, 1, 0x1233, true },
		{ 0x1234, 3, 1, 0x1237, true },
		{ 0x1234, 3, 1, 0x123c, false },
		{ 0x1234, 3, 1, 0x1334, false },
		/* SVT 2: requester bus within [SID 15:8, SID 7:0]. */
		{ 0x1020, 0, 2, 0x1000, true },
		{ 0x1020, 0, 2, 0x20ff, true },
		{ 0x1020, 0, 2, 0x1801, true },
		{ 0x1020, 0, 2, 0x0fff, false },
		{ 0x1020, 0, 2, 0x2100, false },
		{ 0x1010, 3, 2, 0x10f7, true },
		{ 0x1010, 0, 2, 0x1100, false },
		/* No requester ID. */
		{ 0x1234, 0, 1, -1, false },
		{ 0x1020, 0, 2, -1, false },
		{ 0x1234, 0, 0, -1, true },
		{ 0x1234, 3, 0, 0x5555, true },
	};
	int via, i;

	for (via = 0; via < NR_VIAS; via++) {
		for (i = 0; i < (int)ARRAY_SIZE(c); i++) {
			uint32_t idx = 500 + via * 64 + i;
			struct viommu_msi m = viommu_msi_remappable(idx, false, 0);
			uint8_t vec = VEC(via * 32 + i);

			if (c[i].devid >= 0)
				m = viommu_msi_devid(m, c[i].devid);
			msi_irte(t, idx, viommu_irte_lo(vec, 1, t->eime, VIOMMU_DLM_FIXED, 0),
				 viommu_irte_hi(c[i].sid, c[i].sq, c[i].svt));
			msi_step(t, "%s: SVT %u SQ %u SID 0x%04x, devid %s0x%llx", via_name(via),
				 c[i].svt, c[i].sq, c[i].sid, c[i].devid < 0 ? "none " : "",
				 (unsigned long long)(c[i].devid < 0 ? 0 : c[i].devid));
			if (c[i].ok) {
				msi_deliver(t, via, m, 1, vec);
				/* And again, from the cache: the check is per request. */
				msi_deliver(t, via, m, 1, vec);
			} else {
				msi_fault(t, via, m, KVM_VIOMMU_FR_IR_SID_ERR, idx);
			}
		}
	}
	/* A cached entry is checked against every request's SID. */
	for (via = 0; via < NR_VIAS; via++) {
		uint32_t idx = 500 + via * 64;	/* SVT 1 SQ 0 SID 0x1234, cached */

		msi_step(t, "%s: cached SVT 1 entry, good SID", via_name(via));
		msi_deliver(t, via, viommu_msi_devid(viommu_msi_remappable(idx, false, 0), 0x1234),
			    1, VEC(via * 32));
		msi_step(t, "%s: cached SVT 1 entry, bad SID", via_name(via));
		msi_fault(t, via, viommu_msi_devid(viommu_msi_remappable(idx, false, 0), 0x4321),
			  KVM_VIOMMU_FR_IR_SID_ERR, idx);
		msi_step(t, "%s: cached SVT 1 entry, no SID", via_name(via));
		msi_fault(t, via, viommu_msi_remappable(idx, false, 0),
			  KVM_VIOMMU_FR_IR_SID_ERR, idx);
	}
	msi_destroy(t);
}

/* FPD keeps 0x22, 0x24 and 0x26 out of the log (and off the fault fd). */
TEST_F_TIMEOUT(msi_fault, fpd, TEST_TIMEOUT_S)
{
	struct msi_ctx *t = msi_create_ir(2, 0);
	uint64_t lo = viommu_irte_lo(VEC(0), 1, t->eime, VIOMMU_DLM_FIXED, VIOMMU_IRTE_FPD);
	int via, rfd = viommu_fault_fd(t->dev);

	msi_irte(t, 60, lo & ~VIOMMU_IRTE_P, 0);
	msi_irte(t, 61, lo | (1ULL << 13), 0);
	msi_irte(t, 62, lo, viommu_irte_hi(0x1234, 0, VIOMMU_SVT_SID));
	msi_irte(t, 63, lo, 0);
	for (via = 0; via < NR_VIAS; via++) {
		msi_step(t, "%s: FPD, P=0", via_name(via));
		msi_fault_suppressed(t, via, msi_remap(60));
		msi_step(t, "%s: FPD, reserved bit 13", via_name(via));
		msi_fault_suppressed(t, via, msi_remap(61));
		msi_step(t, "%s: FPD, SID mismatch", via_name(via));
		msi_fault_suppressed(t, via, msi_remap(62));
		msi_step(t, "%s: FPD, no SID", via_name(via));
		msi_fault_suppressed(t, via, viommu_msi_remappable(62, false, 0));
		/* FPD does not stop a good entry. */
		msi_step(t, "%s: FPD, good entry", via_name(via));
		msi_deliver(t, via, msi_remap(63), 1, VEC(0));
		msi_step(t, "%s: FPD, SID match", via_name(via));
		msi_deliver(t, via, viommu_msi_devid(msi_remap(62), 0x1234), 1, VEC(0));
	}
	TEST_ASSERT(!viommu_ring_readable(rfd),
		    "the fault fd polls readable after suppressed faults only");
	/* Without FPD the same faults are logged, and the fault fd polls readable. */
	msi_irte(t, 60, lo & ~(VIOMMU_IRTE_P | VIOMMU_IRTE_FPD), 0);
	viommu_iec_index(t->dev, 60, 0);
	msi_step(t, "no FPD, P=0");
	msi_fire_blocked(t, VIA_SIGNAL, msi_remap(60));
	msi_wait_faults(t, 1);
	TEST_ASSERT(viommu_ring_readable(rfd), "fault fd: not readable for a logged fault");
	msi_expect_fault(t, KVM_VIOMMU_FR_IR_ENTRY_P, 60, DEVID);
	msi_expect_no_fault(t);
	TEST_ASSERT(!viommu_ring_readable(rfd), "fault fd: readable once its record was read");
	close(rfd);
	msi_destroy(t);
}

/*
 * Eight records, then a record of the loss, after them; nothing else is
 * kept until the VMM reads.  Faults after the reader made room come after
 * that record.
 */
TEST_F_TIMEOUT(msi_fault, fault_log_lost, TEST_TIMEOUT_S)
{
	struct msi_ctx *t = msi_create(1, VIOMMU_GUEST_X2APIC);
	struct kvm_viommu_ir_fault f;
	int i;
	bool found;

	msi_table(t, 0, 7);
	msi_ir(t, KVM_VIOMMU_IR_ENABLE);

	msi_step(t, "10 faults, no reader");
	for (i = 0; i < 10; i++)
		msi_fire_blocked(t, VIA_SIGNAL, msi_remap(300 + i));
	msi_wait_faults(t, 10);
	for (i = 0; i < 8; i++)
		msi_expect_fault(t, KVM_VIOMMU_FR_IR_INDEX_OVER, 300 + i, DEVID);
	found = viommu_pop_fault(t->dev, &f);
	TEST_ASSERT(found && f.flags == KVM_VIOMMU_FAULT_LOST &&
		    !f.reason && !f.index && !f.sid,
		    "record 9 of 10 faults: flags 0x%x reason 0x%x index %u sid 0x%x, expected LOST only",
		    f.flags, f.reason, f.index, f.sid);
	msi_step(t, "after reading 8 records and the loss of 10");
	msi_expect_no_fault(t);
	msi_expect_no_fault(t);

	/* Logging again after the loss was read. */
	msi_step(t, "3 faults after the loss");
	for (i = 0; i < 3; i++)
		msi_fault(t, VIA_SIGNAL, msi_remap(400 + i), KVM_VIOMMU_FR_IR_INDEX_OVER, 400 + i);
	msi_step(t, "a fault through an irqfd after the loss");
	msi_fault(t, VIA_IRQFD, msi_remap(410), KVM_VIOMMU_FR_IR_INDEX_OVER, 410);

	/* Eight fill the log exactly: no record of a loss. */
	msi_step(t, "exactly 8 faults");
	for (i = 0; i < 8; i++)
		msi_fire_blocked(t, VIA_SIGNAL, msi_remap(500 + i));
	msi_wait_faults(t, 8);
	for (i = 0; i < 8; i++)
		msi_expect_fault(t, KVM_VIOMMU_FR_IR_INDEX_OVER, 500 + i, DEVID);
	msi_expect_no_fault(t);
	msi_destroy(t);
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, msi_unsupported);
}
