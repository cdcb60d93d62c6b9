/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Intel VT-d register and table formats, as the guest programs them.
 *
 * Pure decoding only, with no KVM state, so that tools/testing/viommu can
 * build it in userspace.
 */
#ifndef __KVM_VIOMMU_VTD_H
#define __KVM_VIOMMU_VTD_H

#include <linux/bitfield.h>
#include <linux/bits.h>
#include <linux/types.h>
#include <uapi/linux/kvm_viommu.h>

/* Largest interrupt remapping table: IRTA.S = 15 gives 2^16 entries. */
#define VTD_IRTA_MAX_ENTRIES		BIT(16)

static inline bool vtd_irta_valid(u64 irta)
{
	return !(irta & KVM_VIOMMU_IRTA_RSVD_MASK);
}

static inline u32 vtd_irta_entries(u64 irta)
{
	return 2U << (irta & KVM_VIOMMU_IRTA_SIZE_MASK);
}

static inline u64 vtd_irta_base(u64 irta)
{
	return irta & KVM_VIOMMU_IRTA_ADDR_MASK;
}

static inline bool vtd_irta_x2apic(u64 irta)
{
	return irta & KVM_VIOMMU_IRTA_EIME;
}

/* An interrupt remapping table entry, 128 bits, little endian in memory. */
struct vtd_irte {
	u64 lo;
	u64 hi;
};

#define VTD_IRTE_SIZE			16

#define VTD_IRTE_P			BIT_ULL(0)
#define VTD_IRTE_FPD			BIT_ULL(1)
#define VTD_IRTE_DM_LOGICAL		BIT_ULL(2)
#define VTD_IRTE_RH			BIT_ULL(3)
#define VTD_IRTE_TM_LEVEL		BIT_ULL(4)
#define VTD_IRTE_DLM			GENMASK_ULL(7, 5)
#define VTD_IRTE_IM_POSTED		BIT_ULL(15)
#define VTD_IRTE_VECTOR			GENMASK_ULL(23, 16)
#define VTD_IRTE_DST			GENMASK_ULL(63, 32)
/* Posted format is not advertised, so IM is reserved too. */
#define VTD_IRTE_LO_RSVD		(GENMASK_ULL(14, 12) | VTD_IRTE_IM_POSTED | \
					 GENMASK_ULL(31, 24))
/* In xAPIC mode the destination is DST[15:8]; the rest of DST is reserved. */
#define VTD_IRTE_LO_RSVD_XAPIC		(GENMASK_ULL(39, 32) | GENMASK_ULL(63, 48))

#define VTD_IRTE_SID			GENMASK_ULL(15, 0)
#define VTD_IRTE_SQ			GENMASK_ULL(17, 16)
#define VTD_IRTE_SVT			GENMASK_ULL(19, 18)
#define VTD_IRTE_HI_RSVD		GENMASK_ULL(63, 20)

/* Source validation types. */
#define VTD_SVT_NONE			0
#define VTD_SVT_SID			1
#define VTD_SVT_BUS			2

/* Delivery modes that the DLM field may hold; 3 and 6 are reserved. */
#define VTD_DLM_VALID_MASK		(BIT(0) | BIT(1) | BIT(2) | BIT(4) | \
					 BIT(5) | BIT(7))

static inline u8 vtd_irte_vector(const struct vtd_irte *irte)
{
	return FIELD_GET(VTD_IRTE_VECTOR, irte->lo);
}

static inline u8 vtd_irte_dlm(const struct vtd_irte *irte)
{
	return FIELD_GET(VTD_IRTE_DLM, irte->lo);
}

static inline u32 vtd_irte_dest_id(const struct vtd_irte *irte, bool x2apic)
{
	u32 dst = FIELD_GET(VTD_IRTE_DST, irte->lo);

	return x2apic ? dst : (dst >> 8) & 0xff;
}

/*
 * Returns 0 for an entry that can be used, otherwise the VT-d fault reason.
 * x2apic: the table's EIME, which decides how much of DST is reserved.
 */
