// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_qi_test: the VT-d register page and invalidation queue of the
 * KVM_DEV_TYPE_INTEL_VIOMMU device (KVM_DEV_VIOMMU_GRP_REGS and
 * KVM_DEV_VIOMMU_GRP_EVENT in include/uapi/linux/kvm_viommu.h).
 *
 * The guest (one x2APIC vCPU that counts its interrupts) runs the Linux
 * intel-iommu driver's register sequences from lib/viommu_regs.c, one
 * command at a time (include/viommu_qt.h): the host puts a command into the
 * guest's mailbox and runs the vCPU up to the guest's next GUEST_SYNC.  That
 * sync is the only exit to userspace a command may cause: the register page
 * is the kernel's, so an MMIO exit fails the case (vtd_run()), and qt_cmd()
 * asserts that each command took exactly one KVM_RUN return.
 *
 * Every case runs in a child process of its own, so that a failed assertion
 * (TEST_ASSERT exits) or a hang (alarm) costs one TAP result, not the rest.
 * The whole program skips without the device's interrupt remapping, each
 * case when the loaded KVM does not serve the register page.
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
#include "kselftest.h"
#include "kvm_util.h"
#include "processor.h"
#include "viommu.h"
#include "viommu_regs.h"
#include "viommu_qt.h"

#define CASE_TIMEOUT_S		120

/* The vector of the remapped MSIs. */
#define MSI_VEC			0x60

/* QT_IRTA's entries. */
#define IRT_ENTRIES		256

/* Outside every memslot. */
#define NO_MEM_GPA		0x7f00000000ULL

/* ---- the guest's commands of this test's own ------------------------------------- */

enum {
	OP_FUZZ = QT_OP_TEST,	/* arg: seed, rounds */
	OP_FILL,		/* arg: first, count: that many IOTLB-global entries */
	OP_STORM,		/* arg: doorbells: IQT one short of IQH each -> ret IQH */
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

static void guest_fill(struct vtd_iommu *iommu, uint32_t first, uint32_t count)
{
	struct vtd_desc d = vtd_desc_iotlb(VTD_G_GLOBAL, 0, 0, 0, false);
	uint32_t i;

	for (i = 0; i < count; i++)
		memcpy((void *)(iommu->qa + ((uint64_t)((first + i) % iommu->len) << iommu->shift)),
		       &d, 1U << iommu->shift);
}

static uint64_t guest_storm(struct vtd_iommu *iommu, uint64_t doorbells)
{
	uint32_t head = 0;
	uint64_t i;

	for (i = 0; i < doorbells; i++) {
		head = vtd_readl(iommu, DMAR_IQH_REG) >> iommu->shift;
		iommu->free_head = (head + iommu->len - 1) % iommu->len;
		vtd_qi_doorbell(iommu);
		GUEST_ASSERT_2(vtd_readl(iommu, DMAR_IQH_REG) == iommu->free_head << iommu->shift,
			       vtd_readl(iommu, DMAR_IQH_REG), i);
	}
	return vtd_readl(iommu, DMAR_IQH_REG);
}

static bool qi_guest_op(struct qt_mbox *m, struct vtd_iommu *iommu)
{
	uint64_t *a = m->arg;

	switch (m->op) {
	case OP_FUZZ:
		guest_fuzz(iommu, a[0], a[1]);
		return true;
	case OP_FILL:
		guest_fill(iommu, a[0], a[1]);
		return true;
	case OP_STORM:
		m->ret = guest_storm(iommu, a[0]);
		return true;
	}
	return false;
}

/* ---- host side ------------------------------------------------------------------ */

/* The remappable MSI of IRTE @index must arrive as @vec (once more). */
static void qt_assert_remap(struct qt *t, uint16_t index, int vec, const char *what)
{
	uint32_t before = viommu_guest_count(t->v->g, 0, vec);
	int r = qt_signal(t, index);

	TEST_ASSERT(r >= 1, "%s: KVM_SIGNAL_MSI of IRTE %u: %d", what, index, r);
	qt_assert_irqs(t, vec, before + 1, what);
}

static void regs_state_get(int dev, struct kvm_viommu_regs_state *s)
{
	memset(s, 0xa5, sizeof(*s));
	kvm_device_attr_get(dev, KVM_DEV_VIOMMU_GRP_REGS,
			    KVM_DEV_VIOMMU_REGS_STATE, s);
	TEST_ASSERT(!s->flags && !s->__reserved, "REGS_STATE get: flags 0x%x __reserved 0x%x",
		    s->flags, s->__reserved);
}

static int __regs_state_set(int dev, struct kvm_viommu_regs_state *s)
{
	return __kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_REGS, KVM_DEV_VIOMMU_REGS_STATE, s);
}

static void assert_event(const struct kvm_viommu_event *e, uint32_t type, uint64_t seq,
			 uint32_t flags, const uint64_t *desc, int nr_qw)
{
	int i;

	TEST_ASSERT(e->type == type && e->seq == seq && e->flags == flags,
		    "event: type 0x%x seq %llu flags 0x%x, expected type 0x%x seq %llu flags 0x%x",
		    e->type, (unsigned long long)e->seq, e->flags, type,
		    (unsigned long long)seq, flags);
	for (i = 0; i < nr_qw; i++)
		TEST_ASSERT(e->desc[i] == desc[i], "event %llu: desc[%d] 0x%llx, expected 0x%llx",
			    (unsigned long long)seq, i, (unsigned long long)e->desc[i],
			    (unsigned long long)desc[i]);
}

/* ---- cases: configuration ------------------------------------------------------------ */

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

static void test_regs_config(void)
{
	struct kvm_viommu_regs_config c, bad;
	struct kvm_viommu_regs_state s;
	struct kvm_vm *vm;
	int dev, i;

	vtd_skip_without_regs();
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
	VIOMMU_ASSERT_ERRNO(__regs_state_set(dev, &s), ENXIO);

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
	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, VTD_BASE, VTD_DEFAULT_CAP | 0x21ULL << CAP_FRO_SHIFT,
					      VTD_DEFAULT_ECAP), EINVAL);
	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, VTD_BASE, VTD_DEFAULT_CAP | 3ULL << CAP_NFR_SHIFT,
					      VTD_DEFAULT_ECAP), EINVAL);
	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, VTD_BASE, VTD_DEFAULT_CAP,
					      VTD_DEFAULT_ECAP | 0x10ULL << ECAP_IRO_SHIFT), EINVAL);
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
							  KVM_DEV_VIOMMU_REGS_CONFIG, &bad), EINVAL);
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
	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, VTD_BASE, VTD_DEFAULT_CAP, VTD_DEFAULT_ECAP), EBUSY);
	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(dev, VTD_BASE + 0x1000, VTD_DEFAULT_CAP,
					      VTD_DEFAULT_ECAP), EBUSY);
	regs_state_get(dev, &s);
	close(dev);
	kvm_vm_free(vm);

	/* What is accepted, each on a device of its own. */
	config_fresh(BIT_ULL(52) - 0x1000, VTD_DEFAULT_CAP, VTD_DEFAULT_ECAP, 0);
	config_fresh(VTD_BASE, VTD_DEFAULT_CAP | CAP_CM | CAP_ZLR | CAP_SAGAW_57, 0, 0);
	config_fresh(VTD_BASE, VTD_DEFAULT_CAP | VTD_CAP_LAYOUT,
		     VTD_DEFAULT_ECAP | ECAP_C | ECAP_SC | VTD_ECAP_LAYOUT, 0);
	config_fresh(VTD_BASE, 0, ECAP_QI, 0);
}

/* ---- cases: the registers ----------------------------------------------------------------- */

static void test_reset_values(void)
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

	regs_state_get(t->v->dev, &s);
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

static void test_register_widths(void)
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

/* ---- cases: the Linux driver's sequences ------------------------------------------------ */

