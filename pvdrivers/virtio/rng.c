/* virtio-rng (virtio 1.2 §5.4): every writable byte the driver posts is
 * filled from the host's getrandom(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include "devices.h"
#include "virtio_core.h"

#define VIRTIO_ID_RNG  4
#define RNG_QUEUE_SIZE 64
/* Enough for any sane request; a driver asking for more gets this much. */
#define RNG_MAX_PER_REQUEST 65536u

struct virtio_rng {
        struct virtio_device_priv head;
        struct virtio_device vdev;
        struct virtq_chain chain;
};

static uint32_t rng_fill(struct virtio_device *vdev, unsigned q, struct virtq_chain *c)
{
        (void)vdev, (void)q;
        uint32_t done = 0;
        for (unsigned i = c->nout; i < c->nout + c->nin && done < RNG_MAX_PER_REQUEST; i++) {
                uint8_t *p = c->iov[i].iov_base;
                size_t left = c->iov[i].iov_len;
                if (left > RNG_MAX_PER_REQUEST - done)
                        left = RNG_MAX_PER_REQUEST - done;
                while (left > 0) {
                        ssize_t n = getrandom(p, left, 0);
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                return done; /* hand back what we have */
                        }
                        p += n;
                        left -= (size_t)n;
                        done += (uint32_t)n;
                }
        }
        return done;
}

static void rng_queue_notify(struct virtio_device *vdev, unsigned q)
{
        struct virtio_rng *r = vdev->priv;
        virtio_queue_process(vdev, q, &r->chain, rng_fill);
}

static const struct virtio_dev_ops rng_ops = {
    .name = "rng",
    .device_id = VIRTIO_ID_RNG,
    .features = 1ull << VIRTIO_F_INDIRECT_DESC,
    .num_queues = 1,
    .queue_max_size = RNG_QUEUE_SIZE,
    .config_size = 0,
    .queue_notify = rng_queue_notify,
};

static void rng_destroy(struct virtio_device *vdev)
{
        free(vdev->priv);
}

struct virtio_device *virtio_rng_create(const struct guest_mem *mem, char *err, size_t errlen)
{
        struct virtio_rng *r = calloc(1, sizeof(*r));
        if (!r) {
                snprintf(err, errlen, "out of memory creating virtio-rng");
                return NULL;
        }
        r->head.destroy = rng_destroy;
        virtio_device_init(&r->vdev, &rng_ops, r, mem);
        return &r->vdev;
}
