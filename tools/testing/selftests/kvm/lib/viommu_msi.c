// SPDX-License-Identifier: GPL-2.0-only
/*
 * The MSI remapping programs' guest, table and expectations; see
 * include/viommu_msi.h.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/kvm_viommu.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "viommu.h"
#include "viommu_msi.h"

/* GSI of the irqfd that msi_fire(VIA_IRQFD) reprograms for each MSI. */
#define MSI_GSI			40

const char *msi_unsupported(void)
{
	static char why[80];
	const char *r = viommu_ir_unsupported();

	if (r)
		return r;
	if (!kvm_has_cap(KVM_CAP_SIGNAL_MSI) || !kvm_has_cap(KVM_CAP_IRQFD) ||
	    !kvm_has_cap(KVM_CAP_IRQ_ROUTING))
		return "KVM_CAP_SIGNAL_MSI, KVM_CAP_IRQFD or KVM_CAP_IRQ_ROUTING missing";
	if (kvm_check_cap(KVM_CAP_MAX_VCPUS) < VIOMMU_MAX_VCPUS) {
		snprintf(why, sizeof(why), "%d vCPUs: KVM_CAP_MAX_VCPUS is %d",
			 VIOMMU_MAX_VCPUS, kvm_check_cap(KVM_CAP_MAX_VCPUS));
		return why;
	}
	return NULL;
}

void msi_step(struct msi_ctx *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->step, sizeof(t->step), fmt, ap);
	va_end(ap);
}

struct msi_ctx *msi_create(int nr_vcpus, unsigned int gflags)
{
	struct msi_ctx *t = calloc(1, sizeof(*t));

	TEST_ASSERT(t, "out of memory");
	t->g = viommu_guest_create(nr_vcpus, gflags, true);
	t->dev = t->g->dev;
	t->nr = nr_vcpus;
	t->eime = viommu_guest_x2apic(t->g);
	viommu_guest_start(t->g);
	strcpy(t->step, "setup");
	return t;
}

struct msi_ctx *msi_create_ir(int nr_vcpus, unsigned int gflags)
{
	struct msi_ctx *t = msi_create(nr_vcpus, gflags);

	msi_table(t, 0, 15);
	msi_ir(t, KVM_VIOMMU_IR_ENABLE);
	return t;
}

void msi_destroy(struct msi_ctx *t)
{
	viommu_guest_destroy(t->g);
	free(t);
}

uint64_t msi_irta(struct msi_ctx *t, uint64_t base, uint8_t s)
{
	return base | (t->eime ? KVM_VIOMMU_IRTA_EIME : 0) | s;
}

void msi_sentinels(struct msi_ctx *t)
{
	int i;

	for (i = 0; i < t->nr; i++)
		msi_irte_phys(t, SENT_IDX + i, SENT_VEC, i);
}

void msi_table(struct msi_ctx *t, uint64_t off, uint8_t s)
{
	t->irt_off = off;
	viommu_set_irta(t->dev, msi_irta(t, VIOMMU_IRT_GPA + off, s));
	msi_sentinels(t);
}

void msi_ir(struct msi_ctx *t, uint32_t status)
{
	viommu_set_ir_status(t->dev, status);
	t->ir_status = status;
}

void msi_irte(struct msi_ctx *t, uint32_t index, uint64_t lo, uint64_t hi)
{
	viommu_guest_write_irte(t->g, t->irt_off, index, lo, hi);
}

void msi_irte_phys(struct msi_ctx *t, uint32_t index, uint8_t vector, int vcpu)
{
	msi_irte(t, index, viommu_irte_lo(vector, vcpu, t->eime, VIOMMU_DLM_FIXED, 0), 0);
}

struct viommu_msi msi_remap(uint16_t handle)
{
	return viommu_msi_devid(viommu_msi_remappable(handle, false, 0), DEVID);
}

struct viommu_msi msi_remap_shv(uint16_t handle, uint16_t subhandle)
{
	return viommu_msi_devid(viommu_msi_remappable(handle, true, subhandle), DEVID);
}

