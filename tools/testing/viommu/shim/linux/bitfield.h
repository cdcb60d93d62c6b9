/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _SHIM_LINUX_BITFIELD_H
#define _SHIM_LINUX_BITFIELD_H

#define FIELD_GET(mask, reg)	(((reg) & (mask)) >> __builtin_ctzll(mask))
#define FIELD_PREP(mask, val)	\
	((__typeof__(mask))(((__typeof__(mask))(val) << __builtin_ctzll(mask)) & (mask)))

#endif
