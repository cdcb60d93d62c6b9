// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_device_test: the KVM_DEV_TYPE_INTEL_VIOMMU device's lifetime and its
 * attribute ABI (include/uapi/linux/kvm_viommu.h).
 *
 * Every case runs in a child process of its own, so that a failed assertion
 * (TEST_ASSERT exits) or a hang (alarm) costs one TAP result, not the rest.
 * The whole program skips when the loaded KVM does not know the device type
 * (stock modules).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/kvm_viommu.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "viommu.h"
#include "viommu_regs.h"

#define CASE_TIMEOUT_S		60
#define SPLIT_IRQCHIP_PINS	24	/* IOAPIC pins, as QEMU uses */

/* A valid IRTA: 4 KiB-aligned table, x2APIC mode, 2^(0xf + 1) entries. */
#define GOOD_IRTA	(0x12345000ULL | KVM_VIOMMU_IRTA_EIME | 0xfULL)

/* ---- helpers ------------------------------------------------------------ */

static void get_ir_table(int fd, struct kvm_viommu_ir_table *t)
{
	memset(t, 0xa5, sizeof(*t));
	kvm_device_attr_get(fd, KVM_DEV_VIOMMU_GRP_IR, KVM_DEV_VIOMMU_IR_TABLE, t);
}

static void assert_ir_table(int fd, uint64_t irta)
{
	struct kvm_viommu_ir_table t;
	int i;

	get_ir_table(fd, &t);
	TEST_ASSERT(t.flags == 0 && t.__reserved == 0,
		    "IR_TABLE get: flags 0x%x __reserved 0x%x, expected 0", t.flags,
		    t.__reserved);
	TEST_ASSERT(t.irta == irta, "IR_TABLE get: irta 0x%llx, expected 0x%llx",
		    (unsigned long long)t.irta, (unsigned long long)irta);
	for (i = 0; i < (int)ARRAY_SIZE(t.__reserved2); i++)
		TEST_ASSERT(!t.__reserved2[i], "IR_TABLE get: __reserved2[%d] = 0x%llx",
			    i, (unsigned long long)t.__reserved2[i]);
}

static void set_irta(int fd, uint64_t irta)
{
	struct kvm_viommu_ir_table t = { .irta = irta };

	kvm_device_attr_set(fd, KVM_DEV_VIOMMU_GRP_IR, KVM_DEV_VIOMMU_IR_TABLE, &t);
}

static void assert_ctrl_info(int fd)
{
	struct kvm_viommu_info info;
	int i;

	memset(&info, 0xa5, sizeof(info));
	kvm_device_attr_get(fd, KVM_DEV_VIOMMU_GRP_CTRL,
			    KVM_DEV_VIOMMU_CTRL_INFO, &info);
	TEST_ASSERT(info.flags == KVM_VIOMMU_INFO_MSI_DEVID, "CTRL_INFO flags 0x%x, expected 0x%x",
		    info.flags, KVM_VIOMMU_INFO_MSI_DEVID);
	TEST_ASSERT(!info.__reserved, "CTRL_INFO __reserved 0x%x", info.__reserved);
	for (i = 0; i < (int)ARRAY_SIZE(info.__reserved2); i++)
		TEST_ASSERT(!info.__reserved2[i], "CTRL_INFO __reserved2[%d] = 0x%llx",
			    i, (unsigned long long)info.__reserved2[i]);
}

/* A VM with a full in-kernel irqchip (KVM_CREATE_IRQCHIP) and no vCPU. */
static struct kvm_vm *vm_with_irqchip(void)
{
	struct kvm_vm *vm = vm_create_barebones();

	vm_create_irqchip(vm);
	return vm;
}

/* ---- cases ---------------------------------------------------------------- */

static void test_create_destroy(void)
{
	struct kvm_vm *vm = vm_with_irqchip();
	int fd = viommu_create_or_die(vm);

	kvm_has_device_attr(fd, KVM_DEV_VIOMMU_GRP_CTRL, KVM_DEV_VIOMMU_CTRL_INFO);
	kvm_has_device_attr(fd, KVM_DEV_VIOMMU_GRP_IR, KVM_DEV_VIOMMU_IR_TABLE);
	assert_ctrl_info(fd);
	/* Initially all zero. */
	assert_ir_table(fd, 0);

	TEST_ASSERT(!close(fd), "close(device fd): %s", strerror(errno));
	kvm_vm_free(vm);

	/* A fresh VM gets a fresh device. */
	vm = vm_with_irqchip();
	fd = viommu_create_or_die(vm);
	assert_ir_table(fd, 0);
	kvm_vm_free(vm);
	TEST_ASSERT(!close(fd), "close(device fd): %s", strerror(errno));
}

