/* Minimal POSIX ustar archives for domain export/import: regular files only,
 * sizes past 8 GiB in the base-256 form GNU tar also reads. */
#ifndef TANDEM_IMAGE_TAR_H
#define TANDEM_IMAGE_TAR_H

#include <stddef.h>
#include <stdint.h>

#define TAR_NAME_MAX 99

/* Writes a header for a regular file of size bytes at the current offset. */
int tar_write_header(int fd, const char *name, uint64_t size, char *err, size_t errlen);
/* Pads the file's data to 512 bytes (call after writing size bytes). */
int tar_write_pad(int fd, uint64_t size, char *err, size_t errlen);
/* Two zero blocks. */
int tar_write_end(int fd, char *err, size_t errlen);

struct tar_entry {
        char name[TAR_NAME_MAX + 1];
        uint64_t size;
        uint64_t data_off; /* where the file's bytes start */
};

/* Lists the regular files of an archive (at most max); returns how many, or
 * -1 with err set for a damaged archive or one with anything but plain
 * files with simple names. */
int tar_list(int fd, struct tar_entry *out, int max, char *err, size_t errlen);

#endif