int msi_fire(struct msi_ctx *t, enum msi_via via, struct viommu_msi m)
{
	if (via == VIA_SIGNAL)
		return viommu_signal_msi(t->g->vm, &m);
	if (!t->route_set || memcmp(&t->route, &m, sizeof(m))) {
		viommu_route_msi(t->g, MSI_GSI, &m);
		viommu_commit_routes(t->g);
		t->route = m;
		t->route_set = true;
	}
	viommu_irqfd_fire(t->g, MSI_GSI);
	return 0;
}

void msi_fire_ok(struct msi_ctx *t, enum msi_via via, struct viommu_msi m)
{
	int r = msi_fire(t, via, m);

	TEST_ASSERT(r >= 1 || via != VIA_SIGNAL,
		    "%s: KVM_SIGNAL_MSI(0x%x:0x%x data 0x%x devid %s0x%x): %d (%s), expected >= 1",
		    t->step, m.address_hi, m.address_lo, m.data,
		    m.has_devid ? "" : "none ", m.devid, r, viommu_err_str(r));
}

void msi_fire_blocked(struct msi_ctx *t, enum msi_via via, struct viommu_msi m)
{
	int r = msi_fire(t, via, m);

	TEST_ASSERT(r == 0 || via != VIA_SIGNAL,
		    "%s: KVM_SIGNAL_MSI(0x%x:0x%x data 0x%x devid %s0x%x) that faults: %d (%s), expected 0",
		    t->step, m.address_hi, m.address_lo, m.data,
		    m.has_devid ? "" : "none ", m.devid, r, viommu_err_str(r));
}

void msi_expect(struct msi_ctx *t, int vcpu, int vector, uint32_t n)
{
	TEST_ASSERT(!t->any_mask[vector], "vector 0x%x is lowest-priority", vector);
	t->exp[vcpu][vector] += n;
}

void msi_expect_any(struct msi_ctx *t, uint8_t mask, int vector, uint32_t n)
{
	int i;

	for (i = 0; i < t->nr; i++)
		TEST_ASSERT(!t->exp[i][vector], "vector 0x%x is not lowest-priority", vector);
	TEST_ASSERT(!t->any_mask[vector] || t->any_mask[vector] == mask,
		    "vector 0x%x: two masks", vector);
	t->any_mask[vector] = mask;
	t->any_exp[vector] += n;
}

/*
 * Returns the number of mismatches, described in @buf as "vCPU v vector x:
 * seen s, expected e" lines.
 */
static int msi_diff(struct msi_ctx *t, char *buf, size_t size)
{
	int len = 0, v, x, n = 0;

	buf[0] = '\0';
	for (x = 0; x < 256; x++) {
		uint32_t sum = 0;

		for (v = 0; v < t->nr; v++) {
			uint32_t c = viommu_guest_count(t->g, v, x);

			sum += c;
			if (t->any_mask[x]) {
				if (!c || (t->any_mask[x] & (1U << v)))
					continue;
				n++;
				if (len < (int)size)
					len += snprintf(buf + len, size - len,
							"\n  vCPU %d vector 0x%02x: seen %u, expected 0 (not in lowest-priority mask 0x%x)",
							v, x, c, t->any_mask[x]);
				continue;
			}
			if (c != t->exp[v][x]) {
				n++;
				if (len < (int)size)
					len += snprintf(buf + len, size - len,
							"\n  vCPU %d vector 0x%02x: seen %u, expected %u",
							v, x, c, t->exp[v][x]);
			}
		}
		if (t->any_mask[x] && sum != t->any_exp[x]) {
			n++;
			if (len < (int)size)
				len += snprintf(buf + len, size - len,
						"\n  vector 0x%02x on vCPUs of mask 0x%x: seen %u in all, expected %u",
						x, t->any_mask[x], sum, t->any_exp[x]);
		}
	}
	return n;
}

/* Has anything arrived that must not have (more than expected, or elsewhere)? */
static bool msi_overshoot(struct msi_ctx *t)
{
	int v, x;

	for (x = 0; x < 256; x++) {
		uint32_t sum = 0;

		for (v = 0; v < t->nr; v++) {
			uint32_t c = viommu_guest_count(t->g, v, x);

			sum += c;
			if (t->any_mask[x] ? c && !(t->any_mask[x] & (1U << v)) : c > t->exp[v][x])
				return true;
		}
		if (t->any_mask[x] && sum > t->any_exp[x])
			return true;
	}
	return false;
}

