/* A host USB device passed through with libusb. The controller's calls are
 * synchronous, libusb's transfers are not: each endpoint (and the control
 * pipe) holds at most one transfer in flight. The first call submits it and
 * answers NAK; the completion, on libusb's event thread, stores the result
 * and wakes the endpoint; the controller's next call takes the result.
 *
 * Threads: controller calls run under vm_lock. The event thread runs
 * libusb's callbacks, which take vm_lock themselves. libusb_close waits for
 * the event thread, so it never runs under vm_lock: a destroyed device is
 * queued and closed by the event thread once its transfers are done. */
#include <errno.h>
#include <fcntl.h>
#include <libusb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../vmm/vm.h"
#include "usb_device.h"

#define HOST_MAX_IFACES 32
#define CTRL_TIMEOUT_MS 5000

enum xfer_state { XFER_IDLE, XFER_BUSY, XFER_DONE };

/* One pipe: endpoint 0 (control) or a bulk/interrupt endpoint. */
struct pipe {
        struct usb_host *host;
        uint8_t ep;
        enum xfer_state state;
        struct libusb_transfer *xfer;
        struct usb_setup setup; /* control: which request the result answers */
        size_t len;             /* bulk/interrupt: the length asked for */
        int result;             /* bytes or enum usb_status, once DONE */
};

struct usb_host {
        struct usb_device dev;
        struct vm *vm;
        libusb_device_handle *handle;
        int wrapped_fd; /* usbfs fd behind a wrapped handle (see open_unlisted), or -1 */
        libusb_hotplug_callback_handle hotplug;
        bool has_hotplug;
        char spec[64];
        uint8_t desc[18];
        uint8_t *conf;
        size_t conf_len;
        uint8_t ep_type[2][USB_MAX_ENDPOINTS]; /* LIBUSB_TRANSFER_TYPE_*, 0: none */
        unsigned nifaces;
        bool claimed[HOST_MAX_IFACES];
        struct pipe ctrl;
        struct pipe pipes[2][USB_MAX_ENDPOINTS];
        bool downgraded; /* SuperSpeed device shown as high speed */
        unsigned busy;   /* transfers libusb still owns */
        bool destroyed;  /* the controller let go; close when busy == 0 */
        bool gone;       /* the host device disappeared */
        struct usb_host *next_close;
};

/* One libusb context and event thread for the process. */
static struct {
        pthread_once_t once;
        libusb_context *ctx;
        int init_rc;
        pthread_t thread;
        pthread_mutex_t lock; /* the close queue */
        struct usb_host *close_queue;
} g = {.once = PTHREAD_ONCE_INIT, .lock = PTHREAD_MUTEX_INITIALIZER};

static void free_pipe(struct pipe *p)
{
        if (p->xfer) {
                free(p->xfer->buffer);
                libusb_free_transfer(p->xfer);
        }
}

/* The previous transfer's buffer goes when the pipe gets a new one. */
static void set_buffer(struct pipe *p, uint8_t *buf)
{
        free(p->xfer->buffer);
        p->xfer->buffer = buf;
}

static void close_host(struct usb_host *h)
{
        if (h->has_hotplug)
                libusb_hotplug_deregister_callback(g.ctx, h->hotplug);
        for (unsigned i = 0; i < h->nifaces; i++)
                if (h->claimed[i])
                        libusb_release_interface(h->handle, (int)i); /* re-attaches the driver */
        libusb_close(h->handle);
        if (h->wrapped_fd >= 0)
                close(h->wrapped_fd);
        free_pipe(&h->ctrl);
        for (unsigned d = 0; d < 2; d++)
                for (unsigned n = 0; n < USB_MAX_ENDPOINTS; n++)
                        free_pipe(&h->pipes[d][n]);
        free(h->conf);
        free(h);
}

