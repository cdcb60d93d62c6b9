/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The in-kernel VT-d IOMMU's core, shared by its files.
 *
 * The core is arch-neutral C: it knows VT-d (<kvm/vtd.h>), KVM's devices,
 * memory and requests, and nothing of the local APIC.  What a remapped interrupt
 * becomes, and the I/O APIC, are x86's (arch/x86/kvm/irq_remap.c), reached
 * through the kvm_arch_viommu_*() calls of <linux/kvm_viommu.h>, and using
 * <kvm/viommu.h>.
 *
 * Locking, outermost first; a lock is never taken while one below it is
 * held:
 *
 *   kvm->lock                    creating the device
 *     viommu->lock               (mutex) the VMM's attributes, the guest's
 *                                registers and queue, events; may sleep,
 *                                never taken by an interrupt's delivery
 *       ir_cache_lock            (mutex) fills and invalidations of the
 *                                IR cache
 *       kvm->slots_lock          registering the register page's MMIO
 *       kvm->srcu                (read) guest memory, for fills and the
 *                                queue
 *       gpc->refresh_lock        (mutex, KVM's) mapping the page of the
 *                                queue's or a wait status's gfn_to_pfn_cache
 *         gpc->lock              (rwlock, KVM's) the mapping, while the
 *                                queue copies through it
 *       ir_srcu                  (synchronize) the guest's invalidation
 *                                wait, for deliveries in flight
 *   ring->read_lock              (mutex) a VMM's read() of a ring; holds
 *                                nothing else across its copy to userspace
 *   ioapic->lock                 (x86, spinlock) under it, translations
 *                                come from the cache and nothing is locked
 *   kvm_viommu_table_lock        (spinlock) publishing the device
 *   regs.pending_lock,           (spinlocks) innermost, from any context:
 *   ring->lock                   faults a vCPU records later; a ring's
 *                                records
 *
 * The fast paths (an MSI's or an I/O APIC pin's delivery) take no lock of
 * the core: they read the IR cache under RCU inside an ir_srcu read-side
 * section, and record a fault with viommu->lock only by mutex_trylock().
 */
#ifndef __KVM_VIOMMU_VIOMMU_H
#define __KVM_VIOMMU_VIOMMU_H

#include <linux/fs.h>
#include <linux/kvm_host.h>
#include <linux/kvm_viommu.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <kvm/iodev.h>

#include <kvm/viommu.h>

#define KVM_VIOMMU_VERSION	"0.3.0"

/* As many records as the register page has fault recording registers. */
#define KVM_VIOMMU_FAULT_RECORDS	KVM_VIOMMU_NR_FRCD
/* Events the VMM has not read yet, unless it says; more are lost (F_LOST). */
#define KVM_VIOMMU_EVENT_RING		64
#define KVM_VIOMMU_EVENT_RING_MAX	4096

/* The bits of the uapi's flags fields that mean something. */
#define KVM_VIOMMU_IR_CONFIG_FLAGS	KVM_VIOMMU_IR_CONFIG_SID_UNKNOWN_OK
#define KVM_VIOMMU_DMAR_FAULT_FLAGS	(KVM_VIOMMU_DMAR_FAULT_READ | \
					 KVM_VIOMMU_DMAR_FAULT_PASID)
#define KVM_VIOMMU_EVENT_TYPES		(KVM_VIOMMU_EVENT_CONTEXT | \
					 KVM_VIOMMU_EVENT_IOTLB | \
					 KVM_VIOMMU_EVENT_DEVTLB | \
					 KVM_VIOMMU_EVENT_GCMD | \
					 KVM_VIOMMU_EVENT_IR)

/* The largest record of a ring: an event. */
#define KVM_VIOMMU_RING_RECORD_MAX	sizeof(struct kvm_viommu_event)

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
	u64 remapped[KVM_VIOMMU_IR_NR_PATHS];	/* by enum kvm_viommu_ir_path */
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

/* Records for the VMM to read(), from its file descriptors (ring.c). */
struct kvm_viommu_ring {
	struct kvm *kvm;
	/*
	 * Serialises the readers, across their copy to the VMM's memory.
	 * Only they take it, so a copy that waits for the VMM (userfaultfd)
	 * blocks only the VMM's own reads.
	 */
	struct mutex read_lock;
	/* Protects everything below; taken from atomic context. */
	spinlock_t lock;
	void *records;
	size_t record_size;
	unsigned int size;
	unsigned int head;
	unsigned int count;
	/* The last record is the producer's record of a loss. */
	bool lost_at_tail;
	/* A loss happened while the ring was full: @lost waits for room. */
	bool lost_pending;
	u8 lost[KVM_VIOMMU_RING_RECORD_MAX];
	/* Bumped when records go other than by a read: a reset, a resize. */
	u32 gen;
	/* Readers and pollers waiting for a record. */
	wait_queue_head_t wait;
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
	/* Fault recording registers the guest sees, CAP.NFR + 1. */
	u32 nr_frcd;

	/*
	 * What the guest programmed, as KVM_DEV_VIOMMU_REGS_STATE has it,
	 * so that a save is a copy.  Its GSTS.IRES, GSTS.CFIS and
	 * irta_active may be stale: the IR cache has the ones in effect.
	 */
	struct kvm_viommu_regs_state state;

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

	/*
	 * Kernel mappings of the guest pages that the queue reads (its
	 * head's) and writes (the last wait's status word), as KVM keeps
	 * them valid: the MMU notifiers and the memslots' generation.  Only
	 * the queue, under viommu->lock on a vCPU, refreshes or reads them;
	 * their own locks serialise it with the notifiers.
	 */
	struct gfn_to_pfn_cache queue_gpc;
	struct gfn_to_pfn_cache status_gpc;
};