static void msi_fire_sentinels(struct msi_ctx *t)
{
	struct viommu_msi m;
	int i, r;

	for (i = 0; i < t->nr; i++) {
		if (t->ir_status & KVM_VIOMMU_IR_ENABLE)
			m = viommu_msi_remappable(SENT_IDX + i, false, 0);
		else
			m = viommu_msi_compat(i, false, SENT_VEC, VIOMMU_DLM_FIXED);
		r = viommu_signal_msi(t->g->vm, &m);
		TEST_ASSERT(r >= 0, "%s: sentinel MSI to vCPU %d: %s", t->step, i,
			    strerror(-r));
		t->exp[i][SENT_VEC]++;
	}
}

void msi_stalled(struct msi_ctx *t)
{
	struct viommu_stats s;
	int i;

	fprintf(stderr, "STALL: %s\n", t->step);
	viommu_get_stats(t->dev, &s);
	fprintf(stderr, "STALL: stats hits %llu misses %llu faults %llu invalidations %llu\n",
		(unsigned long long)s.hits, (unsigned long long)s.misses,
		(unsigned long long)s.faults, (unsigned long long)s.invalidations);
	for (i = 0; i < t->nr; i++)
		fprintf(stderr, "STALL: vCPU %d: %llu KVM_RUN returns, %llu ucalls, sentinels %u\n",
			i, (unsigned long long)t->g->exits[i],
			(unsigned long long)t->g->ucalls[i],
			viommu_guest_count(t->g, i, SENT_VEC));
	fflush(stderr);
	/* Where the interrupts are: pending (IRR), in service (ISR)? */
	viommu_guest_stop(t->g);
	for (i = 0; i < t->nr; i++) {
		struct kvm_vcpu *vcpu = t->g->vcpus[i];
		struct kvm_lapic_state lapic;
		struct kvm_mp_state mp;
		struct kvm_regs regs;
		int v;

		vcpu_ioctl(vcpu, KVM_GET_LAPIC, &lapic);
		vcpu_ioctl(vcpu, KVM_GET_MP_STATE, &mp);
		vcpu_regs_get(vcpu, &regs);
		fprintf(stderr, "STALL: vCPU %d: mp_state %u rip 0x%llx rflags 0x%llx PPR 0x%x",
			i, mp.mp_state, regs.rip, regs.rflags,
			*(uint32_t *)&lapic.regs[0xa0]);
		for (v = 0; v < 256; v++) {
			uint32_t bit = 1U << (v % 32);

			if (*(uint32_t *)&lapic.regs[0x200 + (v / 32) * 0x10] & bit)
				fprintf(stderr, " IRR:0x%x", v);
			if (*(uint32_t *)&lapic.regs[0x100 + (v / 32) * 0x10] & bit)
				fprintf(stderr, " ISR:0x%x", v);
		}
		fprintf(stderr, "\n");
	}
	fflush(stderr);
	viommu_guest_check_corruption(t->g);
	TEST_FAIL("%s", t->step);
}

void msi_settle(struct msi_ctx *t)
{
	uint64_t deadline = viommu_now_ns() + SETTLE_TIMEOUT_NS;
	char diff[2048];
	bool over;

	msi_fire_sentinels(t);
	for (;;) {
		over = msi_overshoot(t);
		if (over || !msi_diff(t, diff, sizeof(diff)))
			break;
		if (viommu_now_ns() > deadline)
			break;
		usleep(20);
	}
	if (!msi_diff(t, diff, sizeof(diff)))
		return;
	if (!msi_overshoot(t)) {
		fprintf(stderr, "STALL: %s: missing after %llu s (sentinel vector 0x%x):%s\n",
			t->step, SETTLE_TIMEOUT_NS / 1000000000ULL, SENT_VEC, diff);
		msi_stalled(t);
	}
	TEST_FAIL("%s: unexpected interrupts (sentinel vector 0x%x):%s", t->step,
		  SENT_VEC, diff);
}

