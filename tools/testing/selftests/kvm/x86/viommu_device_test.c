// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_device_test: the KVM_DEV_TYPE_INTEL_VIOMMU device's lifetime and its
 * attribute ABI (include/uapi/linux/kvm_viommu.h): creation and destruction,
 * the errors of unknown attributes, flags and addresses, the interrupt
 * remapping table's attribute, the irqchips the device needs, and a guest
 * that runs while the VMM reprograms it.  The rings' and the statistics'
 * file descriptors have programs of their own (viommu_ring_fd_test,
 * viommu_stats_fd_test).
 *
 * The whole program skips when the loaded KVM does not know the device type
 * (stock modules).
 */
#include <errno.h>
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
#include "viommu_test.h"

#define TEST_TIMEOUT_S		60

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

/*
 * NULL if the loaded KVM knows the device type, else why the program skips
 * (viommu_required()): a TEST create asks no more of it than that.
 */
static const char *device_unsupported(void)
{
	const char *why = "KVM_DEV_TYPE_INTEL_VIOMMU not supported: load the rebuilt kvm.ko";
	struct kvm_vm *vm = vm_with_irqchip();
	int r = viommu_create(vm, KVM_CREATE_DEVICE_TEST);

	kvm_vm_free(vm);
	if (r == -ENODEV)
		return viommu_required(why);
	if (r)
		ksft_exit_fail_msg("KVM_CREATE_DEVICE(INTEL_VIOMMU, TEST): %d (%s)\n",
				   r, strerror(-r));
	return NULL;
}

FIXTURE(device) {};
FIXTURE_SETUP(device) {}
FIXTURE_TEARDOWN(device) {}

/* ---- tests ---------------------------------------------------------------- */

TEST_F_TIMEOUT(device, create_destroy, TEST_TIMEOUT_S)
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

TEST_F_TIMEOUT(device, device_fd_outlives_vm, TEST_TIMEOUT_S)
{
	struct kvm_vm *vm = vm_with_irqchip();
	int fd = viommu_create_or_die(vm);

	viommu_set_irta(fd, GOOD_IRTA);

	/* Closes the VM fd (and /dev/kvm); the device fd holds the VM. */
	kvm_vm_free(vm);

	assert_ctrl_info(fd);
	assert_ir_table(fd, GOOD_IRTA);
	TEST_ASSERT(!close(fd), "close(device fd) after the VM fd: %s",
		    strerror(errno));
}

TEST_F_TIMEOUT(device, double_create_eexist, TEST_TIMEOUT_S)
{
	struct kvm_vm *vm = vm_with_irqchip();
	int fd = viommu_create_or_die(vm);

	viommu_set_irta(fd, GOOD_IRTA);
	VIOMMU_ASSERT_RET(viommu_create(vm, 0), -EEXIST);
	/* Still -EEXIST after the first device's fd is gone: it lives with the VM. */
	TEST_ASSERT(!close(fd), "close(device fd): %s", strerror(errno));
	VIOMMU_ASSERT_RET(viommu_create(vm, 0), -EEXIST);
	kvm_vm_free(vm);
}

TEST_F_TIMEOUT(device, create_device_test, TEST_TIMEOUT_S)
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

TEST_F_TIMEOUT(device, ctrl_info, TEST_TIMEOUT_S)
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

TEST_F_TIMEOUT(device, unknown_group_attr_enxio, TEST_TIMEOUT_S)
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
		VIOMMU_ASSERT_ERRNO(__kvm_device_attr_get(fd, bad[i].group, bad[i].attr, buf),
				    ENXIO);
		VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(fd, bad[i].group, bad[i].attr, buf),
				    ENXIO);
	}
	assert_ir_table(fd, 0);

	close(fd);
	kvm_vm_free(vm);
}

