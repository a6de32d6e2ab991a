/* Disk image formats behind virtio-blk: raw, qcow2 (v2/v3), VHD ("vpc",
 * fixed and dynamic) and, read-only, VMDK monolithicSparse ("vmdk"). Every opened image is a struct
 * blk_backend; the extra calls below work on backends returned by blk_image_open only. */
#ifndef TANDEM_STORAGE_IMAGE_H
#define TANDEM_STORAGE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blk_backend.h"

/* Deepest backing chain accepted (the top image counts as one). */
#define IMAGE_MAX_CHAIN 16

/* format: NULL probes the file; "raw" never probes, so a raw disk whose
 * guest wrote a qcow2 header stays raw. "vmdk" opens read-only only.
 * Backing files always open read-only. */
struct blk_backend *blk_image_open(const char *path, const char *format, bool readonly, char *err,
                                   size_t errlen);

/* Flags of blk_image_open_ex. */
#define IMAGE_OPEN_READONLY 1u
/* cache=none: guest data goes to and from the disk with O_DIRECT (metadata
 * stays buffered); unaligned buffers go through an aligned bounce buffer.
 * Applies to the whole chain. Refused where the filesystem lacks O_DIRECT. */
#define IMAGE_OPEN_DIRECT 2u

struct image_locks;
/* blk_image_open with flags; locks NULL takes no flocks (see below). */
struct blk_backend *blk_image_open_ex(const char *path, const char *format, unsigned flags,
                                      struct image_locks *locks, char *err, size_t errlen);

/* Advisory flocks held on every file of an opened chain: exclusive on a
 * read-write top image, shared on a read-only one and on backing files, so two
 * VMMs never write one image and nobody writes a base under an overlay. */
struct image_locks {
        int n;
        int fd[IMAGE_MAX_CHAIN];
};

/* blk_image_open that also locks (fails with "... is in use" when another
 * process holds a conflicting lock). Release with blk_image_unlock after
 * closing the backend, and on failure (it is then already empty). */
struct blk_backend *blk_image_open_locked(const char *path, const char *format, bool readonly,
                                          struct image_locks *locks, char *err, size_t errlen);
void blk_image_unlock(struct image_locks *locks);
/* Locks one file alone (tandem-image's in-place writers); returns the fd to
 * close, or -1 with err set. */
int blk_image_lock_file(const char *path, bool exclusive, char *err, size_t errlen);

/* "qcow2", "vpc" (dynamic), "vmdk" or "raw" from the file's first bytes. */
const char *blk_image_probe(const char *path, char *err, size_t errlen);

struct image_info {
        const char *format;
        uint64_t virtual_size;
        uint64_t cluster_size;   /* 0 when the format has none */
        char backing[1024];      /* "" when none */
        char backing_format[32]; /* "" when unknown */
        int version;             /* qcow2: 2 or 3; vpc: disk type 2/3/4 */
        bool dirty;
        bool compressed_zstd;
};

int blk_image_info(struct blk_backend *b, struct image_info *out);
/* What reads at off: 1 data (maybe zeros, maybe not), 0 zeros for sure (a
 * hole, an unallocated or zero cluster), or -errno; *pnum (1..len) is how far
 * that answer holds. Lets copies skip holes without reading them. */
int blk_image_block_status(struct blk_backend *b, uint64_t off, uint64_t len, uint64_t *pnum);

/* Starts reading [off, off + len) into the page cache in the background
 * (POSIX_FADV_WILLNEED on the host ranges behind it), so a sequential copy
 * keeps the disk busy while it writes. Raw and qcow2 chains; a hint only. */
void blk_image_prefetch(struct blk_backend *b, uint64_t off, uint64_t len);

/* Format of a backend from blk_image_open ("raw" for anything else). */
const char *blk_image_format(struct blk_backend *b);

struct image_create_opts {
        uint64_t cluster_size; /* qcow2; 0 = 64 KiB */
        int qcow2_version;     /* 0 = 3 */
        const char *backing;   /* qcow2 only; NULL = none */
        const char *backing_format;
        bool vhd_fixed; /* vpc: fixed instead of dynamic */
};

int blk_image_create(const char *path, const char *format, uint64_t size,
                     const struct image_create_opts *o, char *err, size_t errlen);

/* Grows (qcow2, vpc fixed, raw) or shrinks (raw) the virtual disk. */
int blk_image_resize(const char *path, uint64_t size, char *err, size_t errlen);

struct image_check {
        uint64_t referenced_clusters;
        uint64_t leaks;       /* refcount > references: space lost, data safe */
        uint64_t corruptions; /* refcount < references or bad pointers */
        uint64_t repaired;    /* refcounts rewritten by a repair */
        char first_problem[256];
};

/* qcow2: recomputes refcounts from L1/L2 and compares; with repair, rewrites
 * them to match and clears the dirty bit (counts stay those found before).
 * Other formats: a successful read-only open is the check. */
int blk_image_check(const char *path, bool repair, struct image_check *out, char *err,
                    size_t errlen);

/* qcow2: points the image at another backing file (NULL: none) without
 * touching data; `tandem-image rebase` copies data first when that would
 * change what the guest sees. */
int blk_image_set_backing(const char *path, const char *backing, const char *backing_fmt, char *err,
                          size_t errlen);

struct image_snapshot {
        char id[64];
        char name[256];
        uint64_t l1_off, vm_clock_ns, disk_size;
        uint32_t l1_size, date_sec, vm_state_size;
};

/* qcow2 internal snapshots: returns how many (0 for none) with *list
 * allocated (free it), or -1 with err set. */
int blk_image_snapshots(const char *path, struct image_snapshot **list, char *err, size_t errlen);

#endif
