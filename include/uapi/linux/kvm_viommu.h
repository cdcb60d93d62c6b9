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
#define   KVM_DEV_VIOMMU_CTRL_RESET	2	/* set: struct kvm_viommu_reset */
#define   KVM_DEV_VIOMMU_CTRL_STATS_FD	3	/* get: struct kvm_viommu_stats_fd */
#define KVM_DEV_VIOMMU_GRP_IR		2
#define   KVM_DEV_VIOMMU_IR_TABLE	0	/* get/set: struct kvm_viommu_ir_table */
#define   KVM_DEV_VIOMMU_IR_STATUS	1	/* get/set: struct kvm_viommu_ir_status */
#define   KVM_DEV_VIOMMU_IR_INVALIDATE	2	/* set: struct kvm_viommu_iec */
#define   KVM_DEV_VIOMMU_IR_FAULT	3	/* get: struct kvm_viommu_ir_fault */
#define   KVM_DEV_VIOMMU_IR_FAULT_EVENTFD 4	/* set: struct kvm_viommu_eventfd */
#define   KVM_DEV_VIOMMU_IR_IOAPIC	5	/* get/set: struct kvm_viommu_ir_ioapic */
#define   KVM_DEV_VIOMMU_IR_CONFIG	6	/* get/set: struct kvm_viommu_ir_config */
#define KVM_DEV_VIOMMU_GRP_REGS		3
#define   KVM_DEV_VIOMMU_REGS_CONFIG	0	/* get/set: struct kvm_viommu_regs_config */
#define   KVM_DEV_VIOMMU_REGS_STATE	1	/* get/set: struct kvm_viommu_regs_state */
#define   KVM_DEV_VIOMMU_REGS_FAULT	2	/* set: struct kvm_viommu_dmar_fault */
#define KVM_DEV_VIOMMU_GRP_EVENT	4
#define   KVM_DEV_VIOMMU_EVENT_CONFIG	0	/* set: struct kvm_viommu_event_config */
#define   KVM_DEV_VIOMMU_EVENT_POP	1	/* get: struct kvm_viommu_event */
#define   KVM_DEV_VIOMMU_EVENT_ACK	2	/* set: struct kvm_viommu_event_ack */

/*
 * Info flags.  MSI_DEVID: KVM_SIGNAL_MSI and MSI routes take the requester
 * ID (KVM_MSI_VALID_DEVID) for source-id verification, although
 * KVM_CAP_MSI_DEVID, which means the ID is required, stays 0 on x86.
 */
#define KVM_VIOMMU_INFO_MSI_DEVID	(1U << 0)

struct kvm_viommu_info {
	__u32 abi_version;
	__u32 flags;
	__u64 reserved[7];
};

/**
 * struct kvm_viommu_stats_fd - KVM_DEV_VIOMMU_CTRL_STATS_FD
 * @flags: Must be 0
 * @fd: Output: a new read-only file descriptor, O_CLOEXEC, of the device's
 *      statistics
 * @reserved: Must be 0
 *
 * The file reads as the file that KVM_GET_STATS_FD returns for a VM: a
 * struct kvm_stats_header, an id string, struct kvm_stats_desc descriptors
 * and the data.  It holds the VM until it is closed.
 */
struct kvm_viommu_stats_fd {
	__u32 flags;
	__s32 fd;
	__u64 reserved[3];
};