static inline u8 vtd_irte_check(const struct vtd_irte *irte, bool x2apic)
{
	if (!(irte->lo & VTD_IRTE_P))
		return KVM_VIOMMU_FR_IR_ENTRY_P;
	if ((irte->lo & VTD_IRTE_LO_RSVD) || (irte->hi & VTD_IRTE_HI_RSVD) ||
	    (!x2apic && (irte->lo & VTD_IRTE_LO_RSVD_XAPIC)) ||
	    !(VTD_DLM_VALID_MASK & BIT(vtd_irte_dlm(irte))) ||
	    FIELD_GET(VTD_IRTE_SVT, irte->hi) > VTD_SVT_BUS)
		return KVM_VIOMMU_FR_IR_IRTE_RSVD;
	return 0;
}

/*
 * Source-id verification of a request from requester @sid.  A request
 * without a requester ID (@has_sid false) passes only an entry that asks
 * for no verification: hardware would never know less than the source.
 */
static inline bool vtd_irte_sid_ok(const struct vtd_irte *irte, u16 sid,
				   bool has_sid)
{
	/* SQ: which low bits of the function number are not compared. */
	static const u16 sq_mask[] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };
	u16 want = FIELD_GET(VTD_IRTE_SID, irte->hi);
	u8 bus = sid >> 8;

	switch (FIELD_GET(VTD_IRTE_SVT, irte->hi)) {
	case VTD_SVT_NONE:
		return true;
	case VTD_SVT_SID:
		return has_sid &&
		       !((sid ^ want) & sq_mask[FIELD_GET(VTD_IRTE_SQ, irte->hi)]);
	case VTD_SVT_BUS:
		return has_sid && bus >= (want >> 8) && bus <= (want & 0xff);
	}
	return false;
}

/* Remappable-format MSI address: handle[14:0] in 19:5, handle[15] in 2. */
#define VTD_MSI_REMAPPABLE		BIT_ULL(4)
#define VTD_MSI_SHV			BIT_ULL(3)
#define VTD_MSI_HANDLE_LO		GENMASK_ULL(19, 5)
#define VTD_MSI_HANDLE_HI		BIT_ULL(2)

static inline bool vtd_msi_remappable(u64 address)
{
	return address & VTD_MSI_REMAPPABLE;
}

/*
 * Decodes the IRTE index of a remappable MSI.  Returns 0, or the fault
 * reason of a request with reserved bits set.
 */
static inline u8 vtd_msi_index(u64 address, u32 data, u32 *index)
{
	u32 handle = FIELD_GET(VTD_MSI_HANDLE_LO, address) |
		     (address & VTD_MSI_HANDLE_HI ? BIT(15) : 0);

	if (address >> 32)
		return KVM_VIOMMU_FR_IR_REQ_RSVD;
	if (address & VTD_MSI_SHV)
		handle += data & 0xffff;
	*index = handle;
	return 0;
}

/*
 * Remappable-format I/O APIC redirection entry: handle[14:0] in 63:49,
 * handle[15] in 11.  The I/O APIC sends no subhandle, so the handle is
 * the index; the vector stays the RTE's own, for matching EOIs.
 */
#define VTD_IOAPIC_RTE_REMAPPABLE	BIT_ULL(48)
#define VTD_IOAPIC_RTE_HANDLE_LO	GENMASK_ULL(63, 49)
#define VTD_IOAPIC_RTE_HANDLE_HI	BIT_ULL(11)

static inline bool vtd_ioapic_rte_remappable(u64 rte)
{
	return rte & VTD_IOAPIC_RTE_REMAPPABLE;
}

static inline u32 vtd_ioapic_rte_index(u64 rte)
{
	return FIELD_GET(VTD_IOAPIC_RTE_HANDLE_LO, rte) |
	       (rte & VTD_IOAPIC_RTE_HANDLE_HI ? BIT(15) : 0);
}

#endif /* __KVM_VIOMMU_VTD_H */
