// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_ioapic_test: I/O APIC interrupts remapped by the
 * KVM_DEV_TYPE_INTEL_VIOMMU device.
 *
 * Full irqchip (KVM_CREATE_IRQCHIP): the host programs the in-kernel I/O
 * APIC's redirection entries in remappable format (KVM_SET_IRQCHIP), or the
 * guest does, through IOREGSEL/IOWIN, as Linux's intel irq_remapping does;
 * the host writes the IRTEs they name into guest memory and drives the pins
 * with KVM_IRQ_LINE.  Split irqchip: the test plays the VMM's I/O APIC,
 * whose pins are remappable MSI routes carrying its requester ID.
 *
 * The guests count every interrupt per vCPU and vector and EOI it; the
 * checks assert the IRTE's vector on the IRTE's vCPUs only, Remote IRR and
 * re-delivery of level-triggered pins, retargeting through the IRTE and an
 * IEC, the fault records, and no exit to userspace per interrupt.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/kvm_viommu.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "apic.h"
#include "viommu.h"

#define CASE_TIMEOUT_S		60
#define WAIT_TIMEOUT_NS		(10ULL * 1000000000ULL)
/* How long an interrupt that must not come is given to come anyway. */
#define QUIET_US		50000

/* QEMU's q35 I/O APIC: bus 0xff, devfn 0. */
#define IOAPIC_SID		0xff00
#define OTHER_SID		0x0123

/* IRTA: 256 or 64K entries at VIOMMU_IRT_GPA (S = 7, 15). */
#define IRTA_SIZE_256		7
#define IRTA_SIZE_64K		15
/* Guest memory that no memslot covers. */
#define NO_MEMSLOT_GPA		0x20000000ULL

#define RTE_LEVEL		BIT_ULL(15)
#define RTE_MASKED		BIT_ULL(16)
#define RTE_REMOTE_IRR		BIT_ULL(14)
#define RTE_REMAPPABLE		BIT_ULL(48)

struct gcmd;
struct ghold;

struct itest {
	struct viommu_guest *g;
	int dev;
	int nr;
	/* Guest-programmed I/O APIC: host views of the guest's globals. */
	struct gcmd *cmd;
	uint32_t *linux_count;
	struct ghold *hold;
};

/* ---- setup ------------------------------------------------------------------ */

/* The IRTA of a table of 2^(@s + 1) entries at VIOMMU_IRT_GPA. */
static uint64_t it_irta(struct itest *t, uint64_t base, uint8_t s)
{
	return base | (viommu_guest_x2apic(t->g) ? KVM_VIOMMU_IRTA_EIME : 0) | s;
}

/* The guest, the device and its table, IR on; the vCPUs not started. */
static void it_create(struct itest *t, int nr_vcpus, unsigned int flags,
		      uint8_t irta_s)
{
	struct kvm_viommu_ir_ioapic ioapic = {
		.flags = KVM_VIOMMU_IOAPIC_SID_VALID,
		.sid = IOAPIC_SID,
	};

	if (nr_vcpus > kvm_check_cap(KVM_CAP_MAX_VCPUS))
		viommu_case_skip("%d vCPUs: KVM_CAP_MAX_VCPUS is %d", nr_vcpus,
				 kvm_check_cap(KVM_CAP_MAX_VCPUS));

	memset(t, 0, sizeof(*t));
	t->g = viommu_guest_create(nr_vcpus, flags, true);
	t->dev = t->g->dev;
	t->nr = nr_vcpus;
	viommu_set_irta(t->dev, it_irta(t, VIOMMU_IRT_GPA, irta_s));
	kvm_device_attr_set(t->dev, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_IOAPIC, &ioapic);
	viommu_set_ir_status(t->dev, KVM_VIOMMU_IR_ENABLE);
}

static void it_setup_table(struct itest *t, int nr_vcpus, unsigned int flags,
			   uint8_t irta_s)
{
	it_create(t, nr_vcpus, flags, irta_s);
	viommu_guest_start(t->g);
}

static void it_setup(struct itest *t, int nr_vcpus, unsigned int flags)
{
	it_setup_table(t, nr_vcpus, flags, IRTA_SIZE_256);
}

static void it_teardown(struct itest *t)
{
	viommu_guest_check_corruption(t->g);
	viommu_guest_destroy(t->g);
}

/* A fixed, physical IRTE for @vector on @vcpu, verified against @sid. */
static void it_irte(struct itest *t, uint32_t index, uint8_t vector, int vcpu,
		    uint64_t flags, uint16_t sid)
{
	viommu_guest_write_irte(t->g, 0, index,
				viommu_irte_lo(vector, vcpu, viommu_guest_x2apic(t->g),
					       VIOMMU_DLM_FIXED, flags),
				viommu_irte_hi(sid, 0, VIOMMU_SVT_SID));
}

/* ---- the in-kernel I/O APIC ------------------------------------------------- */

/* A remappable-format RTE: handle[14:0] in 63:49, handle[15] in 11. */
static uint64_t rte_remappable(uint16_t index, uint8_t vector, uint64_t flags)
{
	return RTE_REMAPPABLE | flags | vector |
	       ((uint64_t)(index & 0x7fff) << 49) |
	       (index & 0x8000 ? BIT_ULL(11) : 0);
}

static void ioapic_get(struct kvm_vm *vm, struct kvm_irqchip *chip)
{
	memset(chip, 0, sizeof(*chip));
	chip->chip_id = KVM_IRQCHIP_IOAPIC;
	vm_ioctl(vm, KVM_GET_IRQCHIP, chip);
}

static uint64_t ioapic_rte(struct itest *t, int pin)
{
	struct kvm_irqchip chip;

	ioapic_get(t->g->vm, &chip);
	return chip.chip.ioapic.redirtbl[pin].bits;
}

/*
 * Writes RTE @pin as KVM_SET_IRQCHIP does: Remote IRR included, and the
 * pins whose line is high are asserted again.
 */
static void ioapic_set_rte(struct itest *t, int pin, uint64_t rte)
{
	struct kvm_irqchip chip;

	ioapic_get(t->g->vm, &chip);
	chip.chip.ioapic.redirtbl[pin].bits = rte;
	vm_ioctl(t->g->vm, KVM_SET_IRQCHIP, &chip);
}

static void pulse(struct itest *t, int pin)
{
	kvm_irq_line(t->g->vm, pin, 1);
	kvm_irq_line(t->g->vm, pin, 0);
}

/* ---- checks ------------------------------------------------------------------ */

/* Waits until vCPU @vcpu has taken @vector at least @n times. */
static void wait_count(struct itest *t, int vcpu, int vector, uint32_t n,
		       const char *what)
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

/* Asserts that @vector arrived @n times on @vcpu and never elsewhere. */
static void assert_only(struct itest *t, int vcpu, int vector, uint32_t n,
			const char *what)
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

static void wait_only(struct itest *t, int vcpu, int vector, uint32_t n,
		      const char *what)
{
	wait_count(t, vcpu, vector, n, what);
	usleep(QUIET_US);
	assert_only(t, vcpu, vector, n, what);
}

