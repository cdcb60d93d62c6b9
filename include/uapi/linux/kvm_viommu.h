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
#define   KVM_DEV_VIOMMU_CTRL_STATS	1	/* get: struct kvm_viommu_stats */
#define KVM_DEV_VIOMMU_GRP_IR		2
#define   KVM_DEV_VIOMMU_IR_TABLE	0	/* get/set: struct kvm_viommu_ir_table */
#define   KVM_DEV_VIOMMU_IR_STATUS	1	/* get/set: struct kvm_viommu_ir_status */
#define   KVM_DEV_VIOMMU_IR_INVALIDATE	2	/* set: struct kvm_viommu_iec */
#define   KVM_DEV_VIOMMU_IR_FAULT	3	/* get: struct kvm_viommu_ir_fault */
#define   KVM_DEV_VIOMMU_IR_FAULT_EVENTFD 4	/* set: struct kvm_viommu_eventfd */
#define   KVM_DEV_VIOMMU_IR_IOAPIC	5	/* get/set: struct kvm_viommu_ir_ioapic */

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

/* Interrupt remapping state: GSTS.IRES and GSTS.CFIS. */
#define KVM_VIOMMU_IR_ENABLE		(1U << 0)
#define KVM_VIOMMU_IR_CFIS		(1U << 1)

struct kvm_viommu_ir_status {
	__u32 flags;
	__u32 pad;
	__u64 reserved[3];
};

/* Interrupt entry cache invalidation, as the VT-d IEC descriptor has it. */
#define KVM_VIOMMU_IEC_INDEX		(1U << 0)	/* else global */
#define KVM_VIOMMU_IEC_MAX_MASK		16

struct kvm_viommu_iec {
	__u32 flags;
	__u16 index;	/* IIDX: first entry, aligned down to 2^mask */
	__u8 mask;	/* IM: 2^mask entries */
	__u8 pad;
	__u64 reserved[3];
};

/* VT-d fault reasons of interrupt remapping. */
#define KVM_VIOMMU_FR_IR_REQ_RSVD	0x20	/* reserved field in the request */
#define KVM_VIOMMU_FR_IR_INDEX_OVER	0x21	/* index beyond the table */
#define KVM_VIOMMU_FR_IR_ENTRY_P	0x22	/* IRTE not present */
#define KVM_VIOMMU_FR_IR_ROOT_INVAL	0x23	/* IRTE cannot be read */
#define KVM_VIOMMU_FR_IR_IRTE_RSVD	0x24	/* reserved field in the IRTE */
#define KVM_VIOMMU_FR_IR_COMPAT		0x25	/* compatibility format blocked */
#define KVM_VIOMMU_FR_IR_SID_ERR	0x26	/* source-id verification failed */

#define KVM_VIOMMU_FAULT_VALID		(1U << 0)	/* a record was read */
#define KVM_VIOMMU_FAULT_OVERFLOW	(1U << 1)	/* records were lost */
#define KVM_VIOMMU_FAULT_NO_SID		(1U << 2)	/* request had no devid */

struct kvm_viommu_ir_fault {
	__u32 flags;
	__u8 reason;
	__u8 pad;
	__u16 sid;
	__u32 index;
	__u32 pad2;
	__u64 reserved[2];
};

struct kvm_viommu_eventfd {
	__s32 fd;	/* -1: none */
	__u32 flags;
	__u64 reserved[3];
};

/* The in-kernel I/O APIC's requester ID, for source-id verification. */
#define KVM_VIOMMU_IOAPIC_SID_VALID	(1U << 0)	/* else no requester ID */

struct kvm_viommu_ir_ioapic {
	__u32 flags;
	__u16 sid;
	__u16 pad;
	__u64 reserved[3];
};

struct kvm_viommu_stats {
	__u64 hits;		/* translations served by the IR cache */
	__u64 misses;		/* translations that read the IRTE */
	__u64 faults;		/* faults, recorded or suppressed by FPD */
	__u64 invalidations;	/* IEC requests */
	__u64 reserved[4];
};

#endif /* _UAPI_LINUX_KVM_VIOMMU_H */