/* Work that only the VMM can do, waiting for it (event.c). */
struct kvm_viommu_events {
	struct kvm_viommu_ring ring;
	/* The rest is under viommu->lock. */
	u32 types;
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
	/* This VM holds a count of kvm_viommu_remapping_key; see ir.c. */
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
	 * The architecture holds an interrupt that faulted until the next
	 * IEC (kvm_viommu_ir_held()), which has it retried.  Set from any
	 * context with smp_store_release(), taken with xchg(): no lock.
	 */
	bool ir_held;
	/*
	 * The in-kernel I/O APIC's requester ID, KVM_VIOMMU_IOAPIC_RID_*:
	 * one word, written under lock, read with READ_ONCE() anywhere.
	 */
	u32 ioapic_rid;

	/* Interrupt-remapping faults, for a VMM that owns the fault registers. */
	struct kvm_viommu_ring faults;
	struct kvm_viommu_counters __percpu *counters;
	/* The stats fd's id string, as KVM_GET_STATS_FD's VM fd has. */
	char stats_id[KVM_STATS_NAME_SIZE];

	struct kvm_viommu_regs regs;
	struct kvm_viommu_events events;
};

/* ioapic_rid: the SID, and whether the VMM gave one. */
#define KVM_VIOMMU_IOAPIC_RID_SID	GENMASK(15, 0)
#define KVM_VIOMMU_IOAPIC_RID_VALID	BIT(16)

/* device.c */
struct kvm_viommu *kvm_viommu_find(struct kvm *kvm);
int kvm_viommu_get_file(struct kvm *kvm, const char *name,
			const struct file_operations *fops, void *priv,
			struct file **file);
int kvm_viommu_reset(struct kvm_viommu *viommu);

/* ir.c */
int kvm_viommu_ir_init(struct kvm_viommu *viommu);
void kvm_viommu_ir_destroy(struct kvm_viommu *viommu);
void kvm_viommu_ir_reset(struct kvm_viommu *viommu);
void __kvm_viommu_ir_fence(struct kvm_viommu *viommu);

/* The guest's invalidation wait; see ir.c.  Mostly nothing is owed. */
static inline void kvm_viommu_ir_fence(struct kvm_viommu *viommu)
{
	if (READ_ONCE(viommu->ir_fence_needed))
		__kvm_viommu_ir_fence(viommu);
}

int kvm_viommu_ir_set_table(struct kvm_viommu *viommu, u64 irta);
int kvm_viommu_ir_set_flags(struct kvm_viommu *viommu, u32 flags);
void kvm_viommu_ir_set_ioapic(struct kvm_viommu *viommu,
			      const struct kvm_viommu_ir_ioapic *ioapic);
void kvm_viommu_ir_get_ioapic(struct kvm_viommu *viommu,
			      struct kvm_viommu_ir_ioapic *ioapic);
int kvm_viommu_ir_set_config(struct kvm_viommu *viommu,
			     const struct kvm_viommu_ir_config *config);
void kvm_viommu_ir_get_config(struct kvm_viommu *viommu,
			      struct kvm_viommu_ir_config *config);
int kvm_viommu_ir_invalidate(struct kvm_viommu *viommu,
			     const struct kvm_viommu_iec *iec);

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
void kvm_viommu_qi_init(struct kvm_viommu *viommu);
void kvm_viommu_qi_destroy(struct kvm_viommu *viommu);
void kvm_viommu_qi_run(struct kvm_viommu *viommu);
void kvm_viommu_events_acked(struct kvm_viommu *viommu);
void kvm_viommu_ccmd_invalidate(struct kvm_viommu *viommu);
void kvm_viommu_iotlb_reg_invalidate(struct kvm_viommu *viommu);
void kvm_viommu_reg_invalidations_acked(struct kvm_viommu *viommu);

/* ring.c */
int kvm_viommu_ring_init(struct kvm_viommu_ring *ring, struct kvm *kvm,
			 unsigned int size, size_t record_size);
void kvm_viommu_ring_destroy(struct kvm_viommu_ring *ring);
bool kvm_viommu_ring_push(struct kvm_viommu_ring *ring, const void *record,
			  const void *lost);
unsigned int kvm_viommu_ring_count(struct kvm_viommu_ring *ring);
void kvm_viommu_ring_clear(struct kvm_viommu_ring *ring);
int kvm_viommu_ring_resize(struct kvm_viommu_ring *ring, unsigned int size);
int kvm_viommu_ring_get_file(struct kvm_viommu_ring *ring, struct file **file);

/* event.c */
int kvm_viommu_events_init(struct kvm_viommu *viommu);
void kvm_viommu_events_destroy(struct kvm_viommu_events *events);
u64 kvm_viommu_event_post(struct kvm_viommu *viommu, u32 type, u32 flags,
			  const u64 *desc, unsigned int n);

/*
 * Whether a wait descriptor must wait: a queued invalidation ahead of it
 * is still the VMM's.  Other events (register commands, IR changes) hold
 * what they concern themselves, or nothing.
 */
static inline bool
kvm_viommu_events_pending(const struct kvm_viommu_events *events)
{
	return events->acked < events->queued_seq;
}

void kvm_viommu_events_ack_all(struct kvm_viommu_events *events);
int kvm_viommu_events_configure(struct kvm_viommu *viommu,
				const struct kvm_viommu_event_config *config);
int kvm_viommu_event_ack(struct kvm_viommu *viommu, u64 seq);

/* stats.c */
extern const struct file_operations kvm_viommu_stats_debugfs_fops;
void kvm_viommu_stats_init(struct kvm_viommu *viommu);
int kvm_viommu_stats_get_file(struct kvm_viommu *viommu, struct file **file);

#endif /* __KVM_VIOMMU_VIOMMU_H */
