/* A stand-in guest for UI tests until the legacy guest runs under tandemd:
 * the real VMM display (hv/display) and control socket (hv/vmm/control.c)
 * serve a text screen that this program writes like the legacy terminal's
 * login form; typed keys are echoed on the "Operator:" line.
 *   display_host SOCKET [TITLE]      SIGUSR1: crash the display   SIGTERM: exit */
#include <linux/input-event-codes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "display.h"
#include "vm.h"

static struct display *disp;
static struct vm vm;
static uint32_t cur_x = 10, cur_y = 5;
static bool shift;
static volatile sig_atomic_t crash_requested;

static void put(uint32_t x, uint32_t y, const char *s, uint8_t attr)
{
        uint16_t *cells = display_data(disp);
        uint32_t w = display_header(disp)->width;
        for (uint32_t i = 0; s[i] && x + i < w; i++)
                cells[y * w + x + i] = (uint16_t)((uint8_t)s[i] | attr << 8);
        display_damage(disp, x, y, (uint32_t)strlen(s), 1);
}

static const char keychars[] = "\0\0"
                               "1234567890-=\0\0qwertyuiop[]\0\0asdfghjkl;'`\0\\zxcvbnm,./";

static void on_key(void *opaque, uint32_t code, bool down)
{
        (void)opaque;
        if (code == KEY_LEFTSHIFT || code == KEY_RIGHTSHIFT) {
                shift = down;
                return;
        }
        if (!down)
                return;
        char c = 0;
        if (code == KEY_SPACE)
                c = ' ';
        else if (code < sizeof(keychars))
                c = keychars[code];
        if (!c)
                return;
        if (shift && c >= 'a' && c <= 'z')
                c = (char)(c - 32);
        char s[2] = {c, 0};
        put(cur_x, cur_y, s, 0x1F);
        if (cur_x < 79)
                cur_x++;
        display_set_cursor(disp, cur_x, cur_y, true);
}

static void on_signal(int sig)
{
        if (sig == SIGUSR1)
                crash_requested = 1;
        else
                evloop_stop(vm.loop);
}

static void check_crash(void *opaque)
{
        (void)opaque;
        if (crash_requested) {
                display_set_state(disp, TANDEM_DISPLAY_CRASHED);
                crash_requested = 0;
        }
        evloop_add_timer(vm.loop, 50, check_crash, NULL);
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: display_host SOCKET [TITLE]\n");
                return 2;
        }
        char err[256];
        vm.loop = evloop_new();
        pthread_mutex_init(&vm.lock, NULL);
        struct control *ctl = control_open(&vm, argv[1], err, sizeof(err));
        if (!ctl) {
                fprintf(stderr, "display_host: %s\n", err);
                return 1;
        }
        disp = display_create(&vm, ctl, TANDEM_DISPLAY_TEXT, 80, 25, 132, 60, 0, err, sizeof(err));
        if (!disp) {
                fprintf(stderr, "display_host: %s\n", err);
                return 1;
        }
        display_set_input(disp, on_key, NULL, NULL);
        uint16_t *cells = display_data(disp);
        for (int i = 0; i < 80 * 25; i++)
                cells[i] = 0x1F20;
        put(0, 0,
            "                            TANDEM BRANCH TERMINAL                              ",
            0x70);
        put(2, 2, argc > 2 ? argv[2] : "Legacy betting terminal", 0x1E);
        put(0, 5, "Operator:", 0x1F);
        put(0, 7, "Password:", 0x1F);
        put(2, 22,
            "\xC9\xCD\xCD\xBB Ca\x87"
            "a \x82t\x82 \x9C 12.50",
            0x1A);
        display_set_cursor(disp, cur_x, cur_y, true);
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        signal(SIGUSR1, on_signal);
        evloop_add_timer(vm.loop, 50, check_crash, NULL);
        printf("ready\n");
        fflush(stdout);
        evloop_run(vm.loop, NULL, NULL, NULL);
        control_close(ctl);
        display_destroy(disp);
        return 0;
}
