// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_vmm_memory_test: what a hostile or careless VMM can do to the host
 * through its own memory and address space, which the KVM_DEV_TYPE_INTEL_VIOMMU
 * device (include/uapi/linux/kvm_viommu.h) reads the guest's tables from and
 * copies its records into.
 *
 * The VMM is not trusted by the host kernel: whatever it does with its own
 * memory, address space and the file descriptors it gets there, the kernel
 * must neither read the wrong memory for the guest, nor leave its own
 * workers blocked for as long as the VMM likes, nor lose records or file
 * descriptors it hands out.  Each test plays such a VMM and asserts what
 * the guest and the device must still see.  A kernel splat fails the whole
 * run in the test host (tools/testing/vmtest).  The program skips without
 * the device's interrupt remapping.
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/kvm_viommu.h>
#include <linux/userfaultfd.h>

#include "test_util.h"
#include "kselftest.h"
#include "kvm_util.h"
#include "processor.h"
#include "viommu.h"
#include "viommu_regs.h"
#include "viommu_vmm.h"
#include "viommu_test.h"

#define TEST_TIMEOUT_S		100

FIXTURE(vmm_memory) {};
FIXTURE_SETUP(vmm_memory) {}
FIXTURE_TEARDOWN(vmm_memory) {}

static void eventfd_write1(int efd)
{
	uint64_t one = 1;

	TEST_ASSERT(write(efd, &one, sizeof(one)) == sizeof(one), "write(eventfd): %s",
		    strerror(errno));
}

/*
 * A one-vCPU guest with the register page and one event (seq 1, type
 * CONTEXT) waiting in the ring, and interrupt remapping on; for a test
 * that skips without the register page (vtd_regs_unsupported()).
 */
static struct vtd_vm *event_vm(void)
{
	struct vtd_vm *v;
	uint64_t stage;

	v = vtd_vm_create(vmm_event_guest, VTD_VM_DEV | VTD_VM_REGS);
	/*
	 * The register page is the kernel's: IR on as the guest's GSTS would
	 * say, before the event (a REGS_STATE set acknowledges every event).
	 */
	vtd_ir_state_set(v->dev, VMM_IRTA, KVM_VIOMMU_IR_ENABLE);
	vtd_event_config(v->dev, KVM_VIOMMU_EVENT_CONTEXT);
	stage = vtd_run(v);
	TEST_ASSERT(stage == 1, "event guest: GUEST_SYNC(%llu)", (unsigned long long)stage);
	return v;
}

static void *map_page(int prot)
{
	void *p = mmap(NULL, getpagesize(), prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TEST_ASSERT(p != MAP_FAILED, "mmap: %s", strerror(errno));
	return p;
}

/* ---- worker_mm -------------------------------------------------------------------- */

/*
 * Why: an IRTE that misses the IR cache on the irqfd wakeup is read by a
 * kernel worker (irqfd_inject), which has no mm of its own: kvm_read_guest()
 * then copies from the VMM's user address through whatever address space
 * the CPU ran last.  A process forked from the VMM owns that address too,
 * with contents of its own, or none; if the worker reads through it, the
 * guest gets the other process's IRTE, or a fault 0x23 for memory it has.
 */
#define WM_ROUNDS		50
#define WM_GSI			40
#define WM_IDX			5
#define WM_OWN_VEC		0x40
#define WM_FOREIGN_VEC		0x41
/* How long the child stays alive after its signal: its mm must stay whole. */
#define WM_LINGER_US		30000

enum wm_variant { WM_CONTROL, WM_COW, WM_UNMAP, NR_WM };

static const char * const wm_name[] = { "control", "cow", "munmap" };

struct wm_result {
	int own;
	int foreign;
	int dropped;
	int root_inval;
	int other_faults;
};

/* The first two CPUs this process may use; the same one twice if only one. */
static void two_cpus(int *a, int *b)
{
	cpu_set_t set;
	int cpu, n = 0;

	TEST_ASSERT(!sched_getaffinity(0, sizeof(set), &set), "sched_getaffinity: %s",
		    strerror(errno));
	*a = *b = -1;
	for (cpu = 0; cpu < CPU_SETSIZE && n < 2; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		if (n++ == 0)
			*a = cpu;
		else
			*b = cpu;
	}
	TEST_ASSERT(*a >= 0, "no CPU in the affinity mask");
	if (*b < 0)
		*b = *a;
}

static void pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	TEST_ASSERT(!sched_setaffinity(0, sizeof(set), &set), "sched_setaffinity(%d): %s",
		    cpu, strerror(errno));
}

