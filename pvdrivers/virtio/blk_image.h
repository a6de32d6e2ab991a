/* virtio-blk on any image format of pvdrivers/storage (raw, qcow2, vpc, vmdk). */
#ifndef TANDEM_VIRTIO_BLK_IMAGE_H
#define TANDEM_VIRTIO_BLK_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "devices.h"

/* format NULL probes the file (qcow2, dynamic VHD, VMDK, else raw); "raw"
 * never probes. The image chain stays flocked (exclusive when read-write,
 * shared otherwise) until the device is destroyed. (virtio_blk_create in
 * devices.h stays raw-only and takes no locks.) */
struct virtio_device *virtio_blk_create_image(const struct guest_mem *mem, struct evloop *loop,
                                              const char *path, const char *format, bool readonly,
                                              char *err, size_t errlen);
/* Same, with direct (cache=none): guest data with O_DIRECT (IMAGE_OPEN_DIRECT). */
struct virtio_device *virtio_blk_create_image_ex(const struct guest_mem *mem, struct evloop *loop,
                                                 const char *path, const char *format,
                                                 bool readonly, bool direct, char *err,
                                                 size_t errlen);

#endif
