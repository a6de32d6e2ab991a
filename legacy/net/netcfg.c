#include "netcfg.h"

#include "../kernel/lib.h"

/* Parses a dotted quad at s[0..n); false unless it is exactly one. */
static bool parse_ip(const char *s, uint32_t n, uint32_t *out)
{
        uint32_t a = 0, part = 0, digits = 0, dots = 0;
        for (uint32_t i = 0; i < n; i++) {
                if (s[i] == '.') {
                        if (!digits || ++dots > 3)
                                return false;
                        a = a << 8 | part;
                        part = digits = 0;
                } else if (s[i] >= '0' && s[i] <= '9') {
                        part = part * 10 + (uint32_t)(s[i] - '0');
                        if (++digits > 3 || part > 255)
                                return false;
                } else {
                        return false;
                }
        }
        if (dots != 3 || !digits)
                return false;
        *out = a << 8 | part;
        return true;
}

static bool parse_num(const char *s, uint32_t n, uint32_t max, uint32_t *out)
{
        uint32_t v = 0;
        if (n == 0 || n > 5)
                return false;
        for (uint32_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (uint32_t)(s[i] - '0');
        }
        if (v > max)
                return false;
        *out = v;
        return true;
}

static uint32_t find(const char *s, uint32_t n, char c)
{
        for (uint32_t i = 0; i < n; i++)
                if (s[i] == c)
                        return i;
        return n;
}

static bool key_is(const char *s, uint32_t n, const char *key)
{
        return n == strlen(key) && memcmp(s, key, n) == 0;
}

/* One KEY=VALUE line (no newline). NULL, or what is wrong with it. */
static const char *parse_line(const char *s, uint32_t n, struct net_config *c)
{
        uint32_t eq = find(s, n, '=');
        if (eq == n)
                return "expected KEY=VALUE";
        const char *v = s + eq + 1;
        uint32_t vn = n - eq - 1;
        if (key_is(s, eq, "ADDRESS")) {
                uint32_t slash = find(v, vn, '/'), prefix;
                if (!parse_ip(v, slash, &c->addr) || slash == vn ||
                    !parse_num(v + slash + 1, vn - slash - 1, 30, &prefix) || prefix < 1)
                        return "ADDRESS must be A.B.C.D/PREFIX (prefix 1..30)";
                c->mask = 0xFFFFFFFFu << (32 - prefix);
        } else if (key_is(s, eq, "GATEWAY")) {
                if (!parse_ip(v, vn, &c->gateway))
                        return "GATEWAY must be A.B.C.D";
        } else if (key_is(s, eq, "SUMMARY")) {
                uint32_t colon = find(v, vn, ':'), port;
                if (!parse_ip(v, colon, &c->summary_addr) || colon == vn ||
                    !parse_num(v + colon + 1, vn - colon - 1, 65535, &port) || port == 0)
                        return "SUMMARY must be A.B.C.D:PORT";
                c->summary_port = (uint16_t)port;
        } else {
                return "unknown key (ADDRESS, GATEWAY, SUMMARY)";
        }
        return NULL;
}

int netcfg_parse(const char *text, uint32_t len, struct net_config *c, const char **why,
                 unsigned *line)
{
        *c = (struct net_config){0};
        *line = 0;
        for (uint32_t i = 0; i < len;) {
                uint32_t end = i + find(text + i, len - i, '\n');
                uint32_t n = end - i;
                if (n && text[i + n - 1] == '\r')
                        n--;
                ++*line;
                if (n && text[i] != '#' && (*why = parse_line(text + i, n, c)))
                        return -1;
                i = end + 1;
        }
        *why = "no ADDRESS line";
        if (!c->addr)
                return -1;
        *why = "GATEWAY is not in the ADDRESS network";
        if (c->gateway && (c->gateway & c->mask) != (c->addr & c->mask))
                return -1;
        *why = "";
        return 0;
}

void netcfg_format_ip(uint32_t a, char out[16])
{
        fmt(out, 16, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
}
