// SPDX-License-Identifier: GPL-2.0-only
/*
 * Events: invalidations that only the VMM can carry out, such as those of
 * device-TLBs of devices it emulates or hands to vhost, queued for it.
 *
 * The VMM says which kinds it wants, pops events as its eventfd fires, and
 * acknowledges them by sequence number when done.  Nothing here exits a
 * vCPU; the ordering VT-d promises is kept instead by the queue, whose wait
 * descriptors do not complete before the events queued ahead of them are
 * acknowledged.  A full ring loses events but still numbers them, and says
 * so on the next pop, like PFO: the VMM then invalidates everything.
 */

#include <linux/eventfd.h>
#include <linux/kvm_host.h>
#include <linux/slab.h>

#include "viommu.h"
#include "trace.h"

int kvm_viommu_events_init(struct kvm_viommu_events *events)
{
	mutex_init(&events->read_lock);
	events->ring = kvcalloc(KVM_VIOMMU_EVENT_RING, sizeof(*events->ring),
				GFP_KERNEL_ACCOUNT);
	if (!events->ring)
		return -ENOMEM;
	events->size = KVM_VIOMMU_EVENT_RING;
	return 0;
}

void kvm_viommu_events_destroy(struct kvm_viommu_events *events)
{
	if (events->eventfd)
		eventfd_ctx_put(events->eventfd);
	kvfree(events->ring);
}

/* Returns the event's sequence number, or 0 if the VMM does not want it. */
u64 kvm_viommu_event_post(struct kvm_viommu *viommu, u32 type, u32 flags,
			  const u64 *desc, unsigned int n)
{
	struct kvm_viommu_events *events = &viommu->events;
	struct kvm_viommu_event *event;
	bool lost;

	lockdep_assert_held(&viommu->lock);
	if (!(events->types & type))
		return 0;

	events->seq++;
	if (flags & KVM_VIOMMU_EVENT_F_QUEUED)
		events->queued_seq = events->seq;
	lost = events->count == events->size;
	trace_kvm_viommu_event(type, events->seq, lost);
	if (lost) {
		events->lost = true;
		this_cpu_inc(viommu->counters->events_lost);
	} else {
		this_cpu_inc(viommu->counters->events_queued);
		event = &events->ring[(events->head + events->count) %
				      events->size];
		memset(event, 0, sizeof(*event));
		event->type = type;
		event->flags = flags;
		event->seq = events->seq;
		memcpy(event->desc, desc, n * sizeof(*desc));
		events->count++;
	}

	if (events->eventfd)
		eventfd_signal(events->eventfd, 1);
	return events->seq;
}

/*
 * Whether a wait descriptor must wait: a queued invalidation ahead of it
 * is still the VMM's.  Other events (register commands, IR changes) hold
 * what they concern themselves, or nothing.
 */
bool kvm_viommu_events_pending(const struct kvm_viommu_events *events)
{
	return events->acked < events->queued_seq;
}

void kvm_viommu_events_ack_all(struct kvm_viommu_events *events)
{
	events->head = 0;
	events->count = 0;
	events->lost = false;
	events->acked = events->seq;
}

/* Moves the pending events into a ring of @size entries. */
static int kvm_viommu_events_resize(struct kvm_viommu_events *events,
				    unsigned int size)
{
	struct kvm_viommu_event *ring;
	unsigned int i;

	if (size == events->size)
		return 0;
	if (events->count > size)
		return -EBUSY;

	ring = kvcalloc(size, sizeof(*ring), GFP_KERNEL_ACCOUNT);
	if (!ring)
		return -ENOMEM;
	for (i = 0; i < events->count; i++)
		ring[i] = events->ring[(events->head + i) % events->size];
	kvfree(events->ring);
	events->ring = ring;
	events->size = size;
	events->head = 0;
	return 0;
}

int kvm_viommu_events_configure(struct kvm_viommu *viommu,
				const struct kvm_viommu_event_config *config)
{
	struct kvm_viommu_events *events = &viommu->events;
	unsigned int size = config->entries ?: KVM_VIOMMU_EVENT_RING;
	struct eventfd_ctx *eventfd = NULL;
	int r;

	lockdep_assert_held(&viommu->lock);
	if (config->types & ~KVM_VIOMMU_EVENT_TYPES || config->eventfd < -1 ||
	    !is_power_of_2(size) || size > KVM_VIOMMU_EVENT_RING_MAX)
		return -EINVAL;

	if (config->eventfd >= 0) {
		eventfd = eventfd_ctx_fdget(config->eventfd);
		if (IS_ERR(eventfd))
			return PTR_ERR(eventfd);
	}

	r = kvm_viommu_events_resize(events, size);
	if (r) {
		if (eventfd)
			eventfd_ctx_put(eventfd);
		return r;
	}

	if (events->eventfd)
		eventfd_ctx_put(events->eventfd);
	events->eventfd = eventfd;
	events->types = config->types;
	return 0;
}

/*
 * The oldest event not yet popped, left in the ring until
 * kvm_viommu_event_consume().  An empty ring gives type 0 with the last
 * sequence number, which is what to acknowledge after a loss.
 */
void kvm_viommu_event_peek(struct kvm_viommu_events *events,
			   struct kvm_viommu_event *event)
{
	memset(event, 0, sizeof(*event));
	if (events->count)
		*event = events->ring[events->head];
	else
		event->seq = events->seq;
	if (events->lost)
		event->flags |= KVM_VIOMMU_EVENT_F_LOST;
}

/* The VMM has @event: readers are serialised, so it is still the oldest. */
void kvm_viommu_event_consume(struct kvm_viommu_events *events,
			      const struct kvm_viommu_event *event)
{
	if (event->type && events->count &&
	    events->ring[events->head].seq == event->seq) {
		events->head = (events->head + 1) % events->size;
		events->count--;
	}
	if (event->flags & KVM_VIOMMU_EVENT_F_LOST)
		events->lost = false;
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
