// SPDX-License-Identifier: GPL-2.0-only
/*
 * The I/O APIC programs' guest, I/O APIC and checks: see
 * include/viommu_ioapic.h.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/kvm_viommu.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "apic.h"
#include "viommu.h"
#include "viommu_ioapic.h"

/* ---- setup ------------------------------------------------------------------ */

uint64_t it_irta(struct itest *t, uint64_t base, uint8_t s)
{
	return base | (viommu_guest_x2apic(t->g) ? KVM_VIOMMU_IRTA_EIME : 0) | s;
}

bool it_create(struct itest *t, int nr_vcpus, unsigned int flags, uint8_t irta_s)
{
	struct kvm_viommu_ir_ioapic ioapic = {
		.flags = KVM_VIOMMU_IOAPIC_SID_VALID,
		.sid = IOAPIC_SID,
	};

	memset(t, 0, sizeof(*t));
	if (nr_vcpus > kvm_check_cap(KVM_CAP_MAX_VCPUS)) {
		snprintf(t->why, sizeof(t->why), "%d vCPUs: KVM_CAP_MAX_VCPUS is %d", nr_vcpus,
			 kvm_check_cap(KVM_CAP_MAX_VCPUS));
		return false;
	}
	if ((flags & VIOMMU_GUEST_SPLIT_IRQCHIP) && !kvm_has_cap(KVM_CAP_SPLIT_IRQCHIP)) {
		snprintf(t->why, sizeof(t->why), "KVM_CAP_SPLIT_IRQCHIP not available");
		return false;
	}

	t->g = viommu_guest_create(nr_vcpus, flags, true);
	t->dev = t->g->dev;
	t->nr = nr_vcpus;
	viommu_set_irta(t->dev, it_irta(t, VIOMMU_IRT_GPA, irta_s));
	kvm_device_attr_set(t->dev, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_IOAPIC, &ioapic);
	viommu_set_ir_status(t->dev, KVM_VIOMMU_IR_ENABLE);
	return true;
}

bool it_setup_table(struct itest *t, int nr_vcpus, unsigned int flags, uint8_t irta_s)
{
	if (!it_create(t, nr_vcpus, flags, irta_s))
		return false;
	viommu_guest_start(t->g);
	return true;
}

bool it_setup(struct itest *t, int nr_vcpus, unsigned int flags)
{
	return it_setup_table(t, nr_vcpus, flags, IRTA_SIZE_256);
}

void it_teardown(struct itest *t)
{
	viommu_guest_check_corruption(t->g);
	viommu_guest_destroy(t->g);
}

void it_irte(struct itest *t, uint32_t index, uint8_t vector, int vcpu,
	     uint64_t flags, uint16_t sid)
{
	viommu_guest_write_irte(t->g, 0, index,
				viommu_irte_lo(vector, vcpu, viommu_guest_x2apic(t->g),
					       VIOMMU_DLM_FIXED, flags),
				viommu_irte_hi(sid, 0, VIOMMU_SVT_SID));
}

/* ---- the in-kernel I/O APIC ------------------------------------------------- */

static void ioapic_get(struct kvm_vm *vm, struct kvm_irqchip *chip)
{
	memset(chip, 0, sizeof(*chip));
	chip->chip_id = KVM_IRQCHIP_IOAPIC;
	vm_ioctl(vm, KVM_GET_IRQCHIP, chip);
}

uint64_t it_ioapic_rte(struct itest *t, int pin)
{
	struct kvm_irqchip chip;

	ioapic_get(t->g->vm, &chip);
	return chip.chip.ioapic.redirtbl[pin].bits;
}

void it_ioapic_set_rte(struct itest *t, int pin, uint64_t rte)
{
	struct kvm_irqchip chip;

	ioapic_get(t->g->vm, &chip);
	chip.chip.ioapic.redirtbl[pin].bits = rte;
	vm_ioctl(t->g->vm, KVM_SET_IRQCHIP, &chip);
}

void it_pulse(struct itest *t, int pin)
{
	kvm_irq_line(t->g->vm, pin, 1);
	kvm_irq_line(t->g->vm, pin, 0);
}

/* ---- checks ------------------------------------------------------------------ */

