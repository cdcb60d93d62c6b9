/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef __KVM_VIOMMU_VIOMMU_H
#define __KVM_VIOMMU_VIOMMU_H

#include <linux/kvm_host.h>
#include <linux/kvm_viommu.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/types.h>
#include <linux/xarray.h>
#include <kvm/iodev.h>

#include "vtd.h"

#define KVM_VIOMMU_VERSION	"0.3.0"

/* As many records as the register page has fault recording registers. */
#define KVM_VIOMMU_FAULT_RECORDS	KVM_VIOMMU_NR_FRCD
/* Events the VMM has not popped yet, unless it says; more are lost (F_LOST). */
#define KVM_VIOMMU_EVENT_RING		64
#define KVM_VIOMMU_EVENT_RING_MAX	4096

struct eventfd_ctx;
struct kvm;

/* Interrupt-remapping fault reasons, 0x20 to 0x26, counted apart. */
#define KVM_VIOMMU_IR_NR_REASONS \
	(KVM_VIOMMU_FR_IR_SID_ERR - KVM_VIOMMU_FR_IR_REQ_RSVD + 1)

/*
 * What the device counts, per CPU so that the fast paths add to their own
 * CPU's copy with no atomic or lock; summed when read (stats.c), where
 * kvm_viommu_stats_desc[] names every field.  Only u64s.
 */
struct kvm_viommu_counters {
	u64 remapped_msi_atomic;
	u64 remapped_msi_process;
	u64 remapped_ioapic;
	u64 ir_hits;
	u64 ir_misses;
	u64 ir_fills;
	u64 ir_invalidations;
	u64 ir_faults[KVM_VIOMMU_IR_NR_REASONS];
	u64 dmar_faults;
	/* By descriptor type; [0]: descriptors that raised IQE. */
	u64 qi_desc[VTD_DESC_WAIT + 1];
	u64 events_queued;
	u64 events_lost;
	u64 exits_avoided;
};

/* Interrupt-remapping faults, for a VMM that owns the fault registers. */
struct kvm_viommu_faults {
	/*
	 * Serialises the VMM's reads of the ring, across the copy to its
	 * memory.  Only the VMM's ioctls take it.
	 */
	struct mutex read_lock;
	/* Protects everything below; taken from atomic context. */
	spinlock_t lock;
	struct kvm_viommu_ir_fault ring[KVM_VIOMMU_FAULT_RECORDS];
	unsigned int head;
	unsigned int count;
	bool overflow;
	struct eventfd_ctx *eventfd;
};

/*
 * The VT-d register page, as the guest sees it (regs.c) and as the
 * invalidation queue uses it (qi.c).  GSTS.IRES and GSTS.CFIS live in
 * ir_flags, and the active IRTA in the IR cache, so that the VMM's IR
 * attributes and the guest's registers are one state.
 */
struct kvm_viommu_regs {
	struct kvm_io_device dev;
	bool configured;
	u64 base;
	u64 cap;
	u64 ecap;

	u32 gsts;
	u32 fsts;
	u32 fectl;
	u32 fedata;
	u32 feaddr;
	u32 feuaddr;
	u32 ics;
	u32 iectl;
	u32 iedata;
	u32 ieaddr;
	u32 ieuaddr;
	u64 rtaddr;
	u64 rtaddr_active;
	u64 ccmd;
	u64 iqh;
	u64 iqt;
	u64 iqa;
	u64 irta;
	u64 iva;
	u64 iotlb;
	u64 frcd[KVM_VIOMMU_NR_FRCD][2];
	u32 frcd_next;
	/* Fault recording registers the guest sees, CAP.NFR + 1. */
	u32 nr_frcd;

	/* Register commands the VMM still works on: their event, or 0. */
	u64 ccmd_seq;
	u64 iotlb_seq;
	u64 gcmd_seq;
	/* TES and RTPS as the guest sees them until gcmd_seq is acked. */
	u32 gsts_held;

	/*
	 * Faults recorded where viommu->lock cannot be waited for, until a
	 * vCPU moves them into the registers.  Protected by pending_lock.
	 */
	spinlock_t pending_lock;
	struct kvm_viommu_ir_fault pending[KVM_VIOMMU_NR_FRCD];
	unsigned int nr_pending;
	bool pending_overflow;
};

