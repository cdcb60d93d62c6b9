/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VT-d register page of the kvm-viommu device, as a guest drives it.
 *
 * Guest side (runs in the guest: no libc): MMIO accessors and the
 * sequences of Linux's intel-iommu driver (drivers/iommu/intel/dmar.c,
 * irq_remapping.c): enabling queued invalidation, SIRTP, IRE, and
 * qi_submit_sync() with its wait descriptor and qi_check_fault(); the
 * fault handler dmar_fault().  Names and values follow the driver's
 * iommu.h and the VT-d specification, independently of the kernel side.
 *
 * Host side: a one-vCPU guest (the lib's viommu_guest, x2APIC, counting
 * its interrupts) running code of the caller's, with the device, the
 * register page mapped at VTD_BASE and an identity-mapped memory area for
 * the interrupt remapping table, the queue and its status dwords.
 */
#ifndef SELFTEST_KVM_VIOMMU_REGS_H
#define SELFTEST_KVM_VIOMMU_REGS_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/bits.h>
#include <linux/kvm_viommu.h>

#include "kvm_util.h"
#include "viommu.h"

/* ---- registers ------------------------------------------------------------- */

#define DMAR_VER_REG		0x00
#define DMAR_CAP_REG		0x08
#define DMAR_ECAP_REG		0x10
#define DMAR_GCMD_REG		0x18
#define DMAR_GSTS_REG		0x1c
#define DMAR_RTADDR_REG		0x20
#define DMAR_CCMD_REG		0x28
#define DMAR_FSTS_REG		0x34
#define DMAR_FECTL_REG		0x38
#define DMAR_FEDATA_REG		0x3c
#define DMAR_FEADDR_REG		0x40
#define DMAR_FEUADDR_REG	0x44
#define DMAR_PMEN_REG		0x64
#define DMAR_IQH_REG		0x80
#define DMAR_IQT_REG		0x88
#define DMAR_IQA_REG		0x90
#define DMAR_ICS_REG		0x9c
#define DMAR_IECTL_REG		0xa0
#define DMAR_IEDATA_REG		0xa4
#define DMAR_IEADDR_REG		0xa8
#define DMAR_IEUADDR_REG	0xac
#define DMAR_IRTA_REG		0xb8
/* Where ECAP.IRO and CAP.FRO put them on this device. */
#define DMAR_IVA_REG		KVM_VIOMMU_REG_IVA
#define DMAR_IOTLB_REG		(KVM_VIOMMU_REG_IVA + 8)
#define DMAR_FRCD_REG(i)	(KVM_VIOMMU_REG_FRCD + 16 * (i))

#define DMAR_VER_1_0		0x10

/* CAP_REG. */
#define CAP_ND(n)		((uint64_t)(n) & 7)
#define CAP_CM			BIT_ULL(7)
#define CAP_SAGAW_39		BIT_ULL(9)
#define CAP_SAGAW_48		BIT_ULL(10)
#define CAP_SAGAW_57		BIT_ULL(11)
#define CAP_MGAW(bits)		((uint64_t)((bits) - 1) << 16)
#define CAP_ZLR			BIT_ULL(22)
#define CAP_FRO_SHIFT		24
#define CAP_FRO_MASK		(0x3ffULL << CAP_FRO_SHIFT)
#define CAP_SLLPS_2M		BIT_ULL(34)
#define CAP_SLLPS_1G		BIT_ULL(35)
#define CAP_PSI			BIT_ULL(39)
#define CAP_NFR_SHIFT		40
#define CAP_NFR_MASK		(0xffULL << CAP_NFR_SHIFT)
#define CAP_MAMV_SHIFT		48
#define CAP_MAMV(m)		((uint64_t)(m) << CAP_MAMV_SHIFT)
#define CAP_DWD			BIT_ULL(54)
#define CAP_DRD			BIT_ULL(55)

/* ECAP_REG. */
#define ECAP_C			BIT_ULL(0)
#define ECAP_QI			BIT_ULL(1)
#define ECAP_DT			BIT_ULL(2)
#define ECAP_IR			BIT_ULL(3)
#define ECAP_EIM		BIT_ULL(4)
#define ECAP_PT			BIT_ULL(6)
#define ECAP_SC			BIT_ULL(7)
#define ECAP_IRO_SHIFT		8
#define ECAP_IRO_MASK		(0x3ffULL << ECAP_IRO_SHIFT)
#define ECAP_MHMV(m)		((uint64_t)(m) << 20)

