/* qcow2 v2/v3 (QEMU docs/interop/qcow2.txt): two-level cluster map, refcounts,
 * backing chains, compressed and zero clusters.
 *
 * Crash ordering: new clusters always come from the end of the file. A
 * cluster's refcount reaches the file before any table points at it; data
 * before the L2 entry; L2 entries stay in a small write-back cache and reach
 * the file only after an fdatasync of everything before them; freed clusters
 * lose their refcount only after the L2 change that dropped them is synced.
 * A crash can therefore leak clusters but never leaves a reference to a
 * cluster whose refcount is zero. */
#include "image_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define QCOW2_MAGIC       0x514649fbu
#define OFFSET_MASK       0x00fffffffffffe00ULL
#define ENTRY_COPIED      (1ULL << 63)
#define ENTRY_COMPRESSED  (1ULL << 62)
#define ENTRY_ZERO        1ULL
#define INCOMPAT_DIRTY    (1ULL << 0)
#define INCOMPAT_CORRUPT  (1ULL << 1)
#define INCOMPAT_DATAFILE (1ULL << 2)
#define INCOMPAT_COMPTYPE (1ULL << 3)
#define INCOMPAT_EXTL2    (1ULL << 4)
#define EXT_BACKING_FMT   0xe2792acau
#define L1_MAX_BYTES      (32u << 20)
#define RT_MAX_BYTES      (64u << 20)
#define L2_CACHE_SLOTS    16

struct l2_slot {
        uint64_t off; /* 0 = empty */
        uint64_t *tab;
        bool dirty;
        uint64_t used;
};

struct qcow2 {
        struct blk_backend b;
        int fd;  /* metadata, and data when not direct */
        int dfd; /* data clusters: fd with O_DIRECT, or fd itself */
        bool direct;
        char path[PATH_MAX];
        uint32_t version, cluster_bits, l2_bits, refcount_order;
        uint64_t cs;
        uint64_t incompat, compat, autoclear;
        uint32_t header_len, nb_snapshots;
        uint64_t *l1;
        uint8_t *l1_dirty; /* entries pointing at L2 tables not yet on disk */
        bool l1_any_dirty;
        uint32_t l1_size;
        uint64_t l1_off;
        uint64_t *rt;
        uint64_t rt_entries, rt_off;
        uint32_t rt_clusters;
        uint64_t rb_entries; /* refcounts per refcount block */
        uint8_t *rb;         /* one cached refcount block (write-through) */
        uint64_t rb_off;
        uint64_t end;      /* next cluster to allocate */
        uint8_t comp_type; /* 0 zlib, 1 zstd */
        struct blk_backend *backing;
        char backing_name[1024], backing_fmt[32];
        struct l2_slot l2c[L2_CACHE_SLOTS];
        uint64_t tick;
        uint8_t *cbuf; /* last decompressed cluster */
        uint64_t cbuf_entry;
        uint8_t *cow; /* one cluster for read-modify-write */
        uint64_t *pending_free;
        size_t npending, cap_pending;
        bool warned;
};

static const struct blk_backend_ops qcow2_ops;

bool is_qcow2(struct blk_backend *b)
{
        return b && b->ops == &qcow2_ops;
}

static struct qcow2 *to_q(struct blk_backend *b)
{
        return (struct qcow2 *)b;
}

static int corrupt(struct qcow2 *q, const char *what, uint64_t v)
{
        if (!q->warned)
                fprintf(stderr, "qcow2 %s: corrupt image: %s (0x%llx)\n", q->path, what,
                        (unsigned long long)v);
        q->warned = true;
        return -EIO;
}

/* ---- refcounts ---- */

static uint64_t rb_get(const struct qcow2 *q, const uint8_t *blk, uint64_t i)
{
        uint32_t bits = 1u << q->refcount_order;
        if (bits < 8)
                return (blk[i * bits / 8] >> (i * bits % 8)) & ((1u << bits) - 1);
        uint64_t v = 0;
        for (uint32_t k = 0; k < bits / 8; k++)
                v = v << 8 | blk[i * (bits / 8) + k];
        return v;
}

static void rb_set(const struct qcow2 *q, uint8_t *blk, uint64_t i, uint64_t v)
{
        uint32_t bits = 1u << q->refcount_order;
        if (bits < 8) {
                uint8_t mask = (uint8_t)(((1u << bits) - 1) << (i * bits % 8));
                uint8_t *p = &blk[i * bits / 8];
                *p = (uint8_t)((*p & ~mask) | ((v << (i * bits % 8)) & mask));
                return;
        }
        for (uint32_t k = bits / 8; k-- > 0; v >>= 8)
                blk[i * (bits / 8) + k] = (uint8_t)v;
}

static int rb_load(struct qcow2 *q, uint64_t off)
{
        if (q->rb_off == off)
                return 0;
        if (off & (q->cs - 1) || off >= q->end)
                return corrupt(q, "refcount block outside the file", off);
        q->rb_off = 0;
        int rc = pread_full(q->fd, q->rb, q->cs, off);
        if (rc < 0)
                return rc == -EIO ? corrupt(q, "refcount block past the end", off) : rc;
        q->rb_off = off;
        return 0;
}

static int refcount_get(struct qcow2 *q, uint64_t cluster, uint64_t *out)
{
        uint64_t bi = cluster / q->rb_entries;
        *out = 0;
        if (bi >= q->rt_entries || !(q->rt[bi] & OFFSET_MASK))
                return 0;
        int rc = rb_load(q, q->rt[bi] & OFFSET_MASK);
        if (rc < 0)
                return rc;
        *out = rb_get(q, q->rb, cluster % q->rb_entries);
        return 0;
}

static int refcount_set(struct qcow2 *q, uint64_t cluster, uint64_t v);

/* A bigger refcount table at the end of the file, with new refcount blocks
 * right after it that count the table, themselves, and whatever else lies
 * beyond the old coverage. Everything is written and synced before the
 * header switches to it in one write, so a crash before leaves only leaks. */
static int grow_refcount_table(struct qcow2 *q, uint64_t need_bi)
{
        uint64_t per_cl = q->cs / 8;
        uint64_t entries = q->rt_entries * 2;
        if (entries < need_bi + 2)
                entries = need_bi + 2;
        entries = (entries + per_cl - 1) / per_cl * per_cl;
        uint64_t tcl = entries / per_cl;
        if (tcl * q->cs > RT_MAX_BYTES) {
                fprintf(stderr, "qcow2 %s: refcount table would exceed %u MiB\n", q->path,
                        RT_MAX_BYTES >> 20);
                return -ENOSPC;
        }
        uint64_t toff = q->end, first = toff >> q->cluster_bits;
        /* new blocks needed to cover [first, first + tcl + nb) */
        uint64_t nb = 0;
        for (;;) {
                uint64_t lastcl = first + tcl + nb - 1, want = 0;
                for (uint64_t b = first / q->rb_entries; b <= lastcl / q->rb_entries; b++)
                        if (b >= q->rt_entries || !(q->rt[b] & OFFSET_MASK))
                                want++;
                if (want <= nb)
                        break;
                nb = want;
        }
        if ((first + tcl + nb) / q->rb_entries >= entries)
                return -ENOSPC;
        uint64_t *nrt = calloc(entries, 8);
        uint8_t *blocks = calloc(nb ? nb : 1, q->cs);
        uint8_t *tab = calloc(tcl, q->cs);
        int rc = -ENOMEM;
        if (!nrt || !blocks || !tab)
                goto out;
        memcpy(nrt, q->rt, q->rt_entries * 8);
        uint64_t boff = toff + tcl * q->cs, k = 0;
        for (uint64_t c = first; c < first + tcl + nb; c++) {
                uint64_t b = c / q->rb_entries;
                if (!(nrt[b] & OFFSET_MASK))
                        nrt[b] = boff + k++ * q->cs;
        }
        /* refcount 1 for every new cluster: in a new block's buffer, or
         * written into an existing block (early increments only leak) */
        rc = 0;
        for (uint64_t c = first; rc == 0 && c < first + tcl + nb; c++) {
                uint64_t at = nrt[c / q->rb_entries] & OFFSET_MASK;
                if (at >= boff)
                        rb_set(q, blocks + (at - boff), c % q->rb_entries, 1);
                else
                        rc = refcount_set(q, c, 1);
        }
        if (rc == 0 && nb)
                rc = pwrite_full(q->fd, blocks, nb * q->cs, boff);
        for (uint64_t i = 0; i < entries; i++)
                put_be64(tab + i * 8, nrt[i]);
        if (rc == 0)
                rc = pwrite_full(q->fd, tab, tcl * q->cs, toff);
        if (rc == 0 && fdatasync(q->fd) < 0)
                rc = -errno;
        uint8_t h[12];
        put_be64(h, toff);
        put_be32(h + 8, (uint32_t)tcl);
        if (rc == 0)
                rc = pwrite_full(q->fd, h, 12, 48);
        if (rc == 0 && fdatasync(q->fd) < 0)
                rc = -errno;
        if (rc < 0)
                goto out;
        uint64_t old_off = q->rt_off, old_cl = q->rt_clusters;
        free(q->rt);
        q->rt = nrt;
        nrt = NULL;
        q->rt_entries = entries;
        q->rt_off = toff;
        q->rt_clusters = (uint32_t)tcl;
        q->end = boff + nb * q->cs;
        q->rb_off = 0;
        for (uint64_t i = 0; rc == 0 && i < old_cl; i++) {
                uint64_t c = (old_off >> q->cluster_bits) + i, cur;
                if ((rc = refcount_get(q, c, &cur)) == 0 && cur)
                        rc = refcount_set(q, c, cur - 1);
        }
out:
        free(nrt);
        free(blocks);
        free(tab);
        return rc;
}

