/* The guest-visible layout of a virtio-pci function (documented for driver
 * and test-guest authors in docs/virtio.md). */
#ifndef TANDEM_VIRTIO_PCI_H
#define TANDEM_VIRTIO_PCI_H

#define VIRTIO_PCI_VENDOR_ID      0x1af4
#define VIRTIO_PCI_DEVICE_ID_BASE 0x1040 /* + virtio device ID (§4.1.2.1) */

/* Capability cfg_type values (§4.1.4) */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG    5

/* Everything lives in BAR 0, a 32-bit non-prefetchable memory BAR. */
#define VIRTIO_PCI_BAR            0
#define VIRTIO_PCI_BAR_SIZE       0x8000
#define VIRTIO_PCI_COMMON_OFF     0x0000
#define VIRTIO_PCI_COMMON_LEN     0x40
#define VIRTIO_PCI_ISR_OFF        0x1000
#define VIRTIO_PCI_ISR_LEN        4
#define VIRTIO_PCI_DEVICE_OFF     0x2000
#define VIRTIO_PCI_NOTIFY_OFF     0x3000
#define VIRTIO_PCI_NOTIFY_MULT    4 /* queue q is kicked at NOTIFY_OFF + 4*q */
#define VIRTIO_PCI_MSIX_TABLE_OFF 0x4000
#define VIRTIO_PCI_MSIX_PBA_OFF   0x5000

/* Common configuration register offsets (§4.1.4.3) */
#define VIRTIO_PCI_COMMON_DFSELECT      0x00
#define VIRTIO_PCI_COMMON_DF            0x04
#define VIRTIO_PCI_COMMON_GFSELECT      0x08
#define VIRTIO_PCI_COMMON_GF            0x0c
#define VIRTIO_PCI_COMMON_MSIX          0x10
#define VIRTIO_PCI_COMMON_NUMQ          0x12
#define VIRTIO_PCI_COMMON_STATUS        0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15
#define VIRTIO_PCI_COMMON_Q_SELECT      0x16
#define VIRTIO_PCI_COMMON_Q_SIZE        0x18
#define VIRTIO_PCI_COMMON_Q_MSIX        0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE      0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF        0x1e
#define VIRTIO_PCI_COMMON_Q_DESC        0x20
#define VIRTIO_PCI_COMMON_Q_AVAIL       0x28
#define VIRTIO_PCI_COMMON_Q_USED        0x30

#endif