static void test_device_fd_outlives_vm(void)
{
	struct kvm_vm *vm = vm_with_irqchip();
	int fd = viommu_create_or_die(vm);

	set_irta(fd, GOOD_IRTA);

	/* Closes the VM fd (and /dev/kvm); the device fd holds the VM. */
	kvm_vm_free(vm);

	assert_ctrl_info(fd);
	assert_ir_table(fd, GOOD_IRTA);
	TEST_ASSERT(!close(fd), "close(device fd) after the VM fd: %s",
		    strerror(errno));
}

static void test_double_create(void)
{
	struct kvm_vm *vm = vm_with_irqchip();
	int fd = viommu_create_or_die(vm);

	set_irta(fd, GOOD_IRTA);
	VIOMMU_ASSERT_RET(viommu_create(vm, 0), -EEXIST);
	/* Still -EEXIST after the first device's fd is gone: it lives with the VM. */
	TEST_ASSERT(!close(fd), "close(device fd): %s", strerror(errno));
	VIOMMU_ASSERT_RET(viommu_create(vm, 0), -EEXIST);
	kvm_vm_free(vm);
}

static void test_create_device_test(void)
{
	struct kvm_vm *vm = vm_with_irqchip();
	int fd;

	VIOMMU_ASSERT_RET(viommu_create(vm, KVM_CREATE_DEVICE_TEST), 0);
	VIOMMU_ASSERT_RET(viommu_create(vm, KVM_CREATE_DEVICE_TEST), 0);
	/* The TEST creates did not create: a real create still works. */
	fd = viommu_create_or_die(vm);
	assert_ir_table(fd, 0);
	/* TEST only reports that the type is supported. */
	VIOMMU_ASSERT_RET(viommu_create(vm, KVM_CREATE_DEVICE_TEST), 0);
	TEST_ASSERT(!close(fd), "close(device fd): %s", strerror(errno));
	kvm_vm_free(vm);
}

static void test_ctrl_info(void)
{
	struct kvm_vm *vm = vm_with_irqchip();
	int fd = viommu_create_or_die(vm);
	struct kvm_viommu_info info = { .flags = KVM_VIOMMU_INFO_MSI_DEVID };

	assert_ctrl_info(fd);
	/* Get-only. */
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(fd, KVM_DEV_VIOMMU_GRP_CTRL,
						  KVM_DEV_VIOMMU_CTRL_INFO, &info), ENXIO);
	assert_ctrl_info(fd);

	close(fd);
	kvm_vm_free(vm);
}

static void test_unknown_group_attr(void)
{
	static const struct { uint32_t group; uint64_t attr; } bad[] = {
		{ 0, 0 },
		{ 5, 0 },
		{ 0xffffffff, 0 },
		{ KVM_DEV_VIOMMU_GRP_CTRL, KVM_DEV_VIOMMU_CTRL_STATS_FD + 1 },
		{ KVM_DEV_VIOMMU_GRP_CTRL, ~0ULL },
		{ KVM_DEV_VIOMMU_GRP_IR, KVM_DEV_VIOMMU_IR_CONFIG + 1 },
		{ KVM_DEV_VIOMMU_GRP_IR, 1ULL << 32 },
	};
	struct kvm_vm *vm = vm_with_irqchip();
	int fd = viommu_create_or_die(vm);
	uint64_t buf[64];
	int i;

	for (i = 0; i < (int)ARRAY_SIZE(bad); i++) {
		memset(buf, 0, sizeof(buf));
		VIOMMU_ASSERT_ERRNO(__kvm_has_device_attr(fd, bad[i].group, bad[i].attr), ENXIO);
		VIOMMU_ASSERT_ERRNO(__kvm_device_attr_get(fd, bad[i].group, bad[i].attr, buf), ENXIO);
		VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(fd, bad[i].group, bad[i].attr, buf), ENXIO);
	}
	assert_ir_table(fd, 0);

	close(fd);
	kvm_vm_free(vm);
}

