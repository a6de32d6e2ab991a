/* FAT16 over the PV block device: 8.3 names, subdirectories, read/write.
 *
 * The metadata region (both FATs and the root directory) is mirrored in
 * memory and written back as ONE contiguous block request per operation, so
 * a power cut during an update of a root-directory file leaves either the
 * old or the new metadata (see docs/legacy-records.md, "Durability"). */
#ifndef LEGACY_FAT16_H
#define LEGACY_FAT16_H

#include <stdbool.h>
#include <stdint.h>

struct fat_file {
        uint16_t first_cluster;
        uint32_t size;
        uint32_t dir_lba; /* sector holding the directory entry */
        uint16_t dir_off; /* byte offset of the entry in that sector */
        bool is_dir;
};

/* Errors (negative, TPV_E* compatible). */
#define FAT_ENOENT (-2)
#define FAT_EIO    (-5)
#define FAT_EEXIST (-17)
#define FAT_EINVAL (-22)
#define FAT_ENOSPC (-28)
#define FAT_EBADFS (-74) /* not a FAT16 volume this driver can use */

/* Reads and validates the boot sector and loads the metadata. On failure
 * *why says what is wrong with the disk. */
int fat_mount(const char **why);
/* Volume label from the boot sector, space padded, 11 chars + NUL. */
void fat_label(char out[12]);
/* path: components separated by '/', each an 8.3 name ("DIR/FILE.EXT"). */
int fat_open(const char *path, struct fat_file *f);
int fat_create(const char *path, struct fat_file *f);
int fat_mkdir(const char *path);
/* Reads up to len bytes at off; returns bytes read or an error. */
int fat_read(struct fat_file *f, uint32_t off, void *buf, uint32_t len);
/* Writes len bytes at off (off <= size; the file grows as needed). Order:
 * data sectors, then FAT and directory entry in one request, then a flush.
 * Returns 0 or an error; FAT_ENOSPC leaves the file and the disk unchanged. */
int fat_write(struct fat_file *f, uint32_t off, const void *buf, uint32_t len);
uint32_t fat_free_clusters(void);
uint32_t fat_cluster_bytes(void);
/* Local time for directory timestamps, set by the kernel at every event. */
void fat_set_time(uint16_t dos_date, uint16_t dos_time);

#endif
