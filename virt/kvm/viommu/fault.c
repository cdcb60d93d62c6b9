// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interrupt-remapping fault records, read out by the VMM.
 *
 * Like the VT-d fault recording registers, the ring holds a few records and
 * drops new ones while it is full, remembering that it did (PFO), so that a
 * guest that faults in a loop costs the host nothing but a counter.
 */

#include <linux/eventfd.h>
#include <linux/kvm_host.h>

#include "viommu.h"

void kvm_viommu_faults_init(struct kvm_viommu_faults *faults)
{
	mutex_init(&faults->read_lock);
	spin_lock_init(&faults->lock);
}

void kvm_viommu_faults_destroy(struct kvm_viommu_faults *faults)
{
	if (faults->eventfd)
		eventfd_ctx_put(faults->eventfd);
}

void kvm_viommu_fault_record(struct kvm_viommu_faults *faults,
			     const struct kvm_viommu_ir_fault *record)
{
	unsigned long irqflags;
	unsigned int tail;

	spin_lock_irqsave(&faults->lock, irqflags);
	if (faults->count == KVM_VIOMMU_FAULT_RECORDS) {
		faults->overflow = true;
	} else {
		tail = (faults->head + faults->count) % KVM_VIOMMU_FAULT_RECORDS;
		faults->ring[tail] = *record;
		faults->count++;
		if (faults->eventfd)
			eventfd_signal(faults->eventfd, 1);
	}
	spin_unlock_irqrestore(&faults->lock, irqflags);
}

/* The oldest record, left in the ring until kvm_viommu_fault_consume(). */
void kvm_viommu_fault_peek(struct kvm_viommu_faults *faults,
			   struct kvm_viommu_ir_fault *record)
{
	unsigned long irqflags;

	memset(record, 0, sizeof(*record));

	spin_lock_irqsave(&faults->lock, irqflags);
	if (faults->count)
		*record = faults->ring[faults->head];
	if (faults->overflow)
		record->flags |= KVM_VIOMMU_FAULT_OVERFLOW;
	spin_unlock_irqrestore(&faults->lock, irqflags);
}

/*
 * The VMM has @record, which kvm_viommu_fault_peek() gave it.  Readers are
 * serialised, and recorders only append, so it is still the oldest.
 */
void kvm_viommu_fault_consume(struct kvm_viommu_faults *faults,
			      const struct kvm_viommu_ir_fault *record)
{
	unsigned long irqflags;

	spin_lock_irqsave(&faults->lock, irqflags);
	if ((record->flags & KVM_VIOMMU_FAULT_VALID) && faults->count) {
		faults->head = (faults->head + 1) % KVM_VIOMMU_FAULT_RECORDS;
		faults->count--;
	}
	if (record->flags & KVM_VIOMMU_FAULT_OVERFLOW)
		faults->overflow = false;
	spin_unlock_irqrestore(&faults->lock, irqflags);
}

int kvm_viommu_fault_set_eventfd(struct kvm_viommu_faults *faults, int fd)
{
	struct eventfd_ctx *new = NULL, *old;
	unsigned long irqflags;

	if (fd >= 0) {
		new = eventfd_ctx_fdget(fd);
		if (IS_ERR(new))
			return PTR_ERR(new);
	} else if (fd != -1) {
		return -EINVAL;
	}

	spin_lock_irqsave(&faults->lock, irqflags);
	old = faults->eventfd;
	faults->eventfd = new;
	spin_unlock_irqrestore(&faults->lock, irqflags);

	if (old)
		eventfd_ctx_put(old);
	return 0;
}
