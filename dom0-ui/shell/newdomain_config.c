/* Builds a new domain's xl.cfg text from the dialog's fields. Checks here
 * are the ones worth catching before tandemd (which checks everything
 * again): a message next to the field beats a config file line number. */
#include <ctype.h>
#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newdomain_config.h"

#define MEMORY_MAX_MIB 1048576ULL

static void quoted(GString *out, const char *s)
{
        g_string_append_c(out, '\'');
        for (; *s; s++) {
                if (*s == '\'' || *s == '\\')
                        g_string_append_c(out, '\\');
                g_string_append_c(out, *s);
        }
        g_string_append_c(out, '\'');
}

static int G_GNUC_PRINTF(3, 4) bad(char *err, size_t errlen, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        return -1;
}

static int check_name(const char *n, char *err, size_t errlen)
{
        size_t len = strlen(n);
        if (len == 0)
                return bad(err, errlen, "Name: a name is required");
        if (len > 64 || n[0] == '-' || n[0] == '.')
                return bad(err, errlen,
                           "Name: '%s' must be 1-64 characters and not start with '-' or '.'", n);
        for (const char *c = n; *c; c++)
                if (!isalnum((unsigned char)*c) && !strchr("-_.", *c))
                        return bad(err, errlen,
                                   "Name: '%s' may only hold letters, digits, '-', '_' and '.'", n);
        return 0;
}

/* "512", "512M", "512 MiB", "2G", "2GiB" (case-insensitive) -> MiB. */
static int parse_memory(const char *text, unsigned long long *mib, char *err, size_t errlen)
{
        static const struct {
                const char *suffix;
                unsigned long long scale;
        } units[] = {{"", 1},     {"m", 1},     {"mb", 1},    {"mib", 1},
                     {"g", 1024}, {"gb", 1024}, {"gib", 1024}};
        const char *p = text;
        while (isspace((unsigned char)*p))
                p++;
        char *end;
        errno = 0;
        unsigned long long n = isdigit((unsigned char)*p) ? strtoull(p, &end, 10) : 0;
        if (!isdigit((unsigned char)*p))
                end = (char *)p;
        while (isspace((unsigned char)*end))
                end++;
        char *unit = g_strstrip(g_strdup(end));
        unsigned long long scale = 0;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && end != p; i++)
                if (!g_ascii_strcasecmp(unit, units[i].suffix))
                        scale = units[i].scale;
        g_free(unit);
        if (!scale)
                return bad(err, errlen, "Memory: '%s' is not a size in MiB (e.g. 512, 512M or 2G)",
                           text);
        if (errno || n == 0 || n > MEMORY_MAX_MIB / scale)
                return bad(err, errlen, "Memory: '%s' is out of range (1 MiB to 1 TiB)", text);
        *mib = n * scale;
        return 0;
}

/* An existing regular file, made absolute (tandemd resolves relative
 * names against the config's folder, which a dialog does not have). */
static char *existing_file(const char *field, const char *path, char *err, size_t errlen)
{
        for (const char *c = path; *c; c++)
                if ((unsigned char)*c < 0x20) {
                        snprintf(err, errlen, "%s: the file name has a control character", field);
                        return NULL;
                }
        char *abs = g_canonicalize_filename(path, NULL);
        if (!g_file_test(abs, G_FILE_TEST_IS_REGULAR)) {
                snprintf(err, errlen, "%s: %s is not a file", field, abs);
                g_free(abs);
                return NULL;
        }
        return abs;
}

static const char *disk_format(const char *path)
{
        static const char *const known[] = {"qcow2", "vhd", "vmdk"};
        const char *dot = strrchr(path, '.');
        for (size_t i = 0; dot && i < sizeof(known) / sizeof(known[0]); i++)
                if (!g_ascii_strcasecmp(dot + 1, known[i]))
                        return known[i];
        return "raw";
}

static bool all_xdigits(const char *s, size_t n)
{
        if (n == 0 || n > 4)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char)s[i]))
                        return false;
        return true;
}