void msi_wait_faults(struct msi_ctx *t, uint64_t n)
{
	uint64_t deadline = viommu_now_ns() + SETTLE_TIMEOUT_NS;
	struct viommu_stats s;

	for (;;) {
		viommu_get_stats(t->dev, &s);
		if (s.faults >= t->faults + n || viommu_now_ns() > deadline)
			break;
		usleep(20);
	}
	TEST_ASSERT(s.faults == t->faults + n,
		    "%s: stats.faults %llu, expected %llu", t->step,
		    (unsigned long long)s.faults, (unsigned long long)(t->faults + n));
	t->faults = s.faults;
}

void msi_expect_fault(struct msi_ctx *t, uint8_t reason, uint64_t index, int sid)
{
	uint32_t want_flags = sid < 0 ? KVM_VIOMMU_FAULT_NO_SID : 0;
	struct kvm_viommu_ir_fault f;
	bool valid = viommu_pop_fault(t->dev, &f);

	TEST_ASSERT(valid, "%s: no fault record (flags 0x%x), expected reason 0x%x",
		    t->step, f.flags, reason);
	TEST_ASSERT(f.reason == reason && (index == NO_INDEX || f.index == index) &&
		    (sid < 0 || f.sid == sid) && f.flags == want_flags,
		    "%s: fault record reason 0x%x index %u sid 0x%x flags 0x%x,\n"
		    "  expected reason 0x%x index %lld sid 0x%x flags 0x%x", t->step,
		    f.reason, f.index, f.sid, f.flags, reason,
		    index == NO_INDEX ? -1LL : (long long)index, sid < 0 ? 0 : sid,
		    want_flags);
	TEST_ASSERT(!f.__reserved && !f.__reserved2[0] && !f.__reserved2[1] &&
		    !f.__reserved2[2], "%s: fault record __reserved not zero", t->step);
}

void msi_expect_no_fault(struct msi_ctx *t)
{
	struct kvm_viommu_ir_fault f;
	bool found = viommu_pop_fault(t->dev, &f);

	TEST_ASSERT(!found,
		    "%s: fault record flags 0x%x (reason 0x%x index %u sid 0x%x), expected none",
		    t->step, f.flags, f.reason, f.index, f.sid);
}

void msi_fault(struct msi_ctx *t, enum msi_via via, struct viommu_msi m,
	       uint8_t reason, uint64_t index)
{
	msi_fire_blocked(t, via, m);
	msi_wait_faults(t, 1);
	msi_expect_fault(t, reason, index, m.has_devid ? (int)(m.devid & 0xffff) : -1);
	msi_expect_no_fault(t);
	msi_settle(t);
}

void msi_fault_suppressed(struct msi_ctx *t, enum msi_via via, struct viommu_msi m)
{
	msi_fire_blocked(t, via, m);
	msi_wait_faults(t, 1);
	msi_expect_no_fault(t);
	msi_settle(t);
}

void msi_deliver(struct msi_ctx *t, enum msi_via via, struct viommu_msi m,
		 int vcpu, int vector)
{
	msi_fire_ok(t, via, m);
	msi_expect(t, vcpu, vector, 1);
	msi_settle(t);
	msi_expect_no_fault(t);
}

void msi_assert_no_faults(struct msi_ctx *t)
{
	struct viommu_stats s;

	viommu_get_stats(t->dev, &s);
	TEST_ASSERT(s.faults == t->faults, "%s: stats.faults %llu, expected %llu",
		    t->step, (unsigned long long)s.faults,
		    (unsigned long long)t->faults);
	msi_expect_no_fault(t);
}

void msi_assert_stats(int fd, uint64_t hits, uint64_t misses, uint64_t faults,
		      uint64_t inval, const char *when)
{
	struct viommu_stats s;

	viommu_get_stats(fd, &s);
	TEST_ASSERT(s.hits == hits && s.misses == misses && s.faults == faults &&
		    s.invalidations == inval,
		    "%s: stats hits %llu misses %llu faults %llu invalidations %llu,\n"
		    "  expected %llu %llu %llu %llu", when,
		    (unsigned long long)s.hits, (unsigned long long)s.misses,
		    (unsigned long long)s.faults, (unsigned long long)s.invalidations,
		    (unsigned long long)hits, (unsigned long long)misses,
		    (unsigned long long)faults, (unsigned long long)inval);
}
