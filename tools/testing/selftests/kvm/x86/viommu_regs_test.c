// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_regs_test: the VT-d register page of the KVM_DEV_TYPE_INTEL_VIOMMU
 * device as a register file (KVM_DEV_VIOMMU_GRP_REGS in
 * include/uapi/linux/kvm_viommu.h): what REGS_CONFIG accepts, the values
 * at reset, what each register keeps of a write of each width, and
 * REGS_STATE, the VMM's way to migrate it all.  A page the guest writes at
 * random, alone or against a VMM that saves and restores it, must neither
 * change what is read-only nor exit to userspace.
 *
 * The guest runs the Linux intel-iommu driver's register sequences one
 * command at a time (include/viommu_qt.h); a command's only exit is its
 * closing GUEST_SYNC.  The program skips without the register page.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/kvm_viommu.h>

#include "test_util.h"
#include "kselftest.h"
#include "kvm_util.h"
#include "processor.h"
#include "viommu.h"
#include "viommu_regs.h"
#include "viommu_qt.h"
#include "viommu_qi.h"
#include "viommu_test.h"

#define TEST_TIMEOUT_S		120

/* QT_IRTA's entries. */
#define IRT_ENTRIES		256

/* ---- the guest's commands of this test's own ---------------------------------------- */

enum {
	OP_FUZZ = QT_OP_TEST,	/* arg: seed, rounds */
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * The event registers' data: fixed delivery, edge, a vector the guest
 * handles (a random INIT or SMI would end the guest, not test the host).
 */
static uint64_t fuzz_sanitize(uint32_t off, int size, uint64_t val)
{
	int b;

	for (b = 0; b < size; b++) {
		uint32_t at = off + b;

		if (at == DMAR_FEDATA_REG || at == DMAR_IEDATA_REG)
			val |= 0x20ULL << (8 * b);
		if (at == DMAR_FEDATA_REG + 1 || at == DMAR_IEDATA_REG + 1)
			val &= ~(0xc7ULL << (8 * b));
	}
	return val;
}

/* Random reads and writes of every size at and around every dword. */
static void guest_fuzz(struct vtd_iommu *iommu, uint64_t seed, uint64_t rounds)
{
	static const struct { uint8_t delta, size; } acc[] = {
		{ 0, 8 }, { 0, 4 }, { 4, 4 }, { 0, 2 }, { 2, 2 }, { 0, 1 }, { 1, 1 },
		{ 3, 1 }, { 1, 2 }, { 3, 2 }, { 1, 4 }, { 2, 4 }, { 4, 8 }, { 2, 8 },
		{ 7, 8 },
	};
	uint64_t s = seed | 1, r, val;
	uint32_t off, at;
	unsigned int i;

	for (r = 0; r < rounds; r++) {
		for (off = 0; off < KVM_VIOMMU_REG_SIZE; off += 4) {
			for (i = 0; i < ARRAY_SIZE(acc); i++) {
				at = off + acc[i].delta;
				if (at + acc[i].size > KVM_VIOMMU_REG_SIZE)
					continue;
				val = xorshift(&s);
				if (val & 1)
					vtd_read(iommu, at, acc[i].size);
				else
					vtd_write(iommu, at, acc[i].size,
						  fuzz_sanitize(at, acc[i].size, xorshift(&s)));
			}
		}
	}
}

static bool regs_guest_op(struct qt_mbox *m, struct vtd_iommu *iommu)
{
	uint64_t *a = m->arg;

	switch (m->op) {
	case OP_FUZZ:
		guest_fuzz(iommu, a[0], a[1]);
		return true;
	}
	return false;
}

/* Each test's guests take the fuzzing command. */
FIXTURE(regs) {};
FIXTURE_SETUP(regs)
{
	qt_set_guest_op(regs_guest_op);
}

FIXTURE_TEARDOWN(regs) {}

/* ---- tests: configuration ----------------------------------------------------------- */

/* Only bits 9-11 of SAGAW, 34-35 of SLLPS; FRO, NFR and IRO as the kernel's. */
#define CAP_SINGLE_OK	(GENMASK_ULL(2, 0) | CAP_CM | CAP_SAGAW_39 | CAP_SAGAW_48 | \
			 CAP_SAGAW_57 | GENMASK_ULL(22, 16) | CAP_SLLPS_2M | CAP_SLLPS_1G | \
			 CAP_PSI | GENMASK_ULL(55, 48))
#define ECAP_SINGLE_OK	(ECAP_C | ECAP_QI | ECAP_DT | ECAP_IR | ECAP_EIM | ECAP_PT | \
			 ECAP_SC | GENMASK_ULL(23, 20))