static void *event_thread(void *arg)
{
        (void)arg;
        for (;;) {
                struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
                libusb_handle_events_timeout_completed(g.ctx, &tv, NULL);
                pthread_mutex_lock(&g.lock);
                struct usb_host *q = g.close_queue;
                g.close_queue = NULL;
                pthread_mutex_unlock(&g.lock);
                while (q) {
                        struct usb_host *next = q->next_close;
                        close_host(q);
                        q = next;
                }
        }
        return NULL;
}

static void global_init(void)
{
        g.init_rc = libusb_init(&g.ctx);
        if (g.init_rc == 0 && pthread_create(&g.thread, NULL, event_thread, NULL) != 0)
                g.init_rc = LIBUSB_ERROR_NO_MEM;
        if (g.init_rc == 0)
                pthread_detach(g.thread);
}

static void queue_close(struct usb_host *h)
{
        pthread_mutex_lock(&g.lock);
        h->next_close = g.close_queue;
        g.close_queue = h;
        pthread_mutex_unlock(&g.lock);
        libusb_interrupt_event_handler(g.ctx);
}

static int status_of(const struct libusb_transfer *t)
{
        switch (t->status) {
        case LIBUSB_TRANSFER_COMPLETED:
                return t->actual_length;
        case LIBUSB_TRANSFER_STALL:
                return USB_STALL;
        case LIBUSB_TRANSFER_OVERFLOW:
                return USB_BABBLE;
        default:
                return USB_IOERR;
        }
}

/* libusb event thread. */
static void transfer_done(struct libusb_transfer *t)
{
        struct pipe *p = t->user_data;
        struct usb_host *h = p->host;
        vm_lock(h->vm);
        h->busy--;
        if (h->destroyed) {
                bool last = h->busy == 0;
                vm_unlock(h->vm);
                if (last)
                        queue_close(h);
                return;
        }
        if (t->status == LIBUSB_TRANSFER_CANCELLED) {
                p->state = XFER_IDLE; /* the controller stopped or reset it */
        } else {
                p->state = XFER_DONE;
                p->result = status_of(t);
                if (t->status == LIBUSB_TRANSFER_NO_DEVICE)
                        h->gone = true;
                usb_device_wakeup(&h->dev, p->ep);
        }
        if (h->gone && !h->destroyed)
                usb_device_unplugged(&h->dev); /* destroys h: queued for closing */
        vm_unlock(h->vm);
}

static int submit(struct usb_host *h, struct pipe *p)
{
        int rc = libusb_submit_transfer(p->xfer);
        if (rc == LIBUSB_ERROR_NO_DEVICE)
                h->gone = true;
        if (rc < 0)
                return USB_IOERR;
        p->state = XFER_BUSY;
        h->busy++;
        return USB_NAK;
}

static bool same_setup(const struct usb_setup *a, const struct usb_setup *b)
{
        return a->request_type == b->request_type && a->request == b->request &&
               a->value == b->value && a->index == b->index && a->length == b->length;
}

/* SET_CONFIGURATION changes which interfaces exist: release, switch, claim. */
static void claim_all(struct usb_host *h);
static void downgrade(struct usb_host *h);

static int set_configuration(struct usb_host *h, uint8_t value)
{
        int cur = -1;
        if (libusb_get_configuration(h->handle, &cur) == 0 && cur == value) {
                h->dev.configuration = value;
                return 0;
        }
        for (unsigned i = 0; i < h->nifaces; i++)
                if (h->claimed[i]) {
                        libusb_release_interface(h->handle, (int)i);
                        h->claimed[i] = false;
                }
        int rc = libusb_set_configuration(h->handle, value);
        claim_all(h);
        if (h->downgraded)
                downgrade(h);
        if (rc < 0)
                return rc == LIBUSB_ERROR_NO_DEVICE ? USB_IOERR : USB_STALL;
        h->dev.configuration = value;
        return 0;
}

/* Standard requests that change host-side state go through libusb's
 * synchronous calls (the kernel must know); the rest are plain transfers. */
