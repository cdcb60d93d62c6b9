/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared helpers of the kvm-viommu selftests (x86/viommu_*.c):
 *
 *  - the KVM_DEV_TYPE_INTEL_VIOMMU device and its attributes
 *    (include/uapi/linux/kvm_viommu.h);
 *  - VT-d interrupt remapping table entries and MSI formats, as a guest
 *    programs them;
 *  - a guest whose vCPUs run in threads of their own and count, per vCPU and
 *    per vector, the interrupts they take.
 */
#ifndef SELFTEST_KVM_VIOMMU_H
#define SELFTEST_KVM_VIOMMU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/bits.h>
#include <linux/kvm_viommu.h>

#include "kvm_util.h"

/* ---- the device ------------------------------------------------------------ */

/* KVM_CREATE_DEVICE; returns the device fd (0 for a TEST create) or -errno. */
int viommu_create(struct kvm_vm *vm, uint32_t flags);
int viommu_create_or_die(struct kvm_vm *vm);
/* A VM with no vCPU, an in-kernel irqchip and the device (its fd in *@dev). */
struct kvm_vm *viommu_vm_irqchip(int *dev);

/*
 * KVM_{HAS,GET,SET}_DEVICE_ATTR with every field under control, flags too
 * (the library's __kvm_device_attr_get() and friends pass 0); as ioctl().
 */
int __viommu_attr_ioctl(int fd, unsigned long req, uint32_t flags,
			uint32_t group, uint64_t attr, uint64_t addr);

const char *viommu_err_str(int r);

/*
 * @expr returns as ioctl() does (0, or -1 with errno); @err is the errno
 * expected of it, 0 for success.
 */
#define VIOMMU_ASSERT_ERRNO(expr, err)					\
do {									\
	int __r = (expr), __e = __r ? errno : 0, __w = (err);		\
									\
	TEST_ASSERT(__w ? __r == -1 && __e == __w : !__r,		\
		    "%s:\n  expected %s, got %d (%s)", #expr,		\
		    __w ? strerror(__w) : "success", __r,		\
		    __r ? strerror(__e) : "success");			\
} while (0)

/* @expr returns a value, or -errno; @want is the one expected. */
#define VIOMMU_ASSERT_RET(expr, want)					\
do {									\
	int __r = (expr), __w = (want);					\
									\
	TEST_ASSERT(__r == __w, "%s:\n  expected %d (%s), got %d (%s)",	\
		    #expr, __w, viommu_err_str(__w), __r,		\
		    viommu_err_str(__r));				\
} while (0)

/*
 * Returns @why, the reason the loaded KVM lacks a feature, or NULL.  Where
 * the runner says the rebuilt modules are loaded (VIOMMU_REQUIRE_DEVICE,
 * as make check does), a missing feature is their bug: it fails instead
 * of giving a reason to skip.
 */
const char *viommu_required(const char *why);

/*
 * NULL when the loaded KVM has the device and its interrupt remapping
 * attributes, otherwise why not (for a skip message; see viommu_required).
 */
const char *viommu_ir_unsupported(void);

/* Each asserts success. */
void viommu_set_irta(int fd, uint64_t irta);
void viommu_set_ir_status(int fd, uint32_t flags);
uint32_t viommu_get_ir_status(int fd);
void viommu_iec_global(int fd);
void viommu_iec_index(int fd, uint16_t index, uint8_t mask);
/*
 * The rings' file descriptors (KVM_DEV_VIOMMU_IR_FAULT_FD, _EVENT_FD).
 * viommu_ring_fd() asserts the get and returns the new fd, O_NONBLOCK if
 * @nonblock; viommu_fault_fd() is the fault ring's, nonblocking.
 */
int viommu_ring_fd(int dev, uint32_t group, uint64_t attr, bool nonblock);
int viommu_fault_fd(int dev);
/*
 * One record of @size from ring fd @rfd (which blocks unless O_NONBLOCK);
 * false, with @rec zeroed, if the ring was empty.  Asserts a whole record.
 */
bool viommu_ring_read(int rfd, void *rec, size_t size);
/* Whether poll() with a zero timeout reports EPOLLIN on @rfd. */
bool viommu_ring_readable(int rfd);
/*
 * Reads the oldest record of device @dev's ring (@group, @attr) into @rec
 * through a nonblocking fd of its own; false, with @rec zeroed, if there
 * was none.  viommu_pop_fault() for the fault ring.
 */