static int refcount_set(struct qcow2 *q, uint64_t cluster, uint64_t v)
{
        uint64_t bi = cluster / q->rb_entries;
        if (q->refcount_order < 6 && v >> (1u << q->refcount_order))
                return -ERANGE;
        int rc;
        if (bi >= q->rt_entries && (rc = grow_refcount_table(q, bi)) < 0)
                return rc;
        if (!(q->rt[bi] & OFFSET_MASK)) {
                /* a fresh refcount block at the end; it counts itself when it lies
                 * in its own range, otherwise another block does */
                uint64_t boff = q->end;
                q->end += q->cs;
                memset(q->rb, 0, q->cs);
                q->rb_off = 0;
                uint64_t bcl = boff >> q->cluster_bits;
                bool self = bcl / q->rb_entries == bi;
                if (self)
                        rb_set(q, q->rb, bcl % q->rb_entries, 1);
                if ((rc = pwrite_full(q->fd, q->rb, q->cs, boff)) < 0)
                        return rc;
                uint8_t e[8];
                put_be64(e, boff);
                if ((rc = pwrite_full(q->fd, e, 8, q->rt_off + bi * 8)) < 0)
                        return rc;
                q->rt[bi] = boff;
                q->rb_off = boff;
                if (!self && (rc = refcount_set(q, bcl, 1)) < 0)
                        return rc;
        }
        uint64_t boff = q->rt[bi] & OFFSET_MASK;
        if ((rc = rb_load(q, boff)) < 0)
                return rc;
        uint64_t i = cluster % q->rb_entries;
        rb_set(q, q->rb, i, v);
        uint32_t bits = 1u << q->refcount_order;
        uint64_t byte = i * bits / 8;
        size_t len = bits < 8 ? 1 : bits / 8;
        return pwrite_full(q->fd, q->rb + byte, len, boff + byte);
}

static int alloc_cluster(struct qcow2 *q, uint64_t *out)
{
        for (int skipped = 0;; skipped++) {
                uint64_t cur;
                int rc = refcount_get(q, q->end >> q->cluster_bits, &cur);
                if (rc < 0)
                        return rc;
                if (!cur)
                        break;
                /* a stale count past the old end: skip it, within reason */
                if (skipped == 1 << 16)
                        return corrupt(q, "refcounts claim clusters far past the end", q->end);
                q->end += q->cs;
        }
        uint64_t off = q->end;
        q->end += q->cs;
        int rc = refcount_set(q, off >> q->cluster_bits, 1);
        if (rc < 0)
                return rc;
        *out = off;
        return 0;
}

/* Up to want clusters from the end of the file, their refcounts written in
 * one go when one existing refcount block counts them all; else one by one. */
static int alloc_run(struct qcow2 *q, size_t want, uint64_t *hosts, size_t *got)
{
        uint64_t first = q->end >> q->cluster_bits, bi = first / q->rb_entries;
        uint64_t i0 = first % q->rb_entries;
        size_t n = q->rb_entries - i0 < want ? (size_t)(q->rb_entries - i0) : want;
        bool fast = bi < q->rt_entries && (q->rt[bi] & OFFSET_MASK) && n > 1;
        if (fast && rb_load(q, q->rt[bi] & OFFSET_MASK) < 0)
                fast = false;
        for (size_t i = 0; fast && i < n; i++)
                fast = rb_get(q, q->rb, i0 + i) == 0;
        if (!fast) {
                *got = 1;
                return alloc_cluster(q, hosts);
        }
        for (size_t i = 0; i < n; i++) {
                rb_set(q, q->rb, i0 + i, 1);
                hosts[i] = (first + i) << q->cluster_bits;
        }
        uint32_t bits = 1u << q->refcount_order;
        uint64_t b0 = i0 * bits / 8, b1 = ((i0 + n) * bits + 7) / 8;
        int rc = pwrite_full(q->fd, q->rb + b0, (size_t)(b1 - b0), q->rb_off + b0);
        if (rc < 0)
                return rc;
        q->end += n * q->cs;
        *got = n;
        return 0;
}

/* ---- L2 cache ---- */

static int set_l1(struct qcow2 *q, uint32_t idx, uint64_t v);

/* Writes every dirty L2 table after one sync of what they point to, then,
 * after another sync, the L1 entries of new L2 tables. */
static int l2_writeback_all(struct qcow2 *q)
{
        bool any = q->l1_any_dirty;
        for (int i = 0; i < L2_CACHE_SLOTS; i++)
                any |= q->l2c[i].off && q->l2c[i].dirty;
        if (!any)
                return 0;
        if (fdatasync(q->fd) < 0)
                return -errno;
        uint64_t n = q->cs / 8;
        uint8_t *buf = (uint8_t *)q->cow;
        for (int k = 0; k < L2_CACHE_SLOTS; k++) {
                struct l2_slot *s = &q->l2c[k];
                if (!s->off || !s->dirty)
                        continue;
                for (uint64_t i = 0; i < n; i++)
                        put_be64(buf + i * 8, s->tab[i]);
                int rc = pwrite_full(q->fd, buf, q->cs, s->off);
                if (rc < 0)
                        return rc;
                s->dirty = false;
        }
        if (!q->l1_any_dirty)
                return 0;
        if (fdatasync(q->fd) < 0)
                return -errno;
        for (uint32_t i = 0; i < q->l1_size; i++) {
                if (!q->l1_dirty[i])
                        continue;
                int rc = set_l1(q, i, q->l1[i]);
                if (rc < 0)
                        return rc;
                q->l1_dirty[i] = 0;
        }
        q->l1_any_dirty = false;
        return 0;
}

static int l2_writeback(struct qcow2 *q, struct l2_slot *s)
{
        if (!s->dirty)
                return 0;
        return l2_writeback_all(q);
}

static int set_l1(struct qcow2 *q, uint32_t idx, uint64_t v)
{
        uint8_t e[8];
        put_be64(e, v);
        int rc = pwrite_full(q->fd, e, 8, q->l1_off + (uint64_t)idx * 8);
        if (rc == 0)
                q->l1[idx] = v;
        return rc;
}

/* The L2 table covering vcluster; *slot stays NULL when none exists and
 * alloc is false. */