/* The forked process: only async-signal-safe calls from here on. */
static void __noreturn wm_child(struct viommu_guest *g, enum wm_variant v, int irqfd)
{
	struct viommu_irte *e = &g->irt[WM_IDX];
	uint64_t one = 1;

	if (v == WM_COW) {
		/* Its own copy of the page now: the parent's IRTE is unchanged. */
		e->lo = vmm_irte_lo(WM_FOREIGN_VEC);
	} else if (v == WM_UNMAP) {
		if (munmap(g->irt, VIOMMU_IRT_SIZE))
			_exit(2);
	}
	if (write(irqfd, &one, sizeof(one)) != sizeof(one))
		_exit(3);
	usleep(WM_LINGER_US);
	_exit(0);
}

static void wm_round(struct viommu_guest *g, enum wm_variant v, int irqfd,
		     struct wm_result *res)
{
	uint32_t own = viommu_guest_count(g, 0, WM_OWN_VEC);
	uint32_t foreign = viommu_guest_count(g, 0, WM_FOREIGN_VEC);
	struct viommu_stats s0, s;
	struct kvm_viommu_ir_fault f;
	uint64_t deadline;
	int status, records = 0;
	pid_t pid;

	/* The entry is read anew, by the worker, in every round. */
	viommu_iec_global(g->dev);
	viommu_get_stats(g->dev, &s0);

