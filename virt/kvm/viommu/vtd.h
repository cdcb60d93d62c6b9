/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Intel VT-d register and table formats, as the guest programs them.
 *
 * Pure decoding only, with no KVM state, so that tools/testing/viommu can
 * build it in userspace.
 */
#ifndef __KVM_VIOMMU_VTD_H
#define __KVM_VIOMMU_VTD_H

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

#endif /* __KVM_VIOMMU_VTD_H */