static void test_linux_bringup(void)
{
	struct qt *t = qt_create();
	struct viommu_msi compat = viommu_msi_compat(0, false, MSI_VEC + 15, VIOMMU_DLM_FIXED);
	struct viommu_stats s0, s1;
	struct kvm_viommu_ir_table tbl;
	struct kvm_viommu_ir_status ir_st = { 0 };
	struct kvm_viommu_regs_state st;
	int r;

	/* Before: compatibility MSIs go through, as on stock KVM. */
	r = viommu_signal_msi(t->v->vm, &compat);
	TEST_ASSERT(r >= 1, "compatibility MSI with IR off: %d", r);
	qt_assert_irqs(t, MSI_VEC + 15, 1, "compatibility MSI, IR off");

	qt_bringup(t, 0, false);
	qt_assert_reg(t, DMAR_GCMD_REG, 4, 0, "GCMD is write-only");
	qt_assert_reg(t, DMAR_IRTA_REG, 8, QT_IRTA, "IRTA");
	qt_assert_idle(t, "after bring-up");
	qt_assert_reg(t, DMAR_IQH_REG, 8, 2 << 4, "IQH after the global IEC and its wait");
	TEST_ASSERT(viommu_get_ir_status(t->v->dev) == KVM_VIOMMU_IR_ENABLE,
		    "IR_STATUS 0x%x after GCMD.IRE", viommu_get_ir_status(t->v->dev));
	memset(&tbl, 0, sizeof(tbl));
	kvm_device_attr_get(t->v->dev, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_TABLE, &tbl);
	TEST_ASSERT(tbl.irta == QT_IRTA, "IR_TABLE 0x%llx after SIRTP, expected 0x%llx",
		    (unsigned long long)tbl.irta, (unsigned long long)QT_IRTA);
	/* The guest's SIRTP sets it now; the VMM's IR_TABLE set is refused. */
	tbl.irta = QT_IRTA + 0x2000;
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(t->v->dev, KVM_DEV_VIOMMU_GRP_IR,
						  KVM_DEV_VIOMMU_IR_TABLE, &tbl), EBUSY);
	qt_assert_reg(t, DMAR_IRTA_REG, 8, QT_IRTA, "IRTA after a refused IR_TABLE set");
	/* IR on, CFI off: compatibility MSIs are blocked. */
	r = viommu_signal_msi(t->v->vm, &compat);
	TEST_ASSERT(r == 0, "compatibility MSI with IRE, CFIS clear: %d", r);
	qt_assert_irqs(t, MSI_VEC + 15, 1, "compatibility MSI blocked");
	/* That was a fault: record 0, cleared by hand (RW1C). */
	TEST_ASSERT(qt_rd32(t, DMAR_FSTS_REG) & DMA_FSTS_PPF, "no PPF after a blocked MSI");
	qt_assert_frcd(t, 0, true, KVM_VIOMMU_FR_IR_COMPAT, 0);
	qt_wr32(t, DMAR_FRCD_REG(0) + 12, DMA_FRCD_F);
	TEST_ASSERT(!qt_fsts(t), "FSTS 0x%x after clearing record 0", qt_fsts(t));

	/* An IRTE change shows only after the guest's IEC. */
	viommu_get_stats(t->v->dev, &s0);
	TEST_ASSERT(!qt_cmd(t, QT_OP_MODIFY_IRTE, 5, qt_irte_lo(MSI_VEC), 0, 0), "modify_irte");
	qt_assert_remap(t, 5, MSI_VEC, "IRTE 5 -> MSI_VEC");
	qt_assert_remap(t, 5, MSI_VEC, "IRTE 5 -> MSI_VEC, cached");
	viommu_guest_write_irte(t->v->g, 0, 5, qt_irte_lo(MSI_VEC + 1), 0);
	qt_assert_remap(t, 5, MSI_VEC, "IRTE 5 rewritten without an IEC: the cached entry");
	TEST_ASSERT(!qt_cmd(t, QT_OP_IEC, 5, 0, 0, 0), "IEC index 5");
	qt_assert_remap(t, 5, MSI_VEC + 1, "after the IEC of index 5");

	/* An index IEC elsewhere leaves it; its mask covers it; a global one does. */
	viommu_guest_write_irte(t->v->g, 0, 5, qt_irte_lo(MSI_VEC + 2), 0);
	TEST_ASSERT(!qt_cmd(t, QT_OP_IEC, 4, 0, 0, 0), "IEC index 4");
	qt_assert_remap(t, 5, MSI_VEC + 1, "after an IEC of index 4 only");
	TEST_ASSERT(!qt_cmd(t, QT_OP_IEC, 4, 1, 0, 0), "IEC index 4 mask 1");
	qt_assert_remap(t, 5, MSI_VEC + 2, "after an IEC of 4-5");
	viommu_guest_write_irte(t->v->g, 0, 5, qt_irte_lo(MSI_VEC + 3), 0);
	TEST_ASSERT(!qt_cmd(t, QT_OP_IEC, 0, 0, 1, 0), "global IEC");
	qt_assert_remap(t, 5, MSI_VEC + 3, "after a global IEC");
	viommu_get_stats(t->v->dev, &s1);
	TEST_ASSERT(s1.invalidations - s0.invalidations == 5,
		    "stats.invalidations moved by %llu for 5 IEC descriptors",
		    (unsigned long long)(s1.invalidations - s0.invalidations));
	qt_assert_idle(t, "after the IECs");

	/* A new table through SIRTP, with IR on, as after a kexec. */
	viommu_guest_write_irte(t->v->g, 0x1000, 5, qt_irte_lo(MSI_VEC + 6), 0);
	TEST_ASSERT(!qt_cmd(t, QT_OP_SET_IRTP, QT_IRTA + 0x1000, 0, 0, 0),
		    "SIRTP of a second table");
	qt_assert_reg(t, DMAR_GSTS_REG, 4, DMA_GSTS_QIES | DMA_GSTS_IRTPS | DMA_GSTS_IRES,
		      "GSTS after the second SIRTP");
	qt_assert_remap(t, 5, MSI_VEC + 6, "IRTE 5 of the second table");
	memset(&tbl, 0, sizeof(tbl));
	kvm_device_attr_get(t->v->dev, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_TABLE, &tbl);
	TEST_ASSERT(tbl.irta == QT_IRTA + 0x1000, "IR_TABLE 0x%llx after the second SIRTP",
		    (unsigned long long)tbl.irta);
	TEST_ASSERT(!qt_cmd(t, QT_OP_SET_IRTP, QT_IRTA, 0, 0, 0), "SIRTP of the first table");
	qt_assert_remap(t, 5, MSI_VEC + 3, "IRTE 5 of the first table again");

	/* GCMD.CFI: CFIS, as IR_STATUS has it; compatibility MSIs pass again. */
	r = qt_cmd(t, QT_OP_GCMD, t->iommu->gcmd | DMA_GCMD_CFI, 0, DMA_GSTS_CFIS, DMA_GSTS_CFIS);
	TEST_ASSERT(viommu_get_ir_status(t->v->dev) == (KVM_VIOMMU_IR_ENABLE | KVM_VIOMMU_IR_CFIS),
		    "IR_STATUS 0x%x after GCMD.CFI", viommu_get_ir_status(t->v->dev));
	TEST_ASSERT(viommu_signal_msi(t->v->vm, &compat) >= 1, "compatibility MSI with CFIS");
	qt_assert_irqs(t, MSI_VEC + 15, 2, "compatibility MSI, CFIS");

	/* IRE off: IR_STATUS follows; and the other way round. */
	qt_cmd(t, QT_OP_GCMD, DMA_GCMD_QIE, 0, DMA_GSTS_IRES | DMA_GSTS_CFIS, 0);
	TEST_ASSERT(viommu_get_ir_status(t->v->dev) == 0, "IR_STATUS 0x%x after IRE off",
		    viommu_get_ir_status(t->v->dev));
	/*
	 * The VMM's IR_STATUS set is refused while KVM serves the registers;
	 * REGS_STATE is its way in, and GSTS and IR_STATUS follow it.
	 */
	ir_st.flags = KVM_VIOMMU_IR_ENABLE;
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(t->v->dev, KVM_DEV_VIOMMU_GRP_IR,
						  KVM_DEV_VIOMMU_IR_STATUS, &ir_st), EBUSY);
	TEST_ASSERT(viommu_get_ir_status(t->v->dev) == 0, "IR_STATUS 0x%x after a refused set",
		    viommu_get_ir_status(t->v->dev));
	regs_state_get(t->v->dev, &st);
	st.gsts |= DMA_GSTS_IRES;
	VIOMMU_ASSERT_ERRNO(__regs_state_set(t->v->dev, &st), 0);
	TEST_ASSERT(viommu_get_ir_status(t->v->dev) == KVM_VIOMMU_IR_ENABLE,
		    "IR_STATUS 0x%x after REGS_STATE with IRES", viommu_get_ir_status(t->v->dev));
	qt_assert_reg(t, DMAR_GSTS_REG, 4, DMA_GSTS_QIES | DMA_GSTS_IRTPS | DMA_GSTS_IRES,
		      "GSTS after IRES set by the VMM through REGS_STATE");
	qt_destroy(t);
}

