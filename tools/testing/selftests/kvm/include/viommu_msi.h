/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The MSI remapping programs (x86/viommu_msi_*_test.c): a guest of
 * viommu.h with the device, an interrupt remapping table that the host
 * writes into guest memory, and what should have arrived.
 *
 * The host fires MSIs through KVM_SIGNAL_MSI or an irqfd on a
 * KVM_SET_GSI_ROUTING MSI route; the vCPUs, each in a thread of its own and
 * halted with interrupts enabled, count every interrupt they take.  A test
 * says what it expects of each MSI, and msi_settle() asserts that every
 * vector arrived on exactly the vCPUs it was meant for, and nowhere else:
 * delivery is asynchronous, so a count can only be trusted once something
 * sent after it has arrived (the sentinels, below).
 */
#ifndef SELFTEST_KVM_VIOMMU_MSI_H
#define SELFTEST_KVM_VIOMMU_MSI_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm_viommu.h>

#include "kvm_util.h"
#include "viommu.h"

#define SETTLE_TIMEOUT_NS	(10ULL * 1000000000ULL)

/*
 * The sentinel: a fixed-mode interrupt of the lowest priority class in use,
 * sent to every vCPU after the interrupts under test.  An interrupt the
 * kernel set pending before it has a higher priority, so a vCPU takes it
 * before its sentinel: once all sentinels are counted, every interrupt
 * delivered before them is counted too.  IRTE SENT_IDX + n targets vCPU n.
 */
#define SENT_VEC		0x21
#define SENT_IDX		0
/* Every vector under test lies above the sentinel's priority class. */
#define VEC(n)			(0x30 + (n))

/* The requester ID of msi_remap()'s MSIs. */
#define DEVID			0x0123

/* msi_expect_fault(): any recorded index. */
#define NO_INDEX		(~0ULL)

enum msi_via { VIA_SIGNAL, VIA_IRQFD, NR_VIAS };

static inline const char *via_name(enum msi_via via)
{
	return via == VIA_SIGNAL ? "KVM_SIGNAL_MSI" : "irqfd";
}

/*
 * Whether the loaded KVM lacks the device, its interrupt remapping, or what
 * the programs need besides (for viommu_test_main()).
 */
const char *msi_unsupported(void);

struct msi_ctx {
	struct viommu_guest *g;
	int dev;
	int nr;				/* vCPUs */
	bool eime;			/* table in x2APIC mode */
	uint64_t irt_off;		/* table base, from VIOMMU_IRT_GPA */
	uint32_t ir_status;
	/* Expected counts per vCPU and vector. */
	uint32_t exp[VIOMMU_MAX_VCPUS][256];
	/* Lowest-priority vectors: any one vCPU of any_mask, any_exp in all. */
	uint8_t any_mask[256];
	uint32_t any_exp[256];
	/* stats.faults as last seen. */
	uint64_t faults;
	/* What the test is doing, for failure messages. */
	char step[200];
	/* The MSI the irqfd's route holds. */
	struct viommu_msi route;
	bool route_set;
};

void __printf(2, 3) msi_step(struct msi_ctx *t, const char *fmt, ...);

/*
 * A guest of @nr_vcpus vCPUs (viommu_guest_create() @gflags) and the device,
 * running; IR is off.  msi_create_ir() is the usual setup besides: a
 * 64K-entry table at VIOMMU_IRT_GPA, IR on, CFIS off.
 */
struct msi_ctx *msi_create(int nr_vcpus, unsigned int gflags);
struct msi_ctx *msi_create_ir(int nr_vcpus, unsigned int gflags);
void msi_destroy(struct msi_ctx *t);

/* IRTA of a table at @base with 2^(@s+1) entries, EIME as the guest's APIC. */
uint64_t msi_irta(struct msi_ctx *t, uint64_t base, uint8_t s);
/*
 * Programs a table of 2^(s+1) entries at VIOMMU_IRT_GPA + off (EIME as the
 * guest's APIC mode) and writes the sentinel entries into it.
 */
