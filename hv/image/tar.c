/* ustar (POSIX.1-2001 pax interchange format, ustar header) reader/writer. */
#include "tar.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLK 512

static int write_all(int fd, const void *p, size_t n, char *err, size_t errlen)
{
        const char *c = p;
        while (n) {
                ssize_t w = write(fd, c, n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0) {
                        snprintf(err, errlen, "writing the archive: %s",
                                 w < 0 ? strerror(errno) : "short write");
                        return -1;
                }
                c += w;
                n -= (size_t)w;
        }
        return 0;
}

int tar_write_header(int fd, const char *name, uint64_t size, char *err, size_t errlen)
{
        uint8_t h[BLK] = {0};
        if (strlen(name) > TAR_NAME_MAX) {
                snprintf(err, errlen, "archive member name %s is too long", name);
                return -1;
        }
        memcpy(h, name, strlen(name));
        memcpy(h + 100, "0000644", 8);
        memcpy(h + 108, "0000000", 8);
        memcpy(h + 116, "0000000", 8);
        if (size < (1ULL << 33)) {
                snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
        } else {
                h[124] = 0x80; /* base-256: big-endian in the remaining 11 bytes */
                for (int i = 0; i < 8; i++)
                        h[135 - i] = (uint8_t)(size >> (8 * i));
        }
        snprintf((char *)h + 136, 12, "%011o", 0);
        h[156] = '0';
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (int i = 0; i < BLK; i++)
                sum += h[i];
        snprintf((char *)h + 148, 8, "%06o", sum);
        return write_all(fd, h, BLK, err, errlen);
}

int tar_write_pad(int fd, uint64_t size, char *err, size_t errlen)
{
        static const uint8_t zero[BLK];
        size_t pad = (BLK - size % BLK) % BLK;
        return pad ? write_all(fd, zero, pad, err, errlen) : 0;
}

int tar_write_end(int fd, char *err, size_t errlen)
{
        static const uint8_t zero[2 * BLK];
        return write_all(fd, zero, sizeof(zero), err, errlen);
}

static bool octal(const uint8_t *p, size_t n, uint64_t *out)
{
        if (p[0] & 0x80) {
                uint64_t v = 0;
                for (size_t i = 1; i < n; i++) {
                        if (v >> 56)
                                return false;
                        v = v << 8 | p[i];
                }
                *out = v;
                return true;
        }
        uint64_t v = 0;
        size_t i = 0;
        while (i < n && p[i] == ' ')
                i++;
        bool any = false;
        for (; i < n && p[i] >= '0' && p[i] <= '7'; i++, any = true) {
                if (v >> 60)
                        return false;
                v = v << 3 | (uint64_t)(p[i] - '0');
        }
        for (; i < n; i++)
                if (p[i] != ' ' && p[i] != 0)
                        return false;
        *out = v;
        return any;
}

int tar_list(int fd, struct tar_entry *out, int max, char *err, size_t errlen)
{
        struct stat st;
        if (fstat(fd, &st) < 0) {
                snprintf(err, errlen, "cannot stat the archive: %s", strerror(errno));
                return -1;
        }
        uint64_t fsize = (uint64_t)st.st_size, off = 0;
        int n = 0;
        for (;;) {
                uint8_t h[BLK];
                if (off + BLK > fsize || pread(fd, h, BLK, (off_t)off) != BLK) {
                        snprintf(err, errlen, "the archive is truncated at byte %llu",
                                 (unsigned long long)off);
                        return -1;
                }
                static const uint8_t zero[BLK];
                if (!memcmp(h, zero, BLK))
                        return n;
                uint64_t sum, size;
                unsigned calc = 0;
                for (int i = 0; i < BLK; i++)
                        calc += i >= 148 && i < 156 ? ' ' : h[i];
                if (!octal(h + 148, 8, &sum) || sum != calc) {
                        snprintf(err, errlen,
                                 "the archive header at byte %llu is damaged "
                                 "(checksum)",
                                 (unsigned long long)off);
                        return -1;
                }
                if (!octal(h + 124, 12, &size) || size > fsize) {
                        snprintf(err, errlen, "archive member at byte %llu has a bad size",
                                 (unsigned long long)off);
                        return -1;
                }
                char name[TAR_NAME_MAX + 2] = {0};
                memcpy(name, h, 100);
                if ((h[156] != '0' && h[156] != 0) || h[345] != 0 || !name[0] ||
                    strchr(name, '/') || name[0] == '.') {
                        snprintf(err, errlen,
                                 "archive member '%.100s' is not a plain file with a simple name",
                                 name);
                        return -1;
                }
                if (n == max) {
                        snprintf(err, errlen, "the archive has more than %d members", max);
                        return -1;
                }
                for (int i = 0; i < n; i++)
                        if (!strcmp(out[i].name, name)) {
                                snprintf(err, errlen, "archive member %s appears twice", name);
                                return -1;
                        }
                snprintf(out[n].name, sizeof(out[n].name), "%s", name);
                out[n].size = size;
                out[n].data_off = off + BLK;
                n++;
                off += BLK + (size + BLK - 1) / BLK * BLK;
                if (off > fsize) {
                        snprintf(err, errlen, "archive member %s runs past the end", name);
                        return -1;
                }
        }
}