static void test_iotlb_context_wait(void)
{
	struct qt *t = qt_create();
	struct viommu_stats s0, s1;
	int am, g, rc;

	qt_bringup(t, 0, false);
	viommu_get_stats(t->v->dev, &s0);
	for (g = VTD_G_GLOBAL; g <= VTD_G_DOMAIN; g++) {
		rc = qt_cmd(t, QT_OP_FLUSH_IOTLB, 7, 0, 0, g);
		TEST_ASSERT(!rc, "IOTLB flush, granularity %d: %d", g, rc);
	}
	for (am = 0; am <= VTD_MAMV; am++) {
		uint64_t addr = 0x4000000000ULL + (BIT_ULL(am) << 12);

		rc = qt_cmd(t, QT_OP_FLUSH_IOTLB, 7, addr, am, VTD_G_PAGE);
		TEST_ASSERT(!rc, "page-selective IOTLB flush of 2^%d pages at 0x%llx: %d", am,
			    (unsigned long long)addr, rc);
		/* IH, as unmapping leaf entries only does. */
		rc = qt_submit1(t, vtd_desc_iotlb(VTD_G_PAGE, 7, addr, am, true));
		TEST_ASSERT(!rc, "page-selective IOTLB flush with IH, AM %d: %d", am, rc);
	}
	for (g = VTD_G_GLOBAL; g <= VTD_G_PAGE; g++) {
		rc = qt_cmd(t, QT_OP_FLUSH_CONTEXT, 3, 0x0108, g == VTD_G_PAGE ? 3 : 0, g);
		TEST_ASSERT(!rc, "context-cache flush, granularity %d: %d", g, rc);
	}
	/* Device-TLB, and a fence. */
	TEST_ASSERT(!qt_submit1(t, vtd_desc_devtlb(0x0108, 0x5000)), "device-TLB flush");
	TEST_ASSERT(!qt_submit1(t, vtd_desc_wait(QI_IWD_FN, 0, 0)), "wait with FN only");
	qt_assert_idle(t, "after IOTLB and context flushes");
	qt_assert_reg(t, DMAR_ICS_REG, 4, 0, "ICS: no wait asked for an interrupt");
	viommu_get_stats(t->v->dev, &s1);
	TEST_ASSERT(s1.invalidations == s0.invalidations,
		    "IOTLB/context flushes counted %llu IECs",
		    (unsigned long long)(s1.invalidations - s0.invalidations));
	qt_destroy(t);
}

/* Submissions of three descriptors, so that some straddle the queue's end. */
static void wrap(uint8_t qs, bool dw, unsigned int submissions)
{
	struct vtd_desc d[2] = { vtd_desc_iec_global(),
				 vtd_desc_iotlb(VTD_G_DOMAIN, 1, 0, 0, false) };
	struct qt *t = qt_create();
	unsigned int i, wraps = 0;
	uint32_t head, prev = 0;
	int rc;

	qt_bringup(t, qs, dw);
	for (i = 0; i < submissions; i++) {
		rc = qt_submit(t, d, 2);
		TEST_ASSERT(!rc, "submission %u: %d", i, rc);
		head = t->iommu->free_head;
		wraps += head < prev;
		prev = head;
	}
	TEST_ASSERT(wraps >= 2, "%u wraps of a %u-entry queue", wraps, t->iommu->len);
	qt_assert_idle(t, "after the wraps");
	TEST_ASSERT(t->iommu->free_head == (2 + 3 * submissions) % t->iommu->len,
		    "guest tail %u", t->iommu->free_head);
	qt_destroy(t);
}

static void test_queue_wrap(void)
{
	struct qt *t;

	wrap(0, false, 200);	/* 256 entries */
	wrap(0, true, 100);	/* 128 entries */
	wrap(1, false, 400);	/* 512 entries */

	/* QI off and on again, as dmar_reenable_qi(): IQH starts over. */
	t = qt_create();
	qt_bringup(t, 0, false);
	TEST_ASSERT(!qt_submit1(t, vtd_desc_iec_global()), "IEC");
	qt_cmd(t, QT_OP_DISABLE_QI, 0, 0, 0, 0);
	qt_assert_reg(t, DMAR_GSTS_REG, 4, DMA_GSTS_IRTPS | DMA_GSTS_IRES, "GSTS, QI off");
	qt_assert_reg(t, DMAR_IQH_REG, 8, 4 << 4, "IQH, QI off");
	qt_cmd(t, QT_OP_ENABLE_QI, 0, 0, 0, 0);
	qt_assert_reg(t, DMAR_IQH_REG, 8, 0, "IQH after QIE");
	TEST_ASSERT(!qt_submit1(t, vtd_desc_iec_global()), "IEC after re-enabling QI");
	qt_assert_idle(t, "QI re-enabled");
	qt_assert_reg(t, DMAR_IQH_REG, 8, 2 << 4, "IQH after one submission");
	qt_destroy(t);
}

/*
 * @bad, queued with a wait behind it: the queue stops on @bad with IQE, the
 * wait's status stays unwritten and the fault event fires once.  Linux's
 * recovery (the wait copied over @bad, IQE cleared) then lets the next
 * submission complete them all.
 */
static void assert_iqe(struct qt *t, struct vtd_desc bad, const char *what)
{
	uint32_t faults = viommu_guest_count(t->v->g, 0, QT_FAULT_VEC), index, wait, fsts;
	uint64_t iqh;
	int rc;

	index = qt_queue(t, &bad, 1, QT_Q_WAIT | QT_Q_RING, 0, &wait);
	fsts = qt_rd32(t, DMAR_FSTS_REG);
	iqh = qt_rd64(t, DMAR_IQH_REG);
	TEST_ASSERT(fsts == DMA_FSTS_IQE && iqh == (uint64_t)index << t->iommu->shift,
		    "%s: FSTS 0x%x IQH 0x%llx, expected IQE and IQH 0x%x", what, fsts,
		    (unsigned long long)iqh, index << t->iommu->shift);
	TEST_ASSERT(qt_status(t, wait) == QI_IN_USE, "%s: the wait behind it completed", what);
	qt_assert_irqs(t, QT_FAULT_VEC, faults + 1, what);
	/* Ringing again does not get past it. */
	qt_wr32(t, DMAR_IQT_REG, t->iommu->free_head << t->iommu->shift);
	qt_assert_reg(t, DMAR_IQH_REG, 8, iqh, what);
	TEST_ASSERT(qt_status(t, wait) == QI_IN_USE, "%s: IQT again, wait completed", what);
	qt_assert_irqs(t, QT_FAULT_VEC, faults + 1, what);

	rc = qt_poll(t, index, wait, 0);
	TEST_ASSERT(rc == -EINVAL, "%s: qi_check_fault() %d, expected -EINVAL", what, rc);
	qt_assert_reg(t, DMAR_FSTS_REG, 4, 0, what);
	rc = qt_submit1(t, vtd_desc_iec_global());
	TEST_ASSERT(!rc, "%s: the submission after the recovery: %d", what, rc);
	TEST_ASSERT(qt_status(t, wait) == QI_DONE, "%s: the recovered wait did not complete",
		    what);
	qt_assert_idle(t, what);
}