/* On a fresh device: REGS_CONFIG set must return @want. */
static void config_fresh(uint64_t base, uint64_t cap, uint64_t ecap, int want)
{
	struct kvm_viommu_regs_config c;
	int dev;
	struct kvm_vm *vm = viommu_vm_irqchip(&dev);
	int r = __vtd_regs_config(dev, base, cap, ecap) ? -errno : 0;

	TEST_ASSERT(r == want, "REGS_CONFIG(base 0x%llx cap 0x%llx ecap 0x%llx): %d, expected %d",
		    (unsigned long long)base, (unsigned long long)cap,
		    (unsigned long long)ecap, r, want);
	if (!r) {
		vtd_regs_get_config(dev, &c);
		TEST_ASSERT(c.base == base && c.cap == (cap | VTD_CAP_LAYOUT) &&
			    c.ecap == (ecap | VTD_ECAP_LAYOUT),
			    "REGS_CONFIG get: base 0x%llx cap 0x%llx ecap 0x%llx",
			    (unsigned long long)c.base, (unsigned long long)c.cap,
			    (unsigned long long)c.ecap);
	}
	close(dev);
	kvm_vm_free(vm);
}

TEST_F_TIMEOUT(regs, regs_config, TEST_TIMEOUT_S)
{
	struct kvm_viommu_regs_config c, bad;
	struct kvm_viommu_regs_state s;
	struct kvm_vm *vm;
	int dev, i;

	vm = viommu_vm_irqchip(&dev);

	kvm_has_device_attr(dev, KVM_DEV_VIOMMU_GRP_REGS,
			    KVM_DEV_VIOMMU_REGS_CONFIG);
	kvm_has_device_attr(dev, KVM_DEV_VIOMMU_GRP_REGS,
			    KVM_DEV_VIOMMU_REGS_STATE);
	VIOMMU_ASSERT_ERRNO(__kvm_has_device_attr(dev, KVM_DEV_VIOMMU_GRP_REGS,
						  KVM_DEV_VIOMMU_REGS_FAULT + 1), ENXIO);
	/* No state before there is a register page. */
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_get(dev, KVM_DEV_VIOMMU_GRP_REGS,
						  KVM_DEV_VIOMMU_REGS_STATE, &s), ENXIO);
	memset(&s, 0, sizeof(s));
	VIOMMU_ASSERT_ERRNO(__qi_regs_state_set(dev, &s), ENXIO);

	/* Every CAP and ECAP bit the kernel does not implement, one at a time. */
	for (i = 0; i < 64; i++) {
		uint64_t bit = BIT_ULL(i);

		if (!(CAP_SINGLE_OK & bit))
			VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, VTD_BASE, VTD_DEFAULT_CAP | bit,
							      VTD_DEFAULT_ECAP), EINVAL);
		if (!(ECAP_SINGLE_OK & bit))
			VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, VTD_BASE, VTD_DEFAULT_CAP,
							      VTD_DEFAULT_ECAP | bit), EINVAL);
	}
	/* Layouts other than the kernel's. */
	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, VTD_BASE,
					      VTD_DEFAULT_CAP | 0x21ULL << CAP_FRO_SHIFT,
					      VTD_DEFAULT_ECAP), EINVAL);
	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, VTD_BASE,
					      VTD_DEFAULT_CAP | 3ULL << CAP_NFR_SHIFT,
					      VTD_DEFAULT_ECAP), EINVAL);
	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, VTD_BASE, VTD_DEFAULT_CAP,
					      VTD_DEFAULT_ECAP | 0x10ULL << ECAP_IRO_SHIFT),
			    EINVAL);
	/* Dependencies. */
	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, VTD_BASE, VTD_DEFAULT_CAP,
					      ECAP_IR), EINVAL);
	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, VTD_BASE, VTD_DEFAULT_CAP,
					      ECAP_QI | ECAP_EIM), EINVAL);
	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, VTD_BASE, VTD_DEFAULT_CAP,
					      ECAP_DT), EINVAL);
	/* The base. */
	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, VTD_BASE + 0x800, VTD_DEFAULT_CAP,
					      VTD_DEFAULT_ECAP), EINVAL);
	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, VTD_BASE + 4, VTD_DEFAULT_CAP,
					      VTD_DEFAULT_ECAP), EINVAL);
	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, BIT_ULL(52), VTD_DEFAULT_CAP,
					      VTD_DEFAULT_ECAP), EINVAL);
	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, ~0xfffULL, VTD_DEFAULT_CAP,
					      VTD_DEFAULT_ECAP), EINVAL);
	/* flags, __reserved. */
	memset(&bad, 0, sizeof(bad));
	bad.base = VTD_BASE;
	bad.cap = VTD_DEFAULT_CAP;
	bad.ecap = VTD_DEFAULT_ECAP;
	bad.flags = 1;
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_REGS,
						  KVM_DEV_VIOMMU_REGS_CONFIG, &bad), EINVAL);
	bad.flags = 0;
	/* One to eight fault recording registers, and CAP.NFR to match. */
	bad.nr_fault_records = KVM_VIOMMU_NR_FRCD + 1;
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_REGS,
						  KVM_DEV_VIOMMU_REGS_CONFIG, &bad), EINVAL);
	bad.nr_fault_records = 2;
	bad.cap |= 3ULL << 40;
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_REGS,
						  KVM_DEV_VIOMMU_REGS_CONFIG, &bad), EINVAL);
	bad.cap = VTD_DEFAULT_CAP;
	bad.nr_fault_records = 0;
	for (i = 0; i < (int)ARRAY_SIZE(bad.__reserved); i++) {
		bad.__reserved[i] = 1;
		VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_REGS,
							  KVM_DEV_VIOMMU_REGS_CONFIG, &bad),
				    EINVAL);
		bad.__reserved[i] = 0;
	}
	/* Still unconfigured after all that. */
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_get(dev, KVM_DEV_VIOMMU_GRP_REGS,
						  KVM_DEV_VIOMMU_REGS_STATE, &s), ENXIO);

	/* Once; the effective config has the kernel's layout. */
	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, VTD_BASE, VTD_DEFAULT_CAP, VTD_DEFAULT_ECAP), 0);
	vtd_regs_get_config(dev, &c);
	TEST_ASSERT(!c.flags && c.nr_fault_records == KVM_VIOMMU_NR_FRCD &&
		    c.base == VTD_BASE &&
		    c.cap == (VTD_DEFAULT_CAP | VTD_CAP_LAYOUT) &&
		    c.ecap == (VTD_DEFAULT_ECAP | VTD_ECAP_LAYOUT),
		    "REGS_CONFIG get: flags 0x%x records %u base 0x%llx cap 0x%llx ecap 0x%llx",
		    c.flags, c.nr_fault_records, (unsigned long long)c.base,
		    (unsigned long long)c.cap,
		    (unsigned long long)c.ecap);
	for (i = 0; i < (int)ARRAY_SIZE(c.__reserved); i++)
		TEST_ASSERT(!c.__reserved[i], "REGS_CONFIG get: __reserved[%d] 0x%llx", i,
			    (unsigned long long)c.__reserved[i]);
	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, VTD_BASE, VTD_DEFAULT_CAP, VTD_DEFAULT_ECAP),
			    EBUSY);
	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, VTD_BASE + 0x1000, VTD_DEFAULT_CAP,
					      VTD_DEFAULT_ECAP), EBUSY);
	qi_regs_state_get(dev, &s);
	close(dev);
	kvm_vm_free(vm);

	/* What is accepted, each on a device of its own. */
	config_fresh(BIT_ULL(52) - 0x1000, VTD_DEFAULT_CAP, VTD_DEFAULT_ECAP, 0);
	config_fresh(VTD_BASE, VTD_DEFAULT_CAP | CAP_CM | CAP_ZLR | CAP_SAGAW_57, 0, 0);
	config_fresh(VTD_BASE, VTD_DEFAULT_CAP | VTD_CAP_LAYOUT,
		     VTD_DEFAULT_ECAP | ECAP_C | ECAP_SC | VTD_ECAP_LAYOUT, 0);
	config_fresh(VTD_BASE, 0, ECAP_QI, 0);
}