/* What the selftests' device advertises unless a case says otherwise. */
#define VTD_MAMV		18
#define VTD_DEFAULT_CAP		(CAP_ND(2) | CAP_SAGAW_39 | CAP_SAGAW_48 | CAP_MGAW(48) | \
				 CAP_SLLPS_2M | CAP_SLLPS_1G | CAP_PSI | \
				 CAP_MAMV(VTD_MAMV) | CAP_DWD | CAP_DRD)
#define VTD_DEFAULT_ECAP	(ECAP_QI | ECAP_DT | ECAP_IR | ECAP_EIM | ECAP_PT | \
				 ECAP_MHMV(0xf))
/* The layout fields the kernel fills in. */
#define VTD_CAP_LAYOUT		(((uint64_t)KVM_VIOMMU_REG_FRCD / 16) << CAP_FRO_SHIFT | \
				 (uint64_t)(KVM_VIOMMU_NR_FRCD - 1) << CAP_NFR_SHIFT)
#define VTD_ECAP_LAYOUT		((uint64_t)KVM_VIOMMU_REG_IVA / 16 << ECAP_IRO_SHIFT)

/* GCMD_REG and GSTS_REG. */
#define DMA_GCMD_TE		BIT(31)
#define DMA_GCMD_SRTP		BIT(30)
#define DMA_GCMD_WBF		BIT(27)
#define DMA_GCMD_QIE		BIT(26)
#define DMA_GCMD_IRE		BIT(25)
#define DMA_GCMD_SIRTP		BIT(24)
#define DMA_GCMD_CFI		BIT(23)
#define DMA_GSTS_TES		BIT(31)
#define DMA_GSTS_RTPS		BIT(30)
#define DMA_GSTS_WBFS		BIT(27)
#define DMA_GSTS_QIES		BIT(26)
#define DMA_GSTS_IRES		BIT(25)
#define DMA_GSTS_IRTPS		BIT(24)
#define DMA_GSTS_CFIS		BIT(23)

/* CCMD_REG and the IOTLB register: granularities in 62:61 / 61:60. */
#define DMA_CCMD_ICC		BIT_ULL(63)
#define DMA_CCMD_CIRG(g)	((uint64_t)(g) << 61)
#define DMA_CCMD_CAIG(ccmd)	(((ccmd) >> 59) & 3)
#define DMA_TLB_IVT		BIT_ULL(63)
#define DMA_TLB_IIRG(g)		((uint64_t)(g) << 60)
#define DMA_TLB_IAIG(reg)	(((reg) >> 57) & 3)
#define DMA_TLB_DID(did)	((uint64_t)(did) << 32)

/* FSTS_REG, FECTL_REG / IECTL_REG, ICS_REG. */
#define DMA_FSTS_PFO		BIT(0)
#define DMA_FSTS_PPF		BIT(1)
#define DMA_FSTS_IQE		BIT(4)
#define DMA_FSTS_ICE		BIT(5)
#define DMA_FSTS_ITE		BIT(6)
#define DMA_FSTS_PRO		BIT(7)
#define DMA_FSTS_FRI(fsts)	(((fsts) >> 8) & 0xff)
#define DMA_ECTL_IM		BIT(31)
#define DMA_ECTL_IP		BIT(30)
#define DMA_ICS_IWC		BIT(0)

/* IQA_REG. */
#define DMA_IQA_DW		BIT_ULL(11)
#define DMA_IQA_QS_MASK		7ULL

/* Fault recording: the high dword of a record (bits 127:96). */
#define DMA_FRCD_F		BIT(31)
#define DMA_FRCD_FR(hi)		((hi) & 0xff)

/* Granularities of the context-cache and IOTLB. */
#define VTD_G_GLOBAL		1
#define VTD_G_DOMAIN		2
#define VTD_G_PAGE		3	/* device for the context cache */

/* ---- invalidation descriptors ------------------------------------------------ */

struct vtd_desc {
	uint64_t qw[4];		/* qw[2], qw[3]: 256-bit queues only */
};

#define QI_CC_TYPE		0x1
#define QI_IOTLB_TYPE		0x2
#define QI_DIOTLB_TYPE		0x3
#define QI_IEC_TYPE		0x4
#define QI_IWD_TYPE		0x5