static void test_iqe_garbage(void)
{
	struct {
		const char *what;
		struct vtd_desc d;
	} bad[] = {
		{ "type 0", { { 0 } } },
		{ "type 0xf", { { 0xf } } },
		{ "type 6 (PASID IOTLB)", { { 6 | 1 << 4 } } },
		{ "type 7 (PASID cache)", { { 7 | 1 << 4 } } },
		{ "IEC with qw0 bit 9", vtd_desc_iec_global() },
		{ "IEC with qw0 bit 63", vtd_desc_iec(5, 0) },
		{ "IEC with qw0 bit 5", vtd_desc_iec(5, 0) },
		{ "IEC with qw1 set", vtd_desc_iec_global() },
		{ "context G=0", vtd_desc_context(0, 0, 0, 0) },
		{ "context with qw1 set", vtd_desc_context(VTD_G_GLOBAL, 0, 0, 0) },
		{ "IOTLB G=0", vtd_desc_iotlb(0, 1, 0, 0, false) },
		{ "IOTLB AM > MAMV", vtd_desc_iotlb(VTD_G_PAGE, 1, 0, VTD_MAMV + 1, false) },
		{ "IOTLB qw1 bit 7", vtd_desc_iotlb(VTD_G_PAGE, 1, 0, 0, false) },
		{ "IOTLB qw0 bit 8", vtd_desc_iotlb(VTD_G_GLOBAL, 1, 0, 0, false) },
		{ "wait status outside guest memory", vtd_desc_wait(QI_IWD_SW, 1, NO_MEM_GPA) },
		{ "wait status not 4-byte aligned",
		  vtd_desc_wait(QI_IWD_SW, 1, VTD_SCRATCH_GPA + 2) },
		{ "wait with qw0 bit 8", vtd_desc_wait(QI_IWD_SW, 1, VTD_SCRATCH_GPA) },
	};
	struct kvm_viommu_regs_config no_dt = {
		.base = VTD_BASE,
		.cap = VTD_DEFAULT_CAP,
		.ecap = VTD_DEFAULT_ECAP & ~ECAP_DT,
	};
	struct qt *t = qt_create();
	uint32_t faults;
	unsigned int i;

	bad[4].d.qw[0] |= BIT_ULL(9);
	bad[5].d.qw[0] |= BIT_ULL(63);
	bad[6].d.qw[0] |= BIT_ULL(5);
	bad[7].d.qw[1] = 1;
	bad[9].d.qw[1] = 1;
	bad[12].d.qw[1] |= BIT_ULL(7);
	bad[13].d.qw[0] |= BIT_ULL(8);
	bad[16].d.qw[0] |= BIT_ULL(8);

	qt_fault_events(t, false);
	qt_bringup(t, 0, false);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		assert_iqe(t, bad[i].d, bad[i].what);
	TEST_ASSERT(*(uint32_t *)vtd_hva(t->v, VTD_SCRATCH_GPA) == 0,
		    "a rejected wait wrote its status");
	/*
	 * Not garbage: Linux widens AM over a range and leaves ADDR where
	 * the range starts; hardware ignores ADDR's bits below 2^AM.
	 */
	TEST_ASSERT(!qt_submit1(t, vtd_desc_iotlb(VTD_G_PAGE, 1, 0x1000, 2, false)),
		    "page-selective IOTLB flush, ADDR not 2^AM aligned");
	qt_assert_idle(t, "unaligned page-selective flush");

	/* Masked: FECTL.IP instead of the interrupt; unmasking sends it. */
	faults = viommu_guest_count(t->v->g, 0, QT_FAULT_VEC);
	qt_wr32(t, DMAR_FECTL_REG, DMA_ECTL_IM);
	qt_queue(t, &bad[0].d, 1, QT_Q_RING, 0, NULL);
	qt_assert_reg(t, DMAR_FECTL_REG, 4, DMA_ECTL_IM | DMA_ECTL_IP, "IQE, fault event masked");
	qt_assert_irqs(t, QT_FAULT_VEC, faults, "IQE, fault event masked");
	qt_wr32(t, DMAR_FECTL_REG, 0);
	qt_assert_irqs(t, QT_FAULT_VEC, faults + 1, "fault event unmasked");
	qt_assert_reg(t, DMAR_FECTL_REG, 4, 0, "FECTL after the event was sent");
	/* RW1C: 0 leaves IQE, 1 clears it. */
	qt_wr32(t, DMAR_FSTS_REG, 0);
	qt_assert_reg(t, DMAR_FSTS_REG, 4, DMA_FSTS_IQE, "FSTS after writing 0");
	qt_wr32(t, DMAR_FSTS_REG, DMA_FSTS_IQE);
	qt_assert_reg(t, DMAR_FSTS_REG, 4, 0, "FSTS after writing IQE");
	/* Masked, then serviced (IQE cleared): IP goes, unmasking sends nothing. */
	qt_wr32(t, DMAR_FECTL_REG, DMA_ECTL_IM);
	qt_wr32(t, DMAR_IQT_REG, t->iommu->free_head << 4);
	qt_assert_reg(t, DMAR_FECTL_REG, 4, DMA_ECTL_IM | DMA_ECTL_IP, "IQE again, masked");
	qt_wr32(t, DMAR_FSTS_REG, DMA_FSTS_IQE);
	qt_assert_reg(t, DMAR_FECTL_REG, 4, DMA_ECTL_IM, "FECTL after IQE was cleared");
	qt_wr32(t, DMAR_FECTL_REG, 0);
	qt_assert_irqs(t, QT_FAULT_VEC, faults + 1, "unmasked after IQE was cleared");
	qt_destroy(t);

	/* Device-TLB descriptors only with ECAP.DT. */
	t = qt_create_cfg(&no_dt);
	qt_fault_events(t, false);
	qt_bringup(t, 0, false);
	assert_iqe(t, vtd_desc_devtlb(0x0108, 0), "device-TLB without ECAP.DT");
	qt_destroy(t);
}

static void test_wide_descriptors(void)
{
	struct vtd_desc d[3] = { vtd_desc_iec(5, 0),
				 vtd_desc_iotlb(VTD_G_PAGE, 1, 0x200000, 9, false),
				 vtd_desc_context(VTD_G_GLOBAL, 0, 0, 0) };
	struct qt *t = qt_create();
	struct vtd_desc bad;
	uint32_t faults;
	int i, rc;

	qt_fault_events(t, false);
	qt_bringup(t, 0, true);
	TEST_ASSERT(t->iommu->len == 128 && t->iommu->shift == 5, "256-bit queue of %u",
		    t->iommu->len);
	qt_assert_reg(t, DMAR_IQH_REG, 8, 2 << 5, "IQH in 32-byte units");
	rc = qt_submit(t, d, 3);
	TEST_ASSERT(!rc, "IEC + IOTLB + context + wait, 256-bit: %d", rc);
	TEST_ASSERT(!qt_cmd(t, QT_OP_MODIFY_IRTE, 5, qt_irte_lo(MSI_VEC), 0, 0), "modify_irte");
	qt_assert_remap(t, 5, MSI_VEC, "IRTE 5, 256-bit IEC");
	viommu_guest_write_irte(t->v->g, 0, 5, qt_irte_lo(MSI_VEC + 1), 0);
	TEST_ASSERT(!qt_cmd(t, QT_OP_IEC, 5, 0, 0, 0), "IEC index 5");
	qt_assert_remap(t, 5, MSI_VEC + 1, "after a 256-bit IEC");
	qt_assert_idle(t, "256-bit descriptors");

	/* qw2 and qw3 are reserved. */
	for (i = 2; i < 4; i++) {
		bad = vtd_desc_iec_global();
		bad.qw[i] = BIT_ULL(i * 8);
		assert_iqe(t, bad, i == 2 ? "256-bit IEC with qw2 set" :
					   "256-bit IEC with qw3 set");
	}

	/* An IQT that is not on a 256-bit boundary. */
	faults = viommu_guest_count(t->v->g, 0, QT_FAULT_VEC);
	qt_wr32(t, DMAR_IQT_REG, t->iommu->free_head << 5 | 0x10);
	qt_assert_reg(t, DMAR_FSTS_REG, 4, DMA_FSTS_IQE, "IQT bit 4 in a 256-bit queue");
	qt_assert_irqs(t, QT_FAULT_VEC, faults + 1, "IQT bit 4 in a 256-bit queue");
	qt_wr32(t, DMAR_FSTS_REG, DMA_FSTS_IQE);
	rc = qt_submit1(t, vtd_desc_iec_global());
	TEST_ASSERT(!rc, "submission after IQT bit 4: %d", rc);
	qt_assert_idle(t, "after IQT bit 4");
	qt_destroy(t);
}

