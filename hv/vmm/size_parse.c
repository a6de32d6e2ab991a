#include "size_parse.h"

#include <errno.h>
#include <stdlib.h>

int size_parse(const char *s, uint64_t *out)
{
        char *end;
        if (!s || !*s || *s == '-')
                return -1;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s)
                return -1;
        unsigned shift = 0;
        switch (*end) {
        case 'k':
        case 'K':
                shift = 10;
                end++;
                break;
        case 'm':
        case 'M':
                shift = 20;
                end++;
                break;
        case 'g':
        case 'G':
                shift = 30;
                end++;
                break;
        case 't':
        case 'T':
                shift = 40;
                end++;
                break;
        case 'e':
        case 'E':
                shift = 60;
                end++;
                break;
        default:
                break;
        }
        if (*end == 'i' || *end == 'B')
                end++;
        if (*end == 'B')
                end++;
        if (*end || v > (~0ULL >> shift))
                return -1;
        *out = (uint64_t)v << shift;
        return 0;
}
