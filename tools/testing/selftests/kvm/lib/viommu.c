// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shared helpers of the kvm-viommu selftests; see include/viommu.h.
 */
#define _GNU_SOURCE /* program_invocation_name */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include "test_util.h"
#include "kselftest.h"
#include "kvm_util.h"
#include "processor.h"
#include "apic.h"
#include "viommu.h"

/* ---- the device ------------------------------------------------------------ */

int viommu_create(struct kvm_vm *vm, uint32_t flags)
{
	struct kvm_create_device cd = {
		.type = KVM_DEV_TYPE_INTEL_VIOMMU,
		.fd = -1,
		.flags = flags,
	};

	if (__vm_ioctl(vm, KVM_CREATE_DEVICE, &cd))
		return -errno;
	return (flags & KVM_CREATE_DEVICE_TEST) ? 0 : (int)cd.fd;
}

int viommu_create_or_die(struct kvm_vm *vm)
{
	int fd = viommu_create(vm, 0);

	TEST_ASSERT(fd >= 0, "KVM_CREATE_DEVICE(INTEL_VIOMMU) failed: %d (%s)",
		    fd, strerror(-fd));
	return fd;
}

struct kvm_vm *viommu_vm_irqchip(int *dev)
{
	struct kvm_vm *vm = vm_create_barebones();

	vm_create_irqchip(vm);
	*dev = viommu_create_or_die(vm);
	return vm;
}

int __viommu_attr_ioctl(int fd, unsigned long req, uint32_t flags,
			uint32_t group, uint64_t attr, uint64_t addr)
{
	struct kvm_device_attr a = {
		.flags = flags,
		.group = group,
		.attr = attr,
		.addr = addr,
	};

	return ioctl(fd, req, &a);
}

const char *viommu_err_str(int r)
{
	return r < 0 ? strerror(-r) : "success";
}

const char *viommu_required(const char *why)
{
	if (why && getenv("VIOMMU_REQUIRE_DEVICE"))
		TEST_FAIL("%s\n  (VIOMMU_REQUIRE_DEVICE: the modules under test must provide it)",
			  why);
	return why;
}

const char *viommu_ir_unsupported(void)
{
	static char why[160];
	struct kvm_vm *vm = vm_create_barebones();
	int fd, r;

	vm_create_irqchip(vm);
	fd = viommu_create(vm, 0);
	if (fd == -ENODEV) {
		snprintf(why, sizeof(why),
			 "KVM_DEV_TYPE_INTEL_VIOMMU not supported: load the rebuilt kvm.ko");
	} else if (fd < 0) {
		snprintf(why, sizeof(why), "KVM_CREATE_DEVICE(INTEL_VIOMMU): %s",
			 strerror(-fd));
	} else {
		r = __kvm_has_device_attr(fd, KVM_DEV_VIOMMU_GRP_IR, KVM_DEV_VIOMMU_IR_STATUS);
		if (r)
			snprintf(why, sizeof(why),
				 "KVM_DEV_VIOMMU_IR_STATUS not supported (%s): kvm.ko predates interrupt remapping",
				 strerror(errno));
		close(fd);
		fd = r ? -1 : 0;
	}
	kvm_vm_free(vm);
	return viommu_required(fd < 0 ? why : NULL);
}

void viommu_set_irta(int fd, uint64_t irta)
{
	struct kvm_viommu_ir_table t = { .irta = irta };

	kvm_device_attr_set(fd, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_TABLE, &t);
}

void viommu_set_ir_status(int fd, uint32_t flags)
{
	struct kvm_viommu_ir_status s = { .flags = flags };

	kvm_device_attr_set(fd, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_STATUS, &s);
}

uint32_t viommu_get_ir_status(int fd)
{
	struct kvm_viommu_ir_status s;
	int i;

	memset(&s, 0xa5, sizeof(s));
	kvm_device_attr_get(fd, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_STATUS, &s);
	TEST_ASSERT(!s.__reserved, "IR_STATUS get: __reserved 0x%x", s.__reserved);
	for (i = 0; i < (int)ARRAY_SIZE(s.__reserved2); i++)
		TEST_ASSERT(!s.__reserved2[i], "IR_STATUS get: __reserved2[%d] = 0x%llx",
			    i, (unsigned long long)s.__reserved2[i]);
	return s.flags;
}

