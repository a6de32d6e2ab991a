/* Phase plan parser and validator; format in docs/phase-plan.md. Parsing
 * is two passes: the lexer below turns the text into sections of
 * key = value entries with positions, then plan_build() gives them meaning
 * and checks every cross reference, so each message can name line:column. */
#include "phase_plan.h"

#include "domcfg.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VALUES 64

struct value {
        char *s; /* string, or NULL for an integer */
        long long n;
        int line, col;
};

struct entry {
        char key[32];
        bool is_list;
        struct value v[MAX_VALUES];
        size_t n;
        int line, col;
};

struct section {
        char kind[16];
        char name[PLAN_NAME_MAX + 1];
        struct entry *e;
        size_t n, cap;
        int line, col;
};

struct lexer {
        const char *t, *path;
        size_t i;
        int line, col;
        char *err;
        size_t errlen;
        struct section *sec;
        size_t n_sec, cap_sec;
};

static int fail_at(char *err, size_t errlen, const char *path, int line, int col, const char *fmt,
                   ...) __attribute__((format(printf, 6, 7)));

static int fail_at(char *err, size_t errlen, const char *path, int line, int col, const char *fmt,
                   ...)
{
        int n = snprintf(err, errlen, "%s:%d:%d: ", path, line, col);
        va_list ap;
        va_start(ap, fmt);
        if (n >= 0 && (size_t)n < errlen)
                vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
        return -1;
}

#define LFAIL(lx, ...)                                                                             \
        fail_at((lx)->err, (lx)->errlen, (lx)->path, (lx)->line, (lx)->col, __VA_ARGS__)

static int peek(struct lexer *lx)
{
        return (unsigned char)lx->t[lx->i];
}

static void adv(struct lexer *lx)
{
        if (!lx->t[lx->i])
                return;
        if (lx->t[lx->i] == '\n') {
                lx->line++;
                lx->col = 1;
        } else {
                lx->col++;
        }
        lx->i++;
}

/* Skips blanks and comments; across newlines only when nl is set. */
static void skip(struct lexer *lx, bool nl)
{
        for (;;) {
                int c = peek(lx);
                if (c == ' ' || c == '\t' || c == '\r' || (nl && c == '\n')) {
                        adv(lx);
                } else if (c == '#') {
                        while (peek(lx) && peek(lx) != '\n')
                                adv(lx);
                } else {
                        return;
                }
        }
}

static int lex_word(struct lexer *lx, char *out, size_t cap, const char *what)
{
        size_t n = 0;
        while (isalnum(peek(lx)) || peek(lx) == '_' || peek(lx) == '-' || peek(lx) == '.') {
                if (n + 1 >= cap)
                        return LFAIL(lx, "%s is longer than %zu characters", what, cap - 1);
                out[n++] = (char)peek(lx);
                adv(lx);
        }
        out[n] = '\0';
        if (!n)
                return peek(lx) ? LFAIL(lx, "expected %s, found '%c'", what, peek(lx))
                                : LFAIL(lx, "expected %s, found end of file", what);
        return 0;
}

static int lex_value(struct lexer *lx, struct value *v)
{
        v->line = lx->line;
        v->col = lx->col;
        int q = peek(lx);
        if (q == '"' || q == '\'') {
                size_t cap = 64, n = 0;
                char *s = malloc(cap);
                if (!s)
                        return LFAIL(lx, "out of memory");
                adv(lx);
                while (peek(lx) != q) {
                        int c = peek(lx);
                        if (!c || c == '\n') {
                                free(s);
                                return fail_at(lx->err, lx->errlen, lx->path, v->line, v->col,
                                               "unterminated string");
                        }
                        if (c == '\\') {
                                adv(lx);
                                c = peek(lx);
                                if (!c || c == '\n') {
                                        free(s);
                                        return LFAIL(lx, "unterminated string");
                                }
                                c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
                        }
                        if (n + 2 > cap) {
                                char *ns = realloc(s, cap *= 2);
                                if (!ns) {
                                        free(s);
                                        return LFAIL(lx, "out of memory");
                                }
                                s = ns;
                        }
                        s[n++] = (char)c;
                        adv(lx);
                }
                adv(lx);
                s[n] = '\0';
                v->s = s;
                return 0;
        }
        if (isdigit(q) || q == '-') {
                char buf[32];
                if (lex_word(lx, buf, sizeof(buf), "a number") < 0)
                        return -1;
                char *end;
                errno = 0;
                v->n = strtoll(buf, &end, 0);
                if (*end || errno)
                        return fail_at(lx->err, lx->errlen, lx->path, v->line, v->col,
                                       "'%s' is not a number", buf);
                v->s = NULL;
                return 0;
        }
        if (!q || q == '\n')
                return LFAIL(lx, "missing value");
        return LFAIL(lx, "expected a quoted string, a number or a list, found '%c'", q);
}