static void test_attr_flags(void)
{
	static const uint32_t bad_flags[] = { 1, 0x80000000 };
	struct kvm_vm *vm = vm_with_irqchip();
	int fd = viommu_create_or_die(vm);
	struct kvm_viommu_ir_table t = { .irta = GOOD_IRTA };
	struct kvm_viommu_info info;
	uint64_t tp = (uintptr_t)&t, ip = (uintptr_t)&info;
	int i;

	for (i = 0; i < (int)ARRAY_SIZE(bad_flags); i++) {
		uint32_t f = bad_flags[i];

		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_HAS_DEVICE_ATTR, f, KVM_DEV_VIOMMU_GRP_CTRL,
							KVM_DEV_VIOMMU_CTRL_INFO, 0), EINVAL);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_HAS_DEVICE_ATTR, f, KVM_DEV_VIOMMU_GRP_IR,
							KVM_DEV_VIOMMU_IR_TABLE, 0), EINVAL);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, f, KVM_DEV_VIOMMU_GRP_CTRL,
							KVM_DEV_VIOMMU_CTRL_INFO, ip), EINVAL);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, f, KVM_DEV_VIOMMU_GRP_IR,
							KVM_DEV_VIOMMU_IR_TABLE, tp), EINVAL);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_SET_DEVICE_ATTR, f, KVM_DEV_VIOMMU_GRP_IR,
							KVM_DEV_VIOMMU_IR_TABLE, tp), EINVAL);
	}
	/* The rejected sets changed nothing. */
	assert_ir_table(fd, 0);

	close(fd);
	kvm_vm_free(vm);
}

static void test_ir_table_invalid(void)
{
	struct kvm_vm *vm = vm_with_irqchip();
	int fd = viommu_create_or_die(vm);
	struct kvm_viommu_ir_table t;
	int i, bit;

	set_irta(fd, GOOD_IRTA);

#define EXPECT_EINVAL(what)							\
	do {									\
		VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(fd, KVM_DEV_VIOMMU_GRP_IR,			\
				    KVM_DEV_VIOMMU_IR_TABLE, &t), EINVAL);	\
		/* A rejected set leaves the old value. */			\
		assert_ir_table(fd, GOOD_IRTA);					\
	} while (0)

	memset(&t, 0, sizeof(t));
	t.flags = 1;
	EXPECT_EINVAL("flags");
	t.flags = 0x80000000;
	EXPECT_EINVAL("flags");

	memset(&t, 0, sizeof(t));
	t.__reserved = 1;
	EXPECT_EINVAL("__reserved");

	for (i = 0; i < (int)ARRAY_SIZE(t.__reserved2); i++) {
		memset(&t, 0, sizeof(t));
		t.irta = GOOD_IRTA;
		t.__reserved2[i] = 1ULL << (i * 9);
		EXPECT_EINVAL("reserved");
	}

	for (bit = 0; bit < 64; bit++) {
		if (!(KVM_VIOMMU_IRTA_RSVD_MASK & (1ULL << bit)))
			continue;
		memset(&t, 0, sizeof(t));
		t.irta = GOOD_IRTA | (1ULL << bit);
		EXPECT_EINVAL("irta reserved bit");
	}
	memset(&t, 0, sizeof(t));
	t.irta = KVM_VIOMMU_IRTA_RSVD_MASK;
	EXPECT_EINVAL("irta reserved bits");
#undef EXPECT_EINVAL

	close(fd);
	kvm_vm_free(vm);
}

static void test_bad_addr(void)
{
	struct kvm_vm *vm = vm_with_irqchip();
	int fd = viommu_create_or_die(vm);
	void *none = mmap(NULL, getpagesize(), PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t bad[3];
	int i;

	TEST_ASSERT(none != MAP_FAILED, "mmap: %s", strerror(errno));
	bad[0] = 0;					/* NULL */
	bad[1] = (uintptr_t)none;			/* PROT_NONE page */
	bad[2] = 0xffffffff81000000ULL;			/* kernel address */

	set_irta(fd, GOOD_IRTA);
	for (i = 0; i < (int)ARRAY_SIZE(bad); i++) {
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, 0, KVM_DEV_VIOMMU_GRP_CTRL,
							KVM_DEV_VIOMMU_CTRL_INFO, bad[i]), EFAULT);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, 0, KVM_DEV_VIOMMU_GRP_IR,
							KVM_DEV_VIOMMU_IR_TABLE, bad[i]), EFAULT);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_SET_DEVICE_ATTR, 0, KVM_DEV_VIOMMU_GRP_IR,
							KVM_DEV_VIOMMU_IR_TABLE, bad[i]), EFAULT);
	}
	assert_ir_table(fd, GOOD_IRTA);

	munmap(none, getpagesize());
	close(fd);
	kvm_vm_free(vm);
}