static void test_wait_interrupt(void)
{
	struct vtd_desc nosw = vtd_desc_wait(QI_IWD_IF, 0, 0);
	struct qt *t = qt_create();
	uint32_t wait;
	int rc;

	qt_bringup(t, 0, false);
	qt_inv_events(t, false);

	/* IF and SW: the status, ICS.IWC, one interrupt. */
	qt_queue(t, NULL, 0, QT_Q_WAIT | QT_Q_RING, QI_IWD_IF, &wait);
	rc = qt_poll(t, wait, wait, 0);
	TEST_ASSERT(!rc, "wait with IF|SW: %d", rc);
	qt_assert_reg(t, DMAR_ICS_REG, 4, DMA_ICS_IWC, "ICS after a wait with IF");
	qt_assert_irqs(t, QT_INV_VEC, 1, "wait with IF");
	qt_assert_reg(t, DMAR_IECTL_REG, 4, 0, "IECTL after the event was sent");
	/* IWC still set: no new interrupt condition. */
	qt_queue(t, NULL, 0, QT_Q_WAIT | QT_Q_RING, QI_IWD_IF, &wait);
	TEST_ASSERT(!qt_poll(t, wait, wait, 0), "second wait with IF");
	qt_assert_irqs(t, QT_INV_VEC, 1, "wait with IF, IWC already set");
	/* RW1C. */
	qt_wr32(t, DMAR_ICS_REG, 0);
	qt_assert_reg(t, DMAR_ICS_REG, 4, DMA_ICS_IWC, "ICS after writing 0");
	qt_wr32(t, DMAR_ICS_REG, DMA_ICS_IWC);
	qt_assert_reg(t, DMAR_ICS_REG, 4, 0, "ICS after writing IWC");

	/* IF without SW: only ICS tells. */
	qt_queue(t, &nosw, 1, QT_Q_RING, 0, NULL);
	qt_assert_reg(t, DMAR_ICS_REG, 4, DMA_ICS_IWC, "ICS after a wait with IF only");
	qt_assert_irqs(t, QT_INV_VEC, 2, "wait with IF only");
	qt_assert_idle(t, "wait with IF only");
	qt_wr32(t, DMAR_ICS_REG, DMA_ICS_IWC);

	/* Masked: IECTL.IP; unmasking delivers it. */
	qt_wr32(t, DMAR_IECTL_REG, DMA_ECTL_IM);
	qt_queue(t, NULL, 0, QT_Q_WAIT | QT_Q_RING, QI_IWD_IF | QI_IWD_FN, &wait);
	TEST_ASSERT(!qt_poll(t, wait, wait, 0), "wait with IF, masked");
	qt_assert_reg(t, DMAR_ICS_REG, 4, DMA_ICS_IWC, "ICS, masked");
	qt_assert_reg(t, DMAR_IECTL_REG, 4, DMA_ECTL_IM | DMA_ECTL_IP, "IECTL, masked");
	qt_assert_irqs(t, QT_INV_VEC, 2, "wait with IF, masked");
	qt_wr32(t, DMAR_IECTL_REG, 0);
	qt_assert_irqs(t, QT_INV_VEC, 3, "invalidation event unmasked");
	qt_assert_reg(t, DMAR_IECTL_REG, 4, 0, "IECTL after unmasking");
	/* Masked, then serviced (IWC cleared): IP goes, unmasking sends nothing. */
	qt_wr32(t, DMAR_ICS_REG, DMA_ICS_IWC);
	qt_wr32(t, DMAR_IECTL_REG, DMA_ECTL_IM);
	qt_queue(t, NULL, 0, QT_Q_WAIT | QT_Q_RING, QI_IWD_IF, &wait);
	TEST_ASSERT(!qt_poll(t, wait, wait, 0), "wait with IF, masked again");
	qt_assert_reg(t, DMAR_IECTL_REG, 4, DMA_ECTL_IM | DMA_ECTL_IP, "IECTL, masked again");
	qt_wr32(t, DMAR_ICS_REG, DMA_ICS_IWC);
	qt_assert_reg(t, DMAR_IECTL_REG, 4, DMA_ECTL_IM, "IECTL after IWC was cleared");
	qt_wr32(t, DMAR_IECTL_REG, 0);
	qt_assert_irqs(t, QT_INV_VEC, 3, "unmasked after IWC was cleared");
	qt_assert_idle(t, "wait interrupts");
	qt_destroy(t);
}

static void assert_faults_read(struct qt *t, int want, uint16_t first_index, int first_rec)
{
	int n = qt_cmd(t, QT_OP_FAULTS, 0, 0, 0, 0), i;

	TEST_ASSERT(n == want,
		    "dmar_fault() read %d records, expected %d (FSTS.FRI must name the first pending record)",
		    n, want);
	for (i = 0; i < n && i < QT_MBOX_FAULTS; i++) {
		struct vtd_fault *f = &t->m->faults[i];

		TEST_ASSERT(f->reason == KVM_VIOMMU_FR_IR_ENTRY_P &&
			    f->lo >> 48 == (uint64_t)first_index + i &&
			    f->index == (uint32_t)(first_rec + i) % KVM_VIOMMU_NR_FRCD,
			    "fault %d: record %u reason 0x%x FI 0x%llx, expected record %d index %u",
			    i, f->index, f->reason, (unsigned long long)f->lo,
			    (first_rec + i) % KVM_VIOMMU_NR_FRCD, first_index + i);
	}
	TEST_ASSERT(!qt_fsts(t), "FSTS 0x%x after dmar_fault()", qt_fsts(t));
}

#define FAULT_GSI	40

static void test_fault_records(void)
{
	struct qt *t = qt_create();
	struct kvm_viommu_ir_fault f;
	struct viommu_msi msi;
	uint32_t fsts;
	int i, n;
	bool found;

	qt_fault_events(t, false);
	qt_bringup(t, 0, false);

	/* An empty table: each remappable MSI faults, entry not present. */
	TEST_ASSERT(qt_signal(t, 9) == 0, "MSI of a not-present IRTE delivered");
	fsts = qt_rd32(t, DMAR_FSTS_REG);
	TEST_ASSERT(fsts == DMA_FSTS_PPF, "FSTS 0x%x after one fault, expected PPF, FRI 0", fsts);
	qt_assert_frcd(t, 0, true, KVM_VIOMMU_FR_IR_ENTRY_P, 9);
	qt_assert_frcd(t, 1, false, 0, 0);
	qt_assert_irqs(t, QT_FAULT_VEC, 1, "fault event");
	qt_assert_reg(t, DMAR_FECTL_REG, 4, 0, "FECTL after the fault event");
	/* F is RW1C: 0 leaves it. */
	qt_wr32(t, DMAR_FRCD_REG(0) + 12, 0);
	qt_assert_frcd(t, 0, true, KVM_VIOMMU_FR_IR_ENTRY_P, 9);
	assert_faults_read(t, 1, 9, 0);
	qt_assert_frcd(t, 0, false, 0, 0);
	/* The VMM's read-out keeps working. */
	found = viommu_pop_fault(t->v->dev, &f);
	TEST_ASSERT(found && f.reason == KVM_VIOMMU_FR_IR_ENTRY_P &&
		    f.index == 9 && f.flags == KVM_VIOMMU_FAULT_NO_SID,
		    "fault fd read-out: flags 0x%x reason 0x%x index %u", f.flags, f.reason,
		    f.index);

	/* Nine faults, eight records: PFO, and one event for them all. */
	for (i = 0; i < KVM_VIOMMU_NR_FRCD + 1; i++)
		TEST_ASSERT(qt_signal(t, 20 + i) == 0, "MSI of not-present IRTE %d", 20 + i);
	fsts = qt_rd32(t, DMAR_FSTS_REG);
	TEST_ASSERT((fsts & (DMA_FSTS_PPF | DMA_FSTS_PFO)) == (DMA_FSTS_PPF | DMA_FSTS_PFO) &&
		    DMA_FSTS_FRI(fsts) == 1, "FSTS 0x%x after 9 faults, expected PPF|PFO, FRI 1",
		    fsts);
	for (i = 0; i < KVM_VIOMMU_NR_FRCD; i++)
		qt_assert_frcd(t, (1 + i) % KVM_VIOMMU_NR_FRCD, true, KVM_VIOMMU_FR_IR_ENTRY_P,
			       20 + i);
	qt_assert_irqs(t, QT_FAULT_VEC, 2, "fault events of the burst");
	assert_faults_read(t, KVM_VIOMMU_NR_FRCD, 20, 1);

	/* Masked: FECTL.IP; unmasking sends it. */
	qt_wr32(t, DMAR_FECTL_REG, DMA_ECTL_IM);
	TEST_ASSERT(qt_signal(t, 40) == 0, "MSI of not-present IRTE 40");
	qt_assert_reg(t, DMAR_FECTL_REG, 4, DMA_ECTL_IM | DMA_ECTL_IP, "FECTL, masked fault");
	qt_assert_irqs(t, QT_FAULT_VEC, 2, "fault, masked");
	qt_wr32(t, DMAR_FECTL_REG, 0);
	qt_assert_irqs(t, QT_FAULT_VEC, 3, "fault event unmasked");
	assert_faults_read(t, 1, 40, 1);

	/*
	 * The VMM's ring holds 8 records too, then one that says it lost
	 * faults (IRTEs 28 and 40), as PFO does.
	 */
	for (n = 0; n < KVM_VIOMMU_NR_FRCD; n++) {
		found = viommu_pop_fault(t->v->dev, &f);
		TEST_ASSERT(found && f.flags == KVM_VIOMMU_FAULT_NO_SID &&
			    f.reason == KVM_VIOMMU_FR_IR_ENTRY_P && f.index == 20U + n,
			    "fault fd read-out %d: flags 0x%x reason 0x%x index %u, expected index %d",
			    n, f.flags, f.reason, f.index, 20 + n);
	}
	found = viommu_pop_fault(t->v->dev, &f);
	TEST_ASSERT(found && f.flags == KVM_VIOMMU_FAULT_LOST,
		    "fault fd read-out after 8 records: flags 0x%x reason 0x%x index %u, expected LOST",
		    f.flags, f.reason, f.index);
	found = viommu_pop_fault(t->v->dev, &f);
	TEST_ASSERT(!found,
		    "fault fd read-out after the loss: flags 0x%x index %u", f.flags, f.index);

	/* A fault through an irqfd, injected wherever KVM injects it. */
	msi = viommu_msi_remappable(50, false, 0);
	viommu_route_msi(t->v->g, FAULT_GSI, &msi);
	viommu_commit_routes(t->v->g);
	viommu_irqfd_fire(t->v->g, FAULT_GSI);
	for (i = 0; i < 10000 && !(qt_rd32(t, DMAR_FSTS_REG) & DMA_FSTS_PPF); i++)
		usleep(100);
	qt_assert_irqs(t, QT_FAULT_VEC, 4, "fault event of an irqfd MSI");
	assert_faults_read(t, 1, 50, 2);
	qt_destroy(t);
}