static void assert_remote_irr(struct itest *t, int pin, bool set)
{
	uint64_t rte = ioapic_rte(t, pin);

	TEST_ASSERT(!!(rte & RTE_REMOTE_IRR) == set,
		    "pin %d: Remote IRR %d, want %d (RTE 0x%llx)", pin,
		    !!(rte & RTE_REMOTE_IRR), set, (unsigned long long)rte);
}

/* Waits for the next fault and asserts its record. */
static void assert_fault(struct itest *t, uint8_t reason, uint32_t index,
			 uint16_t sid, bool has_sid)
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

/* ---- full irqchip ------------------------------------------------------------ */

/* Above the PIC's 16 pins, which KVM_IRQ_LINE drives as well. */
#define PIN_EDGE	17
#define PIN_LEVEL	18
#define IDX_EDGE	5
#define IDX_LEVEL	6
#define NR_PULSES	200

/*
 * Edge pins: each pulse delivers the IRTE's vector once, on the IRTE's vCPU,
 * with no exit to userspace.  The first goes through the IRTE fill.
 */
static void edge_case(int nr_vcpus, unsigned int flags)
{
	struct itest t;
	int dest = nr_vcpus - 1, i;
	uint64_t exits;

	it_setup(&t, nr_vcpus, flags);
	it_irte(&t, IDX_EDGE, 0x40, dest, 0, IOAPIC_SID);
	/* The RTE vector is only for EOIs; make it differ. */
	ioapic_set_rte(&t, PIN_EDGE, rte_remappable(IDX_EDGE, 0x99, 0));

	exits = viommu_guest_exits(t.g);
	for (i = 1; i <= NR_PULSES; i++) {
		pulse(&t, PIN_EDGE);
		wait_count(&t, dest, 0x40, i, "edge pulse");
	}
	TEST_ASSERT(viommu_guest_exits(t.g) == exits,
		    "%llu exits to userspace during %d interrupts",
		    (unsigned long long)(viommu_guest_exits(t.g) - exits), NR_PULSES);
	usleep(QUIET_US);
	assert_only(&t, dest, 0x40, NR_PULSES, "edge pulses");
	assert_only(&t, dest, 0x99, 0, "the RTE's vector");
	it_teardown(&t);
}

static void test_edge_xapic_1vcpu(void)
{
	edge_case(1, 0);
}

static void test_edge_x2apic_4vcpu(void)
{
	edge_case(4, VIOMMU_GUEST_X2APIC);
}

/*
 * Raises a level pin whose RTE and IRTE agree on the vector, as VT-d asks:
 * the vCPU's EOI is broadcast, clears Remote IRR and, with the line still
 * high, brings the interrupt again.  Lowers it once it came @n times.
 */
static void level_storm(struct itest *t, int vcpu, int vector, uint32_t n)
{
	uint32_t seen;

	kvm_irq_line(t->g->vm, PIN_LEVEL, 1);
	wait_count(t, vcpu, vector, n, "level line held high");
	kvm_irq_line(t->g->vm, PIN_LEVEL, 0);
	usleep(QUIET_US);
	seen = viommu_guest_count(t->g, vcpu, vector);
	assert_remote_irr(t, PIN_LEVEL, false);
	usleep(QUIET_US);
	assert_only(t, vcpu, vector, seen, "after the line went low");
}

static void test_level_broadcast_eoi(void)
{
	struct itest t;
	uint64_t exits;

	it_setup(&t, 4, VIOMMU_GUEST_X2APIC);
	it_irte(&t, IDX_LEVEL, 0x50, 2, VIOMMU_IRTE_TM_LEVEL, IOAPIC_SID);
	ioapic_set_rte(&t, PIN_LEVEL, rte_remappable(IDX_LEVEL, 0x50, RTE_LEVEL));

	exits = viommu_guest_exits(t.g);
	level_storm(&t, 2, 0x50, 20);
	TEST_ASSERT(viommu_guest_exits(t.g) == exits,
		    "%llu exits to userspace during level re-delivery",
		    (unsigned long long)(viommu_guest_exits(t.g) - exits));
	it_teardown(&t);
}

/*
 * Linux programs the RTE vector with the pin number and an edge IRTE, and
 * ends the interrupt at the I/O APIC itself (the trigger-mode toggle): one
 * delivery, then Remote IRR holds the pin until then.
 */
static void test_level_linux_style(void)
{
	uint64_t rte = rte_remappable(IDX_LEVEL, PIN_LEVEL, RTE_LEVEL);
	struct itest t;

	it_setup(&t, 4, 0);
	it_irte(&t, IDX_LEVEL, 0x51, 1, 0, IOAPIC_SID);
	ioapic_set_rte(&t, PIN_LEVEL, rte);

	kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
	wait_only(&t, 1, 0x51, 1, "level, edge IRTE");
	assert_remote_irr(&t, PIN_LEVEL, true);

	/* The I/O APIC EOI: Remote IRR clear, the line still high. */
	ioapic_set_rte(&t, PIN_LEVEL, rte);
	wait_only(&t, 1, 0x51, 2, "after the I/O APIC EOI, line high");

	kvm_irq_line(t.g->vm, PIN_LEVEL, 0);
	ioapic_set_rte(&t, PIN_LEVEL, rte);
	usleep(QUIET_US);
	assert_only(&t, 1, 0x51, 2, "after the I/O APIC EOI, line low");
	assert_only(&t, 1, PIN_LEVEL, 0, "the RTE's vector");
	it_teardown(&t);
}

/* An IRTE changed without IEC still delivers the cached translation. */
static void test_retarget_iec(void)
{
	struct itest t;

	it_setup(&t, 4, VIOMMU_GUEST_X2APIC);
	it_irte(&t, IDX_EDGE, 0x40, 0, 0, IOAPIC_SID);
	ioapic_set_rte(&t, PIN_EDGE, rte_remappable(IDX_EDGE, 0x40, 0));
	pulse(&t, PIN_EDGE);
	wait_only(&t, 0, 0x40, 1, "edge before retarget");

	it_irte(&t, IDX_EDGE, 0x41, 3, 0, IOAPIC_SID);
	pulse(&t, PIN_EDGE);
	wait_only(&t, 0, 0x40, 2, "edge retargeted without IEC");
	viommu_iec_index(t.dev, IDX_EDGE, 0);
	pulse(&t, PIN_EDGE);
	wait_only(&t, 3, 0x41, 1, "edge retargeted with IEC");

	/*
	 * A level pin moved to another vCPU: only if the IEC made KVM redo
	 * the EOI scan does the new vCPU's EOI reach the I/O APIC, and the
	 * line held high deliver more than once.
	 */
	it_irte(&t, IDX_LEVEL, 0x50, 1, VIOMMU_IRTE_TM_LEVEL, IOAPIC_SID);
	ioapic_set_rte(&t, PIN_LEVEL, rte_remappable(IDX_LEVEL, 0x50, RTE_LEVEL));
	level_storm(&t, 1, 0x50, 3);
	it_irte(&t, IDX_LEVEL, 0x50, 2, VIOMMU_IRTE_TM_LEVEL, IOAPIC_SID);
	viommu_iec_index(t.dev, IDX_LEVEL, 0);
	memset(t.g->counts, 0, sizeof(uint32_t) * VIOMMU_MAX_VCPUS * 256);
	level_storm(&t, 2, 0x50, 3);
	it_teardown(&t);
}