static int local_request(struct usb_host *h, const struct usb_setup *s)
{
        uint8_t recip = s->request_type & USB_RECIP_MASK;
        if ((s->request_type & USB_TYPE_MASK) != USB_TYPE_STD || (s->request_type & USB_DIR_IN))
                return 1;
        if (recip == USB_RECIP_DEV && s->request == USB_REQ_SET_CONFIGURATION)
                return set_configuration(h, (uint8_t)s->value);
        if (recip == USB_RECIP_IFACE && s->request == USB_REQ_SET_INTERFACE) {
                int rc = libusb_set_interface_alt_setting(h->handle, s->index, s->value);
                return rc == 0 ? 0 : rc == LIBUSB_ERROR_NO_DEVICE ? USB_IOERR : USB_STALL;
        }
        if (recip == USB_RECIP_EP && s->request == USB_REQ_CLEAR_FEATURE && s->value == 0) {
                int rc = libusb_clear_halt(h->handle, (unsigned char)s->index);
                return rc == 0 ? 0 : rc == LIBUSB_ERROR_NO_DEVICE ? USB_IOERR : USB_STALL;
        }
        return 1;
}

/* A downgraded device's device and configuration descriptors come from the
 * high-speed copies made at open. */
static int local_descriptor(struct usb_host *h, const struct usb_setup *s, uint8_t *data)
{
        if (!h->downgraded || s->request_type != (USB_DIR_IN | USB_TYPE_STD | USB_RECIP_DEV) ||
            s->request != USB_REQ_GET_DESCRIPTOR)
                return 1;
        uint8_t type = (uint8_t)(s->value >> 8), index = (uint8_t)s->value;
        const uint8_t *src = NULL;
        size_t len = 0;
        if (type == USB_DT_DEVICE) {
                src = h->desc;
                len = sizeof(h->desc);
        } else if (type == USB_DT_CONFIG && index == 0) {
                src = h->conf;
                len = h->conf_len;
        } else if (type == 15 /* BOS */ || type == 6 /* device qualifier */) {
                return USB_STALL;
        } else {
                return 1;
        }
        if (len > s->length)
                len = s->length;
        memcpy(data, src, len);
        return (int)len;
}

static int host_control(struct usb_device *dev, const struct usb_setup *s, uint8_t *data)
{
        struct usb_host *h = (struct usb_host *)dev;
        struct pipe *p = &h->ctrl;
        if (h->gone)
                return USB_IOERR;
        int local = local_descriptor(h, s, data);
        if (local != 1)
                return local;
        if (p->state == XFER_BUSY)
                return USB_NAK;
        if (p->state == XFER_DONE && same_setup(&p->setup, s)) {
                p->state = XFER_IDLE;
                if (p->result > 0 && (s->request_type & USB_DIR_IN))
                        memcpy(data, libusb_control_transfer_get_data(p->xfer), (size_t)p->result);
                return p->result;
        }
        p->state = XFER_IDLE; /* a stale result for another request */
        local = local_request(h, s);
        if (local <= 0)
                return local;
        uint8_t *buf = malloc(LIBUSB_CONTROL_SETUP_SIZE + s->length);
        if (!buf)
                return USB_IOERR;
        libusb_fill_control_setup(buf, s->request_type, s->request, s->value, s->index, s->length);
        if (!(s->request_type & USB_DIR_IN))
                memcpy(buf + LIBUSB_CONTROL_SETUP_SIZE, data, s->length);
        set_buffer(p, NULL);
        libusb_fill_control_transfer(p->xfer, h->handle, buf, transfer_done, p, CTRL_TIMEOUT_MS);
        p->setup = *s;
        return submit(h, p);
}

