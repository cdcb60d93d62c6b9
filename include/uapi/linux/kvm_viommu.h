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

/**
 * DOC: General errors
 *
 * The device is a KVM device: KVM_CREATE_DEVICE makes it, and
 * KVM_{SET,GET,HAS}_DEVICE_ATTR reach its attributes, with
 * &struct kvm_device_attr.addr pointing to the structure of the attribute.
 * Every structure has explicit padding.  A set fails with EINVAL when a
 * flags field has a bit not defined below or a __reserved field is not
 * zero, so that both can take meaning later; a get writes them as zero.
 *
 * Errors that any attribute can return:
 *
 * - ENXIO: no such group or attribute, or no such access (a set of a
 *   read-only attribute);
 * - EINVAL: &struct kvm_device_attr.flags, a flags field or a __reserved
 *   field is not zero, or a value is outside what the attribute allows;
 * - EFAULT: &struct kvm_device_attr.addr cannot be read or written;
 * - EBUSY: the state of the unit does not allow the change now;
 * - ENOMEM: no memory for what the attribute creates.
 *
 * The file descriptors that the device hands out (the fault and event
 * rings) take read() and poll(); read() fails with EINVAL when the buffer
 * cannot hold one record, EAGAIN when the ring is empty and the file is
 * O_NONBLOCK, EINTR when a signal came first, and EFAULT when not even the
 * first record could be copied, which then stays in the ring.
 */

/*
 * KVM_CREATE_DEVICE type.  Far above enum kvm_device_type so that a type
 * added upstream cannot collide with it while this device lives out of tree.
 */
#define KVM_DEV_TYPE_INTEL_VIOMMU	32

/* Device attribute groups (struct kvm_device_attr.group). */
#define KVM_DEV_VIOMMU_GRP_CTRL		1
#define   KVM_DEV_VIOMMU_CTRL_INFO	0	/* get: struct kvm_viommu_info */
#define   KVM_DEV_VIOMMU_CTRL_RESET	2	/* set: struct kvm_viommu_reset */
#define   KVM_DEV_VIOMMU_CTRL_STATS_FD	3	/* get: struct kvm_viommu_fd */
#define KVM_DEV_VIOMMU_GRP_IR		2
#define   KVM_DEV_VIOMMU_IR_TABLE	0	/* get/set: struct kvm_viommu_ir_table */
#define   KVM_DEV_VIOMMU_IR_STATUS	1	/* get/set: struct kvm_viommu_ir_status */
#define   KVM_DEV_VIOMMU_IR_INVALIDATE	2	/* set: struct kvm_viommu_iec */
#define   KVM_DEV_VIOMMU_IR_FAULT_FD	3	/* get: struct kvm_viommu_fd */
#define   KVM_DEV_VIOMMU_IR_IOAPIC	5	/* get/set: struct kvm_viommu_ir_ioapic */
#define   KVM_DEV_VIOMMU_IR_CONFIG	6	/* get/set: struct kvm_viommu_ir_config */
#define KVM_DEV_VIOMMU_GRP_REGS		3
#define   KVM_DEV_VIOMMU_REGS_CONFIG	0	/* get/set: struct kvm_viommu_regs_config */
#define   KVM_DEV_VIOMMU_REGS_STATE	1	/* get/set: struct kvm_viommu_regs_state */
#define   KVM_DEV_VIOMMU_REGS_FAULT	2	/* set: struct kvm_viommu_dmar_fault */
#define KVM_DEV_VIOMMU_GRP_EVENT	4
#define   KVM_DEV_VIOMMU_EVENT_CONFIG	0	/* set: struct kvm_viommu_event_config */
#define   KVM_DEV_VIOMMU_EVENT_FD	1	/* get: struct kvm_viommu_fd */
#define   KVM_DEV_VIOMMU_EVENT_ACK	2	/* set: struct kvm_viommu_event_ack */

/**
 * enum kvm_viommu_info_flags - What the running KVM implements
 * @KVM_VIOMMU_INFO_MSI_DEVID: KVM_SIGNAL_MSI and MSI routes take the
 *                             requester ID (KVM_MSI_VALID_DEVID) for
 *                             source-id verification, although
 *                             KVM_CAP_MSI_DEVID, which means the ID is
 *                             required, stays 0 on x86
 */
enum kvm_viommu_info_flags {
	KVM_VIOMMU_INFO_MSI_DEVID = 1 << 0,
};

