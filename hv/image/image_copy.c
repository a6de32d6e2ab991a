/* The copy loop of `tandem-image convert`. Reader threads, each with its own
 * open of the source, take the next chunk of the source's block status in
 * turn under a lock (holes and zero clusters skipped unread) and read it into
 * a bounded ring of buffers outside it, so several reads are in flight at
 * once (one reader with prefetch hints left the disk idle between requests); the calling thread
 * writes the chunks strictly in order (destination allocation stays sequential), merging adjacent
 * data into one write of up to 4 MiB and leaving zero granules unwritten. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "image.h"
#include "image_cmds.h"

#define CHUNK     (1u << 20)
#define GRANULE   (64u << 10) /* zero detection: CHUNK / GRANULE bits fit a mask */
#define SLOTS     32          /* 4 per reader: a reader never waits for the writer for long */
#define MAX_MERGE (4u << 20)
#define MAX_IOV   (MAX_MERGE / GRANULE)
#define WRITEBACK (16u << 20) /* destination bytes between writeback kicks */

enum slot_state { SLOT_FREE, SLOT_READING, SLOT_READY };

struct slot {
        uint8_t *buf;
        uint64_t off, n;
        uint64_t data; /* bit i: granule i holds non-zero bytes (0: a hole) */
        int err;
        enum slot_state state;
};

struct copy {
        struct blk_backend *status_src; /* block status only, under m */
        pthread_mutex_t m;
        pthread_cond_t cv;
        struct slot s[SLOTS];
        uint64_t pos, extent; /* walk position; bytes left in the current extent */
        int status;
        unsigned handed, used; /* chunks handed to readers, chunks written */
        bool eof, stop;
};

struct reader {
        struct copy *c;
        struct blk_backend *src;
        pthread_t t;
};

/* Under m: the next chunk, or NULL when the walk is over or stopped. */
static struct slot *next_chunk(struct copy *c)
{
        while (!c->stop && !c->eof && c->handed - c->used == SLOTS)
                pthread_cond_wait(&c->cv, &c->m);
        if (c->stop || c->eof)
                return NULL;
        struct slot *s = &c->s[c->handed++ % SLOTS];
        struct blk_backend *src = c->status_src;
        s->state = SLOT_READING;
        s->off = c->pos;
        s->err = 0;
        if (!c->extent) {
                c->status = blk_image_block_status(src, c->pos, src->size - c->pos, &c->extent);
                if (c->status < 0) {
                        s->err = c->status;
                        s->n = 0;
                        c->eof = true;
                        return s;
                }
        }
        s->n = !c->status || c->extent < CHUNK ? c->extent : CHUNK; /* a hole in one step */
        s->data = c->status ? 1 : 0;                                /* to be read */
        c->extent -= s->n;
        c->pos += s->n;
        if (c->pos >= src->size)
                c->eof = true;
        return s;
}

static uint64_t data_granules(const uint8_t *p, uint64_t n)
{
        uint64_t mask = 0;
        for (uint64_t g = 0, i = 0; g < n; g += GRANULE, i++) {
                uint64_t len = n - g < GRANULE ? n - g : GRANULE;
                if (!all_zero(p + g, (size_t)len))
                        mask |= 1ull << i;
        }
        return mask;
}

static void *reader(void *arg)
{
        struct reader *r = arg;
        struct copy *c = r->c;
        pthread_mutex_lock(&c->m);
        struct slot *s;
        while ((s = next_chunk(c))) {
                pthread_mutex_unlock(&c->m);
                if (s->data && !s->err) {
                        struct iovec iov = {.iov_base = s->buf, .iov_len = (size_t)s->n};
                        int e = r->src->ops->read(r->src, &iov, 1, s->off);
                        if (e < 0)
                                s->err = e;
                        else
                                s->data = data_granules(s->buf, s->n);
                }
                pthread_mutex_lock(&c->m);
                s->state = SLOT_READY;
                if (s->err)
                        c->eof = true; /* nothing past a failed chunk */
                pthread_cond_broadcast(&c->cv);
        }
        pthread_mutex_unlock(&c->m);
        return NULL;
}

struct merge {
        struct blk_backend *dst;
        int writeback_fd;
        struct iovec iov[MAX_IOV];
        int cnt;
        uint64_t off, len, since_kick;
        unsigned seq0; /* the chunk holding the run's first bytes */
};