bool viommu_ring_pop(int dev, uint32_t group, uint64_t attr, void *rec, size_t size);
bool viommu_pop_fault(int dev, struct kvm_viommu_ir_fault *f);

/* ---- statistics (KVM_DEV_VIOMMU_CTRL_STATS_FD) ------------------------------ */

/* CTRL_STATS_FD: 0 with the fd in @s, or -1 with errno. */
int __viommu_stats_fd(int fd, struct kvm_viommu_fd *s);
/* A new stats fd of device @fd; asserts success. */
int viommu_stats_fd(int fd);
/* The counter @name of a stats fd; asserts that there is one. */
uint64_t viommu_read_stat(int stats_fd, const char *name);
/* The counter @name of device @fd, through a stats fd of its own. */
uint64_t viommu_stat(int fd, const char *name);

/* The interrupt-remapping counters that the tests compare. */
struct viommu_stats {
	uint64_t hits;		/* ir_hits */
	uint64_t misses;	/* ir_misses */
	uint64_t faults;	/* every ir_fault_* */
	uint64_t invalidations;	/* ir_invalidations */
	uint64_t msi_atomic;	/* remapped_msi_atomic */
};

void viommu_get_stats(int fd, struct viommu_stats *s);

/* ---- VT-d interrupt remapping table entries ---------------------------------- */

struct viommu_irte {
	uint64_t lo;
	uint64_t hi;
};

#define VIOMMU_IRTE_P			BIT_ULL(0)
#define VIOMMU_IRTE_FPD			BIT_ULL(1)
#define VIOMMU_IRTE_DM_LOGICAL		BIT_ULL(2)
#define VIOMMU_IRTE_RH			BIT_ULL(3)
#define VIOMMU_IRTE_TM_LEVEL		BIT_ULL(4)
#define VIOMMU_IRTE_DLM_SHIFT		5
#define VIOMMU_IRTE_DLM_MASK		(7ULL << VIOMMU_IRTE_DLM_SHIFT)
#define VIOMMU_IRTE_AVAIL_MASK		(0xfULL << 8)
#define VIOMMU_IRTE_IM			BIT_ULL(15)
#define VIOMMU_IRTE_VECTOR_SHIFT	16
#define VIOMMU_IRTE_DST_SHIFT		32

#define VIOMMU_IRTE_SQ_SHIFT		16
#define VIOMMU_IRTE_SVT_SHIFT		18

/* Delivery modes (DLM). */
#define VIOMMU_DLM_FIXED		0
#define VIOMMU_DLM_LOWEST		1
#define VIOMMU_DLM_SMI			2
#define VIOMMU_DLM_NMI			4
#define VIOMMU_DLM_INIT			5
#define VIOMMU_DLM_EXTINT		7

/* Source validation types (SVT). */
#define VIOMMU_SVT_NONE			0
#define VIOMMU_SVT_SID			1
#define VIOMMU_SVT_BUS			2

/* DST: 32 bits in x2APIC mode (EIME), else bits 15:8. */
static inline uint64_t viommu_irte_dst(uint32_t dest, bool eime)
{
	if (eime)
		return (uint64_t)dest << VIOMMU_IRTE_DST_SHIFT;
	return (uint64_t)(dest & 0xff) << (VIOMMU_IRTE_DST_SHIFT + 8);
}

/* A present entry; @flags: VIOMMU_IRTE_{FPD,DM_LOGICAL,RH,TM_LEVEL}. */
static inline uint64_t viommu_irte_lo(uint8_t vector, uint32_t dest, bool eime,
				      uint8_t dlm, uint64_t flags)
{
	return VIOMMU_IRTE_P | flags |
	       ((uint64_t)(dlm & 7) << VIOMMU_IRTE_DLM_SHIFT) |
	       ((uint64_t)vector << VIOMMU_IRTE_VECTOR_SHIFT) |
	       viommu_irte_dst(dest, eime);
}

static inline uint64_t viommu_irte_hi(uint16_t sid, uint8_t sq, uint8_t svt)
{
	return sid | ((uint64_t)(sq & 3) << VIOMMU_IRTE_SQ_SHIFT) |
	       ((uint64_t)(svt & 3) << VIOMMU_IRTE_SVT_SHIFT);
}

/* ---- MSIs ----------------------------------------------------------------------- */