/**
 * struct kvm_viommu_info - KVM_DEV_VIOMMU_CTRL_INFO (get)
 * @flags: Combination of enum kvm_viommu_info_flags
 * @__reserved: Must be 0
 * @__reserved2: Must be 0
 *
 * Features that later kernels add are told by a flag here or by
 * KVM_HAS_DEVICE_ATTR, never by a version number.
 */
struct kvm_viommu_info {
	__u32 flags;
	__u32 __reserved;
	__u64 __reserved2[7];
};

/**
 * struct kvm_viommu_reset - KVM_DEV_VIOMMU_CTRL_RESET (set)
 * @flags: Must be 0
 * @__reserved: Must be 0
 * @__reserved2: Must be 0
 *
 * Puts the unit in its state after a system reset, as QEMU's device
 * reset does: registers, interrupt remapping and queued events.
 */
struct kvm_viommu_reset {
	__u32 flags;
	__u32 __reserved;
	__u64 __reserved2[3];
};

/* VT-d IRTA_REG fields, as the guest programs them. */
#define KVM_VIOMMU_IRTA_SIZE_MASK	0xfULL		/* 2^(S + 1) entries */
#define KVM_VIOMMU_IRTA_EIME		(1ULL << 11)	/* x2APIC mode */
#define KVM_VIOMMU_IRTA_ADDR_MASK	(~0xfffULL)
#define KVM_VIOMMU_IRTA_RSVD_MASK	0x7f0ULL

/**
 * struct kvm_viommu_ir_table - KVM_DEV_VIOMMU_IR_TABLE (get, set)
 * @flags: Must be 0
 * @__reserved: Must be 0
 * @__reserved2: Must be 0
 * @irta: The active interrupt remapping table address, in IRTA_REG's
 *        format: the table's guest-physical address, EIME and S
 *
 * The VMM's way to set the table when it emulates the register page
 * itself.  Once KVM serves the register page (KVM_DEV_VIOMMU_REGS_CONFIG),
 * the guest's SIRTP and KVM_DEV_VIOMMU_REGS_STATE set it instead, and a
 * set here fails with EBUSY.
 */
struct kvm_viommu_ir_table {
	__u32 flags;
	__u32 __reserved;
	__u64 irta;
	__u64 __reserved2[6];
};

/**
 * enum kvm_viommu_ir_flags - Interrupt remapping state
 * @KVM_VIOMMU_IR_ENABLE: Remapping is on (GSTS.IRES)
 * @KVM_VIOMMU_IR_CFIS: Compatibility-format interrupts pass (GSTS.CFIS)
 */
enum kvm_viommu_ir_flags {
	KVM_VIOMMU_IR_ENABLE = 1 << 0,
	KVM_VIOMMU_IR_CFIS = 1 << 1,
};

/**
 * struct kvm_viommu_ir_status - KVM_DEV_VIOMMU_IR_STATUS (get, set)
 * @flags: Combination of enum kvm_viommu_ir_flags
 * @__reserved: Must be 0
 * @__reserved2: Must be 0
 *
 * As &struct kvm_viommu_ir_table, set only while the VMM emulates the
 * register page; EBUSY once KVM serves it.
 */
struct kvm_viommu_ir_status {
	__u32 flags;
	__u32 __reserved;
	__u64 __reserved2[3];
};

/**
 * enum kvm_viommu_ir_config_flags - Interrupt remapping policy
 * @KVM_VIOMMU_IR_CONFIG_SID_UNKNOWN_OK: A request that carries no requester
 *                                       ID passes source-id verification,
 *                                       as QEMU's own emulation lets it; by
 *                                       default it fails it (0x26), as no
 *                                       request on hardware lacks a source
 */
enum kvm_viommu_ir_config_flags {
	KVM_VIOMMU_IR_CONFIG_SID_UNKNOWN_OK = 1 << 0,
};

/**
 * struct kvm_viommu_ir_config - KVM_DEV_VIOMMU_IR_CONFIG (get, set)
 * @flags: Combination of enum kvm_viommu_ir_config_flags
 * @__reserved: Must be 0
 * @__reserved2: Must be 0
 */
struct kvm_viommu_ir_config {
	__u32 flags;
	__u32 __reserved;
	__u64 __reserved2[3];
};

/**
 * enum kvm_viommu_iec_flags - Interrupt entry cache invalidation granularity
 * @KVM_VIOMMU_IEC_INDEX: Index-selective; without it, global
 */
