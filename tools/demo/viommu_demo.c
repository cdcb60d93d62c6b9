// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_demo: what a VMM does with the in-kernel VT-d IOMMU, step by step,
 * in plain words.  It uses only the raw KVM API, as a VMM would.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <linux/kvm_viommu.h>

#define GUEST_PHYS	0x1000
#define DEMO_PORT	0x10
#define DONE_PORT	0x11
#define MSG_OFFSET	0x100

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "viommu_demo: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(errno));
	va_end(ap);
	exit(1);
}

static int viommu_attr(int dev, unsigned long req, __u32 group, __u32 attr,
		       void *data)
{
	struct kvm_device_attr a = {
		.group = group,
		.attr = attr,
		.addr = (__u64)(unsigned long)data,
	};

	return ioctl(dev, req, &a);
}

static int create_viommu(int vm, __u32 flags)
{
	struct kvm_create_device cd = {
		.type = KVM_DEV_TYPE_INTEL_VIOMMU,
		.flags = flags,
	};

	if (ioctl(vm, KVM_CREATE_DEVICE, &cd))
		return -errno;
	return cd.fd;
}

/*
 * Real-mode guest: write "viommu" to a port, one byte at a time, then say so
 * on another port.  Not HLT: with an in-kernel irqchip, KVM keeps a halted
 * vCPU in the kernel instead of exiting.
 */
static const unsigned char guest_code[] = {
	0xbe, 0x00, 0x11,		/* mov si, GUEST_PHYS + MSG_OFFSET */
	0xfc,				/* cld */
	0xac,				/* 1: lodsb */
	0x84, 0xc0,			/* test al, al */
	0x74, 0x04,			/* jz 2f */
	0xe6, DEMO_PORT,		/* out DEMO_PORT, al */
	0xeb, 0xf7,			/* jmp 1b */
	0xe6, DONE_PORT,		/* 2: out DONE_PORT, al */
	0xeb, 0xfe,			/* jmp . */
};

static void run_guest(int kvm, int vm)
{
	static const char msg[] = "viommu";
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = GUEST_PHYS, .rflags = 2 };
	struct kvm_run *run;
	char out[64] = "";
	size_t len = 0;
	unsigned char *mem;
	int vcpu, size;

	mem = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	memcpy(mem, guest_code, sizeof(guest_code));
	memcpy(mem + MSG_OFFSET, msg, sizeof(msg));

	region = (struct kvm_userspace_memory_region) {
		.guest_phys_addr = GUEST_PHYS,
		.memory_size = 0x2000,
		.userspace_addr = (__u64)(unsigned long)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region))
		die("KVM_SET_USER_MEMORY_REGION");

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds = sregs.cs;
	sregs.ds.type = 3;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) || ioctl(vcpu, KVM_SET_REGS, &regs))
		die("KVM_SET_SREGS/REGS");

	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0))
			die("KVM_RUN");
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == DONE_PORT)
			break;
		if (run->exit_reason != KVM_EXIT_IO || run->io.port != DEMO_PORT ||
		    len + 1 >= sizeof(out)) {
			errno = EPROTO;
			die("unexpected exit %u", run->exit_reason);
		}
		out[len++] = *((char *)run + run->io.data_offset);
	}
	printf("- A vCPU ran guest code in this VM: it wrote \"%s\" to port 0x%x.\n",
	       out, DEMO_PORT);
	close(vcpu);
	munmap(mem, 0x2000);
}

int main(void)
{
	struct kvm_viommu_ir_table table = {
		.irta = 0xfed00000ULL | KVM_VIOMMU_IRTA_EIME | 0xf,
	};
	struct kvm_viommu_info info;
	int kvm, vm, dev, ret;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("open /dev/kvm");
	printf("- Opened /dev/kvm: KVM API version %d.\n",
	       ioctl(kvm, KVM_GET_API_VERSION, 0));

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");

	ret = create_viommu(vm, KVM_CREATE_DEVICE_TEST);
	if (ret) {
		printf("- This KVM has no VT-d IOMMU (%s): are the stock modules loaded?\n",
		       strerror(-ret));
		return 1;
	}
	printf("- KVM_CREATE_DEVICE_TEST: this KVM provides KVM_DEV_TYPE_INTEL_VIOMMU.\n");

	ret = create_viommu(vm, 0);
	printf("- Creating the device before the VM has an in-kernel irqchip is refused: %s.\n",
	       strerror(-ret));

	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0))
		die("KVM_CREATE_IRQCHIP");
	dev = create_viommu(vm, 0);
	if (dev < 0) {
		errno = -dev;
		die("KVM_CREATE_DEVICE");
	}
	if (viommu_attr(dev, KVM_GET_DEVICE_ATTR, KVM_DEV_VIOMMU_GRP_CTRL,
			KVM_DEV_VIOMMU_CTRL_INFO, &info))
		die("get KVM_DEV_VIOMMU_CTRL_INFO");
	printf("- With an in-kernel irqchip, the VM gets its VT-d IOMMU: fd %d, flags 0x%x.\n",
	       dev, info.flags);

	ret = create_viommu(vm, 0);
	printf("- A second VT-d IOMMU on the same VM is refused: %s.\n",
	       strerror(-ret));

	if (viommu_attr(dev, KVM_SET_DEVICE_ATTR, KVM_DEV_VIOMMU_GRP_IR,
			KVM_DEV_VIOMMU_IR_TABLE, &table))
		die("set KVM_DEV_VIOMMU_IR_TABLE");
	memset(&table, 0, sizeof(table));
	if (viommu_attr(dev, KVM_GET_DEVICE_ATTR, KVM_DEV_VIOMMU_GRP_IR,
			KVM_DEV_VIOMMU_IR_TABLE, &table))
		die("get KVM_DEV_VIOMMU_IR_TABLE");
	printf("- The interrupt remapping table is at 0x%llx, %u entries, x2APIC mode %s.\n",
	       table.irta & KVM_VIOMMU_IRTA_ADDR_MASK,
	       2U << (table.irta & KVM_VIOMMU_IRTA_SIZE_MASK),
	       table.irta & KVM_VIOMMU_IRTA_EIME ? "on" : "off");

	table.irta |= 1ULL << 4;
	ret = viommu_attr(dev, KVM_SET_DEVICE_ATTR, KVM_DEV_VIOMMU_GRP_IR,
			  KVM_DEV_VIOMMU_IR_TABLE, &table) ? -errno : 0;
	printf("- An IRTA value with a reserved bit set is refused: %s.\n",
	       strerror(-ret));

	run_guest(kvm, vm);

	close(vm);
	ret = viommu_attr(dev, KVM_GET_DEVICE_ATTR, KVM_DEV_VIOMMU_GRP_CTRL,
			  KVM_DEV_VIOMMU_CTRL_INFO, &info) ? -errno : 0;
	printf("- Closed the VM's fd; the device fd still answers: %s, flags 0x%x.\n",
	       strerror(-ret), info.flags);
	close(dev);
	printf("- Closed the device fd: the VM and its VT-d IOMMU are gone.\n");
	close(kvm);
	return 0;
}
