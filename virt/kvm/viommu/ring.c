// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rings of fixed-size records that KVM fills and the VMM reads through a
 * file descriptor: the interrupt-remapping faults (fault.c) and the events
 * (event.c).
 *
 * A full ring loses records, and the producer supplies with each record
 * the record of its loss: that one takes the first slot a reader frees,
 * ahead of any later record, so that the VMM learns in order where records
 * went missing, and the ring never grows at the guest's pace.  Losses in a
 * row leave one record of a loss, the last.  A reader copies a record out
 * before removing it: one that cannot be copied stays for the next read.
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kvm_host.h>
#include <linux/poll.h>
#include <linux/slab.h>

#include "viommu.h"

int kvm_viommu_ring_init(struct kvm_viommu_ring *ring, struct kvm *kvm,
			 unsigned int size, size_t record_size)
{
	if (WARN_ON_ONCE(record_size > sizeof(ring->lost)))
		return -EINVAL;

	ring->kvm = kvm;
	mutex_init(&ring->read_lock);
	spin_lock_init(&ring->lock);
	init_waitqueue_head(&ring->wait);
	ring->record_size = record_size;
	ring->records = kvcalloc(size, record_size, GFP_KERNEL_ACCOUNT);
	if (!ring->records)
		return -ENOMEM;
	ring->size = size;
	return 0;
}

void kvm_viommu_ring_destroy(struct kvm_viommu_ring *ring)
{
	kvfree(ring->records);
}

static void *kvm_viommu_ring_slot(struct kvm_viommu_ring *ring,
				  unsigned int i)
{
	return ring->records + ((ring->head + i) % ring->size) * ring->record_size;
}

/* Appends @record to a ring that has room. */
static void kvm_viommu_ring_append(struct kvm_viommu_ring *ring,
				   const void *record)
{
	memcpy(kvm_viommu_ring_slot(ring, ring->count), record,
	       ring->record_size);
	WRITE_ONCE(ring->count, ring->count + 1);
}

/*
 * Appends @record, or, with the ring full or a loss not yet recorded,
 * keeps @lost as the record of the loss.  Returns false if @record was
 * lost.
 */
bool kvm_viommu_ring_push(struct kvm_viommu_ring *ring, const void *record,
			  const void *lost)
{
	unsigned long flags;
	bool pushed = false;

	spin_lock_irqsave(&ring->lock, flags);
	if (!ring->lost_pending && ring->count < ring->size) {
		kvm_viommu_ring_append(ring, record);
		ring->lost_at_tail = false;
		pushed = true;
	} else if (ring->lost_at_tail) {
		memcpy(kvm_viommu_ring_slot(ring, ring->count - 1), lost,
		       ring->record_size);
	} else {
		memcpy(ring->lost, lost, ring->record_size);
		ring->lost_pending = true;
	}
	spin_unlock_irqrestore(&ring->lock, flags);

	if (wq_has_sleeper(&ring->wait))
		wake_up_interruptible(&ring->wait);
	return pushed;
}

/* A loss that waited for room takes the room, ahead of later records. */
static void kvm_viommu_ring_record_loss(struct kvm_viommu_ring *ring)
{
	lockdep_assert_held(&ring->lock);
	if (!ring->lost_pending || ring->count == ring->size)
		return;
	kvm_viommu_ring_append(ring, ring->lost);
	ring->lost_pending = false;
	ring->lost_at_tail = true;
}

/*
 * Copies the oldest record to @record, and the ring's generation to @gen;
 * false if there is none.
 */
static bool kvm_viommu_ring_peek(struct kvm_viommu_ring *ring, void *record,
				 u32 *gen)
{
	unsigned long flags;
	bool found;

	spin_lock_irqsave(&ring->lock, flags);
	found = ring->count;
	if (found)
		memcpy(record, kvm_viommu_ring_slot(ring, 0), ring->record_size);
	*gen = ring->gen;
	spin_unlock_irqrestore(&ring->lock, flags);
	return found;
}

/*
 * Removes the record that the peek of generation @gen returned.  Readers
 * are serialised and producers only append, so it is still the oldest,
 * unless a reset or a resize came in between and the record is gone.
 */
static void kvm_viommu_ring_consume(struct kvm_viommu_ring *ring, u32 gen)
{
	unsigned long flags;

	spin_lock_irqsave(&ring->lock, flags);
	if (ring->gen == gen && ring->count) {
		ring->head = (ring->head + 1) % ring->size;
		WRITE_ONCE(ring->count, ring->count - 1);
		if (!ring->count)
			ring->lost_at_tail = false;
		kvm_viommu_ring_record_loss(ring);
	}
	spin_unlock_irqrestore(&ring->lock, flags);
}