static bool all_digits(const char *s, size_t n)
{
        if (n == 0 || n > 3)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isdigit((unsigned char)s[i]))
                        return false;
        return true;
}

/* Appends usbdev = [...] for "VVVV:PPPP" and "BUS-ADDR" items. */
static int usb_devices(GString *out, const char *text, char *err, size_t errlen)
{
        char **items = g_strsplit_set(text, ", \t", -1);
        int rc = 0, n = 0;
        for (char **it = items; *it && rc == 0; it++) {
                const char *s = *it;
                if (!*s)
                        continue;
                const char *colon = strchr(s, ':'), *dash = strchr(s, '-');
                char spec[64];
                if (colon && all_xdigits(s, colon - s) && all_xdigits(colon + 1, strlen(colon + 1)))
                        snprintf(spec, sizeof(spec), "vendorid=0x%.*s,productid=0x%s",
                                 (int)(colon - s), s, colon + 1);
                else if (dash && all_digits(s, dash - s) && all_digits(dash + 1, strlen(dash + 1)))
                        snprintf(spec, sizeof(spec), "hostbus=%.*s,hostaddr=%s", (int)(dash - s), s,
                                 dash + 1);
                else {
                        rc = bad(err, errlen,
                                 "USB: '%s' is not VVVV:PPPP (vendor:product, hex) or BUS-ADDR", s);
                        break;
                }
                g_string_append(out, n++ ? ", " : "usbdev = [ ");
                quoted(out, spec);
        }
        if (rc == 0 && n)
                g_string_append(out, " ]\n");
        g_strfreev(items);
        return rc;
}

char *newdomain_config(const struct newdomain_form *f, char *err, size_t errlen)
{
        unsigned long long mib = 0;
        if (check_name(f->name, err, errlen) < 0)
                return NULL;
        if (strcmp(f->type, "pvh") && strcmp(f->type, "tandem-legacy")) {
                bad(err, errlen, "Type: '%s' is not pvh or tandem-legacy", f->type);
                return NULL;
        }
        if (!f->kernel[0]) {
                snprintf(err, errlen, "Kernel: a kernel file is required");
                return NULL;
        }
        if (f->vcpus < 1 || f->vcpus > 64) {
                snprintf(err, errlen, "vCPUs: %d is out of range (1 to 64)", f->vcpus);
                return NULL;
        }
        if (parse_memory(f->memory, &mib, err, errlen) < 0)
                return NULL;
        char *kernel = existing_file("Kernel", f->kernel, err, errlen);
        if (!kernel)
                return NULL;
        char *disk = NULL;
        if (f->disk[0] && !(disk = existing_file("Disk", f->disk, err, errlen))) {
                g_free(kernel);
                return NULL;
        }
        GString *out = g_string_new(NULL);
        g_string_append(out, "# made by tandem-shell's New domain dialog\nname = ");
        quoted(out, f->name);
        g_string_append(out, "\ntype = ");
        quoted(out, f->type);
        g_string_append(out, "\nkernel = ");
        quoted(out, kernel);
        g_string_append_printf(out, "\nmemory = %llu\nvcpus = %d\n", mib, f->vcpus);
        if (disk) {
                /* keyed form: target= last may hold commas */
                char spec[32 + 4096];
                snprintf(spec, sizeof(spec), "format=%s, vdev=xvda, access=rw, target=%s",
                         disk_format(disk), disk);
                g_string_append(out, "disk = [ ");
                quoted(out, spec);
                g_string_append(out, " ]\n");
        }
        if (!strcmp(f->network, "user"))
                g_string_append(out, "vif = [ 'type=user' ]\n");
        else if (!strcmp(f->network, "bridge"))
                g_string_append(out, "vif = [ 'type=bridge' ]\n");
        g_free(kernel);
        g_free(disk);
        if (usb_devices(out, f->usb, err, errlen) < 0) {
                g_string_free(out, TRUE);
                return NULL;
        }
        return g_string_free(out, FALSE);
}