/* ---- tests: the registers ----------------------------------------------------------- */

TEST_F_TIMEOUT(regs, reset_values, TEST_TIMEOUT_S)
{
	static const struct { uint32_t off; int size; uint64_t val; } regs[] = {
		{ DMAR_VER_REG, 4, DMAR_VER_1_0 },
		{ DMAR_GCMD_REG, 4, 0 },
		{ DMAR_GSTS_REG, 4, 0 },
		{ DMAR_RTADDR_REG, 8, 0 },
		{ DMAR_CCMD_REG, 8, 0 },
		{ DMAR_FSTS_REG, 4, 0 },
		{ DMAR_FECTL_REG, 4, DMA_ECTL_IM },
		{ DMAR_FEDATA_REG, 4, 0 },
		{ DMAR_FEADDR_REG, 4, 0 },
		{ DMAR_FEUADDR_REG, 4, 0 },
		{ DMAR_PMEN_REG, 4, 0 },
		{ DMAR_IQH_REG, 8, 0 },
		{ DMAR_IQT_REG, 8, 0 },
		{ DMAR_IQA_REG, 8, 0 },
		{ DMAR_ICS_REG, 4, 0 },
		{ DMAR_IECTL_REG, 4, DMA_ECTL_IM },
		{ DMAR_IEDATA_REG, 4, 0 },
		{ DMAR_IEADDR_REG, 4, 0 },
		{ DMAR_IEUADDR_REG, 4, 0 },
		{ DMAR_IRTA_REG, 8, 0 },
		{ DMAR_IVA_REG, 8, 0 },
		{ DMAR_IOTLB_REG, 8, 0 },
		/* No register there. */
		{ 0x48, 4, 0 }, { 0x100, 8, 0 }, { 0x1f8, 8, 0 },
		{ DMAR_FRCD_REG(KVM_VIOMMU_NR_FRCD), 8, 0 }, { 0xffc, 4, 0 },
	};
	struct qt *t = qt_create();
	struct kvm_viommu_regs_state s;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(regs); i++)
		qt_assert_reg(t, regs[i].off, regs[i].size, regs[i].val, "reset value");
	qt_assert_reg(t, DMAR_CAP_REG, 8, t->v->cfg.cap, "CAP");
	qt_assert_reg(t, DMAR_ECAP_REG, 8, t->v->cfg.ecap, "ECAP");
	for (i = 0; i < KVM_VIOMMU_NR_FRCD; i++) {
		qt_assert_reg(t, DMAR_FRCD_REG(i), 8, 0, "FRCD low");
		qt_assert_reg(t, DMAR_FRCD_REG(i) + 8, 8, 0, "FRCD high");
	}
	TEST_ASSERT(t->iommu->cap == t->v->cfg.cap && t->iommu->ecap == t->v->cfg.ecap,
		    "the guest read CAP 0x%llx ECAP 0x%llx",
		    (unsigned long long)t->iommu->cap, (unsigned long long)t->iommu->ecap);

	qi_regs_state_get(t->v->dev, &s);
	TEST_ASSERT(s.fectl == DMA_ECTL_IM && s.iectl == DMA_ECTL_IM && !s.gsts && !s.fsts &&
		    !s.iqh && !s.iqt && !s.iqa && !s.irta && !s.rtaddr,
		    "REGS_STATE at reset: fectl 0x%x iectl 0x%x gsts 0x%x fsts 0x%x iqa 0x%llx",
		    s.fectl, s.iectl, s.gsts, s.fsts, (unsigned long long)s.iqa);
	for (i = 0; i < ARRAY_SIZE(s.__reserved2); i++)
		TEST_ASSERT(!s.__reserved2[i], "REGS_STATE __reserved2[%u] 0x%llx", i,
			    (unsigned long long)s.__reserved2[i]);
	qt_destroy(t);
}

