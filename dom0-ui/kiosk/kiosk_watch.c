/* The kiosk's poll() thread (kiosk_watch.h). After it pushes its event it
 * does not poll the sockets again until the main loop re-arms it: the
 * sockets stay readable until the main loop reads them, and polling them
 * meanwhile would spin. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kiosk_watch.h"

struct kiosk_watch {
        SDL_Thread *thread;
        SDL_mutex *lock;
        int wake; /* eventfd: re-arm or stop */
        int display_fd, daemon_fd;
        bool stop;
        Uint32 event_type;
};

static void wait_wake(struct kiosk_watch *w)
{
        struct pollfd p = {.fd = w->wake, .events = POLLIN};
        while (poll(&p, 1, -1) < 0 && errno == EINTR)
                ;
        eventfd_t v;
        eventfd_read(w->wake, &v);
}

static int watch_thread(void *data)
{
        struct kiosk_watch *w = data;
        for (;;) {
                SDL_LockMutex(w->lock);
                bool stop = w->stop;
                struct pollfd p[3] = {{.fd = w->wake, .events = POLLIN},
                                      {.fd = w->display_fd, .events = POLLIN},
                                      {.fd = w->daemon_fd, .events = POLLIN}};
                SDL_UnlockMutex(w->lock);
                if (stop)
                        return 0;
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return 0;
                }
                if (p[0].revents) {
                        eventfd_t v;
                        eventfd_read(w->wake, &v);
                        continue;
                }
                SDL_Event ev = {.type = w->event_type};
                SDL_PushEvent(&ev);
                wait_wake(w);
        }
}

struct kiosk_watch *kiosk_watch_start(Uint32 event_type)
{
        struct kiosk_watch *w = calloc(1, sizeof(*w));
        if (!w)
                return NULL;
        w->display_fd = w->daemon_fd = -1;
        w->event_type = event_type;
        w->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        w->lock = SDL_CreateMutex();
        if (w->wake >= 0 && w->lock)
                w->thread = SDL_CreateThread(watch_thread, "kiosk-watch", w);
        if (!w->thread) {
                if (w->wake >= 0)
                        close(w->wake);
                if (w->lock)
                        SDL_DestroyMutex(w->lock);
                free(w);
                return NULL;
        }
        return w;
}

void kiosk_watch_arm(struct kiosk_watch *w, int display_fd, int daemon_fd)
{
        SDL_LockMutex(w->lock);
        w->display_fd = display_fd;
        w->daemon_fd = daemon_fd;
        SDL_UnlockMutex(w->lock);
        eventfd_write(w->wake, 1);
}

void kiosk_watch_stop(struct kiosk_watch *w)
{
        if (!w)
                return;
        SDL_LockMutex(w->lock);
        w->stop = true;
        SDL_UnlockMutex(w->lock);
        eventfd_write(w->wake, 1);
        SDL_WaitThread(w->thread, NULL);
        close(w->wake);
        SDL_DestroyMutex(w->lock);
        free(w);
}