static int l2_get(struct qcow2 *q, uint64_t vc, bool alloc, struct l2_slot **slot)
{
        *slot = NULL;
        uint64_t li = vc >> q->l2_bits;
        if (li >= q->l1_size)
                return corrupt(q, "access beyond the L1 table", vc);
        uint64_t l2off = q->l1[li] & OFFSET_MASK;
        bool fresh = false;
        int rc;
        if (!l2off) {
                if (!alloc)
                        return 0;
                /* the table reaches the file from the cache, its L1 entry only
                 * after that is synced (l2_writeback_all): no sync here */
                if ((rc = alloc_cluster(q, &l2off)) < 0)
                        return rc;
                q->l1[li] = l2off | ENTRY_COPIED;
                q->l1_dirty[li] = 1;
                q->l1_any_dirty = true;
                fresh = true;
        } else if (l2off & (q->cs - 1) || l2off >= q->end) {
                return corrupt(q, "L2 table pointer outside the file", l2off);
        }
        struct l2_slot *victim = &q->l2c[0];
        for (int i = 0; i < L2_CACHE_SLOTS; i++) {
                struct l2_slot *s = &q->l2c[i];
                if (s->off == l2off) {
                        s->used = ++q->tick;
                        *slot = s;
                        return 0;
                }
                if (!s->off || (victim->off && s->used < victim->used))
                        victim = s;
        }
        if ((rc = l2_writeback(q, victim)) < 0)
                return rc;
        victim->off = 0;
        if (fresh) {
                memset(victim->tab, 0, q->cs);
                victim->dirty = true;
        } else {
                if ((rc = pread_full(q->fd, q->cow, q->cs, l2off)) < 0)
                        return rc == -EIO ? corrupt(q, "L2 table past the end", l2off) : rc;
                for (uint64_t i = 0; i < q->cs / 8; i++)
                        victim->tab[i] = be64(q->cow + i * 8);
        }
        victim->off = l2off;
        victim->used = ++q->tick;
        *slot = victim;
        return 0;
}

static uint64_t l2_index(const struct qcow2 *q, uint64_t vc)
{
        return vc & ((1ULL << q->l2_bits) - 1);
}

/* ---- guest data in host clusters ---- */

static int data_rw(struct qcow2 *q, const struct iovec *iov, int cnt, uint64_t host, bool write)
{
        return image_file_rw(q->dfd, q->direct, iov, cnt, host, write);
}

static int data_rw1(struct qcow2 *q, void *buf, size_t n, uint64_t host, bool write)
{
        struct iovec one = {.iov_base = buf, .iov_len = n};
        return data_rw(q, &one, 1, host, write);
}

/* A plain allocated data cluster (no compression, not a zero cluster). */
static bool entry_is_data(const struct qcow2 *q, uint64_t e);

/* The part [skip, skip + len) of iov as a new list in out (room for cnt). */
static int iov_slice(const struct iovec *iov, int cnt, size_t skip, size_t len, struct iovec *out)
{
        int k = 0;
        for (int i = 0; i < cnt && len; i++) {
                if (skip >= iov[i].iov_len) {
                        skip -= iov[i].iov_len;
                        continue;
                }
                size_t n = iov[i].iov_len - skip;
                if (n > len)
                        n = len;
                out[k].iov_base = (uint8_t *)iov[i].iov_base + skip;
                out[k++].iov_len = n;
                len -= n;
                skip = 0;
        }
        return k;
}

/* Longest request handed to one preadv/pwritev: runs of host-contiguous
 * clusters are merged up to this. */
#define RUN_MAX (4u << 20)

/* ---- reads ---- */

static int read_backing(struct qcow2 *q, uint8_t *buf, size_t len, uint64_t off)
{
        if (!q->backing || off >= q->backing->size) {
                memset(buf, 0, len);
                return 0;
        }
        size_t n = len;
        if (off + n > q->backing->size)
                n = (size_t)(q->backing->size - off);
        memset(buf + n, 0, len - n);
        struct iovec iov = {.iov_base = buf, .iov_len = n};
        return q->backing->ops->read(q->backing, &iov, 1, off);
}

static int decompress(struct qcow2 *q, uint64_t entry)
{
        if (q->cbuf_entry == entry)
                return 0;
        uint32_t x = 62 - (q->cluster_bits - 8);
        uint64_t host = entry & ((1ULL << x) - 1);
        uint64_t sectors = ((entry & ~(ENTRY_COPIED | ENTRY_COMPRESSED)) >> x) + 1;
        uint64_t clen = sectors * 512 - (host & 511);
        if (host >= q->end)
                return corrupt(q, "compressed cluster outside the file", host);
        if (clen > 2 * q->cs)
                return corrupt(q, "compressed cluster larger than two clusters", entry);
        if (host + clen > q->end)
                clen = q->end - host;
        uint8_t *in = malloc(clen);
        if (!in)
                return -ENOMEM;
        ssize_t got = pread(q->fd, in, clen, (off_t)host);
        int rc = -EIO;
        q->cbuf_entry = 0;
        if (got > 0 && q->comp_type == 0) {
                z_stream z = {0};
                if (inflateInit2(&z, -12) == Z_OK) {
                        z.next_in = in;
                        z.avail_in = (uInt)got;
                        z.next_out = q->cbuf;
                        z.avail_out = (uInt)q->cs;
                        int zr = inflate(&z, Z_FINISH);
                        if ((zr == Z_STREAM_END || zr == Z_BUF_ERROR || zr == Z_OK) &&
                            z.avail_out == 0)
                                rc = 0;
                        inflateEnd(&z);
                }
        } else if (got > 0) {
                ZSTD_DCtx *d = ZSTD_createDCtx();
                ZSTD_inBuffer ib = {in, (size_t)got, 0};
                ZSTD_outBuffer ob = {q->cbuf, q->cs, 0};
                while (d && ob.pos < ob.size && ib.pos < ib.size) {
                        size_t r = ZSTD_decompressStream(d, &ob, &ib);
                        if (ZSTD_isError(r) || r == 0)
                                break;
                }
                if (ob.pos == ob.size)
                        rc = 0;
                ZSTD_freeDCtx(d);
        }
        free(in);
        if (rc < 0)
                return corrupt(q, "compressed cluster does not decompress", host);
        q->cbuf_entry = entry;
        return 0;
}

static bool entry_is_zero(const struct qcow2 *q, uint64_t e)
{
        return q->version >= 3 && !(e & ENTRY_COMPRESSED) && (e & ENTRY_ZERO);
}

/* Reads part of one virtual cluster. */
static int read_in_cluster(struct qcow2 *q, uint64_t vc, uint64_t in, uint8_t *buf, size_t n)
{
        struct l2_slot *s;
        int rc = l2_get(q, vc, false, &s);
        if (rc < 0)
                return rc;
        uint64_t e = s ? s->tab[l2_index(q, vc)] : 0;
        uint64_t voff = (vc << q->cluster_bits) + in;
        if (e & ENTRY_COMPRESSED) {
                if ((rc = decompress(q, e)) < 0)
                        return rc;
                memcpy(buf, q->cbuf + in, n);
                return 0;
        }
        if (entry_is_zero(q, e)) {
                memset(buf, 0, n);
                return 0;
        }
        uint64_t host = e & OFFSET_MASK;
        if (!host)
                return read_backing(q, buf, n, voff);
        if (host & (q->cs - 1) || host >= q->end)
                return corrupt(q, "data cluster outside the file", host);
        return data_rw1(q, buf, n, host + in, false); /* a last cluster cut short reads zeros */
}

static int read_part(void *ctx, uint64_t vc, uint64_t in, uint8_t *buf, size_t n, uint64_t off)
{
        (void)off;
        return read_in_cluster(ctx, vc, in, buf, n);
}

static int read_piece(void *ctx, uint8_t *buf, size_t len, uint64_t off)
{
        struct qcow2 *q = ctx;
        return block_each(buf, len, off, q->cs, read_part, q);
}

static bool entry_is_data(const struct qcow2 *q, uint64_t e)
{
        return !(e & ENTRY_COMPRESSED) && (e & OFFSET_MASK) && !entry_is_zero(q, e);
}

/* The L2 entry of vcluster (0 when it has no L2 table). */
static int lookup(struct qcow2 *q, uint64_t vc, bool alloc, uint64_t *e)
{
        struct l2_slot *s;
        int rc = l2_get(q, vc, alloc, &s);
        *e = rc == 0 && s ? s->tab[l2_index(q, vc)] : 0;
        return rc;
}

/* Bytes from off (inside a data cluster at host + in) that continue in
 * host-contiguous data clusters, up to len and RUN_MAX; want_copied: every
 * cluster must also be writable in place. */
