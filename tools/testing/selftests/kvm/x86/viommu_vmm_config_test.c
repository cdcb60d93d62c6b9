// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_vmm_config_test: what a hostile or careless VMM can do to the host
 * through how it creates and configures the KVM_DEV_TYPE_INTEL_VIOMMU device
 * (include/uapi/linux/kvm_viommu.h): a creation that fails late, tables and
 * queues based at the top of the guest-physical address space, register
 * state restored against the capabilities it configured.
 *
 * The VMM is not trusted by the host kernel: whatever values it hands the
 * device, the kernel must neither use freed memory, nor read the guest's
 * memory at addresses the configuration does not name, nor let the guest
 * hold state it could not have made itself.  Each test plays such a VMM
 * and asserts what the guest and the device must still see.  A kernel
 * splat fails the whole run in the test host (tools/testing/vmtest).  The
 * program skips without the device's interrupt remapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include <linux/kvm_viommu.h>

#include "test_util.h"
#include "kselftest.h"
#include "kvm_util.h"
#include "processor.h"
#include "viommu.h"
#include "viommu_regs.h"
#include "viommu_vmm.h"
#include "viommu_test.h"

#define TEST_TIMEOUT_S		100

FIXTURE(vmm_config) {};
FIXTURE_SETUP(vmm_config) {}
FIXTURE_TEARDOWN(vmm_config) {}

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
		r = vmm_signal_index(t->g->vm, CE_IDX);
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
	int r = vmm_signal_index(g->vm, index);

	TEST_ASSERT(r >= 1, "%s: KVM_SIGNAL_MSI of IRTE %u: %d (%s), expected delivery", what,
		    index, r, viommu_err_str(r));
	TEST_ASSERT(wait_vector(g, vector, before, 5 * NSEC_PER_SEC),
		    "%s: vector 0x%x did not arrive", what, vector);
}

TEST_F_TIMEOUT(vmm_config, create_device_enfile, TEST_TIMEOUT_S)
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
	vmm_ir_on(g1->dev);
	viommu_guest_write_irte(g1, 0, CE_IDX, vmm_irte_lo(CE_VEC), 0);
	viommu_guest_write_irte(g1, 0, CE_PIN_IDX, vmm_irte_lo(CE_PIN_VEC), 0);
	vmm_route_index(g1, CE_GSI, CE_IDX);
	ioapic_set_rte(g1->vm, CE_PIN, rte_remappable(CE_PIN_IDX, CE_PIN_VEC));
	ce_expect_delivery(g1, CE_IDX, CE_VEC, "VM1 before");
	/* VM2: no device yet; remappable-format MSIs on a route and KVM_SIGNAL_MSI. */
	vmm_route_index(g2, CE_GSI, CE_IDX);

	t1.g = g1;
	t2.g = g2;
	ce_start(&t1, &th1);
	ce_start(&t2, &th2);

	nfill = ce_exhaust_fds(&saved, fillers, g2->vm->fd);
	t0 = viommu_now_ns();
	end = t0 + CE_SECONDS * NSEC_PER_SEC;
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
	vmm_report("create_device_enfile",
		   "%d KVM_CREATE_DEVICE in %llu ms with no fd free: %d EMFILE, %d other (first %d); meanwhile VM1 %llu traffic rounds (%llu errors), VM2 %llu (%llu errors)",
		   tries, (unsigned long long)vmm_ms_since(t0), emfile, other, first_other,
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
	viommu_guest_write_irte(g2, 0, CE_IDX, vmm_irte_lo(CE_VEC + 0x10), 0);
	vmm_ir_on(dev2);
	ce_expect_delivery(g2, CE_IDX, CE_VEC + 0x10, "VM2 with its device");
	found = viommu_pop_fault(dev2, &f);
	TEST_ASSERT(!found, "VM2: fault record reason 0x%x index %u",
		    f.reason, f.index);

	viommu_guest_check_corruption(g1);
	viommu_guest_check_corruption(g2);
	viommu_guest_destroy(g2);
	viommu_guest_destroy(g1);
}

