/* The copy loop of `tandem-image convert`: a reader thread walks the source
 * (holes and zero clusters skipped unread by block status, the disk kept busy
 * by prefetch hints, chunks of zeros dropped) while the calling thread writes,
 * so reading and writing overlap. Each backend is used by one thread only. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "image.h"
#include "image_cmds.h"

#define CHUNK    (1u << 20)
#define PREFETCH (8u << 20)
#define SLOTS    8

struct slot {
        uint8_t *buf;
        uint64_t off, n;
        bool write; /* false: nothing to write (a hole or zeros) */
};

struct copy {
        struct blk_backend *src;
        pthread_mutex_t m;
        pthread_cond_t cv;
        struct slot s[SLOTS];
        unsigned filled, used; /* slots produced and consumed so far */
        bool done, stop;
        int err;
        uint64_t err_off;
};

static struct slot *next_free(struct copy *c)
{
        pthread_mutex_lock(&c->m);
        while (c->filled - c->used == SLOTS && !c->stop)
                pthread_cond_wait(&c->cv, &c->m);
        struct slot *s = c->stop ? NULL : &c->s[c->filled % SLOTS];
        pthread_mutex_unlock(&c->m);
        return s;
}

static void publish(struct copy *c, int err, uint64_t off)
{
        pthread_mutex_lock(&c->m);
        if (err) {
                c->err = err;
                c->err_off = off;
                c->done = true;
        } else {
                c->filled++;
        }
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->m);
}

static void *reader(void *arg)
{
        struct copy *c = arg;
        struct blk_backend *src = c->src;
        uint64_t extent = 0, ahead = 0;
        int status = 1;
        for (uint64_t off = 0, n; off < src->size; off += n) {
                if (!extent) {
                        status = blk_image_block_status(src, off, src->size - off, &extent);
                        if (status < 0) {
                                publish(c, status, off);
                                return NULL;
                        }
                }
                n = !status || extent < CHUNK ? extent : CHUNK; /* a hole in one step */
                extent -= n;
                if (status && ahead < off + PREFETCH) {
                        uint64_t from = ahead > off ? ahead : off;
                        blk_image_prefetch(src, from, off + 2 * PREFETCH - from);
                        ahead = off + 2 * PREFETCH;
                }
                struct slot *s = next_free(c);
                if (!s)
                        return NULL;
                s->off = off;
                s->n = n;
                s->write = false;
                if (status) {
                        struct iovec iov = {.iov_base = s->buf, .iov_len = (size_t)n};
                        int e = src->ops->read(src, &iov, 1, off);
                        if (e < 0) {
                                publish(c, e, off);
                                return NULL;
                        }
                        s->write = !all_zero(s->buf, (size_t)n);
                }
                publish(c, 0, 0);
        }
        pthread_mutex_lock(&c->m);
        c->done = true;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->m);
        return NULL;
}

int image_copy(struct blk_backend *src, struct blk_backend *dst, bool show, uint64_t *fail_off)
{
        struct copy c = {.src = src};
        pthread_mutex_init(&c.m, NULL);
        pthread_cond_init(&c.cv, NULL);
        int rc = 0;
        for (int i = 0; i < SLOTS; i++)
                if (!(c.s[i].buf = malloc(CHUNK)))
                        rc = -ENOMEM;
        pthread_t t;
        if (rc == 0 && (rc = -pthread_create(&t, NULL, reader, &c)) == 0) {
                for (;;) {
                        pthread_mutex_lock(&c.m);
                        while (c.used == c.filled && !c.done)
                                pthread_cond_wait(&c.cv, &c.m);
                        bool have = c.used != c.filled;
                        if (!have && c.err) {
                                rc = c.err;
                                *fail_off = c.err_off;
                        }
                        pthread_mutex_unlock(&c.m);
                        if (!have)
                                break;
                        struct slot *s = &c.s[c.used % SLOTS];
                        if (s->write) {
                                struct iovec iov = {.iov_base = s->buf, .iov_len = (size_t)s->n};
                                rc = dst->ops->write(dst, &iov, 1, s->off);
                        }
                        if (rc < 0) {
                                *fail_off = s->off;
                                break;
                        }
                        if (show)
                                progress(s->off + s->n, src->size);
                        pthread_mutex_lock(&c.m);
                        c.used++;
                        pthread_cond_broadcast(&c.cv);
                        pthread_mutex_unlock(&c.m);
                }
                pthread_mutex_lock(&c.m);
                c.stop = true;
                pthread_cond_broadcast(&c.cv);
                pthread_mutex_unlock(&c.m);
                pthread_join(t, NULL);
        }
        for (int i = 0; i < SLOTS; i++)
                free(c.s[i].buf);
        pthread_mutex_destroy(&c.m);
        pthread_cond_destroy(&c.cv);
        return rc;
}