static int contiguous_run(struct qcow2 *q, uint64_t off, uint64_t host, size_t len,
                          bool want_copied, size_t *run)
{
        uint64_t in = off & (q->cs - 1);
        size_t r = q->cs - in < len ? (size_t)(q->cs - in) : len;
        while (r < len && r < RUN_MAX) {
                uint64_t e;
                int rc = lookup(q, (off + r) >> q->cluster_bits, false, &e);
                if (rc < 0)
                        return rc;
                if (!entry_is_data(q, e) || (e & OFFSET_MASK) != host + in + r ||
                    (want_copied && !(e & ENTRY_COPIED)) || (e & OFFSET_MASK) >= q->end)
                        break;
                r += q->cs < len - r ? (size_t)q->cs : len - r;
        }
        *run = r;
        return 0;
}

void qcow2_prefetch(struct blk_backend *b, uint64_t off, uint64_t len)
{
        struct qcow2 *q = to_q(b);
        uint64_t run_host = 0, run_len = 0;
        for (uint64_t pos = off & ~(q->cs - 1); pos < off + len; pos += q->cs) {
                uint64_t e;
                if (lookup(q, pos >> q->cluster_bits, false, &e) < 0)
                        break;
                uint64_t host = e & OFFSET_MASK;
                if (entry_is_data(q, e) && run_len && host == run_host + run_len) {
                        run_len += q->cs;
                        continue;
                }
                if (run_len)
                        (void)posix_fadvise(q->fd, (off_t)run_host, (off_t)run_len,
                                            POSIX_FADV_WILLNEED);
                run_len = 0;
                if (entry_is_data(q, e)) {
                        run_host = host;
                        run_len = q->cs;
                } else if (!e && q->backing) {
                        blk_image_prefetch(q->backing, pos, q->cs);
                }
        }
        if (run_len)
                (void)posix_fadvise(q->fd, (off_t)run_host, (off_t)run_len, POSIX_FADV_WILLNEED);
}

/* The status of the cluster at off and how far the same status goes. */
int qcow2_block_status(struct blk_backend *b, uint64_t off, uint64_t len, uint64_t *pnum)
{
        struct qcow2 *q = to_q(b);
        int status = -1;
        uint64_t done = 0;
        while (done < len) {
                uint64_t pos = off + done, e;
                uint64_t n = q->cs - (pos & (q->cs - 1));
                if (n > len - done)
                        n = len - done;
                int rc = lookup(q, pos >> q->cluster_bits, false, &e), s;
                if (rc < 0)
                        return rc;
                if ((e & ENTRY_COMPRESSED) || entry_is_data(q, e)) {
                        s = 1;
                } else if (entry_is_zero(q, e) || !q->backing || pos >= q->backing->size) {
                        s = 0;
                } else {
                        /* unallocated over a backing file: ask it, within this cluster */
                        uint64_t bn;
                        if ((s = blk_image_block_status(q->backing, pos, n, &bn)) < 0)
                                return s;
                        if (bn < n) {
                                if (status < 0 || status == s)
                                        done += bn, status = s;
                                break;
                        }
                }
                if (status >= 0 && s != status)
                        break;
                status = s;
                done += n;
        }
        *pnum = done ? done : len;
        return status < 0 ? 1 : status;
}

/* Reads and writes walk the request cluster by cluster, and hand each run of
 * clusters that are contiguous in the file to one preadv/pwritev. */
static int qcow2_read(struct blk_backend *b, const struct iovec *iov, int iovcnt, uint64_t off)
{
        struct qcow2 *q = to_q(b);
        size_t total = 0;
        for (int i = 0; i < iovcnt; i++)
                total += iov[i].iov_len;
        struct iovec stackv[64];
        struct iovec *sl = iovcnt <= 64 ? stackv : malloc(sizeof(*sl) * (size_t)iovcnt);
        if (!sl)
                return -ENOMEM;
        int rc = 0;
        for (size_t done = 0; rc == 0 && done < total;) {
                uint64_t pos = off + done, e;
                size_t run = q->cs - (pos & (q->cs - 1));
                if (run > total - done)
                        run = total - done;
                if ((rc = lookup(q, pos >> q->cluster_bits, false, &e)) < 0)
                        break;
                uint64_t host = e & OFFSET_MASK;
                if (entry_is_data(q, e) && !(host & (q->cs - 1)) && host < q->end) {
                        if ((rc = contiguous_run(q, pos, host, total - done, false, &run)) < 0)
                                break;
                        int n = iov_slice(iov, iovcnt, done, run, sl);
                        rc = data_rw(q, sl, n, host + (pos & (q->cs - 1)), false);
                } else {
                        int n = iov_slice(iov, iovcnt, done, run, sl);
                        rc = iov_each(sl, n, pos, read_piece, q);
                }
                done += run;
        }
        if (sl != stackv)
                free(sl);
        return rc;
}

/* ---- writes ---- */

static int queue_free(struct qcow2 *q, uint64_t e)
{
        if (!(e & ENTRY_COMPRESSED) && !(e & OFFSET_MASK))
                return 0;
        if (q->npending == q->cap_pending) {
                size_t cap = q->cap_pending ? q->cap_pending * 2 : 64;
                uint64_t *p = realloc(q->pending_free, cap * sizeof(*p));
                if (!p)
                        return 0; /* a leak, not an error */
                q->pending_free = p;
                q->cap_pending = cap;
        }
        q->pending_free[q->npending++] = e;
        return 0;
}

static int unref_cluster(struct qcow2 *q, uint64_t cluster)
{
        uint64_t v;
        int rc = refcount_get(q, cluster, &v);
        if (rc < 0 || v == 0)
                return rc;
        if ((rc = refcount_set(q, cluster, v - 1)) < 0)
                return rc;
        if (v == 1) /* give the space back to the host; reads of it are never made */
                (void)fallocate(q->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                (off_t)(cluster << q->cluster_bits), (off_t)q->cs);
        return 0;
}

static int release_pending(struct qcow2 *q)
{
        for (size_t i = 0; i < q->npending; i++) {
                uint64_t e = q->pending_free[i];
                uint64_t first, last;
                if (e & ENTRY_COMPRESSED) {
                        uint32_t x = 62 - (q->cluster_bits - 8);
                        uint64_t host = e & ((1ULL << x) - 1);
                        uint64_t sectors = ((e & ~(ENTRY_COPIED | ENTRY_COMPRESSED)) >> x) + 1;
                        first = host >> q->cluster_bits;
                        last = ((host & ~511ULL) + sectors * 512 - 1) >> q->cluster_bits;
                } else {
                        first = last = (e & OFFSET_MASK) >> q->cluster_bits;
                }
                for (uint64_t c = first; c <= last; c++) {
                        int rc = unref_cluster(q, c);
                        if (rc < 0)
                                return rc;
                }
        }
        q->npending = 0;
        return 0;
}

static int write_in_cluster(struct qcow2 *q, uint64_t vc, uint64_t in, const uint8_t *buf, size_t n)
{
        struct l2_slot *s;
        int rc = l2_get(q, vc, true, &s);
        if (rc < 0)
                return rc;
        uint64_t idx = l2_index(q, vc);
        uint64_t e = s->tab[idx];
        uint64_t host = e & OFFSET_MASK;
        if ((e & ENTRY_COPIED) && !(e & ENTRY_COMPRESSED) && host && !entry_is_zero(q, e)) {
                if (host & (q->cs - 1) || host >= q->end)
                        return corrupt(q, "data cluster outside the file", host);
                return data_rw1(q, (void *)buf, n, host + in, true);
        }
        /* copy-on-write into a fresh cluster (read first: it may evict s) */
        uint8_t *data = aligned_alloc(DIO_ALIGN, q->cs < DIO_ALIGN ? DIO_ALIGN : q->cs);
        if (!data)
                return -ENOMEM;
        if (n < q->cs && (rc = read_in_cluster(q, vc, 0, data, q->cs)) < 0)
                goto out;
        memcpy(data + in, buf, n);
        uint64_t newoff;
        if ((rc = alloc_cluster(q, &newoff)) < 0)
                goto out;
        if ((rc = data_rw1(q, data, q->cs, newoff, true)) < 0)
                goto out;
        if ((rc = l2_get(q, vc, true, &s)) < 0)
                goto out;
        e = s->tab[idx];
        s->tab[idx] = newoff | ENTRY_COPIED;
        s->dirty = true;
        if (q->cbuf_entry == e)
                q->cbuf_entry = 0;
        rc = queue_free(q, entry_is_zero(q, e) ? (e & OFFSET_MASK) : e);
out:
        free(data);
        return rc;
}

