#include "fat16.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint16_t rd16(const uint8_t *p)
{
        return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
        return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static bool is_pow2(uint32_t v)
{
        return v && !(v & (v - 1));
}

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
        size_t done = 0;
        while (done < len) {
                ssize_t n = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
                if (n <= 0)
                        return -1;
                done += (size_t)n;
        }
        return 0;
}

int fat16_open(struct fat16 *fs, int fd, char *err, size_t errlen)
{
        memset(fs, 0, sizeof(*fs));
        fs->fd = fd;
        uint8_t bs[512];
        struct stat st;
        if (fstat(fd, &st) < 0 || read_at(fd, bs, sizeof(bs), 0) < 0) {
                snprintf(err, errlen, "image too small for a boot sector");
                return -1;
        }
        if (bs[510] != 0x55 || bs[511] != 0xAA) {
                snprintf(err, errlen, "no boot sector signature (55 AA) at offset 510");
                return -1;
        }
        fs->bytes_per_sector = rd16(bs + 11);
        fs->sectors_per_cluster = bs[13];
        uint32_t reserved = rd16(bs + 14), nfats = bs[16];
        fs->root_entries = rd16(bs + 17);
        uint32_t total = rd16(bs + 19) ? rd16(bs + 19) : rd32(bs + 32);
        fs->fat_sectors = rd16(bs + 22);
        if (fs->bytes_per_sector < 512 || fs->bytes_per_sector > 4096 ||
            !is_pow2(fs->bytes_per_sector) || !is_pow2(fs->sectors_per_cluster) ||
            fs->sectors_per_cluster > 128 || reserved < 1 || nfats < 1 || nfats > 2 ||
            fs->fat_sectors == 0 || fs->root_entries == 0 || total == 0) {
                snprintf(err, errlen, "boot sector: not a FAT16 BIOS parameter block");
                return -1;
        }
        uint32_t bps = fs->bytes_per_sector;
        fs->cluster_bytes = bps * fs->sectors_per_cluster;
        fs->fat_lba = reserved;
        fs->root_lba = reserved + nfats * fs->fat_sectors;
        uint32_t root_sectors = (fs->root_entries * 32 + bps - 1) / bps;
        fs->data_lba = fs->root_lba + root_sectors;
        if (fs->data_lba >= total) {
                snprintf(err, errlen, "boot sector: metadata larger than the volume");
                return -1;
        }
        fs->clusters = (total - fs->data_lba) / fs->sectors_per_cluster;
        if (fs->clusters < 4085 || fs->clusters > 65524) {
                snprintf(err, errlen, "boot sector: %u clusters is not FAT16", fs->clusters);
                return -1;
        }
        if ((uint64_t)total * bps > (uint64_t)st.st_size) {
                snprintf(err, errlen, "image is %lld bytes but its volume needs %llu",
                         (long long)st.st_size, (unsigned long long)total * bps);
                return -1;
        }
        if ((uint64_t)fs->fat_sectors * bps < ((uint64_t)fs->clusters + 2) * 2) {
                snprintf(err, errlen, "boot sector: FAT too small for %u clusters", fs->clusters);
                return -1;
        }
        memcpy(fs->label, bs + 43, 11);
        for (int i = 10; i >= 0 && fs->label[i] == ' '; i--)
                fs->label[i] = 0;
        fs->fat = malloc(((size_t)fs->clusters + 2) * 2);
        uint8_t *raw = malloc(((size_t)fs->clusters + 2) * 2);
        if (!fs->fat || !raw ||
            read_at(fd, raw, ((size_t)fs->clusters + 2) * 2, (uint64_t)fs->fat_lba * bps) < 0) {
                free(raw);
                fat16_close(fs);
                snprintf(err, errlen, "cannot read the FAT");
                return -1;
        }
        for (uint32_t i = 0; i < fs->clusters + 2; i++)
                fs->fat[i] = rd16(raw + 2 * i);
        /* The terminal writes both FATs in one request; copies that differ
         * mean a write from elsewhere went wrong. FAT 1 is used, the
         * difference is reported. */
        if (nfats == 2 && read_at(fd, raw, ((size_t)fs->clusters + 2) * 2,
                                  (uint64_t)(fs->fat_lba + fs->fat_sectors) * bps) == 0)
                for (uint32_t i = 2; i < fs->clusters + 2; i++)
                        fs->fat_mismatches += fs->fat[i] != rd16(raw + 2 * i);
        free(raw);
        return 0;
}