/* ---- cases: the VMM's events ---------------------------------------------------------------- */

static void test_events_ack(void)
{
	struct vtd_desc items[3] = { vtd_desc_iotlb(VTD_G_PAGE, 3, 0x7000, 0, true),
				     vtd_desc_context(VTD_G_PAGE, 3, 0x0108, 1),
				     vtd_desc_devtlb(0x0108, 0x9000) };
	static const uint32_t types[3] = { KVM_VIOMMU_EVENT_IOTLB, KVM_VIOMMU_EVENT_CONTEXT,
					   KVM_VIOMMU_EVENT_DEVTLB };
	struct vtd_desc many[QT_MBOX_DESCS];
	struct kvm_viommu_event_config c;
	struct kvm_viommu_event e;
	struct qt *t = qt_create();
	int rfd = vtd_event_fd(t->v->dev), i, n, rc;
	uint32_t index, wait;
	uint64_t seq = 0, last;

	vtd_event_config(t->v->dev, KVM_VIOMMU_EVENT_CONTEXT | KVM_VIOMMU_EVENT_IOTLB |
		     KVM_VIOMMU_EVENT_DEVTLB);
	qt_bringup(t, 0, false);
	TEST_ASSERT(!viommu_ring_readable(rfd), "event fd readable after IECs");
	vtd_assert_no_event(t->v->dev);

	for (i = 0; i < 3; i++) {
		index = qt_queue(t, &items[i], 1, QT_Q_WAIT | QT_Q_RING, 0, &wait);
		TEST_ASSERT(viommu_ring_readable(rfd), "event %d: event fd not readable", i);
		TEST_ASSERT(qt_status(t, wait) == QI_IN_USE, "event %d: wait completed unACKed", i);
		qt_assert_reg(t, DMAR_IQH_REG, 8, wait << 4, "IQH stopped on the wait");
		rc = qt_poll(t, index, wait, 1000);
		TEST_ASSERT(rc == -ETIMEDOUT, "event %d: poll %d before the ACK", i, rc);
		vtd_event_pop(t->v->dev, &e);
		assert_event(&e, types[i], ++seq, KVM_VIOMMU_EVENT_F_QUEUED, items[i].qw, 4);
		vtd_assert_no_event(t->v->dev);
		TEST_ASSERT(qt_status(t, wait) == QI_IN_USE, "event %d: popped is not ACKed", i);
		vtd_event_ack(t->v->dev, seq);
		/* The queue resumes on the vCPU, before it next enters the guest. */
		TEST_ASSERT(!qt_poll(t, index, wait, 0), "event %d: poll after the ACK", i);
		TEST_ASSERT(qt_status(t, wait) == QI_DONE, "event %d: wait not done after the ACK",
			    i);
		qt_assert_idle(t, "after the ACK");
	}

	/* Without a wait nothing stalls; one ACK covers them all. */
	qt_queue(t, items, 3, QT_Q_RING, 0, NULL);
	qt_assert_idle(t, "events without a wait");
	for (i = 0; i < 3; i++) {
		vtd_event_pop(t->v->dev, &e);
		assert_event(&e, types[i], ++seq, KVM_VIOMMU_EVENT_F_QUEUED, items[i].qw, 2);
	}
	vtd_event_ack(t->v->dev, seq);

	/* Only what the VMM asked for. */
	vtd_event_config(t->v->dev, KVM_VIOMMU_EVENT_IOTLB);
	TEST_ASSERT(!qt_submit1(t, items[1]), "context flush without interest");
	TEST_ASSERT(!qt_submit1(t, items[2]), "device-TLB flush without interest");
	vtd_assert_no_event(t->v->dev);

	/*
	 * Overflow of the ring (64 by default): the events that fit, then a
	 * record of the loss with the last lost number, which is what to ACK.
	 */
	for (i = 0; i < QT_MBOX_DESCS; i++)
		many[i] = vtd_desc_iotlb(VTD_G_DOMAIN, i, 0, 0, false);
	qt_queue(t, many, QT_MBOX_DESCS, QT_Q_RING, 0, NULL);
	qt_assert_idle(t, "80 IOTLB events");
	for (n = 0, last = seq; vtd_event_pop(t->v->dev, &e) && e.type; n++) {
		TEST_ASSERT(e.seq == last + 1 && e.type == KVM_VIOMMU_EVENT_IOTLB &&
			    e.flags == KVM_VIOMMU_EVENT_F_QUEUED,
			    "event %d of the overflow: type 0x%x flags 0x%x seq %llu after %llu", n,
			    e.type, e.flags, (unsigned long long)e.seq, (unsigned long long)last);
		last = e.seq;
	}
	TEST_ASSERT(n == 64 && e.flags == KVM_VIOMMU_EVENT_F_LOST && !e.type &&
		    e.seq == seq + QT_MBOX_DESCS,
		    "overflow: %d events, then type 0x%x flags 0x%x seq %llu; expected 64, then F_LOST seq %llu",
		    n, e.type, e.flags, (unsigned long long)e.seq,
		    (unsigned long long)(seq + QT_MBOX_DESCS));
	vtd_assert_no_event(t->v->dev);
	last = e.seq;
	vtd_event_ack(t->v->dev, last);
	TEST_ASSERT(!qt_submit1(t, vtd_desc_iec_global()), "IEC after the overflow");

	/* EVENT_CONFIG is set-only. */
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_get(t->v->dev, KVM_DEV_VIOMMU_GRP_EVENT,
						  KVM_DEV_VIOMMU_EVENT_CONFIG, &c), ENXIO);

	/* No interest: IOTLB flushes complete at once. */
	vtd_event_config(t->v->dev, 0);
	TEST_ASSERT(!qt_submit1(t, items[0]), "IOTLB flush without interest");
	vtd_assert_no_event(t->v->dev);
	qt_assert_idle(t, "events");
	close(rfd);
	qt_destroy(t);
}