	if (v == WM_CONTROL) {
		eventfd_write1(irqfd);
	} else {
		fflush(stdout);
		fflush(stderr);
		pid = fork();
		TEST_ASSERT(pid >= 0, "fork: %s", strerror(errno));
		if (!pid)
			wm_child(g, v, irqfd);
		TEST_ASSERT(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
		TEST_ASSERT(WIFEXITED(status) && !WEXITSTATUS(status),
			    "%s: the forked process failed (status 0x%x)", wm_name[v], status);
	}

	/* The worker read the entry (a miss) or faulted... */
	deadline = viommu_now_ns() + 5 * NSEC_PER_SEC;
	do {
		viommu_get_stats(g->dev, &s);
		if (s.misses != s0.misses || s.faults != s0.faults)
			break;
		usleep(100);
	} while (viommu_now_ns() < deadline);
	/* ...then sent the interrupt, or wrote the record. */
	deadline = viommu_now_ns() + 2 * NSEC_PER_SEC;
	while (viommu_now_ns() < deadline) {
		if (s.misses != s0.misses &&
		    (viommu_guest_count(g, 0, WM_OWN_VEC) != own ||
		     viommu_guest_count(g, 0, WM_FOREIGN_VEC) != foreign))
			break;
		if (s.faults != s0.faults && records)
			break;
		while (viommu_pop_fault(g->dev, &f)) {
			records++;
			if (f.reason == KVM_VIOMMU_FR_IR_ROOT_INVAL)
				res->root_inval++;
			else
				res->other_faults++;
		}
		usleep(50);
	}

	if (viommu_guest_count(g, 0, WM_OWN_VEC) != own)
		res->own++;
	else if (viommu_guest_count(g, 0, WM_FOREIGN_VEC) != foreign)
		res->foreign++;
	else
		res->dropped++;
}

TEST_F_TIMEOUT(vmm_memory, worker_mm, TEST_TIMEOUT_S)
{
	struct wm_result res[NR_WM] = { 0 };
	int cpu_vmm, cpu_vcpu, irqfd, v, i, len = 0;
	struct viommu_guest *g;
	char why[1024] = "";

	two_cpus(&cpu_vmm, &cpu_vcpu);
	g = viommu_guest_create(1, VIOMMU_GUEST_X2APIC, true);
	/*
	 * The vCPU thread (it inherits this affinity) apart from the VMM and
	 * its child, so that the CPU the worker runs on last ran one of them.
	 */
	pin_self(cpu_vcpu);
	viommu_guest_start(g);
	pin_self(cpu_vmm);

	vmm_ir_on(g->dev);
	viommu_guest_write_irte(g, 0, WM_IDX, vmm_irte_lo(WM_OWN_VEC), 0);
	vmm_route_index(g, WM_GSI, WM_IDX);
	irqfd = viommu_irqfd(g, WM_GSI);

	for (v = 0; v < NR_WM; v++) {
		for (i = 0; i < WM_ROUNDS; i++)
			wm_round(g, v, irqfd, &res[v]);
		vmm_report("worker_mm",
			   "%s: %d rounds, own vector %d, foreign %d, dropped %d; fault records 0x23 %d, other %d",
			   wm_name[v], WM_ROUNDS, res[v].own, res[v].foreign,
			   res[v].dropped, res[v].root_inval, res[v].other_faults);
	}
	viommu_guest_check_corruption(g);
	for (v = 0; v < NR_WM; v++) {
		if (res[v].own == WM_ROUNDS && !res[v].root_inval && !res[v].other_faults)
			continue;
		len += snprintf(why + len, sizeof(why) - len,
				"\n  %s: vector 0x%x (the guest's) in %d of %d rounds, 0x%x (the forked process's) in %d, none in %d; %d fault records 0x23, %d other",
				wm_name[v], WM_OWN_VEC, res[v].own, WM_ROUNDS, WM_FOREIGN_VEC,
				res[v].foreign, res[v].dropped, res[v].root_inval,
				res[v].other_faults);
	}
	TEST_ASSERT(!len,
		    "the irqfd worker did not read the guest's IRTE from the VMM's memory:%s",
		    why);
	viommu_guest_destroy(g);
}

/* ---- event_read_userfaultfd ----------------------------------------------------------- */

/*
 * Why: a read() of the event fd copies the event out, and a VMM can keep
 * that copy waiting for as long as it likes (a userfaultfd page it never
 * resolves).  Had the copy held a lock that recording an interrupt-
 * remapping fault takes (viommu->lock, as EVENT_POP once did), from
 * KVM_SIGNAL_MSI of any thread and from the kernel worker that injects
 * irqfds, the VMM would park a kernel worker for good.
 */
#define UF_GSI			42
#define UF_IRQFD_IDX		10
#define UF_SIGNAL_IDX		11
#define UF_WAIT_NS		(5 * NSEC_PER_SEC)

struct uf_pop {
	int rfd;
	void *page;
	int r;
	bool done;
};

struct uf_signal {
	struct kvm_vm *vm;
	int r;
	bool done;
};

static void *uf_pop_thread(void *data)
{
	struct uf_pop *p = data;

	ssize_t n = read(p->rfd, p->page, sizeof(struct kvm_viommu_event));

	p->r = n < 0 ? -errno : (int)n;
	__atomic_store_n(&p->done, true, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *uf_signal_thread(void *data)
{
	struct uf_signal *s = data;

	s->r = vmm_signal_index(s->vm, UF_SIGNAL_IDX);
	__atomic_store_n(&s->done, true, __ATOMIC_SEQ_CST);
	return NULL;
}

/* A userfaultfd, or -1 with errno if the host has none for us. */
static int uf_open(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (uffd < 0)
		return -1;
	TEST_ASSERT(!ioctl(uffd, UFFDIO_API, &api), "UFFDIO_API: %s", strerror(errno));
	return uffd;
}

static void uf_register(int uffd, void *page)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)page, .len = getpagesize() },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};

	TEST_ASSERT(!ioctl(uffd, UFFDIO_REGISTER, &reg), "UFFDIO_REGISTER: %s",
		    strerror(errno));
}

/* Waits for the fault on @page; false if none came. */
static bool uf_wait_fault(int uffd, void *page, uint64_t timeout_ns)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;
	int r;

	r = poll(&pfd, 1, timeout_ns / 1000000);
	TEST_ASSERT(r >= 0, "poll(userfaultfd): %s", strerror(errno));
	if (!r)
		return false;
	TEST_ASSERT(read(uffd, &msg, sizeof(msg)) == sizeof(msg), "read(userfaultfd): %s",
		    strerror(errno));
	TEST_ASSERT(msg.event == UFFD_EVENT_PAGEFAULT &&
		    (msg.arg.pagefault.address & ~(uint64_t)(getpagesize() - 1)) ==
		    (uintptr_t)page,
		    "userfaultfd: event 0x%x at 0x%llx, expected a page fault at %p", msg.event,
		    (unsigned long long)msg.arg.pagefault.address, page);
	return true;
}

