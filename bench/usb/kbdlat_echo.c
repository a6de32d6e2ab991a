/* Runs in the L2 guest (static, no libc there) for bench/usb/kbd-latency.sh:
 * answers on the serial console the moment an input event arrives, so that
 * the L1 side can time inject -> guest userspace on one clock.
 *   "@READY"  the USB keyboard's event device is open (vendor 0x1209)
 *   "@K"      a key press arrived from /dev/input/eventN (not in quiet mode)
 *   "@S"      answer to 'p' read from the console (the serial baseline)
 *   "@Q"      answer to 'q': quiet mode, key presses are only counted
 *   'x'       prints "@DONE <presses>" and exits */
#include <dirent.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static int open_usb_keyboard(void)
{
        for (int tries = 0; tries < 600; tries++) {
                DIR *d = opendir("/dev/input");
                struct dirent *e;
                while (d && (e = readdir(d))) {
                        if (strncmp(e->d_name, "event", 5))
                                continue;
                        char path[300];
                        snprintf(path, sizeof(path), "/dev/input/%s", e->d_name);
                        int fd = open(path, O_RDONLY);
                        struct input_id id;
                        if (fd >= 0 && ioctl(fd, EVIOCGID, &id) == 0 && id.vendor == 0x1209) {
                                closedir(d);
                                return fd;
                        }
                        if (fd >= 0)
                                close(fd);
                }
                if (d)
                        closedir(d);
                usleep(100000);
        }
        return -1;
}

static void say(int tty, const char *s)
{
        if (write(tty, s, strlen(s)) < 0)
                _exit(3);
}

int main(void)
{
        int tty = open("/dev/ttyS0", O_RDWR | O_NOCTTY);
        if (tty < 0) {
                perror("kbdlat-echo: /dev/ttyS0");
                return 1;
        }
        struct termios t;
        if (tcgetattr(tty, &t) == 0) {
                t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ECHONL | ISIG | IEXTEN);
                t.c_iflag &= ~(tcflag_t)(ICRNL | IXON);
                t.c_cc[VMIN] = 1;
                t.c_cc[VTIME] = 0;
                tcsetattr(tty, TCSANOW, &t);
        }
        int kbd = open_usb_keyboard();
        if (kbd < 0) {
                say(tty, "\nkbdlat-echo: no USB keyboard (vendor 1209) in /dev/input\n");
                return 2;
        }
        say(tty, "\n@READY\n");
        int quiet = 0;
        unsigned long presses = 0;
        for (;;) {
                struct pollfd p[2] = {{.fd = kbd, .events = POLLIN}, {.fd = tty, .events = POLLIN}};
                if (poll(p, 2, -1) < 0)
                        continue;
                if (p[0].revents & POLLIN) {
                        struct input_event ev[16];
                        ssize_t n = read(kbd, ev, sizeof(ev));
                        for (ssize_t i = 0; i < n / (ssize_t)sizeof(ev[0]); i++)
                                if (ev[i].type == EV_KEY && ev[i].value == 1) {
                                        presses++;
                                        if (!quiet)
                                                say(tty, "@K\n");
                                }
                }
                if (p[1].revents & POLLIN) {
                        char c;
                        if (read(tty, &c, 1) != 1)
                                continue;
                        if (c == 'p')
                                say(tty, "@S\n");
                        else if (c == 'q') {
                                quiet = 1;
                                say(tty, "@Q\n");
                        } else if (c == 'x') {
                                char line[64];
                                snprintf(line, sizeof(line), "@DONE %lu\n", presses);
                                say(tty, line);
                                return 0;
                        }
                }
        }
}