/* Work that only the VMM can do, waiting for it (event.c). */
struct kvm_viommu_events {
	/* As kvm_viommu_faults.read_lock; the rest is under viommu->lock. */
	struct mutex read_lock;
	u32 types;
	struct eventfd_ctx *eventfd;
	struct kvm_viommu_event *ring;
	unsigned int size;
	unsigned int head;
	unsigned int count;
	bool lost;
	u64 seq;	/* the last event queued */
	u64 queued_seq;	/* the last queued descriptor's event */
	u64 acked;	/* the last event the VMM has finished */
};

/*
 * Per-VM state of the emulated VT-d unit; one per VM.
 *
 * Lifetime: freed only by the device's .destroy, once KVM has stopped every
 * source of interrupts for the VM: irqfds are shut down when the VM's file
 * is released, the I/O APIC's remap work is cancelled by
 * kvm_arch_destroy_vm(), which runs before kvm_destroy_devices(), and
 * nothing else delivers without a vCPU or the VM's file.  The fast paths
 * therefore use the pointer that kvm_viommu_find() returns without taking
 * a reference.  A device whose creation failed was never published.
 */
struct kvm_viommu {
	struct kvm *kvm;
	/* In the lookup table, keyed by kvm, once published; see device.c. */
	struct hlist_node link;
	bool published;

	/*
	 * Serialises the VMM's attribute accesses and the guest's register
	 * accesses; protects ir_flags writes, regs and events.  Taken before
	 * ir_cache_lock and kvm->slots_lock, never from the fast paths.
	 */
	struct mutex lock;
	/* KVM_VIOMMU_IR_*: written under lock, read by the fast paths. */
	u32 ir_flags;
	/* KVM_VIOMMU_IR_CONFIG_*: one word, read with READ_ONCE(). */
	u32 ir_config;
	/* This VM holds a count of kvm_viommu_ir_enabled; see ir.c. */
	bool ir_key_held;

	/*
	 * Protects irta writes and fills and invalidations of irtes.  The
	 * fast paths read both without it: an xarray load under RCU.
	 */
	struct mutex ir_cache_lock;
	u64 irta;
	/* Bumped by every change of irta or invalidation, under the lock. */
	u64 ir_cache_gen;
	/*
	 * Remapped deliveries, from before their lookup until delivered, are
	 * its readers.  An invalidation that dropped an entry a request used
	 * (or a fill that could not cache) sets ir_fence_needed, and the
	 * guest's next invalidation wait waits for those readers.  Set with
	 * WRITE_ONCE() anywhere, taken with xchg().
	 */
	struct srcu_struct ir_srcu;
	bool ir_fence_needed;
	/* IRTE index -> struct kvm_viommu_irte, valid entries only. */
	struct xarray irtes;
	/*
	 * The EOI scan met an entry that faulted; see the IEC.  Set from
	 * any context with WRITE_ONCE(), taken with xchg(): no lock.
	 */
	bool ir_scan_stale;
	/*
	 * The in-kernel I/O APIC's requester ID, KVM_VIOMMU_IOAPIC_RID_*:
	 * one word, written under lock, read with READ_ONCE() anywhere.
	 */
	u32 ioapic_rid;

	struct kvm_viommu_faults faults;
	struct kvm_viommu_counters __percpu *counters;
	/* The stats fd's id string, as KVM_GET_STATS_FD's VM fd has. */
	char stats_id[KVM_STATS_NAME_SIZE];

	struct kvm_viommu_regs regs;
	struct kvm_viommu_events events;
};

/* ioapic_rid: the SID, and whether the VMM gave one. */
#define KVM_VIOMMU_IOAPIC_RID_SID	GENMASK(15, 0)
#define KVM_VIOMMU_IOAPIC_RID_VALID	BIT(16)

/* A request to translate: which entry, and who asked. */
struct kvm_viommu_ir_request {
	u32 index;
	u16 sid;
	bool has_sid;
};

/* device.c */
struct kvm_viommu *kvm_viommu_find(struct kvm *kvm);
int kvm_viommu_reset(struct kvm_viommu *viommu);

/* ir.c */
int kvm_viommu_ir_init(struct kvm_viommu *viommu);
void kvm_viommu_ir_destroy(struct kvm_viommu *viommu);
void kvm_viommu_ir_reset(struct kvm_viommu *viommu);
int kvm_viommu_ir_enter(struct kvm_viommu *viommu);
void kvm_viommu_ir_exit(struct kvm_viommu *viommu, int idx);
void kvm_viommu_ir_fence(struct kvm_viommu *viommu);
int kvm_viommu_ir_set_table(struct kvm_viommu *viommu, u64 irta);
int kvm_viommu_ir_set_flags(struct kvm_viommu *viommu, u32 flags);
void kvm_viommu_ir_set_ioapic(struct kvm_viommu *viommu,
			      const struct kvm_viommu_ir_ioapic *ioapic);