static void uf_resolve(int uffd, void *page)
{
	void *zero = map_page(PROT_READ | PROT_WRITE);
	struct uffdio_copy copy = {
		.dst = (uintptr_t)page,
		.src = (uintptr_t)zero,
		.len = getpagesize(),
	};

	TEST_ASSERT(!ioctl(uffd, UFFDIO_COPY, &copy), "UFFDIO_COPY: %s", strerror(errno));
	munmap(zero, getpagesize());
}

/* Reads every fault record; counts those of IRTE @a and @b. */
static void uf_count_faults(int dev, int *a, int *b)
{
	struct kvm_viommu_ir_fault f;

	while (viommu_pop_fault(dev, &f)) {
		if (f.index == UF_IRQFD_IDX)
			(*a)++;
		else if (f.index == UF_SIGNAL_IDX)
			(*b)++;
	}
}

TEST_F_TIMEOUT(vmm_memory, event_read_userfaultfd, TEST_TIMEOUT_S)
{
	struct kvm_viommu_event *e;
	struct uf_signal sig = { 0 };
	struct uf_pop pop = { 0 };
	int irqfd_faults = 0, signal_faults = 0, uffd, irqfd;
	int irqfd_in_time, signal_faults_in_time;
	bool signal_back = false, popped_ok;
	uint64_t t0, deadline, waited_ms;
	pthread_t pop_th, sig_th;
	struct vtd_vm *v;
	const char *why;

	uffd = uf_open();
	if (uffd < 0)
		SKIP(return, "userfaultfd: %s", strerror(errno));
	why = vtd_regs_unsupported();
	if (why)
		SKIP(return, "%s", why);
	v = event_vm();
	vmm_route_index(v->g, UF_GSI, UF_IRQFD_IDX);
	irqfd = viommu_irqfd(v->g, UF_GSI);

	pop.rfd = viommu_ring_fd(v->dev, KVM_DEV_VIOMMU_GRP_EVENT, KVM_DEV_VIOMMU_EVENT_FD,
				 false);
	pop.page = map_page(PROT_READ | PROT_WRITE);
	uf_register(uffd, pop.page);
	TEST_ASSERT(!pthread_create(&pop_th, NULL, uf_pop_thread, &pop), "pthread_create");
	TEST_ASSERT(uf_wait_fault(uffd, pop.page, 10 * NSEC_PER_SEC),
		    "read(event fd) into a userfaultfd page: no page fault after 10 s (returned: %s, %d)",
		    __atomic_load_n(&pop.done, __ATOMIC_SEQ_CST) ? "yes" : "no", pop.r);

	/* The read() waits for the VMM now.  Two faults for the irqfd worker... */
	t0 = viommu_now_ns();
	deadline = t0 + UF_WAIT_NS;
	eventfd_write1(irqfd);
	while (!irqfd_faults && viommu_now_ns() < deadline) {
		uf_count_faults(v->dev, &irqfd_faults, &signal_faults);
		usleep(1000);
	}
	/* ...the second runs only once the first returned; one for KVM_SIGNAL_MSI. */
	eventfd_write1(irqfd);
	sig.vm = v->vm;
	TEST_ASSERT(!pthread_create(&sig_th, NULL, uf_signal_thread, &sig), "pthread_create");
	while (viommu_now_ns() < deadline) {
		uf_count_faults(v->dev, &irqfd_faults, &signal_faults);
		signal_back = __atomic_load_n(&sig.done, __ATOMIC_SEQ_CST);
		if (signal_back && irqfd_faults >= 2)
			break;
		usleep(1000);
	}
	waited_ms = vmm_ms_since(t0);
	irqfd_in_time = irqfd_faults;
	signal_faults_in_time = signal_faults;
	vmm_report("event_read_userfaultfd",
		   "read(event fd) blocked on a userfaultfd page; in %llu ms: irqfd worker faults %d of 2, KVM_SIGNAL_MSI (fault) %s, its record %s",
		   (unsigned long long)waited_ms, irqfd_faults,
		   signal_back ? "returned" : "still blocked",
		   signal_faults ? "written" : "missing");

	/* Let everything go, then check what the read() returned. */
	uf_resolve(uffd, pop.page);
	TEST_ASSERT(viommu_join_within(pop_th, 10 * NSEC_PER_SEC),
		    "read(event fd) still blocked 10 s after its page fault was resolved");
	TEST_ASSERT(viommu_join_within(sig_th, 10 * NSEC_PER_SEC),
		    "KVM_SIGNAL_MSI still blocked 10 s after read(event fd) returned");
	deadline = viommu_now_ns() + UF_WAIT_NS;
	while (irqfd_faults < 2 && viommu_now_ns() < deadline) {
		uf_count_faults(v->dev, &irqfd_faults, &signal_faults);
		usleep(1000);
	}
	e = pop.page;
	popped_ok = pop.r == sizeof(*e) && e->type == KVM_VIOMMU_EVENT_CONTEXT && e->seq == 1;
	vmm_report("event_read_userfaultfd",
		   "once resolved: read(event fd) %d (%s), type 0x%x seq %llu; irqfd worker faults %d of 2",
		   pop.r, viommu_err_str(pop.r), e->type, (unsigned long long)e->seq,
		   irqfd_faults);

	TEST_ASSERT(signal_back && irqfd_in_time >= 2 && signal_faults_in_time,
		    "while a VMM's read(event fd) waited on its own page fault, interrupt remapping faults could not be handled:\n"
		    "  after %llu ms, KVM_SIGNAL_MSI %s, the irqfd worker recorded %d of 2 faults",
		    (unsigned long long)waited_ms,
		    signal_back ? "returned" : "had not returned", irqfd_in_time);
	TEST_ASSERT(sig.r == 0, "KVM_SIGNAL_MSI of a not-present IRTE: %d, expected 0", sig.r);
	TEST_ASSERT(popped_ok,
		    "read(event fd): %d (%s), event type 0x%x seq %llu, expected one CONTEXT record, seq 1",
		    pop.r, viommu_err_str(pop.r), e->type, (unsigned long long)e->seq);
	TEST_ASSERT(irqfd_faults == 2, "irqfd worker: %d faults recorded, expected 2",
		    irqfd_faults);
	close(pop.rfd);
	close(uffd);
	vtd_vm_destroy(v);
}