static void test_masked(void)
{
	uint64_t rte = rte_remappable(IDX_LEVEL, 0x50, RTE_LEVEL);
	struct itest t;

	it_setup(&t, 1, 0);
	it_irte(&t, IDX_LEVEL, 0x50, 0, VIOMMU_IRTE_TM_LEVEL, IOAPIC_SID);
	it_irte(&t, IDX_EDGE, 0x40, 0, 0, IOAPIC_SID);
	ioapic_set_rte(&t, PIN_LEVEL, rte | RTE_MASKED);
	ioapic_set_rte(&t, PIN_EDGE, rte_remappable(IDX_EDGE, 0x40, RTE_MASKED));

	pulse(&t, PIN_EDGE);
	kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
	usleep(QUIET_US);
	assert_only(&t, 0, 0x40, 0, "masked edge pin");
	assert_only(&t, 0, 0x50, 0, "masked level pin");

	ioapic_set_rte(&t, PIN_LEVEL, rte);
	wait_count(&t, 0, 0x50, 1, "level pin unmasked, line high");
	kvm_irq_line(t.g->vm, PIN_LEVEL, 0);
	it_teardown(&t);
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
/* The IRTE vector of test_guest_level_linux(), with a handler of its own. */
#define LINUX_LEVEL_VEC		0x51
/* test_level_logical_held()'s, whose handler holds its EOI. */
#define HOLD_VEC		0x53

enum gop {
	GOP_WRITE_RTE = 1,	/* ioapic_write_entry(): high word, then low */
	GOP_READ_RTE,		/* ioapic_read_entry(): low word, then high */
	GOP_MASK,		/* mask_ioapic_irq(): the low word, masked */
	GOP_UNMASK,		/* unmask_ioapic_irq(): the low word, unmasked */
};

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

/*
 * Per APIC ID, for HOLD_VEC: interrupts taken; how many the host let end
 * (the handler spins until then); EOIs done.
 */
struct ghold {
	uint32_t count[VIOMMU_MAX_VCPUS];
	uint32_t release[VIOMMU_MAX_VCPUS];
	uint32_t eoi[VIOMMU_MAX_VCPUS];
};

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

/* it_setup_table(), with vCPU 0 taking commands and the Linux handler. */
static void it_setup_guest(struct itest *t, int nr_vcpus, unsigned int flags,
			   uint8_t irta_s)
{
	struct kvm_vm *vm;

	it_create(t, nr_vcpus, flags, irta_s);
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
}

/* Has vCPU 0 carry out @op on @pin; returns the RTE it read, if any. */
static uint64_t guest_cmd(struct itest *t, enum gop op, int pin, uint64_t rte)
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

static void wait_linux_count(struct itest *t, int vcpu, uint32_t n)
{
	uint64_t deadline = viommu_now_ns() + WAIT_TIMEOUT_NS;

	while (__atomic_load_n(&t->linux_count[vcpu], __ATOMIC_SEQ_CST) < n) {
		if (viommu_now_ns() > deadline) {
			viommu_guest_check_corruption(t->g);
			TEST_FAIL("vCPU %d took vector 0x%x %u times, want %u", vcpu,
				  LINUX_LEVEL_VEC, t->linux_count[vcpu], n);
		}
		usleep(20);
	}
}

static void assert_rte(struct itest *t, int pin, uint64_t want, const char *what)
{
	uint64_t host = ioapic_rte(t, pin);
	uint64_t guest = guest_cmd(t, GOP_READ_RTE, pin, 0);

	TEST_ASSERT(host == want && guest == want,
		    "%s: pin %d RTE 0x%llx (KVM_GET_IRQCHIP), 0x%llx (IOWIN), want 0x%llx",
		    what, pin, (unsigned long long)host, (unsigned long long)guest,
		    (unsigned long long)want);
}

static void assert_no_exits(struct itest *t, uint64_t exits, const char *what)
{
	TEST_ASSERT(viommu_guest_exits(t->g) == exits,
		    "%s: %llu exits to userspace", what,
		    (unsigned long long)(viommu_guest_exits(t->g) - exits));
}

/*
 * An edge pin the guest programs, with handle[15] in RTE bit 11 (64K
 * entries): the IRTE's vector on the IRTE's vCPU, per pulse; then Linux's
 * mask and unmask, which rewrite only the low word: a masked pin loses its
 * edges, an unmasked one takes the next, through the same IRTE.
 */
static void test_guest_edge(void)
{
	uint16_t index = 0x8000 | IDX_EDGE;
	/* Linux puts the pin number in the vector field. */
	uint64_t rte = rte_remappable(index, PIN_EDGE, 0), exits;
	struct itest t;
	int i;

	it_setup_guest(&t, 4, VIOMMU_GUEST_X2APIC, IRTA_SIZE_64K);
	it_irte(&t, index, 0x40, 3, 0, IOAPIC_SID);
	/* What the RTE would name without bit 11. */
	it_irte(&t, IDX_EDGE, 0x41, 1, 0, IOAPIC_SID);

	guest_cmd(&t, GOP_WRITE_RTE, PIN_EDGE, rte);
	assert_rte(&t, PIN_EDGE, rte, "written by the guest");

	exits = viommu_guest_exits(t.g);
	for (i = 1; i <= 20; i++) {
		pulse(&t, PIN_EDGE);
		wait_count(&t, 3, 0x40, i, "guest-programmed edge pulse");
	}
	assert_no_exits(&t, exits, "20 guest-programmed edge pulses");
	usleep(QUIET_US);
	assert_only(&t, 3, 0x40, 20, "guest-programmed edge pulses");

	guest_cmd(&t, GOP_MASK, PIN_EDGE, 0);
	assert_rte(&t, PIN_EDGE, rte | RTE_MASKED, "masked by the guest");
	for (i = 0; i < 3; i++)
		pulse(&t, PIN_EDGE);
	usleep(QUIET_US);
	assert_only(&t, 3, 0x40, 20, "pulses on the masked pin");

	guest_cmd(&t, GOP_UNMASK, PIN_EDGE, 0);
	assert_rte(&t, PIN_EDGE, rte, "unmasked by the guest");
	usleep(QUIET_US);
	assert_only(&t, 3, 0x40, 20, "unmasked, before a pulse");
	pulse(&t, PIN_EDGE);
	wait_only(&t, 3, 0x40, 21, "pulse after the unmask");
	assert_only(&t, 1, 0x41, 0, "the IRTE without handle[15]");
	it_teardown(&t);
}

/*
 * A level pin the guest programs, masked first as Linux does, with a level
 * IRTE whose vector the RTE repeats: the local APIC's EOI is broadcast to
 * the I/O APIC.  The RTE's bits 63:56, read as a destination, would name
 * vCPU 0, the IRTE names vCPU 2: only if the guest's RTE write rescans
 * every vCPU does vCPU 2's EOI reach the I/O APIC, and the line held high
 * deliver again.
 */
static void test_guest_level_eoi(void)
{
	uint64_t rte = rte_remappable(IDX_LEVEL, 0x50, RTE_LEVEL), exits;
	struct itest t;

	it_setup_guest(&t, 4, 0, IRTA_SIZE_256);
	it_irte(&t, IDX_LEVEL, 0x50, 2, VIOMMU_IRTE_TM_LEVEL, IOAPIC_SID);
	guest_cmd(&t, GOP_WRITE_RTE, PIN_LEVEL, rte | RTE_MASKED);
	assert_rte(&t, PIN_LEVEL, rte | RTE_MASKED, "written masked by the guest");

	kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
	usleep(QUIET_US);
	assert_only(&t, 2, 0x50, 0, "masked level pin, line high");

	exits = viommu_guest_exits(t.g);
	guest_cmd(&t, GOP_UNMASK, PIN_LEVEL, 0);
	wait_count(&t, 2, 0x50, 20, "guest-unmasked level pin, line high");
	assert_no_exits(&t, exits, "level re-delivery");
	kvm_irq_line(t.g->vm, PIN_LEVEL, 0);
	usleep(QUIET_US);
	assert_remote_irr(&t, PIN_LEVEL, false);
	assert_rte(&t, PIN_LEVEL, rte, "after the line went low");
	level_storm(&t, 2, 0x50, viommu_guest_count(t.g, 2, 0x50) + 5);
	it_teardown(&t);
}

/*
 * Linux's level pin: the RTE's vector is the pin number, the IRTE is edge,
 * and the guest's handler ends each interrupt at the I/O APIC itself
 * (guest_linux_level_handler()): with the line held high, each EOI brings
 * the next; once it is low, Remote IRR is clear and nothing comes.
 */
static void test_guest_level_linux(void)
{
	uint64_t rte = rte_remappable(IDX_LEVEL, PIN_LEVEL, RTE_LEVEL), exits;
	uint32_t seen;
	struct itest t;
	int i;

	it_setup_guest(&t, 4, 0, IRTA_SIZE_256);
	it_irte(&t, IDX_LEVEL, LINUX_LEVEL_VEC, 1, 0, IOAPIC_SID);
	guest_cmd(&t, GOP_WRITE_RTE, PIN_LEVEL, rte | RTE_MASKED);
	kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
	usleep(QUIET_US);
	TEST_ASSERT(!t.linux_count[1], "masked pin: %u interrupts", t.linux_count[1]);

	exits = viommu_guest_exits(t.g);
	guest_cmd(&t, GOP_UNMASK, PIN_LEVEL, 0);
	wait_linux_count(&t, 1, 20);
	assert_no_exits(&t, exits, "level pin ended by the guest at the I/O APIC");
	kvm_irq_line(t.g->vm, PIN_LEVEL, 0);
	usleep(QUIET_US);
	seen = __atomic_load_n(&t.linux_count[1], __ATOMIC_SEQ_CST);
	assert_remote_irr(&t, PIN_LEVEL, false);
	assert_rte(&t, PIN_LEVEL, rte, "after the guest's I/O APIC EOIs");
	usleep(QUIET_US);
	for (i = 0; i < t.nr; i++)
		TEST_ASSERT(__atomic_load_n(&t.linux_count[i], __ATOMIC_SEQ_CST) ==
			    (i == 1 ? seen : 0),
			    "vCPU %d: %u interrupts after the line went low, want %u", i,
			    t.linux_count[i], i == 1 ? seen : 0);

	/* The line up again: one more, at least. */
	kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
	wait_linux_count(&t, 1, seen + 1);
	kvm_irq_line(t.g->vm, PIN_LEVEL, 0);
	/* Every one went to the Linux handler. */
	assert_only(&t, 1, LINUX_LEVEL_VEC, 0, "the counting handler");
	it_teardown(&t);
}

/* ---- level pins to several vCPUs -------------------------------------------- */

/*
 * A level pin whose IRTE has a logical destination, mask 0x6 of 4 vCPUs
 * (xAPIC flat, or x2APIC cluster 0): fixed, vCPUs 1 and 2 both take each
 * interrupt, lowest priority one of them; vCPUs 0 and 3 never.  Their EOIs
 * clear Remote IRR, so the line held high delivers again and again; once
 * low, nothing comes, and raised again it delivers anew.
 */
static void level_logical_case(unsigned int flags, uint8_t dlm)
{
	uint64_t rte = rte_remappable(IDX_LEVEL, 0x50, RTE_LEVEL), exits;
	bool lowest = dlm == VIOMMU_DLM_LOWEST;
	uint32_t seen[VIOMMU_MAX_VCPUS];
	struct itest t;
	int round, i;

	it_setup(&t, 4, flags);
	viommu_guest_write_irte(t.g, 0, IDX_LEVEL,
				viommu_irte_lo(0x50, 0x6, viommu_guest_x2apic(t.g), dlm,
					       VIOMMU_IRTE_DM_LOGICAL | VIOMMU_IRTE_TM_LEVEL),
				viommu_irte_hi(IOAPIC_SID, 0, VIOMMU_SVT_SID));
	ioapic_set_rte(&t, PIN_LEVEL, rte);

	for (round = 1; round <= 2; round++) {
		uint64_t deadline = viommu_now_ns() + WAIT_TIMEOUT_NS;
		uint32_t want = round * 10;

		exits = viommu_guest_exits(t.g);
		kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
		if (!lowest) {
			wait_count(&t, 1, 0x50, want, "logical level, line high");
			wait_count(&t, 2, 0x50, want, "logical level, line high");
		}
		while (lowest && viommu_guest_count(t.g, 1, 0x50) +
				 viommu_guest_count(t.g, 2, 0x50) < want) {
			TEST_ASSERT(viommu_now_ns() < deadline,
				    "lowest priority level, line high: vCPUs 1 and 2 took 0x50 %u and %u times, want %u in all",
				    viommu_guest_count(t.g, 1, 0x50),
				    viommu_guest_count(t.g, 2, 0x50), want);
			usleep(20);
		}
		assert_no_exits(&t, exits, "logical level re-delivery");
		kvm_irq_line(t.g->vm, PIN_LEVEL, 0);
		usleep(QUIET_US);
		for (i = 0; i < t.nr; i++)
			seen[i] = viommu_guest_count(t.g, i, 0x50);
		assert_remote_irr(&t, PIN_LEVEL, false);
		usleep(QUIET_US);
		for (i = 0; i < t.nr; i++)
			TEST_ASSERT(viommu_guest_count(t.g, i, 0x50) == seen[i] &&
				    (i == 1 || i == 2 || !seen[i]),
				    "round %d, line low: vCPU %d took 0x50 %u times, then %u",
				    round, i, seen[i], viommu_guest_count(t.g, i, 0x50));
	}
	it_teardown(&t);
}

/* Waits until *@p (guest memory) is at least @n. */
static void wait_guest_u32(struct itest *t, uint32_t *p, uint32_t n, const char *what)
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

/*
 * The same logical level pin (mask 0x6, xAPIC flat), programmed by the
 * guest, whose handlers hold their EOIs: while no vCPU has EOIed, Remote
 * IRR stays set and the line held high brings nothing more; vCPU 1's EOI
 * alone clears it and brings the next interrupt to both vCPUs; with the
 * line low, the remaining EOIs leave Remote IRR clear and bring nothing.
 */
static void test_level_logical_held(void)
{
	uint64_t rte = rte_remappable(IDX_LEVEL, HOLD_VEC, RTE_LEVEL);
	struct ghold *h;
	struct itest t;
	int i;

	it_setup_guest(&t, 4, 0, IRTA_SIZE_256);
	h = t.hold;
	viommu_guest_write_irte(t.g, 0, IDX_LEVEL,
				viommu_irte_lo(HOLD_VEC, 0x6, false, VIOMMU_DLM_FIXED,
					       VIOMMU_IRTE_DM_LOGICAL | VIOMMU_IRTE_TM_LEVEL),
				viommu_irte_hi(IOAPIC_SID, 0, VIOMMU_SVT_SID));
	guest_cmd(&t, GOP_WRITE_RTE, PIN_LEVEL, rte);

	kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
	wait_guest_u32(&t, &h->count[1], 1, "vCPU 1, held level interrupts");
	wait_guest_u32(&t, &h->count[2], 1, "vCPU 2, held level interrupts");
	usleep(QUIET_US);
	TEST_ASSERT(h->count[1] == 1 && h->count[2] == 1,
		    "no EOI yet, line high: vCPUs 1 and 2 took %u and %u, want 1 and 1",
		    h->count[1], h->count[2]);
	assert_remote_irr(&t, PIN_LEVEL, true);

	/* vCPU 1's EOI: the next interrupt, while vCPU 2 still holds its own. */
	__atomic_store_n(&h->release[1], 1, __ATOMIC_SEQ_CST);
	wait_guest_u32(&t, &h->eoi[1], 1, "vCPU 1, EOIs");
	wait_guest_u32(&t, &h->count[1], 2, "vCPU 1, after its EOI, line high");
	assert_remote_irr(&t, PIN_LEVEL, true);

	kvm_irq_line(t.g->vm, PIN_LEVEL, 0);
	__atomic_store_n(&h->release[1], ~0U, __ATOMIC_SEQ_CST);
	__atomic_store_n(&h->release[2], ~0U, __ATOMIC_SEQ_CST);
	/* vCPU 2 takes the one pending in its IRR after its EOI. */
	wait_guest_u32(&t, &h->eoi[1], 2, "vCPU 1, EOIs, line low");
	wait_guest_u32(&t, &h->eoi[2], 2, "vCPU 2, EOIs, line low");
	usleep(QUIET_US);
	assert_remote_irr(&t, PIN_LEVEL, false);
	for (i = 0; i < t.nr; i++) {
		uint32_t want = i == 1 || i == 2 ? 2 : 0;

		TEST_ASSERT(h->count[i] == want && h->eoi[i] == want,
			    "line low, all EOIed: vCPU %d took %u, EOIed %u, want %u", i,
			    h->count[i], h->eoi[i], want);
	}
	assert_only(&t, 1, HOLD_VEC, 0, "the counting handler");
	it_teardown(&t);
}

static void test_level_logical_xapic(void)
{
	level_logical_case(0, VIOMMU_DLM_FIXED);
}

static void test_level_logical_x2apic(void)
{
	level_logical_case(VIOMMU_GUEST_X2APIC, VIOMMU_DLM_FIXED);
}

static void test_level_lowest_xapic(void)
{
	level_logical_case(0, VIOMMU_DLM_LOWEST);
}

/* ---- faults ------------------------------------------------------------------ */

static void fault_case(uint64_t irte_lo, uint64_t irte_hi, uint8_t reason,
		       uint16_t sid, bool has_sid, bool set_sid)
{
	struct kvm_viommu_ir_ioapic none = {};
	struct itest t;

	it_setup(&t, 2, 0);
	if (!set_sid)
		kvm_device_attr_set(t.dev, KVM_DEV_VIOMMU_GRP_IR,
				    KVM_DEV_VIOMMU_IR_IOAPIC, &none);
	viommu_guest_write_irte(t.g, 0, IDX_EDGE, irte_lo, irte_hi);
	ioapic_set_rte(&t, PIN_EDGE, rte_remappable(IDX_EDGE, 0x40, 0));
	pulse(&t, PIN_EDGE);
	assert_fault(&t, reason, IDX_EDGE, sid, has_sid);
	usleep(QUIET_US);
	assert_only(&t, 0, 0x40, 0, "faulting pin");
	it_teardown(&t);
}

static void test_fault_not_present(void)
{
	fault_case(0, 0, KVM_VIOMMU_FR_IR_ENTRY_P, IOAPIC_SID, true, true);
}

static void test_fault_sid(void)
{
	fault_case(viommu_irte_lo(0x40, 0, false, VIOMMU_DLM_FIXED, 0),
		   viommu_irte_hi(OTHER_SID, 0, VIOMMU_SVT_SID),
		   KVM_VIOMMU_FR_IR_SID_ERR, IOAPIC_SID, true, true);
}

/* Without the attribute, the I/O APIC has no requester ID to verify. */
static void test_fault_no_ioapic_sid(void)
{
	fault_case(viommu_irte_lo(0x40, 0, false, VIOMMU_DLM_FIXED, 0),
		   viommu_irte_hi(IOAPIC_SID, 0, VIOMMU_SVT_SID),
		   KVM_VIOMMU_FR_IR_SID_ERR, 0, false, false);
}

/* A compatibility-format RTE faults until CFIS lets it through as it is. */
static void test_fault_compat_cfis(void)
{
	uint64_t rte = 0x45 | (1ULL << 56);	/* fixed, physical, vCPU 1 */
	struct itest t;

	it_setup(&t, 2, 0);
	ioapic_set_rte(&t, PIN_EDGE, rte);
	pulse(&t, PIN_EDGE);
	assert_fault(&t, KVM_VIOMMU_FR_IR_COMPAT, 0, IOAPIC_SID, true);
	usleep(QUIET_US);
	assert_only(&t, 1, 0x45, 0, "compatibility format, CFIS clear");

	viommu_set_ir_status(t.dev, KVM_VIOMMU_IR_ENABLE | KVM_VIOMMU_IR_CFIS);
	pulse(&t, PIN_EDGE);
	wait_only(&t, 1, 0x45, 1, "compatibility format, CFIS set");
	it_teardown(&t);
}

/*
 * A level pin whose IRTE faults does not wedge: nothing is delivered and
 * Remote IRR stays clear; once the guest fixes the IRTE and invalidates
 * it, the interrupt of the line still high arrives.
 */
static void test_fault_level_recovers(void)
{
	struct itest t;

	it_setup(&t, 2, 0);
	ioapic_set_rte(&t, PIN_LEVEL, rte_remappable(IDX_LEVEL, 0x52, RTE_LEVEL));
	kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
	assert_fault(&t, KVM_VIOMMU_FR_IR_ENTRY_P, IDX_LEVEL, IOAPIC_SID, true);
	usleep(QUIET_US);
	assert_only(&t, 1, 0x52, 0, "level pin, IRTE not present");
	assert_remote_irr(&t, PIN_LEVEL, false);

	it_irte(&t, IDX_LEVEL, 0x52, 1, 0, IOAPIC_SID);
	viommu_iec_index(t.dev, IDX_LEVEL, 0);
	wait_only(&t, 1, 0x52, 1, "level pin after IRTE fix and IEC");
	assert_remote_irr(&t, PIN_LEVEL, true);
	kvm_irq_line(t.g->vm, PIN_LEVEL, 0);
	it_teardown(&t);
}

/*
 * An RTE whose IRTE faults with @reason, on an edge pin, then on a level
 * pin: a record each, nothing delivered, and the level pin's Remote IRR
 * stays clear.  @irta, unless 0, replaces the 256-entry table.
 */
static void rte_fault_case(uint64_t irta, uint16_t index, uint64_t irte_lo,
			   uint64_t irte_hi, uint8_t reason)
{
	struct itest t;

	it_setup(&t, 2, 0);
	if (irta) {
		viommu_set_irta(t.dev, irta);
		viommu_iec_global(t.dev);
	}
	viommu_guest_write_irte(t.g, 0, index, irte_lo, irte_hi);

	ioapic_set_rte(&t, PIN_EDGE, rte_remappable(index, 0x40, 0));
	pulse(&t, PIN_EDGE);
	assert_fault(&t, reason, index, IOAPIC_SID, true);

	ioapic_set_rte(&t, PIN_LEVEL, rte_remappable(index, 0x40, RTE_LEVEL));
	kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
	assert_fault(&t, reason, index, IOAPIC_SID, true);
	usleep(QUIET_US);
	assert_only(&t, 1, 0x40, 0, "faulting pins");
	assert_remote_irr(&t, PIN_LEVEL, false);
	kvm_irq_line(t.g->vm, PIN_LEVEL, 0);
	it_teardown(&t);
}

/* Index 256 of 256; the entry there is good, but beyond the table. */
static void test_fault_rte_index(void)
{
	rte_fault_case(0, 256, viommu_irte_lo(0x40, 1, false, VIOMMU_DLM_FIXED, 0),
		       viommu_irte_hi(IOAPIC_SID, 0, VIOMMU_SVT_SID),
		       KVM_VIOMMU_FR_IR_INDEX_OVER);
}

/* A table where no memslot is. */
static void test_fault_rte_unreadable(void)
{
	rte_fault_case(NO_MEMSLOT_GPA | IRTA_SIZE_256, IDX_EDGE,
		       viommu_irte_lo(0x40, 1, false, VIOMMU_DLM_FIXED, 0),
		       viommu_irte_hi(IOAPIC_SID, 0, VIOMMU_SVT_SID),
		       KVM_VIOMMU_FR_IR_ROOT_INVAL);
}

/* A reserved bit of the low quadword (13), and one of the high (20). */
static void test_fault_rte_irte_rsvd(void)
{
	rte_fault_case(0, IDX_EDGE,
		       viommu_irte_lo(0x40, 1, false, VIOMMU_DLM_FIXED, 0) | BIT_ULL(13),
		       viommu_irte_hi(IOAPIC_SID, 0, VIOMMU_SVT_SID),
		       KVM_VIOMMU_FR_IR_IRTE_RSVD);
	rte_fault_case(0, IDX_LEVEL,
		       viommu_irte_lo(0x40, 1, false, VIOMMU_DLM_FIXED, 0),
		       viommu_irte_hi(IOAPIC_SID, 0, VIOMMU_SVT_SID) | BIT_ULL(20),
		       KVM_VIOMMU_FR_IR_IRTE_RSVD);
}

/*
 * handle[15], in RTE bit 11, with 64K entries: indexes 0x8005 and 0xffff,
 * not 0x0005 and 0x7fff; with 256 entries, 0x8005 is beyond the table.
 */
static void test_rte_handle15_64k(void)
{
	uint16_t index = 0x8000 | IDX_EDGE;
	struct itest t;

	it_setup_table(&t, 4, VIOMMU_GUEST_X2APIC, IRTA_SIZE_64K);
	it_irte(&t, index, 0x42, 1, 0, IOAPIC_SID);
	it_irte(&t, IDX_EDGE, 0x43, 0, 0, IOAPIC_SID);
	it_irte(&t, 0xffff, 0x44, 2, 0, IOAPIC_SID);
	it_irte(&t, 0x7fff, 0x45, 3, 0, IOAPIC_SID);

	ioapic_set_rte(&t, PIN_EDGE, rte_remappable(index, 0x42, 0));
	pulse(&t, PIN_EDGE);
	wait_only(&t, 1, 0x42, 1, "RTE index 0x8005");
	ioapic_set_rte(&t, PIN_EDGE, rte_remappable(0xffff, 0x44, 0));
	pulse(&t, PIN_EDGE);
	wait_only(&t, 2, 0x44, 1, "RTE index 0xffff");
	assert_only(&t, 0, 0x43, 0, "IRTE 0x0005");
	assert_only(&t, 3, 0x45, 0, "IRTE 0x7fff");

	viommu_set_irta(t.dev, it_irta(&t, VIOMMU_IRT_GPA, IRTA_SIZE_256));
	viommu_iec_global(t.dev);
	ioapic_set_rte(&t, PIN_EDGE, rte_remappable(index, 0x42, 0));
	pulse(&t, PIN_EDGE);
	assert_fault(&t, KVM_VIOMMU_FR_IR_INDEX_OVER, index, IOAPIC_SID, true);
	usleep(QUIET_US);
	assert_only(&t, 1, 0x42, 1, "RTE index 0x8005 of 256");
	assert_only(&t, 0, 0x43, 0, "IRTE 0x0005, 256 entries");
	it_teardown(&t);
}

/* IR off: the RTE is the message, as in stock KVM. */
static void test_ir_off_direct(void)
{
	struct itest t;

	it_setup(&t, 2, 0);
	viommu_set_ir_status(t.dev, 0);
	ioapic_set_rte(&t, PIN_EDGE, 0x46 | (1ULL << 56));
	pulse(&t, PIN_EDGE);
	wait_only(&t, 1, 0x46, 1, "IR off, compatibility RTE");
	it_teardown(&t);
}

/*
 * With the device present and remapping off, the I/O APIC behaves as stock
 * KVM's: edge pins once per pulse, level pins re-delivered on EOI while
 * the line is high, Remote IRR clear once it is low, masked pins quiet.
 */
static void test_ir_off_stock_ioapic(void)
{
	uint64_t level = 0x56 | RTE_LEVEL | (1ULL << 56);
	struct itest t;
	int i;

	it_setup(&t, 2, 0);
	viommu_set_ir_status(t.dev, 0);
	ioapic_set_rte(&t, PIN_EDGE, 0x46 | (1ULL << 56));
	ioapic_set_rte(&t, PIN_LEVEL, level | RTE_MASKED);

	for (i = 1; i <= 5; i++) {
		pulse(&t, PIN_EDGE);
		wait_only(&t, 1, 0x46, i, "IR off, edge pulses");
	}

	kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
	usleep(QUIET_US);
	assert_only(&t, 1, 0x56, 0, "IR off, masked level pin");
	kvm_irq_line(t.g->vm, PIN_LEVEL, 0);

	ioapic_set_rte(&t, PIN_LEVEL, level);
	level_storm(&t, 1, 0x56, 20);
	it_teardown(&t);
}

static void test_ioapic_attr(void)
{
	struct kvm_viommu_ir_ioapic a = {}, b;
	struct itest t;

	it_setup(&t, 1, 0);
	kvm_device_attr_get(t.dev, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_IOAPIC, &b);
	TEST_ASSERT(b.flags == KVM_VIOMMU_IOAPIC_SID_VALID && b.sid == IOAPIC_SID,
		    "IR_IOAPIC: flags 0x%x sid 0x%x", b.flags, b.sid);

	a.flags = 2;
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(t.dev, KVM_DEV_VIOMMU_GRP_IR,
						  KVM_DEV_VIOMMU_IR_IOAPIC, &a), EINVAL);
	a.flags = 0;
	a.__reserved = 1;
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(t.dev, KVM_DEV_VIOMMU_GRP_IR,
						  KVM_DEV_VIOMMU_IR_IOAPIC, &a), EINVAL);
	a.__reserved = 0;
	a.__reserved2[2] = 1;
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(t.dev, KVM_DEV_VIOMMU_GRP_IR,
						  KVM_DEV_VIOMMU_IR_IOAPIC, &a), EINVAL);
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(t.dev, KVM_DEV_VIOMMU_GRP_IR,
						  KVM_DEV_VIOMMU_IR_IOAPIC, (void *)8), EFAULT);
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_get(t.dev, KVM_DEV_VIOMMU_GRP_IR,
						  KVM_DEV_VIOMMU_IR_IOAPIC, (void *)8), EFAULT);

	/* Nothing above changed it. */
	kvm_device_attr_get(t.dev, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_IOAPIC, &b);
	TEST_ASSERT(b.flags == KVM_VIOMMU_IOAPIC_SID_VALID && b.sid == IOAPIC_SID,
		    "IR_IOAPIC after bad writes: flags 0x%x sid 0x%x", b.flags, b.sid);
	it_teardown(&t);
}