static struct section *new_section(struct lexer *lx)
{
        if (lx->n_sec == lx->cap_sec) {
                size_t cap = lx->cap_sec ? lx->cap_sec * 2 : 8;
                struct section *ns = realloc(lx->sec, cap * sizeof(*ns));
                if (!ns)
                        return NULL;
                lx->sec = ns;
                lx->cap_sec = cap;
        }
        struct section *s = &lx->sec[lx->n_sec++];
        memset(s, 0, sizeof(*s));
        s->line = lx->line;
        s->col = lx->col;
        return s;
}

static int lex_entry(struct lexer *lx, struct section *s)
{
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 8;
                struct entry *ne = realloc(s->e, cap * sizeof(*ne));
                if (!ne)
                        return LFAIL(lx, "out of memory");
                s->e = ne;
                s->cap = cap;
        }
        struct entry *e = &s->e[s->n];
        memset(e, 0, sizeof(*e));
        e->line = lx->line;
        e->col = lx->col;
        if (lex_word(lx, e->key, sizeof(e->key), "a key") < 0)
                return -1;
        for (size_t i = 0; i < s->n; i++)
                if (!strcmp(s->e[i].key, e->key))
                        return fail_at(lx->err, lx->errlen, lx->path, e->line, e->col,
                                       "'%s' is set twice in this section (first on line %d)",
                                       e->key, s->e[i].line);
        s->n++; /* owned from here on, so plan_parse frees its values */
        skip(lx, false);
        if (peek(lx) != '=')
                return peek(lx) && peek(lx) != '\n'
                           ? LFAIL(lx, "expected '=' after '%s', found '%c'", e->key, peek(lx))
                           : LFAIL(lx, "expected '=' after '%s'", e->key);
        adv(lx);
        skip(lx, false);
        if (peek(lx) == '[') {
                e->is_list = true;
                adv(lx);
                skip(lx, true);
                while (peek(lx) != ']') {
                        if (e->n == MAX_VALUES)
                                return LFAIL(lx, "more than %d values in a list", MAX_VALUES);
                        if (lex_value(lx, &e->v[e->n]) < 0)
                                return -1;
                        e->n++;
                        skip(lx, true);
                        if (peek(lx) == ',') {
                                adv(lx);
                                skip(lx, true);
                        } else if (peek(lx) != ']') {
                                return peek(lx)
                                           ? LFAIL(lx, "expected ',' or ']' in a list, found '%c'",
                                                   peek(lx))
                                           : fail_at(lx->err, lx->errlen, lx->path, e->line, e->col,
                                                     "list '%s' is not closed with ']'", e->key);
                        }
                }
                adv(lx);
        } else {
                if (lex_value(lx, &e->v[0]) < 0)
                        return -1;
                e->n = 1;
        }
        skip(lx, false);
        if (peek(lx) == ';')
                adv(lx), skip(lx, false);
        if (peek(lx) && peek(lx) != '\n')
                return LFAIL(lx, "unexpected '%c' after the value of '%s'", peek(lx), e->key);
        return 0;
}

static int lex(struct lexer *lx)
{
        struct section *cur = NULL;
        for (;;) {
                skip(lx, true);
                if (!peek(lx))
                        return 0;
                if (peek(lx) == '[') {
                        cur = new_section(lx);
                        if (!cur)
                                return LFAIL(lx, "out of memory");
                        adv(lx);
                        skip(lx, false);
                        if (lex_word(lx, cur->kind, sizeof(cur->kind), "a section kind") < 0)
                                return -1;
                        skip(lx, false);
                        if (lex_word(lx, cur->name, sizeof(cur->name), "a section name") < 0)
                                return -1;
                        skip(lx, false);
                        if (peek(lx) != ']')
                                return LFAIL(lx, "expected ']' to close the section header");
                        adv(lx);
                        skip(lx, false);
                        if (peek(lx) && peek(lx) != '\n')
                                return LFAIL(lx, "unexpected '%c' after the section header",
                                             peek(lx));
                        continue;
                }
                if (!cur) {
                        cur = new_section(lx); /* the plan's own header keys */
                        if (!cur)
                                return LFAIL(lx, "out of memory");
                        snprintf(cur->kind, sizeof(cur->kind), "plan");
                }
                if (lex_entry(lx, cur) < 0)
                        return -1;
        }
}

/* ---- meaning ---- */

struct ctx {
        struct plan *p;
        const char *path;
        char *dir; /* path's directory, with a trailing slash */
        char *err;
        size_t errlen;
};

#define CFAIL(c, l, col, ...) fail_at((c)->err, (c)->errlen, (c)->path, l, col, __VA_ARGS__)

static int want_string(struct ctx *c, const struct entry *e, const char **out)
{
        if (e->is_list || !e->v[0].s)
                return CFAIL(c, e->v[0].line ? e->v[0].line : e->line,
                             e->v[0].col ? e->v[0].col : e->col, "'%s' must be a quoted string",
                             e->key);
        *out = e->v[0].s;
        return 0;
}

