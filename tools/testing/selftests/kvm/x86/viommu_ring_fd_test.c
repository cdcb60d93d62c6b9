// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_ring_fd_test: the file descriptors of the KVM_DEV_TYPE_INTEL_VIOMMU
 * device's rings (KVM_DEV_VIOMMU_IR_FAULT_FD, KVM_DEV_VIOMMU_EVENT_FD in
 * include/uapi/linux/kvm_viommu.h), through which the VMM gets the guest's
 * interrupt-remapping faults and the device's events: what read() and
 * poll() promise of a ring, however many fds it has and whoever reads
 * them, and how long a ring fd keeps its VM.
 *
 * The faults are the VMM's own: KVM_SIGNAL_MSI of remappable MSIs while
 * the table lies where the VM has no memory.  The program skips without
 * the device's interrupt remapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/kvm_viommu.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "viommu.h"
#include "viommu_test.h"

#define TEST_TIMEOUT_S		60

#define RING_WAIT_NS		(10ULL * 1000000000ULL)
#define NR_FAULT_RECORDS	8	/* the fault ring's, before a loss */

/* A table where the VM has no memory: x2APIC mode, 2^(0xf + 1) entries. */
#define FAULT_IRTA	(0x12345000ULL | KVM_VIOMMU_IRTA_EIME | 0xfULL)

FIXTURE(ring_fd) {};
FIXTURE_SETUP(ring_fd) {}
FIXTURE_TEARDOWN(ring_fd) {}

/* ---- helpers ------------------------------------------------------------ */

/*
 * A VM with the device and IR on, and no memory where its table is: each
 * remappable MSI faults (0x23), with the MSI's handle as the index.
 */
static struct kvm_vm *fault_vm(int *dev)
{
	struct kvm_vm *vm = viommu_vm_irqchip(dev);

	viommu_set_irta(*dev, FAULT_IRTA);
	viommu_set_ir_status(*dev, KVM_VIOMMU_IR_ENABLE);
	return vm;
}

static void fault_msi(struct kvm_vm *vm, uint16_t index)
{
	struct viommu_msi m = viommu_msi_remappable(index, false, 0);
	int r = viommu_signal_msi(vm, &m);

	TEST_ASSERT(r == 0, "KVM_SIGNAL_MSI of IRTE %u that faults: %d (%s)", index, r,
		    viommu_err_str(r));
}

/* @nr faulting MSIs, of handles @first on. */
static void fault_msis(struct kvm_vm *vm, uint16_t first, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		fault_msi(vm, first + i);
}

static void assert_fault_rec(const struct kvm_viommu_ir_fault *f, uint32_t index,
			     const char *what)
{
	TEST_ASSERT(f->flags == KVM_VIOMMU_FAULT_NO_SID &&
		    f->reason == KVM_VIOMMU_FR_IR_ROOT_INVAL && f->index == index &&
		    !f->__reserved && !f->__reserved2[0] && !f->__reserved2[1] &&
		    !f->__reserved2[2],
		    "%s: flags 0x%x reason 0x%x index %u, expected NO_SID, 0x23, index %u", what,
		    f->flags, f->reason, f->index, index);
}

static void assert_lost_rec(const struct kvm_viommu_ir_fault *f, const char *what)
{
	TEST_ASSERT(f->flags == KVM_VIOMMU_FAULT_LOST && !f->reason && !f->index && !f->sid,
		    "%s: flags 0x%x reason 0x%x index %u sid 0x%x, expected the record of a loss",
		    what, f->flags, f->reason, f->index, f->sid);
}

/* read() of @size bytes: the bytes read or -errno. */
static ssize_t ring_read_raw(int rfd, void *buf, size_t size)
{
	ssize_t n = read(rfd, buf, size);

	return n < 0 ? -errno : n;
}

