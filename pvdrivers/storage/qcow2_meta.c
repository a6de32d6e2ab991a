/* qcow2 metadata edits outside the I/O path: rewriting the backing file name
 * (rebase) and listing internal snapshots (qcow2.txt, "Snapshots"). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_internal.h"

#define QCOW2_MAGIC         0x514649fbu
#define EXT_BACKING_FORMAT  0xe2792acau
#define MAX_SNAPSHOTS       65536
#define SNAPSHOT_TABLE_SPAN (64u << 20)

static int read_header(int fd, const char *path, uint8_t *h, size_t hlen, uint32_t *cs,
                       uint32_t *hdr_len, char *err, size_t errlen)
{
        if (pread_full(fd, h, hlen, 0) < 0 || be32(h) != QCOW2_MAGIC) {
                snprintf(err, errlen, "%s is not a qcow2 image", path);
                return -1;
        }
        uint32_t version = be32(h + 4), bits = be32(h + 20);
        if ((version != 2 && version != 3) || bits < 9 || bits > 21) {
                snprintf(err, errlen, "qcow2 %s: unsupported version or cluster size", path);
                return -1;
        }
        *cs = 1u << bits;
        *hdr_len = version == 3 ? be32(h + 100) : 72;
        if (*hdr_len < 72 || *hdr_len > 512 || *hdr_len > *cs) {
                snprintf(err, errlen, "qcow2 %s: invalid header length", path);
                return -1;
        }
        return 0;
}

int blk_image_set_backing(const char *path, const char *backing, const char *backing_fmt, char *err,
                          size_t errlen)
{
        int fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
                snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
                return -1;
        }
        uint8_t h[512];
        uint32_t cs, hl;
        int rc = -1;
        uint8_t *c0 = NULL, *out = NULL;
        if (read_header(fd, path, h, sizeof(h), &cs, &hl, err, errlen) < 0)
                goto done;
        c0 = calloc(1, cs);
        out = calloc(1, cs);
        if (!c0 || !out || pread_full(fd, c0, cs, 0) < 0) {
                snprintf(err, errlen, "qcow2 %s: cannot read the header cluster", path);
                goto done;
        }
        uint64_t old_bf = be64(h + 8);
        /* Keep every header extension except the backing format; ours goes last. */
        memcpy(out, c0, hl);
        size_t in = hl, o = hl;
        for (;;) {
                if (in + 8 > cs || (old_bf && in + 8 > old_bf)) {
                        snprintf(err, errlen, "qcow2 %s: header extensions run past the cluster",
                                 path);
                        goto done;
                }
                uint32_t type = be32(c0 + in), len = be32(c0 + in + 4);
                if (!type)
                        break;
                size_t span = 8 + (((size_t)len + 7) & ~(size_t)7);
                if (len > cs || in + span > cs) {
                        snprintf(err, errlen, "qcow2 %s: bad header extension", path);
                        goto done;
                }
                if (type != EXT_BACKING_FORMAT) {
                        memcpy(out + o, c0 + in, span);
                        o += span;
                }
                in += span;
        }
        size_t blen = backing ? strlen(backing) : 0;
        size_t flen = backing && backing_fmt ? strlen(backing_fmt) : 0;
        if (o + (flen ? 8 + ((flen + 7) & ~(size_t)7) : 0) + 8 + blen > cs || blen > 1023) {
                snprintf(err, errlen, "qcow2 %s: the backing file name does not fit the header",
                         path);
                goto done;
        }
        if (flen) {
                put_be32(out + o, EXT_BACKING_FORMAT);
                put_be32(out + o + 4, (uint32_t)flen);
                memcpy(out + o + 8, backing_fmt, flen);
                o += 8 + ((flen + 7) & ~(size_t)7);
        }
        o += 8; /* end of extensions: type 0, already zero */
        put_be64(out + 8, blen ? o : 0);
        put_be32(out + 16, (uint32_t)blen);
        memcpy(out + o, backing, blen);
        o += blen;
        size_t old_end = old_bf ? old_bf + be32(h + 16) : in + 8;
        size_t span = o > old_end ? o : old_end;
        /* One write of the first sectors, then a sync: a reader sees the old
         * header or the new one. */
        if (pwrite_full(fd, out, span, 0) < 0 || fdatasync(fd) < 0) {
                snprintf(err, errlen, "qcow2 %s: cannot write the header: %s", path,
                         strerror(errno));
                goto done;
        }
        rc = 0;
done:
        free(c0);
        free(out);
        close(fd);
        return rc;
}

int blk_image_snapshots(const char *path, struct image_snapshot **list, char *err, size_t errlen)
{
        *list = NULL;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
                return -1;
        }
        uint8_t h[512];
        uint32_t cs, hl;
        int n = -1;
        uint8_t *tab = NULL;
        struct stat st;
        if (read_header(fd, path, h, sizeof(h), &cs, &hl, err, errlen) < 0 || fstat(fd, &st) < 0)
                goto done;
        uint32_t count = be32(h + 60);
        uint64_t off = be64(h + 64);
        if (!count) {
                n = 0;
                goto done;
        }
        uint64_t fsize = (uint64_t)st.st_size;
        if (count > MAX_SNAPSHOTS || off >= fsize || off % 8) {
                snprintf(err, errlen, "qcow2 %s: snapshot table (%u entries at 0x%llx) is invalid",
                         path, count, (unsigned long long)off);
                goto done;
        }
        size_t span =
            fsize - off < SNAPSHOT_TABLE_SPAN ? (size_t)(fsize - off) : SNAPSHOT_TABLE_SPAN;
        tab = malloc(span);
        *list = calloc(count, sizeof(**list));
        if (!tab || !*list || pread_full(fd, tab, span, off) < 0) {
                snprintf(err, errlen, "qcow2 %s: cannot read the snapshot table", path);
                goto done;
        }
        size_t p = 0;
        for (uint32_t i = 0; i < count; i++) {
                if (p + 40 > span)
                        goto truncated;
                struct image_snapshot *s = &(*list)[i];
                s->l1_off = be64(tab + p);
                s->l1_size = be32(tab + p + 8);
                uint16_t idl = be16(tab + p + 12), nml = be16(tab + p + 14);
                s->date_sec = be32(tab + p + 16);
                s->vm_clock_ns = be64(tab + p + 24);
                s->vm_state_size = be32(tab + p + 32);
                uint32_t extra = be32(tab + p + 36);
                if (extra > 1024 || p + 40 + extra + idl + nml > span)
                        goto truncated;
                if (extra >= 16)
                        s->disk_size = be64(tab + p + 40 + 8);
                p += 40 + extra;
                snprintf(s->id, sizeof(s->id), "%.*s", idl, (const char *)tab + p);
                p += idl;
                snprintf(s->name, sizeof(s->name), "%.*s", nml, (const char *)tab + p);
                p += nml;
                p = (p + 7) & ~(size_t)7;
        }
        n = (int)count;
        goto done;
truncated:
        snprintf(err, errlen, "qcow2 %s: snapshot table runs past the end of the file", path);
done:
        if (n < 0) {
                free(*list);
                *list = NULL;
        }
        free(tab);
        close(fd);
        return n;
}