static int want_list(struct ctx *c, const struct entry *e)
{
        if (!e->is_list)
                return CFAIL(c, e->v[0].line, e->v[0].col, "'%s' must be a list [ \"...\", ... ]",
                             e->key);
        for (size_t i = 0; i < e->n; i++)
                if (!e->v[i].s)
                        return CFAIL(c, e->v[i].line, e->v[i].col, "'%s' holds quoted strings only",
                                     e->key);
        return 0;
}

static char *abspath(struct ctx *c, const char *f)
{
        char *r;
        if (f[0] == '/' || !c->dir[0])
                return strdup(f);
        if (asprintf(&r, "%s%s", c->dir, f) < 0)
                return NULL;
        return r;
}

/* A usb device's spec with a file ("printer:PATH", "storage:PATH"): a
 * relative PATH is relative to the plan, like every file it names. */
static char *usb_spec_abspath(struct ctx *c, const char *spec)
{
        static const char *const with_file[] = {"printer:", "storage:"};
        for (size_t i = 0; i < sizeof(with_file) / sizeof(with_file[0]); i++) {
                size_t n = strlen(with_file[i]);
                if (strncmp(spec, with_file[i], n) || !spec[n])
                        continue;
                char *path = abspath(c, spec + n), *r = NULL;
                if (path && asprintf(&r, "%s%s", with_file[i], path) < 0)
                        r = NULL;
                free(path);
                return r;
        }
        return strdup(spec);
}

static char *read_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        size_t cap = 4096, n = 0;
        char *b = malloc(cap);
        size_t got;
        while (b && (got = fread(b + n, 1, cap - n - 1, f)) > 0) {
                n += got;
                if (n + 1 == cap) {
                        char *nb = cap < (1u << 20) ? realloc(b, cap *= 2) : NULL;
                        if (!nb) {
                                free(b);
                                b = NULL;
                        } else {
                                b = nb;
                        }
                }
        }
        fclose(f);
        if (b)
                b[n] = '\0';
        return b;
}

int plan_domain_index(const struct plan *p, const char *name)
{
        for (size_t i = 0; i < p->n_domains; i++)
                if (!strcmp(p->domains[i].name, name))
                        return (int)i;
        return -1;
}

static int device_index(const struct plan *p, const char *name)
{
        for (size_t i = 0; i < p->n_devices; i++)
                if (!strcmp(p->devices[i].name, name))
                        return (int)i;
        return -1;
}

static int sync_index(const struct plan *p, const char *name)
{
        for (size_t i = 0; i < p->n_syncs; i++)
                if (!strcmp(p->syncs[i].name, name))
                        return (int)i;
        return -1;
}

static void domain_names(const struct plan *p, char *buf, size_t len)
{
        buf[0] = '\0';
        for (size_t i = 0; i < p->n_domains; i++) {
                size_t l = strlen(buf);
                snprintf(buf + l, len - l, "%s%s", i ? ", " : "", p->domains[i].name);
        }
}

static int domain_ref(struct ctx *c, const struct value *v, const char *name, int col_off,
                      const char *what)
{
        int d = plan_domain_index(c->p, name);
        if (d < 0) {
                char names[512];
                domain_names(c->p, names, sizeof(names));
                return CFAIL(c, v->line, v->col + col_off,
                             "%s: unknown domain '%s' (the plan's domains: %s)", what, name,
                             names[0] ? names : "none");
        }
        return d;
}

static char *trim(char *s)
{
        while (isspace((unsigned char)*s))
                s++;
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1]))
                s[--n] = '\0';
        return s;
}

/* Splits "LEFT -> RIGHT" (or "<->" when both is non-NULL); the domain is
 * resolved unless right_is_domain is false. */
static int split_arrow(struct ctx *c, const struct value *v, const char *what, char **left,
                       char **right, bool *both, int *right_col)
{
        const char *a = strstr(v->s, "->");
        if (!a || a == v->s)
                return CFAIL(c, v->line, v->col, "%s: '%s' is not 'NAME -> DOMAIN'", what, v->s);
        bool bi = a > v->s && a[-1] == '<';
        if (bi && !both)
                return CFAIL(c, v->line, v->col, "%s: '%s': '<->' is for switches only", what,
                             v->s);
        if (both)
                *both = bi;
        size_t ln = (size_t)(a - v->s) - (bi ? 1 : 0);
        char *l = strndup(v->s, ln), *r = strdup(a + 2);
        if (!l || !r) {
                free(l);
                free(r);
                return CFAIL(c, v->line, v->col, "out of memory");
        }
        char *lt = trim(l), *rt = trim(r);
        if (!*lt || !*rt || strchr(rt, ' ')) {
                int rc = CFAIL(c, v->line, v->col, "%s: '%s' is not 'NAME -> DOMAIN'", what, v->s);
                free(l);
                free(r);
                return rc;
        }
        *left = strdup(lt);
        *right = strdup(rt);
        /* column of the right-hand name inside the string (+1 for the quote) */
        *right_col = (int)(strstr(a + 2, rt) - v->s) + 1;
        free(l);
        free(r);
        return *left && *right ? 0 : CFAIL(c, v->line, v->col, "out of memory");
}