static void test_ir_table_round_trip(void)
{
	static const uint64_t values[] = {
		GOOD_IRTA,
		0x1000ULL,					/* 2 entries, xAPIC */
		0x0000fffffffff000ULL | 0x7,			/* 48-bit address */
		KVM_VIOMMU_IRTA_EIME,
		0x0000fffffffff000ULL | KVM_VIOMMU_IRTA_EIME |	/* every non-reserved */
			KVM_VIOMMU_IRTA_SIZE_MASK,		/* bit below 48 */
		0,
	};
	struct kvm_vm *vm = vm_with_irqchip();
	int fd = viommu_create_or_die(vm);
	int i;

	assert_ir_table(fd, 0);
	for (i = 0; i < (int)ARRAY_SIZE(values); i++) {
		set_irta(fd, values[i]);
		assert_ir_table(fd, values[i]);
		/* Get is idempotent. */
		assert_ir_table(fd, values[i]);
	}

	close(fd);
	kvm_vm_free(vm);
}

static void test_no_irqchip(void)
{
	struct kvm_vm *vm = vm_create_barebones();

	VIOMMU_ASSERT_RET(viommu_create(vm, 0), -EINVAL);
	/* Nothing was left behind: with an irqchip the create then works. */
	vm_create_irqchip(vm);
	close(viommu_create_or_die(vm));
	kvm_vm_free(vm);
}

static void test_split_irqchip(void)
{
	struct kvm_vm *vm;
	int fd, r;

	if (!kvm_has_cap(KVM_CAP_SPLIT_IRQCHIP))
		viommu_case_skip("KVM_CAP_SPLIT_IRQCHIP not available");

	vm = vm_create_barebones();
	r = __vm_enable_cap(vm, KVM_CAP_SPLIT_IRQCHIP, SPLIT_IRQCHIP_PINS);
	TEST_ASSERT(!r, "KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP, %d): %s",
		    SPLIT_IRQCHIP_PINS, strerror(errno));

	fd = viommu_create_or_die(vm);
	VIOMMU_ASSERT_RET(viommu_create(vm, 0), -EEXIST);
	assert_ctrl_info(fd);
	assert_ir_table(fd, 0);
	set_irta(fd, GOOD_IRTA);
	assert_ir_table(fd, GOOD_IRTA);

	close(fd);
	kvm_vm_free(vm);
}

static void guest_code(void)
{
	GUEST_SYNC(1);
	GUEST_SYNC(2);
	GUEST_DONE();
}

static void test_guest_runs(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	uint64_t stage = 1;
	int fd;

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);	/* full irqchip */
	fd = viommu_create_or_die(vm);

	for (;;) {
		vcpu_run(vcpu);
		TEST_ASSERT(vcpu->run->exit_reason == KVM_EXIT_IO,
			    "unexpected exit reason %u (%s)", vcpu->run->exit_reason,
			    exit_reason_str(vcpu->run->exit_reason));

		switch (get_ucall(vcpu, &uc)) {
		case UCALL_SYNC:
			TEST_ASSERT(uc.args[1] == stage,
				    "GUEST_SYNC(%lu), expected stage %lu",
				    (unsigned long)uc.args[1], (unsigned long)stage);
			/* Reprogram the device between guest runs. */
			set_irta(fd, stage == 1 ? GOOD_IRTA : 0);
			stage++;
			break;
		case UCALL_DONE:
			TEST_ASSERT(stage == 3, "GUEST_DONE after %lu syncs",
				    (unsigned long)stage - 1);
			assert_ir_table(fd, 0);
			close(fd);
			kvm_vm_free(vm);
			return;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			TEST_FAIL("unknown ucall %lu", (unsigned long)uc.cmd);
		}
	}
}

/* ---- the ring fds ---------------------------------------------------------- */

#define RING_WAIT_NS		(10ULL * 1000000000ULL)
#define NR_FAULT_RECORDS	8	/* the fault ring's, before a loss */

/*
 * A VM with the device and IR on, and no memory where its table is: each
 * remappable MSI faults (0x23), with the MSI's handle as the index.
 */
static struct kvm_vm *fault_vm(int *dev)
{
	struct kvm_vm *vm = viommu_vm_irqchip(dev);