TEST_F_TIMEOUT(device, attr_flags_einval, TEST_TIMEOUT_S)
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

		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_HAS_DEVICE_ATTR, f,
							KVM_DEV_VIOMMU_GRP_CTRL,
							KVM_DEV_VIOMMU_CTRL_INFO, 0), EINVAL);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_HAS_DEVICE_ATTR, f,
							KVM_DEV_VIOMMU_GRP_IR,
							KVM_DEV_VIOMMU_IR_TABLE, 0), EINVAL);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, f,
							KVM_DEV_VIOMMU_GRP_CTRL,
							KVM_DEV_VIOMMU_CTRL_INFO, ip), EINVAL);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, f,
							KVM_DEV_VIOMMU_GRP_IR,
							KVM_DEV_VIOMMU_IR_TABLE, tp), EINVAL);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_SET_DEVICE_ATTR, f,
							KVM_DEV_VIOMMU_GRP_IR,
							KVM_DEV_VIOMMU_IR_TABLE, tp), EINVAL);
	}
	/* The rejected sets changed nothing. */
	assert_ir_table(fd, 0);

	close(fd);
	kvm_vm_free(vm);
}

TEST_F_TIMEOUT(device, ir_table_invalid_einval, TEST_TIMEOUT_S)
{
	struct kvm_vm *vm = vm_with_irqchip();
	int fd = viommu_create_or_die(vm);
	struct kvm_viommu_ir_table t;
	int i, bit;

	viommu_set_irta(fd, GOOD_IRTA);

#define EXPECT_EINVAL(what)							\
	do {									\
		VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(fd, KVM_DEV_VIOMMU_GRP_IR,	\
							  KVM_DEV_VIOMMU_IR_TABLE, &t),	\
				    EINVAL);					\
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

TEST_F_TIMEOUT(device, bad_addr_efault, TEST_TIMEOUT_S)
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

	viommu_set_irta(fd, GOOD_IRTA);
	for (i = 0; i < (int)ARRAY_SIZE(bad); i++) {
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, 0,
							KVM_DEV_VIOMMU_GRP_CTRL,
							KVM_DEV_VIOMMU_CTRL_INFO, bad[i]), EFAULT);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, 0,
							KVM_DEV_VIOMMU_GRP_IR,
							KVM_DEV_VIOMMU_IR_TABLE, bad[i]), EFAULT);
		VIOMMU_ASSERT_ERRNO(__viommu_attr_ioctl(fd, KVM_SET_DEVICE_ATTR, 0,
							KVM_DEV_VIOMMU_GRP_IR,
							KVM_DEV_VIOMMU_IR_TABLE, bad[i]), EFAULT);
	}
	assert_ir_table(fd, GOOD_IRTA);

	munmap(none, getpagesize());
	close(fd);
	kvm_vm_free(vm);
}

TEST_F_TIMEOUT(device, ir_table_round_trip, TEST_TIMEOUT_S)
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
		viommu_set_irta(fd, values[i]);
		assert_ir_table(fd, values[i]);
		/* Get is idempotent. */
		assert_ir_table(fd, values[i]);
	}

	close(fd);
	kvm_vm_free(vm);
}

TEST_F_TIMEOUT(device, no_irqchip_einval, TEST_TIMEOUT_S)
{
	struct kvm_vm *vm = vm_create_barebones();

	VIOMMU_ASSERT_RET(viommu_create(vm, 0), -EINVAL);
	/* Nothing was left behind: with an irqchip the create then works. */
	vm_create_irqchip(vm);
	close(viommu_create_or_die(vm));
	kvm_vm_free(vm);
}

TEST_F_TIMEOUT(device, split_irqchip, TEST_TIMEOUT_S)
{
	struct kvm_vm *vm;
	int fd, r;

	if (!kvm_has_cap(KVM_CAP_SPLIT_IRQCHIP))
		SKIP(return, "KVM_CAP_SPLIT_IRQCHIP not available");

	vm = vm_create_barebones();
	r = __vm_enable_cap(vm, KVM_CAP_SPLIT_IRQCHIP, VIOMMU_SPLIT_IRQCHIP_PINS);
	TEST_ASSERT(!r, "KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP, %d): %s",
		    VIOMMU_SPLIT_IRQCHIP_PINS, strerror(errno));

	fd = viommu_create_or_die(vm);
	VIOMMU_ASSERT_RET(viommu_create(vm, 0), -EEXIST);
	assert_ctrl_info(fd);
	assert_ir_table(fd, 0);
	viommu_set_irta(fd, GOOD_IRTA);
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

TEST_F_TIMEOUT(device, guest_runs, TEST_TIMEOUT_S)
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
			viommu_set_irta(fd, stage == 1 ? GOOD_IRTA : 0);
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

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, device_unsupported);
}