/* ---- ring_read_readonly ----------------------------------------------------------------- */

/*
 * Why: a ring that took the record or event off before it copied it out
 * would lose it when the copy fails: access_ok() passes for a read-only
 * page, the copy fails, and the VMM gets EFAULT for a record that is gone,
 * a fault the guest's driver never hears of, an invalidation the VMM never
 * carries out.
 */
#define PR_IDX			3
#define PR_SID			0x0123

/* read() of one record of @size from @rfd into @buf: its size or -errno. */
static int ring_read_into(int rfd, void *buf, size_t size)
{
	ssize_t n = read(rfd, buf, size);

	return n < 0 ? -errno : (int)n;
}

TEST_F_TIMEOUT(vmm_memory, ring_read_readonly, TEST_TIMEOUT_S)
{
	struct viommu_msi m = viommu_msi_devid(viommu_msi_remappable(PR_IDX, false, 0), PR_SID);
	struct kvm_viommu_ir_fault *ro_f, f;
	struct kvm_viommu_event *ro_e, e;
	bool fault_kept, event_kept;
	const char *why = vtd_regs_unsupported();
	int r_f, r_e, r, ffd, efd;
	struct vtd_vm *v;

	if (why)
		SKIP(return, "%s", why);
	v = event_vm();
	r = viommu_signal_msi(v->vm, &m);
	TEST_ASSERT(r == 0, "KVM_SIGNAL_MSI of a not-present IRTE: %d, expected 0", r);
	ffd = viommu_fault_fd(v->dev);
	efd = vtd_event_fd(v->dev);

	ro_f = map_page(PROT_READ);
	r_f = ring_read_into(ffd, ro_f, sizeof(*ro_f));
	fault_kept = viommu_ring_read(ffd, &f, sizeof(f)) && !f.flags &&
		     f.reason == KVM_VIOMMU_FR_IR_ENTRY_P && f.index == PR_IDX && f.sid == PR_SID;
	vmm_report("ring_read_readonly",
		   "read(fault fd) into a read-only page: %d (%s); the next read into memory: flags 0x%x reason 0x%x index %u sid 0x%x (%s)",
		   r_f, viommu_err_str(r_f), f.flags, f.reason, f.index, f.sid,
		   fault_kept ? "the same record" : "the record was lost");

	ro_e = map_page(PROT_READ);
	r_e = ring_read_into(efd, ro_e, sizeof(*ro_e));
	event_kept = viommu_ring_read(efd, &e, sizeof(e)) &&
		     e.type == KVM_VIOMMU_EVENT_CONTEXT && e.seq == 1;
	vmm_report("ring_read_readonly",
		   "read(event fd) into a read-only page: %d (%s); the next read into memory: type 0x%x seq %llu (%s)",
		   r_e, viommu_err_str(r_e), e.type, (unsigned long long)e.seq,
		   event_kept ? "the same event" : "the event was lost");

	TEST_ASSERT(r_f == -EFAULT,
		    "read(fault fd) into a read-only page: %d (%s), expected EFAULT",
		    r_f, viommu_err_str(r_f));
	TEST_ASSERT(r_e == -EFAULT,
		    "read(event fd) into a read-only page: %d (%s), expected EFAULT",
		    r_e, viommu_err_str(r_e));
	TEST_ASSERT(fault_kept && event_kept,
		    "a read() that returned EFAULT consumed what it could not copy out:%s%s",
		    fault_kept ? "" : " the fault record (IRTE 3, reason 0x22, SID 0x0123)",
		    event_kept ? "" : " the event (CONTEXT, seq 1)");
	TEST_ASSERT(!viommu_ring_readable(ffd) && !viommu_ring_readable(efd),
		    "a ring still readable after its one record was read");
	close(ffd);
	close(efd);
	munmap(ro_f, getpagesize());
	munmap(ro_e, getpagesize());
	vtd_vm_destroy(v);
}

