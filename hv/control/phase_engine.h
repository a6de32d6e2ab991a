/* The phase engine inside tandemd: turns "go to phase N of this plan" into
 * a list of steps from the daemon's current state, runs them one at a
 * time and, if one fails, converges back to the phase it started from.
 * Domain and USB steps go through tandemd's own API (a connection to its
 * own socket), so they take exactly the paths a client's requests take;
 * the migration tools (tandem-extract, tandem-archive, cp) run as
 * children watched by the event loop, so tandemd keeps answering while
 * they work. Each step start is a "phase-progress" event. See
 * docs/phase-plan.md. */
#ifndef TANDEM_PHASE_ENGINE_H
#define TANDEM_PHASE_ENGINE_H

#include "daemon.h"
#include "phase_plan.h"

enum step_kind {
        STEP_USB_DETACH,
        STEP_USB_ATTACH,
        STEP_SHUTDOWN,
        STEP_DESTROY, /* only when the domain is still listed */
        STEP_PAUSE,
        STEP_UNPAUSE,
        STEP_SNAPSHOT, /* copy the domain's disk for an extraction */
        STEP_EXTRACT,  /* tandem-extract --since */
        STEP_ARCHIVE,  /* tandem-archive create */
        STEP_RESTORE,  /* tandem-archive restore */
        STEP_CREATE,
};

struct phase_step {
        enum step_kind kind;
        int domain;     /* plan index */
        int device;     /* plan index or -1 */
        int sync;       /* plan index or -1 */
        char *config;   /* STEP_CREATE: the text */
        char text[160]; /* what it does, for plan, audit and status */
};

struct step_list {
        struct phase_step *s;
        size_t n, cap;
};

/* Steps that take the daemon from what runs now (and the recorded device
 * owners) to phase `to` (0: none of the plan's domains run). */
int phase_steps(const struct plan *p, int to, json_object *owners, struct step_list *out, char *err,
                size_t errlen);
void step_list_free(struct step_list *l);

/* Called when a run finishes: ok, or the error of the step that failed;
 * owners (borrowed) is where the USB devices are now, which is what an
 * undo must start from. */
typedef void (*phase_done_fn)(void *opaque, bool ok, const char *error, json_object *owners);

/* Runs steps (taking them over) from phase `from` towards `to`, logging
 * each to the audit table as method `what`; owners are the device owners
 * the steps were computed from. Returns -1 if a run is already in
 * progress. */
int phase_run(struct plan *p, struct step_list *steps, const char *what, int from, int to,
              json_object *owners, phase_done_fn done, void *opaque);
bool phase_running(void);
/* The step now running, or NULL. */
const char *phase_current_step(void);
/* 1-based number of the step now running and the run's step count (0, 0
 * when idle). */
void phase_progress(size_t *step, size_t *steps);

/* Runs argv (stdin and stdout /dev/null) without blocking tandemd: done
 * gets its exit status (128 + signal when killed, 127 when it could not
 * run) and the last line it wrote to stderr. -1 with msg if it could not
 * be started. */
typedef void (*phase_tool_fn)(void *opaque, int rc, const char *msg);
int phase_tool_start(char *const argv[], phase_tool_fn done, void *opaque, char *msg,
                     size_t msglen);

#endif