/* ---- the RTC's coalescing ------------------------------------------------------ */

#define RTC_GSI		8
/* Below 128: the index bits of the RTE make destination 0, not RTC_VCPU. */
#define IDX_RTC		7
#define RTC_VCPU	1
/* Ticks tried until one takes the path a case wants (rtc_tick_held()). */
#define RTC_ATTEMPTS	50

/* KVM_IRQ_LINE_STATUS: > 0 delivered, 0 coalesced, < 0 not delivered now. */
static int rtc_tick(struct itest *t)
{
	struct kvm_irq_level irq = { .irq = RTC_GSI, .level = 1 };
	int status;

	vm_ioctl(t->g->vm, KVM_IRQ_LINE_STATUS, &irq);
	/* The status overwrites the GSI: they share a union. */
	status = irq.status;
	irq.irq = RTC_GSI;
	irq.level = 0;
	vm_ioctl(t->g->vm, KVM_IRQ_LINE_STATUS, &irq);
	return status;
}

/* Lets RTC_VCPU end its @n-th RTC interrupt, and waits for the EOI. */
static void rtc_release(struct itest *t, uint32_t n)
{
	__atomic_store_n(&t->hold->release[RTC_VCPU], n, __ATOMIC_SEQ_CST);
	wait_guest_u32(t, &t->hold->eoi[RTC_VCPU], n, "RTC EOIs");
}