static int host_transfer(struct usb_device *dev, uint8_t ep, uint8_t *buf, size_t len)
{
        struct usb_host *h = (struct usb_host *)dev;
        unsigned in = (ep & USB_DIR_IN) ? 1 : 0, num = ep & 0x0f;
        struct pipe *p = &h->pipes[in][num];
        uint8_t type = h->ep_type[in][num];
        if (h->gone)
                return USB_IOERR;
        if (type != LIBUSB_TRANSFER_TYPE_BULK && type != LIBUSB_TRANSFER_TYPE_INTERRUPT)
                return USB_STALL;
        if (p->state == XFER_BUSY)
                return USB_NAK;
        if (p->state == XFER_DONE && p->len == len) {
                p->state = XFER_IDLE;
                if (p->result > 0 && in)
                        memcpy(buf, p->xfer->buffer, (size_t)p->result);
                return p->result;
        }
        if (len > INT32_MAX)
                return USB_STALL;
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy)
                return USB_IOERR;
        if (!in)
                memcpy(copy, buf, len);
        set_buffer(p, NULL);
        if (type == LIBUSB_TRANSFER_TYPE_BULK)
                libusb_fill_bulk_transfer(p->xfer, h->handle, ep, copy, (int)len, transfer_done, p,
                                          0);
        else
                libusb_fill_interrupt_transfer(p->xfer, h->handle, ep, copy, (int)len,
                                               transfer_done, p, 0);
        p->len = len;
        return submit(h, p);
}

static void cancel_all(struct usb_host *h)
{
        if (h->ctrl.state == XFER_BUSY)
                libusb_cancel_transfer(h->ctrl.xfer);
        else
                h->ctrl.state = XFER_IDLE;
        for (unsigned d = 0; d < 2; d++)
                for (unsigned n = 0; n < USB_MAX_ENDPOINTS; n++) {
                        struct pipe *p = &h->pipes[d][n];
                        if (p->state == XFER_BUSY)
                                libusb_cancel_transfer(p->xfer);
                        else
                                p->state = XFER_IDLE;
                }
}

/* A guest bus reset: transfers in flight are dropped. The host device is
 * not reset; the host kernel already enumerated it. */
static void host_reset(struct usb_device *dev)
{
        cancel_all((struct usb_host *)dev);
}

static void host_destroy(struct usb_device *dev)
{
        struct usb_host *h = (struct usb_host *)dev;
        h->destroyed = true;
        cancel_all(h);
        if (h->busy == 0)
                queue_close(h);
        /* else the last completion closes it */
}

static const struct usb_device_ops host_ops = {
    .control = host_control,
    .transfer = host_transfer,
    .reset = host_reset,
    .destroy = host_destroy,
};

static int hotplug_left(libusb_context *ctx, libusb_device *d, libusb_hotplug_event ev,
                        void *opaque)
{
        (void)ctx;
        (void)ev;
        struct usb_host *h = opaque;
        if (libusb_get_device(h->handle) != d)
                return 0;
        vm_lock(h->vm);
        if (!h->destroyed && !h->gone) {
                h->gone = true;
                fprintf(stderr, "tandem-vmm: usb: host device %s unplugged\n", h->spec);
                usb_device_unplugged(&h->dev);
        }
        vm_unlock(h->vm);
        return 0;
}

static bool parse_ids(const char *spec, uint16_t *vid, uint16_t *pid)
{
        unsigned v, p;
        int n = 0;
        if (sscanf(spec, "%4x:%4x%n", &v, &p, &n) != 2 || spec[n] || strlen(spec) != 9)
                return false;
        *vid = (uint16_t)v;
        *pid = (uint16_t)p;
        return true;
}

/* "BUS-P[.P]...": bus number and port chain. Returns the chain length or -1. */
static int parse_path(const char *spec, unsigned *bus, uint8_t *ports, int max)
{
        char *end;
        errno = 0;
        unsigned long b = strtoul(spec, &end, 10);
        if (end == spec || *end != '-' || b == 0 || b > 255 || errno)
                return -1;
        *bus = (unsigned)b;
        int n = 0;
        const char *s = end + 1;
        for (;;) {
                unsigned long p = strtoul(s, &end, 10);
                if (end == s || p == 0 || p > 255 || n == max)
                        return -1;
                ports[n++] = (uint8_t)p;
                if (*end == 0)
                        return n;
                if (*end != '.')
                        return -1;
                s = end + 1;
        }
}