void viommu_iec_global(int fd)
{
	struct kvm_viommu_iec iec = { .flags = 0 };

	kvm_device_attr_set(fd, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_INVALIDATE, &iec);
}

void viommu_iec_index(int fd, uint16_t index, uint8_t mask)
{
	struct kvm_viommu_iec iec = {
		.flags = KVM_VIOMMU_IEC_INDEX,
		.index = index,
		.mask = mask,
	};

	kvm_device_attr_set(fd, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_INVALIDATE, &iec);
}

int __viommu_stats_fd(int fd, struct kvm_viommu_fd *s)
{
	return __kvm_device_attr_get(fd, KVM_DEV_VIOMMU_GRP_CTRL,
				     KVM_DEV_VIOMMU_CTRL_STATS_FD, s);
}

int viommu_stats_fd(int fd)
{
	struct kvm_viommu_fd s = { .fd = -1 };

	VIOMMU_ASSERT_ERRNO(__viommu_stats_fd(fd, &s), 0);
	TEST_ASSERT(s.fd >= 0, "KVM_DEV_VIOMMU_CTRL_STATS_FD returned fd %d", s.fd);
	return s.fd;
}

/*
 * The sum of the counters named @name, or, if @prefix, of those whose
 * names start with it, with the kernel's binary stats helpers.
 */
static uint64_t viommu_stats_sum(int stats_fd, const char *name, bool prefix)
{
	struct kvm_stats_header header;
	struct kvm_stats_desc *descs, *d;
	uint64_t sum = 0, val;
	int i, found = 0;

	/* Not read_stats_header(): a read() would move on from the header. */
	TEST_ASSERT(pread(stats_fd, &header, sizeof(header), 0) == sizeof(header),
		    "read the stats header");
	descs = read_stats_descriptors(stats_fd, &header);
	for (i = 0; i < header.num_desc; i++) {
		d = get_stats_descriptor(descs, i, &header);
		if (prefix ? strncmp(d->name, name, strlen(name)) :
			     strcmp(d->name, name))
			continue;
		read_stat_data(stats_fd, &header, d, &val, 1);
		sum += val;
		found++;
	}
	free(descs);
	TEST_ASSERT(found, "no viommu stat %s%s", name, prefix ? "*" : "");
	return sum;
}

uint64_t viommu_read_stat(int stats_fd, const char *name)
{
	return viommu_stats_sum(stats_fd, name, false);
}

uint64_t viommu_stat(int fd, const char *name)
{
	int stats_fd = viommu_stats_fd(fd);
	uint64_t val = viommu_read_stat(stats_fd, name);

	close(stats_fd);
	return val;
}

void viommu_get_stats(int fd, struct viommu_stats *s)
{
	int stats_fd = viommu_stats_fd(fd);

	s->hits = viommu_read_stat(stats_fd, "ir_hits");
	s->misses = viommu_read_stat(stats_fd, "ir_misses");
	s->faults = viommu_stats_sum(stats_fd, "ir_fault_", true);
	s->invalidations = viommu_read_stat(stats_fd, "ir_invalidations");
	s->msi_atomic = viommu_read_stat(stats_fd, "remapped_msi_atomic");
	close(stats_fd);
}

int viommu_ring_fd(int dev, uint32_t group, uint64_t attr, bool nonblock)
{
	struct kvm_viommu_fd r = { .fd = -1 };

	kvm_device_attr_get(dev, group, attr, &r);
	TEST_ASSERT(r.fd >= 0 && !r.__reserved, "ring fd get: fd %d, __reserved 0x%x",
		    r.fd, r.__reserved);
	if (nonblock)
		TEST_ASSERT(!fcntl(r.fd, F_SETFL, O_NONBLOCK), "F_SETFL O_NONBLOCK: %s",
			    strerror(errno));
	return r.fd;
}

int viommu_fault_fd(int dev)
{
	return viommu_ring_fd(dev, KVM_DEV_VIOMMU_GRP_IR, KVM_DEV_VIOMMU_IR_FAULT_FD, true);
}