/* The fds' flags, the attributes' accesses, and read()'s errors. */
TEST_F_TIMEOUT(ring_fd, ring_fd_uapi, TEST_TIMEOUT_S)
{
	static const struct { uint64_t group, attr; size_t rec; } rings[] = {
		{ KVM_DEV_VIOMMU_GRP_IR, KVM_DEV_VIOMMU_IR_FAULT_FD,
		  sizeof(struct kvm_viommu_ir_fault) },
		{ KVM_DEV_VIOMMU_GRP_EVENT, KVM_DEV_VIOMMU_EVENT_FD,
		  sizeof(struct kvm_viommu_event) },
	};
	struct kvm_viommu_ir_fault f;
	struct kvm_viommu_fd rf;
	uint8_t buf[256];
	int dev, rfd, i, fl;
	struct kvm_vm *vm = fault_vm(&dev);

	TEST_ASSERT(sizeof(struct kvm_viommu_ir_fault) == 24,
		    "struct kvm_viommu_ir_fault is %zu bytes", sizeof(struct kvm_viommu_ir_fault));
	for (i = 0; i < (int)ARRAY_SIZE(rings); i++) {
		kvm_has_device_attr(dev, rings[i].group, rings[i].attr);
		/* Get-only; kvm_device_attr.flags must be 0. */
		memset(&rf, 0, sizeof(rf));
		VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(dev, rings[i].group, rings[i].attr, &rf),
				    ENXIO);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(dev, KVM_GET_DEVICE_ATTR, 1, rings[i].group,
							rings[i].attr, (uintptr_t)&rf), EINVAL);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(dev, KVM_GET_DEVICE_ATTR, 0x80000000,
							rings[i].group, rings[i].attr,
							(uintptr_t)&rf), EINVAL);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(dev, KVM_HAS_DEVICE_ATTR, 1, rings[i].group,
							rings[i].attr, 0), EINVAL);

		/* O_RDONLY | O_CLOEXEC, blocking. */
		rfd = viommu_ring_fd(dev, rings[i].group, rings[i].attr, false);
		fl = fcntl(rfd, F_GETFL);
		TEST_ASSERT(fl >= 0 && (fl & O_ACCMODE) == O_RDONLY && !(fl & O_NONBLOCK),
			    "ring fd %d: F_GETFL 0x%x, expected O_RDONLY", i, fl);
		TEST_ASSERT(fcntl(rfd, F_GETFD) == FD_CLOEXEC, "ring fd %d: not FD_CLOEXEC", i);
		TEST_ASSERT(write(rfd, buf, rings[i].rec) < 0 && errno == EBADF,
			    "ring fd %d: write() did not fail with EBADF", i);

		/* Smaller than a record: EINVAL, even empty and blocking. */
		VIOMMU_ASSERT_RET(ring_read_raw(rfd, buf, rings[i].rec - 1), -EINVAL);
		VIOMMU_ASSERT_RET(ring_read_raw(rfd, buf, 1), -EINVAL);
		VIOMMU_ASSERT_RET(ring_read_raw(rfd, buf, 0), -EINVAL);
		/* Empty and O_NONBLOCK: EAGAIN. */
		TEST_ASSERT(!fcntl(rfd, F_SETFL, O_NONBLOCK), "F_SETFL: %s", strerror(errno));
		VIOMMU_ASSERT_RET(ring_read_raw(rfd, buf, rings[i].rec), -EAGAIN);
		VIOMMU_ASSERT_RET(ring_read_raw(rfd, buf, sizeof(buf)), -EAGAIN);
		close(rfd);
	}

	/* A record stays through a read() too small for it. */
	rfd = viommu_fault_fd(dev);
	fault_msi(vm, 21);
	VIOMMU_ASSERT_RET(ring_read_raw(rfd, buf, sizeof(f) - 1), -EINVAL);
	TEST_ASSERT(viommu_ring_readable(rfd), "no record after a read() too small for it");
	TEST_ASSERT(viommu_ring_read(rfd, &f, sizeof(f)),
		    "the record went with a too small read()");
	assert_fault_rec(&f, 21, "after a read() too small");
	VIOMMU_ASSERT_RET(ring_read_raw(rfd, buf, sizeof(f)), -EAGAIN);
	close(rfd);
	close(dev);
	kvm_vm_free(vm);
}

struct ring_reader {
	int rfd;
	struct kvm_viommu_ir_fault f;
	ssize_t n;
	short revents;
	bool done;
};