	set_irta(*dev, GOOD_IRTA);
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
static void test_ring_fd_uapi(void)
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
		VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(dev, rings[i].group, rings[i].attr, &rf), ENXIO);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(dev, KVM_GET_DEVICE_ATTR, 1, rings[i].group,
							rings[i].attr, (uintptr_t)&rf), EINVAL);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(dev, KVM_GET_DEVICE_ATTR, 0x80000000, rings[i].group,
							rings[i].attr, (uintptr_t)&rf), EINVAL);
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
static void test_ring_read_blocking(void)
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
static void test_ring_poll(void)
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
static void test_ring_read_many(void)
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
static void test_ring_fault_lost_order(void)
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
static void test_ring_two_fds(void)
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
static void test_ring_fd_outlives_vm(void)
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

/* ---- the stats fd --------------------------------------------------------- */

/* Every counter, in the order the kernel describes them. */
static const char *const stat_names[] = {
	"remapped_msi_atomic", "remapped_msi_process", "remapped_ioapic",
	"ir_hits", "ir_misses", "ir_fills", "ir_invalidations",
	"ir_fault_req_rsvd", "ir_fault_index_over", "ir_fault_entry_p",
	"ir_fault_root_inval", "ir_fault_irte_rsvd", "ir_fault_compat",
	"ir_fault_sid_err", "dmar_faults",
	"qi_desc_invalid", "qi_desc_context", "qi_desc_iotlb", "qi_desc_devtlb",
	"qi_desc_iec", "qi_desc_wait",
	"events_queued", "events_lost", "exits_avoided",
};

/* The header and id string, as kvm_binary_stats_test checks a VM's. */
static void assert_stats_header(int stats_fd, const struct kvm_stats_header *h)
{
	char id[64];
	size_t len;

	TEST_ASSERT(!h->flags, "header flags 0x%x", h->flags);
	/* KVM's KVM_STATS_NAME_SIZE, which only the kernel has. */
	TEST_ASSERT(h->name_size == 48, "name_size %u", h->name_size);
	TEST_ASSERT(h->num_desc == ARRAY_SIZE(stat_names), "num_desc %u, expected %zu",
		    h->num_desc, ARRAY_SIZE(stat_names));
	TEST_ASSERT(h->id_offset == sizeof(*h), "id_offset %u", h->id_offset);
	TEST_ASSERT(h->desc_offset == h->id_offset + h->name_size,
		    "desc_offset %u", h->desc_offset);
	TEST_ASSERT(h->data_offset ==
		    h->desc_offset + h->num_desc * get_stats_descriptor_size((void *)h),
		    "data_offset %u", h->data_offset);

	TEST_ASSERT(pread(stats_fd, id, h->name_size, h->id_offset) == h->name_size,
		    "read the id string");
	len = strnlen(id, h->name_size);
	TEST_ASSERT(len < h->name_size, "id string not terminated");
	TEST_ASSERT(!strncmp(id, "kvm-", 4) && len > 7 &&
		    !strcmp(id + len - 7, "-viommu"), "id string '%s'", id);
}

/*
 * Each descriptor: its name, a plain counter of one u64, and data that
 * neither overlaps another's nor leaves the data block.
 */
static void assert_stats_descs(const struct kvm_stats_header *h,
			       struct kvm_stats_desc *descs)
{
	size_t data_size = h->num_desc * sizeof(uint64_t);
	uint8_t used[ARRAY_SIZE(stat_names)] = { 0 };
	struct kvm_stats_desc *d;
	uint32_t i;

	for (i = 0; i < h->num_desc; i++) {
		d = get_stats_descriptor(descs, i, (void *)h);
		TEST_ASSERT(!strcmp(d->name, stat_names[i]),
			    "descriptor %u is '%s', expected '%s'", i, d->name,
			    stat_names[i]);
		TEST_ASSERT((d->flags & KVM_STATS_TYPE_MASK) == KVM_STATS_TYPE_CUMULATIVE &&
			    (d->flags & KVM_STATS_UNIT_MASK) == KVM_STATS_UNIT_NONE &&
			    (d->flags & KVM_STATS_BASE_MASK) == KVM_STATS_BASE_POW10 &&
			    !d->exponent && d->size == 1 && !d->bucket_size,
			    "%s: flags 0x%x exponent %d size %u bucket_size %u", d->name,
			    d->flags, d->exponent, d->size, d->bucket_size);
		TEST_ASSERT(!(d->offset % sizeof(uint64_t)) &&
			    d->offset + sizeof(uint64_t) <= data_size,
			    "%s: offset %u outside %zu bytes of data", d->name,
			    d->offset, data_size);
		TEST_ASSERT(!used[d->offset / sizeof(uint64_t)]++,
			    "%s: offset %u used twice", d->name, d->offset);
	}
}