#define QI_IEC_SELECTIVE	BIT_ULL(4)
#define QI_IWD_IF		BIT_ULL(4)
#define QI_IWD_SW		BIT_ULL(5)
#define QI_IWD_FN		BIT_ULL(6)
#define QI_IOTLB_IH		BIT_ULL(6)
#define QI_IOTLB_DW		BIT_ULL(6)	/* qw0, with CAP.DWD */
#define QI_IOTLB_DR		BIT_ULL(7)	/* qw0, with CAP.DRD */

/* desc_status[] values, as in the Linux driver. */
#define QI_FREE			0
#define QI_IN_USE		1
#define QI_DONE			2

static inline struct vtd_desc vtd_desc_context(uint8_t g, uint16_t did, uint16_t sid,
					       uint8_t fm)
{
	struct vtd_desc d = { { (uint64_t)(fm & 3) << 48 | (uint64_t)sid << 32 |
				(uint64_t)did << 16 | (uint64_t)(g & 3) << 4 |
				QI_CC_TYPE } };

	return d;
}

/* Page-selective (VTD_G_PAGE): 2^@am pages at @addr. */
static inline struct vtd_desc vtd_desc_iotlb(uint8_t g, uint16_t did, uint64_t addr,
					     uint8_t am, bool ih)
{
	struct vtd_desc d = { { (uint64_t)did << 16 | (uint64_t)(g & 3) << 4 | QI_IOTLB_TYPE,
				(addr & ~0xfffULL) | (ih ? QI_IOTLB_IH : 0) | (am & 0x3f) } };

	return d;
}

static inline struct vtd_desc vtd_desc_devtlb(uint16_t sid, uint64_t addr)
{
	struct vtd_desc d = { { (uint64_t)sid << 32 | QI_DIOTLB_TYPE, addr & ~0xfffULL } };

	return d;
}

static inline struct vtd_desc vtd_desc_iec_global(void)
{
	struct vtd_desc d = { { QI_IEC_TYPE } };

	return d;
}

/* 2^@im entries from @index. */
static inline struct vtd_desc vtd_desc_iec(uint16_t index, uint8_t im)
{
	struct vtd_desc d = { { (uint64_t)index << 32 | (uint64_t)(im & 0x1f) << 27 |
				QI_IEC_SELECTIVE | QI_IEC_TYPE } };

	return d;
}

/* @flags: QI_IWD_{IF,SW,FN}; with SW, @data goes to the dword at @addr. */
static inline struct vtd_desc vtd_desc_wait(uint64_t flags, uint32_t data, uint64_t addr)
{
	struct vtd_desc d = { { (uint64_t)data << 32 | flags | QI_IWD_TYPE, addr } };

	return d;
}

/* ---- guest side -------------------------------------------------------------------- */

/* The guest's driver state, Linux's struct intel_iommu and q_inval. */
struct vtd_iommu {
	uint64_t reg;			/* GVA of the register page */
	uint64_t cap;
	uint64_t ecap;
	uint32_t gcmd;			/* persistent GCMD bits set so far */
	uint32_t shift;			/* 4: 128-bit descriptors, 5: 256-bit */
	uint64_t qa;			/* the queue, GVA == GPA */
	uint32_t len;			/* its entries */
	uint32_t free_head;		/* the next entry to fill: IQT */
	uint64_t status;		/* desc_status[len], GVA == GPA */
	uint64_t spins;			/* poll budget of one wait */
};

/* Polls before a wait counts as lost: seconds under nested emulation. */
#define VTD_SPINS		BIT_ULL(18)

uint32_t vtd_readl(const struct vtd_iommu *iommu, uint32_t off);
uint64_t vtd_readq(const struct vtd_iommu *iommu, uint32_t off);
void vtd_writel(const struct vtd_iommu *iommu, uint32_t off, uint32_t val);
void vtd_writeq(const struct vtd_iommu *iommu, uint32_t off, uint64_t val);
/* One access of @size (1, 2, 4 or 8) bytes, at any offset. */
uint64_t vtd_read(const struct vtd_iommu *iommu, uint32_t off, int size);
void vtd_write(const struct vtd_iommu *iommu, uint32_t off, int size, uint64_t val);

static inline uint32_t *vtd_status(const struct vtd_iommu *iommu, uint32_t index)
{
	return (uint32_t *)iommu->status + index;
}

/* map_iommu(): the register page at @reg (GVA), CAP and ECAP read. */
void vtd_iommu_init(struct vtd_iommu *iommu, uint64_t reg);