bool viommu_ring_read(int rfd, void *rec, size_t size)
{
	ssize_t n;

	memset(rec, 0, size);
	n = read(rfd, rec, size);
	if (n < 0 && errno == EAGAIN)
		return false;
	TEST_ASSERT(n == (ssize_t)size, "read(ring fd, %zu): %zd (%s)", size, n,
		    n < 0 ? strerror(errno) : "a short record");
	return true;
}

bool viommu_ring_readable(int rfd)
{
	struct pollfd p = { .fd = rfd, .events = POLLIN };
	int r = poll(&p, 1, 0);

	TEST_ASSERT(r >= 0, "poll(ring fd): %s", strerror(errno));
	return r && (p.revents & POLLIN);
}

bool viommu_ring_pop(int dev, uint32_t group, uint64_t attr, void *rec, size_t size)
{
	int rfd = viommu_ring_fd(dev, group, attr, true);
	bool found = viommu_ring_read(rfd, rec, size);

	close(rfd);
	return found;
}

bool viommu_pop_fault(int dev, struct kvm_viommu_ir_fault *f)
{
	return viommu_ring_pop(dev, KVM_DEV_VIOMMU_GRP_IR, KVM_DEV_VIOMMU_IR_FAULT_FD, f,
			       sizeof(*f));
}

int viommu_signal_msi(struct kvm_vm *vm, const struct viommu_msi *m)
{
	struct kvm_msi msi = {
		.address_lo = m->address_lo,
		.address_hi = m->address_hi,
		.data = m->data,
		.flags = m->has_devid ? KVM_MSI_VALID_DEVID : 0,
		.devid = m->has_devid ? m->devid : 0,
	};
	int r = __vm_ioctl(vm, KVM_SIGNAL_MSI, &msi);

	return r < 0 ? -errno : r;
}

