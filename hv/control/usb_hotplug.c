/* Host USB hotplug for tandemd: a NETLINK_KOBJECT_UEVENT socket on the
 * event loop. The kernel sends one message per device event:
 * "ACTION@DEVPATH\0KEY=VALUE\0..."; whole USB devices (not interfaces or
 * endpoints) have SUBSYSTEM=usb and DEVTYPE=usb_device, and the last part
 * of DEVPATH is the sysfs name ("1-2.3") that a host:BUS-PORT spec uses.
 * libusb is not needed for this, and no thread either. */
#include "daemon.h"
#include "usb_policy.h"

#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define UEVENT_MAX 8192

static struct watch uevents = {.fd = -1};
static usb_hotplug_fn on_hotplug;

static bool valid_name(const char *n)
{
        /* BUS-PORT[.PORT]...: digits, '-' and '.', as sysfs names them. */
        if (!*n || strlen(n) >= 32 || !strchr(n, '-'))
                return false;
        for (; *n; n++)
                if (!((*n >= '0' && *n <= '9') || *n == '-' || *n == '.'))
                        return false;
        return true;
}

static void handle(char *msg, size_t len)
{
        const char *action = NULL, *devpath = NULL, *subsystem = NULL, *devtype = NULL;
        msg[len - 1] = 0;
        for (size_t off = 0; off < len;) {
                const char *kv = msg + off;
                if (!strncmp(kv, "ACTION=", 7))
                        action = kv + 7;
                else if (!strncmp(kv, "DEVPATH=", 8))
                        devpath = kv + 8;
                else if (!strncmp(kv, "SUBSYSTEM=", 10))
                        subsystem = kv + 10;
                else if (!strncmp(kv, "DEVTYPE=", 8))
                        devtype = kv + 8;
                off += strlen(kv) + 1;
        }
        if (!action || !devpath || !subsystem || !devtype || strcmp(subsystem, "usb") ||
            strcmp(devtype, "usb_device"))
                return;
        bool added = !strcmp(action, "add");
        if (!added && strcmp(action, "remove"))
                return;
        const char *name = strrchr(devpath, '/');
        name = name ? name + 1 : devpath;
        if (!valid_name(name))
                return;
        if (added) {
                /* Only a device that is there (an old or foreign event for a
                 * device this sysfs lacks is not acted on). */
                char path[512];
                struct stat st;
                snprintf(path, sizeof(path), "%s/%s/idVendor", usb_sysfs_root(), name);
                if (stat(path, &st) < 0)
                        return;
        }
        on_hotplug(name, added);
}

static void uevent_ready(struct watch *w, uint32_t events)
{
        (void)events;
        static char buf[UEVENT_MAX];
        for (;;) {
                ssize_t n = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (n <= 0)
                        return; /* EAGAIN, or ENOBUFS after an overrun: go on */
                /* udev's own messages start with "libudev"; the kernel's with
                 * "ACTION@DEVPATH". Only the kernel format is read. */
                if (!memchr(buf, '@', (size_t)n < 64 ? (size_t)n : 64) ||
                    !memcmp(buf, "libudev", 7))
                        continue;
                handle(buf, (size_t)n);
        }
}

int usb_hotplug_start(usb_hotplug_fn fn, char *err, size_t errlen)
{
        if (uevents.fd >= 0)
                return 0;
        int fd =
            socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
        if (fd < 0) {
                snprintf(err, errlen, "uevent socket: %m");
                return -1;
        }
        struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                snprintf(err, errlen, "uevent socket bind: %m");
                close(fd);
                return -1;
        }
        on_hotplug = fn;
        uevents.fd = fd;
        uevents.ready = uevent_ready;
        if (loop_add(&uevents, EPOLLIN) < 0) {
                snprintf(err, errlen, "uevent socket: cannot watch it");
                close(fd);
                uevents.fd = -1;
                return -1;
        }
        return 0;
}
