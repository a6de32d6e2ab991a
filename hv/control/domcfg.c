/* The xl.cfg subset (docs/config.md): a lexer for xl's value syntax
 * (strings, integers, lists), then one handler per key. */
#include "domcfg.h"
#include "net_vif.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum val_kind { VAL_STRING, VAL_INT, VAL_LIST };

struct val {
        enum val_kind kind;
        int line;
        char *s;
        long long n;
        struct val *items;
        size_t n_items;
};

struct parser {
        const char *p;
        const char *path;
        int line;
        char *err;
        size_t errlen;
        json_object *warnings;
        char dir[4096]; /* directory of path, for relative file names */
};

static int fail(struct parser *ps, int line, const char *fmt, ...)
{
        char msg[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(ps->err, ps->errlen, "%s:%d: %s", ps->path, line, msg);
        return -1;
}

static void warn(struct parser *ps, int line, const char *fmt, ...)
{
        if (!ps->warnings)
                return;
        char msg[400], full[600];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(full, sizeof(full), "%s:%d: warning: %s", ps->path, line, msg);
        json_object_array_add(ps->warnings, json_object_new_string(full));
}

static void val_free(struct val *v)
{
        free(v->s);
        for (size_t i = 0; i < v->n_items; i++)
                val_free(&v->items[i]);
        free(v->items);
        memset(v, 0, sizeof(*v));
}

/* Skips blanks and comments; with newlines true also line breaks. */
static void skip_space(struct parser *ps, bool newlines)
{
        for (;;) {
                char c = *ps->p;
                if (c == ' ' || c == '\t' || c == '\r') {
                        ps->p++;
                } else if (c == '#') {
                        while (*ps->p && *ps->p != '\n')
                                ps->p++;
                } else if (c == '\n' && newlines) {
                        ps->line++;
                        ps->p++;
                } else {
                        return;
                }
        }
}

static int parse_value(struct parser *ps, struct val *v, int depth);

static int parse_string(struct parser *ps, struct val *v)
{
        char q = *ps->p++;
        size_t cap = 64, len = 0;
        char *s = malloc(cap);
        if (!s)
                return fail(ps, ps->line, "out of memory");
        for (;;) {
                char c = *ps->p;
                if (c == '\0' || c == '\n') {
                        free(s);
                        return fail(ps, v->line, "unterminated string");
                }
                ps->p++;
                if (c == q)
                        break;
                if (c == '\\') {
                        char e = *ps->p;
                        if (e == '\0' || e == '\n') {
                                free(s);
                                return fail(ps, v->line, "unterminated string");
                        }
                        ps->p++;
                        c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
                }
                if (c == '\0' || (unsigned char)c < 0x20) {
                        free(s);
                        return fail(ps, v->line, "control character in string");
                }
                if (len + 2 > cap) {
                        cap *= 2;
                        char *n = realloc(s, cap);
                        if (!n) {
                                free(s);
                                return fail(ps, v->line, "out of memory");
                        }
                        s = n;
                }
                s[len++] = c;
        }
        s[len] = '\0';
        v->kind = VAL_STRING;
        v->s = s;
        return 0;
}

static int parse_list(struct parser *ps, struct val *v, int depth)
{
        ps->p++; /* [ */
        v->kind = VAL_LIST;
        for (;;) {
                skip_space(ps, true);
                if (*ps->p == ']') {
                        ps->p++;
                        return 0;
                }
                if (*ps->p == '\0')
                        return fail(ps, v->line, "list opened here is not closed with ']'");
                struct val item = {0};
                if (parse_value(ps, &item, depth + 1) < 0)
                        return -1;
                struct val *n = realloc(v->items, (v->n_items + 1) * sizeof(*n));
                if (!n) {
                        val_free(&item);
                        return fail(ps, ps->line, "out of memory");
                }
                v->items = n;
                v->items[v->n_items++] = item;
                skip_space(ps, true);
                if (*ps->p == ',') {
                        ps->p++;
                } else if (*ps->p != ']') {
                        if (*ps->p == '\0')
                                return fail(ps, v->line, "list opened here is not closed with ']'");
                        return fail(ps, ps->line, "expected ',' or ']' in list, found '%c'",
                                    *ps->p);
                }
        }
}

static int parse_value(struct parser *ps, struct val *v, int depth)
{
        v->line = ps->line;
        char c = *ps->p;
        if (depth > 4)
                return fail(ps, ps->line, "lists nested too deeply");
        if (c == '"' || c == '\'')
                return parse_string(ps, v);
        if (c == '[')
                return parse_list(ps, v, depth);
        if (isdigit((unsigned char)c) || c == '-') {
                char *end;
                errno = 0;
                long long n = strtoll(ps->p, &end, 0);
                if (errno || (*end && !strchr(" \t\r\n#,;]", *end)))
                        return fail(ps, ps->line, "bad number '%.*s'",
                                    (int)strcspn(ps->p, " \t\r\n#,;]"), ps->p);
                v->kind = VAL_INT;
                v->n = n;
                ps->p = end;
                return 0;
        }
        if (c == '\0' || c == '\n')
                return fail(ps, ps->line, "missing value");
        return fail(ps, ps->line, "expected a quoted string, a number or a [list], found '%.*s'",
                    (int)strcspn(ps->p, " \t\r\n#,;]"), ps->p);
}

/* ---- key handlers ---- */

static int want_string(struct parser *ps, const char *key, const struct val *v)
{
        if (v->kind != VAL_STRING)
                return fail(ps, v->line, "%s: expected a quoted string", key);
        return 0;
}

static int want_int(struct parser *ps, const char *key, const struct val *v, long long lo,
                    long long hi, const char *unit)
{
        if (v->kind != VAL_INT)
                return fail(ps, v->line, "%s: expected an integer%s", key, unit);
        if (v->n < lo || v->n > hi)
                return fail(ps, v->line, "%s: %lld is out of range %lld..%lld%s", key, v->n, lo, hi,
                            unit);
        return 0;
}

static int want_list(struct parser *ps, const char *key, const struct val *v, size_t max)
{
        if (v->kind != VAL_LIST)
                return fail(ps, v->line, "%s: expected a [list] of quoted strings", key);
        if (v->n_items > max)
                return fail(ps, v->line, "%s: at most %zu entries are supported", key, max);
        for (size_t i = 0; i < v->n_items; i++)
                if (v->items[i].kind != VAL_STRING)
                        return fail(ps, v->items[i].line, "%s: entry %zu is not a quoted string",
                                    key, i + 1);
        return 0;
}

static char *resolve_path(struct parser *ps, const char *s)
{
        if (s[0] == '/' || !ps->dir[0])
                return strdup(s);
        char *out;
        if (asprintf(&out, "%s/%s", ps->dir, s) < 0)
                return NULL;
        return out;
}

static int parse_action(struct parser *ps, const char *key, const struct val *v,
                        enum dom_action *out)
{
        if (want_string(ps, key, v) < 0)
                return -1;
        if (!strcmp(v->s, "destroy"))
                *out = DOM_ACT_DESTROY;
        else if (!strcmp(v->s, "restart"))
                *out = DOM_ACT_RESTART;
        else if (!strcmp(v->s, "preserve"))
                *out = DOM_ACT_PRESERVE;
        else
                return fail(ps, v->line, "%s: '%s' is not one of destroy, restart, preserve", key,
                            v->s);
        return 0;
}

static bool valid_vdev(const char *s)
{
        static const char *const prefixes[] = {"xvd", "hd", "sd", "vd"};
        for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
                size_t n = strlen(prefixes[i]);
                if (!strncmp(s, prefixes[i], n)) {
                        const char *r = s + n;
                        if (!*r || strlen(r) > 2)
                                return false;
                        for (; *r; r++)
                                if (*r < 'a' || *r > 'z')
                                        return false;
                        return true;
                }
        }
        return false;
}

