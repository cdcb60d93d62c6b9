// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_vmm_safety_test: what a hostile or careless VMM can do to the host
 * through the KVM_DEV_TYPE_INTEL_VIOMMU device (include/uapi/linux/kvm_viommu.h).
 *
 * The VMM is not trusted by the host kernel: whatever it does with its own
 * memory, file descriptors, address space and device attributes, the
 * kernel must neither read the wrong memory for the guest, nor use freed
 * memory, nor leave its own workers blocked for as long as the VMM likes,
 * nor lose state it hands out.  Each case plays such a VMM and asserts
 * what the guest and the device must still see.
 *
 * Every case runs in a child process of its own, so that a failed assertion
 * (TEST_ASSERT exits) or a hang (alarm) costs one TAP result, not the rest.
 * A kernel splat fails the whole run in the test host (tools/testing/vmtest).
 * The whole program skips without the device's interrupt remapping.
 */
#define _GNU_SOURCE /* sched_setaffinity, pthread_timedjoin_np */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
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

#define CASE_TIMEOUT_S		100
#define NS_PER_MS		1000000ULL
#define NS_PER_S		1000000000ULL

/* A 256-entry table at VIOMMU_IRT_GPA; x2APIC guests (EIME). */
#define IRTA			(VIOMMU_IRT_GPA | KVM_VIOMMU_IRTA_EIME | 7)

/* One "# @name: ..." line of what a case measured. */
static void __printf(2, 3) report(const char *name, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ksft_print_msg("%s: %s\n", name, buf);
}

static void ir_on(int dev)
{
	viommu_set_irta(dev, IRTA);
	viommu_set_ir_status(dev, KVM_VIOMMU_IR_ENABLE);
}

static uint64_t irte_lo(uint8_t vector)
{
	return viommu_irte_lo(vector, 0, true, VIOMMU_DLM_FIXED, 0);
}

static int signal_index(struct kvm_vm *vm, uint16_t index)
{
	struct viommu_msi m = viommu_msi_remappable(index, false, 0);

	return viommu_signal_msi(vm, &m);
}

static void route_index(struct viommu_guest *g, uint32_t gsi, uint16_t index)
{
	struct viommu_msi m = viommu_msi_remappable(index, false, 0);

	viommu_route_msi(g, gsi, &m);
	viommu_commit_routes(g);
	viommu_irqfd(g, gsi);
}

static void eventfd_write1(int efd)
{
	uint64_t one = 1;

	TEST_ASSERT(write(efd, &one, sizeof(one)) == sizeof(one), "write(eventfd): %s",
		    strerror(errno));
}

static uint64_t ms_since(uint64_t t0)
{
	return (viommu_now_ns() - t0) / NS_PER_MS;
}

/* Waits until vector @vector on vCPU 0 has moved past @before; false on timeout. */
static bool wait_vector(struct viommu_guest *g, int vector, uint32_t before,
			uint64_t timeout_ns)
{
	uint64_t deadline = viommu_now_ns() + timeout_ns;

	while (viommu_guest_count(g, 0, vector) == before) {
		if (viommu_now_ns() > deadline)
			return false;
		usleep(50);
	}
	return true;
}

/* The event guest: one register-based context invalidation for the VMM. */
static void event_guest(uint64_t idx)
{
	struct vtd_iommu me = { .reg = VTD_BASE };

	vtd_writeq(&me, DMAR_CCMD_REG, DMA_CCMD_ICC | DMA_CCMD_CIRG(VTD_G_GLOBAL));
	GUEST_SYNC(1);
	for (;;)
		asm volatile("hlt" ::: "memory");
}

/*
 * A one-vCPU guest with the register page and one event (seq 1, type
 * CONTEXT) waiting in the ring, and interrupt remapping on.
 */
static struct vtd_vm *event_vm(void)
{
	const char *why = vtd_regs_unsupported();
	struct vtd_vm *v;
	uint64_t stage;