static int build_domain(struct ctx *c, const struct section *s)
{
        struct plan *p = c->p;
        if (p->n_domains == PLAN_MAX_ITEMS)
                return CFAIL(c, s->line, s->col, "more than %d domains", PLAN_MAX_ITEMS);
        if (plan_domain_index(p, s->name) >= 0)
                return CFAIL(c, s->line, s->col, "domain '%s' is declared twice", s->name);
        if (!domcfg_valid_name(s->name))
                return CFAIL(c, s->line, s->col, "'%s' is not a valid domain name", s->name);
        struct plan_domain *d = &p->domains[p->n_domains++];
        snprintf(d->name, sizeof(d->name), "%s", s->name);
        d->line = s->line;
        d->stop_timeout = 30;
        const struct entry *cfg = NULL;
        for (size_t i = 0; i < s->n; i++) {
                const struct entry *e = &s->e[i];
                const char *v = NULL;
                if (!strcmp(e->key, "config")) {
                        if (want_string(c, e, &v) < 0)
                                return -1;
                        d->config_path = abspath(c, v);
                        cfg = e;
                } else if (!strcmp(e->key, "archive")) {
                        if (want_string(c, e, &v) < 0)
                                return -1;
                        d->archive = abspath(c, v);
                } else if (!strcmp(e->key, "stop_timeout")) {
                        if (e->is_list || e->v[0].s || e->v[0].n < 1 || e->v[0].n > 3600)
                                return CFAIL(c, e->v[0].line, e->v[0].col,
                                             "stop_timeout must be a number of seconds, 1..3600");
                        d->stop_timeout = (int)e->v[0].n;
                } else {
                        return CFAIL(c, e->line, e->col,
                                     "unknown key '%s' in [domain %s] (config, archive, "
                                     "stop_timeout)",
                                     e->key, s->name);
                }
        }
        if (!cfg)
                return CFAIL(c, s->line, s->col, "[domain %s] has no 'config'", s->name);
        d->config_text = read_file(d->config_path);
        if (!d->config_text)
                return CFAIL(c, cfg->v[0].line, cfg->v[0].col, "config: cannot read %s: %s",
                             d->config_path, strerror(errno));
        struct domcfg dc;
        char e[512];
        if (domcfg_parse(d->config_text, d->config_path, &dc, NULL, e, sizeof(e)) < 0)
                return CFAIL(c, cfg->v[0].line, cfg->v[0].col, "domain %s: %s", s->name, e);
        int rc = 0;
        if (strcmp(dc.name, d->name))
                rc = CFAIL(c, cfg->v[0].line, cfg->v[0].col,
                           "domain %s: %s names the domain '%s'; the names must match", s->name,
                           d->config_path, dc.name);
        else if (dc.printer)
                rc = CFAIL(c, cfg->v[0].line, cfg->v[0].col,
                           "domain %s: %s sets 'printer'; the plan's devices own the printer",
                           s->name, d->config_path);
        d->type = strdup(dom_type_name(dc.type));
        if (dc.n_disks)
                d->disk = strdup(dc.disks[0].target);
        domcfg_free(&dc);
        return rc;
}

static int build_device(struct ctx *c, const struct section *s)
{
        struct plan *p = c->p;
        if (p->n_devices == PLAN_MAX_ITEMS)
                return CFAIL(c, s->line, s->col, "more than %d devices", PLAN_MAX_ITEMS);
        if (device_index(p, s->name) >= 0)
                return CFAIL(c, s->line, s->col, "device '%s' is declared twice", s->name);
        struct plan_device *d = &p->devices[p->n_devices++];
        snprintf(d->name, sizeof(d->name), "%s", s->name);
        d->line = s->line;
        for (size_t i = 0; i < s->n; i++) {
                const struct entry *e = &s->e[i];
                const char *v = NULL;
                char **slot = !strcmp(e->key, "kind")    ? &d->kind
                              : !strcmp(e->key, "spool") ? &d->spool
                              : !strcmp(e->key, "usb")   ? &d->usb
                                                         : NULL;
                if (!slot)
                        return CFAIL(c, e->line, e->col,
                                     "unknown key '%s' in [device %s] (kind, spool, usb)", e->key,
                                     s->name);
                if (want_string(c, e, &v) < 0)
                        return -1;
                *slot = !strcmp(e->key, "spool") ? abspath(c, v)
                        : !strcmp(e->key, "usb") ? usb_spec_abspath(c, v)
                                                 : strdup(v);
                if (!strcmp(e->key, "kind") && strcmp(v, "printer") && strcmp(v, "usb"))
                        return CFAIL(c, e->v[0].line, e->v[0].col,
                                     "device %s: kind '%s' is not 'printer' or 'usb'", s->name, v);
        }
        if (!d->kind)
                return CFAIL(c, s->line, s->col, "[device %s] has no 'kind'", s->name);
        if (!strcmp(d->kind, "printer") && !d->spool)
                return CFAIL(c, s->line, s->col, "printer %s needs 'spool' (a host file)", s->name);
        if (!strcmp(d->kind, "usb") && !d->usb)
                return CFAIL(c, s->line, s->col, "usb device %s needs 'usb' (its usb-policy id)",
                             s->name);
        return 0;
}