/* Polls GSTS until (GSTS & @mask) == @want, GUEST_ASSERTs on timeout. */
uint32_t vtd_wait_gsts(const struct vtd_iommu *iommu, uint32_t mask, uint32_t want);

/*
 * __dmar_enable_qi(): IQT 0, IQA (@qa, 2^@qs pages, 256-bit if @dw), QIE,
 * poll QIES.  @status has room for the queue's entries.
 */
void vtd_enable_qi(struct vtd_iommu *iommu, uint64_t qa, uint8_t qs, bool dw,
		   uint64_t status);
/* dmar_disable_qi(): wait for IQH == IQT, clear QIE, poll. */
void vtd_disable_qi(struct vtd_iommu *iommu);
/* iommu_set_irq_remapping(): IRTA, SIRTP, poll IRTPS; then a global IEC. */
int vtd_set_irq_remapping(struct vtd_iommu *iommu, uint64_t irta);
/* iommu_enable_irq_remapping(): IRE, poll IRES; CFI off if it was on. */
void vtd_enable_irq_remapping(struct vtd_iommu *iommu);
void vtd_disable_irq_remapping(struct vtd_iommu *iommu);

/*
 * The pieces of qi_submit_sync(): copy @count descriptors to the queue
 * (returns the first index), append a wait descriptor with SW and @flags
 * writing QI_DONE to desc_status[] (returns its index), ring the doorbell
 * (IQT), poll the status dword with qi_check_fault().
 */
uint32_t vtd_qi_queue(struct vtd_iommu *iommu, const struct vtd_desc *desc,
		      unsigned int count);
uint32_t vtd_qi_queue_wait(struct vtd_iommu *iommu, uint64_t flags);
void vtd_qi_doorbell(const struct vtd_iommu *iommu);
/*
 * 0 once desc_status[@wait_index] is QI_DONE; -EINVAL if the queue stopped
 * (IQE) on @index, after replacing that descriptor with the wait and
 * clearing IQE, as Linux; -ETIMEDOUT after iommu->spins polls.
 */
int vtd_qi_poll(struct vtd_iommu *iommu, uint32_t index, uint32_t wait_index);

/* qi_submit_sync(): 0, -EINVAL or -ETIMEDOUT as vtd_qi_poll(). */
int vtd_qi_submit_sync(struct vtd_iommu *iommu, const struct vtd_desc *desc,
		       unsigned int count);
int vtd_qi_global_iec(struct vtd_iommu *iommu);
int vtd_qi_flush_iec(struct vtd_iommu *iommu, uint16_t index, uint8_t mask);
int vtd_qi_flush_iotlb(struct vtd_iommu *iommu, uint16_t did, uint64_t addr,
		       uint8_t am, uint8_t g);
int vtd_qi_flush_context(struct vtd_iommu *iommu, uint16_t did, uint16_t sid,
			 uint8_t fm, uint8_t g);
/* modify_irte(): the entry at @irte (low then high qword), then the IEC. */
int vtd_modify_irte(struct vtd_iommu *iommu, struct viommu_irte *irte, uint16_t index,
		    uint64_t lo, uint64_t hi);

/* One fault record, as dmar_fault() reads it. */
struct vtd_fault {
	uint32_t index;			/* of the record */
	uint8_t reason;
	uint16_t sid;
	uint64_t lo;			/* FI */
};

/*
 * dmar_fault(): from FSTS.FRI, reads and clears (F) each pending record,
 * up to @max into @out; then clears PFO/PPF/PRO.  Returns how many it read.
 */
int vtd_fault_handler(const struct vtd_iommu *iommu, struct vtd_fault *out, int max);

/* ---- host side ----------------------------------------------------------------------- */

/* The register page: QEMU's q35 DMAR base, not backed by any memslot. */
#define VTD_BASE		0xfed90000ULL

/* The lib's IRT memory slot, mapped GVA == GPA in the guest. */
#define VTD_MEM_GPA		VIOMMU_IRT_GPA
#define VTD_MEM_SIZE		VIOMMU_IRT_SIZE
#define VTD_IRT_GPA		VTD_MEM_GPA			/* up to 4096 entries */
#define VTD_STATUS_GPA		(VTD_MEM_GPA + 0x10000)		/* desc_status[] */
#define VTD_SCRATCH_GPA		(VTD_MEM_GPA + 0x70000)		/* the test's, 64 KiB */
#define VTD_QUEUE_GPA		(VTD_MEM_GPA + 0x80000)		/* up to 512 KiB */
#define VTD_QUEUE_MAX_QS	7