void it_wait_count(struct itest *t, int vcpu, int vector, uint32_t n, const char *what)
{
	uint64_t deadline = viommu_now_ns() + WAIT_TIMEOUT_NS;

	while (viommu_guest_count(t->g, vcpu, vector) < n) {
		if (viommu_now_ns() > deadline) {
			viommu_guest_check_corruption(t->g);
			TEST_FAIL("%s: vCPU %d took vector 0x%x %u times, want %u",
				  what, vcpu, vector,
				  viommu_guest_count(t->g, vcpu, vector), n);
		}
		usleep(20);
	}
}

void it_assert_only(struct itest *t, int vcpu, int vector, uint32_t n, const char *what)
{
	int i;

	for (i = 0; i < t->nr; i++) {
		uint32_t want = i == vcpu ? n : 0;

		TEST_ASSERT(viommu_guest_count(t->g, i, vector) == want,
			    "%s: vCPU %d took vector 0x%x %u times, want %u",
			    what, i, vector, viommu_guest_count(t->g, i, vector),
			    want);
	}
}

void it_wait_only(struct itest *t, int vcpu, int vector, uint32_t n, const char *what)
{
	it_wait_count(t, vcpu, vector, n, what);
	usleep(QUIET_US);
	it_assert_only(t, vcpu, vector, n, what);
}

void it_assert_remote_irr(struct itest *t, int pin, bool set)
{
	uint64_t rte = it_ioapic_rte(t, pin);

	TEST_ASSERT(!!(rte & RTE_REMOTE_IRR) == set,
		    "pin %d: Remote IRR %d, want %d (RTE 0x%llx)", pin,
		    !!(rte & RTE_REMOTE_IRR), set, (unsigned long long)rte);
}

void it_assert_no_exits(struct itest *t, uint64_t exits, const char *what)
{
	TEST_ASSERT(viommu_guest_exits(t->g) == exits,
		    "%s: %llu exits to userspace", what,
		    (unsigned long long)(viommu_guest_exits(t->g) - exits));
}

void it_assert_fault(struct itest *t, uint8_t reason, uint32_t index, uint16_t sid,
		     bool has_sid)
{
	uint64_t deadline = viommu_now_ns() + WAIT_TIMEOUT_NS;
	struct kvm_viommu_ir_fault f;
	bool found;

	while (!viommu_pop_fault(t->dev, &f)) {
		TEST_ASSERT(viommu_now_ns() < deadline,
			    "no fault record (want reason 0x%x)", reason);
		usleep(20);
	}
	TEST_ASSERT(f.reason == reason && f.index == index &&
		    !(f.flags & KVM_VIOMMU_FAULT_NO_SID) == has_sid &&
		    (!has_sid || f.sid == sid),
		    "fault: reason 0x%x index %u sid 0x%x flags 0x%x, want reason 0x%x index %u sid 0x%x%s",
		    f.reason, f.index, f.sid, f.flags, reason, index, sid,
		    has_sid ? "" : " (none)");
	found = viommu_pop_fault(t->dev, &f);
	TEST_ASSERT(!found,
		    "a second fault record: reason 0x%x index %u", f.reason, f.index);
}

void it_wait_guest_u32(struct itest *t, uint32_t *p, uint32_t n, const char *what)
{
	uint64_t deadline = viommu_now_ns() + WAIT_TIMEOUT_NS;

	while (__atomic_load_n(p, __ATOMIC_SEQ_CST) < n) {
		if (viommu_now_ns() > deadline) {
			viommu_guest_check_corruption(t->g);
			TEST_FAIL("%s: %u, want %u", what, *p, n);
		}
		usleep(20);
	}
}

void it_level_storm(struct itest *t, int vcpu, int vector, uint32_t n)
{
	uint32_t seen;

	kvm_irq_line(t->g->vm, PIN_LEVEL, 1);
	it_wait_count(t, vcpu, vector, n, "level line held high");
	kvm_irq_line(t->g->vm, PIN_LEVEL, 0);
	usleep(QUIET_US);
	seen = viommu_guest_count(t->g, vcpu, vector);
	it_assert_remote_irr(t, PIN_LEVEL, false);
	usleep(QUIET_US);
	it_assert_only(t, vcpu, vector, seen, "after the line went low");
}

/* ---- the guest programs its own I/O APIC ------------------------------------- */