uint64_t viommu_now_ns(void)
{
	struct timespec ts;

	TEST_ASSERT(!clock_gettime(CLOCK_MONOTONIC, &ts), "clock_gettime: %s",
		    strerror(errno));
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

bool viommu_join_within(pthread_t th, uint64_t timeout_ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ns / 1000000000ULL;
	ts.tv_nsec += timeout_ns % 1000000000ULL;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return !pthread_timedjoin_np(th, NULL, &ts);
}

/* ---- guest side ------------------------------------------------------------------ */

/*
 * Written by the guest only, each vCPU in its own row (indexed by APIC ID),
 * read by the host through addr_gva2hva().
 */
static uint32_t viommu_counts[VIOMMU_MAX_VCPUS][256];
static uint8_t viommu_tmr[VIOMMU_MAX_VCPUS][256];
/* Set by the host before the vCPUs first run. */
static unsigned int viommu_guest_flags;
static viommu_guest_code_t viommu_guest_code;

#define APIC_LDR		0xd0
#define APIC_DFR		0xe0
#define APIC_TMR		0x180
#define APIC_DFR_FLAT		0xffffffffU

static uint32_t guest_apic_id(void)
{
	if (viommu_guest_flags & VIOMMU_GUEST_X2APIC)
		return x2apic_read_reg(APIC_ID);
	return xapic_read_reg(APIC_ID) >> 24;
}

static bool guest_tmr_bit(int vector)
{
	unsigned int reg = APIC_TMR + (vector / 32) * 0x10;
	uint32_t val;

	if (viommu_guest_flags & VIOMMU_GUEST_X2APIC)
		val = x2apic_read_reg(reg);
	else
		val = xapic_read_reg(reg);
	return val & (1U << (vector % 32));
}

static void guest_eoi(void)
{
	if (viommu_guest_flags & VIOMMU_GUEST_X2APIC)
		x2apic_write_reg(APIC_EOI, 0);
	else
		xapic_write_reg(APIC_EOI, 0);
}

/* Every vector from 0x20 up, and NMI (no EOI). */
static void guest_irq_handler(struct ex_regs *regs)
{
	uint32_t id = guest_apic_id();
	int vector = regs->vector;

	GUEST_ASSERT_2(id < VIOMMU_MAX_VCPUS, id, vector);
	if (vector >= 32 && (viommu_guest_flags & VIOMMU_GUEST_TMR))
		WRITE_ONCE(viommu_tmr[id][vector], guest_tmr_bit(vector));
	WRITE_ONCE(viommu_counts[id][vector], READ_ONCE(viommu_counts[id][vector]) + 1);
	if (vector >= 32)
		guest_eoi();
}

static void viommu_guest_main(uint64_t idx)
{
	if (viommu_guest_flags & VIOMMU_GUEST_X2APIC) {
		x2apic_enable();
	} else {
		xapic_enable();
		/* Flat logical mode: vCPU n answers logical destination bit n. */
		xapic_write_reg(APIC_DFR, APIC_DFR_FLAT);
		xapic_write_reg(APIC_LDR, (1U << idx) << 24);
	}
	/* x2APIC: LDR is cluster 0, bit n: the same logical bit n. */
	GUEST_ASSERT_2(guest_apic_id() == idx, guest_apic_id(), idx);
	GUEST_SYNC(idx);

	asm volatile("sti" ::: "memory");
	if (viommu_guest_code)
		viommu_guest_code(idx);
	if (viommu_guest_flags & VIOMMU_GUEST_SPIN) {
		for (;;)
			asm volatile("pause" ::: "memory");
	}
	for (;;)
		asm volatile("hlt" ::: "memory");
}

/* ---- host side: the vCPU threads ----------------------------------------------------- */

struct vcpu_thread_arg {
	struct viommu_guest *g;
	int idx;
};

static struct vcpu_thread_arg thread_args[VIOMMU_MAX_VCPUS];

static void viommu_kick_handler(int sig)
{
}

bool viommu_guest_rip_corrupt(struct kvm_vcpu *vcpu, uint64_t *rip)
{
	struct kvm_regs regs;

	vcpu_regs_get(vcpu, &regs);
	*rip = regs.rip;
	return regs.rip >= VIOMMU_GUEST_CODE_END;
}

void __noreturn viommu_exit_nested_corruption(int vcpu, uint64_t rip)
{
	if (rip)
		fprintf(stderr,
			"NESTED-EMULATION: vCPU %d: guest RIP 0x%llx is no guest code (the test host's\n"
			"  own kernel address, after its VMRUN): the emulator running the test host\n"
			"  corrupted the guest's state; this run says nothing about KVM.\n",
			vcpu, (unsigned long long)rip);
	else
		fprintf(stderr,
			"NESTED-EMULATION: vCPU %d: SHUTDOWN (triple fault), which these guests cannot\n"
			"  cause themselves; seen with stock modules under the emulator running the\n"
			"  test host too (KVM resets the vCPU, so its RIP is lost).\n", vcpu);
	fflush(stderr);
	exit(VIOMMU_EXIT_NESTED_CORRUPTION);
}

static void *viommu_vcpu_thread(void *data)
{
	struct vcpu_thread_arg *a = data;
	struct viommu_guest *g = a->g;
	struct kvm_vcpu *vcpu = g->vcpus[a->idx];
	struct kvm_run *run = vcpu->run;
	struct ucall uc;
	int r;

	while (!__atomic_load_n(&g->stopping, __ATOMIC_SEQ_CST)) {
		r = __vcpu_run(vcpu);
		__atomic_add_fetch(&g->exits[a->idx], 1, __ATOMIC_SEQ_CST);
		if (r < 0 && errno == EINTR)
			continue;
		TEST_ASSERT(!r, "vCPU %d: KVM_RUN: %s", a->idx, strerror(errno));
		if (run->exit_reason == KVM_EXIT_IOAPIC_EOI) {
			__atomic_add_fetch(&g->ioapic_eois[a->idx][run->eoi.vector & 0xff],
					   1, __ATOMIC_SEQ_CST);
			continue;
		}
		if (run->exit_reason != KVM_EXIT_IO) {
			uint64_t rip;

			fprintf(stderr, "vCPU %d: exit reason %u (%s)\n", a->idx,
				run->exit_reason, exit_reason_str(run->exit_reason));
			if (run->exit_reason == KVM_EXIT_SHUTDOWN)
				viommu_exit_nested_corruption(a->idx, 0);
			if (viommu_guest_rip_corrupt(vcpu, &rip))
				viommu_exit_nested_corruption(a->idx, rip);
		}
		TEST_ASSERT(run->exit_reason == KVM_EXIT_IO,
			    "vCPU %d: unexpected exit reason %u (%s)", a->idx,
			    run->exit_reason, exit_reason_str(run->exit_reason));
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_SYNC:
			TEST_ASSERT(uc.args[1] == (uint64_t)a->idx,
				    "vCPU %d: GUEST_SYNC(%lu)", a->idx,
				    (unsigned long)uc.args[1]);
			__atomic_add_fetch(&g->ucalls[a->idx], 1, __ATOMIC_SEQ_CST);
			__atomic_store_n(&g->ready[a->idx], true, __ATOMIC_SEQ_CST);
			break;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT_2(uc, "vals = 0x%lx 0x%lx");
			break;
		case UCALL_UNHANDLED:
			TEST_FAIL("vCPU %d: unexpected vector 0x%lx in the guest",
				  a->idx, (unsigned long)uc.args[0]);
			break;
		default:
			TEST_FAIL("vCPU %d: unknown ucall %lu", a->idx,
				  (unsigned long)uc.cmd);
		}
	}
	return NULL;
}