/* The whole file reads in one go, exactly to the end of the data. */
static void assert_stats_file_size(int stats_fd, const struct kvm_stats_header *h)
{
	size_t size = h->data_offset + h->num_desc * sizeof(uint64_t);
	char *buf = malloc(size + 64);

	TEST_ASSERT(buf, "malloc");
	TEST_ASSERT(pread(stats_fd, buf, size + 64, 0) == (ssize_t)size,
		    "the stats file is not %zu bytes long", size);
	free(buf);
}

static void test_stats_fd_layout(void)
{
	struct kvm_vm *vm = vm_with_irqchip();
	int fd = viommu_create_or_die(vm), stats_fd, i;
	struct kvm_stats_header h;
	struct kvm_stats_desc *descs;

	stats_fd = viommu_stats_fd(fd);
	TEST_ASSERT(fcntl(stats_fd, F_GETFD) & FD_CLOEXEC, "stats fd without O_CLOEXEC");
	TEST_ASSERT((fcntl(stats_fd, F_GETFL) & O_ACCMODE) == O_RDONLY,
		    "stats fd not read-only");
	TEST_ASSERT(write(stats_fd, &h, sizeof(h)) < 0 && errno == EBADF,
		    "stats fd writable");

	read_stats_header(stats_fd, &h);
	assert_stats_header(stats_fd, &h);
	descs = read_stats_descriptors(stats_fd, &h);
	assert_stats_descs(&h, descs);
	assert_stats_file_size(stats_fd, &h);
	free(descs);

	/* A new device counts nothing yet. */
	for (i = 0; i < (int)ARRAY_SIZE(stat_names); i++)
		TEST_ASSERT(!viommu_read_stat(stats_fd, stat_names[i]),
			    "%s is %llu in a new device", stat_names[i],
			    (unsigned long long)viommu_read_stat(stats_fd, stat_names[i]));

	/* The stats fd holds the VM and the device, as a VM's stats fd does. */
	close(fd);
	kvm_vm_free(vm);
	TEST_ASSERT(!viommu_read_stat(stats_fd, "ir_hits"), "ir_hits after the VM's close");
	TEST_ASSERT(!close(stats_fd), "close(stats fd): %s", strerror(errno));
}

static void test_stats_fd_bad_input(void)
{
	struct kvm_vm *vm = vm_with_irqchip();
	int fd = viommu_create_or_die(vm);
	struct kvm_viommu_fd s;

	kvm_has_device_attr(fd, KVM_DEV_VIOMMU_GRP_CTRL,
			    KVM_DEV_VIOMMU_CTRL_STATS_FD);
	memset(&s, 0, sizeof(s));
	VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, 1, KVM_DEV_VIOMMU_GRP_CTRL,
						KVM_DEV_VIOMMU_CTRL_STATS_FD, (uint64_t)&s), EINVAL);
	/* Whatever the structure holds on the way in is not read. */
	s.fd = 12345;
	s.__reserved = ~0U;
	VIOMMU_ASSERT_ERRNO(__viommu_stats_fd(fd, &s), 0);
	TEST_ASSERT(s.fd >= 0 && s.fd != 12345 && !s.__reserved, "stats fd %d, __reserved 0x%x",
		    s.fd, s.__reserved);
	close(s.fd);

	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(fd, KVM_DEV_VIOMMU_GRP_CTRL,
						  KVM_DEV_VIOMMU_CTRL_STATS_FD, &s), ENXIO);
	VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, 0, KVM_DEV_VIOMMU_GRP_CTRL,
						KVM_DEV_VIOMMU_CTRL_STATS_FD, 0), EFAULT);
	/* The old fixed-layout attribute, 1, is gone. */
	VIOMMU_ASSERT_ERRNO(__kvm_has_device_attr(fd, KVM_DEV_VIOMMU_GRP_CTRL, 1), ENXIO);
	close(fd);
	kvm_vm_free(vm);
}

#define STATS_IRT_S	7	/* 2^8 entries */

struct stat_want {
	const char *name;
	uint64_t want;
};