static libusb_device *find_device(const char *spec, char *err, size_t errlen)
{
        uint16_t vid = 0, pid = 0;
        unsigned bus = 0;
        uint8_t want[8], got[8];
        int nwant = 0;
        bool by_id = parse_ids(spec, &vid, &pid);
        if (!by_id && (nwant = parse_path(spec, &bus, want, 7)) < 0) {
                snprintf(err, errlen, "--usb host:%s: expected VVVV:PPPP or BUS-PORT[.PORT]...",
                         spec);
                return NULL;
        }
        libusb_device **list;
        ssize_t n = libusb_get_device_list(g.ctx, &list);
        if (n < 0) {
                snprintf(err, errlen, "usb host: cannot list devices: %s", libusb_strerror((int)n));
                return NULL;
        }
        libusb_device *found = NULL;
        for (ssize_t i = 0; i < n && !found; i++) {
                libusb_device *d = list[i];
                if (by_id) {
                        struct libusb_device_descriptor dd;
                        if (libusb_get_device_descriptor(d, &dd) == 0 && dd.idVendor == vid &&
                            dd.idProduct == pid)
                                found = d;
                } else if (libusb_get_bus_number(d) == bus) {
                        int k = libusb_get_port_numbers(d, got, 8);
                        if (k == nwant && memcmp(got, want, (size_t)k) == 0)
                                found = d;
                }
        }
        if (found)
                libusb_ref_device(found);
        else
                snprintf(err, errlen, "usb host: no device %s", spec);
        libusb_free_device_list(list, 1);
        return found;
}

/* Endpoint types and the interface count, from the configuration. */
static void parse_config(struct usb_host *h)
{
        memset(h->ep_type, 0, sizeof(h->ep_type));
        h->nifaces = 0;
        for (size_t off = 0; off + 2 <= h->conf_len;) {
                uint8_t len = h->conf[off], type = h->conf[off + 1];
                if (len < 2 || off + len > h->conf_len)
                        break;
                if (type == USB_DT_INTERFACE && len >= 9 && h->conf[off + 2] + 1u > h->nifaces)
                        h->nifaces = h->conf[off + 2] + 1u;
                if (type == USB_DT_ENDPOINT && len >= 7) {
                        uint8_t addr = h->conf[off + 2];
                        h->ep_type[(addr & USB_DIR_IN) ? 1 : 0][addr & 0x0f] =
                            h->conf[off + 3] & 3; /* same numbering as libusb's */
                }
                off += len;
        }
        if (h->nifaces > HOST_MAX_IFACES)
                h->nifaces = HOST_MAX_IFACES;
}

static int read_config(struct usb_host *h)
{
        int cfg = 0;
        if (libusb_get_configuration(h->handle, &cfg) < 0)
                return -1;
        struct libusb_config_descriptor *c;
        int rc = cfg > 0 ? libusb_get_config_descriptor_by_value(libusb_get_device(h->handle),
                                                                 (uint8_t)cfg, &c)
                         : libusb_get_config_descriptor(libusb_get_device(h->handle), 0, &c);
        if (rc < 0)
                return -1;
        uint8_t index = 0;
        /* The raw descriptor: ask the device for the configuration's index. */
        struct libusb_device_descriptor dd;
        libusb_get_device_descriptor(libusb_get_device(h->handle), &dd);
        for (uint8_t i = 0; i < dd.bNumConfigurations; i++) {
                struct libusb_config_descriptor *ci;
                if (libusb_get_config_descriptor(libusb_get_device(h->handle), i, &ci) == 0) {
                        bool match = ci->bConfigurationValue == c->bConfigurationValue;
                        libusb_free_config_descriptor(ci);
                        if (match) {
                                index = i;
                                break;
                        }
                }
        }
        size_t total = c->wTotalLength;
        libusb_free_config_descriptor(c);
        free(h->conf);
        h->conf = malloc(total);
        if (!h->conf)
                return -1;
        rc = libusb_get_descriptor(h->handle, LIBUSB_DT_CONFIG, index, h->conf, (int)total);
        if (rc < 9) {
                free(h->conf);
                h->conf = NULL;
                return -1;
        }
        h->conf_len = (size_t)rc;
        parse_config(h);
        h->dev.conf_desc = h->conf;
        h->dev.conf_len = h->conf_len;
        return 0;
}

