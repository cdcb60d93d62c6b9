/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef __KVM_VIOMMU_VIOMMU_H
#define __KVM_VIOMMU_VIOMMU_H

#include <linux/mutex.h>
#include <linux/types.h>

#define KVM_VIOMMU_VERSION	"0.1.0"

struct kvm;

/* Per-VM state of the emulated VT-d unit; one per VM. */
struct kvm_viommu {
	struct kvm *kvm;

	/* Serialises the VMM's attribute accesses; protects the fields below. */
	struct mutex lock;
	u64 irta;
};

#endif /* __KVM_VIOMMU_VIOMMU_H */
