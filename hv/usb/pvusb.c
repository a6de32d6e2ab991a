/* PV USB backend: one virtqueue of requests (struct tpv_usb_request, data
 * stage, struct tpv_usb_response) handed to the struct usb_device on the
 * addressed root port. Requests are answered in order; one the device NAKs
 * (a passed-through device whose libusb transfer is in flight) waits, and
 * the queue with it, until the device's wakeup. Everything the guest wrote
 * is checked before the device sees it. Runs under vm_lock. */
#include "pvusb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../pvdrivers/virtio/virtio_core.h"
#include "pvusb_abi.h"

/* A device that keeps NAKing after its own wakeups gets this many retries
 * per kick; the rest waits for the next wakeup. */
#define RETRY_LIMIT 64
/* Malformed requests logged before going quiet (the counter goes on). */
#define LOG_LIMIT 8

struct pvusb;

struct pvusb_port {
        struct pvusb *owner;
        unsigned num;
        struct usb_device *dev;
        uint16_t gen;
};

/* The request being carried out (validated). */
struct pvusb_req {
        struct tpv_usb_request hdr;
        unsigned port;
        bool in;
        uint32_t length;
};

struct pvusb {
        struct virtio_device_priv head;
        struct virtio_device vdev;
        struct vm *vm;
        struct pvusb_port port[TPV_USB_PORTS + 1]; /* [1..TPV_USB_PORTS] */
        uint32_t generation;
        bool running, rerun;
        bool pending; /* chain holds a request the device NAKed */
        struct pvusb_req req;
        struct pvusb_stats stats;
        unsigned logged;
        struct virtq_chain chain;
        uint8_t buf[TPV_USB_MAX_DATA];
};

static void reject_log(struct pvusb *p, const char *why)
{
        p->stats.rejected++;
        if (p->logged < LOG_LIMIT) {
                p->logged++;
                fprintf(stderr, "pvusb: bad request from the guest: %s%s\n", why,
                        p->logged == LOG_LIMIT ? " (further ones are only counted)" : "");
        }
}

/* Writes the data stage and the response, and gives the chain back. */
static void finish(struct pvusb *p, int32_t status, uint32_t actual)
{
        struct virtq_chain *c = &p->chain;
        const struct iovec *win = c->iov + c->nout;
        uint32_t data_len = p->req.in ? p->req.length : 0;
        if (p->req.in && actual)
                iov_copy_to(win, c->nin, 0, p->buf, actual);
        struct tpv_usb_response r = {.status = status, .actual = actual};
        iov_copy_to(win, c->nin, data_len, &r, sizeof(r));
        if (status == TPV_USB_OK) {
                p->stats.completed++;
                p->stats.bytes += actual;
        } else if (status != TPV_USB_EINVAL) {
                p->stats.failed++;
        }
        p->pending = false;
        virtio_complete(&p->vdev, TPV_USB_QUEUE, c->head, data_len + (uint32_t)sizeof(r));
}

/* Is ep an endpoint of transfer type xfer (2 bulk, 3 interrupt) in the
 * device's configuration descriptor? */
static bool endpoint_has_type(const struct usb_device *dev, uint8_t ep, unsigned xfer)
{
        const uint8_t *d = dev->conf_desc;
        size_t len = dev->conf_len;
        for (size_t off = 0; off + 2 <= len && d[off] >= 2 && d[off] <= len - off; off += d[off])
                if (d[off + 1] == USB_DT_ENDPOINT && d[off] >= 7 && d[off + 2] == ep &&
                    (d[off + 3] & 3) == xfer)
                        return true;
        return false;
}

/* Checks the header and the chain's shape against it. Returns TPV_USB_OK or
 * the status to answer with. */