/* Asserts each counter's value, all read from one stats fd. */
static void assert_stats(int dev, const char *step, const struct stat_want *w, int n)
{
	int stats_fd = viommu_stats_fd(dev), i;
	uint64_t v;

	for (i = 0; i < n; i++) {
		v = viommu_read_stat(stats_fd, w[i].name);
		TEST_ASSERT(v == w[i].want, "%s: %s is %llu, expected %llu", step,
			    w[i].name, (unsigned long long)v,
			    (unsigned long long)w[i].want);
	}
	close(stats_fd);
}

#define ASSERT_STATS(dev, step, ...)					\
	assert_stats(dev, step, (const struct stat_want[]){ __VA_ARGS__ },	\
		     ARRAY_SIZE(((const struct stat_want[]){ __VA_ARGS__ })))

/*
 * Remapped MSIs count a miss, its fill and then hits, on the
 * process-context path (KVM_SIGNAL_MSI); faults count their reason; the
 * VMM's IEC and DMAR fault count too.
 */
static void test_stats_fd_counts(void)
{
	struct viommu_guest *g;
	struct kvm_viommu_dmar_fault f = { .reason = 0x5, .sid = 0x10 };
	struct viommu_msi m;
	int i;

	if (viommu_ir_unsupported())
		viommu_case_skip("%s", viommu_ir_unsupported());
	g = viommu_guest_create(1, 0, true);
	viommu_set_irta(g->dev, VIOMMU_IRT_GPA | STATS_IRT_S);
	viommu_guest_write_irte(g, 0, 5, viommu_irte_lo(0x40, 0, false,
							VIOMMU_DLM_FIXED, 0), 0);
	viommu_set_ir_status(g->dev, KVM_VIOMMU_IR_ENABLE);

	m = viommu_msi_devid(viommu_msi_remappable(5, false, 0), 0x10);
	for (i = 0; i < 3; i++)
		viommu_signal_msi(g->vm, &m);
	ASSERT_STATS(g->dev, "three MSIs through IRTE 5",
		     { "ir_misses", 1 }, { "ir_fills", 1 }, { "ir_hits", 2 },
		     { "remapped_msi_process", 3 }, { "remapped_msi_atomic", 0 });

	m = viommu_msi_devid(viommu_msi_remappable(6, false, 0), 0x10);
	viommu_signal_msi(g->vm, &m);
	m = viommu_msi_devid(viommu_msi_remappable(1000, false, 0), 0x10);
	viommu_signal_msi(g->vm, &m);
	m = viommu_msi_devid(viommu_msi_compat(0, false, 0x41, VIOMMU_DLM_FIXED), 0x10);
	viommu_signal_msi(g->vm, &m);
	ASSERT_STATS(g->dev, "a fault of each of three reasons",
		     { "ir_fault_entry_p", 1 }, { "ir_fault_index_over", 1 },
		     { "ir_fault_compat", 1 }, { "ir_fault_sid_err", 0 },
		     { "remapped_msi_process", 3 }, { "ir_misses", 1 });

	viommu_iec_index(g->dev, 5, 0);
	viommu_signal_msi(g->vm, &m);
	m = viommu_msi_devid(viommu_msi_remappable(5, false, 0), 0x10);
	viommu_signal_msi(g->vm, &m);
	ASSERT_STATS(g->dev, "an IEC, and IRTE 5 read again",
		     { "ir_invalidations", 1 }, { "ir_misses", 2 }, { "ir_fills", 2 },
		     { "ir_fault_compat", 2 }, { "remapped_msi_process", 4 });

	VIOMMU_ASSERT_ERRNO(__vtd_regs_config(g->dev, VTD_BASE, 0, 0), 0);
	kvm_device_attr_set(g->dev, KVM_DEV_VIOMMU_GRP_REGS,
			    KVM_DEV_VIOMMU_REGS_FAULT, &f);
	ASSERT_STATS(g->dev, "a DMAR fault from the VMM", { "dmar_faults", 1 });
	viommu_guest_destroy(g);
}

#define FALLBACK_GSI		30
#define FALLBACK_IDX		7
#define FALLBACK_FIRES		10
#define FALLBACK_WAIT_NS	(10ULL * 1000000000ULL)

/*
 * An irqfd MSI that hits the IR cache where KVM cannot sleep, but cannot
 * be delivered there (a broadcast), goes to the irqfd worker, which
 * translates it again: it counts one hit, on the path that delivered it.
 */
