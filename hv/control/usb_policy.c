/* USB rules, first match wins:
 *   match  "VVVV:PPPP" | "class:N" | "path:BUS-PORT[.PORT]" | "*"
 *   action "deny"          never attached
 *          "sticky:DOMAIN" only ever attached to DOMAIN (the default target)
 *          "focused"       attached to the focused domain when none is named
 *          "allow"         attached wherever asked
 * No matching rule is "allow". The shell sets the focused domain. */
#include "usb_policy.h"
#include "domcfg.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USB_MAX_RULES 64

struct rule {
        char match[48];
        char action[8 + DOMCFG_NAME_MAX + 1];
};

static struct rule rules[USB_MAX_RULES];
static size_t n_rules;
static char focused[DOMCFG_NAME_MAX + 1];

const char *usb_sysfs_root(void)
{
        const char *r = getenv("TANDEM_USB_SYSFS"); /* tests point this elsewhere */
        return r ? r : "/sys/bus/usb/devices";
}

static bool read_hex(const char *dir, const char *leaf, unsigned *out)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, leaf);
        FILE *f = fopen(path, "r");
        if (!f)
                return false;
        bool ok = fscanf(f, "%x", out) == 1;
        fclose(f);
        return ok;
}

/* A sysfs device directory's ID and class (the first interface's class when
 * the device leaves it to its interfaces). */
static bool sysfs_ident(const char *name, struct usb_ident *id)
{
        char dir[512], ifdir[600];
        unsigned v, p, c;
        snprintf(dir, sizeof(dir), "%s/%s", usb_sysfs_root(), name);
        if (!read_hex(dir, "idVendor", &v) || !read_hex(dir, "idProduct", &p))
                return false;
        snprintf(id->id, sizeof(id->id), "%04x:%04x", v, p);
        id->cls = read_hex(dir, "bDeviceClass", &c) ? (int)c : -1;
        snprintf(ifdir, sizeof(ifdir), "%s:1.0", dir);
        if (id->cls == 0 && read_hex(ifdir, "bInterfaceClass", &c))
                id->cls = (int)c;
        snprintf(id->path, sizeof(id->path), "%s", name);
        return true;
}

void usb_ident_of(const char *spec, struct usb_ident *id)
{
        memset(id, 0, sizeof(*id));
        id->cls = -1;
        if (!strcmp(spec, "kbd")) {
                snprintf(id->id, sizeof(id->id), "1209:0001");
                id->cls = 3;
        } else if (!strncmp(spec, "storage:", 8)) {
                snprintf(id->id, sizeof(id->id), "1209:0002");
                id->cls = 8;
        } else if (!strncmp(spec, "printer:", 8)) {
                snprintf(id->id, sizeof(id->id), "1209:0003");
                id->cls = 7;
        } else if (!strncmp(spec, "host:", 5)) {
                const char *h = spec + 5;
                if (strlen(h) == 9 && h[4] == ':') {
                        snprintf(id->id, sizeof(id->id), "%s", h);
                } else if (strlen(h) < sizeof(id->path)) {
                        if (!sysfs_ident(h, id))
                                snprintf(id->path, sizeof(id->path), "%s", h);
                }
        }
}

int usb_spec_check(const char *spec, char *err, size_t errlen)
{
        size_t n = strlen(spec);
        bool ok =
            n > 0 && n < USB_SPEC_MAX &&
            (!strcmp(spec, "kbd") || (!strncmp(spec, "storage:", 8) && spec[8]) ||
             (!strncmp(spec, "printer:", 8) && spec[8]) || (!strncmp(spec, "host:", 5) && spec[5]));
        for (size_t i = 0; ok && i < n; i++)
                ok = spec[i] >= 0x20 && spec[i] != 0x7f;
        if (!ok)
                snprintf(
                    err, errlen,
                    "'%.64s' is not a USB device (kbd, storage:PATH, printer:PATH, host:BUS-PORT, "
                    "host:VVVV:PPPP)",
                    spec);
        return ok ? 0 : -1;
}

static bool rule_matches(const struct rule *r, const struct usb_ident *id)
{
        if (!strcmp(r->match, "*"))
                return true;
        if (!strncmp(r->match, "class:", 6))
                return id->cls >= 0 && strtol(r->match + 6, NULL, 0) == id->cls;
        if (!strncmp(r->match, "path:", 5))
                return id->path[0] && !strcmp(r->match + 5, id->path);
        return id->id[0] && !strcasecmp(r->match, id->id);
}

int usb_policy_decide(const char *spec, const char *domain, char *chosen, size_t chosen_len,
                      char *err, size_t errlen)
{
        struct usb_ident id;
        usb_ident_of(spec, &id);
        const struct rule *r = NULL;
        for (size_t i = 0; i < n_rules && !r; i++)
                if (rule_matches(&rules[i], &id))
                        r = &rules[i];
        const char *action = r ? r->action : "allow";
        if (!strcmp(action, "deny")) {
                snprintf(err, errlen, "%s is denied by rule '%s'", spec, r->match);
                return -1;
        }
        if (!strncmp(action, "sticky:", 7)) {
                if (domain && strcmp(domain, action + 7)) {
                        snprintf(err, errlen, "%s is assigned to '%s' by rule '%s'", spec,
                                 action + 7, r->match);
                        return -1;
                }
                domain = action + 7;
        }
        if (!domain && !strcmp(action, "focused") && focused[0])
                domain = focused;
        if (!domain) {
                snprintf(err, errlen, "no domain named for %s and no rule chooses one", spec);
                return -2;
        }
        snprintf(chosen, chosen_len, "%s", domain);
        return 0;
}