static int disk_set(struct parser *ps, int line, struct dom_disk *d, const char *key,
                    const char *val, char **target)
{
        if (!strcmp(key, "format")) {
                if (strcmp(val, "raw") && strcmp(val, "qcow2") && strcmp(val, "vhd") &&
                    strcmp(val, "vmdk"))
                        return fail(ps, line,
                                    "disk: format '%s' is not one of raw, qcow2, vhd, vmdk", val);
                snprintf(d->format, sizeof(d->format), "%s", val);
        } else if (!strcmp(key, "vdev")) {
                if (!valid_vdev(val))
                        return fail(ps, line, "disk: vdev '%s' is not a disk name like xvda", val);
                snprintf(d->vdev, sizeof(d->vdev), "%s", val);
        } else if (!strcmp(key, "access")) {
                if (!strcmp(val, "rw") || !strcmp(val, "w"))
                        d->readonly = false;
                else if (!strcmp(val, "ro") || !strcmp(val, "r"))
                        d->readonly = true;
                else
                        return fail(ps, line, "disk: access '%s' is not one of rw, ro", val);
        } else if (!strcmp(key, "target")) {
                *target = (char *)val;
        } else if (!strcmp(key, "devtype") || !strcmp(key, "backendtype") ||
                   !strcmp(key, "script")) {
                warn(ps, line, "disk: '%s' is not supported by tandem and is ignored", key);
        } else {
                return fail(ps, line, "disk: unknown key '%s'", key);
        }
        return 0;
}

