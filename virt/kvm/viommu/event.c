// SPDX-License-Identifier: GPL-2.0-only
/*
 * Events: invalidations that only the VMM can carry out, such as those of
 * device-TLBs of devices it emulates or hands to vhost, queued for it.
 *
 * The VMM says which kinds it wants, reads events from the ring's file
 * descriptor (ring.c), and acknowledges them by sequence number when done.
 * Nothing here exits a vCPU; the ordering VT-d promises is kept instead by the queue, whose wait
 * descriptors do not complete before the events queued ahead of them are
 * acknowledged.  A full ring loses events but still numbers them, and says
 * so in a record of the loss, like PFO: the VMM then invalidates
 * everything and acknowledges the last lost event.
 */

#include <linux/kvm_host.h>

#include "viommu.h"
#include "trace.h"

int kvm_viommu_events_init(struct kvm_viommu *viommu)
{
	return kvm_viommu_ring_init(&viommu->events.ring, viommu->kvm,
				    KVM_VIOMMU_EVENT_RING,
				    sizeof(struct kvm_viommu_event));
}

void kvm_viommu_events_destroy(struct kvm_viommu_events *events)
{
	kvm_viommu_ring_destroy(&events->ring);
}

/* Returns the event's sequence number, or 0 if the VMM does not want it. */
u64 kvm_viommu_event_post(struct kvm_viommu *viommu, u32 type, u32 flags,
			  const u64 *desc, unsigned int n)
{
	struct kvm_viommu_events *events = &viommu->events;
	struct kvm_viommu_event event = { .type = type, .flags = flags };
	struct kvm_viommu_event lost = { .flags = KVM_VIOMMU_EVENT_F_LOST };
	bool queued;

	lockdep_assert_held(&viommu->lock);
	if (!(events->types & type))
		return 0;

	events->seq++;
	if (flags & KVM_VIOMMU_EVENT_F_QUEUED)
		events->queued_seq = events->seq;
	event.seq = events->seq;
	lost.seq = events->seq;
	memcpy(event.desc, desc, n * sizeof(*desc));

	queued = kvm_viommu_ring_push(&events->ring, &event, &lost);
	trace_kvm_viommu_event(type, events->seq, !queued);
	if (queued)
		this_cpu_inc(viommu->counters->events_queued);
	else
		this_cpu_inc(viommu->counters->events_lost);
	return events->seq;
}

void kvm_viommu_events_ack_all(struct kvm_viommu_events *events)
{
	kvm_viommu_ring_clear(&events->ring);
	events->acked = events->seq;
}

int kvm_viommu_events_configure(struct kvm_viommu *viommu,
				const struct kvm_viommu_event_config *config)
{
	struct kvm_viommu_events *events = &viommu->events;
	unsigned int entries = config->entries ?: KVM_VIOMMU_EVENT_RING;
	int r;

	lockdep_assert_held(&viommu->lock);
	if (config->types & ~KVM_VIOMMU_EVENT_TYPES ||
	    !is_power_of_2(entries) || entries > KVM_VIOMMU_EVENT_RING_MAX)
		return -EINVAL;

	r = kvm_viommu_ring_resize(&events->ring, entries);
	if (r)
		return r;

	events->types = config->types;
	return 0;
}

/* Every event up to @seq is done: resume what waited for them. */
int kvm_viommu_event_ack(struct kvm_viommu *viommu, u64 seq)
{
	struct kvm_viommu_events *events = &viommu->events;

	lockdep_assert_held(&viommu->lock);
	if (seq > events->seq)
		return -EINVAL;
	if (seq <= events->acked)
		return 0;

	events->acked = seq;
	kvm_viommu_events_acked(viommu);
	return 0;
}