static int build_sync(struct ctx *c, const struct section *s)
{
        struct plan *p = c->p;
        if (p->n_syncs == PLAN_MAX_ITEMS)
                return CFAIL(c, s->line, s->col, "more than %d sync jobs", PLAN_MAX_ITEMS);
        if (sync_index(p, s->name) >= 0)
                return CFAIL(c, s->line, s->col, "sync job '%s' is declared twice", s->name);
        struct plan_sync *j = &p->syncs[p->n_syncs++];
        snprintf(j->name, sizeof(j->name), "%s", s->name);
        j->line = s->line;
        j->from = -1;
        for (size_t i = 0; i < s->n; i++) {
                const struct entry *e = &s->e[i];
                const char *v = NULL;
                if (strcmp(e->key, "from") && strcmp(e->key, "out") && strcmp(e->key, "state"))
                        return CFAIL(c, e->line, e->col,
                                     "unknown key '%s' in [sync %s] (from, out, state)", e->key,
                                     s->name);
                if (want_string(c, e, &v) < 0)
                        return -1;
                if (!strcmp(e->key, "from")) {
                        j->from = domain_ref(c, &e->v[0], v, 1, "sync from");
                        if (j->from < 0)
                                return -1;
                        if (!p->domains[j->from].disk)
                                return CFAIL(c, e->v[0].line, e->v[0].col,
                                             "sync %s: domain %s has no disk to extract from",
                                             s->name, v);
                } else {
                        *(!strcmp(e->key, "out") ? &j->out : &j->state) = abspath(c, v);
                }
        }
        if (j->from < 0 || !j->out)
                return CFAIL(c, s->line, s->col, "[sync %s] needs 'from' and 'out'", s->name);
        if (!j->state && asprintf(&j->state, "%s/extract.state", j->out) < 0)
                j->state = NULL;
        return j->state ? 0 : CFAIL(c, s->line, s->col, "out of memory");
}

static int domain_list(struct ctx *c, const struct entry *e, int *out, size_t *n, const char *what)
{
        if (want_list(c, e) < 0)
                return -1;
        for (size_t i = 0; i < e->n; i++) {
                int d = domain_ref(c, &e->v[i], e->v[i].s, 1, what);
                if (d < 0)
                        return -1;
                for (size_t k = 0; k < *n; k++)
                        if (out[k] == d)
                                return CFAIL(c, e->v[i].line, e->v[i].col,
                                             "%s: domain '%s' is listed twice", what, e->v[i].s);
                out[(*n)++] = d;
        }
        return 0;
}