/* Pages of guest memory: the selftests' default, with room for stacks. */
#define VIOMMU_GUEST_PAGES	2048

/*
 * __vm_create() always makes a full irqchip on x86; the split one has to
 * be enabled before the first vCPU.
 */
static struct kvm_vm *viommu_split_irqchip_vm(int nr_vcpus,
					      struct kvm_vcpu *vcpus[])
{
	struct kvm_vm *vm;
	int i;

	TEST_ASSERT(kvm_has_cap(KVM_CAP_SPLIT_IRQCHIP),
		    "KVM_CAP_SPLIT_IRQCHIP not available: the test should have skipped");
	vm = ____vm_create(VM_MODE_DEFAULT, VIOMMU_GUEST_PAGES);
	kvm_vm_elf_load(vm, program_invocation_name);
	vm_enable_cap(vm, KVM_CAP_SPLIT_IRQCHIP, VIOMMU_SPLIT_IRQCHIP_PINS);
	for (i = 0; i < nr_vcpus; i++)
		vcpus[i] = vm_vcpu_add(vm, i, viommu_guest_main);
	return vm;
}

struct viommu_guest *viommu_guest_create(int nr_vcpus, unsigned int flags,
					 bool with_dev)
{
	struct viommu_guest *g = calloc(1, sizeof(*g));
	int i, v;

	TEST_ASSERT(g, "out of memory");
	TEST_ASSERT(nr_vcpus >= 1 && nr_vcpus <= VIOMMU_MAX_VCPUS,
		    "%d vCPUs: 1 to %d supported", nr_vcpus, VIOMMU_MAX_VCPUS);
	g->nr_vcpus = nr_vcpus;
	g->flags = flags;
	g->dev = -1;
	for (i = 0; i < VIOMMU_NR_GSIS; i++)
		g->irqfd[i] = -1;

	if (flags & VIOMMU_GUEST_SPLIT_IRQCHIP)
		g->vm = viommu_split_irqchip_vm(nr_vcpus, g->vcpus);
	else
		g->vm = vm_create_with_vcpus(nr_vcpus, viommu_guest_main, g->vcpus);
	vm_init_descriptor_tables(g->vm);
	for (i = 0; i < nr_vcpus; i++) {
		vcpu_init_descriptor_tables(g->vcpus[i]);
		vcpu_args_set(g->vcpus[i], 1, (uint64_t)i);
	}
	vm_install_exception_handler(g->vm, NMI_VECTOR, guest_irq_handler);
	for (v = 32; v < 256; v++)
		vm_install_exception_handler(g->vm, v, guest_irq_handler);
	if (!(flags & VIOMMU_GUEST_X2APIC))
		virt_pg_map(g->vm, APIC_DEFAULT_GPA, APIC_DEFAULT_GPA);

	viommu_guest_flags = flags;
	sync_global_to_guest(g->vm, viommu_guest_flags);
	g->counts = addr_gva2hva(g->vm, (vm_vaddr_t)viommu_counts);
	g->tmr = addr_gva2hva(g->vm, (vm_vaddr_t)viommu_tmr);
	memset(g->counts, 0, sizeof(viommu_counts));
	memset(g->tmr, 0, sizeof(viommu_tmr));

	vm_userspace_mem_region_add(g->vm, VM_MEM_SRC_ANONYMOUS, VIOMMU_IRT_GPA,
				    VIOMMU_IRT_SLOT,
				    VIOMMU_IRT_SIZE / g->vm->page_size, 0);
	g->irt = addr_gpa2hva(g->vm, VIOMMU_IRT_GPA);
	memset(g->irt, 0, VIOMMU_IRT_SIZE);

	g->routing = calloc(1, sizeof(*g->routing) +
			    VIOMMU_NR_GSIS * sizeof(g->routing->entries[0]));
	TEST_ASSERT(g->routing, "out of memory");

	if (with_dev)
		g->dev = viommu_create_or_die(g->vm);
	return g;
}

