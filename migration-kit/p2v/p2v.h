/* tandem-p2v: a physical disk (or its raw image) to a VM image. Partition
 * tables (ptable.c), filesystems by signature and their allocation maps
 * (fsdetect.c), and the copy of what is in use (copy.c). docs/migration.md. */
#ifndef TANDEM_P2V_H
#define TANDEM_P2V_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define P2V_MAX_PARTS 64

/* Byte ranges [off, off+len), sorted and merged by range_add. */
struct ranges {
        struct range {
                uint64_t off, len;
        } * r;
        size_t n, cap;
};

int range_add(struct ranges *rs, uint64_t off, uint64_t len);
void ranges_sort_merge(struct ranges *rs);
uint64_t ranges_total(const struct ranges *rs);
void ranges_free(struct ranges *rs);

struct fsinfo {
        char type[16]; /* "fat12", "ext4", "ntfs", "hpfs", "swap", "" unknown */
        char label[64];
        char os[128];       /* what is installed, when it can tell */
        char note[256];     /* why it was copied in full, or skipped */
        uint64_t size;      /* bytes the filesystem says it spans */
        bool mapped;        /* used holds its allocated blocks */
        bool skip;          /* nothing but the header needs copying (swap) */
        struct ranges used; /* relative to the partition */
};

struct part {
        int number;     /* 1-based as Linux numbers them */
        uint64_t start; /* bytes */
        uint64_t size;
        char scheme_type[48]; /* "0x83", or a GPT type GUID */
        char name[72];        /* GPT name (UTF-8) */
        struct fsinfo fs;
};

struct disk {
        int fd;
        const char *path;
        uint64_t size;
        char scheme[8]; /* "mbr", "gpt", "none" (one filesystem, no table) */
        struct part parts[P2V_MAX_PARTS];
        size_t n_parts;
        char warnings[8][256];
        size_t n_warnings;
};

/* Exact-length read at off; -1 (errno set, or EIO on a short read). */
int disk_read(const struct disk *d, uint64_t off, void *buf, size_t len);

/* ptable.c: fills scheme and parts. -1 with a one-line err. */
int ptable_read(struct disk *d, char *err, size_t errlen);

/* fsdetect.c: identifies the filesystem in [start, start+size) and maps
 * what it uses. -1 with err for a filesystem that is damaged or larger than
 * its partition (a truncated image). */
int fs_detect(const struct disk *d, uint64_t start, uint64_t size, struct fsinfo *fs, char *err,
              size_t errlen);

/* copy.c: copies ranges of d to out_fd (same offsets); progress on stderr
 * when progress is set. Returns bytes written or -1. */
int64_t copy_ranges(const struct disk *d, int out_fd, const struct ranges *rs, bool progress,
                    char *err, size_t errlen);

#endif