static int write_part(void *ctx, uint64_t vc, uint64_t in, uint8_t *buf, size_t n, uint64_t off)
{
        (void)off;
        return write_in_cluster(ctx, vc, in, buf, n);
}

static int write_piece(void *ctx, uint8_t *buf, size_t len, uint64_t off)
{
        struct qcow2 *q = ctx;
        return block_each(buf, len, off, q->cs, write_part, q);
}

/* Whole clusters from pos that get fresh clusters (nothing to copy): each
 * gets its refcount, then the data goes out in contiguous runs, then the L2
 * entries change (freeing what they pointed to after the next flush). */
static int write_fresh(struct qcow2 *q, const struct iovec *iov, int iovcnt, size_t done,
                       uint64_t pos, size_t len, struct iovec *sl, size_t *used)
{
        uint64_t hosts[64];
        size_t k = 0, max = len / q->cs;
        if (max > 64)
                max = 64;
        if (max * q->cs > RUN_MAX)
                max = RUN_MAX / q->cs ? RUN_MAX / q->cs : 1;
        int rc = 0;
        for (k = 1; k < max; k++) {
                uint64_t e;
                if ((rc = lookup(q, (pos >> q->cluster_bits) + k, true, &e)) < 0)
                        return rc;
                if (entry_is_data(q, e) && (e & ENTRY_COPIED))
                        break; /* writable in place: the caller's other path */
        }
        for (size_t got = 0, n; got < k; got += n)
                if ((rc = alloc_run(q, k - got, hosts + got, &n)) < 0)
                        return rc;
        for (size_t i = 0; i < k;) {
                size_t j = i + 1;
                while (j < k && hosts[j] == hosts[j - 1] + q->cs)
                        j++;
                int n = iov_slice(iov, iovcnt, done + i * q->cs, (j - i) * q->cs, sl);
                if ((rc = data_rw(q, sl, n, hosts[i], true)) < 0)
                        return rc;
                i = j;
        }
        for (size_t i = 0; i < k; i++) {
                struct l2_slot *s;
                uint64_t vc = (pos >> q->cluster_bits) + i;
                if ((rc = l2_get(q, vc, true, &s)) < 0)
                        return rc;
                uint64_t idx = l2_index(q, vc), e = s->tab[idx];
                s->tab[idx] = hosts[i] | ENTRY_COPIED;
                s->dirty = true;
                if (q->cbuf_entry == e)
                        q->cbuf_entry = 0;
                if ((rc = queue_free(q, entry_is_zero(q, e) ? (e & OFFSET_MASK) : e)) < 0)
                        return rc;
        }
        *used = k * q->cs;
        return 0;
}

static int qcow2_write(struct blk_backend *b, const struct iovec *iov, int iovcnt, uint64_t off)
{
        if (b->readonly)
                return -EROFS;
        struct qcow2 *q = to_q(b);
        size_t total = 0;
        for (int i = 0; i < iovcnt; i++)
                total += iov[i].iov_len;
        struct iovec stackv[64];
        struct iovec *sl = iovcnt <= 64 ? stackv : malloc(sizeof(*sl) * (size_t)iovcnt);
        if (!sl)
                return -ENOMEM;
        int rc = 0;
        for (size_t done = 0; rc == 0 && done < total;) {
                uint64_t pos = off + done, e, in = pos & (q->cs - 1);
                size_t run = q->cs - in;
                if (run > total - done)
                        run = total - done;
                if ((rc = lookup(q, pos >> q->cluster_bits, true, &e)) < 0)
                        break;
                uint64_t host = e & OFFSET_MASK;
                if (entry_is_data(q, e) && (e & ENTRY_COPIED)) {
                        if (host & (q->cs - 1) || host >= q->end) {
                                rc = corrupt(q, "data cluster outside the file", host);
                                break;
                        }
                        if ((rc = contiguous_run(q, pos, host, total - done, true, &run)) < 0)
                                break;
                        int n = iov_slice(iov, iovcnt, done, run, sl);
                        rc = data_rw(q, sl, n, host + in, true);
                } else if (in == 0 && run == q->cs) {
                        rc = write_fresh(q, iov, iovcnt, done, pos, total - done, sl, &run);
                } else {
                        int n = iov_slice(iov, iovcnt, done, run, sl);
                        rc = iov_each(sl, n, pos, write_piece, q);
                }
                done += run;
        }
        if (sl != stackv)
                free(sl);
        return rc;
}

static int qcow2_flush(struct blk_backend *b)
{
        struct qcow2 *q = to_q(b);
        if (b->readonly)
                return 0;
        int rc = l2_writeback_all(q);
        if (rc < 0)
                return rc;
        if (fdatasync(q->fd) < 0)
                return -errno;
        if (q->npending) {
                if ((rc = release_pending(q)) < 0)
                        return rc;
                if (fdatasync(q->fd) < 0)
                        return -errno;
        }
        return 0;
}

/* Whole clusters become zero clusters (v3) or unallocated (no backing);
 * partial ones are written with zeros when zeroing and left alone when
 * only discarding. */
static int zero_range(struct qcow2 *q, uint64_t off, uint64_t len, bool discard)
{
        static const uint8_t zeros[4096];
        while (len) {
                uint64_t in = off & (q->cs - 1);
                uint64_t n = q->cs - in < len ? q->cs - in : len;
                uint64_t vc = off >> q->cluster_bits;
                int rc = 0;
                bool whole = n == q->cs;
                if (whole && (q->version >= 3 || !q->backing)) {
                        struct l2_slot *s;
                        rc = l2_get(q, vc, q->backing != NULL, &s);
                        if (rc == 0 && s) {
                                uint64_t idx = l2_index(q, vc);
                                uint64_t e = s->tab[idx];
                                uint64_t ne = q->backing ? ENTRY_ZERO : 0;
                                if (e != ne) {
                                        s->tab[idx] = ne;
                                        s->dirty = true;
                                        rc = queue_free(q, entry_is_zero(q, e) ? (e & OFFSET_MASK)
                                                                               : e);
                                }
                        }
                } else if (!discard) {
                        for (uint64_t done = 0; rc == 0 && done < n; done += sizeof(zeros)) {
                                size_t k =
                                    n - done < sizeof(zeros) ? (size_t)(n - done) : sizeof(zeros);
                                rc = write_in_cluster(q, vc, in + done, zeros, k);
                        }
                }
                if (rc < 0)
                        return rc;
                off += n;
                len -= n;
        }
        return 0;
}

static int qcow2_discard(struct blk_backend *b, uint64_t off, uint64_t len)
{
        return b->readonly ? -EROFS : zero_range(to_q(b), off, len, true);
}

static int qcow2_write_zeroes(struct blk_backend *b, uint64_t off, uint64_t len)
{
        return b->readonly ? -EROFS : zero_range(to_q(b), off, len, false);
}

static void qcow2_free(struct qcow2 *q)
{
        if (q->backing)
                q->backing->ops->close(q->backing);
        for (int i = 0; i < L2_CACHE_SLOTS; i++)
                free(q->l2c[i].tab);
        free(q->l1);
        free(q->l1_dirty);
        free(q->rt);
        free(q->rb);
        free(q->cbuf);
        free(q->cow);
        free(q->pending_free);
        if (q->dfd >= 0 && q->dfd != q->fd)
                close(q->dfd);
        if (q->fd >= 0)
                close(q->fd);
        free(q);
}

static void qcow2_close(struct blk_backend *b)
{
        struct qcow2 *q = to_q(b);
        if (qcow2_flush(b) < 0)
                fprintf(stderr, "qcow2 %s: flush on close failed\n", q->path);
        qcow2_free(q);
}

static const struct blk_backend_ops qcow2_ops = {
    .read = qcow2_read,
    .write = qcow2_write,
    .flush = qcow2_flush,
    .discard = qcow2_discard,
    .write_zeroes = qcow2_write_zeroes,
    .close = qcow2_close,
};

/* ---- open ---- */

static void backing_path(const char *image, const char *name, char *out, size_t len)
{
        if (name[0] == '/') {
                snprintf(out, len, "%s", name);
                return;
        }
        const char *slash = strrchr(image, '/');
        if (!slash)
                snprintf(out, len, "%s", name);
        else
                snprintf(out, len, "%.*s/%s", (int)(slash - image), image, name);
}

