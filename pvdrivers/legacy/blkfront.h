/* Guest virtio-blk driver over the PV bus: one queue, one request in flight,
 * synchronous (the guest has nothing else to do while its disk works). */
#ifndef TANDEM_PV_BLKFRONT_H
#define TANDEM_PV_BLKFRONT_H

#include <stdbool.h>
#include <stdint.h>

#define BLK_SECTOR 512

/* Finds the first virtio block device and brings it up. 0 or TPV_E*. */
int blk_init(void);
uint32_t blk_sectors(void);
bool blk_readonly(void);
/* count sectors (buffer must not cross a 4 GiB boundary; it never does
 * here). Return 0 or TPV_EIO. */
int blk_read(uint32_t lba, void *buf, uint32_t count);
int blk_write(uint32_t lba, const void *buf, uint32_t count);
/* Makes every completed write durable on the host. */
int blk_flush(void);

/* Counters for the benchmarks (shown by the kernel's stats line). */
extern uint32_t blk_requests;

#endif
