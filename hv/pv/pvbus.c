/* The PV bus: a virtio transport without PCI. The guest finds devices with
 * TPV_HC_DEVICE_INFO, drives them with TPV_HC_BUS_OP (struct tpv_bus_op),
 * kicks them with TPV_HC_EVENT_NOTIFY and is told of used buffers by an
 * event on the port it bound to the device. The device backends are the
 * same ones virtio-pci uses (pvdrivers/virtio). */
#include <stdio.h>
#include <string.h>

#include "../../pvdrivers/virtio/virtio_core.h"
#include "../vmm/vm.h"
#include "legacy_priv.h"

static void bus_notify_queue(struct virtio_device *vdev, unsigned q)
{
        (void)q;
        struct legacy_bus_dev *b = vdev->transport_priv;
        legacy_raise(b->dom, EVS_DEVICE0 + b->index);
}

static void bus_notify_config(struct virtio_device *vdev)
{
        struct legacy_bus_dev *b = vdev->transport_priv;
        legacy_raise(b->dom, EVS_DEVICE0 + b->index);
}

static const struct virtio_transport bus_transport = {
    .notify_queue = bus_notify_queue,
    .notify_config = bus_notify_config,
};

int legacy_bus_add(struct legacy_domain *d, struct virtio_device *vdev, char *err, size_t errlen)
{
        if (d->nbus == LEGACY_MAX_BUS) {
                snprintf(err, errlen, "legacy: more than %d PV bus devices", LEGACY_MAX_BUS);
                return -1;
        }
        struct legacy_bus_dev *b = &d->bus[d->nbus];
        b->dom = d;
        b->vdev = vdev;
        b->index = d->nbus++;
        vdev->transport = &bus_transport;
        vdev->transport_priv = b;
        return 0;
}

static int32_t run_op(struct virtio_device *vdev, struct tpv_bus_op *op)
{
        switch (op->opcode) {
        case TPV_BUS_RESET:
                virtio_device_reset(vdev);
                return 0;
        case TPV_BUS_GET_FEATURES:
                op->features = vdev->device_features;
                return 0;
        case TPV_BUS_SET_FEATURES:
                virtio_write_driver_features(vdev, 0, (uint32_t)op->features);
                virtio_write_driver_features(vdev, 1, (uint32_t)(op->features >> 32));
                return 0;
        case TPV_BUS_SET_STATUS:
                if (op->value > 0xFF)
                        return TPV_EINVAL;
                virtio_write_status(vdev, (uint8_t)op->value);
                return 0;
        case TPV_BUS_GET_STATUS:
                op->value = vdev->status;
                return 0;
        case TPV_BUS_QUEUE_SETUP: {
                if (op->queue >= vdev->ops->num_queues || op->value == 0 ||
                    op->value > vdev->ops->queue_max_size || (op->value & (op->value - 1)))
                        return TPV_EINVAL;
                if (!(vdev->status & VIRTIO_STATUS_FEATURES_OK) ||
                    (vdev->status & VIRTIO_STATUS_DRIVER_OK))
                        return TPV_EPERM;
                struct virtqueue *vq = &vdev->vq[op->queue];
                vq->size = (uint16_t)op->value;
                vq->desc_gpa = op->desc;
                vq->avail_gpa = op->avail;
                vq->used_gpa = op->used;
                return virtio_queue_enable(vdev, op->queue) < 0 ? TPV_EFAULT : 0;
        }
        case TPV_BUS_READ_CONFIG:
                if (op->length == 0 || op->length > sizeof(op->data) ||
                    op->offset > vdev->ops->config_size ||
                    op->length > vdev->ops->config_size - op->offset || !vdev->ops->config_read)
                        return TPV_EINVAL;
                vdev->ops->config_read(vdev, op->offset, op->data, op->length);
                return 0;
        default:
                return TPV_EINVAL;
        }
}

int32_t legacy_bus_op(struct legacy_domain *d, uint32_t index, uint64_t op_gpa)
{
        if (index >= d->nbus)
                return TPV_ENODEV;
        struct tpv_bus_op op;
        if (guest_mem_read(&d->vm->mem, op_gpa, &op, sizeof(op)) < 0)
                return TPV_EFAULT;
        vm_lock(d->vm);
        int32_t r = run_op(d->bus[index].vdev, &op);
        vm_unlock(d->vm);
        if (r == 0 && guest_mem_write(&d->vm->mem, op_gpa, &op, sizeof(op)) < 0)
                return TPV_EFAULT;
        return r;
}