static struct blk_backend *qcow2_open_ex(int fd, const char *path, bool readonly, bool allow_dirty,
                                         struct image_chain *chain, char *err, size_t errlen);

struct blk_backend *qcow2_open(int fd, const char *path, bool readonly, struct image_chain *chain,
                               char *err, size_t errlen)
{
        return qcow2_open_ex(fd, path, readonly, false, chain, err, errlen);
}

static struct blk_backend *qcow2_open_ex(int fd, const char *path, bool readonly, bool allow_dirty,
                                         struct image_chain *chain, char *err, size_t errlen)
{
        struct qcow2 *q = calloc(1, sizeof(*q));
        if (!q) {
                close(fd);
                snprintf(err, errlen, "out of memory opening %s", path);
                return NULL;
        }
        q->fd = fd;
        q->dfd = fd;
        snprintf(q->path, sizeof(q->path), "%s", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                FAIL("cannot stat %s: %s", path, strerror(errno));
        uint64_t fsize = (uint64_t)st.st_size;
        uint8_t h[512] = {0};
        ssize_t hgot = pread(fd, h, sizeof(h), 0);
        if (hgot < 72)
                FAIL("qcow2 %s: header is truncated", path);
        if (be32(h) != QCOW2_MAGIC)
                FAIL("qcow2 %s: bad magic", path);
        q->version = be32(h + 4);
        if (q->version != 2 && q->version != 3)
                FAIL("qcow2 %s: unsupported version %u", path, q->version);
        uint64_t bf_off = be64(h + 8);
        uint32_t bf_len = be32(h + 16);
        q->cluster_bits = be32(h + 20);
        if (q->cluster_bits < 9 || q->cluster_bits > 21)
                FAIL("qcow2 %s: invalid cluster bits %u", path, q->cluster_bits);
        q->cs = 1ULL << q->cluster_bits;
        q->l2_bits = q->cluster_bits - 3;
        uint64_t vsize = be64(h + 24);
        if (be32(h + 32))
                FAIL("qcow2 %s: encrypted images are not supported", path);
        q->l1_size = be32(h + 36);
        q->l1_off = be64(h + 40);
        q->rt_off = be64(h + 48);
        q->rt_clusters = be32(h + 56);
        q->nb_snapshots = be32(h + 60);
        q->refcount_order = 4;
        q->header_len = 72;
        if (q->version == 3) {
                q->incompat = be64(h + 72);
                q->compat = be64(h + 80);
                q->autoclear = be64(h + 88);
                q->refcount_order = be32(h + 96);
                q->header_len = be32(h + 100);
                if (hgot < 104)
                        FAIL("qcow2 %s: header is truncated", path);
                if (q->header_len < 104 || q->header_len > sizeof(h) || q->header_len > q->cs)
                        FAIL("qcow2 %s: invalid header length %u", path, q->header_len);
                if (q->header_len > 104)
                        q->comp_type = h[104];
        }
        uint64_t known = INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_COMPTYPE;
        if (q->incompat & ~known)
                FAIL("qcow2 %s: unsupported incompatible features 0x%llx%s", path,
                     (unsigned long long)(q->incompat & ~known),
                     q->incompat & INCOMPAT_DATAFILE ? " (external data file)"
                     : q->incompat & INCOMPAT_EXTL2  ? " (extended L2 entries)"
                                                     : "");
        if (q->comp_type > 1 || (q->comp_type && !(q->incompat & INCOMPAT_COMPTYPE)))
                FAIL("qcow2 %s: unknown compression type %u", path, q->comp_type);
        if (q->refcount_order > 6)
                FAIL("qcow2 %s: invalid refcount order %u", path, q->refcount_order);
        if (!readonly && !allow_dirty && (q->incompat & INCOMPAT_DIRTY))
                FAIL("qcow2 %s: image is dirty (lazy refcounts were not written back); "
                     "run 'tandem-image check -r' or open it read-only",
                     path);
        if (!readonly && (q->incompat & INCOMPAT_CORRUPT))
                FAIL("qcow2 %s: image is marked corrupt; repair it or open it read-only", path);
        if (!readonly && q->nb_snapshots)
                FAIL("qcow2 %s: writing images with internal snapshots is not supported; "
                     "open it read-only",
                     path);
        /* virtual size: the L1 table must cover it and stay bounded */
        uint64_t l2_span = q->cs << q->l2_bits;
        if (vsize > (uint64_t)(L1_MAX_BYTES / 8) * l2_span)
                FAIL("qcow2 %s: virtual size %llu is too large", path, (unsigned long long)vsize);
        uint64_t need_l1 = (vsize + l2_span - 1) / l2_span;
        if (q->l1_size < need_l1)
                FAIL("qcow2 %s: L1 table too small for the virtual size", path);
        if (q->l1_size > L1_MAX_BYTES / 8)
                FAIL("qcow2 %s: L1 table too large", path);
        if (q->l1_off & (q->cs - 1) || q->l1_off + (uint64_t)q->l1_size * 8 > fsize ||
            (q->l1_size && !q->l1_off))
                FAIL("qcow2 %s: L1 table offset 0x%llx outside the file", path,
                     (unsigned long long)q->l1_off);
        if ((uint64_t)q->rt_clusters * q->cs > RT_MAX_BYTES || !q->rt_clusters)
                FAIL("qcow2 %s: invalid refcount table size", path);
        if (q->rt_off & (q->cs - 1) || !q->rt_off ||
            q->rt_off + (uint64_t)q->rt_clusters * q->cs > fsize)
                FAIL("qcow2 %s: refcount table offset 0x%llx outside the file", path,
                     (unsigned long long)q->rt_off);
        q->end = (fsize + q->cs - 1) & ~(q->cs - 1);
        q->b = (struct blk_backend){.ops = &qcow2_ops, .size = vsize, .readonly = readonly};

        /* header extensions */
        uint8_t *c0 = malloc(q->cs);
        if (!c0)
                FAIL("out of memory opening %s", path);
        memset(c0, 0, q->cs);
        if (pread(fd, c0, q->cs, 0) < (ssize_t)q->header_len) {
                free(c0);
                FAIL("qcow2 %s: header is truncated", path);
        }
        for (uint64_t p = q->header_len; p + 8 <= q->cs;) {
                uint32_t type = be32(c0 + p), len = be32(c0 + p + 4);
                if (type == 0)
                        break;
                if (len > q->cs - p - 8) {
                        free(c0);
                        FAIL("qcow2 %s: header extension overruns the first cluster", path);
                }
                if (type == EXT_BACKING_FMT && len < sizeof(q->backing_fmt))
                        memcpy(q->backing_fmt, c0 + p + 8, len);
                p += 8 + ((len + 7ULL) & ~7ULL);
        }
        if (bf_off) {
                if (bf_len == 0 || bf_len >= sizeof(q->backing_name) || bf_off >= q->cs ||
                    bf_off + bf_len > q->cs) {
                        free(c0);
                        FAIL("qcow2 %s: invalid backing file name field", path);
                }
                memcpy(q->backing_name, c0 + bf_off, bf_len);
                if (memchr(q->backing_name, 0, bf_len)) {
                        free(c0);
                        FAIL("qcow2 %s: backing file name contains a NUL byte", path);
                }
        }
        free(c0);

        q->l1 = calloc(q->l1_size ? q->l1_size : 1, 8);
        q->l1_dirty = calloc(q->l1_size ? q->l1_size : 1, 1);
        q->rt_entries = (uint64_t)q->rt_clusters * q->cs / 8;
        q->rt = calloc(q->rt_entries, 8);
        q->rb = malloc(q->cs);
        q->cbuf = malloc(q->cs);
        q->cow = malloc(q->cs);
        for (int i = 0; i < L2_CACHE_SLOTS; i++)
                if (!(q->l2c[i].tab = malloc(q->cs)))
                        FAIL("out of memory opening %s", path);
        if (!q->l1 || !q->l1_dirty || !q->rt || !q->rb || !q->cbuf || !q->cow)
                FAIL("out of memory opening %s", path);
        q->rb_entries = q->cs * 8 >> q->refcount_order;
        uint8_t *raw = (uint8_t *)q->rt;
        if (pread_full(fd, raw, q->rt_entries * 8, q->rt_off) < 0)
                FAIL("qcow2 %s: cannot read the refcount table", path);
        for (uint64_t i = 0; i < q->rt_entries; i++)
                q->rt[i] = be64(raw + i * 8);
        raw = (uint8_t *)q->l1;
        if (q->l1_size && pread_full(fd, raw, (size_t)q->l1_size * 8, q->l1_off) < 0)
                FAIL("qcow2 %s: cannot read the L1 table", path);
        for (uint32_t i = 0; i < q->l1_size; i++)
                q->l1[i] = be64(raw + (size_t)i * 8);

        if (q->backing_name[0]) {
                char bpath[PATH_MAX + 1100];
                backing_path(path, q->backing_name, bpath, sizeof(bpath));
                const char *fmt = q->backing_fmt[0] ? q->backing_fmt : NULL;
                char berr[512];
                q->backing = image_open_chain(bpath, fmt, true, chain, berr, sizeof(berr));
                if (!q->backing && strstr(berr, "backing chain"))
                        FAIL("%s", berr); /* already names the image at fault */
                if (!q->backing)
                        FAIL("qcow2 %s: backing file: %s", path, berr);
        }
        if (!readonly && q->autoclear) {
                /* bitmaps and the like go stale once we write: the spec has
                 * writers that do not maintain them clear their bits first */
                uint8_t z[8] = {0};
                if (pwrite_full(fd, z, 8, 88) < 0 || fdatasync(fd) < 0)
                        FAIL("qcow2 %s: cannot clear auto-clear features", path);
                q->autoclear = 0;
        }
        /* cache=none: data clusters with O_DIRECT; clusters smaller than a
         * direct-I/O block would share blocks with metadata, so stay buffered */
        if (chain->direct && q->cs >= DIO_ALIGN) {
                q->dfd = image_reopen_direct(fd, path, readonly, err, errlen);
                if (q->dfd < 0) {
                        q->dfd = fd;
                        goto fail;
                }
                q->direct = true;
        }
        if (readonly && (q->incompat & INCOMPAT_DIRTY))
                fprintf(stderr, "qcow2 %s: image is dirty; opened read-only\n", path);
        return &q->b;
fail:
        qcow2_free(q);
        return NULL;
}

/* ---- image tools: create, resize, check ---- */

int qcow2_create(const char *path, uint64_t size, const struct image_create_opts *o, char *err,
                 size_t errlen)
{
        uint64_t cs = o->cluster_size ? o->cluster_size : 65536;
        if (cs < 512 || cs > (1u << 21) || (cs & (cs - 1))) {
                snprintf(err, errlen, "cluster size %llu is not a power of two in 512..2M",
                         (unsigned long long)cs);
                return -EINVAL;
        }
        uint32_t cbits = (uint32_t)__builtin_ctzll(cs);
        uint64_t l2_span = cs * (cs / 8);
        if (size > (uint64_t)(L1_MAX_BYTES / 8) * l2_span) {
                snprintf(err, errlen, "virtual size %llu is too large for %llu-byte clusters",
                         (unsigned long long)size, (unsigned long long)cs);
                return -EINVAL;
        }
        int version = o->qcow2_version ? o->qcow2_version : 3;
        if (version != 2 && version != 3) {
                snprintf(err, errlen, "qcow2 version must be 2 or 3");
                return -EINVAL;
        }
        uint64_t l1_size = (size + l2_span - 1) / l2_span;
        uint64_t l1_clusters = (l1_size * 8 + cs - 1) / cs;
        uint64_t rb_entries = cs * 8 / 16;
        /* room in the refcount table for the whole disk plus its metadata */
        uint64_t host_clusters = size / cs + size / cs / 8 + l1_clusters + 64;
        uint64_t rt_entries = host_clusters / rb_entries + 1;
        uint64_t rt_clusters = (rt_entries * 8 + cs - 1) / cs;
        uint64_t nrb = 1;
        while ((1 + rt_clusters + nrb + l1_clusters) > nrb * rb_entries)
                nrb++;
        uint64_t meta = 1 + rt_clusters + nrb + l1_clusters;
        uint64_t rt_off = cs, rb_off = rt_off + rt_clusters * cs;
        uint64_t l1_off = rb_off + nrb * cs;

        uint8_t *c = calloc(1, cs);
        uint8_t *t = calloc(rt_clusters, cs);
        uint8_t *r = calloc(nrb, cs);
        int rc = -ENOMEM;
        if (!c || !t || !r)
                goto out;
        put_be32(c, QCOW2_MAGIC);
        put_be32(c + 4, (uint32_t)version);
        put_be32(c + 20, cbits);
        put_be64(c + 24, size);
        put_be32(c + 36, (uint32_t)l1_size);
        put_be64(c + 40, l1_off);
        put_be64(c + 48, rt_off);
        put_be32(c + 56, (uint32_t)rt_clusters);
        uint32_t p = 72;
        if (version == 3) {
                put_be32(c + 96, 4);
                put_be32(c + 100, 112);
                p = 112;
        }
        if (o->backing) {
                size_t bl = strlen(o->backing);
                const char *bf = o->backing_format;
                size_t fl = bf ? strlen(bf) : 0;
                if (bl == 0 || bl > 1023 || fl > 16) {
                        snprintf(err, errlen, "backing file name too long");
                        rc = -EINVAL;
                        goto out;
                }
                if (fl) {
                        put_be32(c + p, EXT_BACKING_FMT);
                        put_be32(c + p + 4, (uint32_t)fl);
                        memcpy(c + p + 8, bf, fl);
                        p += 8 + (uint32_t)((fl + 7) & ~7u);
                }
                p += 8; /* end-of-extensions marker stays zero */
                if (p + bl > cs) {
                        snprintf(err, errlen, "backing file name does not fit the header");
                        rc = -EINVAL;
                        goto out;
                }
                put_be64(c + 8, p);
                put_be32(c + 16, (uint32_t)bl);
                memcpy(c + p, o->backing, bl);
        }
        for (uint64_t i = 0; i < nrb; i++)
                put_be64(t + i * 8, rb_off + i * cs);
        for (uint64_t i = 0; i < meta; i++)
                put_be16(r + i * 2, 1);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
                rc = -errno;
                snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
                goto out;
        }
        rc = pwrite_full(fd, c, cs, 0);
        if (rc == 0)
                rc = pwrite_full(fd, t, rt_clusters * cs, rt_off);
        if (rc == 0)
                rc = pwrite_full(fd, r, nrb * cs, rb_off);
        if (rc == 0 && ftruncate(fd, (off_t)(l1_off + l1_clusters * cs)) < 0)
                rc = -errno;
        if (rc == 0 && fdatasync(fd) < 0)
                rc = -errno;
        close(fd);
        if (rc < 0)
                snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
out:
        free(c);
        free(t);
        free(r);
        if (rc == -ENOMEM)
                snprintf(err, errlen, "out of memory creating %s", path);
        return rc;
}

