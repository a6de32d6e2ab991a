/* The VMM's device event loop: one epoll thread that runs device work
 * (ioeventfd kicks, backend fds, the control socket). Callbacks run with the
 * VMM device lock held, so they never race vCPU-side register accesses. */
#ifndef TANDEM_EVLOOP_H
#define TANDEM_EVLOOP_H

#include <stdint.h>

typedef void (*evloop_fn)(void *opaque, uint32_t epoll_events);

struct evloop;

struct evloop *evloop_new(void);
void evloop_free(struct evloop *loop);
/* events are EPOLLIN/EPOLLOUT/...; returns 0 or -errno. */
int evloop_add(struct evloop *loop, int fd, uint32_t events, evloop_fn fn, void *opaque);
int evloop_mod(struct evloop *loop, int fd, uint32_t events);
int evloop_del(struct evloop *loop, int fd);
/* Calls fn(opaque) after ms milliseconds on the loop thread, once. Returns an
 * id for evloop_cancel_timer, or -errno. */
int evloop_add_timer(struct evloop *loop, unsigned ms, void (*fn)(void *), void *opaque);
void evloop_cancel_timer(struct evloop *loop, int id);
/* Runs until evloop_stop(); lock/unlock wrap every callback (may be NULL). */
void evloop_run(struct evloop *loop, void (*lock)(void *), void (*unlock)(void *), void *arg);
void evloop_stop(struct evloop *loop);

#endif