/* Writes @val (@size bytes), expects @want back. */
static void rw(struct qt *t, uint32_t off, int size, uint64_t val, uint64_t want)
{
	qt_write(t, off, size, val);
	qt_assert_reg(t, off, size, want, "after a write");
}

TEST_F_TIMEOUT(regs, register_widths, TEST_TIMEOUT_S)
{
	struct qt *t = qt_create();
	uint64_t cap = t->v->cfg.cap;

	/* Read-only. */
	rw(t, DMAR_VER_REG, 4, ~0U, DMAR_VER_1_0);
	rw(t, DMAR_CAP_REG, 8, ~0ULL, cap);
	rw(t, DMAR_ECAP_REG, 8, 0, t->v->cfg.ecap);
	rw(t, DMAR_GSTS_REG, 4, ~0U, 0);
	rw(t, DMAR_IQH_REG, 8, ~0ULL, 0);
	rw(t, DMAR_PMEN_REG, 4, ~0U, 0);
	/* Read-write, with their reserved bits. */
	rw(t, DMAR_RTADDR_REG, 8, ~0ULL, ~0xfffULL);
	rw(t, DMAR_RTADDR_REG, 8, 0x123456789abcdfffULL, 0x123456789abcd000ULL);
	rw(t, DMAR_IQT_REG, 8, ~0ULL, 0x7fff0);
	qt_assert_reg(t, DMAR_IQH_REG, 8, 0, "IQH after IQT with QI off");
	qt_assert_reg(t, DMAR_FSTS_REG, 4, 0, "FSTS after IQT with QI off");
	rw(t, DMAR_IQT_REG, 8, 0, 0);
	rw(t, DMAR_IQA_REG, 8, ~0ULL, ~0xfffULL | DMA_IQA_DW | DMA_IQA_QS_MASK);
	rw(t, DMAR_IQA_REG, 8, 0, 0);
	rw(t, DMAR_IRTA_REG, 8, ~0ULL, ~0xfffULL | KVM_VIOMMU_IRTA_EIME | 0xf);
	rw(t, DMAR_FEDATA_REG, 4, ~0U, 0xffff);
	rw(t, DMAR_FEADDR_REG, 4, ~0U, 0xfffffffc);
	rw(t, DMAR_FEUADDR_REG, 4, ~0U, ~0U);
	rw(t, DMAR_IEDATA_REG, 4, ~0U, 0xffff);
	rw(t, DMAR_IEADDR_REG, 4, ~0U, 0xfffffffc);
	rw(t, DMAR_IEUADDR_REG, 4, ~0U, ~0U);
	rw(t, DMAR_FECTL_REG, 4, ~0U, DMA_ECTL_IM);	/* IP is read-only */
	rw(t, DMAR_FECTL_REG, 4, 0, 0);
	rw(t, DMAR_IECTL_REG, 4, ~0U, DMA_ECTL_IM);
	rw(t, DMAR_IECTL_REG, 4, 0, 0);
	rw(t, DMAR_IVA_REG, 8, 0x12345000ULL | QI_IOTLB_IH | 3, 0x12345000ULL | QI_IOTLB_IH | 3);
	/* RW1C with nothing set. */
	rw(t, DMAR_FSTS_REG, 4, ~0U, 0);
	rw(t, DMAR_ICS_REG, 4, ~0U, 0);

	/* 64-bit registers as two dwords, low first; and the other way round. */
	qt_assert_reg(t, DMAR_CAP_REG, 4, (uint32_t)cap, "CAP low dword");
	qt_assert_reg(t, DMAR_CAP_REG + 4, 4, cap >> 32, "CAP high dword");
	qt_wr32(t, DMAR_IQA_REG, 0x5000 | 2);
	qt_wr32(t, DMAR_IQA_REG + 4, 0x12);
	qt_assert_reg(t, DMAR_IQA_REG, 8, 0x1200005002ULL, "IQA from two dwords");
	qt_assert_reg(t, DMAR_IQA_REG + 4, 4, 0x12, "IQA high dword");
	qt_wr64(t, DMAR_IQA_REG, 0);
	/* An 8-byte access to two 32-bit registers is two dword accesses. */
	qt_wr64(t, DMAR_FECTL_REG, 0x1234ULL << 32 | DMA_ECTL_IM);
	qt_assert_reg(t, DMAR_FEDATA_REG, 4, 0x1234, "FEDATA by an 8-byte write at FECTL");
	qt_assert_reg(t, DMAR_FECTL_REG, 8, 0x1234ULL << 32 | DMA_ECTL_IM, "FECTL+FEDATA");
	qt_wr64(t, DMAR_IEDATA_REG + 4, 0xabcdULL << 32 | 0xfee00000);
	qt_assert_reg(t, DMAR_IEADDR_REG, 4, 0xfee00000, "IEADDR by an 8-byte write");
	qt_assert_reg(t, DMAR_IEUADDR_REG, 4, 0xabcd, "IEUADDR by an 8-byte write");

	/* Any other access reads 0 and is dropped. */
	qt_write(t, DMAR_FEDATA_REG, 1, 0x55);
	qt_write(t, DMAR_FEDATA_REG, 2, 0x5555);
	qt_write(t, DMAR_FEDATA_REG + 1, 4, 0x55555555);
	qt_write(t, DMAR_FEDATA_REG, 8, 0x5555555555555555ULL);	/* not 8-aligned */
	qt_assert_reg(t, DMAR_FEDATA_REG, 4, 0x1234, "FEDATA after odd-size writes");
	qt_assert_reg(t, DMAR_FEADDR_REG, 4, 0xfffffffc, "FEADDR after odd-size writes");
	qt_assert_reg(t, DMAR_VER_REG, 1, 0, "1-byte read");
	qt_assert_reg(t, DMAR_CAP_REG, 2, 0, "2-byte read");
	qt_assert_reg(t, DMAR_CAP_REG + 1, 4, 0, "misaligned 4-byte read");
	qt_assert_reg(t, DMAR_CAP_REG + 4, 8, 0, "misaligned 8-byte read");
	/* No register: writes dropped. */
	rw(t, 0x48, 4, ~0U, 0);
	rw(t, 0x800, 8, ~0ULL, 0);
	qt_destroy(t);
}