static void test_gcmd_events(void)
{
	struct qt *t = qt_create();
	struct kvm_viommu_event e;
	int rfd = vtd_event_fd(t->v->dev);
	uint32_t gsts;

	vtd_event_config(t->v->dev, KVM_VIOMMU_EVENT_GCMD);
	qt_wr64(t, DMAR_RTADDR_REG, 0x1234000);
	qt_assert_reg(t, DMAR_RTADDR_REG, 8, 0x1234000, "RTADDR");
	/*
	 * RTPS and TES show the switch once the VMM has made it: the guest
	 * waits for them before it relies on the new tables.
	 */
	gsts = qt_cmd(t, QT_OP_GCMD, 0, DMA_GCMD_SRTP, 0, 0);
	TEST_ASSERT(!(gsts & DMA_GSTS_RTPS), "GSTS 0x%x after SRTP, before the ack", gsts);
	TEST_ASSERT(viommu_ring_readable(rfd), "SRTP: event fd not readable");
	vtd_event_pop(t->v->dev, &e);
	TEST_ASSERT(e.type == KVM_VIOMMU_EVENT_GCMD && e.seq == 1 &&
		    (e.desc[0] & DMA_GSTS_RTPS) && e.desc[1] == 0x1234000,
		    "SRTP event: type 0x%x seq %llu GSTS 0x%llx RTADDR 0x%llx", e.type,
		    (unsigned long long)e.seq, (unsigned long long)e.desc[0],
		    (unsigned long long)e.desc[1]);
	vtd_event_ack(t->v->dev, e.seq);
	qt_assert_reg(t, DMAR_GSTS_REG, 4, DMA_GSTS_RTPS, "GSTS after the SRTP ack");
	/* A later RTADDR is not latched until the next SRTP. */
	qt_wr64(t, DMAR_RTADDR_REG, 0x5678000);
	gsts = qt_cmd(t, QT_OP_GCMD, DMA_GCMD_TE, 0, 0, 0);
	TEST_ASSERT(!(gsts & DMA_GSTS_TES), "GSTS 0x%x after TE, before the ack", gsts);
	vtd_event_pop(t->v->dev, &e);
	TEST_ASSERT(e.type == KVM_VIOMMU_EVENT_GCMD && e.seq == 2 && (e.desc[0] & DMA_GSTS_TES),
		    "TE event: type 0x%x seq %llu GSTS 0x%llx", e.type,
		    (unsigned long long)e.seq, (unsigned long long)e.desc[0]);
	vtd_event_ack(t->v->dev, e.seq);
	qt_assert_reg(t, DMAR_GSTS_REG, 4, DMA_GSTS_TES | DMA_GSTS_RTPS, "GSTS after the TE ack");
	/* WBF is one-shot and WBFS stays clear; nothing for the VMM. */
	gsts = qt_cmd(t, QT_OP_GCMD, DMA_GCMD_TE, DMA_GCMD_WBF, 0, 0);
	TEST_ASSERT(gsts == (DMA_GSTS_TES | DMA_GSTS_RTPS), "GSTS 0x%x after WBF", gsts);
	vtd_assert_no_event(t->v->dev);
	qt_assert_reg(t, DMAR_GCMD_REG, 4, 0, "GCMD");
	close(rfd);
	qt_destroy(t);
}

/* Register-based invalidation, QI off: the command bit clears at once or on the ACK. */
static void test_reg_invalidation(void)
{
	struct qt *t = qt_create();
	struct kvm_viommu_event e;
	int rfd = vtd_event_fd(t->v->dev);
	uint64_t val, got;
	int g;

	for (g = VTD_G_GLOBAL; g <= VTD_G_PAGE; g++) {
		val = DMA_CCMD_ICC | DMA_CCMD_CIRG(g) | (g > 1 ? 5 : 0) |
		      (g > 2 ? 0x0108ULL << 16 | 1ULL << 32 : 0);
		qt_wr64(t, DMAR_CCMD_REG, val);
		got = qt_rd64(t, DMAR_CCMD_REG);
		TEST_ASSERT(!(got & DMA_CCMD_ICC) && DMA_CCMD_CAIG(got) == (uint64_t)g,
			    "CCMD 0x%llx after 0x%llx", (unsigned long long)got,
			    (unsigned long long)val);
		qt_wr64(t, DMAR_IVA_REG, 0x100000 | 4);
		val = DMA_TLB_IVT | DMA_TLB_IIRG(g) | DMA_TLB_DID(5);
		qt_wr64(t, DMAR_IOTLB_REG, val);
		got = qt_rd64(t, DMAR_IOTLB_REG);
		TEST_ASSERT(!(got & DMA_TLB_IVT) && DMA_TLB_IAIG(got) == (uint64_t)g,
			    "IOTLB register 0x%llx after 0x%llx", (unsigned long long)got,
			    (unsigned long long)val);
	}
	vtd_assert_no_event(t->v->dev);

	vtd_event_config(t->v->dev, KVM_VIOMMU_EVENT_CONTEXT | KVM_VIOMMU_EVENT_IOTLB);
	val = DMA_CCMD_ICC | DMA_CCMD_CIRG(VTD_G_DOMAIN) | 9;
	qt_wr64(t, DMAR_CCMD_REG, val);
	got = qt_rd64(t, DMAR_CCMD_REG);
	TEST_ASSERT(got & DMA_CCMD_ICC, "CCMD 0x%llx: ICC clear before the ACK",
		    (unsigned long long)got);
	TEST_ASSERT(viommu_ring_readable(rfd), "CCMD: event fd not readable");
	vtd_event_pop(t->v->dev, &e);
	TEST_ASSERT(e.type == KVM_VIOMMU_EVENT_CONTEXT && e.seq == 1 &&
		    !(e.flags & KVM_VIOMMU_EVENT_F_QUEUED) && e.desc[0] >> 61 == val >> 61 &&
		    (uint32_t)e.desc[0] == 9,
		    "CCMD event: type 0x%x seq %llu flags 0x%x CCMD 0x%llx", e.type,
		    (unsigned long long)e.seq, e.flags, (unsigned long long)e.desc[0]);
	vtd_event_ack(t->v->dev, 1);
	got = qt_rd64(t, DMAR_CCMD_REG);
	TEST_ASSERT(!(got & DMA_CCMD_ICC) && DMA_CCMD_CAIG(got) == VTD_G_DOMAIN,
		    "CCMD 0x%llx after the ACK", (unsigned long long)got);

	qt_wr64(t, DMAR_IVA_REG, 0x200000 | QI_IOTLB_IH | 1);
	val = DMA_TLB_IVT | DMA_TLB_IIRG(VTD_G_PAGE) | DMA_TLB_DID(6);
	qt_wr64(t, DMAR_IOTLB_REG, val);
	got = qt_rd64(t, DMAR_IOTLB_REG);
	TEST_ASSERT(got & DMA_TLB_IVT, "IOTLB 0x%llx: IVT clear before the ACK",
		    (unsigned long long)got);
	vtd_event_pop(t->v->dev, &e);
	TEST_ASSERT(e.type == KVM_VIOMMU_EVENT_IOTLB && e.seq == 2 &&
		    e.desc[0] >> 60 == val >> 60 && e.desc[1] == (0x200000 | QI_IOTLB_IH | 1),
		    "IOTLB event: type 0x%x seq %llu IOTLB 0x%llx IVA 0x%llx", e.type,
		    (unsigned long long)e.seq, (unsigned long long)e.desc[0],
		    (unsigned long long)e.desc[1]);
	vtd_event_ack(t->v->dev, 2);
	got = qt_rd64(t, DMAR_IOTLB_REG);
	TEST_ASSERT(!(got & DMA_TLB_IVT) && DMA_TLB_IAIG(got) == VTD_G_PAGE,
		    "IOTLB 0x%llx after the ACK", (unsigned long long)got);
	close(rfd);
	qt_destroy(t);
}

/* ---- cases: migration, fuzzing, a storm ------------------------------------------------- */