static void assert_rtc_coalesced(struct itest *t, uint32_t n, const char *what)
{
	int status = rtc_tick(t);

	TEST_ASSERT(status == 0,
		    "%s: a tick while vCPU %d holds the last gets status %d, want 0 (coalesced)",
		    what, RTC_VCPU, status);
	usleep(QUIET_US);
	TEST_ASSERT(t->hold->count[RTC_VCPU] == n,
		    "%s: vCPU %d took %u RTC interrupts, want %u", what, RTC_VCPU,
		    t->hold->count[RTC_VCPU], n);
}

/* The RTC's pin remapped, as Linux programs it, to RTC_VCPU's hold handler. */
static void rtc_setup(struct itest *t)
{
	it_setup_guest(t, 2, 0, IRTA_SIZE_256);
	it_irte(t, IDX_RTC, HOLD_VEC, RTC_VCPU, 0, IOAPIC_SID);
	/* The I/O APIC's pin only: the PIC would add a status of its own. */
	viommu_route_irqchip(t->g, RTC_GSI, KVM_IRQCHIP_IOAPIC, RTC_GSI);
	viommu_commit_routes(t->g);
	/* Linux programs the pin's number as the RTE's vector. */
	guest_cmd(t, GOP_WRITE_RTE, RTC_GSI, rte_remappable(IDX_RTC, RTC_GSI, 0));
}