void msi_table(struct msi_ctx *t, uint64_t off, uint8_t s);
/* Writes the sentinel entries into the current table. */
void msi_sentinels(struct msi_ctx *t);
void msi_ir(struct msi_ctx *t, uint32_t status);

void msi_irte(struct msi_ctx *t, uint32_t index, uint64_t lo, uint64_t hi);
/* A present, fixed, edge, physical entry. */
void msi_irte_phys(struct msi_ctx *t, uint32_t index, uint8_t vector, int vcpu);

/* A remappable MSI of @handle (and @subhandle) from DEVID. */
struct viommu_msi msi_remap(uint16_t handle);
struct viommu_msi msi_remap_shv(uint16_t handle, uint16_t subhandle);

/*
 * Fires @m once.  VIA_SIGNAL returns what KVM_SIGNAL_MSI did (the contract
 * does not say what that is for a request that faults).  VIA_IRQFD points
 * the irqfd's route at @m (only when it changes), writes the irqfd and
 * returns 0.
 */
int msi_fire(struct msi_ctx *t, enum msi_via via, struct viommu_msi m);
/*
 * Fires @m, which must be delivered: KVM_SIGNAL_MSI returns, as stock KVM,
 * the number of vCPUs that took it (at least 1: nothing here coalesces).
 */
void msi_fire_ok(struct msi_ctx *t, enum msi_via via, struct viommu_msi m);
/* Fires @m, which must fault: KVM_SIGNAL_MSI returns 0, as for a blocked MSI. */
void msi_fire_blocked(struct msi_ctx *t, enum msi_via via, struct viommu_msi m);

void msi_expect(struct msi_ctx *t, int vcpu, int vector, uint32_t n);
/* @n interrupts of @vector, each on any one vCPU of @mask. */
void msi_expect_any(struct msi_ctx *t, uint8_t mask, int vector, uint32_t n);

/*
 * Sends the sentinels and waits for them; then every count must be exactly
 * what was expected: each vector on its vCPUs, nothing anywhere else.
 */
void msi_settle(struct msi_ctx *t);
/*
 * Something did not arrive: say what, and what the device and the vCPU
 * threads saw, before anything else (a stuck vCPU thread can keep the
 * process from exiting), then fail.
 */
void __noreturn msi_stalled(struct msi_ctx *t);

/* Waits until stats.faults has moved by @n since last seen; asserts exactly @n. */
void msi_wait_faults(struct msi_ctx *t, uint64_t n);
/*
 * Reads a record: @reason, @index (unless NO_INDEX) and, for @sid >= 0,
 * that SID and no NO_SID flag; for @sid < 0, the NO_SID flag.
 */
void msi_expect_fault(struct msi_ctx *t, uint8_t reason, uint64_t index, int sid);
void msi_expect_no_fault(struct msi_ctx *t);
/* Fires @m, expects one fault with that record, and nothing delivered. */
void msi_fault(struct msi_ctx *t, enum msi_via via, struct viommu_msi m,
	       uint8_t reason, uint64_t index);
/* Fires @m, expects a fault that FPD keeps out of the log, nothing delivered. */
void msi_fault_suppressed(struct msi_ctx *t, enum msi_via via, struct viommu_msi m);
/* Fires @m and expects @vector once on @vcpu, no fault. */
void msi_deliver(struct msi_ctx *t, enum msi_via via, struct viommu_msi m,
		 int vcpu, int vector);
/* No fault since last seen, in the counters or the log. */
void msi_assert_no_faults(struct msi_ctx *t);

void msi_assert_stats(int fd, uint64_t hits, uint64_t misses, uint64_t faults,
		      uint64_t inval, const char *when);

#endif /* SELFTEST_KVM_VIOMMU_MSI_H */