static int32_t validate(struct pvusb *p)
{
        struct virtq_chain *c = &p->chain;
        struct tpv_usb_request *h = &p->req.hdr;
        if (c->out_bytes < sizeof(*h)) {
                reject_log(p, "header shorter than 24 bytes");
                return TPV_USB_EINVAL;
        }
        iov_copy_from(c->iov, c->nout, 0, h, sizeof(*h));
        if (h->flags || h->reserved) {
                reject_log(p, "reserved fields set");
                return TPV_USB_EINVAL;
        }
        if (h->port < 1 || h->port > TPV_USB_PORTS) {
                reject_log(p, "port out of range");
                return TPV_USB_EINVAL;
        }
        if (h->length > TPV_USB_MAX_DATA) {
                reject_log(p, "data stage over 64 KiB");
                return TPV_USB_EINVAL;
        }
        p->req.port = h->port;
        p->req.length = h->length;
        switch (h->type) {
        case TPV_USB_CONTROL:
                if (h->endpoint != 0 || (uint32_t)(h->setup[6] | h->setup[7] << 8) != h->length) {
                        reject_log(p, "control request with an endpoint or a wLength other than "
                                      "its length");
                        return TPV_USB_EINVAL;
                }
                p->req.in = h->setup[0] & USB_DIR_IN;
                break;
        case TPV_USB_BULK:
        case TPV_USB_INTERRUPT:
                if ((h->endpoint & 0x0f) == 0 || (h->endpoint & 0x70)) {
                        reject_log(p, "transfer to a bad endpoint number");
                        return TPV_USB_EINVAL;
                }
                p->req.in = h->endpoint & USB_DIR_IN;
                break;
        case TPV_USB_RESET:
                if (h->endpoint != 0 || h->length != 0) {
                        reject_log(p, "reset with an endpoint or data");
                        return TPV_USB_EINVAL;
                }
                p->req.in = false;
                break;
        default:
                reject_log(p, "unknown request type");
                return TPV_USB_EINVAL;
        }
        uint64_t want_out = sizeof(*h) + (p->req.in ? 0 : h->length);
        uint64_t want_in = sizeof(struct tpv_usb_response) + (p->req.in ? h->length : 0);
        if (c->out_bytes != want_out || c->in_bytes != want_in) {
                reject_log(p, "buffer sizes do not match the request's length and direction");
                return TPV_USB_EINVAL;
        }
        struct pvusb_port *pt = &p->port[h->port];
        if (!pt->dev || pt->gen != h->port_gen)
                return TPV_USB_ENODEV;
        if ((h->type == TPV_USB_BULK || h->type == TPV_USB_INTERRUPT) &&
            !endpoint_has_type(pt->dev, h->endpoint, h->type == TPV_USB_BULK ? 2 : 3))
                return TPV_USB_ESTALL; /* as a device with no such endpoint answers */
        return TPV_USB_OK;
}

static int32_t status_of(int r)
{
        switch (r) {
        case USB_STALL:
                return TPV_USB_ESTALL;
        case USB_BABBLE:
                return TPV_USB_EBABBLE;
        default:
                return TPV_USB_EIO;
        }
}

/* Hands the validated request to the device. false: NAKed, left pending. */
static bool attempt(struct pvusb *p)
{
        struct tpv_usb_request *h = &p->req.hdr;
        struct usb_device *dev = p->port[p->req.port].dev;
        int r;
        switch (h->type) {
        case TPV_USB_CONTROL: {
                struct usb_setup s = {
                    .request_type = h->setup[0],
                    .request = h->setup[1],
                    .value = (uint16_t)(h->setup[2] | h->setup[3] << 8),
                    .index = (uint16_t)(h->setup[4] | h->setup[5] << 8),
                    .length = (uint16_t)h->length,
                };
                r = usb_device_control(dev, &s, p->buf);
                break;
        }
        case TPV_USB_RESET:
                usb_device_reset(dev);
                r = 0;
                break;
        default:
                r = usb_device_transfer(dev, h->endpoint, p->buf, p->req.length);
                break;
        }
        if (r == USB_NAK) {
                if (!p->pending)
                        p->stats.naks++;
                p->pending = true;
                return false;
        }
        if (r < 0)
                finish(p, status_of(r), 0);
        else
                finish(p, TPV_USB_OK, (uint32_t)r < p->req.length ? (uint32_t)r : p->req.length);
        return true;
}