/* ---- ring_fd_get_readonly ------------------------------------------------------------------ */

/*
 * Why: IR_FAULT_FD and EVENT_FD make a file before they copy its number
 * out.  Were it installed first, a get into a read-only page would leave
 * the VMM an fd it never learns of, holding the VM for good; a VMM that
 * loops so exhausts its fd table.
 */
#define GR_ROUNDS		64

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	TEST_ASSERT(d, "opendir(/proc/self/fd): %s", strerror(errno));
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

TEST_F_TIMEOUT(vmm_memory, ring_fd_get_readonly, TEST_TIMEOUT_S)
{
	static const struct { uint32_t group; uint64_t attr; const char *name; } rings[] = {
		{ KVM_DEV_VIOMMU_GRP_IR, KVM_DEV_VIOMMU_IR_FAULT_FD, "IR_FAULT_FD" },
		{ KVM_DEV_VIOMMU_GRP_EVENT, KVM_DEV_VIOMMU_EVENT_FD, "EVENT_FD" },
	};
	struct kvm_vm *vm;
	int dev, before, after, i, j, r, bad = 0, first = 0;
	void *ro = map_page(PROT_READ);

	vm = viommu_vm_irqchip(&dev);
	before = count_fds();
	for (i = 0; i < (int)ARRAY_SIZE(rings); i++) {
		for (j = 0; j < GR_ROUNDS; j++) {
			r = __kvm_device_attr_get(dev, rings[i].group, rings[i].attr, ro) ?
			    -errno : 0;
			if (r != -EFAULT && !bad++)
				first = r;
		}
	}
	after = count_fds();
	vmm_report("ring_fd_get_readonly",
		   "%d gets of each ring fd into a read-only page: %d not EFAULT (first %d); fds open %d before, %d after",
		   GR_ROUNDS, bad, first, before, after);
	TEST_ASSERT(!bad, "ring fd get into a read-only page: %d of %d not EFAULT, first %d (%s)",
		    bad, GR_ROUNDS * (int)ARRAY_SIZE(rings), first, viommu_err_str(first));
	TEST_ASSERT(after == before,
		    "ring fd gets that returned EFAULT left %d fds behind", after - before);
	/* And the device still hands out working ones. */
	for (i = 0; i < (int)ARRAY_SIZE(rings); i++) {
		r = viommu_ring_fd(dev, rings[i].group, rings[i].attr, true);
		TEST_ASSERT(!viommu_ring_readable(r), "%s: a new device's ring is readable",
			    rings[i].name);
		close(r);
	}
	munmap(ro, getpagesize());
	close(dev);
	kvm_vm_free(vm);
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, viommu_ir_unsupported);
}