/*
 * Ticks until one is delivered at once (@waited false) or after waiting for
 * its IRTE (@waited true), leaving that one held; @n counts the interrupts.
 * Either can take more than one try: the EOI scan that follows an RTE write
 * or an IEC reads the IRTE into the cache at a time of its own.
 */
static void rtc_tick_held(struct itest *t, uint32_t *n, bool waited)
{
	int attempt, status;
	bool deferred;

	for (attempt = 0;; attempt++) {
		TEST_ASSERT(attempt < RTC_ATTEMPTS, "no RTC tick %s in %d attempts",
			    waited ? "waited for its IRTE" : "hit the IR cache", attempt);
		if (waited)
			viommu_iec_index(t->dev, IDX_RTC, 0);
		status = rtc_tick(t);
		TEST_ASSERT(status != 0, "RTC tick %u coalesced, none pending", *n + 1);
		wait_guest_u32(t, &t->hold->count[RTC_VCPU], ++*n, "RTC interrupts");
		deferred = status < 0;
		if (deferred == waited)
			return;
		rtc_release(t, *n);
	}
}

/* After the EOI, the next tick is delivered. */
static void rtc_end(struct itest *t, uint32_t n)
{
	int status;

	rtc_release(t, n);
	status = rtc_tick(t);
	TEST_ASSERT(status > 0, "a tick after the EOI gets status %d, want > 0", status);
	wait_guest_u32(t, &t->hold->count[RTC_VCPU], n + 1, "RTC interrupts after the EOI");
	rtc_release(t, n + 1);
	it_teardown(t);
}