int qcow2_resize(const char *path, uint64_t size, char *err, size_t errlen)
{
        struct blk_backend *b = blk_image_open(path, "qcow2", false, err, errlen);
        if (!b)
                return -EINVAL;
        struct qcow2 *q = to_q(b);
        int rc = 0;
        uint64_t l2_span = q->cs << q->l2_bits;
        if (size < b->size) {
                snprintf(err, errlen, "shrinking qcow2 images is not supported");
                rc = -EINVAL;
                goto out;
        }
        if (size > (uint64_t)(L1_MAX_BYTES / 8) * l2_span) {
                snprintf(err, errlen, "virtual size %llu is too large", (unsigned long long)size);
                rc = -EINVAL;
                goto out;
        }
        uint64_t need = (size + l2_span - 1) / l2_span;
        uint8_t f[12];
        if (need > q->l1_size) {
                /* a bigger L1 at the end; the header switches to it in one write */
                uint64_t ncl = (need * 8 + q->cs - 1) / q->cs;
                uint64_t noff = q->end;
                q->end += ncl * q->cs;
                for (uint64_t i = 0; rc == 0 && i < ncl; i++)
                        rc = refcount_set(q, (noff >> q->cluster_bits) + i, 1);
                uint8_t *buf = calloc(ncl, q->cs);
                if (!buf)
                        rc = -ENOMEM;
                for (uint32_t i = 0; rc == 0 && i < q->l1_size; i++)
                        put_be64(buf + (size_t)i * 8, q->l1[i]);
                if (rc == 0)
                        rc = pwrite_full(q->fd, buf, ncl * q->cs, noff);
                free(buf);
                if (rc == 0 && fdatasync(q->fd) < 0)
                        rc = -errno;
                put_be32(f, (uint32_t)need);
                put_be64(f + 4, noff);
                if (rc == 0)
                        rc = pwrite_full(q->fd, f, 12, 36);
                if (rc == 0 && fdatasync(q->fd) < 0)
                        rc = -errno;
                uint64_t ocl = ((uint64_t)q->l1_size * 8 + q->cs - 1) / q->cs;
                for (uint64_t i = 0; rc == 0 && i < ocl; i++)
                        rc = unref_cluster(q, (q->l1_off >> q->cluster_bits) + i);
                if (rc == 0) {
                        uint64_t *nl1 = realloc(q->l1, need * 8);
                        uint8_t *nd = nl1 ? calloc(need, 1) : NULL;
                        if (nl1)
                                q->l1 = nl1;
                        if (nd) {
                                memset(nl1 + q->l1_size, 0, (need - q->l1_size) * 8);
                                free(q->l1_dirty);
                                q->l1_dirty = nd;
                                q->l1_size = (uint32_t)need;
                                q->l1_off = noff;
                        }
                }
        }
        put_be64(f, size);
        if (rc == 0)
                rc = pwrite_full(q->fd, f, 8, 24);
        if (rc == 0)
                b->size = size;
        if (rc < 0)
                snprintf(err, errlen, "cannot resize %s: %s", path, strerror(-rc));
out:
        b->ops->close(b);
        return rc;
}

