/* Copies byte ranges at their own offsets, leaving all-zero blocks as
 * holes, with a progress bar on stderr. */
#include "p2v.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1u << 20)
#define ZBLK  4096u

static double mono(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bar(uint64_t done, uint64_t total, double t0, bool final)
{
        int width = 40, fill = total ? (int)((double)done / (double)total * width) : width;
        double el = mono() - t0;
        fprintf(stderr, "\r[%.*s%*s] %3d%% %7.1f/%.1f MiB %6.1f MiB/s%s", fill,
                "########################################", width - fill, "",
                total ? (int)(done * 100 / total) : 100, (double)done / 1048576.0,
                (double)total / 1048576.0, el > 0 ? (double)done / 1048576.0 / el : 0.0,
                final ? "\n" : "");
}

static bool all_zero(const uint8_t *p, size_t n)
{
        /* Overlapping compare: p[0] is 0 and each byte equals the next. */
        return n == 0 || (p[0] == 0 && !memcmp(p, p + 1, n - 1));
}

int64_t copy_ranges(const struct disk *d, int out_fd, const struct ranges *rs, bool progress,
                    char *err, size_t errlen)
{
        uint8_t *buf = malloc(CHUNK);
        if (!buf) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        uint64_t total = ranges_total(rs), done = 0;
        int64_t written = 0;
        double t0 = mono(), last = 0;
        for (size_t i = 0; i < rs->n; i++) {
                for (uint64_t o = 0; o < rs->r[i].len;) {
                        uint64_t off = rs->r[i].off + o;
                        size_t n = rs->r[i].len - o < CHUNK ? (size_t)(rs->r[i].len - o) : CHUNK;
                        if (disk_read(d, off, buf, n) < 0) {
                                snprintf(err, errlen, "read at byte %llu: %s",
                                         (unsigned long long)off, strerror(errno));
                                free(buf);
                                return -1;
                        }
                        /* Runs of non-zero blocks go out in one write each. */
                        size_t run = 0, z = 0;
                        for (;;) {
                                size_t zn = n - z < ZBLK ? n - z : ZBLK;
                                if (z < n && !all_zero(buf + z, zn)) {
                                        z += zn;
                                        continue;
                                }
                                if (z > run) {
                                        if (pwrite(out_fd, buf + run, z - run,
                                                   (off_t)(off + run)) != (ssize_t)(z - run)) {
                                                snprintf(err, errlen, "write at byte %llu: %s",
                                                         (unsigned long long)(off + run),
                                                         strerror(errno));
                                                free(buf);
                                                return -1;
                                        }
                                        written += (int64_t)(z - run);
                                }
                                if (z >= n)
                                        break;
                                z += zn;
                                run = z;
                        }
                        o += n;
                        done += n;
                        if (progress && mono() - last > 0.1) {
                                bar(done, total, t0, false);
                                last = mono();
                        }
                }
        }
        if (progress)
                bar(done, total, t0, true);
        free(buf);
        return written;
}