struct viommu_msi {
	uint32_t address_lo;
	uint32_t address_hi;
	uint32_t data;
	bool has_devid;		/* KVM_MSI_VALID_DEVID */
	uint32_t devid;
};

#define VIOMMU_MSI_ADDR_BASE		0xfee00000U
#define VIOMMU_MSI_REMAPPABLE		BIT(4)
#define VIOMMU_MSI_SHV			BIT(3)
#define VIOMMU_MSI_HANDLE15		BIT(2)
#define VIOMMU_MSI_HANDLE_SHIFT		5

/* Remappable format: handle[14:0] in address 19:5, handle[15] in bit 2. */
static inline struct viommu_msi viommu_msi_remappable(uint16_t handle, bool shv,
						      uint16_t subhandle)
{
	struct viommu_msi m = {
		.address_lo = VIOMMU_MSI_ADDR_BASE | VIOMMU_MSI_REMAPPABLE |
			      ((uint32_t)(handle & 0x7fff) << VIOMMU_MSI_HANDLE_SHIFT) |
			      (handle & 0x8000 ? VIOMMU_MSI_HANDLE15 : 0) |
			      (shv ? VIOMMU_MSI_SHV : 0),
		.data = shv ? subhandle : 0,
	};

	return m;
}

/* Compatibility format, as stock KVM decodes it. */
static inline struct viommu_msi viommu_msi_compat(uint8_t dest, bool logical,
						  uint8_t vector, uint8_t dlm)
{
	struct viommu_msi m = {
		.address_lo = VIOMMU_MSI_ADDR_BASE | ((uint32_t)dest << 12) |
			      (logical ? 1U << 2 : 0),
		.data = vector | ((uint32_t)(dlm & 7) << 8),
	};

	return m;
}

static inline struct viommu_msi viommu_msi_devid(struct viommu_msi m, uint32_t devid)
{
	m.has_devid = true;
	m.devid = devid;
	return m;
}

/* KVM_SIGNAL_MSI: the ioctl's return value, or -errno. */
int viommu_signal_msi(struct kvm_vm *vm, const struct viommu_msi *m);

/* ---- a guest that counts its interrupts -------------------------------------------- */

#define VIOMMU_MAX_VCPUS		4
#define VIOMMU_NR_GSIS			64

/* Guest memory for interrupt remapping tables: 2^16 entries fit. */
#define VIOMMU_IRT_GPA			0x10000000ULL
#define VIOMMU_IRT_SIZE			BIT_ULL(20)
#define VIOMMU_IRT_SLOT			10

/* viommu_guest_create() flags. */
#define VIOMMU_GUEST_X2APIC		BIT(0)	/* else xAPIC */
#define VIOMMU_GUEST_SPIN		BIT(1)	/* spin, else HLT */
#define VIOMMU_GUEST_TMR		BIT(2)	/* record TMR per vector */
#define VIOMMU_GUEST_SPLIT_IRQCHIP	BIT(3)	/* else KVM_CREATE_IRQCHIP */

/* I/O APIC pins of a split irqchip, as QEMU has them. */
#define VIOMMU_SPLIT_IRQCHIP_PINS	24

struct viommu_guest {
	struct kvm_vm *vm;
	int nr_vcpus;
	unsigned int flags;
	int dev;				/* the device fd */
	struct kvm_vcpu *vcpus[VIOMMU_MAX_VCPUS];
	pthread_t threads[VIOMMU_MAX_VCPUS];
	bool running;
	bool stopping;
	bool ready[VIOMMU_MAX_VCPUS];
	/* KVM_RUN returns of each vCPU thread (ucalls included). */
	uint64_t exits[VIOMMU_MAX_VCPUS];
	uint64_t ucalls[VIOMMU_MAX_VCPUS];
	/* Split irqchip: KVM_EXIT_IOAPIC_EOI per vCPU and vector. */
	uint32_t ioapic_eois[VIOMMU_MAX_VCPUS][256];
	/* Host views of the guest's counters and of the IRT memory. */
	uint32_t (*counts)[256];
	uint8_t (*tmr)[256];
	struct viommu_irte *irt;
	/* The GSI routing table, as last written, and the irqfds. */
	struct kvm_irq_routing *routing;
	int irqfd[VIOMMU_NR_GSIS];
};

/*
 * A VM with an in-kernel irqchip (full, or split with
 * VIOMMU_GUEST_SPLIT_IRQCHIP), @nr_vcpus vCPUs, the IRT memory slot and the
 * device (fd in ->dev, -1 if @with_dev is false).  The vCPUs do not run
 * until viommu_guest_start().
 */
