/* Phase plans (docs/phase-plan.md): parsing and validation. A plan is a
 * text file of sections ([domain NAME], [device NAME], [sync NAME],
 * [phase N]) holding `key = value` lines in the xl.cfg value syntax. The
 * parser needs no daemon: tandemd and tests share it. */
#ifndef TANDEM_PHASE_PLAN_H
#define TANDEM_PHASE_PLAN_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define PLAN_NAME_MAX   64
#define PLAN_MAX_PHASES 16
#define PLAN_MAX_ITEMS  32

struct plan_domain {
        char name[PLAN_NAME_MAX + 1];
        char *config_path; /* absolute */
        char *config_text; /* read at parse time; NULL when unreadable */
        char *type;        /* from the config: "pvh" or "tandem-legacy" */
        char *disk;        /* the config's first disk target (sync source, archive) */
        char *archive;     /* retirement archive path (absolute), or NULL */
        int stop_timeout;  /* seconds a clean shutdown may take */
        int line;
};

struct plan_device {
        char name[PLAN_NAME_MAX + 1];
        char *kind;  /* "printer" (emulated, spools to a host file) or "usb" */
        char *spool; /* printer: host file */
        char *usb;   /* usb: the usb-policy device id */
        int line;
};

struct plan_sync {
        char name[PLAN_NAME_MAX + 1];
        int from; /* domain index */
        char *out, *state;
        int line;
};

struct plan_pair {
        char *left; /* device or function */
        int domain; /* domain index */
        int line, col;
};

struct plan_phase {
        int number;
        char *title;
        int run[PLAN_MAX_ITEMS];
        size_t n_run;
        int retire[PLAN_MAX_ITEMS];
        size_t n_retire;
        struct plan_pair owners[PLAN_MAX_ITEMS]; /* device -> domain */
        size_t n_owners;
        struct plan_pair routes[PLAN_MAX_ITEMS]; /* function -> domain */
        size_t n_routes;
        int kiosk[PLAN_MAX_ITEMS]; /* domains shown, in order; first has focus */
        size_t n_kiosk;
        int switch_from[PLAN_MAX_ITEMS], switch_to[PLAN_MAX_ITEMS];
        size_t n_switches;
        int syncs[PLAN_MAX_ITEMS];
        size_t n_syncs;
        int line;
};

struct plan {
        char *title;
        struct plan_domain domains[PLAN_MAX_ITEMS];
        size_t n_domains;
        struct plan_device devices[PLAN_MAX_ITEMS];
        size_t n_devices;
        struct plan_sync syncs[PLAN_MAX_ITEMS];
        size_t n_syncs;
        struct plan_phase phases[PLAN_MAX_PHASES]; /* phases[i].number == i + 1 */
        size_t n_phases;
};

/* Parses and validates text (read from path; relative file names are
 * relative to path's directory). On error returns -1 with one line
 * "PATH:LINE:COL: message" in err; the plan is then freed. */
int plan_parse(struct plan *p, const char *text, const char *path, char *err, size_t errlen);
void plan_free(struct plan *p);

int plan_domain_index(const struct plan *p, const char *name);
bool plan_phase_runs(const struct plan_phase *ph, int domain);
bool plan_phase_retires(const struct plan_phase *ph, int domain);
/* The domain that owns device d in phase ph, or -1. */
int plan_phase_owner(const struct plan_phase *ph, const struct plan *p, int device);
/* The config text a domain is created with in phase ph: its file plus the
 * devices it owns there (a printer becomes `printer = "SPOOL"`). */
char *plan_domain_config(const struct plan *p, const struct plan_phase *ph, int domain);
/* The phase as JSON (domains, owners, routes, kiosk, switches, syncs). */
json_object *plan_phase_to_json(const struct plan *p, const struct plan_phase *ph);

#endif
