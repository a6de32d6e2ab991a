/* Filesystems by signature, with the allocation maps of FAT and ext2/3/4
 * (so only what is in use is copied) and a guess at the installed OS. */
#include "p2v.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint16_t le16(const uint8_t *p)
{
        return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int range_add(struct ranges *rs, uint64_t off, uint64_t len)
{
        if (!len)
                return 0;
        if (rs->n && rs->r[rs->n - 1].off + rs->r[rs->n - 1].len == off) {
                rs->r[rs->n - 1].len += len;
                return 0;
        }
        if (rs->n == rs->cap) {
                size_t cap = rs->cap ? rs->cap * 2 : 64;
                struct range *n = realloc(rs->r, cap * sizeof(*n));
                if (!n)
                        return -1;
                rs->r = n;
                rs->cap = cap;
        }
        rs->r[rs->n++] = (struct range){off, len};
        return 0;
}

static int cmp_range(const void *a, const void *b)
{
        const struct range *x = a, *y = b;
        return x->off < y->off ? -1 : x->off > y->off;
}

void ranges_sort_merge(struct ranges *rs)
{
        if (!rs->n)
                return;
        qsort(rs->r, rs->n, sizeof(*rs->r), cmp_range);
        size_t w = 0;
        for (size_t i = 1; i < rs->n; i++) {
                struct range *last = &rs->r[w];
                if (rs->r[i].off <= last->off + last->len) {
                        uint64_t end = rs->r[i].off + rs->r[i].len;
                        if (end > last->off + last->len)
                                last->len = end - last->off;
                } else {
                        rs->r[++w] = rs->r[i];
                }
        }
        rs->n = w + 1;
}

uint64_t ranges_total(const struct ranges *rs)
{
        uint64_t t = 0;
        for (size_t i = 0; i < rs->n; i++)
                t += rs->r[i].len;
        return t;
}

void ranges_free(struct ranges *rs)
{
        free(rs->r);
        memset(rs, 0, sizeof(*rs));
}

static void copy_label(char *out, size_t len, const uint8_t *s, size_t n)
{
        size_t k = 0;
        for (size_t i = 0; i < n && s[i] && k + 1 < len; i++)
                out[k++] = isprint(s[i]) ? (char)s[i] : '?';
        while (k && out[k - 1] == ' ')
                k--;
        out[k] = '\0';
}

/* ---- FAT ---- */

static const struct {
        const char *name83, *os;
} fat_markers[] = {
    {"OS2KRNL    ", "OS/2 (OS2KRNL)"},
    {"OS2LDR     ", "OS/2 (OS2LDR)"},
    {"IBMBIO  COM", "PC DOS"},
    {"NTLDR      ", "Windows NT/2000/XP (NTLDR)"},
    {"BOOTMGR    ", "Windows Vista or later (BOOTMGR)"},
    {"IO      SYS", "MS-DOS or Windows 9x (IO.SYS)"},
    {"TICKETS DAT", "Tandem legacy terminal data disk (TICKETS.DAT)"},
    {"EFI        ", "EFI system partition"},
};

static int fat_detect(const struct disk *d, uint64_t start, uint64_t size, const uint8_t *bs,
                      struct fsinfo *fs, char *err, size_t errlen)
{
        uint32_t bps = le16(bs + 11), spc = bs[13], rsvd = le16(bs + 14), nfats = bs[16];
        uint32_t root_ents = le16(bs + 17), tot = le16(bs + 19), fatsz = le16(bs + 22);
        if (!tot)
                tot = le32(bs + 32);
        if (!fatsz)
                fatsz = le32(bs + 36);
        if (bps < 512 || bps > 4096 || (bps & (bps - 1)) || !spc || (spc & (spc - 1)) || !rsvd ||
            !nfats || nfats > 2 || !fatsz || !tot)
                return 0; /* not a FAT boot sector */
        uint64_t root_bytes = ((uint64_t)root_ents * 32 + bps - 1) / bps * bps;
        uint64_t data_off = (uint64_t)(rsvd + (uint64_t)nfats * fatsz) * bps + root_bytes;
        uint64_t fs_bytes = (uint64_t)tot * bps;
        if (data_off >= fs_bytes) {
                snprintf(err, errlen,
                         "FAT boot sector at byte %llu is inconsistent (data starts past "
                         "the end)",
                         (unsigned long long)start);
                return -1;
        }
        uint64_t clusters = (fs_bytes - data_off) / ((uint64_t)bps * spc);
        int bits = clusters < 4085 ? 12 : clusters < 65525 ? 16 : 32;
        snprintf(fs->type, sizeof(fs->type), "fat%d", bits);
        fs->size = fs_bytes;
        if (fs_bytes > size) {
                snprintf(err, errlen,
                         "%s filesystem at byte %llu spans %llu bytes but its partition or disk "
                         "has %llu: a truncated image?",
                         fs->type, (unsigned long long)start, (unsigned long long)fs_bytes,
                         (unsigned long long)size);
                return -1;
        }
        copy_label(fs->label, sizeof(fs->label), bs + (bits == 32 ? 71 : 43), 11);
        /* Used: everything up to the data area, and each cluster whose FAT
         * entry is not 0 (allocated, end of chain or bad). */
        uint64_t fat_bytes = (uint64_t)fatsz * bps;
        uint8_t *fat = malloc(fat_bytes);
        if (!fat || disk_read(d, start + (uint64_t)rsvd * bps, fat, fat_bytes) < 0) {
                free(fat);
                snprintf(err, errlen, "cannot read the FAT of the %s filesystem at byte %llu",
                         fs->type, (unsigned long long)start);
                return -1;
        }
        if (range_add(&fs->used, 0, data_off) < 0)
                goto oom;
        uint64_t cbytes = (uint64_t)bps * spc;
        for (uint64_t c = 2; c < clusters + 2; c++) {
                uint32_t v;
                if (bits == 12) {
                        uint64_t o = c + c / 2;
                        if (o + 1 >= fat_bytes)
                                break;
                        v = le16(fat + o);
                        v = c & 1 ? v >> 4 : v & 0xFFF;
                } else if (bits == 16) {
                        if (c * 2 + 1 >= fat_bytes)
                                break;
                        v = le16(fat + c * 2);
                } else {
                        if (c * 4 + 3 >= fat_bytes)
                                break;
                        v = le32(fat + c * 4) & 0x0FFFFFFF;
                }
                if (v && range_add(&fs->used, data_off + (c - 2) * cbytes, cbytes) < 0)
                        goto oom;
        }
        /* OS markers in the root directory (FAT32: its first cluster). */
        uint64_t root_off =
            bits == 32 ? data_off + (uint64_t)(le32(bs + 44) - 2) * cbytes : data_off - root_bytes;
        uint64_t root_len = bits == 32 ? cbytes : root_bytes;
        uint8_t *root = root_len <= (1u << 20) ? malloc(root_len) : NULL;
        if (root && root_off + root_len <= fs_bytes &&
            disk_read(d, start + root_off, root, root_len) == 0) {
                for (uint64_t o = 0; o + 32 <= root_len && root[o]; o += 32) {
                        if (root[o] == 0xE5 || (root[o + 11] & 0x0F) == 0x0F)
                                continue;
                        for (size_t k = 0; k < sizeof(fat_markers) / sizeof(fat_markers[0]); k++)
                                if (!memcmp(root + o, fat_markers[k].name83, 11) && !fs->os[0])
                                        snprintf(fs->os, sizeof(fs->os), "%s", fat_markers[k].os);
                }
        }
        free(root);
        free(fat);
        fs->mapped = true;
        return 1;
oom:
        free(fat);
        snprintf(err, errlen, "out of memory");
        return -1;
}

/* ---- ext2/3/4 ---- */

static bool power_of(uint64_t g, uint64_t b)
{
        while (g > 1 && g % b == 0)
                g /= b;
        return g == 1;
}

/* sparse_super: backups only in groups 0, 1 and powers of 3, 5 and 7. */
static bool group_has_backup(uint64_t g, uint32_t ro_compat)
{
        if (!(ro_compat & 0x1) || g <= 1)
                return true;
        return power_of(g, 3) || power_of(g, 5) || power_of(g, 7);
}

static int ext_detect(const struct disk *d, uint64_t start, uint64_t size, const uint8_t *sb,
                      struct fsinfo *fs, char *err, size_t errlen)
{
        uint32_t blocks = le32(sb + 4), first = le32(sb + 20), log = le32(sb + 24);
        uint32_t per_group = le32(sb + 32), compat = le32(sb + 92), incompat = le32(sb + 96);
        uint32_t ro_compat = le32(sb + 100);
        if (log > 6 || !per_group || !blocks) {
                snprintf(err, errlen, "ext superblock at byte %llu is inconsistent",
                         (unsigned long long)start + 1024);
                return -1;
        }
        uint64_t bs = 1024ull << log;
        bool is64 = incompat & 0x80;
        uint64_t total = blocks | (is64 ? (uint64_t)le32(sb + 0x150) << 32 : 0);
        fs->size = total * bs;
        if (incompat & 0x2C0 || ro_compat & 0x8) /* extents, 64bit, flex_bg; huge_file */
                snprintf(fs->type, sizeof(fs->type), "ext4");
        else if (compat & 0x4) /* has_journal */
                snprintf(fs->type, sizeof(fs->type), "ext3");
        else
                snprintf(fs->type, sizeof(fs->type), "ext2");
        if (fs->size > size) {
                snprintf(err, errlen,
                         "%s filesystem at byte %llu spans %llu bytes but its partition or disk "
                         "has %llu: a truncated image?",
                         fs->type, (unsigned long long)start, (unsigned long long)fs->size,
                         (unsigned long long)size);
                return -1;
        }
        copy_label(fs->label, sizeof(fs->label), sb + 120, 16);
        char mnt[65];
        copy_label(mnt, sizeof(mnt), sb + 136, 64);
        snprintf(fs->os, sizeof(fs->os), "Linux%s%s", mnt[0] ? " (last mounted on " : "",
                 mnt[0] ? mnt : "");
        if (mnt[0])
                strncat(fs->os, ")", sizeof(fs->os) - strlen(fs->os) - 1);
        /* Used blocks from each group's block bitmap; a group whose bitmap
         * was never initialised (BLOCK_UNINIT) is copied whole. */
        uint32_t desc_size = is64 ? le16(sb + 0xFE) : 32;
        if (desc_size < 32 || desc_size > 1024)
                desc_size = 32;
        uint64_t groups = (total - first + per_group - 1) / per_group;
        uint64_t gdt_off = (uint64_t)(first + 1) * bs;
        uint8_t *gdt = groups <= (1u << 20) ? malloc(groups * desc_size) : NULL;
        uint8_t *bitmap = malloc(bs);
        if (!gdt || !bitmap || disk_read(d, start + gdt_off, gdt, groups * desc_size) < 0) {
                free(gdt);
                free(bitmap);
                snprintf(err, errlen, "cannot read the %s group descriptors at byte %llu", fs->type,
                         (unsigned long long)(start + gdt_off));
                return -1;
        }
        uint64_t gdt_blocks = (groups * desc_size + bs - 1) / bs, rsv_gdt = le16(sb + 0xCE);
        uint64_t itable_blocks =
            ((uint64_t)le32(sb + 40) * (le16(sb + 88) ? le16(sb + 88) : 128) + bs - 1) / bs;
        range_add(&fs->used, 0, (uint64_t)(first + 1) * bs);
        for (uint64_t g = 0; g < groups; g++) {
                const uint8_t *gd = gdt + g * desc_size;
                uint64_t bm =
                    le32(gd) | (is64 && desc_size >= 64 ? (uint64_t)le32(gd + 0x20) << 32 : 0);
                uint16_t flags = le16(gd + 0x12);
                uint64_t g0 = first + g * per_group;
                uint64_t gn = g0 + per_group > total ? total - g0 : per_group;
                /* The group's own metadata, wherever flex_bg put it. */
                uint64_t ib =
                    le32(gd + 4) | (is64 && desc_size >= 64 ? (uint64_t)le32(gd + 0x24) << 32 : 0);
                uint64_t it =
                    le32(gd + 8) | (is64 && desc_size >= 64 ? (uint64_t)le32(gd + 0x28) << 32 : 0);
                if (bm >= total || ib >= total || it + itable_blocks > total) {
                        snprintf(err, errlen, "%s group %llu's descriptor points past the end",
                                 fs->type, (unsigned long long)g);
                        free(gdt);
                        free(bitmap);
                        return -1;
                }
                range_add(&fs->used, bm * bs, bs);
                range_add(&fs->used, ib * bs, bs);
                range_add(&fs->used, it * bs, itable_blocks * bs);
                if (flags & 0x2) {
                        /* BLOCK_UNINIT: nothing but the backup superblock and
                         * descriptors (if this group has them) is in use. */
                        if (group_has_backup(g, ro_compat))
                                range_add(&fs->used, g0 * bs, (1 + gdt_blocks + rsv_gdt) * bs);
                        continue;
                }
                if (disk_read(d, start + bm * bs, bitmap, bs) < 0) {
                        range_add(&fs->used, g0 * bs, gn * bs);
                        continue;
                }
                for (uint64_t b = 0; b < gn && b / 8 < bs; b++)
                        if (bitmap[b / 8] & (1u << (b % 8)))
                                range_add(&fs->used, (g0 + b) * bs, bs);
        }
        free(gdt);
        free(bitmap);
        fs->mapped = true;
        return 1;
}

int fs_detect(const struct disk *d, uint64_t start, uint64_t size, struct fsinfo *fs, char *err,
              size_t errlen)
{
        uint8_t bs[512], sb[1024], hp[512], sw[10];
        memset(fs, 0, sizeof(*fs));
        if (size < 512 || disk_read(d, start, bs, sizeof(bs)) < 0) {
                snprintf(fs->note, sizeof(fs->note), "unreadable; copied in full");
                return 0;
        }
        if (size >= 2048 && disk_read(d, start + 1024, sb, sizeof(sb)) == 0 &&
            le16(sb + 56) == 0xEF53)
                return ext_detect(d, start, size, sb, fs, err, errlen) < 0 ? -1 : 0;
        if (!memcmp(bs + 3, "NTFS    ", 8)) {
                snprintf(fs->type, sizeof(fs->type), "ntfs");
                snprintf(fs->os, sizeof(fs->os), "Windows NT family");
                snprintf(fs->note, sizeof(fs->note),
                         "no NTFS allocation map reader: copied in full");
                return 0;
        }
        if (size >= 8192 + 512 && disk_read(d, start + 8192, hp, sizeof(hp)) == 0 &&
            le32(hp) == 0xF995E849 && le32(hp + 4) == 0xFA53E9C5) {
                snprintf(fs->type, sizeof(fs->type), "hpfs");
                snprintf(fs->os, sizeof(fs->os), "OS/2 (HPFS)");
                snprintf(fs->note, sizeof(fs->note),
                         "no HPFS allocation map reader: copied in full");
                return 0;
        }
        if (size >= 4096 && disk_read(d, start + 4086, sw, sizeof(sw)) == 0 &&
            (!memcmp(sw, "SWAPSPACE2", 10) || !memcmp(sw, "SWAP-SPACE", 10))) {
                snprintf(fs->type, sizeof(fs->type), "swap");
                snprintf(fs->note, sizeof(fs->note),
                         "Linux swap: only its header is copied (the contents are not data)");
                fs->skip = true;
                range_add(&fs->used, 0, 4096);
                fs->mapped = true;
                return 0;
        }
        if (bs[510] == 0x55 && bs[511] == 0xAA && (bs[0] == 0xEB || bs[0] == 0xE9)) {
                int r = fat_detect(d, start, size, bs, fs, err, errlen);
                if (r != 0)
                        return r < 0 ? -1 : 0;
        }
        snprintf(fs->note, sizeof(fs->note), "no known filesystem signature: copied in full");
        return 0;
}