static bool valid_match(const char *m)
{
        unsigned v, p;
        int n = 0;
        if (!strcmp(m, "*"))
                return true;
        if (!strncmp(m, "class:", 6)) {
                char *end;
                long c = strtol(m + 6, &end, 0);
                return m[6] && !*end && c >= 0 && c <= 255;
        }
        if (!strncmp(m, "path:", 5))
                return m[5] && strlen(m) < 5 + 32;
        return sscanf(m, "%4x:%4x%n", &v, &p, &n) == 2 && n == 9 && !m[9];
}

static bool valid_action(const char *a)
{
        return !strcmp(a, "deny") || !strcmp(a, "allow") || !strcmp(a, "focused") ||
               (!strncmp(a, "sticky:", 7) && domcfg_valid_name(a + 7));
}

int usb_policy_set(json_object *params, char *err, size_t errlen)
{
        json_object *arr, *f;
        if (!params)
                return 0;
        if (json_object_object_get_ex(params, "focused", &f)) {
                if (f && (!json_object_is_type(f, json_type_string) ||
                          !domcfg_valid_name(json_object_get_string(f)))) {
                        snprintf(err, errlen, "\"focused\" must be a domain name or null");
                        return -1;
                }
        }
        struct rule next[USB_MAX_RULES];
        size_t n = 0;
        bool set_rules = json_object_object_get_ex(params, "rules", &arr);
        if (set_rules) {
                if (!json_object_is_type(arr, json_type_array) ||
                    json_object_array_length(arr) > USB_MAX_RULES) {
                        snprintf(err, errlen, "\"rules\" must be an array of at most %d rules",
                                 USB_MAX_RULES);
                        return -1;
                }
                for (size_t i = 0; i < json_object_array_length(arr); i++) {
                        json_object *r = json_object_array_get_idx(arr, i), *m, *a;
                        const char *ms = NULL, *as = NULL;
                        if (json_object_is_type(r, json_type_object) &&
                            json_object_object_get_ex(r, "match", &m) &&
                            json_object_object_get_ex(r, "action", &a) &&
                            json_object_is_type(m, json_type_string) &&
                            json_object_is_type(a, json_type_string)) {
                                ms = json_object_get_string(m);
                                as = json_object_get_string(a);
                        }
                        if (!ms || !valid_match(ms) || !valid_action(as)) {
                                snprintf(err, errlen,
                                         "rule %zu: needs \"match\" (VVVV:PPPP, class:N, path:B-P "
                                         "or *) and \"action\" (deny, allow, focused, "
                                         "sticky:DOMAIN)",
                                         i);
                                return -1;
                        }
                        snprintf(next[n].match, sizeof(next[n].match), "%s", ms);
                        snprintf(next[n].action, sizeof(next[n].action), "%s", as);
                        n++;
                }
        }
        if (json_object_object_get_ex(params, "focused", &f))
                snprintf(focused, sizeof(focused), "%s", f ? json_object_get_string(f) : "");
        if (set_rules) {
                memcpy(rules, next, n * sizeof(next[0]));
                n_rules = n;
        }
        return 0;
}

json_object *usb_policy_get(void)
{
        json_object *o = json_object_new_object(), *a = json_object_new_array();
        for (size_t i = 0; i < n_rules; i++) {
                json_object *r = json_object_new_object();
                json_object_object_add(r, "match", json_object_new_string(rules[i].match));
                json_object_object_add(r, "action", json_object_new_string(rules[i].action));
                json_object_array_add(a, r);
        }
        json_object_object_add(o, "rules", a);
        json_object_object_add(o, "focused", focused[0] ? json_object_new_string(focused) : NULL);
        return o;
}

void usb_policy_host_devices(json_object *array)
{
        DIR *d = opendir(usb_sysfs_root());
        if (!d)
                return;
        struct dirent *e;
        while ((e = readdir(d))) {
                /* Devices are BUS-PORT[.PORT]; root hubs (usbN) and interfaces
                 * (with ':') are not handed to guests. */
                if (!strchr(e->d_name, '-') || strchr(e->d_name, ':'))
                        continue;
                struct usb_ident id;
                if (!sysfs_ident(e->d_name, &id))
                        continue;
                char spec[USB_SPEC_MAX + 8];
                snprintf(spec, sizeof(spec), "host:%s", e->d_name);
                bool known = false;
                for (size_t i = 0; i < json_object_array_length(array) && !known; i++) {
                        json_object *dv;
                        json_object_object_get_ex(json_object_array_get_idx(array, i), "device",
                                                  &dv);
                        known = !strcmp(json_object_get_string(dv), spec);
                }
                if (known)
                        continue;
                json_object *o = json_object_new_object();
                json_object_object_add(o, "device", json_object_new_string(spec));
                json_object_object_add(o, "id", json_object_new_string(id.id));
                json_object_object_add(o, "class", json_object_new_int(id.cls));
                json_object_object_add(o, "owner", NULL);
                json_object_object_add(o, "port", NULL);
                json_object_object_add(o, "busy", json_object_new_boolean(false));
                json_object_array_add(array, o);
        }
        closedir(d);
}