void viommu_guest_set_code(struct viommu_guest *g, viommu_guest_code_t fn)
{
	TEST_ASSERT(!g->running, "guest code set while the vCPUs run");
	viommu_guest_code = fn;
	sync_global_to_guest(g->vm, viommu_guest_code);
}

void viommu_guest_start(struct viommu_guest *g)
{
	struct sigaction sa = { .sa_handler = viommu_kick_handler };
	uint64_t deadline;
	int i, r;

	TEST_ASSERT(!g->running, "vCPUs already running");
	/* No SA_RESTART: a kick must end KVM_RUN with EINTR. */
	TEST_ASSERT(!sigaction(SIGUSR1, &sa, NULL), "sigaction: %s", strerror(errno));

	g->stopping = false;
	for (i = 0; i < g->nr_vcpus; i++) {
		g->ready[i] = false;
		g->vcpus[i]->run->immediate_exit = 0;
		thread_args[i].g = g;
		thread_args[i].idx = i;
		r = pthread_create(&g->threads[i], NULL, viommu_vcpu_thread,
				   &thread_args[i]);
		TEST_ASSERT(!r, "pthread_create: %s", strerror(r));
	}
	g->running = true;

	deadline = viommu_now_ns() + 30ULL * 1000000000ULL;
	for (i = 0; i < g->nr_vcpus; i++) {
		while (!__atomic_load_n(&g->ready[i], __ATOMIC_SEQ_CST)) {
			TEST_ASSERT(viommu_now_ns() < deadline,
				    "vCPU %d did not reach GUEST_SYNC", i);
			usleep(100);
		}
	}
}

void viommu_guest_stop(struct viommu_guest *g)
{
	int i, r;

	if (!g->running)
		return;
	__atomic_store_n(&g->stopping, true, __ATOMIC_SEQ_CST);
	for (i = 0; i < g->nr_vcpus; i++) {
		__atomic_store_n(&g->vcpus[i]->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		r = pthread_kill(g->threads[i], SIGUSR1);
		TEST_ASSERT(!r, "pthread_kill: %s", strerror(r));
	}
	for (i = 0; i < g->nr_vcpus; i++) {
		r = pthread_join(g->threads[i], NULL);
		TEST_ASSERT(!r, "pthread_join: %s", strerror(r));
		g->vcpus[i]->run->immediate_exit = 0;
	}
	g->running = false;
}

void viommu_guest_check_corruption(struct viommu_guest *g)
{
	uint64_t rip;
	int i;

	viommu_guest_stop(g);
	for (i = 0; i < g->nr_vcpus; i++)
		if (viommu_guest_rip_corrupt(g->vcpus[i], &rip))
			viommu_exit_nested_corruption(i, rip);
}

void viommu_guest_destroy(struct viommu_guest *g)
{
	int i;

	viommu_guest_stop(g);
	for (i = 0; i < VIOMMU_NR_GSIS; i++)
		if (g->irqfd[i] >= 0)
			close(g->irqfd[i]);
	if (g->dev >= 0)
		close(g->dev);
	kvm_vm_free(g->vm);
	free(g->routing);
	free(g);
}

uint32_t viommu_guest_count(struct viommu_guest *g, int vcpu, int vector)
{
	return __atomic_load_n(&g->counts[vcpu][vector], __ATOMIC_SEQ_CST);
}

uint8_t viommu_guest_tmr(struct viommu_guest *g, int vcpu, int vector)
{
	return __atomic_load_n(&g->tmr[vcpu][vector], __ATOMIC_SEQ_CST);
}

uint64_t viommu_guest_exits(struct viommu_guest *g)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < g->nr_vcpus; i++)
		n += __atomic_load_n(&g->exits[i], __ATOMIC_SEQ_CST);
	return n;
}