/*
 * vCPU 0 runs the host's commands (struct gcmd) against the I/O APIC's MMIO
 * window, as Linux's io_apic.c does: IOREGSEL, then IOWIN, under a lock and
 * with interrupts off.  IRTE DOORBELL_IDX wakes it from HLT for each.
 */
#define IOAPIC_GPA		0xfec00000ULL
#define IOAPIC_IOREGSEL		0x00
#define IOAPIC_IOWIN		0x10
#define IOAPIC_RTE_LO(pin)	(0x10 + 2 * (pin))
#define IOAPIC_RTE_HI(pin)	(0x11 + 2 * (pin))

#define DOORBELL_IDX		200
#define DOORBELL_VEC		0xee

struct gcmd {
	uint32_t seq;		/* the host's last command */
	uint32_t done;		/* the last one the guest carried out */
	uint32_t op;
	uint32_t pin;
	uint64_t rte;		/* GOP_WRITE_RTE: in; GOP_READ_RTE: out */
};

static struct gcmd gcmd;
static uint32_t gioapic_lock;
static bool gx2apic;
/* Per APIC ID: LINUX_LEVEL_VEC interrupts taken. */
static uint32_t glinux_count[VIOMMU_MAX_VCPUS];
static struct ghold ghold;

static void gioapic_lock_acquire(void)
{
	while (__atomic_exchange_n(&gioapic_lock, 1, __ATOMIC_ACQUIRE))
		asm volatile("pause" ::: "memory");
}

static void gioapic_lock_release(void)
{
	__atomic_store_n(&gioapic_lock, 0, __ATOMIC_RELEASE);
}

#define GIOAPIC_REG(off)	(*(uint32_t *)(IOAPIC_GPA + (off)))

static uint32_t gioapic_read(uint32_t reg)
{
	WRITE_ONCE(GIOAPIC_REG(IOAPIC_IOREGSEL), reg);
	return READ_ONCE(GIOAPIC_REG(IOAPIC_IOWIN));
}

static void gioapic_write(uint32_t reg, uint32_t val)
{
	WRITE_ONCE(GIOAPIC_REG(IOAPIC_IOREGSEL), reg);
	WRITE_ONCE(GIOAPIC_REG(IOAPIC_IOWIN), val);
}

static uint64_t gioapic_read_rte(uint32_t pin)
{
	uint64_t lo = gioapic_read(IOAPIC_RTE_LO(pin));

	return lo | (uint64_t)gioapic_read(IOAPIC_RTE_HI(pin)) << 32;
}

static void gioapic_write_rte(uint32_t pin, uint64_t rte)
{
	gioapic_write(IOAPIC_RTE_HI(pin), rte >> 32);
	gioapic_write(IOAPIC_RTE_LO(pin), (uint32_t)rte);
}

static void guest_ioapic_code(uint64_t idx)
{
	struct gcmd *c = &gcmd;
	uint32_t seq, pin, lo;

	if (idx)
		return;
	for (;;) {
		asm volatile("cli" ::: "memory");
		seq = READ_ONCE(c->seq);
		if (seq == READ_ONCE(c->done)) {
			/* The doorbell, if it came meanwhile, ends the HLT. */
			asm volatile("sti; hlt" ::: "memory");
			continue;
		}
		pin = READ_ONCE(c->pin);
		gioapic_lock_acquire();
		switch (READ_ONCE(c->op)) {
		case GOP_WRITE_RTE:
			gioapic_write_rte(pin, READ_ONCE(c->rte));
			break;
		case GOP_READ_RTE:
			WRITE_ONCE(c->rte, gioapic_read_rte(pin));
			break;
		case GOP_MASK:
		case GOP_UNMASK:
			lo = gioapic_read(IOAPIC_RTE_LO(pin));
			if (READ_ONCE(c->op) == GOP_MASK)
				lo |= RTE_MASKED;
			else
				lo &= ~RTE_MASKED;
			gioapic_write(IOAPIC_RTE_LO(pin), lo);
			break;
		default:
			GUEST_ASSERT_2(0, seq, READ_ONCE(c->op));
		}
		gioapic_lock_release();
		WRITE_ONCE(c->done, seq);
		asm volatile("sti" ::: "memory");
	}
}

