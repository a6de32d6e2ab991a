#include "evloop.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define EVLOOP_MAX 128

struct evloop_entry {
        int fd; /* -1 when free */
        evloop_fn fn;
        void *opaque;
        /* one-shot timers own their timerfd */
        bool is_timer;
        void (*timer_fn)(void *);
};

struct evloop {
        int epfd;
        int stopfd;
        volatile bool stop;
        pthread_mutex_t table_lock;
        struct evloop_entry e[EVLOOP_MAX];
};

struct evloop *evloop_new(void)
{
        struct evloop *l = calloc(1, sizeof(*l));
        if (!l)
                return NULL;
        l->epfd = epoll_create1(EPOLL_CLOEXEC);
        l->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        pthread_mutex_init(&l->table_lock, NULL);
        for (int i = 0; i < EVLOOP_MAX; i++)
                l->e[i].fd = -1;
        if (l->epfd < 0 || l->stopfd < 0) {
                evloop_free(l);
                return NULL;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = EVLOOP_MAX};
        epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->stopfd, &ev);
        return l;
}

void evloop_free(struct evloop *l)
{
        if (!l)
                return;
        for (int i = 0; i < EVLOOP_MAX; i++)
                if (l->e[i].fd >= 0 && l->e[i].is_timer)
                        close(l->e[i].fd);
        if (l->epfd >= 0)
                close(l->epfd);
        if (l->stopfd >= 0)
                close(l->stopfd);
        pthread_mutex_destroy(&l->table_lock);
        free(l);
}

static int slot_alloc(struct evloop *l)
{
        for (int i = 0; i < EVLOOP_MAX; i++)
                if (l->e[i].fd < 0)
                        return i;
        return -1;
}

static int slot_find(struct evloop *l, int fd)
{
        for (int i = 0; i < EVLOOP_MAX; i++)
                if (l->e[i].fd == fd)
                        return i;
        return -1;
}

int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *opaque)
{
        pthread_mutex_lock(&l->table_lock);
        int i = slot_alloc(l);
        if (i < 0) {
                pthread_mutex_unlock(&l->table_lock);
                return -ENOSPC;
        }
        struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)i};
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                int err = -errno;
                pthread_mutex_unlock(&l->table_lock);
                return err;
        }
        l->e[i] = (struct evloop_entry){.fd = fd, .fn = fn, .opaque = opaque};
        pthread_mutex_unlock(&l->table_lock);
        return 0;
}

int evloop_mod(struct evloop *l, int fd, uint32_t events)
{
        pthread_mutex_lock(&l->table_lock);
        int i = slot_find(l, fd);
        int rc = -ENOENT;
        if (i >= 0) {
                struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)i};
                rc = epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
        }
        pthread_mutex_unlock(&l->table_lock);
        return rc;
}

int evloop_del(struct evloop *l, int fd)
{
        pthread_mutex_lock(&l->table_lock);
        int i = slot_find(l, fd);
        if (i >= 0) {
                epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
                l->e[i].fd = -1;
        }
        pthread_mutex_unlock(&l->table_lock);
        return i >= 0 ? 0 : -ENOENT;
}

static void timer_fired(void *opaque, uint32_t events)
{
        (void)events;
        (void)opaque;
}

int evloop_add_timer(struct evloop *l, unsigned ms, void (*fn)(void *), void *opaque)
{
        int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (tfd < 0)
                return -errno;
        struct itimerspec its = {
            .it_value = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L}};
        if (ms == 0)
                its.it_value.tv_nsec = 1;
        timerfd_settime(tfd, 0, &its, NULL);
        int rc = evloop_add(l, tfd, EPOLLIN, timer_fired, opaque);
        if (rc < 0) {
                close(tfd);
                return rc;
        }
        pthread_mutex_lock(&l->table_lock);
        int i = slot_find(l, tfd);
        l->e[i].is_timer = true;
        l->e[i].timer_fn = fn;
        pthread_mutex_unlock(&l->table_lock);
        return tfd;
}

void evloop_cancel_timer(struct evloop *l, int id)
{
        if (evloop_del(l, id) == 0)
                close(id);
}

void evloop_run(struct evloop *l, void (*lock)(void *), void (*unlock)(void *), void *arg)
{
        struct epoll_event evs[32];
        while (!l->stop) {
                int n = epoll_wait(l->epfd, evs, 32, -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (int k = 0; k < n && !l->stop; k++) {
                        uint32_t i = evs[k].data.u32;
                        if (i >= EVLOOP_MAX)
                                continue;
                        pthread_mutex_lock(&l->table_lock);
                        struct evloop_entry e = l->e[i];
                        pthread_mutex_unlock(&l->table_lock);
                        if (e.fd < 0)
                                continue;
                        if (lock)
                                lock(arg);
                        if (e.is_timer) {
                                evloop_cancel_timer(l, e.fd);
                                e.timer_fn(e.opaque);
                        } else {
                                e.fn(e.opaque, evs[k].events);
                        }
                        if (unlock)
                                unlock(arg);
                }
        }
}

void evloop_stop(struct evloop *l)
{
        l->stop = true;
        uint64_t one = 1;
        if (write(l->stopfd, &one, sizeof(one)) < 0) {
                /* the flag alone stops the loop at its next wakeup */
        }
}