void fat16_close(struct fat16 *fs)
{
        free(fs->fat);
        fs->fat = NULL;
}

int fat16_list_root(struct fat16 *fs, struct fat16_file **out, unsigned *nsub, char *err,
                    size_t errlen)
{
        size_t len = (size_t)fs->root_entries * 32;
        uint8_t *root = malloc(len);
        uint64_t base = (uint64_t)fs->root_lba * fs->bytes_per_sector;
        if (!root || read_at(fs->fd, root, len, base) < 0) {
                free(root);
                snprintf(err, errlen, "cannot read the root directory");
                return -1;
        }
        struct fat16_file *files = calloc(fs->root_entries, sizeof(*files));
        int n = 0;
        *nsub = 0;
        for (uint32_t i = 0; files && i < fs->root_entries; i++) {
                const uint8_t *e = root + 32 * i;
                if (e[0] == 0x00)
                        break; /* end of directory */
                uint8_t attr = e[11];
                if (e[0] == 0xE5 || (attr & 0x0F) == 0x0F || (attr & 0x08))
                        continue; /* deleted, long-name slot, volume label */
                if (attr & 0x10) {
                        (*nsub)++;
                        continue;
                }
                struct fat16_file *f = &files[n++];
                size_t k = 0;
                for (int j = 0; j < 8 && e[j] != ' '; j++)
                        f->name[k++] = (char)(j == 0 && e[0] == 0x05 ? 0xE5 : e[j]);
                if (e[8] != ' ') {
                        f->name[k++] = '.';
                        for (int j = 8; j < 11 && e[j] != ' '; j++)
                                f->name[k++] = (char)e[j];
                }
                f->first_cluster = rd16(e + 26);
                f->size = rd32(e + 28);
                f->dirent_offset = (uint32_t)(base + 32 * i);
        }
        free(root);
        if (!files) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        *out = files;
        return n;
}

int fat16_read(struct fat16 *fs, const struct fat16_file *f, uint8_t **data, char *err,
               size_t errlen)
{
        uint8_t *buf = malloc(f->size ? f->size : 1);
        if (!buf) {
                snprintf(err, errlen, "%s: out of memory for %u bytes", f->name, f->size);
                return -1;
        }
        uint32_t done = 0, cl = f->first_cluster, hops = 0;
        if (f->size && cl == 0) {
                snprintf(err, errlen, "%s: %u bytes but no first cluster", f->name, f->size);
                goto fail;
        }
        while (done < f->size) {
                if (cl < 2 || cl >= fs->clusters + 2) {
                        snprintf(err, errlen,
                                 "%s: cluster chain broken at byte %u (link to %#x: %s)", f->name,
                                 done, cl,
                                 cl >= 0xFFF8   ? "end of chain before the file size"
                                 : cl == 0xFFF7 ? "bad cluster"
                                 : cl == 0      ? "free cluster"
                                                : "out of range");
                        goto fail;
                }
                if (++hops > fs->clusters) {
                        snprintf(err, errlen, "%s: cluster chain loops", f->name);
                        goto fail;
                }
                uint32_t n =
                    f->size - done < fs->cluster_bytes ? f->size - done : fs->cluster_bytes;
                uint64_t off =
                    ((uint64_t)fs->data_lba + (uint64_t)(cl - 2) * fs->sectors_per_cluster) *
                    fs->bytes_per_sector;
                if (read_at(fs->fd, buf + done, n, off) < 0) {
                        snprintf(err, errlen, "%s: read error in cluster %u", f->name, cl);
                        goto fail;
                }
                done += n;
                cl = fs->fat[cl];
        }
        *data = buf;
        return 0;
fail:
        free(buf);
        return -1;
}