	if (why)
		viommu_case_skip("%s", why);
	v = vtd_vm_create(event_guest, VTD_VM_DEV | VTD_VM_REGS);
	/*
	 * The register page is the kernel's: IR on as the guest's GSTS would
	 * say, before the event (a REGS_STATE set acknowledges every event).
	 */
	vtd_ir_state_set(v->dev, IRTA, KVM_VIOMMU_IR_ENABLE);
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
		e->lo = irte_lo(WM_FOREIGN_VEC);
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
	deadline = viommu_now_ns() + 5 * NS_PER_S;
	do {
		viommu_get_stats(g->dev, &s);
		if (s.misses != s0.misses || s.faults != s0.faults)
			break;
		usleep(100);
	} while (viommu_now_ns() < deadline);
	/* ...then sent the interrupt, or wrote the record. */
	deadline = viommu_now_ns() + 2 * NS_PER_S;
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

static void test_worker_mm(void)
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

	ir_on(g->dev);
	viommu_guest_write_irte(g, 0, WM_IDX, irte_lo(WM_OWN_VEC), 0);
	route_index(g, WM_GSI, WM_IDX);
	irqfd = viommu_irqfd(g, WM_GSI);

	for (v = 0; v < NR_WM; v++) {
		for (i = 0; i < WM_ROUNDS; i++)
			wm_round(g, v, irqfd, &res[v]);
		report("worker_mm",
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

/* ---- create_device_enfile ------------------------------------------------------------ */

/*
 * Why: KVM_CREATE_DEVICE runs .create, and only then installs the fd; when
 * that fails (EMFILE), .destroy frees the device.  .create has published
 * the viommu in the global lookup table by then, and the interrupt paths
 * use what they looked up after rcu_read_unlock(): a use after free for
 * any MSI of that VM in the window, while other VMs go on using the table.
 */
#define CE_SECONDS		5
#define CE_MAX_TRIES		5000
#define CE_GSI			41
#define CE_IDX			5
#define CE_VEC			0x45
#define CE_PIN_IDX		6
#define CE_PIN_VEC		0x46
#define CE_PIN			17
#define CE_MAX_FILLERS		4096

#define RTE_REMAPPABLE		BIT_ULL(48)

struct ce_traffic {
	struct viommu_guest *g;
	bool ioapic;		/* pulse a remappable I/O APIC pin, rewrite its RTE */
	bool stop;
	uint64_t rounds;
	uint64_t errors;
	int first_error;
};

static uint64_t rte_remappable(uint16_t index, uint8_t vector)
{
	return RTE_REMAPPABLE | vector | ((uint64_t)(index & 0x7fff) << 49) |
	       (index & 0x8000 ? BIT_ULL(11) : 0);
}

static void ioapic_set_rte(struct kvm_vm *vm, int pin, uint64_t rte)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };

	vm_ioctl(vm, KVM_GET_IRQCHIP, &chip);
	chip.chip.ioapic.redirtbl[pin].bits = rte;
	vm_ioctl(vm, KVM_SET_IRQCHIP, &chip);
}

static void *ce_traffic_thread(void *data)
{
	struct ce_traffic *t = data;
	uint64_t one = 1;
	int r;

	while (!__atomic_load_n(&t->stop, __ATOMIC_SEQ_CST)) {
		r = signal_index(t->g->vm, CE_IDX);
		if (r < 0 && !t->errors++)
			t->first_error = r;
		if (write(t->g->irqfd[CE_GSI], &one, sizeof(one)) != sizeof(one) && !t->errors++)
			t->first_error = -errno;
		if (t->ioapic) {
			kvm_irq_line(t->g->vm, CE_PIN, 1);
			kvm_irq_line(t->g->vm, CE_PIN, 0);
			if (!(t->rounds % 16))
				ioapic_set_rte(t->g->vm, CE_PIN,
					       rte_remappable(CE_PIN_IDX, CE_PIN_VEC));
		}
		t->rounds++;
	}
	return NULL;
}

static void ce_start(struct ce_traffic *t, pthread_t *th)
{
	int r = pthread_create(th, NULL, ce_traffic_thread, t);

	TEST_ASSERT(!r, "pthread_create: %s", strerror(r));
}

static void ce_stop(struct ce_traffic *t, pthread_t th)
{
	__atomic_store_n(&t->stop, true, __ATOMIC_SEQ_CST);
	TEST_ASSERT(!pthread_join(th, NULL), "pthread_join");
}

/*
 * Lowers RLIMIT_NOFILE to just above the highest open fd and fills every
 * free fd below it with copies of @any_fd; returns how many.
 */
static int ce_exhaust_fds(struct rlimit *saved, int *fillers, int any_fd)
{
	struct rlimit rl;
	int fd, n = 0, top = 0;

	TEST_ASSERT(!getrlimit(RLIMIT_NOFILE, saved), "getrlimit: %s", strerror(errno));
	for (fd = 0; fd < CE_MAX_FILLERS; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			top = fd + 1;
	rl = *saved;
	rl.rlim_cur = top;
	TEST_ASSERT(!setrlimit(RLIMIT_NOFILE, &rl), "setrlimit(RLIMIT_NOFILE, %d): %s", top,
		    strerror(errno));
	for (;;) {
		fd = dup(any_fd);
		if (fd < 0)
			break;
		TEST_ASSERT(n < CE_MAX_FILLERS, "too many free fds below %d", top);
		fillers[n++] = fd;
	}
	TEST_ASSERT(errno == EMFILE, "dup: %s, expected EMFILE", strerror(errno));
	return n;
}

static void ce_restore_fds(const struct rlimit *saved, int *fillers, int n)
{
	while (n--)
		close(fillers[n]);
	TEST_ASSERT(!setrlimit(RLIMIT_NOFILE, saved), "setrlimit: %s", strerror(errno));
}

static void ce_expect_delivery(struct viommu_guest *g, uint16_t index, int vector,
			       const char *what)
{
	uint32_t before = viommu_guest_count(g, 0, vector);
	int r = signal_index(g->vm, index);

	TEST_ASSERT(r >= 1, "%s: KVM_SIGNAL_MSI of IRTE %u: %d (%s), expected delivery", what,
		    index, r, viommu_err_str(r));
	TEST_ASSERT(wait_vector(g, vector, before, 5 * NS_PER_S),
		    "%s: vector 0x%x did not arrive", what, vector);
}

static void test_create_device_enfile(void)
{
	struct ce_traffic t1 = { .ioapic = true }, t2 = { 0 };
	int *fillers = calloc(CE_MAX_FILLERS, sizeof(int));
	struct viommu_guest *g1, *g2;
	int tries = 0, emfile = 0, other = 0, first_other = 0, nfill, dev2;
	struct kvm_viommu_ir_fault f;
	pthread_t th1, th2;
	struct rlimit saved;
	uint64_t t0, end;
	bool found;

	TEST_ASSERT(fillers, "out of memory");
	g1 = viommu_guest_create(1, VIOMMU_GUEST_X2APIC, true);
	g2 = viommu_guest_create(1, VIOMMU_GUEST_X2APIC, false);
	viommu_guest_start(g1);
	viommu_guest_start(g2);

	/* VM1: IR on, an MSI route with its irqfd and a remappable pin. */
	ir_on(g1->dev);
	viommu_guest_write_irte(g1, 0, CE_IDX, irte_lo(CE_VEC), 0);
	viommu_guest_write_irte(g1, 0, CE_PIN_IDX, irte_lo(CE_PIN_VEC), 0);
	route_index(g1, CE_GSI, CE_IDX);
	ioapic_set_rte(g1->vm, CE_PIN, rte_remappable(CE_PIN_IDX, CE_PIN_VEC));
	ce_expect_delivery(g1, CE_IDX, CE_VEC, "VM1 before");
	/* VM2: no device yet; remappable-format MSIs on a route and KVM_SIGNAL_MSI. */
	route_index(g2, CE_GSI, CE_IDX);

	t1.g = g1;
	t2.g = g2;
	ce_start(&t1, &th1);
	ce_start(&t2, &th2);

	nfill = ce_exhaust_fds(&saved, fillers, g2->vm->fd);
	t0 = viommu_now_ns();
	end = t0 + CE_SECONDS * NS_PER_S;
	while (viommu_now_ns() < end && tries < CE_MAX_TRIES) {
		int r = viommu_create(g2->vm, 0);

		tries++;
		if (r == -EMFILE) {
			emfile++;
			continue;
		}
		if (r >= 0)
			close(r);
		if (!other++)
			first_other = r;
	}
	ce_restore_fds(&saved, fillers, nfill);
	free(fillers);

	ce_stop(&t1, th1);
	ce_stop(&t2, th2);
	report("create_device_enfile",
	       "%d KVM_CREATE_DEVICE in %llu ms with no fd free: %d EMFILE, %d other (first %d); meanwhile VM1 %llu traffic rounds (%llu errors), VM2 %llu (%llu errors)",
	       tries, (unsigned long long)ms_since(t0), emfile, other, first_other,
	       (unsigned long long)t1.rounds, (unsigned long long)t1.errors,
	       (unsigned long long)t2.rounds, (unsigned long long)t2.errors);
	TEST_ASSERT(!other,
		    "KVM_CREATE_DEVICE without a free fd: %d of %d calls returned something else than EMFILE, first %d (%s)",
		    other, tries, first_other, viommu_err_str(first_other));
	TEST_ASSERT(!t1.errors, "VM1: %llu MSIs failed during the loop, first %d (%s)",
		    (unsigned long long)t1.errors, t1.first_error,
		    viommu_err_str(t1.first_error));
	TEST_ASSERT(!t2.errors, "VM2: %llu MSIs failed during the loop, first %d (%s)",
		    (unsigned long long)t2.errors, t2.first_error,
		    viommu_err_str(t2.first_error));

	/* VM1 delivers as before, and recorded no fault. */
	ce_expect_delivery(g1, CE_IDX, CE_VEC, "VM1 after");
	found = viommu_pop_fault(g1->dev, &f);
	TEST_ASSERT(!found,
		    "VM1: fault record reason 0x%x index %u after the loop", f.reason, f.index);

	/* VM2 gets its device now, and it remaps. */
	dev2 = viommu_create(g2->vm, 0);
	TEST_ASSERT(dev2 >= 0, "VM2: KVM_CREATE_DEVICE with fds free again: %d (%s)", dev2,
		    viommu_err_str(dev2));
	g2->dev = dev2;
	viommu_guest_write_irte(g2, 0, CE_IDX, irte_lo(CE_VEC + 0x10), 0);
	ir_on(dev2);
	ce_expect_delivery(g2, CE_IDX, CE_VEC + 0x10, "VM2 with its device");
	found = viommu_pop_fault(dev2, &f);
	TEST_ASSERT(!found, "VM2: fault record reason 0x%x index %u",
		    f.reason, f.index);

	viommu_guest_check_corruption(g1);
	viommu_guest_check_corruption(g2);
	viommu_guest_destroy(g2);
	viommu_guest_destroy(g1);
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
#define UF_WAIT_NS		(5 * NS_PER_S)

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

	s->r = signal_index(s->vm, UF_SIGNAL_IDX);
	__atomic_store_n(&s->done, true, __ATOMIC_SEQ_CST);
	return NULL;
}

static int uf_open(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (uffd < 0)
		viommu_case_skip("userfaultfd: %s", strerror(errno));
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

	r = poll(&pfd, 1, timeout_ns / NS_PER_MS);
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

static void test_event_read_userfaultfd(void)
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

	uffd = uf_open();
	v = event_vm();
	route_index(v->g, UF_GSI, UF_IRQFD_IDX);
	irqfd = viommu_irqfd(v->g, UF_GSI);

	pop.rfd = viommu_ring_fd(v->dev, KVM_DEV_VIOMMU_GRP_EVENT, KVM_DEV_VIOMMU_EVENT_FD,
				 false);
	pop.page = map_page(PROT_READ | PROT_WRITE);
	uf_register(uffd, pop.page);
	TEST_ASSERT(!pthread_create(&pop_th, NULL, uf_pop_thread, &pop), "pthread_create");
	TEST_ASSERT(uf_wait_fault(uffd, pop.page, 10 * NS_PER_S),
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
	waited_ms = ms_since(t0);
	irqfd_in_time = irqfd_faults;
	signal_faults_in_time = signal_faults;
	report("event_read_userfaultfd",
	       "read(event fd) blocked on a userfaultfd page; in %llu ms: irqfd worker faults %d of 2, KVM_SIGNAL_MSI (fault) %s, its record %s",
	       (unsigned long long)waited_ms, irqfd_faults,
	       signal_back ? "returned" : "still blocked",
	       signal_faults ? "written" : "missing");

	/* Let everything go, then check what the read() returned. */
	uf_resolve(uffd, pop.page);
	TEST_ASSERT(viommu_join_within(pop_th, 10 * NS_PER_S),
		    "read(event fd) still blocked 10 s after its page fault was resolved");
	TEST_ASSERT(viommu_join_within(sig_th, 10 * NS_PER_S),
		    "KVM_SIGNAL_MSI still blocked 10 s after read(event fd) returned");
	deadline = viommu_now_ns() + UF_WAIT_NS;
	while (irqfd_faults < 2 && viommu_now_ns() < deadline) {
		uf_count_faults(v->dev, &irqfd_faults, &signal_faults);
		usleep(1000);
	}
	e = pop.page;
	popped_ok = pop.r == sizeof(*e) && e->type == KVM_VIOMMU_EVENT_CONTEXT && e->seq == 1;
	report("event_read_userfaultfd",
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

static void test_ring_read_readonly(void)
{
	struct viommu_msi m = viommu_msi_devid(viommu_msi_remappable(PR_IDX, false, 0), PR_SID);
	struct kvm_viommu_ir_fault *ro_f, f;
	struct kvm_viommu_event *ro_e, e;
	bool fault_kept, event_kept;
	int r_f, r_e, r, ffd, efd;
	struct vtd_vm *v;

	v = event_vm();
	r = viommu_signal_msi(v->vm, &m);
	TEST_ASSERT(r == 0, "KVM_SIGNAL_MSI of a not-present IRTE: %d, expected 0", r);
	ffd = viommu_fault_fd(v->dev);
	efd = vtd_event_fd(v->dev);

	ro_f = map_page(PROT_READ);
	r_f = ring_read_into(ffd, ro_f, sizeof(*ro_f));
	fault_kept = viommu_ring_read(ffd, &f, sizeof(f)) && !f.flags &&
		     f.reason == KVM_VIOMMU_FR_IR_ENTRY_P && f.index == PR_IDX && f.sid == PR_SID;
	report("ring_read_readonly",
	       "read(fault fd) into a read-only page: %d (%s); the next read into memory: flags 0x%x reason 0x%x index %u sid 0x%x (%s)",
	       r_f, viommu_err_str(r_f), f.flags, f.reason, f.index, f.sid,
	       fault_kept ? "the same record" : "the record was lost");

	ro_e = map_page(PROT_READ);
	r_e = ring_read_into(efd, ro_e, sizeof(*ro_e));
	event_kept = viommu_ring_read(efd, &e, sizeof(e)) &&
		     e.type == KVM_VIOMMU_EVENT_CONTEXT && e.seq == 1;
	report("ring_read_readonly",
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

static void test_ring_fd_get_readonly(void)
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
			r = __kvm_device_attr_get(dev, rings[i].group, rings[i].attr, ro) ? -errno : 0;
			if (r != -EFAULT && !bad++)
				first = r;
		}
	}
	after = count_fds();
	report("ring_fd_get_readonly",
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

/* ---- driver ----------------------------------------------------------------------------- */

/* ---- irt_wrap ------------------------------------------------------------------------ */

/*
 * Why: an IRT whose base lies near 2^64 put an entry's address past the
 * top, and the read wrapped around to the guest's low memory, translating
 * whatever lay there.  Such an entry is not in guest memory: fault 0x23.
 */
#define IW_BASE			0xfffffffffffff000ULL
#define IW_IDX			0x8000	/* 0x7f000 once wrapped */
#define IW_SID			0x0123

static void test_irt_wrap(void)
{
	struct viommu_msi m = viommu_msi_devid(viommu_msi_remappable(IW_IDX, false, 0), IW_SID);
	struct viommu_guest *g = viommu_guest_create(1, VIOMMU_GUEST_X2APIC, true);
	struct kvm_viommu_ir_fault f;
	bool found;
	int r;

	viommu_guest_start(g);
	viommu_set_irta(g->dev, IW_BASE | KVM_VIOMMU_IRTA_EIME | 15);
	viommu_set_ir_status(g->dev, KVM_VIOMMU_IR_ENABLE);
	r = viommu_signal_msi(g->vm, &m);
	found = viommu_pop_fault(g->dev, &f);
	TEST_ASSERT(found, "no fault record for IRTE 0x%x", IW_IDX);
	report("irt_wrap", "IRT at 0x%llx, IRTE 0x%x: KVM_SIGNAL_MSI %d, fault 0x%x index 0x%x",
	       IW_BASE, IW_IDX, r, f.reason, f.index);
	TEST_ASSERT(r == 0 && f.reason == KVM_VIOMMU_FR_IR_ROOT_INVAL && f.index == IW_IDX,
		    "an IRTE past 2^64 was read from wrapped-around guest memory: KVM_SIGNAL_MSI %d, fault 0x%x, expected 0x23",
		    r, f.reason);
	viommu_guest_destroy(g);
}

/* ---- regs_state_eim ------------------------------------------------------------------- */

/*
 * Why: FEUADDR and IEUADDR exist only with extended interrupt mode; a
 * restore must not give a guest without EIM an upper address dword it
 * could never have written.
 */
static void test_regs_state_eim(void)
{
	const char *why = vtd_regs_unsupported();
	struct kvm_viommu_regs_state st;
	struct vtd_vm *v;
	int r_fe, r_ie, r_ok;

	if (why)
		viommu_case_skip("%s", why);
	v = vtd_vm_create_caps(event_guest, VTD_VM_DEV | VTD_VM_REGS, VTD_DEFAULT_CAP,
			       VTD_DEFAULT_ECAP & ~ECAP_EIM);
	kvm_device_attr_get(v->dev, KVM_DEV_VIOMMU_GRP_REGS,
			    KVM_DEV_VIOMMU_REGS_STATE, &st);
	st.feuaddr = 1;
	r_fe = __kvm_device_attr_set(v->dev, KVM_DEV_VIOMMU_GRP_REGS, KVM_DEV_VIOMMU_REGS_STATE,
				     &st) ? -errno : 0;
	st.feuaddr = 0;
	st.ieuaddr = 1;
	r_ie = __kvm_device_attr_set(v->dev, KVM_DEV_VIOMMU_GRP_REGS, KVM_DEV_VIOMMU_REGS_STATE,
				     &st) ? -errno : 0;
	st.ieuaddr = 0;
	r_ok = __kvm_device_attr_set(v->dev, KVM_DEV_VIOMMU_GRP_REGS, KVM_DEV_VIOMMU_REGS_STATE,
				     &st) ? -errno : 0;
	report("regs_state_eim", "without ECAP.EIM: FEUADDR 1 -> %d, IEUADDR 1 -> %d, both 0 -> %d",
	       r_fe, r_ie, r_ok);
	TEST_ASSERT(r_fe == -EINVAL && r_ie == -EINVAL && r_ok == 0,
		    "REGS_STATE without EIM: FEUADDR %d, IEUADDR %d (expected EINVAL), none %d",
		    r_fe, r_ie, r_ok);
	vtd_vm_destroy(v);
}

/* ---- iq_wrap --------------------------------------------------------------------------- */

/*
 * Why: a queue based near 2^64 has entries past the top, and a fetch of
 * one wrapped around to the guest's low memory, running whatever lay
 * there.  Entries before the wrap are not guest memory, so only a
 * restored IQH reaches one: that fetch must raise IQE.
 */
#define IQW_IQA			(0xfffffffffffff000ULL | 1)	/* QS 1: 512 entries */
#define IQW_ENTRY		256	/* at 2^64, gpa 0 once wrapped */
#define IQW_DATA		0x5a5a

static void iqw_guest(uint64_t idx)
{
	for (;;)
		GUEST_SYNC(2);
}

static void test_iq_wrap(void)
{
	struct vtd_desc planted = vtd_desc_wait(QI_IWD_SW, IQW_DATA, VTD_STATUS_GPA);
	struct kvm_viommu_regs_state st;
	uint32_t *status, written;
	uint8_t saved[16];
	struct vtd_vm *v;
	void *low;

	vtd_skip_without_regs();
	v = vtd_vm_create(iqw_guest, VTD_VM_DEV | VTD_VM_REGS);
	/* What a wrapped fetch would find: a wait that writes the status. */
	low = addr_gpa2hva(v->vm, 0);
	memcpy(saved, low, sizeof(saved));
	memcpy(low, planted.qw, sizeof(saved));
	status = vtd_hva(v, VTD_STATUS_GPA);
	*status = 0;

	kvm_device_attr_get(v->dev, KVM_DEV_VIOMMU_GRP_REGS,
			    KVM_DEV_VIOMMU_REGS_STATE, &st);
	st.iqa = IQW_IQA;
	st.iqh = (uint64_t)IQW_ENTRY << 4;
	st.iqt = (uint64_t)(IQW_ENTRY + 1) << 4;
	st.gsts |= DMA_GSTS_QIES;
	kvm_device_attr_set(v->dev, KVM_DEV_VIOMMU_GRP_REGS,
			    KVM_DEV_VIOMMU_REGS_STATE, &st);
	/* The queue resumes on the vCPU, before it enters the guest. */
	vtd_run(v);
	vtd_run(v);
	kvm_device_attr_get(v->dev, KVM_DEV_VIOMMU_GRP_REGS,
			    KVM_DEV_VIOMMU_REGS_STATE, &st);
	written = READ_ONCE(*status);
	report("iq_wrap", "IQA 0x%llx, IQH at entry %d: FSTS 0x%x, IQH 0x%llx, status 0x%x",
	       IQW_IQA, IQW_ENTRY, st.fsts, (unsigned long long)st.iqh, written);
	TEST_ASSERT((st.fsts & DMA_FSTS_IQE) && st.iqh == (uint64_t)IQW_ENTRY << 4 && !written,
		    "a queue entry past 2^64 was fetched from wrapped-around guest memory: FSTS 0x%x, IQH 0x%llx, status 0x%x",
		    st.fsts, (unsigned long long)st.iqh, written);
	memcpy(low, saved, sizeof(saved));
	vtd_vm_destroy(v);
}

static const struct viommu_case cases[] = {
	{ "worker_mm",			test_worker_mm },
	{ "create_device_enfile",	test_create_device_enfile },
	{ "event_read_userfaultfd",	test_event_read_userfaultfd },
	{ "ring_read_readonly",		test_ring_read_readonly },
	{ "ring_fd_get_readonly",	test_ring_fd_get_readonly },
	{ "irt_wrap",			test_irt_wrap },
	{ "iq_wrap",			test_iq_wrap },
	{ "regs_state_eim",		test_regs_state_eim },
};

int main(int argc, char *argv[])
{
	viommu_ir_test_main(argc, argv, cases, ARRAY_SIZE(cases), CASE_TIMEOUT_S);
}