static int build_phase(struct ctx *c, const struct section *s, struct plan_phase *ph)
{
        struct plan *p = c->p;
        char what[64];
        ph->line = s->line;
        for (size_t i = 0; i < s->n; i++) {
                const struct entry *e = &s->e[i];
                snprintf(what, sizeof(what), "phase %d: %s", ph->number, e->key);
                if (!strcmp(e->key, "title")) {
                        const char *v = NULL;
                        if (want_string(c, e, &v) < 0)
                                return -1;
                        ph->title = strdup(v);
                } else if (!strcmp(e->key, "run")) {
                        if (domain_list(c, e, ph->run, &ph->n_run, what) < 0)
                                return -1;
                } else if (!strcmp(e->key, "retire")) {
                        if (domain_list(c, e, ph->retire, &ph->n_retire, what) < 0)
                                return -1;
                } else if (!strcmp(e->key, "kiosk")) {
                        if (domain_list(c, e, ph->kiosk, &ph->n_kiosk, what) < 0)
                                return -1;
                } else if (!strcmp(e->key, "sync")) {
                        if (want_list(c, e) < 0)
                                return -1;
                        for (size_t k = 0; k < e->n; k++) {
                                int j = sync_index(p, e->v[k].s);
                                if (j < 0)
                                        return CFAIL(c, e->v[k].line, e->v[k].col,
                                                     "%s: unknown sync job '%s'", what, e->v[k].s);
                                ph->syncs[ph->n_syncs++] = j;
                        }
                } else if (!strcmp(e->key, "devices") || !strcmp(e->key, "routes") ||
                           !strcmp(e->key, "switches")) {
                        if (want_list(c, e) < 0)
                                return -1;
                        bool sw = !strcmp(e->key, "switches");
                        for (size_t k = 0; k < e->n; k++) {
                                const struct value *v = &e->v[k];
                                char *l = NULL, *r = NULL;
                                bool both = false;
                                int rcol = 0;
                                if (split_arrow(c, v, what, &l, &r, sw ? &both : NULL, &rcol) < 0)
                                        return -1;
                                int d = domain_ref(c, v, r, rcol, what);
                                int ld = sw ? domain_ref(c, v, l, 1, what) : 0;
                                free(r);
                                if (d < 0 || ld < 0) {
                                        free(l);
                                        return -1;
                                }
                                if (sw) {
                                        free(l);
                                        ph->switch_from[ph->n_switches] = ld;
                                        ph->switch_to[ph->n_switches++] = d;
                                        if (both) {
                                                ph->switch_from[ph->n_switches] = d;
                                                ph->switch_to[ph->n_switches++] = ld;
                                        }
                                        continue;
                                }
                                struct plan_pair *set = e->key[0] == 'd' ? ph->owners : ph->routes;
                                size_t *n = e->key[0] == 'd' ? &ph->n_owners : &ph->n_routes;
                                if (e->key[0] == 'd' && device_index(p, l) < 0) {
                                        int rc = CFAIL(c, v->line, v->col + 1,
                                                       "%s: unknown device '%s'", what, l);
                                        free(l);
                                        return rc;
                                }
                                for (size_t q = 0; q < *n; q++) {
                                        if (strcmp(set[q].left, l))
                                                continue;
                                        int rc =
                                            e->key[0] == 'd'
                                                ? CFAIL(c, v->line, v->col,
                                                        "%s: device '%s' is given to two "
                                                        "domains, '%s' (column %d) and '%s'",
                                                        what, l, p->domains[set[q].domain].name,
                                                        set[q].col, p->domains[d].name)
                                                : CFAIL(c, v->line, v->col,
                                                        "%s: function '%s' is routed twice", what,
                                                        l);
                                        free(l);
                                        return rc;
                                }
                                set[*n] = (struct plan_pair){l, d, v->line, v->col};
                                (*n)++;
                        }
                } else {
                        return CFAIL(c, e->line, e->col,
                                     "unknown key '%s' in [phase %d] (title, run, retire, devices, "
                                     "routes, kiosk, switches, sync)",
                                     e->key, ph->number);
                }
        }
        /* Everything a phase hands out must go to a domain that runs in it. */
        for (size_t i = 0; i < ph->n_owners; i++)
                if (!plan_phase_runs(ph, ph->owners[i].domain))
                        return CFAIL(c, ph->owners[i].line, ph->owners[i].col,
                                     "phase %d: devices: '%s' goes to %s, which does not run in "
                                     "phase %d",
                                     ph->number, ph->owners[i].left,
                                     p->domains[ph->owners[i].domain].name, ph->number);
        for (size_t i = 0; i < ph->n_routes; i++)
                if (!plan_phase_runs(ph, ph->routes[i].domain))
                        return CFAIL(c, ph->routes[i].line, ph->routes[i].col,
                                     "phase %d: routes: '%s' goes to %s, which does not run in "
                                     "phase %d",
                                     ph->number, ph->routes[i].left,
                                     p->domains[ph->routes[i].domain].name, ph->number);
        for (size_t i = 0; i < ph->n_kiosk; i++)
                if (!plan_phase_runs(ph, ph->kiosk[i]))
                        return CFAIL(c, s->line, s->col,
                                     "phase %d: kiosk shows %s, which does not run in phase %d",
                                     ph->number, p->domains[ph->kiosk[i]].name, ph->number);
        for (size_t i = 0; i < ph->n_switches; i++)
                for (int k = 0; k < 2; k++) {
                        int d = k ? ph->switch_to[i] : ph->switch_from[i];
                        bool shown = false;
                        for (size_t q = 0; q < ph->n_kiosk; q++)
                                shown |= ph->kiosk[q] == d;
                        if (!shown)
                                return CFAIL(c, s->line, s->col,
                                             "phase %d: switches name %s, which the kiosk does "
                                             "not show",
                                             ph->number, p->domains[d].name);
                }
        for (size_t i = 0; i < ph->n_retire; i++) {
                if (plan_phase_runs(ph, ph->retire[i]))
                        return CFAIL(c, s->line, s->col, "phase %d: %s is both run and retired",
                                     ph->number, p->domains[ph->retire[i]].name);
                if (!p->domains[ph->retire[i]].archive)
                        return CFAIL(c, s->line, s->col,
                                     "phase %d: retiring %s needs 'archive' in [domain %s]",
                                     ph->number, p->domains[ph->retire[i]].name,
                                     p->domains[ph->retire[i]].name);
        }
        return 0;
}