/* ---- tests: migration, fuzzing, two vCPUs against the VMM --------------------------- */

TEST_F_TIMEOUT(regs, migration_round_trip, TEST_TIMEOUT_S)
{
	struct vtd_desc flush = vtd_desc_iotlb(VTD_G_PAGE, 2, 0x3000, 0, false);
	struct kvm_viommu_regs_state s, bad, got, want;
	struct qt *a = qt_create(), *b;
	uint32_t index, wait;
	int i;

	qt_fault_events(a, false);
	qt_inv_events(a, true);
	qt_bringup(a, 1, false);
	TEST_ASSERT(!qt_cmd(a, QT_OP_MODIFY_IRTE, 5, qt_irte_lo(QI_MSI_VEC + 4), 0, 0),
		    "modify_irte");
	qi_assert_remap(a, 5, QI_MSI_VEC + 4, "source, IRTE 5");
	qt_wr64(a, DMAR_RTADDR_REG, 0x5555000);
	qt_cmd(a, QT_OP_GCMD, a->iommu->gcmd, DMA_GCMD_SRTP, DMA_GSTS_RTPS, DMA_GSTS_RTPS);
	qt_wr64(a, DMAR_RTADDR_REG, 0x6666000);		/* not latched */
	qt_queue(a, NULL, 0, QT_Q_WAIT | QT_Q_RING, QI_IWD_IF, &wait);	/* ICS.IWC, IECTL.IP */
	TEST_ASSERT(!qt_poll(a, wait, wait, 0), "wait with IF");
	TEST_ASSERT(qt_signal(a, 200) == 0, "MSI of a not-present IRTE");	/* a record */
	qt_assert_irqs(a, QT_FAULT_VEC, 1, "source fault event");
	/* A wait held back by an event the VMM has not ACKed. */
	vtd_event_config(a->v->dev, KVM_VIOMMU_EVENT_IOTLB);
	index = qt_queue(a, &flush, 1, QT_Q_WAIT | QT_Q_RING, 0, &wait);
	TEST_ASSERT(qt_status(a, wait) == QI_IN_USE, "wait completed unACKed");

	qi_regs_state_get(a->v->dev, &s);
	TEST_ASSERT(s.gsts == (DMA_GSTS_QIES | DMA_GSTS_IRTPS | DMA_GSTS_IRES | DMA_GSTS_RTPS) &&
		    s.iqh == (uint64_t)wait << 4 && s.iqt == (uint64_t)a->iommu->free_head << 4 &&
		    s.iqa == (VTD_QUEUE_GPA | 1) && s.irta == QT_IRTA && s.irta_active == QT_IRTA &&
		    s.rtaddr == 0x6666000 && s.rtaddr_active == 0x5555000 &&
		    s.ics == DMA_ICS_IWC && s.iectl == (DMA_ECTL_IM | DMA_ECTL_IP) &&
		    s.iedata == QT_INV_VEC && s.ieaddr == QT_MSI_ADDR &&
		    s.fedata == QT_FAULT_VEC && (s.fsts & DMA_FSTS_PPF) &&
		    (s.frcd[0][1] & BIT_ULL(63)) && s.frcd[0][0] >> 48 == 200,
		    "REGS_STATE: gsts 0x%x iqh 0x%llx iqt 0x%llx iqa 0x%llx irta 0x%llx/0x%llx rtaddr 0x%llx/0x%llx ics 0x%x iectl 0x%x fsts 0x%x frcd0 0x%llx",
		    s.gsts, (unsigned long long)s.iqh, (unsigned long long)s.iqt,
		    (unsigned long long)s.iqa, (unsigned long long)s.irta,
		    (unsigned long long)s.irta_active, (unsigned long long)s.rtaddr,
		    (unsigned long long)s.rtaddr_active, s.ics, s.iectl, s.fsts,
		    (unsigned long long)s.frcd[0][1]);

	/* The destination: same config, guest memory and driver state copied. */
	b = __qt_create(NULL);
	memcpy(b->v->mem, a->v->mem, VTD_MEM_SIZE);
	*b->iommu = *a->iommu;
	bad = s;
	bad.flags = 1;
	VIOMMU_ASSERT_ERRNO(__qi_regs_state_set(b->v->dev, &bad), EINVAL);
	bad = s;
	bad.__reserved = 1;
	VIOMMU_ASSERT_ERRNO(__qi_regs_state_set(b->v->dev, &bad), EINVAL);
	for (i = 0; i < (int)ARRAY_SIZE(bad.__reserved2); i += 5) {
		bad = s;
		bad.__reserved2[i] = 1;
		VIOMMU_ASSERT_ERRNO(__qi_regs_state_set(b->v->dev, &bad), EINVAL);
	}
	VIOMMU_ASSERT_ERRNO(__qi_regs_state_set(b->v->dev, &s), 0);
	/*
	 * The queue resumes on b's vCPU before it enters the guest (b's VMM
	 * has no interest), and the guest goes on as if nothing happened.
	 */
	qt_start(b);
	TEST_ASSERT(!qt_poll(b, index, wait, 0), "destination: poll of the held wait");
	TEST_ASSERT(qt_status(b, wait) == QI_DONE, "destination: the held wait did not complete");
	qi_regs_state_get(b->v->dev, &got);
	want = s;
	want.iqh = s.iqt;
	TEST_ASSERT(!memcmp(&got, &want, sizeof(got)),
		    "REGS_STATE round trip: gsts 0x%x/0x%x iqh 0x%llx/0x%llx fsts 0x%x/0x%x iectl 0x%x/0x%x irta_active 0x%llx/0x%llx rtaddr_active 0x%llx/0x%llx",
		    got.gsts, want.gsts, (unsigned long long)got.iqh,
		    (unsigned long long)want.iqh, got.fsts, want.fsts, got.iectl, want.iectl,
		    (unsigned long long)got.irta_active, (unsigned long long)want.irta_active,
		    (unsigned long long)got.rtaddr_active, (unsigned long long)want.rtaddr_active);
	TEST_ASSERT(viommu_get_ir_status(b->v->dev) == KVM_VIOMMU_IR_ENABLE,
		    "destination IR_STATUS 0x%x", viommu_get_ir_status(b->v->dev));

	qi_assert_remap(b, 5, QI_MSI_VEC + 4, "destination, IRTE 5 from the copied table");
	TEST_ASSERT(!qt_cmd(b, QT_OP_MODIFY_IRTE, 6, qt_irte_lo(QI_MSI_VEC + 5), 0, 0),
		    "modify_irte");
	qi_assert_remap(b, 6, QI_MSI_VEC + 5, "destination, IRTE 6");
	for (i = 0; i < 300; i++)
		TEST_ASSERT(!qt_submit1(b, vtd_desc_iec(i % IRT_ENTRIES, 0)), "destination IEC %d",
			    i);
	qi_assert_faults_read(b, 1, 200, 0);
	qt_assert_idle(b, "destination");
	qt_wr32(b, DMAR_IECTL_REG, 0);
	qt_assert_irqs(b, QT_INV_VEC, 1, "destination: the pending invalidation event");
	qt_assert_reg(b, DMAR_RTADDR_REG, 8, 0x6666000, "destination RTADDR");

	/* IR off and CFIS on, as a saved GSTS says. */
	qi_regs_state_get(b->v->dev, &got);
	got.gsts = (got.gsts & ~DMA_GSTS_IRES) | DMA_GSTS_CFIS;
	VIOMMU_ASSERT_ERRNO(__qi_regs_state_set(b->v->dev, &got), 0);
	TEST_ASSERT(viommu_get_ir_status(b->v->dev) == KVM_VIOMMU_IR_CFIS,
		    "IR_STATUS 0x%x after a state with CFIS, without IRES",
		    viommu_get_ir_status(b->v->dev));
	qt_assert_reg(b, DMAR_GSTS_REG, 4, got.gsts, "GSTS as set");

	/* The source never got its ACK. */
	TEST_ASSERT(qt_status(a, wait) == QI_IN_USE, "source: the held wait completed");
	qt_destroy(b);
	qt_destroy(a);
}