/* A new chain: validate, copy the OUT data stage, run. false: pending. */
static bool start(struct pvusb *p)
{
        struct virtq_chain *c = &p->chain;
        p->stats.requests++;
        memset(&p->req, 0, sizeof(p->req));
        if (c->in_bytes < sizeof(struct tpv_usb_response)) {
                /* No room for an answer: give the chain back empty. */
                reject_log(p, "no writable response buffer");
                virtio_complete(&p->vdev, TPV_USB_QUEUE, c->head, 0);
                return true;
        }
        int32_t st = validate(p);
        if (st != TPV_USB_OK) {
                if (st != TPV_USB_EINVAL)
                        p->stats.failed++;
                p->req.in = false; /* answer at the start of the writable part */
                p->req.length = 0;
                struct tpv_usb_response r = {.status = st};
                iov_copy_to(c->iov + c->nout, c->nin, c->in_bytes - sizeof(r), &r, sizeof(r));
                virtio_complete(&p->vdev, TPV_USB_QUEUE, c->head, (uint32_t)c->in_bytes);
                return true;
        }
        if (!p->req.in && p->req.length)
                iov_copy_from(c->iov, c->nout, sizeof(p->req.hdr), p->buf, p->req.length);
        else if (p->req.in)
                memset(p->buf, 0, p->req.length); /* nothing stale reaches the guest */
        return attempt(p);
}

static void run_queue(struct pvusb *p)
{
        if (p->running) { /* a wakeup from inside a device call */
                p->rerun = true;
                return;
        }
        p->running = true;
        struct virtqueue *vq = &p->vdev.vq[TPV_USB_QUEUE];
        for (unsigned round = 0; round < RETRY_LIMIT; round++) {
                p->rerun = false;
                bool blocked = p->pending && !attempt(p);
                while (!blocked && virtio_device_live(&p->vdev) && vq->ready) {
                        enum virtq_pop_result r = virtq_pop(vq, p->vdev.mem, &p->chain);
                        if (r == VIRTQ_EMPTY)
                                break;
                        if (r == VIRTQ_BROKEN) {
                                p->stats.rejected++;
                                virtio_needs_reset(&p->vdev, virtq_broken_reason());
                                break;
                        }
                        blocked = !start(p);
                }
                if (!p->rerun)
                        break;
        }
        p->running = false;
}

static void pvusb_queue_notify(struct virtio_device *vdev, unsigned q)
{
        (void)q;
        run_queue(vdev->priv);
}

static void pvusb_reset(struct virtio_device *vdev)
{
        struct pvusb *p = vdev->priv;
        p->pending = false; /* the rings are gone; a late device result is dropped */
}

static void fill_port_info(const struct pvusb_port *pt, struct tpv_usb_port_info *o)
{
        memset(o, 0, sizeof(*o));
        o->gen = pt->gen;
        if (!pt->dev)
                return;
        const struct usb_device *d = pt->dev;
        o->status = TPV_USB_PORT_CONNECTED;
        o->speed = (uint8_t)d->speed;
        o->vendor = (uint16_t)(d->dev_desc[8] | d->dev_desc[9] << 8);
        o->product = (uint16_t)(d->dev_desc[10] | d->dev_desc[11] << 8);
        const uint8_t *c = d->conf_desc;
        for (size_t off = 0; off + 2 <= d->conf_len && c[off] >= 2 && c[off] <= d->conf_len - off;
             off += c[off])
                if (c[off + 1] == USB_DT_INTERFACE && c[off] >= 9) {
                        o->iclass = c[off + 5];
                        o->isubclass = c[off + 6];
                        o->iprotocol = c[off + 7];
                        break;
                }
}