enum kvm_viommu_iec_flags {
	KVM_VIOMMU_IEC_INDEX = 1 << 0,
};

#define KVM_VIOMMU_IEC_MAX_MASK		16

/**
 * struct kvm_viommu_iec - KVM_DEV_VIOMMU_IR_INVALIDATE (set)
 * @flags: Combination of enum kvm_viommu_iec_flags
 * @index: IIDX, the first entry; aligned down to 2^@mask
 * @mask: IM, 2^@mask entries, at most KVM_VIOMMU_IEC_MAX_MASK
 * @__reserved: Must be 0
 * @__reserved2: Must be 0
 *
 * The VMM's interrupt entry cache invalidation, as the VT-d IEC
 * descriptor has it.
 */
struct kvm_viommu_iec {
	__u32 flags;
	__u16 index;
	__u8 mask;
	__u8 __reserved;
	__u64 __reserved2[3];
};

/**
 * enum kvm_viommu_ir_fault_reason - VT-d fault reasons of interrupt remapping
 * @KVM_VIOMMU_FR_IR_REQ_RSVD: Reserved field set in the request
 * @KVM_VIOMMU_FR_IR_INDEX_OVER: Index beyond the table
 * @KVM_VIOMMU_FR_IR_ENTRY_P: IRTE not present
 * @KVM_VIOMMU_FR_IR_ROOT_INVAL: IRTE cannot be read
 * @KVM_VIOMMU_FR_IR_IRTE_RSVD: Reserved field set in the IRTE
 * @KVM_VIOMMU_FR_IR_COMPAT: Compatibility-format interrupt blocked
 * @KVM_VIOMMU_FR_IR_SID_ERR: Source-id verification failed
 */
enum kvm_viommu_ir_fault_reason {
	KVM_VIOMMU_FR_IR_REQ_RSVD = 0x20,
	KVM_VIOMMU_FR_IR_INDEX_OVER = 0x21,
	KVM_VIOMMU_FR_IR_ENTRY_P = 0x22,
	KVM_VIOMMU_FR_IR_ROOT_INVAL = 0x23,
	KVM_VIOMMU_FR_IR_IRTE_RSVD = 0x24,
	KVM_VIOMMU_FR_IR_COMPAT = 0x25,
	KVM_VIOMMU_FR_IR_SID_ERR = 0x26,
};

/**
 * struct kvm_viommu_fd - KVM_DEV_VIOMMU_CTRL_STATS_FD,
 *                        KVM_DEV_VIOMMU_IR_FAULT_FD and
 *                        KVM_DEV_VIOMMU_EVENT_FD (get)
 * @fd: A new file descriptor, O_RDONLY | O_CLOEXEC
 * @__reserved: Must be 0
 *
 * The file holds the VM, and with it the device, until it is closed.  A
 * get whose structure cannot be copied out leaves no file behind.
 *
 * CTRL_STATS_FD's file reads as the file that KVM_GET_STATS_FD returns
 * for a VM: a struct kvm_stats_header, an id string, struct
 * kvm_stats_desc descriptors and the data.
 *
 * IR_FAULT_FD's and EVENT_FD's files are rings.  read() returns whole
 * records, oldest first, as many as the buffer holds, and removes them
 * from the ring; it blocks while the ring is empty unless the file is
 * O_NONBLOCK.  poll() reports EPOLLIN while a record is there.  A record
 * whose copy fails stays in the ring.  A full ring loses records, and a
 * record of the loss takes the first place a read frees.  Every
 * descriptor on a ring reads the same records: a VMM reads from one.
 */
struct kvm_viommu_fd {
	__s32 fd;
	__u32 __reserved;
};

/**
 * enum kvm_viommu_ir_fault_flags - Flags of a fault record
 * @KVM_VIOMMU_FAULT_LOST: The ring was full and lost faults here; the
 *                         record says only that
 * @KVM_VIOMMU_FAULT_NO_SID: The request had no requester ID
 */
enum kvm_viommu_ir_fault_flags {
	KVM_VIOMMU_FAULT_LOST = 1 << 0,
	KVM_VIOMMU_FAULT_NO_SID = 1 << 1,
};

