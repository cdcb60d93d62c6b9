/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * KVM in-kernel fast paths for a guest-visible Intel VT-d IOMMU.
 *
 * Documentation/virt/kvm/devices/viommu.rst describes every group and
 * attribute below.
 */
#ifndef _UAPI_LINUX_KVM_VIOMMU_H
#define _UAPI_LINUX_KVM_VIOMMU_H

#include <linux/types.h>

/*
 * KVM_CREATE_DEVICE type.  Far above enum kvm_device_type so that a type
 * added upstream cannot collide with it while this device lives out of tree.
 */
#define KVM_DEV_TYPE_INTEL_VIOMMU	32

/* Bumped whenever the layout of an attribute below changes. */
#define KVM_VIOMMU_ABI_VERSION		1

/* Device attribute groups (struct kvm_device_attr.group). */
#define KVM_DEV_VIOMMU_GRP_CTRL		1
#define   KVM_DEV_VIOMMU_CTRL_INFO	0	/* get: struct kvm_viommu_info */
#define KVM_DEV_VIOMMU_GRP_IR		2
#define   KVM_DEV_VIOMMU_IR_TABLE	0	/* get/set: struct kvm_viommu_ir_table */

struct kvm_viommu_info {
	__u32 abi_version;
	__u32 flags;
	__u64 reserved[7];
};

/* VT-d IRTA_REG fields, as the guest programs them. */
#define KVM_VIOMMU_IRTA_SIZE_MASK	0xfULL		/* 2^(S + 1) entries */
#define KVM_VIOMMU_IRTA_EIME		(1ULL << 11)	/* x2APIC mode */
#define KVM_VIOMMU_IRTA_ADDR_MASK	(~0xfffULL)
#define KVM_VIOMMU_IRTA_RSVD_MASK	0x7f0ULL

struct kvm_viommu_ir_table {
	__u32 flags;
	__u32 pad;
	__u64 irta;
	__u64 reserved[6];
};

#endif /* _UAPI_LINUX_KVM_VIOMMU_H */