/* Shows a SuperSpeed device as high speed (no BOS or companion descriptors
 * are relayed yet): USB 2.0, a 64-byte ep0, no SuperSpeed endpoint
 * companions, bulk packets of 512. The device itself is unchanged. */
static void downgrade(struct usb_host *h)
{
        h->desc[2] = 0x00;
        h->desc[3] = 0x02;
        h->desc[7] = 64;
        size_t out = 0;
        for (size_t off = 0; off + 2 <= h->conf_len;) {
                uint8_t len = h->conf[off], type = h->conf[off + 1];
                if (len < 2 || off + len > h->conf_len)
                        break;
                if (type != 0x30 /* SuperSpeed endpoint companion */) {
                        memmove(h->conf + out, h->conf + off, len);
                        if (type == USB_DT_ENDPOINT && len >= 7 && (h->conf[out + 3] & 3) == 2) {
                                h->conf[out + 4] = 0x00; /* bulk: 512 bytes */
                                h->conf[out + 5] = 0x02;
                        }
                        out += len;
                }
                off += len;
        }
        h->conf_len = out;
        h->conf[2] = (uint8_t)out;
        h->conf[3] = (uint8_t)(out >> 8);
}

static void claim_all(struct usb_host *h)
{
        if (read_config(h) < 0)
                return;
        for (unsigned i = 0; i < h->nifaces; i++)
                h->claimed[i] = libusb_claim_interface(h->handle, (int)i) == 0;
}

static enum usb_speed speed_of(libusb_device *d)
{
        switch (libusb_get_device_speed(d)) {
        case LIBUSB_SPEED_LOW:
                return USB_SPEED_LOW;
        case LIBUSB_SPEED_FULL:
                return USB_SPEED_FULL;
        case LIBUSB_SPEED_SUPER:
        case LIBUSB_SPEED_SUPER_PLUS:
                /* No SuperSpeed descriptors (BOS) are relayed yet: offer it on
                 * a USB 2 port, where it runs at high speed for the guest. */
        default:
                return USB_SPEED_HIGH;
        }
}

static bool read_sysfs_uint(const char *name, const char *leaf, unsigned *out)
{
        char path[128];
        snprintf(path, sizeof(path), "/sys/bus/usb/devices/%s/%s", name, leaf);
        FILE *f = fopen(path, "re");
        if (!f)
                return false;
        bool ok = fscanf(f, "%u", out) == 1;
        fclose(f);
        return ok;
}

/* A device plugged in after libusb_init that libusb's list lacks: Debian's
 * libusb learns of new devices from udevd, which a host (or the rig's L1)
 * may not run, and a new libusb context cannot be made inside the
 * sandbox. The device's usbfs node, found from sysfs by its BUS-PORT name,
 * is opened directly and wrapped. Returns the fd and sets *handle, or -1. */