/* ---- irt_wrap ------------------------------------------------------------------------ */

/*
 * Why: an IRT whose base lies near 2^64 put an entry's address past the
 * top, and the read wrapped around to the guest's low memory, translating
 * whatever lay there.  Such an entry is not in guest memory: fault 0x23.
 */
#define IW_BASE			0xfffffffffffff000ULL
#define IW_IDX			0x8000	/* 0x7f000 once wrapped */
#define IW_SID			0x0123

TEST_F_TIMEOUT(vmm_config, irt_wrap, TEST_TIMEOUT_S)
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
	vmm_report("irt_wrap", "IRT at 0x%llx, IRTE 0x%x: KVM_SIGNAL_MSI %d, fault 0x%x index 0x%x",
		   IW_BASE, IW_IDX, r, f.reason, f.index);
	TEST_ASSERT(r == 0 && f.reason == KVM_VIOMMU_FR_IR_ROOT_INVAL && f.index == IW_IDX,
		    "an IRTE past 2^64 was read from wrapped-around guest memory: KVM_SIGNAL_MSI %d, fault 0x%x, expected 0x23",
		    r, f.reason);
	viommu_guest_destroy(g);
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

TEST_F_TIMEOUT(vmm_config, iq_wrap, TEST_TIMEOUT_S)
{
	struct vtd_desc planted = vtd_desc_wait(QI_IWD_SW, IQW_DATA, VTD_STATUS_GPA);
	struct kvm_viommu_regs_state st;
	uint32_t *status, written;
	uint8_t saved[16];
	struct vtd_vm *v;
	const char *why = vtd_regs_unsupported();
	void *low;

	if (why)
		SKIP(return, "%s", why);
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
	vmm_report("iq_wrap", "IQA 0x%llx, IQH at entry %d: FSTS 0x%x, IQH 0x%llx, status 0x%x",
		   IQW_IQA, IQW_ENTRY, st.fsts, (unsigned long long)st.iqh, written);
	TEST_ASSERT((st.fsts & DMA_FSTS_IQE) && st.iqh == (uint64_t)IQW_ENTRY << 4 && !written,
		    "a queue entry past 2^64 was fetched from wrapped-around guest memory: FSTS 0x%x, IQH 0x%llx, status 0x%x",
		    st.fsts, (unsigned long long)st.iqh, written);
	memcpy(low, saved, sizeof(saved));
	vtd_vm_destroy(v);
}

/* ---- regs_state_eim ------------------------------------------------------------------- */

/*
 * Why: FEUADDR and IEUADDR exist only with extended interrupt mode; a
 * restore must not give a guest without EIM an upper address dword it
 * could never have written.
 */
TEST_F_TIMEOUT(vmm_config, regs_state_eim, TEST_TIMEOUT_S)
{
	const char *why = vtd_regs_unsupported();
	struct kvm_viommu_regs_state st;
	struct vtd_vm *v;
	int r_fe, r_ie, r_ok;

	if (why)
		SKIP(return, "%s", why);
	v = vtd_vm_create_caps(vmm_event_guest, VTD_VM_DEV | VTD_VM_REGS, VTD_DEFAULT_CAP,
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
	vmm_report("regs_state_eim",
		   "without ECAP.EIM: FEUADDR 1 -> %d, IEUADDR 1 -> %d, both 0 -> %d",
		   r_fe, r_ie, r_ok);
	TEST_ASSERT(r_fe == -EINVAL && r_ie == -EINVAL && r_ok == 0,
		    "REGS_STATE without EIM: FEUADDR %d, IEUADDR %d (expected EINVAL), none %d",
		    r_fe, r_ie, r_ok);
	vtd_vm_destroy(v);
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, viommu_ir_unsupported);
}
