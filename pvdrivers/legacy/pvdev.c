#include "pvdev.h"

#include "pv.h"

#define STATUS_DRIVER (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER)

int pvdev_find(struct pvdev *dev, uint32_t virtio_id, struct tpv_device_info *info)
{
        struct tpv_device_info found;
        dev->index = -1;
        for (unsigned i = 0; pv_device_info(i, &found) == 0; i++) {
                if (found.type == TPV_DEV_VIRTIO && found.virtio_id == virtio_id) {
                        dev->index = (int)i;
                        if (info)
                                *info = found;
                        return 0;
                }
        }
        return TPV_ENODEV;
}

int pvdev_bus_op(const struct pvdev *dev, struct tpv_bus_op *op)
{
        return tpv_hypercall2(TPV_HC_BUS_OP, (uint32_t)dev->index, TPV_GPA(op));
}

int pvdev_set_status(const struct pvdev *dev, uint32_t status)
{
        struct tpv_bus_op op = {.opcode = TPV_BUS_SET_STATUS, .value = status};
        return pvdev_bus_op(dev, &op);
}

int pvdev_start(struct pvdev *dev)
{
        dev->port = PV_PORT_DEVICE0 + (unsigned)dev->index;
        if (dev->port >= TPV_NR_PORTS)
                return TPV_EIO;
        int r = tpv_hypercall2(TPV_HC_EVENT_BIND, TPV_EVSRC_DEVICE(dev->index), dev->port);
        if (r < 0)
                return r;
        struct tpv_bus_op op = {.opcode = TPV_BUS_RESET};
        if ((r = pvdev_bus_op(dev, &op)) < 0)
                return r;
        /* A failure here shows as FEATURES_OK not sticking, checked later. */
        pvdev_set_status(dev, STATUS_DRIVER);
        return 0;
}

int pvdev_offered_features(const struct pvdev *dev, uint64_t *offered)
{
        struct tpv_bus_op op = {.opcode = TPV_BUS_GET_FEATURES};
        int r = pvdev_bus_op(dev, &op);
        *offered = r < 0 ? 0 : op.features;
        return r;
}

int pvdev_accept_features(const struct pvdev *dev, uint64_t features)
{
        struct tpv_bus_op op = {.opcode = TPV_BUS_SET_FEATURES, .features = features};
        int r = pvdev_bus_op(dev, &op);
        if (r < 0)
                return r;
        pvdev_set_status(dev, STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
        op = (struct tpv_bus_op){.opcode = TPV_BUS_GET_STATUS};
        if (pvdev_bus_op(dev, &op) < 0 || !(op.value & VIRTIO_STATUS_FEATURES_OK))
                return TPV_EIO;
        return 0;
}

int pvdev_queue_setup(const struct pvdev *dev, uint32_t queue, uint16_t size,
                      const volatile void *desc, const volatile void *avail,
                      const volatile void *used)
{
        struct tpv_bus_op op = {.opcode = TPV_BUS_QUEUE_SETUP,
                                .queue = queue,
                                .value = size,
                                .desc = TPV_GPA(desc),
                                .avail = TPV_GPA(avail),
                                .used = TPV_GPA(used)};
        return pvdev_bus_op(dev, &op);
}

int pvdev_read_config(const struct pvdev *dev, uint32_t offset, uint32_t length, void *out)
{
        struct tpv_bus_op op = {.opcode = TPV_BUS_READ_CONFIG, .offset = offset, .length = length};
        int r = pvdev_bus_op(dev, &op);
        if (r < 0)
                return r;
        uint8_t *o = out;
        for (uint32_t i = 0; i < length && i < sizeof(op.data); i++)
                o[i] = op.data[i];
        return r;
}

int pvdev_ready(const struct pvdev *dev)
{
        return pvdev_set_status(dev, STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
                                         VIRTIO_STATUS_DRIVER_OK);
}

bool pvdev_failed(const struct pvdev *dev)
{
        struct tpv_bus_op op = {.opcode = TPV_BUS_GET_STATUS};
        return pvdev_bus_op(dev, &op) < 0 ||
               (op.value & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED));
}

uint32_t pvdev_kick(const struct pvdev *dev)
{
        barrier();
        return (uint32_t)tpv_hypercall2(TPV_HC_EVENT_NOTIFY, dev->port, 0);
}

int pvdev_wait_used(const struct pvdev *dev, const volatile uint16_t *used_idx, uint16_t last_seen)
{
        while (*used_idx == last_seen) {
                pv_block(1u << dev->port);
                /* Woken without a completion: the device may have given up
                 * on our rings. */
                if (*used_idx == last_seen && pvdev_failed(dev))
                        return TPV_EIO;
        }
        barrier(); /* the index before what it announces */
        return 0;
}