static int plan_build(struct ctx *c, struct section *sec, size_t n)
{
        struct plan *p = c->p;
        const char *order[] = {"plan", "domain", "device", "sync"};
        for (size_t pass = 0; pass < 4; pass++)
                for (size_t i = 0; i < n; i++) {
                        struct section *s = &sec[i];
                        if (strcmp(s->kind, order[pass]))
                                continue;
                        int rc = 0;
                        if (pass == 0) {
                                for (size_t k = 0; k < s->n && !rc; k++) {
                                        const char *v = NULL;
                                        if (strcmp(s->e[k].key, "title"))
                                                rc = CFAIL(c, s->e[k].line, s->e[k].col,
                                                           "unknown key '%s' before the first "
                                                           "section (title)",
                                                           s->e[k].key);
                                        else if ((rc = want_string(c, &s->e[k], &v)) == 0)
                                                p->title = strdup(v);
                                }
                        } else {
                                rc = pass == 1   ? build_domain(c, s)
                                     : pass == 2 ? build_device(c, s)
                                                 : build_sync(c, s);
                        }
                        if (rc < 0)
                                return -1;
                }
        /* Phases: numbered 1..N with none skipped, in any order in the file. */
        int seen[PLAN_MAX_PHASES + 1] = {0};
        int max = 0;
        for (size_t i = 0; i < n; i++) {
                struct section *s = &sec[i];
                if (!strcmp(s->kind, "plan") || !strcmp(s->kind, "domain") ||
                    !strcmp(s->kind, "device") || !strcmp(s->kind, "sync"))
                        continue;
                if (strcmp(s->kind, "phase"))
                        return CFAIL(c, s->line, s->col,
                                     "unknown section [%s %s] (domain, device, sync, phase)",
                                     s->kind, s->name);
                char *end;
                long num = strtol(s->name, &end, 10);
                if (*end || num < 1 || num > PLAN_MAX_PHASES)
                        return CFAIL(c, s->line, s->col, "phase '%s' is not a number 1..%d",
                                     s->name, PLAN_MAX_PHASES);
                if (seen[num])
                        return CFAIL(c, s->line, s->col,
                                     "phase %ld is declared twice (first on "
                                     "line %d)",
                                     num, seen[num]);
                seen[num] = s->line;
                if (num > max)
                        max = (int)num;
        }
        if (!max)
                return CFAIL(c, 1, 1, "the plan has no [phase N] section");
        for (int k = 1; k <= max; k++)
                if (!seen[k]) {
                        int next = k + 1;
                        while (!seen[next])
                                next++;
                        return CFAIL(c, seen[next], 1,
                                     "phase %d follows phase %d: phase %d is missing (phases go "
                                     "one at a time)",
                                     next, k - 1, k);
                }
        p->n_phases = (size_t)max;
        for (size_t i = 0; i < n; i++) {
                if (strcmp(sec[i].kind, "phase"))
                        continue;
                int num = atoi(sec[i].name);
                p->phases[num - 1].number = num;
                if (build_phase(c, &sec[i], &p->phases[num - 1]) < 0)
                        return -1;
        }
        /* A retired domain stays retired. */
        for (size_t i = 0; i + 1 < p->n_phases; i++)
                for (size_t r = 0; r < p->phases[i].n_retire; r++)
                        for (size_t k = i + 1; k < p->n_phases; k++)
                                if (plan_phase_runs(&p->phases[k], p->phases[i].retire[r]))
                                        return CFAIL(c, p->phases[k].line, 1,
                                                     "phase %zu runs %s, retired in phase %zu",
                                                     k + 1, p->domains[p->phases[i].retire[r]].name,
                                                     i + 1);
        return 0;
}

int plan_parse(struct plan *p, const char *text, const char *path, char *err, size_t errlen)
{
        memset(p, 0, sizeof(*p));
        struct lexer lx = {
            .t = text, .path = path, .line = 1, .col = 1, .err = err, .errlen = errlen};
        int rc = lex(&lx);
        if (rc == 0) {
                struct ctx c = {.p = p, .path = path, .err = err, .errlen = errlen};
                const char *slash = strrchr(path, '/');
                c.dir = slash ? strndup(path, (size_t)(slash - path) + 1) : strdup("");
                rc = c.dir ? plan_build(&c, lx.sec, lx.n_sec)
                           : fail_at(err, errlen, path, 1, 1, "out of memory");
                free(c.dir);
        }
        for (size_t i = 0; i < lx.n_sec; i++) {
                for (size_t k = 0; k < lx.sec[i].n; k++)
                        for (size_t v = 0; v < lx.sec[i].e[k].n; v++)
                                free(lx.sec[i].e[k].v[v].s);
                free(lx.sec[i].e);
        }
        free(lx.sec);
        if (rc < 0)
                plan_free(p);
        return rc;
}