/**
 * struct kvm_viommu_ir_fault - A record of the interrupt remapping fault ring
 * @flags: Combination of enum kvm_viommu_ir_fault_flags
 * @reason: The VT-d fault reason, enum kvm_viommu_ir_fault_reason
 * @__reserved: Must be 0
 * @sid: The request's source-id, when it had one
 * @index: The interrupt's IRTE index, or the index it asked for
 * @__reserved2: Must be 0
 *
 * For a VMM that owns the fault registers: KVM records the faults of
 * interrupt remapping here, at most 8 unread.  Further faults are lost
 * until the VMM reads, and a record with KVM_VIOMMU_FAULT_LOST marks the
 * place, as PFO does in the fault status register; that record is one of
 * the 8.
 */
struct kvm_viommu_ir_fault {
	__u32 flags;
	__u8 reason;
	__u8 __reserved;
	__u16 sid;
	__u32 index;
	__u32 __reserved2[3];
};

/**
 * enum kvm_viommu_ioapic_flags - The in-kernel I/O APIC's requester ID
 * @KVM_VIOMMU_IOAPIC_SID_VALID: @sid is valid; else its requests carry no
 *                               requester ID
 */
enum kvm_viommu_ioapic_flags {
	KVM_VIOMMU_IOAPIC_SID_VALID = 1 << 0,
};

/**
 * struct kvm_viommu_ir_ioapic - KVM_DEV_VIOMMU_IR_IOAPIC (get, set)
 * @flags: Combination of enum kvm_viommu_ioapic_flags
 * @sid: The I/O APIC's source-id, as the DMAR table's device scope has it
 * @__reserved: Must be 0
 * @__reserved2: Must be 0
 */