static void test_stats_atomic_fallback(void)
{
	struct viommu_msi m = viommu_msi_devid(viommu_msi_remappable(FALLBACK_IDX, false, 0),
					       0x10);
	struct viommu_guest *g;
	uint64_t deadline;
	int i;

	if (viommu_ir_unsupported())
		viommu_case_skip("%s", viommu_ir_unsupported());
	g = viommu_guest_create(1, 0, true);
	viommu_set_irta(g->dev, VIOMMU_IRT_GPA | STATS_IRT_S);
	/* Destination 0xff: the xAPIC broadcast, which no atomic path takes. */
	viommu_guest_write_irte(g, 0, FALLBACK_IDX,
				viommu_irte_lo(0x40, 0xff, false, VIOMMU_DLM_FIXED, 0), 0);
	viommu_set_ir_status(g->dev, KVM_VIOMMU_IR_ENABLE);
	viommu_route_msi(g, FALLBACK_GSI, &m);
	viommu_commit_routes(g);
	/* Cached, so that the irqfd's atomic path hits. */
	viommu_signal_msi(g->vm, &m);
	ASSERT_STATS(g->dev, "the entry read", { "ir_misses", 1 }, { "ir_hits", 0 });

	for (i = 1; i <= FALLBACK_FIRES; i++) {
		viommu_irqfd_fire(g, FALLBACK_GSI);
		deadline = viommu_now_ns() + FALLBACK_WAIT_NS;
		while (viommu_stat(g->dev, "remapped_msi_process") < 1 + i) {
			TEST_ASSERT(viommu_now_ns() < deadline,
				    "irqfd MSI %d: the worker did not deliver it", i);
			usleep(100);
		}
	}
	ASSERT_STATS(g->dev, "broadcasts through the irqfd, each by its worker",
		     { "ir_hits", FALLBACK_FIRES }, { "ir_misses", 1 },
		     { "remapped_msi_atomic", 0 },
		     { "remapped_msi_process", 1 + FALLBACK_FIRES });
	viommu_guest_destroy(g);
}

/* ---- driver --------------------------------------------------------------- */

static const struct viommu_case cases[] = {
	{ "create_destroy",		test_create_destroy },
	{ "device_fd_outlives_vm",	test_device_fd_outlives_vm },
	{ "double_create_eexist",	test_double_create },
	{ "create_device_test",		test_create_device_test },
	{ "ctrl_info",			test_ctrl_info },
	{ "unknown_group_attr_enxio",	test_unknown_group_attr },
	{ "attr_flags_einval",		test_attr_flags },
	{ "ir_table_invalid_einval",	test_ir_table_invalid },
	{ "bad_addr_efault",		test_bad_addr },
	{ "ir_table_round_trip",	test_ir_table_round_trip },
	{ "no_irqchip_einval",		test_no_irqchip },
	{ "split_irqchip",		test_split_irqchip },
	{ "guest_runs",			test_guest_runs },
	{ "ring_fd_uapi",		test_ring_fd_uapi },
	{ "ring_read_blocking",		test_ring_read_blocking },
	{ "ring_poll",			test_ring_poll },
	{ "ring_read_many",		test_ring_read_many },
	{ "ring_fault_lost_order",	test_ring_fault_lost_order },
	{ "ring_two_fds",		test_ring_two_fds },
	{ "ring_fd_outlives_vm",	test_ring_fd_outlives_vm },
	{ "stats_fd_layout",		test_stats_fd_layout },
	{ "stats_fd_bad_input",		test_stats_fd_bad_input },
	{ "stats_fd_counts",		test_stats_fd_counts },
	{ "stats_atomic_fallback",	test_stats_atomic_fallback },
};

int main(int argc, char *argv[])
{
	struct kvm_vm *vm;
	int r;

	setbuf(stdout, NULL);
	ksft_print_header();

	/* Is the device type known to the loaded KVM at all? */
	vm = vm_with_irqchip();
	r = viommu_create(vm, KVM_CREATE_DEVICE_TEST);
	kvm_vm_free(vm);
	if (r == -ENODEV)
		ksft_exit_skip("%s: load the rebuilt kvm.ko\n",
			       viommu_required("KVM_DEV_TYPE_INTEL_VIOMMU not supported"));
	if (r)
		ksft_exit_fail_msg("KVM_CREATE_DEVICE(INTEL_VIOMMU, TEST): %d (%s)\n",
				   r, strerror(-r));

	viommu_run_cases(argc, argv, cases, ARRAY_SIZE(cases), CASE_TIMEOUT_S);
}