/* vtd_vm_create() flags. */
#define VTD_VM_DEV		BIT(0)	/* the device */
#define VTD_VM_REGS		BIT(1)	/* and its register page at VTD_BASE */

struct vtd_vm {
	struct viommu_guest *g;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	int dev;			/* -1 without VTD_VM_DEV */
	struct kvm_viommu_regs_config cfg;	/* the effective one */
	uint8_t *mem;			/* host view of VTD_MEM_GPA */
	/* KVM_RUN returns, and those that were the guest's GUEST_SYNC. */
	uint64_t exits;
	uint64_t syncs;
	/*
	 * Completes a KVM_EXIT_MMIO; NULL: an MMIO exit fails the test, as
	 * none may happen with the register page in the kernel.
	 */
	void (*mmio)(struct vtd_vm *v, struct kvm_run *run);
	void *priv;
};

/* NULL if the loaded KVM serves the register page, else why not. */
const char *vtd_regs_unsupported(void);

/* KVM_DEV_VIOMMU_REGS_CONFIG set: 0 or -errno. */
/* REGS_CONFIG: 0, or -1 with errno; the other asserts success. */
int __vtd_regs_config(int dev, uint64_t base, uint64_t cap, uint64_t ecap);
void vtd_regs_config(int dev, uint64_t base, uint64_t cap, uint64_t ecap);
void vtd_regs_get_config(int dev, struct kvm_viommu_regs_config *cfg);
/*
 * Once KVM serves the register page, IR_TABLE and IR_STATUS sets fail
 * with EBUSY: sets the active table and the IR state (KVM_VIOMMU_IR_*)
 * through REGS_STATE instead, as GSTS and IRTA would have them.
 */
void vtd_ir_state_set(int dev, uint64_t irta, uint32_t ir_flags);

/*
 * The VMM's events (KVM_DEV_VIOMMU_GRP_EVENT), each asserting success:
 * the ring of the default size for @types; a new nonblocking event fd;
 * the oldest event, read through an event fd of its own (false, with @e
 * zeroed, if there was none); EVENT_ACK of @seq.
 */
#define VTD_EVENT_TYPES_ALL	(KVM_VIOMMU_EVENT_CONTEXT | KVM_VIOMMU_EVENT_IOTLB | \
				 KVM_VIOMMU_EVENT_DEVTLB | KVM_VIOMMU_EVENT_GCMD | \
				 KVM_VIOMMU_EVENT_IR)

void vtd_event_config(int dev, uint32_t types);
int vtd_event_fd(int dev);
bool vtd_event_pop(int dev, struct kvm_viommu_event *e);
void vtd_event_ack(int dev, uint64_t seq);
void vtd_assert_no_event(int dev);

/*
 * Before viommu_guest_start() of a guest of any size: each vCPU calls
 * @guest_code (viommu_guest_set_code()) with a call's stack alignment, and
 * VTD_MEM_GPA and the register page at VTD_BASE are mapped GVA == GPA.
 */
void vtd_guest_prepare(struct viommu_guest *g, viommu_guest_code_t guest_code);

/*
 * A one-vCPU x2APIC guest (the lib's, viommu_guest_set_code()) with its
 * interrupts counted (viommu_guest_count()), VTD_MEM_GPA mapped and, with
 * VTD_VM_REGS, the register page at VTD_BASE with @cap and @ecap.  Returns
 * with the vCPU at the lib's GUEST_SYNC: its APIC is enabled, and it takes
 * interrupts and calls @guest_code on the next vtd_run().
 */
struct vtd_vm *vtd_vm_create_caps(viommu_guest_code_t guest_code, unsigned int flags,
				  uint64_t cap, uint64_t ecap);
struct vtd_vm *vtd_vm_create(viommu_guest_code_t guest_code, unsigned int flags);
void vtd_vm_destroy(struct vtd_vm *v);

/*
 * Runs the vCPU up to its next GUEST_SYNC, whose stage it returns; a guest
 * assertion, an unexpected exit or (without v->mmio) an MMIO exit fails.
 */
uint64_t vtd_run(struct vtd_vm *v);

static inline void *vtd_hva(struct vtd_vm *v, uint64_t gpa)
{
	return v->mem + (gpa - VTD_MEM_GPA);
}

#endif /* SELFTEST_KVM_VIOMMU_REGS_H */