/* The qwords of struct kvm_viommu_regs_state before its reserved ones. */
#define STATE_QWORDS	(offsetof(struct kvm_viommu_regs_state, __reserved) / 8)

TEST_F_TIMEOUT(regs, fuzz_every_offset, TEST_TIMEOUT_S)
{
	struct kvm_viommu_regs_state s;
	struct qt *t = qt_create();
	uint64_t seed = 0x9e3779b97f4a7c15ULL, *p;
	int i, j, k, r, accepted = 0;

	qt_bringup(t, 0, false);
	qt_fault_events(t, false);
	qt_inv_events(t, false);
	qt_cmd(t, OP_FUZZ, 0x1234, 2, 0, 0);
	qt_assert_reg(t, DMAR_VER_REG, 4, DMAR_VER_1_0, "VER after the fuzzing");
	qt_assert_reg(t, DMAR_CAP_REG, 8, t->v->cfg.cap, "CAP after the fuzzing");
	qt_assert_reg(t, DMAR_ECAP_REG, 8, t->v->cfg.ecap, "ECAP after the fuzzing");
	qi_regs_state_get(t->v->dev, &s);

	/*
	 * The saved state with a few random bits flipped: set must take it
	 * or refuse it whole, and the guest go on either way.
	 */
	for (i = 0; i < 64; i++) {
		qi_regs_state_get(t->v->dev, &s);
		p = (uint64_t *)&s;
		for (j = 0; j < 1 + i % 3; j++) {
			k = xorshift(&seed) % STATE_QWORDS;
			p[k] ^= BIT_ULL(xorshift(&seed) & 63);
		}
		s.flags = 0;
		s.__reserved = 0;
		s.fedata = QT_FAULT_VEC;
		s.iedata = QT_INV_VEC;
		r = __qi_regs_state_set(t->v->dev, &s) ? -errno : 0;
		TEST_ASSERT(r == 0 || r == -EINVAL, "random REGS_STATE %d: %d", i, r);
		accepted += !r;
		if (i < 4)
			qt_cmd(t, OP_FUZZ, i, 1, 0, 0);
		qt_assert_reg(t, DMAR_VER_REG, 4, DMAR_VER_1_0, "VER after a random state");
	}
	ksft_print_msg("fuzz: %d of 64 random states accepted\n", accepted);
	qt_destroy(t);
}

