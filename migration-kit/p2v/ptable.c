/* MBR (with the extended partition's EBR chain) and GPT (UEFI 2.x, 5.3),
 * both range-checked against the disk's size. */
#include "p2v.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define SECTOR 512u

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
        return le32(p) | (uint64_t)le32(p + 4) << 32;
}

int disk_read(const struct disk *d, uint64_t off, void *buf, size_t len)
{
        if (off > d->size || len > d->size - off) {
                errno = EIO;
                return -1;
        }
        return pread(d->fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -1;
}

static int add_part(struct disk *d, int number, uint64_t lba, uint64_t count, char *err,
                    size_t errlen)
{
        if (d->n_parts == P2V_MAX_PARTS) {
                snprintf(err, errlen, "more than %d partitions", P2V_MAX_PARTS);
                return -1;
        }
        uint64_t end = (lba + count) * SECTOR;
        if (count == 0 || lba > UINT64_MAX / SECTOR / 2 || end > d->size) {
                snprintf(err, errlen,
                         "partition %d (sectors %llu-%llu) ends past the end of the disk (%llu "
                         "sectors): a truncated image?",
                         number, (unsigned long long)lba, (unsigned long long)(lba + count - 1),
                         (unsigned long long)(d->size / SECTOR));
                return -1;
        }
        for (size_t i = 0; i < d->n_parts; i++) {
                const struct part *o = &d->parts[i];
                if (lba * SECTOR < o->start + o->size && o->start < end) {
                        snprintf(err, errlen, "partitions %d and %d overlap", o->number, number);
                        return -1;
                }
        }
        struct part *p = &d->parts[d->n_parts++];
        memset(p, 0, sizeof(*p));
        p->number = number;
        p->start = lba * SECTOR;
        p->size = count * SECTOR;
        return 0;
}

static void guid_str(const uint8_t *g, char *out, size_t len)
{
        snprintf(out, len, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X", le32(g),
                 g[4] | g[5] << 8, g[6] | g[7] << 8, g[8], g[9], g[10], g[11], g[12], g[13], g[14],
                 g[15]);
}

/* UTF-16LE (BMP only) to UTF-8. */
static void utf16_name(const uint8_t *s, size_t units, char *out, size_t len)
{
        size_t n = 0;
        for (size_t i = 0; i < units; i++) {
                unsigned c = s[2 * i] | s[2 * i + 1] << 8;
                if (!c)
                        break;
                if (c >= 0xD800 && c < 0xE000)
                        c = '?';
                if (c < 0x80 && n + 1 < len) {
                        out[n++] = (char)c;
                } else if (c < 0x800 && n + 2 < len) {
                        out[n++] = (char)(0xC0 | c >> 6);
                        out[n++] = (char)(0x80 | (c & 0x3F));
                } else if (c >= 0x800 && n + 3 < len) {
                        out[n++] = (char)(0xE0 | c >> 12);
                        out[n++] = (char)(0x80 | (c >> 6 & 0x3F));
                        out[n++] = (char)(0x80 | (c & 0x3F));
                }
        }
        out[n] = '\0';
}

static int read_gpt(struct disk *d, char *err, size_t errlen)
{
        uint8_t h[SECTOR];
        if (disk_read(d, SECTOR, h, SECTOR) < 0 || memcmp(h, "EFI PART", 8)) {
                snprintf(err, errlen, "protective MBR but no GPT header in sector 1");
                return -1;
        }
        uint32_t hsize = le32(h + 12);
        if (hsize < 92 || hsize > SECTOR) {
                snprintf(err, errlen, "GPT header size %u is invalid", hsize);
                return -1;
        }
        uint32_t want = le32(h + 16);
        memset(h + 16, 0, 4);
        if ((uint32_t)crc32(0, h, hsize) != want) {
                snprintf(err, errlen, "GPT header CRC mismatch: the header is damaged");
                return -1;
        }
        uint64_t elba = le64(h + 72);
        uint32_t n = le32(h + 80), esize = le32(h + 84), ecrc = le32(h + 88);
        if (esize < 128 || esize > 4096 || esize % 8 || n > 1024) {
                snprintf(err, errlen, "GPT entry array (%u entries of %u bytes) is invalid", n,
                         esize);
                return -1;
        }
        static uint8_t ents[1024 * 4096];
        if (disk_read(d, elba * SECTOR, ents, (size_t)n * esize) < 0) {
                snprintf(err, errlen,
                         "GPT entry array at sector %llu is past the end of the disk: "
                         "a truncated image?",
                         (unsigned long long)elba);
                return -1;
        }
        if ((uint32_t)crc32(0, ents, (uInt)((size_t)n * esize)) != ecrc) {
                snprintf(err, errlen, "GPT entry array CRC mismatch: the table is damaged");
                return -1;
        }
        static const uint8_t zero[16];
        for (uint32_t i = 0; i < n; i++) {
                const uint8_t *e = ents + (size_t)i * esize;
                if (!memcmp(e, zero, 16))
                        continue;
                uint64_t first = le64(e + 32), last = le64(e + 40);
                if (last < first) {
                        snprintf(err, errlen, "GPT partition %u ends before it starts", i + 1);
                        return -1;
                }
                if (add_part(d, (int)i + 1, first, last - first + 1, err, errlen) < 0)
                        return -1;
                struct part *p = &d->parts[d->n_parts - 1];
                guid_str(e, p->scheme_type, sizeof(p->scheme_type));
                utf16_name(e + 56, 36, p->name, sizeof(p->name));
        }
        snprintf(d->scheme, sizeof(d->scheme), "gpt");
        return 0;
}

static bool is_extended(uint8_t t)
{
        return t == 0x05 || t == 0x0F || t == 0x85;
}

int ptable_read(struct disk *d, char *err, size_t errlen)
{
        uint8_t s[SECTOR];
        if (d->size < SECTOR) {
                snprintf(err, errlen, "is %llu bytes, smaller than one sector",
                         (unsigned long long)d->size);
                return -1;
        }
        if (disk_read(d, 0, s, SECTOR) < 0) {
                snprintf(err, errlen, "cannot read sector 0: %s", strerror(errno));
                return -1;
        }
        snprintf(d->scheme, sizeof(d->scheme), "none");
        if (s[510] != 0x55 || s[511] != 0xAA)
                return 0; /* no table: maybe one filesystem (a superfloppy) */
        /* A FAT or NTFS boot sector also ends in 55AA: it is a table only if
         * the four entries make sense (status 0 or 0x80, type set). */
        int valid = 0;
        bool bad = false;
        for (int i = 0; i < 4; i++) {
                const uint8_t *e = s + 446 + 16 * i;
                if (e[4] == 0)
                        continue;
                if (e[0] != 0 && e[0] != 0x80)
                        bad = true;
                valid++;
        }
        bool boot_sector = s[0] == 0xEB || s[0] == 0xE9;
        if (bad || !valid || (boot_sector && !memcmp(s + 3, "NTFS", 4)))
                return 0;
        if (boot_sector && (!memcmp(s + 54, "FAT", 3) || !memcmp(s + 82, "FAT32", 5)))
                return 0;
        for (int i = 0; i < 4; i++) {
                const uint8_t *e = s + 446 + 16 * i;
                if (e[4] == 0xEE)
                        return read_gpt(d, err, errlen);
        }
        snprintf(d->scheme, sizeof(d->scheme), "mbr");
        for (int i = 0; i < 4; i++) {
                const uint8_t *e = s + 446 + 16 * i;
                uint8_t type = e[4];
                uint32_t lba = le32(e + 8), count = le32(e + 12);
                if (!type)
                        continue;
                if (is_extended(type)) {
                        /* EBR chain: each EBR's first entry is a logical
                         * partition (relative to the EBR), its second the
                         * next EBR (relative to the extended partition). */
                        uint64_t ext = lba, ebr = lba;
                        int num = 5;
                        for (int guard = 0; guard < P2V_MAX_PARTS; guard++) {
                                uint8_t b[SECTOR];
                                if (disk_read(d, ebr * SECTOR, b, SECTOR) < 0 || b[510] != 0x55 ||
                                    b[511] != 0xAA) {
                                        snprintf(err, errlen,
                                                 "extended partition: no EBR at sector %llu",
                                                 (unsigned long long)ebr);
                                        return -1;
                                }
                                if (b[446 + 4]) {
                                        if (add_part(d, num, ebr + le32(b + 446 + 8),
                                                     le32(b + 446 + 12), err, errlen) < 0)
                                                return -1;
                                        snprintf(d->parts[d->n_parts - 1].scheme_type, 48, "0x%02x",
                                                 b[446 + 4]);
                                        num++;
                                }
                                if (!b[462 + 4])
                                        break;
                                ebr = ext + le32(b + 462 + 8);
                        }
                        continue;
                }
                if (add_part(d, i + 1, lba, count, err, errlen) < 0)
                        return -1;
                snprintf(d->parts[d->n_parts - 1].scheme_type, 48, "0x%02x", type);
        }
        return 0;
}