struct check_ctx {
        struct qcow2 *q;
        uint32_t *refs;
        uint64_t n;
        struct image_check *out;
};

static void check_ref(struct check_ctx *c, uint64_t off, const char *what)
{
        uint64_t cl = off >> c->q->cluster_bits;
        if (cl >= c->n) {
                if (!c->out->corruptions++)
                        snprintf(c->out->first_problem, sizeof(c->out->first_problem),
                                 "%s at 0x%llx is past the end of the file", what,
                                 (unsigned long long)off);
                return;
        }
        c->refs[cl]++;
}

/* Sets every refcount to the number of references found (increases first,
 * so a crash midway leaves at worst leaks), then clears the dirty bit. */
static int repair_refcounts(struct qcow2 *q, const uint32_t *refs, uint64_t n,
                            struct image_check *out)
{
        int rc = 0;
        for (int pass = 0; pass < 2 && rc == 0; pass++) {
                for (uint64_t i = 0; i < n && rc == 0; i++) {
                        uint64_t v;
                        if ((rc = refcount_get(q, i, &v)) < 0)
                                break;
                        if (pass == 0 ? v < refs[i] : v > refs[i]) {
                                rc = refcount_set(q, i, refs[i]);
                                out->repaired++;
                        }
                }
                if (rc == 0 && fdatasync(q->fd) < 0)
                        rc = -errno;
        }
        if (rc == 0 && (q->incompat & INCOMPAT_DIRTY)) {
                uint8_t f[8];
                put_be64(f, q->incompat & ~INCOMPAT_DIRTY);
                rc = pwrite_full(q->fd, f, 8, 72);
                if (rc == 0 && fdatasync(q->fd) < 0)
                        rc = -errno;
                if (rc == 0)
                        q->incompat &= ~INCOMPAT_DIRTY;
        }
        return rc;
}

int qcow2_check(const char *path, bool repair, struct image_check *out, char *err, size_t errlen)
{
        struct image_chain chain = {0};
        int fd = open(path, (repair ? O_RDWR : O_RDONLY) | O_CLOEXEC);
        if (fd < 0) {
                snprintf(err, errlen, "cannot open disk image %s: %s", path, strerror(errno));
                return -errno;
        }
        struct blk_backend *b = qcow2_open_ex(fd, path, !repair, true, &chain, err, errlen);
        if (!b)
                return -EINVAL;
        struct qcow2 *q = to_q(b);
        struct check_ctx c = {.q = q, .n = q->end >> q->cluster_bits, .out = out};
        int rc = 0;
        if (c.n > (1ULL << 28) || !(c.refs = calloc(c.n ? c.n : 1, 4))) {
                snprintf(err, errlen, "%s: image too large to check", path);
                b->ops->close(b);
                return -ENOMEM;
        }
        check_ref(&c, 0, "header");
        for (uint64_t i = 0; i < ((uint64_t)q->l1_size * 8 + q->cs - 1) / q->cs; i++)
                check_ref(&c, q->l1_off + i * q->cs, "L1 table");
        for (uint64_t i = 0; i < q->rt_clusters; i++)
                check_ref(&c, q->rt_off + i * q->cs, "refcount table");
        for (uint64_t i = 0; i < q->rt_entries; i++)
                if (q->rt[i] & OFFSET_MASK)
                        check_ref(&c, q->rt[i] & OFFSET_MASK, "refcount block");
        uint8_t *l2 = malloc(q->cs);
        for (uint32_t i = 0; l2 && i < q->l1_size; i++) {
                uint64_t l2off = q->l1[i] & OFFSET_MASK;
                if (!l2off)
                        continue;
                check_ref(&c, l2off, "L2 table");
                if (pread_full(q->fd, l2, q->cs, l2off) < 0)
                        continue;
                for (uint64_t j = 0; j < q->cs / 8; j++) {
                        uint64_t e = be64(l2 + j * 8);
                        if (e & ENTRY_COMPRESSED) {
                                uint32_t x = 62 - (q->cluster_bits - 8);
                                uint64_t host = e & ((1ULL << x) - 1);
                                uint64_t sec = ((e & ~(ENTRY_COPIED | ENTRY_COMPRESSED)) >> x) + 1;
                                uint64_t last = (host & ~511ULL) + sec * 512 - 1;
                                for (uint64_t h = host & ~(q->cs - 1); h <= last; h += q->cs)
                                        check_ref(&c, h, "compressed cluster");
                        } else if (e & OFFSET_MASK) {
                                check_ref(&c, e & OFFSET_MASK, "data cluster");
                        }
                }
        }
        free(l2);
        if (q->nb_snapshots && !out->corruptions++)
                snprintf(out->first_problem, sizeof(out->first_problem),
                         "internal snapshots are not checked");
        for (uint64_t i = 0; i < c.n && rc == 0; i++) {
                uint64_t v;
                if ((rc = refcount_get(q, i, &v)) < 0)
                        break;
                if (c.refs[i])
                        out->referenced_clusters++;
                if (v > c.refs[i]) {
                        out->leaks++;
                } else if (v < c.refs[i]) {
                        if (!out->corruptions++)
                                snprintf(out->first_problem, sizeof(out->first_problem),
                                         "cluster 0x%llx has refcount %llu but %u references",
                                         (unsigned long long)(i << q->cluster_bits),
                                         (unsigned long long)v, c.refs[i]);
                }
        }
        bool unfixable = out->corruptions > 0 && out->first_problem[0] &&
                         !strstr(out->first_problem, "has refcount");
        if (rc == 0 && repair && unfixable) {
                snprintf(err, errlen, "%s: cannot repair: %s", path, out->first_problem);
                rc = -EINVAL;
        } else if (rc == 0 && repair) {
                rc = repair_refcounts(q, c.refs, c.n, out);
                if (rc < 0)
                        snprintf(err, errlen, "%s: repair failed: %s", path, strerror(-rc));
        } else if (rc < 0) {
                snprintf(err, errlen, "%s: cannot read refcounts: %s", path, strerror(-rc));
        }
        free(c.refs);
        b->ops->close(b);
        return rc;
}

int qcow2_info(struct blk_backend *b, struct image_info *out)
{
        struct qcow2 *q = to_q(b);
        out->format = "qcow2";
        out->virtual_size = b->size;
        out->cluster_size = q->cs;
        out->version = (int)q->version;
        out->dirty = q->incompat & INCOMPAT_DIRTY;
        out->compressed_zstd = q->comp_type == 1;
        snprintf(out->backing, sizeof(out->backing), "%s", q->backing_name);
        snprintf(out->backing_format, sizeof(out->backing_format), "%s", q->backing_fmt);
        return 0;
}
