#include "kiosk_theme.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "message.h"

#ifndef TANDEM_THEMES_INSTALLED
#define TANDEM_THEMES_INSTALLED "/usr/local/share/tandem/themes"
#endif
#ifndef TANDEM_THEMES_SOURCE
#define TANDEM_THEMES_SOURCE ""
#endif

static bool parse_hex(const char *v, unsigned digits, uint32_t *out)
{
        char *end;
        if (strlen(v) != digits)
                return false;
        unsigned long x = strtoul(v, &end, 16);
        if (*end)
                return false;
        *out = (uint32_t)x;
        return true;
}

static bool parse_px(const char *v, unsigned *out)
{
        char *end;
        unsigned long x = strtoul(v, &end, 10);
        if (*end || x < 8 || x > 256)
                return false;
        *out = (unsigned)x;
        return true;
}

static int set_key(struct kiosk_theme *t, const char *key, const char *val)
{
        uint32_t x;
        if (!strcmp(key, "background"))
                return parse_hex(val, 6, &t->background) ? 0 : -1;
        if (!strcmp(key, "osd_attr") || !strcmp(key, "alert_attr")) {
                if (!parse_hex(val, 2, &x))
                        return -1;
                *(key[0] == 'o' ? &t->osd_attr : &t->alert_attr) = (uint8_t)x;
                return 0;
        }
        if (!strcmp(key, "osd_font_px"))
                return parse_px(val, &t->osd_font_px) ? 0 : -1;
        if (!strcmp(key, "state_font_px"))
                return parse_px(val, &t->state_font_px) ? 0 : -1;
        return -2;
}

static char *strip(char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        size_t n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
                s[--n] = 0;
        return s;
}

int kiosk_theme_load(const char *path, struct kiosk_theme *t, char *err, size_t errlen)
{
        *t = (struct kiosk_theme){.background = 0x000000,
                                  .osd_attr = MESSAGE_ATTR_INFO,
                                  .alert_attr = MESSAGE_ATTR_FAILED,
                                  .osd_font_px = 32,
                                  .state_font_px = 32};
        char found[4096];
        if (!path) {
                const char *dirs[] = {getenv("TANDEM_THEMES_DIR"), TANDEM_THEMES_INSTALLED,
                                      TANDEM_THEMES_SOURCE};
                for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !path; i++) {
                        if (!dirs[i] || !dirs[i][0])
                                continue;
                        snprintf(found, sizeof(found), "%s/kiosk.theme", dirs[i]);
                        if (access(found, R_OK) == 0)
                                path = found;
                }
                if (!path)
                        return 0;
        }
        FILE *f = fopen(path, "r");
        if (!f) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
        }
        char line[512];
        for (unsigned n = 1; fgets(line, sizeof(line), f); n++) {
                char *s = strip(line);
                if (!s[0] || s[0] == '#')
                        continue;
                char *eq = strchr(s, '=');
                if (!eq) {
                        snprintf(err, errlen, "%s:%u: expected key = value", path, n);
                        fclose(f);
                        return -1;
                }
                *eq = 0;
                char *key = strip(s), *val = strip(eq + 1);
                int rc = set_key(t, key, val);
                if (rc < 0) {
                        if (rc == -2)
                                snprintf(err, errlen,
                                         "%s:%u: unknown key '%s' (background, osd_attr, "
                                         "alert_attr, osd_font_px, state_font_px)",
                                         path, n, key);
                        else
                                snprintf(err, errlen, "%s:%u: %s: bad value '%s'", path, n, key,
                                         val);
                        fclose(f);
                        return -1;
                }
        }
        fclose(f);
        return 0;
}