static void test_migration(void)
{
	struct vtd_desc flush = vtd_desc_iotlb(VTD_G_PAGE, 2, 0x3000, 0, false);
	struct kvm_viommu_regs_state s, bad, got, want;
	struct qt *a = qt_create(), *b;
	uint32_t index, wait;
	int i;

	qt_fault_events(a, false);
	qt_inv_events(a, true);
	qt_bringup(a, 1, false);
	TEST_ASSERT(!qt_cmd(a, QT_OP_MODIFY_IRTE, 5, qt_irte_lo(MSI_VEC + 4), 0, 0), "modify_irte");
	qt_assert_remap(a, 5, MSI_VEC + 4, "source, IRTE 5");
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

	regs_state_get(a->v->dev, &s);
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
	VIOMMU_ASSERT_ERRNO(__regs_state_set(b->v->dev, &bad), EINVAL);
	bad = s;
	bad.__reserved = 1;
	VIOMMU_ASSERT_ERRNO(__regs_state_set(b->v->dev, &bad), EINVAL);
	for (i = 0; i < (int)ARRAY_SIZE(bad.__reserved2); i += 5) {
		bad = s;
		bad.__reserved2[i] = 1;
		VIOMMU_ASSERT_ERRNO(__regs_state_set(b->v->dev, &bad), EINVAL);
	}
	VIOMMU_ASSERT_ERRNO(__regs_state_set(b->v->dev, &s), 0);
	/*
	 * The queue resumes on b's vCPU before it enters the guest (b's VMM
	 * has no interest), and the guest goes on as if nothing happened.
	 */
	qt_start(b);
	TEST_ASSERT(!qt_poll(b, index, wait, 0), "destination: poll of the held wait");
	TEST_ASSERT(qt_status(b, wait) == QI_DONE, "destination: the held wait did not complete");
	regs_state_get(b->v->dev, &got);
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

	qt_assert_remap(b, 5, MSI_VEC + 4, "destination, IRTE 5 from the copied table");
	TEST_ASSERT(!qt_cmd(b, QT_OP_MODIFY_IRTE, 6, qt_irte_lo(MSI_VEC + 5), 0, 0), "modify_irte");
	qt_assert_remap(b, 6, MSI_VEC + 5, "destination, IRTE 6");
	for (i = 0; i < 300; i++)
		TEST_ASSERT(!qt_submit1(b, vtd_desc_iec(i % IRT_ENTRIES, 0)), "destination IEC %d",
			    i);
	assert_faults_read(b, 1, 200, 0);
	qt_assert_idle(b, "destination");
	qt_wr32(b, DMAR_IECTL_REG, 0);
	qt_assert_irqs(b, QT_INV_VEC, 1, "destination: the pending invalidation event");
	qt_assert_reg(b, DMAR_RTADDR_REG, 8, 0x6666000, "destination RTADDR");

	/* IR off and CFIS on, as a saved GSTS says. */
	regs_state_get(b->v->dev, &got);
	got.gsts = (got.gsts & ~DMA_GSTS_IRES) | DMA_GSTS_CFIS;
	VIOMMU_ASSERT_ERRNO(__regs_state_set(b->v->dev, &got), 0);
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

static void test_fuzz(void)
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
	regs_state_get(t->v->dev, &s);

	/*
	 * The saved state with a few random bits flipped: set must take it
	 * or refuse it whole, and the guest go on either way.
	 */
	for (i = 0; i < 64; i++) {
		regs_state_get(t->v->dev, &s);
		p = (uint64_t *)&s;
		for (j = 0; j < 1 + i % 3; j++) {
			k = xorshift(&seed) % STATE_QWORDS;
			p[k] ^= BIT_ULL(xorshift(&seed) & 63);
		}
		s.flags = 0;
		s.__reserved = 0;
		s.fedata = QT_FAULT_VEC;
		s.iedata = QT_INV_VEC;
		r = __regs_state_set(t->v->dev, &s) ? -errno : 0;
		TEST_ASSERT(r == 0 || r == -EINVAL, "random REGS_STATE %d: %d", i, r);
		accepted += !r;
		if (i < 4)
			qt_cmd(t, OP_FUZZ, i, 1, 0, 0);
		qt_assert_reg(t, DMAR_VER_REG, 4, DMAR_VER_1_0, "VER after a random state");
	}
	ksft_print_msg("fuzz: %d of 64 random states accepted\n", accepted);
	qt_destroy(t);
}

struct storm {
	int dev;
	bool stop;
	uint64_t max_ns;
	uint64_t calls;
};

static void *storm_prober(void *data)
{
	struct storm *st = data;
	struct viommu_stats s;
	uint64_t t0, d;

	while (!__atomic_load_n(&st->stop, __ATOMIC_SEQ_CST)) {
		t0 = viommu_now_ns();
		viommu_get_stats(st->dev, &s);
		d = viommu_now_ns() - t0;
		if (d > st->max_ns)
			st->max_ns = d;
		st->calls++;
		usleep(1000);
	}
	return NULL;
}

/* A full 32K-entry queue, rung again and again: the host stays responsive. */
static void test_doorbell_storm(void)
{
	struct storm st = { 0 };
	struct qt *t = qt_create();
	pthread_t th;
	uint64_t t0, ns, iqh;
	int r;

	qt_cmd(t, QT_OP_ENABLE_QI, VTD_QUEUE_MAX_QS, 0, 0, 0);
	TEST_ASSERT(t->iommu->len == 32768, "queue of %u entries", t->iommu->len);
	qt_cmd(t, OP_FILL, 0, t->iommu->len, 0, 0);
	st.dev = t->v->dev;
	r = pthread_create(&th, NULL, storm_prober, &st);
	TEST_ASSERT(!r, "pthread_create: %s", strerror(r));
	t0 = viommu_now_ns();
	iqh = qt_cmd(t, OP_STORM, 8, 0, 0, 0);
	ns = viommu_now_ns() - t0;
	__atomic_store_n(&st.stop, true, __ATOMIC_SEQ_CST);
	pthread_join(th, NULL);
	ksft_print_msg("storm: 8 doorbells of 32767 descriptors: %llu ms; %s %llu ms (%llu)\n",
		       (unsigned long long)(ns / 1000000), "device ioctl at most",
		       (unsigned long long)(st.max_ns / 1000000), (unsigned long long)st.calls);
	TEST_ASSERT(iqh == (uint64_t)t->iommu->free_head << 4, "IQH 0x%llx after the storm",
		    (unsigned long long)iqh);
	qt_assert_reg(t, DMAR_FSTS_REG, 4, 0, "FSTS after the storm");
	TEST_ASSERT(st.max_ns < 10ULL * 1000000000ULL,
		    "a device ioctl waited %llu ms during the storm",
		    (unsigned long long)(st.max_ns / 1000000));
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

static void test_concurrent_stress(void)
{
	struct kvm_viommu_regs_state st;
	struct kvm_viommu_event e;
	struct viommu_guest *g;
	struct viommu_msi m;
	uint64_t end, rounds = 0;
	int r;

	vtd_skip_without_regs();
	g = viommu_guest_create(2, VIOMMU_GUEST_X2APIC, true);
	vtd_guest_prepare(g, stress_guest);
	vtd_regs_config(g->dev, VTD_BASE, VTD_DEFAULT_CAP, VTD_DEFAULT_ECAP);
	vtd_event_config(g->dev, VTD_EVENT_TYPES_ALL);
	viommu_guest_start(g);

	end = viommu_now_ns() + 3ULL * 1000000000ULL;
	while (viommu_now_ns() < end) {
		regs_state_get(g->dev, &st);
		r = __regs_state_set(g->dev, &st) ? -errno : 0;
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
	regs_state_get(g->dev, &st);
	ksft_print_msg("stress: %llu VMM rounds against 2 vCPUs\n", (unsigned long long)rounds);
	viommu_guest_destroy(g);
}

/* ---- driver ----------------------------------------------------------------------------- */

static const struct viommu_case cases[] = {
	{ "regs_config",		test_regs_config },
	{ "reset_values",		test_reset_values },
	{ "register_widths",		test_register_widths },
	{ "linux_bringup_iec",		test_linux_bringup },
	{ "iotlb_context_wait",		test_iotlb_context_wait },
	{ "queue_wrap",			test_queue_wrap },
	{ "wide_descriptors",		test_wide_descriptors },
	{ "iqe_garbage",		test_iqe_garbage },
	{ "wait_interrupt",		test_wait_interrupt },
	{ "fault_records_overflow",	test_fault_records },
	{ "events_ack",			test_events_ack },
	{ "gcmd_events",		test_gcmd_events },
	{ "reg_invalidation",		test_reg_invalidation },
	{ "migration_round_trip",	test_migration },
	{ "fuzz_every_offset",		test_fuzz },
	{ "doorbell_storm",		test_doorbell_storm },
	{ "concurrent_stress",		test_concurrent_stress },
};

int main(int argc, char *argv[])
{
	qt_set_guest_op(qi_guest_op);
	viommu_ir_test_main(argc, argv, cases, ARRAY_SIZE(cases), CASE_TIMEOUT_S);
}