/*
 * The RTC's interrupt, remapped, is coalesced while its vCPU has not EOIed
 * the last one, as KVM_IRQ_LINE_STATUS tells the VMM (Windows guests keep
 * time by it), also when the last one waited for its IRTE.
 */
static void test_rtc_coalesce_waited(void)
{
	struct itest t;
	uint32_t n = 0;

	rtc_setup(&t);
	rtc_tick_held(&t, &n, true);
	assert_rtc_coalesced(&t, n, "after a tick that waited for its IRTE");
	rtc_end(&t, n);
}

/*
 * KVM_SET_IRQCHIP restores the RTC's EOI tracking from the local APICs:
 * by the IRTE's destination and vector, not the RTE's index bits.
 */
static void test_rtc_coalesce_restored(void)
{
	struct itest t;
	uint32_t n = 0;

	rtc_setup(&t);
	rtc_tick_held(&t, &n, false);
	assert_rtc_coalesced(&t, n, "before KVM_SET_IRQCHIP");
	ioapic_set_rte(&t, RTC_GSI, ioapic_rte(&t, RTC_GSI));
	assert_rtc_coalesced(&t, n, "after KVM_SET_IRQCHIP");
	rtc_end(&t, n);
}

/* ---- split irqchip: the VMM's I/O APIC sends remappable MSIs ------------------- */