static int open_unlisted(const char *spec, libusb_device_handle **handle)
{
        size_t n = strlen(spec);
        if (n == 0 || n > 31 || !strchr(spec, '-') || strspn(spec, "0123456789-.") != n)
                return -1;
        unsigned bus, dev;
        if (!read_sysfs_uint(spec, "busnum", &bus) || !read_sysfs_uint(spec, "devnum", &dev) ||
            bus > 999 || dev > 999)
                return -1;
        char node[64];
        snprintf(node, sizeof(node), "/dev/bus/usb/%03u/%03u", bus, dev);
        int fd = open(node, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -1;
        if (libusb_wrap_sys_device(g.ctx, (intptr_t)fd, handle) != 0) {
                close(fd);
                return -1;
        }
        return fd;
}

void usb_host_prepare(void)
{
        pthread_once(&g.once, global_init);
}

struct usb_device *usb_host_create(struct vm *vm, const char *spec, char *err, size_t errlen)
{
        pthread_once(&g.once, global_init);
        if (g.init_rc != 0) {
                snprintf(err, errlen, "usb host: libusb_init: %s", libusb_strerror(g.init_rc));
                return NULL;
        }
        libusb_device_handle *wrapped = NULL;
        int wrapped_fd = -1;
        libusb_device *d = find_device(spec, err, errlen);
        if (!d && (wrapped_fd = open_unlisted(spec, &wrapped)) < 0)
                return NULL;
        struct usb_host *h = calloc(1, sizeof(*h));
        if (!h) {
                if (d)
                        libusb_unref_device(d);
                if (wrapped) {
                        libusb_close(wrapped);
                        close(wrapped_fd);
                }
                snprintf(err, errlen, "usb host: out of memory");
                return NULL;
        }
        snprintf(h->spec, sizeof(h->spec), "%s", spec);
        h->vm = vm;
        h->wrapped_fd = wrapped_fd;
        h->handle = wrapped;
        int rc = 0;
        if (d) {
                rc = libusb_open(d, &h->handle);
                libusb_unref_device(d);
        }
        if (rc < 0) {
                snprintf(err, errlen, "usb host: cannot open %s: %s", spec, libusb_strerror(rc));
                free(h);
                return NULL;
        }
        libusb_set_auto_detach_kernel_driver(h->handle, 1);
        rc = libusb_get_descriptor(h->handle, LIBUSB_DT_DEVICE, 0, h->desc, sizeof(h->desc));
        if (rc != (int)sizeof(h->desc) || read_config(h) < 0) {
                snprintf(err, errlen, "usb host: cannot read the descriptors of %s", spec);
                libusb_close(h->handle);
                if (h->wrapped_fd >= 0)
                        close(h->wrapped_fd);
                free(h->conf);
                free(h);
                return NULL;
        }
        claim_all(h);
        enum libusb_speed real = libusb_get_device_speed(libusb_get_device(h->handle));
        if (real == LIBUSB_SPEED_SUPER || real == LIBUSB_SPEED_SUPER_PLUS) {
                h->downgraded = true;
                downgrade(h);
        }
        h->ctrl.xfer = libusb_alloc_transfer(0);
        h->ctrl.host = h;
        bool ok = h->ctrl.xfer != NULL;
        for (unsigned dir = 0; dir < 2; dir++)
                for (unsigned n = 0; n < USB_MAX_ENDPOINTS; n++) {
                        struct pipe *p = &h->pipes[dir][n];
                        p->host = h;
                        p->ep = (uint8_t)(n | (dir ? USB_DIR_IN : 0));
                        p->xfer = libusb_alloc_transfer(0);
                        ok = ok && p->xfer;
                }
        if (!ok) {
                close_host(h);
                snprintf(err, errlen, "usb host: out of memory");
                return NULL;
        }
        h->dev.ops = &host_ops;
        h->dev.name = h->spec;
        h->dev.speed = speed_of(libusb_get_device(h->handle));
        h->dev.dev_desc = h->desc;
        h->dev.conf_desc = h->conf;
        h->dev.conf_len = h->conf_len;
        h->dev.forward_standard = true;
        if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) {
                struct libusb_device_descriptor dd;
                libusb_get_device_descriptor(libusb_get_device(h->handle), &dd);
                h->has_hotplug =
                    libusb_hotplug_register_callback(
                        g.ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, 0, dd.idVendor, dd.idProduct,
                        LIBUSB_HOTPLUG_MATCH_ANY, hotplug_left, h, &h->hotplug) == 0;
        }
        return &h->dev;
}