/* What a VT-d unit does when the VMM resets it (system reset). */
struct kvm_viommu_reset {
	__u32 flags;
	__u32 pad;
	__u64 reserved[3];
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

/*
 * Interrupt remapping policy.  SID_UNKNOWN_OK: a request that carries no
 * requester ID passes source-id verification, as QEMU's own emulation
 * lets it; by default it fails it (0x26), as no request on hardware lacks
 * a source.
 */
#define KVM_VIOMMU_IR_CONFIG_SID_UNKNOWN_OK	(1U << 0)
#define KVM_VIOMMU_IR_CONFIG_FLAGS		0x1U

struct kvm_viommu_ir_config {
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

/*
 * The VT-d register page served by the kernel.  The layout of the page is
 * the kernel's: IVA/IOTLB at KVM_VIOMMU_REG_IVA (ECAP.IRO), and
 * KVM_VIOMMU_NR_FRCD fault recording registers at KVM_VIOMMU_REG_FRCD
 * (CAP.FRO, CAP.NFR).  CAP and ECAP carry those fields as the kernel sets
 * them, or zero for the kernel to fill in.
 */
#define KVM_VIOMMU_REG_IVA		0xf0
#define KVM_VIOMMU_REG_FRCD		0x220
#define KVM_VIOMMU_NR_FRCD		8
#define KVM_VIOMMU_REG_SIZE		0x1000

struct kvm_viommu_regs_config {
	__u32 flags;
	__u32 nr_fault_records;	/* 1 to KVM_VIOMMU_NR_FRCD; 0: all */
	__u64 base;	/* guest-physical address of the page, 4 KiB aligned */
	__u64 cap;	/* CAP_REG */
	__u64 ecap;	/* ECAP_REG */
	__u64 reserved[4];
};

/*
 * The register file and queue state, for live migration.  Registers hold
 * what the guest reads; rtaddr_active and irta_active what SRTP and SIRTP
 * last latched.
 */
#define KVM_VIOMMU_REGS_STATE_VERSION	1

struct kvm_viommu_regs_state {
	__u32 version;
	__u32 flags;
	__u32 gsts;
	__u32 fsts;
	__u32 fectl;
	__u32 fedata;
	__u32 feaddr;
	__u32 feuaddr;
	__u32 ics;
	__u32 iectl;
	__u32 iedata;
	__u32 ieaddr;
	__u32 ieuaddr;
	__u32 frcd_next;	/* the record the next fault goes to */
	__u64 rtaddr;
	__u64 rtaddr_active;
	__u64 ccmd;
	__u64 iqh;
	__u64 iqt;
	__u64 iqa;
	__u64 irta;
	__u64 irta_active;
	__u64 iva;
	__u64 iotlb;
	__u64 frcd[KVM_VIOMMU_NR_FRCD][2];
	__u64 reserved[16];
};

/*
 * A DMA-remapping fault that the VMM found in its own translation, to be
 * recorded in the fault registers as hardware would.
 */
#define KVM_VIOMMU_DMAR_FAULT_READ	(1U << 0)	/* else a write */
#define KVM_VIOMMU_DMAR_FAULT_PASID	(1U << 1)	/* pasid is valid */
#define KVM_VIOMMU_DMAR_FAULT_FLAGS	0x3U

struct kvm_viommu_dmar_fault {
	__u32 flags;
	__u8 reason;	/* VT-d fault reason, 0x1 to 0xff */
	__u8 pad;
	__u16 sid;
	__u64 addr;	/* the faulting page, 4 KiB aligned */
	__u32 pasid;	/* 20 bits */
	__u32 reserved32;
	__u64 reserved[2];
};

/* Work only the VMM can finish, and the VMM's interest in it. */
#define KVM_VIOMMU_EVENT_CONTEXT	(1U << 0)	/* context-cache invalidation */
#define KVM_VIOMMU_EVENT_IOTLB		(1U << 1)	/* IOTLB invalidation */
#define KVM_VIOMMU_EVENT_DEVTLB		(1U << 2)	/* device-TLB invalidation */
#define KVM_VIOMMU_EVENT_GCMD		(1U << 3)	/* TE or SRTP, held until acked */
#define KVM_VIOMMU_EVENT_IR		(1U << 4)	/* IRE, CFI or SIRTP took effect */
#define KVM_VIOMMU_EVENT_TYPES		0x1fU

struct kvm_viommu_event_config {
	__u32 types;	/* KVM_VIOMMU_EVENT_*: what to queue */
	__s32 eventfd;	/* signalled when an event is queued; -1: none */
	__u32 entries;	/* ring size, a power of 2 up to 4096; 0: 64 */
	__u32 pad;
	__u64 reserved[2];
};

/* Event flags. */
#define KVM_VIOMMU_EVENT_F_QUEUED	(1U << 0)	/* desc is a queued descriptor */
#define KVM_VIOMMU_EVENT_F_LOST		(1U << 1)	/* earlier events were lost */

struct kvm_viommu_event {
	__u32 type;	/* one KVM_VIOMMU_EVENT_*; 0: the ring is empty */
	__u32 flags;
	__u64 seq;	/* 1, 2, ...: ACK up to here */
	/*
	 * F_QUEUED: the descriptor, 128 or 256 bits.  Else, for a register
	 * invalidation: CCMD, or IOTLB and IVA; for GCMD: GSTS and RTADDR;
	 * for IR: GSTS and the active IRTA.
	 */
	__u64 desc[4];
	__u64 reserved[2];
};

struct kvm_viommu_event_ack {
	__u64 seq;	/* every event up to and including seq is done */
	__u64 reserved[3];
};

#endif /* _UAPI_LINUX_KVM_VIOMMU_H */