#define GSI_EDGE	4
#define GSI_LEVEL	10

static void split_route(struct itest *t, uint32_t gsi, uint16_t index,
			uint16_t sid)
{
	struct viommu_msi m = viommu_msi_devid(viommu_msi_remappable(index, false, 0),
					       sid);

	viommu_route_msi(t->g, gsi, &m);
	viommu_commit_routes(t->g);
}

static void test_split_edge(void)
{
	struct itest t;
	uint64_t exits;
	int i;

	it_setup(&t, 4, VIOMMU_GUEST_X2APIC | VIOMMU_GUEST_SPLIT_IRQCHIP);
	it_irte(&t, IDX_EDGE, 0x40, 3, 0, IOAPIC_SID);
	split_route(&t, GSI_EDGE, IDX_EDGE, IOAPIC_SID);

	exits = viommu_guest_exits(t.g);
	for (i = 1; i <= NR_PULSES; i++) {
		pulse(&t, GSI_EDGE);
		wait_count(&t, 3, 0x40, i, "split edge pulse");
	}
	TEST_ASSERT(viommu_guest_exits(t.g) == exits,
		    "%llu exits to userspace during %d interrupts",
		    (unsigned long long)(viommu_guest_exits(t.g) - exits), NR_PULSES);
	usleep(QUIET_US);
	assert_only(&t, 3, 0x40, NR_PULSES, "split edge pulses");

	/* Another requester than the IRTE's. */
	split_route(&t, GSI_EDGE, IDX_EDGE, OTHER_SID);
	pulse(&t, GSI_EDGE);
	assert_fault(&t, KVM_VIOMMU_FR_IR_SID_ERR, IDX_EDGE, OTHER_SID, true);
	it_teardown(&t);
}

/* Waits for @vcpu's KVM_EXIT_IOAPIC_EOI of @vector; asserts no other. */
static void wait_eoi_exit(struct itest *t, int vcpu, int vector, uint32_t n)
{
	uint64_t deadline = viommu_now_ns() + WAIT_TIMEOUT_NS;
	int i;

	while (viommu_guest_ioapic_eois(t->g, vcpu, vector) < n) {
		TEST_ASSERT(viommu_now_ns() < deadline,
			    "vCPU %d: %u KVM_EXIT_IOAPIC_EOI for 0x%x, want %u", vcpu,
			    viommu_guest_ioapic_eois(t->g, vcpu, vector), vector, n);
		usleep(20);
	}
	usleep(QUIET_US);
	for (i = 0; i < t->nr; i++)
		TEST_ASSERT(viommu_guest_ioapic_eois(t->g, i, vector) == (i == vcpu ? n : 0),
			    "vCPU %d: %u KVM_EXIT_IOAPIC_EOI for 0x%x", i,
			    viommu_guest_ioapic_eois(t->g, i, vector), vector);
}

/*
 * A level pin of the VMM's I/O APIC: the vCPU the IRTE targets, and only
 * it, exits with the IRTE's vector on EOI, also after a retarget + IEC.
 */
static void test_split_level_eoi(void)
{
	struct itest t;

	it_setup(&t, 4, VIOMMU_GUEST_X2APIC | VIOMMU_GUEST_SPLIT_IRQCHIP);
	it_irte(&t, IDX_LEVEL, 0x50, 1, VIOMMU_IRTE_TM_LEVEL, IOAPIC_SID);
	split_route(&t, GSI_LEVEL, IDX_LEVEL, IOAPIC_SID);

	kvm_irq_line(t.g->vm, GSI_LEVEL, 1);
	wait_only(&t, 1, 0x50, 1, "split level");
	wait_eoi_exit(&t, 1, 0x50, 1);
	kvm_irq_line(t.g->vm, GSI_LEVEL, 0);

	it_irte(&t, IDX_LEVEL, 0x50, 2, VIOMMU_IRTE_TM_LEVEL, IOAPIC_SID);
	viommu_iec_index(t.dev, IDX_LEVEL, 0);
	memset(t.g->ioapic_eois, 0, sizeof(t.g->ioapic_eois));
	kvm_irq_line(t.g->vm, GSI_LEVEL, 1);
	wait_count(&t, 2, 0x50, 1, "split level, retargeted");
	wait_eoi_exit(&t, 2, 0x50, 1);
	kvm_irq_line(t.g->vm, GSI_LEVEL, 0);
	it_teardown(&t);
}

/* ---- driver ------------------------------------------------------------------ */

static const struct viommu_case cases[] = {
	{ "ioapic_attr",		test_ioapic_attr },
	{ "ir_off_direct",		test_ir_off_direct },
	{ "ir_off_stock_ioapic",	test_ir_off_stock_ioapic },
	{ "edge_xapic_1vcpu",		test_edge_xapic_1vcpu },
	{ "edge_x2apic_4vcpu",		test_edge_x2apic_4vcpu },
	{ "level_broadcast_eoi",	test_level_broadcast_eoi },
	{ "level_linux_style",		test_level_linux_style },
	{ "retarget_iec",		test_retarget_iec },
	{ "masked",			test_masked },
	{ "guest_edge_mask_unmask",	test_guest_edge },
	{ "guest_level_eoi",		test_guest_level_eoi },
	{ "guest_level_linux_eoi",	test_guest_level_linux },
	{ "level_logical_xapic",	test_level_logical_xapic },
	{ "level_logical_x2apic",	test_level_logical_x2apic },
	{ "level_lowest_xapic",		test_level_lowest_xapic },
	{ "level_logical_held_eoi",	test_level_logical_held },
	{ "rte_handle15_64k",		test_rte_handle15_64k },
	{ "fault_0x21_rte_index",	test_fault_rte_index },
	{ "fault_0x22_not_present",	test_fault_not_present },
	{ "fault_0x23_rte_unreadable",	test_fault_rte_unreadable },
	{ "fault_0x24_rte_irte_rsvd",	test_fault_rte_irte_rsvd },
	{ "fault_0x25_compat_cfis",	test_fault_compat_cfis },
	{ "fault_0x26_sid",		test_fault_sid },
	{ "fault_no_ioapic_sid",	test_fault_no_ioapic_sid },
	{ "fault_level_recovers",	test_fault_level_recovers },
	{ "rtc_coalesce_waited",	test_rtc_coalesce_waited },
	{ "rtc_coalesce_restored",	test_rtc_coalesce_restored },
	{ "split_edge",			test_split_edge },
	{ "split_level_eoi",		test_split_level_eoi },
};

int main(int argc, char *argv[])
{
	viommu_ir_test_main(argc, argv, cases, ARRAY_SIZE(cases), CASE_TIMEOUT_S);
}