static int merge_flush(struct merge *w)
{
        if (!w->len)
                return 0;
        int rc = w->dst->ops->write(w->dst, w->iov, w->cnt, w->off);
        w->since_kick += w->len;
        w->cnt = 0;
        w->len = 0;
        if (rc == 0 && w->since_kick >= WRITEBACK && w->writeback_fd >= 0) {
                /* starts writing what is dirty without waiting: the copy
                 * overlaps its writeback with its reads instead of paying for
                 * it all in the final flush. Orders and acknowledges nothing. */
                (void)sync_file_range(w->writeback_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
                w->since_kick = 0;
        }
        return rc;
}

static int merge_add(struct merge *w, unsigned seq, uint8_t *p, uint64_t off, uint64_t n)
{
        int rc = 0;
        if (w->len && (off != w->off + w->len || w->cnt == MAX_IOV || w->len + n > MAX_MERGE))
                rc = merge_flush(w);
        if (rc < 0)
                return rc;
        if (!w->len) {
                w->off = off;
                w->seq0 = seq;
        }
        if (w->cnt && (uint8_t *)w->iov[w->cnt - 1].iov_base + w->iov[w->cnt - 1].iov_len == p)
                w->iov[w->cnt - 1].iov_len += (size_t)n;
        else
                w->iov[w->cnt++] = (struct iovec){.iov_base = p, .iov_len = (size_t)n};
        w->len += n;
        return 0;
}

/* The data granules of one chunk, as runs, into the merge. */
static int write_slot(struct merge *w, unsigned seq, struct slot *s)
{
        if (!s->data)
                return 0; /* a hole (of any length) or zeros */
        for (uint64_t g = 0, i = 0; g < s->n; g += GRANULE, i++) {
                if (!(s->data & (1ull << i)))
                        continue;
                uint64_t len = s->n - g < GRANULE ? s->n - g : GRANULE;
                int rc = merge_add(w, seq, s->buf + g, s->off + g, len);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

static int write_in_order(struct copy *c, struct merge *w, bool show, uint64_t size,
                          uint64_t *fail_off)
{
        unsigned next = 0; /* chunks before it are in the merge or written */
        for (;;) {
                pthread_mutex_lock(&c->m);
                while ((next == c->handed && !c->eof) ||
                       (next != c->handed && c->s[next % SLOTS].state != SLOT_READY))
                        pthread_cond_wait(&c->cv, &c->m);
                unsigned end = next;
                while (end != c->handed && c->s[end % SLOTS].state == SLOT_READY)
                        end++;
                pthread_mutex_unlock(&c->m);
                int rc = 0;
                if (end == next) { /* walk over */
                        if ((rc = merge_flush(w)) < 0)
                                *fail_off = w->off;
                        return rc;
                }
                for (; next != end; next++) {
                        struct slot *s = &c->s[next % SLOTS];
                        if (s->err) {
                                rc = merge_flush(w);
                                *fail_off = rc < 0 ? w->off : s->off;
                                return rc < 0 ? rc : s->err;
                        }
                        if ((rc = write_slot(w, next, s)) < 0) {
                                *fail_off = s->off;
                                return rc;
                        }
                }
                if (show) {
                        struct slot *last = &c->s[(end - 1) % SLOTS];
                        progress(last->off + last->n, size);
                }
                /* a run still open may grow with the next chunk: its buffers
                 * stay held until it is written */
                unsigned release = w->len ? w->seq0 : end;
                pthread_mutex_lock(&c->m);
                for (unsigned k = c->used; k != release; k++)
                        c->s[k % SLOTS].state = SLOT_FREE;
                c->used = release;
                pthread_cond_broadcast(&c->cv);
                pthread_mutex_unlock(&c->m);
        }
}

int image_copy(struct blk_backend *const *srcs, int nsrc, struct blk_backend *dst, int writeback_fd,
               bool show, uint64_t *fail_off)
{
        struct copy c = {.status_src = srcs[0], .status = 1};
        pthread_mutex_init(&c.m, NULL);
        pthread_cond_init(&c.cv, NULL);
        int rc = 0;
        for (int i = 0; i < SLOTS; i++)
                if (!(c.s[i].buf = malloc(CHUNK)))
                        rc = -ENOMEM;
        if (srcs[0]->size == 0)
                c.eof = true;
        /* srcs[0] answers block status; the others read, one thread each */
        struct reader r[IMAGE_COPY_READERS];
        int started = 0;
        for (int i = 1; rc == 0 && i < nsrc && started < IMAGE_COPY_READERS; i++) {
                r[started] = (struct reader){.c = &c, .src = srcs[i]};
                if ((rc = -pthread_create(&r[started].t, NULL, reader, &r[started])) == 0)
                        started++;
        }
        if (rc == 0 && !started)
                rc = -EINVAL;
        struct merge *w = calloc(1, sizeof(*w));
        if (rc == 0 && !w)
                rc = -ENOMEM;
        if (rc == 0) {
                w->dst = dst;
                w->writeback_fd = writeback_fd;
                rc = write_in_order(&c, w, show, srcs[0]->size, fail_off);
        }
        pthread_mutex_lock(&c.m);
        c.stop = true;
        pthread_cond_broadcast(&c.cv);
        pthread_mutex_unlock(&c.m);
        for (int i = 0; i < started; i++)
                pthread_join(r[i].t, NULL);
        free(w);
        for (int i = 0; i < SLOTS; i++)
                free(c.s[i].buf);
        pthread_mutex_destroy(&c.m);
        pthread_cond_destroy(&c.cv);
        return rc;
}