uint64_t viommu_guest_ucalls(struct viommu_guest *g)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < g->nr_vcpus; i++)
		n += __atomic_load_n(&g->ucalls[i], __ATOMIC_SEQ_CST);
	return n;
}

uint32_t viommu_guest_ioapic_eois(struct viommu_guest *g, int vcpu, int vector)
{
	return __atomic_load_n(&g->ioapic_eois[vcpu][vector], __ATOMIC_SEQ_CST);
}

void viommu_guest_write_irte(struct viommu_guest *g, uint64_t offset,
			     uint32_t index, uint64_t lo, uint64_t hi)
{
	uint64_t at = offset + (uint64_t)index * sizeof(struct viommu_irte);
	struct viommu_irte *e;

	TEST_ASSERT(at + sizeof(*e) <= VIOMMU_IRT_SIZE,
		    "IRTE %u at offset 0x%llx is beyond the IRT memory", index,
		    (unsigned long long)offset);
	e = (struct viommu_irte *)((char *)g->irt + at);
	__atomic_store_n(&e->hi, hi, __ATOMIC_SEQ_CST);
	__atomic_store_n(&e->lo, lo, __ATOMIC_SEQ_CST);
}

/* ---- GSI routing and irqfds -------------------------------------------------------------- */

static struct kvm_irq_routing_entry *route_slot(struct viommu_guest *g, uint32_t gsi)
{
	struct kvm_irq_routing *r = g->routing;
	uint32_t i;

	for (i = 0; i < r->nr; i++)
		if (r->entries[i].gsi == gsi)
			return &r->entries[i];
	TEST_ASSERT(r->nr < VIOMMU_NR_GSIS, "more than %d routes", VIOMMU_NR_GSIS);
	return &r->entries[r->nr++];
}

void viommu_route_msi(struct viommu_guest *g, uint32_t gsi,
		      const struct viommu_msi *m)
{
	struct kvm_irq_routing_entry *e = route_slot(g, gsi);

	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_MSI;
	e->flags = m->has_devid ? KVM_MSI_VALID_DEVID : 0;
	e->u.msi.address_lo = m->address_lo;
	e->u.msi.address_hi = m->address_hi;
	e->u.msi.data = m->data;
	e->u.msi.devid = m->has_devid ? m->devid : 0;
}

void viommu_route_irqchip(struct viommu_guest *g, uint32_t gsi,
			  uint32_t irqchip, uint32_t pin)
{
	struct kvm_irq_routing_entry *e = route_slot(g, gsi);

	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = irqchip;
	e->u.irqchip.pin = pin;
}

int __viommu_commit_routes(struct viommu_guest *g)
{
	return __vm_ioctl(g->vm, KVM_SET_GSI_ROUTING, g->routing) ? -errno : 0;
}

void viommu_commit_routes(struct viommu_guest *g)
{
	int r = __viommu_commit_routes(g);

	TEST_ASSERT(!r, "KVM_SET_GSI_ROUTING (%u routes): %s", g->routing->nr,
		    strerror(-r));
}

int viommu_irqfd(struct viommu_guest *g, uint32_t gsi)
{
	struct kvm_irqfd irqfd = { .gsi = gsi };

	TEST_ASSERT(gsi < VIOMMU_NR_GSIS, "GSI %u: at most %d", gsi, VIOMMU_NR_GSIS);
	if (g->irqfd[gsi] >= 0)
		return g->irqfd[gsi];
	irqfd.fd = eventfd(0, EFD_NONBLOCK);
	TEST_ASSERT((int)irqfd.fd >= 0, "eventfd: %s", strerror(errno));
	vm_ioctl(g->vm, KVM_IRQFD, &irqfd);
	g->irqfd[gsi] = irqfd.fd;
	return irqfd.fd;
}

void viommu_irqfd_fire(struct viommu_guest *g, uint32_t gsi)
{
	uint64_t one = 1;
	int fd = viommu_irqfd(g, gsi);

	TEST_ASSERT(write(fd, &one, sizeof(one)) == sizeof(one),
		    "write(irqfd for GSI %u): %s", gsi, strerror(errno));
}
