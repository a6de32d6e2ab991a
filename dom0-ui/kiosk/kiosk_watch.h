/* Sleeps for the kiosk: a thread blocks in poll() on the display socket and
 * tandemd's event socket and pushes one SDL user event when either has
 * input, so the main loop can block in SDL_WaitEvent instead of waking on
 * a timer to look. */
#ifndef TANDEM_KIOSK_WATCH_H
#define TANDEM_KIOSK_WATCH_H

#include <SDL.h>

struct kiosk_watch;

/* Starts the thread; event_type comes from SDL_RegisterEvents. */
struct kiosk_watch *kiosk_watch_start(Uint32 event_type);
/* Sets the sockets to watch (-1: none) and re-arms the watch: after it
 * pushed its event, the thread waits for this call (made once the main
 * loop has read what there was) before it polls again. */
void kiosk_watch_arm(struct kiosk_watch *w, int display_fd, int daemon_fd);
void kiosk_watch_stop(struct kiosk_watch *w);

#endif