struct viommu_guest *viommu_guest_create(int nr_vcpus, unsigned int flags,
					 bool with_dev);
/*
 * Guest code of a test's own: each vCPU calls @fn with its index once its
 * APIC is enabled and it takes interrupts, after the GUEST_SYNC that
 * viommu_guest_start() waits for, and idles as usual if @fn returns.  Set
 * between viommu_guest_create() and viommu_guest_start(); NULL idles.
 */
typedef void (*viommu_guest_code_t)(uint64_t idx);
void viommu_guest_set_code(struct viommu_guest *g, viommu_guest_code_t fn);
/* Starts a thread per vCPU; returns once every guest has its APIC enabled. */
void viommu_guest_start(struct viommu_guest *g);
/* Kicks every vCPU out of KVM_RUN and joins its thread. */
void viommu_guest_stop(struct viommu_guest *g);
/* Stops the vCPUs, closes the irqfds' eventfds and the device, frees the VM. */
void viommu_guest_destroy(struct viommu_guest *g);

static inline bool viommu_guest_x2apic(const struct viommu_guest *g)
{
	return g->flags & VIOMMU_GUEST_X2APIC;
}

uint32_t viommu_guest_count(struct viommu_guest *g, int vcpu, int vector);
uint8_t viommu_guest_tmr(struct viommu_guest *g, int vcpu, int vector);
uint64_t viommu_guest_exits(struct viommu_guest *g);
uint64_t viommu_guest_ucalls(struct viommu_guest *g);
uint32_t viommu_guest_ioapic_eois(struct viommu_guest *g, int vcpu, int vector);

/*
 * The nested test host runs under an emulator (TCG) whose SVM emulation
 * sometimes stores the test host's own RIP, just after its VMRUN, as the
 * guest's RIP; the guest then hangs, or triple-faults (KVM_EXIT_SHUTDOWN,
 * with stock modules too).  The guests here run only below
 * VIOMMU_GUEST_CODE_END and have a handler for every vector, so either is
 * unmistakable: the run is void.  viommu_guest_rip_corrupt() reads @vcpu's
 * RIP (stopped vCPUs only) and says whether it is such a one;
 * viommu_exit_nested_corruption() (@rip 0: a SHUTDOWN) explains it on
 * stderr ("NESTED-EMULATION:") and exits with VIOMMU_EXIT_NESTED_CORRUPTION.
 * The vCPU threads do so themselves on a SHUTDOWN or another unexpected
 * exit with such a RIP.  Only detection is here: run_tests runs such a test
 * once more, as a property of the test host.
 */
#define VIOMMU_GUEST_CODE_END		0xffff800000000000ULL
#define VIOMMU_EXIT_NESTED_CORRUPTION	75

bool viommu_guest_rip_corrupt(struct kvm_vcpu *vcpu, uint64_t *rip);
void __noreturn viommu_exit_nested_corruption(int vcpu, uint64_t rip);
/* Stops the vCPUs; exits as above if any has such a RIP. */
void viommu_guest_check_corruption(struct viommu_guest *g);

/* Writes IRTE @index of a table at VIOMMU_IRT_GPA + @offset. */
void viommu_guest_write_irte(struct viommu_guest *g, uint64_t offset,
			     uint32_t index, uint64_t lo, uint64_t hi);

/*
 * GSI routing: set (add or replace) an entry in g->routing, then commit the
 * whole table with KVM_SET_GSI_ROUTING.
 */
void viommu_route_msi(struct viommu_guest *g, uint32_t gsi,
		      const struct viommu_msi *m);
void viommu_route_irqchip(struct viommu_guest *g, uint32_t gsi,
			  uint32_t irqchip, uint32_t pin);
int __viommu_commit_routes(struct viommu_guest *g);
void viommu_commit_routes(struct viommu_guest *g);

/* An eventfd bound to @gsi by KVM_IRQFD (made on first use). */
int viommu_irqfd(struct viommu_guest *g, uint32_t gsi);
void viommu_irqfd_fire(struct viommu_guest *g, uint32_t gsi);

uint64_t viommu_now_ns(void);
/* pthread_join() of @th if it ends within @timeout_ns; false if it does not. */
bool viommu_join_within(pthread_t th, uint64_t timeout_ns);

#endif /* SELFTEST_KVM_VIOMMU_H */
