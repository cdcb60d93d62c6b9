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

#define CASE_TIMEOUT_S		60
#define SPLIT_IRQCHIP_PINS	24	/* IOAPIC pins, as QEMU uses */

/* A valid IRTA: 4 KiB-aligned table, x2APIC mode, 2^(0xf + 1) entries. */
#define GOOD_IRTA	(0x12345000ULL | KVM_VIOMMU_IRTA_EIME | 0xfULL)

/* ---- helpers ------------------------------------------------------------ */

static const char *err_str(int r)
{
	return r < 0 ? strerror(-r) : "success";
}

#define ASSERT_RET(expr, want)						\
do {									\
	int __r = (expr), __w = (want);					\
									\
	TEST_ASSERT(__r == __w, "%s:\n  expected %d (%s), got %d (%s)",	\
		    #expr, __w, err_str(__w), __r, err_str(__r));	\
} while (0)

static void get_ir_table(int fd, struct kvm_viommu_ir_table *t)
{
	memset(t, 0xa5, sizeof(*t));
	ASSERT_RET(viommu_get_attr(fd, KVM_DEV_VIOMMU_GRP_IR, KVM_DEV_VIOMMU_IR_TABLE, t), 0);
}

static void assert_ir_table(int fd, uint64_t irta)
{
	struct kvm_viommu_ir_table t;
	int i;

	get_ir_table(fd, &t);
	TEST_ASSERT(t.flags == 0 && t.pad == 0,
		    "IR_TABLE get: flags 0x%x pad 0x%x, expected 0", t.flags, t.pad);
	TEST_ASSERT(t.irta == irta, "IR_TABLE get: irta 0x%llx, expected 0x%llx",
		    (unsigned long long)t.irta, (unsigned long long)irta);
	for (i = 0; i < (int)ARRAY_SIZE(t.reserved); i++)
		TEST_ASSERT(!t.reserved[i], "IR_TABLE get: reserved[%d] = 0x%llx",
			    i, (unsigned long long)t.reserved[i]);
}

static void set_irta(int fd, uint64_t irta)
{
	struct kvm_viommu_ir_table t = { .irta = irta };

	ASSERT_RET(viommu_set_attr(fd, KVM_DEV_VIOMMU_GRP_IR, KVM_DEV_VIOMMU_IR_TABLE, &t), 0);
}

static void assert_ctrl_info(int fd)
{
	struct kvm_viommu_info info;
	int i;

	memset(&info, 0xa5, sizeof(info));
	ASSERT_RET(viommu_get_attr(fd, KVM_DEV_VIOMMU_GRP_CTRL,
				   KVM_DEV_VIOMMU_CTRL_INFO, &info), 0);
	TEST_ASSERT(info.abi_version == KVM_VIOMMU_ABI_VERSION,
		    "CTRL_INFO abi_version %u, expected %u",
		    info.abi_version, KVM_VIOMMU_ABI_VERSION);
	TEST_ASSERT(info.flags == KVM_VIOMMU_INFO_MSI_DEVID, "CTRL_INFO flags 0x%x, expected 0x%x",
		    info.flags, KVM_VIOMMU_INFO_MSI_DEVID);
	for (i = 0; i < (int)ARRAY_SIZE(info.reserved); i++)
		TEST_ASSERT(!info.reserved[i], "CTRL_INFO reserved[%d] = 0x%llx",
			    i, (unsigned long long)info.reserved[i]);
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

	ASSERT_RET(viommu_has_attr(fd, KVM_DEV_VIOMMU_GRP_CTRL, KVM_DEV_VIOMMU_CTRL_INFO), 0);
	ASSERT_RET(viommu_has_attr(fd, KVM_DEV_VIOMMU_GRP_IR, KVM_DEV_VIOMMU_IR_TABLE), 0);
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
	ASSERT_RET(viommu_create(vm, 0), -EEXIST);
	/* Still -EEXIST after the first device's fd is gone: it lives with the VM. */
	TEST_ASSERT(!close(fd), "close(device fd): %s", strerror(errno));
	ASSERT_RET(viommu_create(vm, 0), -EEXIST);
	kvm_vm_free(vm);
}

static void test_create_device_test(void)
{
	struct kvm_vm *vm = vm_with_irqchip();
	int fd;

	ASSERT_RET(viommu_create(vm, KVM_CREATE_DEVICE_TEST), 0);
	ASSERT_RET(viommu_create(vm, KVM_CREATE_DEVICE_TEST), 0);
	/* The TEST creates did not create: a real create still works. */
	fd = viommu_create_or_die(vm);
	assert_ir_table(fd, 0);
	/* TEST only reports that the type is supported. */
	ASSERT_RET(viommu_create(vm, KVM_CREATE_DEVICE_TEST), 0);
	TEST_ASSERT(!close(fd), "close(device fd): %s", strerror(errno));
	kvm_vm_free(vm);
}

static void test_ctrl_info(void)
{
	struct kvm_vm *vm = vm_with_irqchip();
	int fd = viommu_create_or_die(vm);
	struct kvm_viommu_info info = { .abi_version = KVM_VIOMMU_ABI_VERSION };

	assert_ctrl_info(fd);
	/* Get-only. */
	ASSERT_RET(viommu_set_attr(fd, KVM_DEV_VIOMMU_GRP_CTRL,
				   KVM_DEV_VIOMMU_CTRL_INFO, &info), -ENXIO);
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
		{ KVM_DEV_VIOMMU_GRP_CTRL, KVM_DEV_VIOMMU_CTRL_RESET + 1 },
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
		ASSERT_RET(viommu_has_attr(fd, bad[i].group, bad[i].attr), -ENXIO);
		ASSERT_RET(viommu_get_attr(fd, bad[i].group, bad[i].attr, buf), -ENXIO);
		ASSERT_RET(viommu_set_attr(fd, bad[i].group, bad[i].attr, buf), -ENXIO);
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

		ASSERT_RET(viommu_attr_ioctl(fd, KVM_HAS_DEVICE_ATTR, f, KVM_DEV_VIOMMU_GRP_CTRL,
					     KVM_DEV_VIOMMU_CTRL_INFO, 0), -EINVAL);
		ASSERT_RET(viommu_attr_ioctl(fd, KVM_HAS_DEVICE_ATTR, f, KVM_DEV_VIOMMU_GRP_IR,
					     KVM_DEV_VIOMMU_IR_TABLE, 0), -EINVAL);
		ASSERT_RET(viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, f, KVM_DEV_VIOMMU_GRP_CTRL,
					     KVM_DEV_VIOMMU_CTRL_INFO, ip), -EINVAL);
		ASSERT_RET(viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, f, KVM_DEV_VIOMMU_GRP_IR,
					     KVM_DEV_VIOMMU_IR_TABLE, tp), -EINVAL);
		ASSERT_RET(viommu_attr_ioctl(fd, KVM_SET_DEVICE_ATTR, f, KVM_DEV_VIOMMU_GRP_IR,
					     KVM_DEV_VIOMMU_IR_TABLE, tp), -EINVAL);
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
		ASSERT_RET(viommu_set_attr(fd, KVM_DEV_VIOMMU_GRP_IR,			\
				    KVM_DEV_VIOMMU_IR_TABLE, &t), -EINVAL);	\
		/* A rejected set leaves the old value. */			\
		assert_ir_table(fd, GOOD_IRTA);					\
	} while (0)

	memset(&t, 0, sizeof(t));
	t.flags = 1;
	EXPECT_EINVAL("flags");
	t.flags = 0x80000000;
	EXPECT_EINVAL("flags");

	memset(&t, 0, sizeof(t));
	t.pad = 1;
	EXPECT_EINVAL("pad");

	for (i = 0; i < (int)ARRAY_SIZE(t.reserved); i++) {
		memset(&t, 0, sizeof(t));
		t.irta = GOOD_IRTA;
		t.reserved[i] = 1ULL << (i * 9);
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
		ASSERT_RET(viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, 0, KVM_DEV_VIOMMU_GRP_CTRL,
					     KVM_DEV_VIOMMU_CTRL_INFO, bad[i]), -EFAULT);
		ASSERT_RET(viommu_attr_ioctl(fd, KVM_GET_DEVICE_ATTR, 0, KVM_DEV_VIOMMU_GRP_IR,
					     KVM_DEV_VIOMMU_IR_TABLE, bad[i]), -EFAULT);
		ASSERT_RET(viommu_attr_ioctl(fd, KVM_SET_DEVICE_ATTR, 0, KVM_DEV_VIOMMU_GRP_IR,
					     KVM_DEV_VIOMMU_IR_TABLE, bad[i]), -EFAULT);
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

	ASSERT_RET(viommu_create(vm, 0), -EINVAL);
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
	ASSERT_RET(viommu_create(vm, 0), -EEXIST);
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