static void *ring_blocking_read(void *data)
{
	struct ring_reader *r = data;

	r->n = ring_read_raw(r->rfd, &r->f, sizeof(r->f));
	__atomic_store_n(&r->done, true, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *ring_blocking_poll(void *data)
{
	struct ring_reader *r = data;
	struct pollfd p = { .fd = r->rfd, .events = POLLIN };

	r->n = poll(&p, 1, RING_WAIT_NS / 1000000);
	r->revents = p.revents;
	__atomic_store_n(&r->done, true, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * A poll() and then a read() that wait on an empty ring each wake for a
 * fault from another thread.  (One at a time: the read() would take the
 * record that a poll() woke for, and a poll() goes back to sleep then.)
 */
TEST_F_TIMEOUT(ring_fd, ring_read_blocking, TEST_TIMEOUT_S)
{
	struct ring_reader rd = { 0 }, pl = { 0 };
	struct kvm_viommu_ir_fault f;
	pthread_t rd_th, pl_th;
	int dev;
	struct kvm_vm *vm = fault_vm(&dev);

	pl.rfd = viommu_fault_fd(dev);
	TEST_ASSERT(!pthread_create(&pl_th, NULL, ring_blocking_poll, &pl), "pthread_create");
	usleep(300 * 1000);
	TEST_ASSERT(!__atomic_load_n(&pl.done, __ATOMIC_SEQ_CST),
		    "poll() of an empty ring fd returned %zd (revents 0x%x)", pl.n, pl.revents);
	fault_msi(vm, 32);
	TEST_ASSERT(viommu_join_within(pl_th, RING_WAIT_NS),
		    "a blocked poll() not woken 10 s after a fault");
	TEST_ASSERT(pl.n == 1 && (pl.revents & POLLIN), "the woken poll(): %zd, revents 0x%x",
		    pl.n, pl.revents);
	TEST_ASSERT(viommu_ring_read(pl.rfd, &f, sizeof(f)), "no record after poll() woke");
	assert_fault_rec(&f, 32, "the record poll() woke for");

	rd.rfd = viommu_ring_fd(dev, KVM_DEV_VIOMMU_GRP_IR, KVM_DEV_VIOMMU_IR_FAULT_FD, false);
	TEST_ASSERT(!pthread_create(&rd_th, NULL, ring_blocking_read, &rd), "pthread_create");
	usleep(300 * 1000);
	TEST_ASSERT(!__atomic_load_n(&rd.done, __ATOMIC_SEQ_CST),
		    "read() of an empty blocking ring fd returned %zd", rd.n);
	fault_msi(vm, 33);
	TEST_ASSERT(viommu_join_within(rd_th, RING_WAIT_NS),
		    "a blocked read() not woken 10 s after a fault");
	TEST_ASSERT(rd.n == sizeof(rd.f), "the woken read(): %zd (%s)", rd.n,
		    rd.n < 0 ? strerror(-rd.n) : "short");
	assert_fault_rec(&rd.f, 33, "the woken read()");
	close(rd.rfd);
	close(pl.rfd);
	close(dev);
	kvm_vm_free(vm);
}

/* EPOLLIN while a record is there, on every fd of the ring, and only then. */
TEST_F_TIMEOUT(ring_fd, ring_poll, TEST_TIMEOUT_S)
{
	struct kvm_viommu_ir_fault f;
	int dev, a, b, i;
	struct kvm_vm *vm = fault_vm(&dev);

	a = viommu_fault_fd(dev);
	b = viommu_fault_fd(dev);
	TEST_ASSERT(!viommu_ring_readable(a) && !viommu_ring_readable(b),
		    "EPOLLIN on an empty ring");
	fault_msi(vm, 1);
	fault_msi(vm, 2);
	for (i = 1; i <= 2; i++) {
		TEST_ASSERT(viommu_ring_readable(a) && viommu_ring_readable(b),
			    "no EPOLLIN with %d records there", 3 - i);
		TEST_ASSERT(viommu_ring_read(i == 1 ? a : b, &f, sizeof(f)), "no record %d", i);
		assert_fault_rec(&f, i, "poll");
	}
	TEST_ASSERT(!viommu_ring_readable(a) && !viommu_ring_readable(b),
		    "EPOLLIN once the ring was read empty");
	close(a);
	close(b);
	close(dev);
	kvm_vm_free(vm);
}

/* A read() returns as many whole records as its buffer holds, oldest first. */
TEST_F_TIMEOUT(ring_fd, ring_read_many, TEST_TIMEOUT_S)
{
	struct kvm_viommu_ir_fault f[NR_FAULT_RECORDS];
	int dev, rfd, i;
	struct kvm_vm *vm = fault_vm(&dev);
	ssize_t n;

	rfd = viommu_fault_fd(dev);
	fault_msis(vm, 100, 5);
	/* Two and a half records' room: two. */
	n = ring_read_raw(rfd, f, sizeof(f[0]) * 5 / 2);
	TEST_ASSERT(n == 2 * sizeof(f[0]), "read() of 2.5 records' room: %zd, expected %zu", n,
		    2 * sizeof(f[0]));
	assert_fault_rec(&f[0], 100, "record 1 of 2");
	assert_fault_rec(&f[1], 101, "record 2 of 2");
	/* Room for eight: the three left. */
	n = ring_read_raw(rfd, f, sizeof(f));
	TEST_ASSERT(n == 3 * sizeof(f[0]), "read() of 8 records' room: %zd, expected %zu", n,
		    3 * sizeof(f[0]));
	for (i = 0; i < 3; i++)
		assert_fault_rec(&f[i], 102 + i, "the last three");
	VIOMMU_ASSERT_RET(ring_read_raw(rfd, f, sizeof(f)), -EAGAIN);
	close(rfd);
	close(dev);
	kvm_vm_free(vm);
}

/*
 * 12 faults, nobody reading: 8 records, then one record of the loss.  Once
 * the VMM read two, the next fault fits after that record, and the one
 * after it is lost again, after it.
 */
TEST_F_TIMEOUT(ring_fd, ring_fault_lost_order, TEST_TIMEOUT_S)
{
	struct kvm_viommu_ir_fault f[2 * NR_FAULT_RECORDS];
	int dev, rfd, i;
	struct kvm_vm *vm = fault_vm(&dev);
	ssize_t n;

	rfd = viommu_fault_fd(dev);
	fault_msis(vm, 200, 12);
	n = ring_read_raw(rfd, f, 2 * sizeof(f[0]));
	TEST_ASSERT(n == 2 * sizeof(f[0]), "read() of 2 records: %zd", n);
	assert_fault_rec(&f[0], 200, "record 1");
	assert_fault_rec(&f[1], 201, "record 2");
	fault_msi(vm, 300);
	fault_msi(vm, 301);

	memset(f, 0, sizeof(f));
	n = ring_read_raw(rfd, f, sizeof(f));
	TEST_ASSERT(n == 9 * sizeof(f[0]), "read() of the rest: %zd bytes, expected 9 records", n);
	for (i = 0; i < 6; i++)
		assert_fault_rec(&f[i], 202 + i, "a record that fit");
	assert_lost_rec(&f[6], "the record after the 8 that fit");
	assert_fault_rec(&f[7], 300, "the fault after the read");
	assert_lost_rec(&f[8], "the record after the fault after the read");
	VIOMMU_ASSERT_RET(ring_read_raw(rfd, f, sizeof(f)), -EAGAIN);
	close(rfd);
	close(dev);
	kvm_vm_free(vm);
}

#define TWO_FDS_FAULTS		400

struct two_fds {
	int rfd[2];
	int seen[TWO_FDS_FAULTS];
	int lost;
	int read;
	bool stop;
};

struct two_fds_reader {
	struct two_fds *s;
	int i;
};

static void *two_fds_reader(void *data)
{
	struct two_fds_reader *r = data;
	struct two_fds *s = r->s;
	struct pollfd p = { .fd = s->rfd[r->i], .events = POLLIN };
	struct kvm_viommu_ir_fault f;

	for (;;) {
		if (!viommu_ring_read(s->rfd[r->i], &f, sizeof(f))) {
			if (__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST))
				return NULL;
			poll(&p, 1, 10);
			continue;
		}
		if (f.flags & KVM_VIOMMU_FAULT_LOST || f.index >= TWO_FDS_FAULTS)
			__atomic_add_fetch(&s->lost, 1, __ATOMIC_SEQ_CST);
		else
			__atomic_add_fetch(&s->seen[f.index], 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&s->read, 1, __ATOMIC_SEQ_CST);
	}
}

/* Two readers on two fds of one ring: every record reaches exactly one of them. */
TEST_F_TIMEOUT(ring_fd, ring_two_fds, TEST_TIMEOUT_S)
{
	static struct two_fds s;
	struct two_fds_reader r[2] = { { &s, 0 }, { &s, 1 } };
	int dev, i, twice = 0, never = 0;
	struct kvm_vm *vm = fault_vm(&dev);
	pthread_t th[2];
	uint64_t deadline;

	s.rfd[0] = viommu_fault_fd(dev);
	s.rfd[1] = viommu_fault_fd(dev);
	for (i = 0; i < 2; i++)
		TEST_ASSERT(!pthread_create(&th[i], NULL, two_fds_reader, &r[i]), "pthread_create");
	for (i = 0; i < TWO_FDS_FAULTS; i++) {
		/* Never more than half the ring unread: nothing is lost. */
		deadline = viommu_now_ns() + RING_WAIT_NS;
		while (i - __atomic_load_n(&s.read, __ATOMIC_SEQ_CST) >= NR_FAULT_RECORDS / 2) {
			TEST_ASSERT(viommu_now_ns() < deadline,
				    "the readers stopped at %d records of %d", s.read, i);
			usleep(100);
		}
		fault_msi(vm, i);
	}
	deadline = viommu_now_ns() + RING_WAIT_NS;
	while (__atomic_load_n(&s.read, __ATOMIC_SEQ_CST) < TWO_FDS_FAULTS &&
	       viommu_now_ns() < deadline)
		usleep(1000);
	__atomic_store_n(&s.stop, true, __ATOMIC_SEQ_CST);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < TWO_FDS_FAULTS; i++) {
		twice += s.seen[i] > 1;
		never += !s.seen[i];
	}
	TEST_ASSERT(!twice && !never && !s.lost && s.read == TWO_FDS_FAULTS,
		    "%d faults, two fds: %d records read, %d of them twice, %d never, %d lost",
		    TWO_FDS_FAULTS, s.read, twice, never, s.lost);
	close(s.rfd[0]);
	close(s.rfd[1]);
	close(dev);
	kvm_vm_free(vm);
}

/*
 * A ring fd holds the VM: its records stay readable after the device and
 * the VM are closed, and its close, the last, frees everything.
 */
TEST_F_TIMEOUT(ring_fd, ring_fd_outlives_vm, TEST_TIMEOUT_S)
{
	struct kvm_viommu_ir_fault f;
	struct kvm_viommu_event e;
	int dev, ffd, ffd2, efd;
	bool found;
	struct kvm_vm *vm = fault_vm(&dev);

	ffd = viommu_fault_fd(dev);
	ffd2 = viommu_fault_fd(dev);
	efd = viommu_ring_fd(dev, KVM_DEV_VIOMMU_GRP_EVENT, KVM_DEV_VIOMMU_EVENT_FD, true);
	fault_msi(vm, 41);
	fault_msi(vm, 42);
	fault_msi(vm, 43);
	TEST_ASSERT(!close(dev), "close(device fd): %s", strerror(errno));
	kvm_vm_free(vm);

	TEST_ASSERT(viommu_ring_readable(ffd), "no EPOLLIN after the VM was closed");
	TEST_ASSERT(viommu_ring_read(ffd, &f, sizeof(f)), "no record after the VM was closed");
	assert_fault_rec(&f, 41, "after the VM was closed");
	TEST_ASSERT(viommu_ring_read(ffd2, &f, sizeof(f)), "no record on the second fd");
	assert_fault_rec(&f, 42, "the second fd, after the VM was closed");
	found = viommu_ring_read(efd, &e, sizeof(e));
	TEST_ASSERT(!viommu_ring_readable(efd) && !found,
		    "an event after the VM was closed: type 0x%x seq %llu", e.type,
		    (unsigned long long)e.seq);
	/* One fault left unread as the last fds close. */
	TEST_ASSERT(!close(ffd), "close(fault fd): %s", strerror(errno));
	TEST_ASSERT(!close(efd), "close(event fd): %s", strerror(errno));
	TEST_ASSERT(!close(ffd2), "close(the last fault fd): %s", strerror(errno));

	/* The host is fine: a new VM's device faults as before. */
	vm = fault_vm(&dev);
	ffd = viommu_fault_fd(dev);
	fault_msi(vm, 44);
	TEST_ASSERT(viommu_ring_read(ffd, &f, sizeof(f)), "no record in a new VM");
	assert_fault_rec(&f, 44, "a new VM");
	close(dev);
	kvm_vm_free(vm);
	close(ffd);
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, viommu_ir_unsupported);
}