struct kvm_viommu_ir_ioapic {
	__u32 flags;
	__u16 sid;
	__u16 __reserved;
	__u64 __reserved2[3];
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

/**
 * struct kvm_viommu_regs_config - KVM_DEV_VIOMMU_REGS_CONFIG (get, set)
 * @flags: Must be 0
 * @nr_fault_records: Fault recording registers the guest sees, 1 to
 *                    KVM_VIOMMU_NR_FRCD; 0 for all of them
 * @base: The guest-physical address of the page, 4 KiB aligned
 * @cap: CAP_REG
 * @ecap: ECAP_REG
 * @__reserved: Must be 0
 *
 * Has KVM serve the register page at @base.  Set once, before the guest
 * runs; a second set fails with EBUSY.
 */
struct kvm_viommu_regs_config {
	__u32 flags;
	__u32 nr_fault_records;
	__u64 base;
	__u64 cap;
	__u64 ecap;
	__u64 __reserved[4];
};

/**
 * struct kvm_viommu_regs_state - KVM_DEV_VIOMMU_REGS_STATE
 * @flags: Must be 0
 * @gsts: GSTS_REG as it takes effect: a TE or SRTP still held for the
 *        VMM's acknowledgment reads as done
 * @fsts: FSTS_REG
 * @fectl: FECTL_REG
 * @fedata: FEDATA_REG
 * @feaddr: FEADDR_REG
 * @feuaddr: FEUADDR_REG; 0 without ECAP.EIM
 * @ics: ICS_REG
 * @iectl: IECTL_REG
 * @iedata: IEDATA_REG
 * @ieaddr: IEADDR_REG
 * @ieuaddr: IEUADDR_REG; 0 without ECAP.EIM
 * @frcd_next: The fault recording register the next fault goes to (the
 *             unit's own index, which FSTS.FRI is not)
 * @__reserved: Must be 0
 * @rtaddr: RTADDR_REG
 * @rtaddr_active: The root table address that SRTP last latched
 * @ccmd: CCMD_REG
 * @iqh: IQH_REG
 * @iqt: IQT_REG
 * @iqa: IQA_REG
 * @irta: IRTA_REG
 * @irta_active: The interrupt remapping table that SIRTP last latched
 * @iva: IVA_REG
 * @iotlb: IOTLB_REG
 * @frcd: The fault recording registers, low and high qword; those beyond
 *        the configured number of records must be 0
 * @__reserved2: Must be 0
 *
 * The register file and queue state, for live migration.  Each register
 * holds what the guest reads from it.
 */
struct kvm_viommu_regs_state {
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
	__u32 frcd_next;
	__u32 __reserved;
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
	__u64 __reserved2[16];
};

/**
 * enum kvm_viommu_dmar_fault_flags - What a DMA-remapping fault was
 * @KVM_VIOMMU_DMAR_FAULT_READ: A read request; else a write
 * @KVM_VIOMMU_DMAR_FAULT_PASID: @pasid is valid
 */
enum kvm_viommu_dmar_fault_flags {
	KVM_VIOMMU_DMAR_FAULT_READ = 1 << 0,
	KVM_VIOMMU_DMAR_FAULT_PASID = 1 << 1,
};

/**
 * struct kvm_viommu_dmar_fault - KVM_DEV_VIOMMU_REGS_FAULT (set)
 * @flags: Combination of enum kvm_viommu_dmar_fault_flags
 * @reason: The VT-d fault reason, 0x1 to 0xff
 * @__reserved: Must be 0
 * @sid: The request's source-id
 * @addr: The faulting page, 4 KiB aligned
 * @pasid: The request's PASID, 20 bits, with KVM_VIOMMU_DMAR_FAULT_PASID
 * @__reserved2: Must be 0
 *
 * A DMA-remapping fault that the VMM found in its own translation,
 * recorded in the fault registers as hardware would, with the fault
 * event it raises.  Needs the register page (REGS_CONFIG); else ENXIO.
 */
struct kvm_viommu_dmar_fault {
	__u32 flags;
	__u8 reason;
	__u8 __reserved;
	__u16 sid;
	__u64 addr;
	__u32 pasid;
	__u32 __reserved2[5];
};

/**
 * enum kvm_viommu_event_type - Work only the VMM can finish
 * @KVM_VIOMMU_EVENT_CONTEXT: A context-cache invalidation
 * @KVM_VIOMMU_EVENT_IOTLB: An IOTLB invalidation
 * @KVM_VIOMMU_EVENT_DEVTLB: A device-TLB invalidation
 * @KVM_VIOMMU_EVENT_GCMD: TE or SRTP, held from the guest until acked
 * @KVM_VIOMMU_EVENT_IR: IRE, CFI or SIRTP took effect
 */
enum kvm_viommu_event_type {
	KVM_VIOMMU_EVENT_CONTEXT = 1 << 0,
	KVM_VIOMMU_EVENT_IOTLB = 1 << 1,
	KVM_VIOMMU_EVENT_DEVTLB = 1 << 2,
	KVM_VIOMMU_EVENT_GCMD = 1 << 3,
	KVM_VIOMMU_EVENT_IR = 1 << 4,
};

/**
 * struct kvm_viommu_event_config - KVM_DEV_VIOMMU_EVENT_CONFIG (set)
 * @types: The enum kvm_viommu_event_type that KVM is to queue
 * @entries: The ring's size, a power of 2 up to 4096; 0 for 64.  EBUSY if
 *           more events than that are unread
 * @__reserved: Must be 0
 */
struct kvm_viommu_event_config {
	__u32 types;
	__u32 entries;
	__u64 __reserved[3];
};

/**
 * enum kvm_viommu_event_flags - Flags of an event record
 * @KVM_VIOMMU_EVENT_F_LOST: The ring was full and lost events here; the
 *                           record carries only @seq, the last event lost.
 *                           The VMM invalidates everything, then acks it
 * @KVM_VIOMMU_EVENT_F_QUEUED: @desc is a queued descriptor
 */
enum kvm_viommu_event_flags {
	KVM_VIOMMU_EVENT_F_LOST = 1 << 0,
	KVM_VIOMMU_EVENT_F_QUEUED = 1 << 1,
};

/**
 * struct kvm_viommu_event - A record of the event ring
 * @type: One enum kvm_viommu_event_type; 0 in a record of a loss
 * @flags: Combination of enum kvm_viommu_event_flags
 * @seq: 1, 2, ...: KVM_DEV_VIOMMU_EVENT_ACK up to here once done
 * @desc: With KVM_VIOMMU_EVENT_F_QUEUED, the descriptor, 128 or 256 bits.
 *        Else, for a register invalidation, CCMD, or IOTLB and IVA; for
 *        GCMD, GSTS and RTADDR; for IR, GSTS and the active IRTA
 * @__reserved: Must be 0
 */
struct kvm_viommu_event {
	__u32 type;
	__u32 flags;
	__u64 seq;
	__u64 desc[4];
	__u64 __reserved[2];
};

/**
 * struct kvm_viommu_event_ack - KVM_DEV_VIOMMU_EVENT_ACK (set)
 * @seq: Every event up to and including @seq is done
 * @__reserved: Must be 0
 */
struct kvm_viommu_event_ack {
	__u64 seq;
	__u64 __reserved[3];
};

#endif /* _UAPI_LINUX_KVM_VIOMMU_H */