void kvm_viommu_ir_get_ioapic(struct kvm_viommu *viommu,
			      struct kvm_viommu_ir_ioapic *ioapic);
void kvm_viommu_ir_ioapic_request(struct kvm_viommu *viommu, u32 index,
				  struct kvm_viommu_ir_request *req);
int kvm_viommu_ir_invalidate(struct kvm_viommu *viommu,
			     const struct kvm_viommu_iec *iec);
int kvm_viommu_ir_translate(struct kvm_viommu *viommu,
			    const struct kvm_viommu_ir_request *req,
			    enum kvm_viommu_ir_context ctx,
			    struct vtd_irte *irte, bool *x2apic);
int kvm_viommu_ir_fault(struct kvm_viommu *viommu,
			const struct kvm_viommu_ir_request *req,
			enum kvm_viommu_ir_context ctx, u8 reason,
			const struct vtd_irte *irte);

/* regs.c */
int kvm_viommu_regs_configure(struct kvm_viommu *viommu,
			      const struct kvm_viommu_regs_config *config);
void kvm_viommu_regs_get_config(struct kvm_viommu *viommu,
				struct kvm_viommu_regs_config *config);
void kvm_viommu_regs_get_state(struct kvm_viommu *viommu,
			       struct kvm_viommu_regs_state *state);
int kvm_viommu_regs_set_state(struct kvm_viommu *viommu,
			      const struct kvm_viommu_regs_state *state);
void kvm_viommu_regs_record_fault(struct kvm_viommu *viommu,
				  const struct kvm_viommu_ir_fault *record);
void kvm_viommu_regs_record_pending(struct kvm_viommu *viommu);
int kvm_viommu_regs_dmar_fault(struct kvm_viommu *viommu,
			       const struct kvm_viommu_dmar_fault *fault);
void kvm_viommu_regs_reset(struct kvm_viommu *viommu);
void kvm_viommu_regs_gcmd_acked(struct kvm_viommu *viommu);
void kvm_viommu_regs_queue_error(struct kvm_viommu *viommu);
void kvm_viommu_regs_wait_done(struct kvm_viommu *viommu);

/* qi.c */
void kvm_viommu_qi_run(struct kvm_viommu *viommu);
void kvm_viommu_events_acked(struct kvm_viommu *viommu);
void kvm_viommu_ccmd_invalidate(struct kvm_viommu *viommu);
void kvm_viommu_iotlb_reg_invalidate(struct kvm_viommu *viommu);
void kvm_viommu_reg_invalidations_acked(struct kvm_viommu *viommu);

/* event.c */
int kvm_viommu_events_init(struct kvm_viommu_events *events);
void kvm_viommu_events_destroy(struct kvm_viommu_events *events);
u64 kvm_viommu_event_post(struct kvm_viommu *viommu, u32 type, u32 flags,
			  const u64 *desc, unsigned int n);
bool kvm_viommu_events_pending(const struct kvm_viommu_events *events);
void kvm_viommu_events_ack_all(struct kvm_viommu_events *events);
int kvm_viommu_events_configure(struct kvm_viommu *viommu,
				const struct kvm_viommu_event_config *config);
void kvm_viommu_event_peek(struct kvm_viommu_events *events,
			   struct kvm_viommu_event *event);
void kvm_viommu_event_consume(struct kvm_viommu_events *events,
			      const struct kvm_viommu_event *event);
int kvm_viommu_event_ack(struct kvm_viommu *viommu, u64 seq);

/* stats.c */
extern const struct file_operations kvm_viommu_stats_debugfs_fops;
void kvm_viommu_stats_init(struct kvm_viommu *viommu);
int kvm_viommu_stats_fd(struct kvm_viommu *viommu);

/* fault.c */
void kvm_viommu_faults_init(struct kvm_viommu_faults *faults);
void kvm_viommu_faults_destroy(struct kvm_viommu_faults *faults);
void kvm_viommu_fault_record(struct kvm_viommu_faults *faults,
			     const struct kvm_viommu_ir_fault *record);
void kvm_viommu_fault_peek(struct kvm_viommu_faults *faults,
			   struct kvm_viommu_ir_fault *record);
void kvm_viommu_fault_consume(struct kvm_viommu_faults *faults,
			      const struct kvm_viommu_ir_fault *record);
int kvm_viommu_fault_set_eventfd(struct kvm_viommu_faults *faults, int fd);

#endif /* __KVM_VIOMMU_VIOMMU_H */