unsigned int kvm_viommu_ring_count(struct kvm_viommu_ring *ring)
{
	return READ_ONCE(ring->count);
}

/* Empties the ring, as a reset of the unit does. */
void kvm_viommu_ring_clear(struct kvm_viommu_ring *ring)
{
	unsigned long flags;

	spin_lock_irqsave(&ring->lock, flags);
	ring->head = 0;
	WRITE_ONCE(ring->count, 0);
	ring->lost_at_tail = false;
	ring->lost_pending = false;
	ring->gen++;
	spin_unlock_irqrestore(&ring->lock, flags);
}

/* Moves the unread records into a ring of @size slots; EBUSY if they do not fit. */
int kvm_viommu_ring_resize(struct kvm_viommu_ring *ring, unsigned int size)
{
	unsigned long flags;
	void *records;
	unsigned int i;
	int r = 0;

	if (size == ring->size)
		return 0;
	records = kvcalloc(size, ring->record_size, GFP_KERNEL_ACCOUNT);
	if (!records)
		return -ENOMEM;

	spin_lock_irqsave(&ring->lock, flags);
	if (ring->count > size) {
		r = -EBUSY;
	} else {
		for (i = 0; i < ring->count; i++)
			memcpy(records + i * ring->record_size,
			       kvm_viommu_ring_slot(ring, i), ring->record_size);
		swap(ring->records, records);
		ring->size = size;
		ring->head = 0;
		ring->gen++;
		kvm_viommu_ring_record_loss(ring);
	}
	spin_unlock_irqrestore(&ring->lock, flags);

	kvfree(records);
	return r;
}

static int kvm_viommu_ring_wait(struct kvm_viommu_ring *ring, bool nonblock)
{
	if (kvm_viommu_ring_count(ring))
		return 0;
	if (nonblock)
		return -EAGAIN;
	return wait_event_interruptible(ring->wait, kvm_viommu_ring_count(ring));
}

/* Copies out as many whole records as @count holds; 0 if none was there. */
static ssize_t kvm_viommu_ring_copy_out(struct kvm_viommu_ring *ring,
					char __user *buf, size_t count)
{
	u8 record[sizeof(ring->lost)];
	ssize_t done = 0;
	u32 gen;

	mutex_lock(&ring->read_lock);
	while (count - done >= ring->record_size &&
	       kvm_viommu_ring_peek(ring, record, &gen)) {
		if (copy_to_user(buf + done, record, ring->record_size)) {
			if (!done)
				done = -EFAULT;
			break;
		}
		kvm_viommu_ring_consume(ring, gen);
		done += ring->record_size;
	}
	mutex_unlock(&ring->read_lock);
	return done;
}

static ssize_t kvm_viommu_ring_read(struct file *file, char __user *buf,
				    size_t count, loff_t *ppos)
{
	struct kvm_viommu_ring *ring = file->private_data;
	ssize_t r;

	if (count < ring->record_size)
		return -EINVAL;

	/* Another reader may empty the ring between the wait and the copy. */
	do {
		r = kvm_viommu_ring_wait(ring, file->f_flags & O_NONBLOCK);
		if (!r)
			r = kvm_viommu_ring_copy_out(ring, buf, count);
	} while (!r);
	return r;
}

static __poll_t kvm_viommu_ring_poll(struct file *file, poll_table *wait)
{
	struct kvm_viommu_ring *ring = file->private_data;

	poll_wait(file, &ring->wait, wait);
	return kvm_viommu_ring_count(ring) ? EPOLLIN | EPOLLRDNORM : 0;
}

static int kvm_viommu_ring_release(struct inode *inode, struct file *file)
{
	struct kvm_viommu_ring *ring = file->private_data;

	kvm_put_kvm(ring->kvm);
	return 0;
}

static const struct file_operations kvm_viommu_ring_fops = {
	.owner = THIS_MODULE,
	.read = kvm_viommu_ring_read,
	.poll = kvm_viommu_ring_poll,
	.release = kvm_viommu_ring_release,
	.llseek = noop_llseek,
};

/* A new file on @ring, as kvm_viommu_get_file() makes it. */
int kvm_viommu_ring_get_file(struct kvm_viommu_ring *ring, struct file **file)
{
	return kvm_viommu_get_file(ring->kvm, "kvm-viommu-ring",
				   &kvm_viommu_ring_fops, ring, file);
}