/*
 * Two vCPUs writing and reading the page at random while the VMM saves and
 * restores the state, pops and ACKs events and invalidates the IR cache:
 * the lib's vCPU threads fail on any exit but their syncs.
 */
static void stress_guest(uint64_t idx)
{
	struct vtd_iommu me = { .reg = VTD_BASE };
	uint64_t s = 0x5eed + idx, r;
	uint32_t off;
	int size;

	for (;;) {
		r = xorshift(&s);
		size = r & 1 ? 8 : 4;
		off = (r >> 8) % KVM_VIOMMU_REG_SIZE & ~(size - 1);
		if (r & 2)
			vtd_read(&me, off, size);
		else
			vtd_write(&me, off, size, fuzz_sanitize(off, size, xorshift(&s)));
	}
}

TEST_F_TIMEOUT(regs, concurrent_stress, TEST_TIMEOUT_S)
{
	struct kvm_viommu_regs_state st;
	struct kvm_viommu_event e;
	struct viommu_guest *g;
	struct viommu_msi m;
	uint64_t end, rounds = 0;
	int r;

	g = viommu_guest_create(2, VIOMMU_GUEST_X2APIC, true);
	vtd_guest_prepare(g, stress_guest);
	vtd_regs_config(g->dev, VTD_BASE, VTD_DEFAULT_CAP, VTD_DEFAULT_ECAP);
	vtd_event_config(g->dev, VTD_EVENT_TYPES_ALL);
	viommu_guest_start(g);

	end = viommu_now_ns() + 3ULL * 1000000000ULL;
	while (viommu_now_ns() < end) {
		qi_regs_state_get(g->dev, &st);
		r = __qi_regs_state_set(g->dev, &st) ? -errno : 0;
		TEST_ASSERT(r == 0 || r == -EINVAL, "REGS_STATE set of a state just read: %d", r);
		if (vtd_event_pop(g->dev, &e))
			vtd_event_ack(g->dev, e.seq);
		viommu_iec_global(g->dev);
		m = viommu_msi_remappable(rounds & 0xff, false, 0);
		viommu_signal_msi(g->vm, &m);
		rounds++;
	}
	viommu_guest_check_corruption(g);
	/* Beyond the syncs, only the stop's kicks. */
	TEST_ASSERT(viommu_guest_exits(g) - viommu_guest_ucalls(g) <= (uint64_t)g->nr_vcpus,
		    "%llu KVM_RUN returns, %llu of them syncs",
		    (unsigned long long)viommu_guest_exits(g),
		    (unsigned long long)viommu_guest_ucalls(g));
	qi_regs_state_get(g->dev, &st);
	ksft_print_msg("stress: %llu VMM rounds against 2 vCPUs\n", (unsigned long long)rounds);
	viommu_guest_destroy(g);
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, vtd_regs_unsupported);
}
