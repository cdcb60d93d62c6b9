/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the I/O APIC programs (x86/viommu_ioapic*_test.c) share: a guest
 * with the KVM_DEV_TYPE_INTEL_VIOMMU device, its table and remapping on
 * (struct itest), the in-kernel I/O APIC's redirection entries in
 * remappable format, and the checks of what the guest took.
 *
 * With it_setup_guest(), vCPU 0 programs the I/O APIC itself, through
 * IOREGSEL/IOWIN as Linux's io_apic.c does, on the host's command
 * (it_guest_cmd()); its handlers end level-triggered interrupts as Linux
 * does (LINUX_LEVEL_VEC) or hold their EOIs until the host lets them
 * (HOLD_VEC, struct ghold).
 */
#ifndef SELFTEST_KVM_VIOMMU_IOAPIC_H
#define SELFTEST_KVM_VIOMMU_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/bits.h>

#include "kvm_util.h"
#include "viommu.h"

#define WAIT_TIMEOUT_NS		(10ULL * 1000000000ULL)
/* How long an interrupt that must not come is given to come anyway. */
#define QUIET_US		50000

/* QEMU's q35 I/O APIC: bus 0xff, devfn 0. */
#define IOAPIC_SID		0xff00
#define OTHER_SID		0x0123

/* IRTA: 256 or 64K entries at VIOMMU_IRT_GPA (S = 7, 15). */
#define IRTA_SIZE_256		7
#define IRTA_SIZE_64K		15

#define RTE_LEVEL		BIT_ULL(15)
#define RTE_MASKED		BIT_ULL(16)
#define RTE_REMOTE_IRR		BIT_ULL(14)
#define RTE_REMAPPABLE		BIT_ULL(48)

/* Above the PIC's 16 pins, which KVM_IRQ_LINE drives as well. */
#define PIN_EDGE		17
#define PIN_LEVEL		18
#define IDX_EDGE		5
#define IDX_LEVEL		6
#define NR_PULSES		200

/* The IRTE vector of guest_level_linux_eoi, with a handler of its own. */
#define LINUX_LEVEL_VEC		0x51
/* That of level_logical_held_eoi and of the RTC, whose handler holds its EOI. */
#define HOLD_VEC		0x53

struct gcmd;

/*
 * Per APIC ID, for HOLD_VEC: interrupts taken; how many the host let end
 * (the handler spins until then); EOIs done.
 */
struct ghold {
	uint32_t count[VIOMMU_MAX_VCPUS];
	uint32_t release[VIOMMU_MAX_VCPUS];
	uint32_t eoi[VIOMMU_MAX_VCPUS];
};

struct itest {
	struct viommu_guest *g;
	int dev;
	int nr;
	/* Why it_create() could not make the guest, for SKIP(). */
	char why[80];
	/* Guest-programmed I/O APIC: host views of the guest's globals. */
	struct gcmd *cmd;
	uint32_t *linux_count;
	struct ghold *hold;
};

/* ---- setup ------------------------------------------------------------------ */

/* The IRTA of a table of 2^(@s + 1) entries at @base. */
uint64_t it_irta(struct itest *t, uint64_t base, uint8_t s);
/*
 * The guest, the device and its table, IR on; the vCPUs not started.
 * False, with the reason in t->why, if the loaded KVM cannot run such a
 * guest: the test skips.
 */
bool it_create(struct itest *t, int nr_vcpus, unsigned int flags, uint8_t irta_s);
/* it_create(), and the vCPUs started. */
bool it_setup_table(struct itest *t, int nr_vcpus, unsigned int flags, uint8_t irta_s);
/* it_setup_table() of a 256-entry table. */
bool it_setup(struct itest *t, int nr_vcpus, unsigned int flags);
/* it_setup_table(), with vCPU 0 taking commands and the Linux handlers. */
bool it_setup_guest(struct itest *t, int nr_vcpus, unsigned int flags, uint8_t irta_s);
void it_teardown(struct itest *t);

/* A fixed, physical IRTE for @vector on @vcpu, verified against @sid. */
void it_irte(struct itest *t, uint32_t index, uint8_t vector, int vcpu,
	     uint64_t flags, uint16_t sid);

/* ---- the in-kernel I/O APIC ------------------------------------------------- */

/* A remappable-format RTE: handle[14:0] in 63:49, handle[15] in 11. */
static inline uint64_t rte_remappable(uint16_t index, uint8_t vector, uint64_t flags)
{
	return RTE_REMAPPABLE | flags | vector |
	       ((uint64_t)(index & 0x7fff) << 49) |
	       (index & 0x8000 ? BIT_ULL(11) : 0);
}

uint64_t it_ioapic_rte(struct itest *t, int pin);
/*
 * Writes RTE @pin as KVM_SET_IRQCHIP does: Remote IRR included, and the
 * pins whose line is high are asserted again.
 */
void it_ioapic_set_rte(struct itest *t, int pin, uint64_t rte);
void it_pulse(struct itest *t, int pin);

/* ---- checks ------------------------------------------------------------------ */

/* Waits until vCPU @vcpu has taken @vector at least @n times. */
void it_wait_count(struct itest *t, int vcpu, int vector, uint32_t n, const char *what);
/* Asserts that @vector arrived @n times on @vcpu and never elsewhere. */
void it_assert_only(struct itest *t, int vcpu, int vector, uint32_t n, const char *what);
/* it_wait_count(), a quiet while, it_assert_only(). */
void it_wait_only(struct itest *t, int vcpu, int vector, uint32_t n, const char *what);
void it_assert_remote_irr(struct itest *t, int pin, bool set);
void it_assert_no_exits(struct itest *t, uint64_t exits, const char *what);
/* Waits for the next fault and asserts its record, and that it is the only one. */
void it_assert_fault(struct itest *t, uint8_t reason, uint32_t index, uint16_t sid,
		     bool has_sid);
/* Waits until *@p (guest memory) is at least @n. */
void it_wait_guest_u32(struct itest *t, uint32_t *p, uint32_t n, const char *what);

/*
 * Raises PIN_LEVEL, whose RTE and IRTE agree on the vector, as VT-d asks:
 * the vCPU's EOI is broadcast, clears Remote IRR and, with the line still
 * high, brings the interrupt again.  Lowers it once it came @n times.
 */
void it_level_storm(struct itest *t, int vcpu, int vector, uint32_t n);

/* ---- the guest programs its own I/O APIC -------------------------------------- */

enum gop {
	GOP_WRITE_RTE = 1,	/* ioapic_write_entry(): high word, then low */
	GOP_READ_RTE,		/* ioapic_read_entry(): low word, then high */
	GOP_MASK,		/* mask_ioapic_irq(): the low word, masked */
	GOP_UNMASK,		/* unmask_ioapic_irq(): the low word, unmasked */
};

/* Has vCPU 0 carry out @op on @pin; returns the RTE it read, if any. */
uint64_t it_guest_cmd(struct itest *t, enum gop op, int pin, uint64_t rte);

#endif /* SELFTEST_KVM_VIOMMU_IOAPIC_H */