/* Both xl disk syntaxes: positional "target,format,vdev,access" and
 * "key=value, ..., target=path" (target last: it may contain commas). */
static int parse_disk(struct parser *ps, const struct val *v, struct dom_disk *d)
{
        char *spec = strdup(v->s);
        char *target = NULL;
        int positional = 0, rc = -1;
        snprintf(d->format, sizeof(d->format), "raw");
        d->readonly = false;
        if (!spec)
                return fail(ps, v->line, "out of memory");
        char *p = spec;
        for (;;) {
                while (*p == ' ')
                        p++;
                if (!strncmp(p, "target=", 7)) {
                        target = p + 7;
                        break;
                }
                char *comma = strchr(p, ',');
                if (comma)
                        *comma = '\0';
                char *end = p + strlen(p);
                while (end > p && end[-1] == ' ')
                        *--end = '\0';
                char *eq = strchr(p, '=');
                if (eq) {
                        *eq = '\0';
                        if (disk_set(ps, v->line, d, p, eq + 1, &target) < 0)
                                goto out;
                } else {
                        static const char *const order[] = {"target", "format", "vdev", "access"};
                        if (positional >= 4) {
                                fail(ps, v->line, "disk: too many positional fields in '%s'", v->s);
                                goto out;
                        }
                        if (*p && disk_set(ps, v->line, d, order[positional], p, &target) < 0)
                                goto out;
                        positional++;
                }
                if (!comma)
                        break;
                p = comma + 1;
        }
        if (!target || !*target) {
                fail(ps, v->line, "disk: no target (file) in '%s'", v->s);
                goto out;
        }
        if (!d->vdev[0]) {
                fail(ps, v->line, "disk: no vdev (e.g. xvda) in '%s'", v->s);
                goto out;
        }
        d->target = resolve_path(ps, target);
        rc = d->target ? 0 : fail(ps, v->line, "out of memory");
out:
        free(spec);
        return rc;
}

static bool valid_mac(const char *s)
{
        if (strlen(s) != 17)
                return false;
        for (int i = 0; i < 17; i++) {
                if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
                        return false;
        }
        return true;
}