/*
 * Linux's level-triggered interrupt with remapping (ioapic_ir_ack_level()):
 * the local APIC EOI, then, the IRTE being edge, the I/O APIC's own EOI by
 * pin: without an EOI register (KVM's is version 0x11), __eoi_ioapic_pin()
 * rewrites the RTE masked and edge, then as it was.
 */
static void guest_linux_level_handler(struct ex_regs *regs)
{
	uint32_t id = gx2apic ? x2apic_read_reg(APIC_ID) : xapic_read_reg(APIC_ID) >> 24;
	uint64_t rte;

	GUEST_ASSERT_2(id < VIOMMU_MAX_VCPUS, id, regs->vector);
	WRITE_ONCE(glinux_count[id], READ_ONCE(glinux_count[id]) + 1);
	if (gx2apic)
		x2apic_write_reg(APIC_EOI, 0);
	else
		xapic_write_reg(APIC_EOI, 0);

	gioapic_lock_acquire();
	rte = gioapic_read_rte(PIN_LEVEL);
	gioapic_write_rte(PIN_LEVEL, (rte | RTE_MASKED) & ~RTE_LEVEL);
	gioapic_write_rte(PIN_LEVEL, rte);
	gioapic_lock_release();
}

static void guest_hold_handler(struct ex_regs *regs)
{
	uint32_t id = gx2apic ? x2apic_read_reg(APIC_ID) : xapic_read_reg(APIC_ID) >> 24;
	uint32_t n;

	GUEST_ASSERT_2(id < VIOMMU_MAX_VCPUS, id, regs->vector);
	n = READ_ONCE(ghold.count[id]) + 1;
	WRITE_ONCE(ghold.count[id], n);
	while (READ_ONCE(ghold.release[id]) < n)
		asm volatile("pause" ::: "memory");
	if (gx2apic)
		x2apic_write_reg(APIC_EOI, 0);
	else
		xapic_write_reg(APIC_EOI, 0);
	WRITE_ONCE(ghold.eoi[id], n);
}

bool it_setup_guest(struct itest *t, int nr_vcpus, unsigned int flags, uint8_t irta_s)
{
	struct kvm_vm *vm;

	if (!it_create(t, nr_vcpus, flags, irta_s))
		return false;
	vm = t->g->vm;
	virt_pg_map(vm, IOAPIC_GPA, IOAPIC_GPA);
	gx2apic = viommu_guest_x2apic(t->g);
	sync_global_to_guest(vm, gx2apic);
	vm_install_exception_handler(vm, LINUX_LEVEL_VEC, guest_linux_level_handler);
	vm_install_exception_handler(vm, HOLD_VEC, guest_hold_handler);
	viommu_guest_set_code(t->g, guest_ioapic_code);
	viommu_guest_write_irte(t->g, 0, DOORBELL_IDX,
				viommu_irte_lo(DOORBELL_VEC, 0, gx2apic,
					       VIOMMU_DLM_FIXED, 0), 0);
	t->cmd = addr_gva2hva(vm, (vm_vaddr_t)&gcmd);
	t->linux_count = addr_gva2hva(vm, (vm_vaddr_t)glinux_count);
	t->hold = addr_gva2hva(vm, (vm_vaddr_t)&ghold);
	viommu_guest_start(t->g);
	return true;
}

uint64_t it_guest_cmd(struct itest *t, enum gop op, int pin, uint64_t rte)
{
	struct viommu_msi db = viommu_msi_remappable(DOORBELL_IDX, false, 0);
	uint64_t deadline = viommu_now_ns() + WAIT_TIMEOUT_NS;
	struct gcmd *c = t->cmd;
	uint32_t seq = c->seq + 1;
	int r;

	c->op = op;
	c->pin = pin;
	c->rte = rte;
	__atomic_store_n(&c->seq, seq, __ATOMIC_SEQ_CST);
	r = viommu_signal_msi(t->g->vm, &db);
	TEST_ASSERT(r == 1, "doorbell MSI to vCPU 0: %d (%s)", r, viommu_err_str(r));
	while (__atomic_load_n(&c->done, __ATOMIC_SEQ_CST) != seq) {
		if (viommu_now_ns() > deadline) {
			viommu_guest_check_corruption(t->g);
			TEST_FAIL("guest I/O APIC command %d on pin %d not done", op, pin);
		}
		usleep(20);
	}
	return __atomic_load_n(&c->rte, __ATOMIC_SEQ_CST);
}
