/* A small read-only FAT16 reader for legacy data disks (superfloppy images:
 * the boot sector is sector 0, as legacy-mkdisk writes them). It trusts
 * nothing on the disk: every BPB field, directory entry and cluster link is
 * range-checked and a bad one becomes a one-line error. */
#ifndef TANDEM_MIGRATION_FAT16_H
#define TANDEM_MIGRATION_FAT16_H

#include <stddef.h>
#include <stdint.h>

struct fat16 {
        int fd;
        uint32_t bytes_per_sector, sectors_per_cluster, cluster_bytes;
        uint32_t fat_lba, fat_sectors, root_lba, root_entries, data_lba;
        uint32_t clusters; /* data clusters, numbered 2..clusters+1 */
        uint16_t *fat;     /* FAT 1, clusters+2 entries */
        char label[12];
        uint32_t fat_mismatches; /* entries where FAT 2 differs from FAT 1 */
};

/* One root-directory entry that names a regular file. */
struct fat16_file {
        char name[13]; /* "TICKETS.DAT", as stored (8.3, no trailing spaces) */
        uint16_t first_cluster;
        uint32_t size;
        uint32_t dirent_offset; /* byte offset of the entry in the image */
};

/* Reads and validates the boot sector and FAT 1 of the image open on fd.
 * Returns 0, or -1 with a message in err. */
int fat16_open(struct fat16 *fs, int fd, char *err, size_t errlen);
void fat16_close(struct fat16 *fs);

/* Lists the regular files of the root directory (deleted entries, long-name
 * slots, the volume label and subdirectories are skipped; *nsub counts the
 * subdirectories). Returns the number of files (*out is malloc'd), or -1. */
int fat16_list_root(struct fat16 *fs, struct fat16_file **out, unsigned *nsub, char *err,
                    size_t errlen);

/* Reads a whole file by following its cluster chain. *data is malloc'd
 * (size bytes, at least 1 allocated). Returns 0, or -1 when the chain is
 * broken (free/bad/out-of-range link, loop, too short for the size). */
int fat16_read(struct fat16 *fs, const struct fat16_file *f, uint8_t **data, char *err,
               size_t errlen);

#endif
