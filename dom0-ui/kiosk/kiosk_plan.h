/* What the phase plan lets the kiosk show: tandemd's phase-status "kiosk"
 * section (docs/phase-plan.md). */
#ifndef TANDEM_KIOSK_PLAN_H
#define TANDEM_KIOSK_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "tandem_client.h"

#define KIOSK_PLAN_MAX_SHOWS    8
#define KIOSK_PLAN_MAX_SWITCHES 32
#define KIOSK_PLAN_NAME         64

struct kiosk_plan {
        int phase; /* 0: no plan applied */
        char title[128];
        bool applying; /* a phase change is under way: ask again soon */
        size_t n_shows, n_switches;
        char shows[KIOSK_PLAN_MAX_SHOWS][KIOSK_PLAN_NAME];
        char from[KIOSK_PLAN_MAX_SWITCHES][KIOSK_PLAN_NAME];
        char to[KIOSK_PLAN_MAX_SWITCHES][KIOSK_PLAN_NAME];
};

/* Asks tandemd's phase-status. Returns 0 with *p filled (phase 0 and no
 * shows when no plan is applied or tandemd has no phase methods), -1 with
 * err when tandemd cannot be asked or the reply is malformed. */
int kiosk_plan_read(struct tandem_client *cl, struct kiosk_plan *p, char *err, size_t errlen);

/* A plan is in force when a phase is applied and its kiosk shows something. */
bool kiosk_plan_active(const struct kiosk_plan *p);
bool kiosk_plan_equal(const struct kiosk_plan *a, const struct kiosk_plan *b);
/* Index in shows of name, or -1. */
int kiosk_plan_index(const struct kiosk_plan *p, const char *name);
/* The next domain after shows[current], in the order of shows, that a
 * switch from shows[current] allows; -1 when the plan allows none. */
int kiosk_plan_next(const struct kiosk_plan *p, int current);

#endif