void plan_free(struct plan *p)
{
        free(p->title);
        for (size_t i = 0; i < p->n_domains; i++) {
                struct plan_domain *d = &p->domains[i];
                free(d->config_path);
                free(d->config_text);
                free(d->type);
                free(d->disk);
                free(d->archive);
        }
        for (size_t i = 0; i < p->n_devices; i++) {
                free(p->devices[i].kind);
                free(p->devices[i].spool);
                free(p->devices[i].usb);
        }
        for (size_t i = 0; i < p->n_syncs; i++) {
                free(p->syncs[i].out);
                free(p->syncs[i].state);
        }
        for (size_t i = 0; i < PLAN_MAX_PHASES; i++) {
                struct plan_phase *ph = &p->phases[i];
                free(ph->title);
                for (size_t k = 0; k < ph->n_owners; k++)
                        free(ph->owners[k].left);
                for (size_t k = 0; k < ph->n_routes; k++)
                        free(ph->routes[k].left);
        }
        memset(p, 0, sizeof(*p));
}

bool plan_phase_runs(const struct plan_phase *ph, int domain)
{
        for (size_t i = 0; i < ph->n_run; i++)
                if (ph->run[i] == domain)
                        return true;
        return false;
}

bool plan_phase_retires(const struct plan_phase *ph, int domain)
{
        for (size_t i = 0; i < ph->n_retire; i++)
                if (ph->retire[i] == domain)
                        return true;
        return false;
}

int plan_phase_owner(const struct plan_phase *ph, const struct plan *p, int device)
{
        for (size_t i = 0; i < ph->n_owners; i++)
                if (!strcmp(ph->owners[i].left, p->devices[device].name))
                        return ph->owners[i].domain;
        return -1;
}

char *plan_domain_config(const struct plan *p, const struct plan_phase *ph, int domain)
{
        const struct plan_domain *d = &p->domains[domain];
        char *out = strdup(d->config_text);
        for (size_t i = 0; out && i < p->n_devices; i++) {
                const struct plan_device *dev = &p->devices[i];
                /* The printer port belongs to the legacy guest's PV printer;
                 * other devices move through usb-attach (phase_engine.c). */
                if (strcmp(dev->kind, "printer") || strcmp(d->type, "tandem-legacy") ||
                    plan_phase_owner(ph, p, (int)i) != domain)
                        continue;
                char *n;
                if (asprintf(&n, "%s\n# phase %d: device %s\nprinter = \"%s\"\n", out, ph->number,
                             dev->name, dev->spool) < 0)
                        n = NULL;
                free(out);
                out = n;
        }
        return out;
}

json_object *plan_phase_to_json(const struct plan *p, const struct plan_phase *ph)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "phase", json_object_new_int(ph->number));
        json_object_object_add(o, "title", json_object_new_string(ph->title ? ph->title : ""));
        json_object *run = json_object_new_array(), *ret = json_object_new_array();
        for (size_t i = 0; i < ph->n_run; i++)
                json_object_array_add(run, json_object_new_string(p->domains[ph->run[i]].name));
        for (size_t i = 0; i < ph->n_retire; i++)
                json_object_array_add(ret, json_object_new_string(p->domains[ph->retire[i]].name));
        json_object_object_add(o, "run", run);
        json_object_object_add(o, "retire", ret);
        json_object *dev = json_object_new_object(), *routes = json_object_new_object();
        for (size_t i = 0; i < ph->n_owners; i++)
                json_object_object_add(
                    dev, ph->owners[i].left,
                    json_object_new_string(p->domains[ph->owners[i].domain].name));
        for (size_t i = 0; i < ph->n_routes; i++)
                json_object_object_add(
                    routes, ph->routes[i].left,
                    json_object_new_string(p->domains[ph->routes[i].domain].name));
        json_object_object_add(o, "devices", dev);
        json_object_object_add(o, "routes", routes);
        json_object *kiosk = json_object_new_object(), *shown = json_object_new_array(),
                    *sw = json_object_new_array();
        for (size_t i = 0; i < ph->n_kiosk; i++)
                json_object_array_add(shown, json_object_new_string(p->domains[ph->kiosk[i]].name));
        for (size_t i = 0; i < ph->n_switches; i++) {
                json_object *pair = json_object_new_object();
                json_object_object_add(pair, "from",
                                       json_object_new_string(p->domains[ph->switch_from[i]].name));
                json_object_object_add(pair, "to",
                                       json_object_new_string(p->domains[ph->switch_to[i]].name));
                json_object_array_add(sw, pair);
        }
        json_object_object_add(kiosk, "shows", shown);
        json_object_object_add(kiosk, "switches", sw);
        json_object_object_add(o, "kiosk", kiosk);
        json_object *syncs = json_object_new_array();
        for (size_t i = 0; i < ph->n_syncs; i++)
                json_object_array_add(syncs, json_object_new_string(p->syncs[ph->syncs[i]].name));
        json_object_object_add(o, "sync", syncs);
        return o;
}