static void pvusb_config_read(struct virtio_device *vdev, uint32_t off, void *data, unsigned len)
{
        struct pvusb *p = vdev->priv;
        struct tpv_usb_config cfg = {.nports = TPV_USB_PORTS, .generation = p->generation};
        for (unsigned i = 0; i < TPV_USB_PORTS; i++)
                fill_port_info(&p->port[i + 1], &cfg.port[i]);
        memcpy(data, (const uint8_t *)&cfg + off, len); /* range checked by the transport */
}

static void config_changed(struct pvusb *p)
{
        p->generation++;
        p->vdev.config_generation++;
        if (p->vdev.transport && p->vdev.transport->notify_config)
                p->vdev.transport->notify_config(&p->vdev);
}

static const struct virtio_dev_ops pvusb_ops = {
    .name = "pvusb",
    .device_id = TPV_VIRTIO_ID_USB,
    .num_queues = 1,
    .queue_max_size = TPV_USB_QSIZE,
    .config_size = sizeof(struct tpv_usb_config),
    .config_read = pvusb_config_read,
    .queue_notify = pvusb_queue_notify,
    .reset = pvusb_reset,
};

static void port_wakeup(void *opaque, uint8_t ep)
{
        (void)ep;
        struct pvusb_port *pt = opaque;
        struct pvusb *p = pt->owner;
        if (p->pending && p->req.port == pt->num)
                run_queue(p);
}

static void port_unplug(void *opaque)
{
        struct pvusb_port *pt = opaque;
        pvusb_detach(&pt->owner->vdev, pt->num);
}

int pvusb_attach(struct virtio_device *vdev, struct usb_device *dev, char *err, size_t errlen)
{
        struct pvusb *p = vdev->priv;
        for (unsigned i = 1; i <= TPV_USB_PORTS; i++) {
                struct pvusb_port *pt = &p->port[i];
                if (pt->dev)
                        continue;
                pt->dev = dev;
                pt->gen++;
                dev->link.wakeup = port_wakeup;
                dev->link.unplug = port_unplug;
                dev->link.opaque = pt;
                config_changed(p);
                return (int)i;
        }
        snprintf(err, errlen, "pvusb: no free root port for %s (%d ports)", dev->name,
                 TPV_USB_PORTS);
        return -1;
}

int pvusb_detach(struct virtio_device *vdev, unsigned port)
{
        struct pvusb *p = vdev->priv;
        if (port < 1 || port > TPV_USB_PORTS || !p->port[port].dev)
                return -1;
        if (p->pending && p->req.port == port)
                finish(p, TPV_USB_ECANCELLED, 0);
        usb_device_destroy(p->port[port].dev);
        p->port[port].dev = NULL;
        config_changed(p);
        if (!p->pending)
                run_queue(p); /* requests queued behind the cancelled one */
        return 0;
}

struct usb_device *pvusb_port_device(struct virtio_device *vdev, unsigned port)
{
        struct pvusb *p = vdev->priv;
        return port >= 1 && port <= TPV_USB_PORTS ? p->port[port].dev : NULL;
}

void pvusb_get_stats(struct virtio_device *vdev, struct pvusb_stats *out)
{
        *out = ((struct pvusb *)vdev->priv)->stats;
}

static void pvusb_destroy(struct virtio_device *vdev)
{
        struct pvusb *p = vdev->priv;
        for (unsigned i = 1; i <= TPV_USB_PORTS; i++)
                usb_device_destroy(p->port[i].dev);
        free(p);
}

struct virtio_device *pvusb_create(struct vm *vm, const struct guest_mem *mem, char *err,
                                   size_t errlen)
{
        struct pvusb *p = calloc(1, sizeof(*p));
        if (!p) {
                snprintf(err, errlen, "pvusb: out of memory");
                return NULL;
        }
        p->vm = vm;
        p->head.destroy = pvusb_destroy;
        for (unsigned i = 1; i <= TPV_USB_PORTS; i++) {
                p->port[i].owner = p;
                p->port[i].num = i;
        }
        virtio_device_init(&p->vdev, &pvusb_ops, p, mem);
        return &p->vdev;
}