static int parse_vif(struct parser *ps, const struct val *v, struct dom_vif *vif)
{
        char *spec = strdup(v->s), *save = NULL;
        if (!spec)
                return fail(ps, v->line, "out of memory");
        for (char *kv = strtok_r(spec, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
                while (*kv == ' ')
                        kv++;
                char *eq = strchr(kv, '=');
                if (!eq) {
                        fail(ps, v->line, "vif: '%s' is not key=value", kv);
                        free(spec);
                        return -1;
                }
                *eq = '\0';
                const char *val = eq + 1;
                if (!strcmp(kv, "mac")) {
                        if (!valid_mac(val)) {
                                fail(ps, v->line, "vif: mac '%s' is not like 00:16:3e:01:02:03",
                                     val);
                                free(spec);
                                return -1;
                        }
                        snprintf(vif->mac, sizeof(vif->mac), "%s", val);
                } else if (!strcmp(kv, "bridge")) {
                        free(vif->bridge);
                        vif->bridge = strdup(val);
                } else if (!strcmp(kv, "model")) {
                        free(vif->model);
                        vif->model = strdup(val);
                } else if (!strcmp(kv, "type") || !strcmp(kv, "vlan") ||
                           !strcmp(kv, "hostfwd")) {
                        const char *why = net_vif_option(vif, kv, val);
                        if (why) {
                                fail(ps, v->line, "vif: %s", why);
                                free(spec);
                                return -1;
                        }
                } else if (!strcmp(kv, "script") || !strcmp(kv, "ip") ||
                           !strcmp(kv, "vifname") || !strcmp(kv, "rate")) {
                        warn(ps, v->line, "vif: '%s' is not supported by tandem and is ignored",
                             kv);
                } else {
                        fail(ps, v->line, "vif: unknown key '%s'", kv);
                        free(spec);
                        return -1;
                }
        }
        free(spec);
        return 0;
}

static int parse_vfb(struct parser *ps, const struct val *v, struct domcfg *cfg)
{
        for (size_t i = 0; i < v->n_items; i++) {
                char *spec = strdup(v->items[i].s), *save = NULL;
                if (!spec)
                        return fail(ps, v->line, "out of memory");
                for (char *kv = strtok_r(spec, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
                        while (*kv == ' ')
                                kv++;
                        char *eq = strchr(kv, '=');
                        const char *val = eq ? eq + 1 : "";
                        if (eq)
                                *eq = '\0';
                        if (!strcmp(kv, "resolution")) {
                                unsigned w, h;
                                char tail;
                                if (sscanf(val, "%ux%u%c", &w, &h, &tail) != 2 || w < 320 ||
                                    h < 200 || w > 4096 || h > 4096) {
                                        fail(ps, v->items[i].line,
                                             "vfb: resolution '%s' is not WxH within "
                                             "320x200..4096x4096",
                                             val);
                                        free(spec);
                                        return -1;
                                }
                                cfg->fb_width = w;
                                cfg->fb_height = h;
                        } else if (!strcmp(kv, "vnc") || !strcmp(kv, "sdl") ||
                                   !strcmp(kv, "vnclisten") || !strcmp(kv, "vncdisplay") ||
                                   !strcmp(kv, "vncpasswd") || !strcmp(kv, "keymap") ||
                                   !strcmp(kv, "vncunused") || !strcmp(kv, "display") ||
                                   !strcmp(kv, "xauthority") || !strcmp(kv, "opengl")) {
                                warn(ps, v->items[i].line,
                                     "vfb: '%s' is ignored (tandem shows displays in its shell)",
                                     kv);
                        } else {
                                fail(ps, v->items[i].line, "vfb: unknown key '%s'", kv);
                                free(spec);
                                return -1;
                        }
                }
                free(spec);
        }
        cfg->vfb = v->n_items > 0;
        return 0;
}

static int parse_usbdev(struct parser *ps, const struct val *v, char **out)
{
        char *spec = strdup(v->s), *save = NULL;
        if (!spec)
                return fail(ps, v->line, "out of memory");
        bool any = false;
        for (char *kv = strtok_r(spec, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
                while (*kv == ' ')
                        kv++;
                char *eq = strchr(kv, '=');
                if (!eq || !eq[1]) {
                        fail(ps, v->line, "usbdev: '%s' is not key=value", kv);
                        free(spec);
                        return -1;
                }
                *eq = '\0';
                char *end;
                if (!strcmp(kv, "hostbus") || !strcmp(kv, "hostaddr") || !strcmp(kv, "vendorid") ||
                    !strcmp(kv, "productid")) {
                        unsigned long n = strtoul(eq + 1, &end, 0);
                        if (*end || n > 0xffff) {
                                fail(ps, v->line, "usbdev: %s '%s' is not a number 0..0xffff", kv,
                                     eq + 1);
                                free(spec);
                                return -1;
                        }
                        any = true;
                } else if (strcmp(kv, "devtype") && strcmp(kv, "controller") &&
                           strcmp(kv, "port")) {
                        fail(ps, v->line, "usbdev: unknown key '%s'", kv);
                        free(spec);
                        return -1;
                }
        }
        free(spec);
        if (!any)
                return fail(ps, v->line,
                            "usbdev: '%s' names no device (hostbus/hostaddr or vendorid/productid)",
                            v->s);
        *out = strdup(v->s);
        return 0;
}

bool domcfg_valid_name(const char *name)
{
        size_t n = strlen(name);
        if (n == 0 || n > DOMCFG_NAME_MAX || name[0] == '-' || name[0] == '.')
                return false;
        for (const char *c = name; *c; c++)
                if (!isalnum((unsigned char)*c) && !strchr("-_.", *c))
                        return false;
        return true;
}

/* Keys xl knows that tandem accepts and ignores (warned once each). */
static const char *const ignored_keys[] = {"uuid",
                                           "maxmem",
                                           "maxvcpus",
                                           "cpus",
                                           "builder",
                                           "boot",
                                           "device_model_version",
                                           "device_model_override",
                                           "localtime",
                                           "serial",
                                           "acpi",
                                           "apic",
                                           "pae",
                                           "hap",
                                           "nestedhvm",
                                           "viridian",
                                           "bootloader",
                                           "bootloader_args",
                                           "max_grant_frames",
                                           "vga",
                                           "videoram",
                                           "stdvga",
                                           "sdl",
                                           "vnc",
                                           "keymap",
                                           "soundhw",
                                           "usb",
                                           "usbversion"};

static int assign(struct parser *ps, const char *key, int keyline, struct val *v,
                  struct domcfg *cfg)
{
        if (!strcmp(key, "name")) {
                if (want_string(ps, key, v) < 0)
                        return -1;
                if (!domcfg_valid_name(v->s))
                        return fail(ps, v->line,
                                    "name: '%s' must be 1-%d characters of A-Z a-z 0-9 - _ . and "
                                    "not start with - or .",
                                    v->s, DOMCFG_NAME_MAX);
                snprintf(cfg->name, sizeof(cfg->name), "%s", v->s);
        } else if (!strcmp(key, "type")) {
                if (want_string(ps, key, v) < 0)
                        return -1;
                if (!strcmp(v->s, "pvh"))
                        cfg->type = DOM_TYPE_PVH;
                else if (!strcmp(v->s, "tandem-legacy"))
                        cfg->type = DOM_TYPE_LEGACY;
                else if (!strcmp(v->s, "pv") || !strcmp(v->s, "hvm"))
                        return fail(ps, v->line,
                                    "type: '%s' is not supported; use \"pvh\" or \"tandem-legacy\"",
                                    v->s);
                else
                        return fail(ps, v->line, "type: '%s' is not one of pvh, tandem-legacy",
                                    v->s);
        } else if (!strcmp(key, "memory")) {
                if (want_int(ps, key, v, 1, 1 << 20, " (MiB)") < 0)
                        return -1;
                cfg->memory_mib = (uint64_t)v->n;
        } else if (!strcmp(key, "vcpus")) {
                if (want_int(ps, key, v, 1, 64, "") < 0)
                        return -1;
                cfg->vcpus = (unsigned)v->n;
        } else if (!strcmp(key, "kernel") || !strcmp(key, "ramdisk") || !strcmp(key, "printer")) {
                if (want_string(ps, key, v) < 0)
                        return -1;
                if (!v->s[0])
                        return fail(ps, v->line, "%s: empty file name", key);
                char **dst = !strcmp(key, "kernel")    ? &cfg->kernel
                             : !strcmp(key, "ramdisk") ? &cfg->ramdisk
                                                       : &cfg->printer;
                free(*dst);
                *dst = resolve_path(ps, v->s);
        } else if (!strcmp(key, "extra") || !strcmp(key, "cmdline") || !strcmp(key, "root")) {
                if (want_string(ps, key, v) < 0)
                        return -1;
                if (strlen(v->s) > 2048)
                        return fail(ps, v->line, "%s: longer than 2048 bytes", key);
                char *joined = NULL;
                int r;
                if (!strcmp(key, "root"))
                        r = asprintf(&joined, "root=%s%s%s", v->s, cfg->cmdline ? " " : "",
                                     cfg->cmdline ? cfg->cmdline : "");
                else
                        r = asprintf(&joined, "%s%s%s", cfg->cmdline ? cfg->cmdline : "",
                                     cfg->cmdline ? " " : "", v->s);
                if (r < 0)
                        return fail(ps, v->line, "out of memory");
                free(cfg->cmdline);
                cfg->cmdline = joined;
        } else if (!strcmp(key, "disk")) {
                if (want_list(ps, key, v, DOMCFG_MAX_DISKS) < 0)
                        return -1;
                for (size_t i = 0; i < v->n_items; i++) {
                        struct dom_disk *d = &cfg->disks[cfg->n_disks];
                        if (parse_disk(ps, &v->items[i], d) < 0)
                                return -1;
                        cfg->n_disks++; /* owned by cfg from here, even on error */
                        for (size_t j = 0; j + 1 < cfg->n_disks; j++)
                                if (!strcmp(cfg->disks[j].vdev, d->vdev))
                                        return fail(ps, v->items[i].line,
                                                    "disk: vdev '%s' is used twice", d->vdev);
                }
        } else if (!strcmp(key, "vif")) {
                if (want_list(ps, key, v, DOMCFG_MAX_VIFS) < 0)
                        return -1;
                for (size_t i = 0; i < v->n_items; i++)
                        if (parse_vif(ps, &v->items[i], &cfg->vifs[cfg->n_vifs++]) < 0)
                                return -1;
        } else if (!strcmp(key, "vfb")) {
                if (want_list(ps, key, v, 1) < 0)
                        return -1;
                return parse_vfb(ps, v, cfg);
        } else if (!strcmp(key, "usbdev")) {
                if (want_list(ps, key, v, DOMCFG_MAX_USB) < 0)
                        return -1;
                for (size_t i = 0; i < v->n_items; i++)
                        if (parse_usbdev(ps, &v->items[i], &cfg->usbdevs[cfg->n_usbdevs++]) < 0)
                                return -1;
        } else if (!strcmp(key, "sound")) {
                /* pulse[:SERVER], wav:PATH (relative to the config) or none */
                if (want_string(ps, key, v) < 0)
                        return -1;
                free(cfg->sound);
                cfg->sound = NULL;
                if (!strncmp(v->s, "wav:", 4) && v->s[4]) {
                        char *path = resolve_path(ps, v->s + 4);
                        if (path && asprintf(&cfg->sound, "wav:%s", path) < 0)
                                cfg->sound = NULL;
                        free(path);
                } else if (!strcmp(v->s, "pulse") || !strncmp(v->s, "pulse:", 6)) {
                        cfg->sound = strdup(v->s);
                } else if (strcmp(v->s, "none")) {
                        return fail(ps, v->line,
                                    "sound: '%s' is not pulse, pulse:SERVER, wav:PATH or none",
                                    v->s);
                }
                if (strcmp(v->s, "none") && !cfg->sound)
                        return fail(ps, v->line, "out of memory");
        } else if (!strcmp(key, "on_poweroff")) {
                return parse_action(ps, key, v, &cfg->on_poweroff);
        } else if (!strcmp(key, "on_reboot")) {
                return parse_action(ps, key, v, &cfg->on_reboot);
        } else if (!strcmp(key, "on_crash")) {
                return parse_action(ps, key, v, &cfg->on_crash);
        } else {
                for (size_t i = 0; i < sizeof(ignored_keys) / sizeof(ignored_keys[0]); i++) {
                        if (!strcmp(key, ignored_keys[i])) {
                                warn(ps, keyline, "'%s' is not supported by tandem and is ignored",
                                     key);
                                return 0;
                        }
                }
                warn(ps, keyline, "unknown key '%s' ignored", key);
        }
        return 0;
}

int domcfg_parse(const char *text, const char *path, struct domcfg *cfg, json_object *warnings,
                 char *err, size_t errlen)
{
        struct parser ps = {
            .p = text, .path = path, .line = 1, .err = err, .errlen = errlen, .warnings = warnings};
        memset(cfg, 0, sizeof(*cfg));
        cfg->memory_mib = 128;
        cfg->vcpus = 1;
        cfg->on_poweroff = DOM_ACT_DESTROY;
        cfg->on_reboot = DOM_ACT_RESTART;
        cfg->on_crash = DOM_ACT_DESTROY;
        cfg->fb_width = 1024;
        cfg->fb_height = 768;
        const char *slash = strrchr(path, '/');
        if (slash && (size_t)(slash - path) < sizeof(ps.dir))
                snprintf(ps.dir, sizeof(ps.dir), "%.*s", (int)(slash - path), path);
        if (slash == path)
                snprintf(ps.dir, sizeof(ps.dir), "/");

        char seen[64][32];
        size_t n_seen = 0;
        for (;;) {
                skip_space(&ps, true);
                if (!*ps.p)
                        break;
                if (*ps.p == ';') {
                        ps.p++;
                        continue;
                }
                int keyline = ps.line;
                char key[32];
                size_t kl = 0;
                if (!isalpha((unsigned char)*ps.p) && *ps.p != '_') {
                        fail(&ps, keyline, "expected a key name, found '%c'", *ps.p);
                        goto bad;
                }
                while (isalnum((unsigned char)*ps.p) || *ps.p == '_') {
                        if (kl + 1 >= sizeof(key)) {
                                fail(&ps, keyline, "key name too long");
                                goto bad;
                        }
                        key[kl++] = *ps.p++;
                }
                key[kl] = '\0';
                skip_space(&ps, false);
                if (*ps.p != '=') {
                        fail(&ps, keyline, "expected '=' after '%s'", key);
                        goto bad;
                }
                ps.p++;
                skip_space(&ps, false);
                struct val v = {0};
                if (parse_value(&ps, &v, 0) < 0) {
                        val_free(&v);
                        goto bad;
                }
                skip_space(&ps, false);
                if (*ps.p && *ps.p != '\n' && *ps.p != ';') {
                        val_free(&v);
                        fail(&ps, ps.line, "unexpected '%c' after the value of '%s'", *ps.p, key);
                        goto bad;
                }
                for (size_t i = 0; i < n_seen; i++) {
                        if (!strcmp(seen[i], key)) {
                                val_free(&v);
                                fail(&ps, keyline, "'%s' is set twice", key);
                                goto bad;
                        }
                }
                if (n_seen < 64)
                        snprintf(seen[n_seen++], sizeof(seen[0]), "%s", key);
                int r = assign(&ps, key, keyline, &v, cfg);
                val_free(&v);
                if (r < 0)
                        goto bad;
        }
        if (!cfg->name[0]) {
                fail(&ps, ps.line, "'name' is required");
                goto bad;
        }
        if (!cfg->kernel) {
                fail(&ps, ps.line, "'kernel' is required");
                goto bad;
        }
        if (cfg->type == DOM_TYPE_LEGACY && cfg->ramdisk) {
                fail(&ps, ps.line, "'ramdisk' is not allowed with type=\"tandem-legacy\"");
                goto bad;
        }
        return 0;
bad:
        domcfg_free(cfg);
        return -1;
}

void domcfg_free(struct domcfg *cfg)
{
        free(cfg->kernel);
        free(cfg->ramdisk);
        free(cfg->cmdline);
        free(cfg->printer);
        free(cfg->sound);
        for (size_t i = 0; i < cfg->n_disks; i++)
                free(cfg->disks[i].target);
        for (size_t i = 0; i < cfg->n_vifs; i++) {
                free(cfg->vifs[i].bridge);
                free(cfg->vifs[i].model);
                free(cfg->vifs[i].hostfwd);
        }
        for (size_t i = 0; i < cfg->n_usbdevs; i++)
                free(cfg->usbdevs[i]);
        memset(cfg, 0, sizeof(*cfg));
}

const char *dom_action_name(enum dom_action a)
{
        return a == DOM_ACT_RESTART ? "restart" : a == DOM_ACT_PRESERVE ? "preserve" : "destroy";
}

const char *dom_type_name(enum dom_type t)
{
        return t == DOM_TYPE_LEGACY ? "tandem-legacy" : "pvh";
}

static void add(json_object *out, const char *s)
{
        json_object_array_add(out, json_object_new_string(s));
}

void domcfg_vmm_args(const struct domcfg *cfg, const char *control_path, const char *console_path,
                     json_object *out)
{
        char buf[4200];
        add(out, "--name");
        add(out, cfg->name);
        if (cfg->type == DOM_TYPE_LEGACY) {
                add(out, "--legacy");
                add(out, cfg->kernel);
        } else {
                add(out, "--kernel");
                add(out, cfg->kernel);
                if (cfg->ramdisk) {
                        add(out, "--initrd");
                        add(out, cfg->ramdisk);
                }
                if (cfg->cmdline) {
                        add(out, "--cmdline");
                        add(out, cfg->cmdline);
                }
        }
        add(out, "--mem");
        snprintf(buf, sizeof(buf), "%lluM", (unsigned long long)cfg->memory_mib);
        add(out, buf);
        add(out, "--cpus");
        snprintf(buf, sizeof(buf), "%u", cfg->vcpus);
        add(out, buf);
        for (size_t i = 0; i < cfg->n_disks; i++) {
                add(out, "--disk");
                /* Always explicit: tandem-vmm probes a disk without format=, and a
                 * guest could write a qcow2 header into its raw disk (docs/storage.md). */
                const char *fmt = cfg->disks[i].format;
                snprintf(buf, sizeof(buf), "%s%s,format=%s", cfg->disks[i].target,
                         cfg->disks[i].readonly ? ",ro" : "", !strcmp(fmt, "vhd") ? "vpc" : fmt);
                add(out, buf);
        }
        if (cfg->vfb) {
                add(out, "--fb");
                snprintf(buf, sizeof(buf), "%ux%u", cfg->fb_width, cfg->fb_height);
                add(out, buf);
        }
        net_vif_vmm_args(cfg, out);
        /* usbdev=[...]: an xHCI controller (PV USB for the legacy guest);
         * tandemd's USB policy attaches the devices at runtime (api_usb.c). */
        if (cfg->n_usbdevs) {
                add(out, "--usb");
                add(out, "none");
        }
        if (cfg->printer) {
                add(out, "--printer");
                add(out, cfg->printer);
        }
        if (cfg->sound) {
                add(out, "--sound");
                add(out, cfg->sound);
        }
        add(out, "--console");
        snprintf(buf, sizeof(buf), "socket:%s", console_path);
        add(out, buf);
        add(out, "--control");
        add(out, control_path);
}
