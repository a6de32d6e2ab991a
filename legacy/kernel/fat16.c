#include "fat16.h"

#include "../../pvdrivers/legacy/blkfront.h"
#include "lib.h"

#define SECTOR           512
#define META_MAX_SECTORS 640 /* 2 x 256 FAT sectors + 128 root sectors */
#define EOC              0xFFFF
#define ATTR_DIR         0x10
#define ATTR_VOLUME      0x08
#define ATTR_LFN         0x0F

static struct {
        uint32_t spc, reserved, nfats, root_entries, total, fat_sectors;
        uint32_t fat_lba, root_lba, root_sectors, data_lba, nclusters;
        uint32_t meta_sectors;
        uint32_t dirty_lo, dirty_hi; /* dirty meta sectors [lo, hi) */
        uint32_t free_hint;
        uint16_t date, time;
        char label[12];
        bool mounted;
} fs;

static uint8_t meta[META_MAX_SECTORS * SECTOR] __attribute__((aligned(16)));
static uint8_t bounce[SECTOR] __attribute__((aligned(16)));
/* Write-through cache of one data sector: appends touch the same sector. */
static uint8_t cache[SECTOR] __attribute__((aligned(16)));
static uint32_t cache_lba = 0xFFFFFFFFu;

static uint16_t rd16(const uint8_t *p)
{
        return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
        wr16(p, (uint16_t)v);
        wr16(p + 2, (uint16_t)(v >> 16));
}

void fat_set_time(uint16_t dos_date, uint16_t dos_time)
{
        fs.date = dos_date;
        fs.time = dos_time;
}

int fat_mount(const char **why)
{
        static uint8_t bs[SECTOR];
        *why = "cannot read the boot sector";
        if (blk_read(0, bs, 1) < 0)
                return FAT_EIO;
        *why = "no boot sector signature (not a formatted disk)";
        if (bs[510] != 0x55 || bs[511] != 0xAA)
                return FAT_EBADFS;
        *why = "sector size is not 512 bytes";
        if (rd16(bs + 11) != SECTOR)
                return FAT_EBADFS;
        fs.spc = bs[13];
        fs.reserved = rd16(bs + 14);
        fs.nfats = bs[16];
        fs.root_entries = rd16(bs + 17);
        fs.total = rd16(bs + 19) ? rd16(bs + 19) : rd32(bs + 32);
        fs.fat_sectors = rd16(bs + 22);
        *why = "bad BIOS parameter block";
        if (fs.spc == 0 || (fs.spc & (fs.spc - 1)) || fs.spc > 64 || fs.reserved == 0 ||
            fs.nfats < 1 || fs.nfats > 2 || fs.root_entries == 0 || fs.root_entries % 16 ||
            fs.fat_sectors == 0 || fs.total > blk_sectors())
                return FAT_EBADFS;
        fs.fat_lba = fs.reserved;
        fs.root_lba = fs.fat_lba + fs.nfats * fs.fat_sectors;
        fs.root_sectors = fs.root_entries / 16;
        fs.data_lba = fs.root_lba + fs.root_sectors;
        *why = "volume too small";
        if (fs.data_lba >= fs.total)
                return FAT_EBADFS;
        fs.nclusters = (fs.total - fs.data_lba) / fs.spc;
        *why = "not a FAT16 volume (cluster count out of range)";
        if (fs.nclusters < 4085 || fs.nclusters > 65524)
                return FAT_EBADFS;
        *why = "FAT smaller than the cluster count needs";
        if (fs.fat_sectors * (SECTOR / 2) < fs.nclusters + 2)
                return FAT_EBADFS;
        fs.meta_sectors = fs.data_lba - fs.fat_lba;
        *why = "metadata area too large for this driver";
        if (fs.meta_sectors > META_MAX_SECTORS)
                return FAT_EBADFS;
        *why = "cannot read the FAT and root directory";
        for (uint32_t s = 0; s < fs.meta_sectors; s += 64) {
                uint32_t n = fs.meta_sectors - s < 64 ? fs.meta_sectors - s : 64;
                if (blk_read(fs.fat_lba + s, meta + s * SECTOR, n) < 0)
                        return FAT_EIO;
        }
        *why = "FAT media byte mismatch (corrupt FAT)";
        if (meta[0] != bs[21] || meta[1] != 0xFF)
                return FAT_EBADFS;
        memcpy(fs.label, bs + 43, 11);
        fs.label[11] = 0;
        fs.dirty_lo = fs.meta_sectors;
        fs.dirty_hi = 0;
        fs.free_hint = 2;
        fs.mounted = true;
        *why = "";
        return 0;
}

void fat_label(char out[12])
{
        memcpy(out, fs.label, 12);
}

uint32_t fat_cluster_bytes(void)
{
        return fs.spc * SECTOR;
}

static uint16_t fat_get(uint32_t c)
{
        return rd16(meta + c * 2);
}

static void meta_dirty(uint32_t sector)
{
        if (sector < fs.dirty_lo)
                fs.dirty_lo = sector;
        if (sector + 1 > fs.dirty_hi)
                fs.dirty_hi = sector + 1;
}

/* Sets entry c in every FAT copy of the in-memory mirror. */
static void fat_set(uint32_t c, uint16_t v)
{
        for (uint32_t i = 0; i < fs.nfats; i++) {
                uint32_t off = i * fs.fat_sectors * SECTOR + c * 2;
                wr16(meta + off, v);
                meta_dirty(off / SECTOR);
        }
}

/* Writes every dirty metadata sector as one contiguous request. */
static int meta_commit(void)
{
        if (fs.dirty_lo >= fs.dirty_hi)
                return 0;
        uint32_t lo = fs.dirty_lo, n = fs.dirty_hi - fs.dirty_lo;
        fs.dirty_lo = fs.meta_sectors;
        fs.dirty_hi = 0;
        return blk_write(fs.fat_lba + lo, meta + lo * SECTOR, n) < 0 ? FAT_EIO : 0;
}

uint32_t fat_free_clusters(void)
{
        uint32_t n = 0;
        for (uint32_t c = 2; c < fs.nclusters + 2; c++)
                if (fat_get(c) == 0)
                        n++;
        return n;
}

static bool cluster_ok(uint32_t c)
{
        return c >= 2 && c < fs.nclusters + 2;
}

static uint32_t cluster_lba(uint32_t c)
{
        return fs.data_lba + (c - 2) * fs.spc;
}

/* Directory iteration over the root (in memory) or a subdirectory chain. */
struct dir_pos {
        uint16_t cluster; /* 0 = root */
        uint32_t index;   /* entry index within the directory */
};

/* Loads the sector holding entry pos into *sec (root: pointer into meta,
 * subdir: bounce buffer) and returns its LBA, or 0 at the end. */
static uint32_t dir_sector(uint16_t dir_cluster, uint32_t index, uint8_t **sec)
{
        uint32_t per_sector = SECTOR / 32;
        if (dir_cluster == 0) {
                if (index >= fs.root_entries)
                        return 0;
                uint32_t s = fs.root_lba - fs.fat_lba + index / per_sector;
                *sec = meta + s * SECTOR;
                return fs.root_lba + index / per_sector;
        }
        uint32_t per_cluster = per_sector * fs.spc;
        uint32_t c = dir_cluster;
        for (uint32_t k = index / per_cluster; k; k--) {
                c = fat_get(c);
                if (!cluster_ok(c))
                        return 0;
        }
        uint32_t lba = cluster_lba(c) + (index % per_cluster) / per_sector;
        if (blk_read(lba, bounce, 1) < 0)
                return 0;
        *sec = bounce;
        return lba;
}

/* "FILE.EXT" -> 11-byte space-padded upper-case name; false if invalid. */
static bool to_83(const char *s, unsigned len, uint8_t out[11])
{
        memset(out, ' ', 11);
        unsigned i = 0, pos = 0, limit = 8;
        if (len == 0)
                return false;
        for (; i < len; i++) {
                char ch = s[i];
                if (ch == '.') {
                        if (pos == 11 || limit == 11)
                                return false;
                        pos = 8;
                        limit = 11;
                        continue;
                }
                if (pos >= limit)
                        return false;
                if (ch >= 'a' && ch <= 'z')
                        ch = (char)(ch - 32);
                if (ch <= ' ' || ch == '/' || ch == '\\' || ch == '*' || ch == '?')
                        return false;
                out[pos++] = (uint8_t)ch;
        }
        return true;
}

static void entry_to_file(const uint8_t *e, uint32_t lba, uint32_t off, struct fat_file *f)
{
        f->first_cluster = rd16(e + 26);
        f->size = rd32(e + 28);
        f->dir_lba = lba;
        f->dir_off = (uint16_t)off;
        f->is_dir = e[11] & ATTR_DIR;
}

/* Looks up name in a directory; on ENOENT *free_lba/off give a free slot
 * (0 if none). */
static int dir_find(uint16_t dir, const uint8_t name[11], struct fat_file *f, uint32_t *free_lba,
                    uint32_t *free_off)
{
        *free_lba = 0;
        for (uint32_t i = 0;; i++) {
                uint8_t *sec;
                uint32_t lba = dir_sector(dir, i, &sec);
                if (!lba)
                        return FAT_ENOENT;
                uint32_t off = (i % (SECTOR / 32)) * 32;
                uint8_t *e = sec + off;
                if (e[0] == 0 || e[0] == 0xE5) {
                        if (!*free_lba) {
                                *free_lba = lba;
                                *free_off = off;
                        }
                        if (e[0] == 0)
                                return FAT_ENOENT;
                        continue;
                }
                if (e[11] == ATTR_LFN || (e[11] & ATTR_VOLUME))
                        continue;
                if (memcmp(e, name, 11) == 0) {
                        entry_to_file(e, lba, off, f);
                        return 0;
                }
        }
}

/* Walks all but the last component; returns the parent directory cluster
 * and the last component as an 8.3 name. */
static int walk_parent(const char *path, uint16_t *parent, uint8_t name[11])
{
        uint16_t dir = 0;
        const char *p = path;
        for (;;) {
                const char *slash = p;
                while (*slash && *slash != '/')
                        slash++;
                if (!to_83(p, (unsigned)(slash - p), name))
                        return FAT_EINVAL;
                if (!*slash) {
                        *parent = dir;
                        return 0;
                }
                struct fat_file f;
                uint32_t fl, fo;
                int r = dir_find(dir, name, &f, &fl, &fo);
                if (r < 0)
                        return r;
                if (!f.is_dir || !cluster_ok(f.first_cluster))
                        return FAT_ENOENT;
                dir = f.first_cluster;
                p = slash + 1;
        }
}

int fat_open(const char *path, struct fat_file *f)
{
        if (!fs.mounted)
                return FAT_EBADFS;
        uint16_t dir;
        uint8_t name[11];
        int r = walk_parent(path, &dir, name);
        if (r < 0)
                return r;
        uint32_t fl, fo;
        return dir_find(dir, name, f, &fl, &fo);
}

/* Writes a directory entry: root entries go through the metadata mirror
 * (committed with the FAT), subdirectory entries are written directly. */
static int dir_entry_store(uint32_t lba, uint32_t off, const uint8_t e[32])
{
        if (lba >= fs.root_lba && lba < fs.root_lba + fs.root_sectors) {
                uint32_t s = lba - fs.fat_lba;
                memcpy(meta + s * SECTOR + off, e, 32);
                meta_dirty(s);
                return 0;
        }
        if (blk_read(lba, bounce, 1) < 0)
                return FAT_EIO;
        memcpy(bounce + off, e, 32);
        if (cache_lba == lba)
                cache_lba = 0xFFFFFFFFu;
        return blk_write(lba, bounce, 1) < 0 ? FAT_EIO : 0;
}

static int dir_entry_load(uint32_t lba, uint32_t off, uint8_t e[32])
{
        if (lba >= fs.root_lba && lba < fs.root_lba + fs.root_sectors) {
                memcpy(e, meta + (lba - fs.fat_lba) * SECTOR + off, 32);
                return 0;
        }
        if (blk_read(lba, bounce, 1) < 0)
                return FAT_EIO;
        memcpy(e, bounce + off, 32);
        return 0;
}

static int create_entry(const char *path, uint8_t attr, uint16_t cluster, struct fat_file *f)
{
        if (!fs.mounted)
                return FAT_EBADFS;
        uint16_t dir;
        uint8_t name[11];
        int r = walk_parent(path, &dir, name);
        if (r < 0)
                return r;
        uint32_t fl, fo;
        struct fat_file old;
        r = dir_find(dir, name, &old, &fl, &fo);
        if (r == 0)
                return FAT_EEXIST;
        if (!fl)
                return FAT_ENOSPC; /* directory full (directories do not grow) */
        uint8_t e[32];
        memset(e, 0, sizeof(e));
        memcpy(e, name, 11);
        e[11] = attr;
        wr16(e + 14, fs.time);
        wr16(e + 16, fs.date);
        wr16(e + 18, fs.date);
        wr16(e + 22, fs.time);
        wr16(e + 24, fs.date);
        wr16(e + 26, cluster);
        if ((r = dir_entry_store(fl, fo, e)) < 0)
                return r;
        if (f)
                entry_to_file(e, fl, fo, f);
        return 0;
}

int fat_create(const char *path, struct fat_file *f)
{
        int r = create_entry(path, 0x20, 0, f);
        if (r < 0)
                return r;
        if ((r = meta_commit()) < 0)
                return r;
        return blk_flush() < 0 ? FAT_EIO : 0;
}

static int alloc_cluster(uint32_t *out)
{
        for (uint32_t n = 0; n < fs.nclusters; n++) {
                uint32_t c = fs.free_hint;
                fs.free_hint = c + 1 >= fs.nclusters + 2 ? 2 : c + 1;
                if (fat_get(c) == 0) {
                        *out = c;
                        return 0;
                }
        }
        return FAT_ENOSPC;
}

int fat_mkdir(const char *path)
{
        uint32_t c;
        if (alloc_cluster(&c) < 0)
                return FAT_ENOSPC;
        /* A directory cluster: ".", "..", the rest zero. */
        static uint8_t sec[SECTOR];
        uint16_t parent;
        uint8_t name[11];
        int r = walk_parent(path, &parent, name);
        if (r < 0)
                return r;
        for (uint32_t s = 0; s < fs.spc; s++) {
                memset(sec, 0, sizeof(sec));
                if (s == 0) {
                        memset(sec, ' ', 11);
                        sec[0] = '.';
                        sec[11] = ATTR_DIR;
                        wr16(sec + 26, (uint16_t)c);
                        memset(sec + 32, ' ', 11);
                        sec[32] = sec[33] = '.';
                        sec[32 + 11] = ATTR_DIR;
                        wr16(sec + 32 + 26, parent);
                }
                if (blk_write(cluster_lba(c) + s, sec, 1) < 0)
                        return FAT_EIO;
        }
        fat_set(c, EOC);
        r = create_entry(path, ATTR_DIR, (uint16_t)c, 0);
        if (r < 0) {
                fat_set(c, 0);
                fs.dirty_lo = fs.meta_sectors;
                fs.dirty_hi = 0;
                return r;
        }
        if ((r = meta_commit()) < 0)
                return r;
        return blk_flush() < 0 ? FAT_EIO : 0;
}

/* The cluster holding byte off of the file, walking the chain. */
static uint32_t cluster_at(const struct fat_file *f, uint32_t off)
{
        uint32_t c = f->first_cluster;
        for (uint32_t k = off / fat_cluster_bytes(); k; k--) {
                if (!cluster_ok(c))
                        return 0;
                c = fat_get(c);
        }
        return cluster_ok(c) ? c : 0;
}

int fat_read(struct fat_file *f, uint32_t off, void *buf, uint32_t len)
{
        if (off >= f->size)
                return 0;
        if (len > f->size - off)
                len = f->size - off;
        uint8_t *out = buf;
        uint32_t done = 0, csize = fat_cluster_bytes();
        uint32_t c = cluster_at(f, off);
        while (done < len) {
                if (!c)
                        return FAT_EIO;
                uint32_t in_c = (off + done) % csize;
                uint32_t lba = cluster_lba(c) + in_c / SECTOR;
                uint32_t in_s = in_c % SECTOR;
                uint32_t n = SECTOR - in_s;
                if (n > len - done)
                        n = len - done;
                if (in_s == 0 && n == SECTOR) {
                        /* Whole sectors to the end of the cluster go in one request. */
                        uint32_t secs = (csize - in_c) / SECTOR;
                        if (secs > (len - done) / SECTOR)
                                secs = (len - done) / SECTOR;
                        if (blk_read(lba, out + done, secs) < 0)
                                return FAT_EIO;
                        n = secs * SECTOR;
                } else if (lba == cache_lba) {
                        memcpy(out + done, cache + in_s, n);
                } else {
                        if (blk_read(lba, cache, 1) < 0)
                                return FAT_EIO;
                        cache_lba = lba;
                        memcpy(out + done, cache + in_s, n);
                }
                done += n;
                if ((off + done) % csize == 0 && done < len)
                        c = fat_get(c);
        }
        return (int)done;
}

int fat_write(struct fat_file *f, uint32_t off, const void *buf, uint32_t len)
{
        if (!fs.mounted)
                return FAT_EBADFS;
        if (off > f->size || len == 0 || off + len < off)
                return FAT_EINVAL;
        uint32_t csize = fat_cluster_bytes();
        uint32_t end = off + len;
        uint32_t have = 0, last = 0;
        for (uint32_t c = f->first_cluster; cluster_ok(c) && have < fs.nclusters; c = fat_get(c)) {
                have++;
                last = c;
        }
        uint32_t need = (end + csize - 1) / csize;
        /* Reserve every new cluster before writing anything, so that a full
         * disk changes nothing. */
        static uint32_t fresh[64];
        uint32_t nfresh = need > have ? need - have : 0;
        if (nfresh > 64)
                return FAT_EINVAL;
        for (uint32_t i = 0; i < nfresh; i++) {
                if (alloc_cluster(&fresh[i]) < 0) {
                        for (uint32_t k = 0; k < i; k++)
                                wr16(meta + fresh[k] * 2, 0);
                        return FAT_ENOSPC;
                }
                wr16(meta + fresh[i] * 2, EOC); /* claim in FAT1 mirror only */
        }
        uint8_t e[32];
        int r = dir_entry_load(f->dir_lba, f->dir_off, e);
        if (r < 0)
                return r;
        /* Link the chain (data is written before the metadata is committed). */
        for (uint32_t i = 0; i < nfresh; i++) {
                uint32_t prev = i ? fresh[i - 1] : last;
                if (prev)
                        fat_set(prev, (uint16_t)fresh[i]);
                else
                        f->first_cluster = (uint16_t)fresh[i];
                fat_set(fresh[i], EOC);
        }
        /* 1. data */
        const uint8_t *in = buf;
        uint32_t done = 0;
        uint32_t c = cluster_at(f, off);
        while (done < len) {
                if (!c)
                        return FAT_EIO;
                uint32_t in_c = (off + done) % csize;
                uint32_t lba = cluster_lba(c) + in_c / SECTOR;
                uint32_t in_s = in_c % SECTOR;
                uint32_t n = SECTOR - in_s;
                if (n > len - done)
                        n = len - done;
                if (n < SECTOR && lba != cache_lba) {
                        /* Bytes past the old end are fresh: no need to read them. */
                        uint32_t sec_start = off + done - in_s;
                        if (sec_start < f->size) {
                                if (blk_read(lba, cache, 1) < 0)
                                        return FAT_EIO;
                        } else {
                                memset(cache, 0, SECTOR);
                        }
                }
                if (n == SECTOR) {
                        if (blk_write(lba, in + done, 1) < 0)
                                return FAT_EIO;
                        if (lba == cache_lba)
                                memcpy(cache, in + done, SECTOR);
                } else {
                        cache_lba = lba;
                        memcpy(cache + in_s, in + done, n);
                        if (blk_write(lba, cache, 1) < 0) {
                                cache_lba = 0xFFFFFFFFu;
                                return FAT_EIO;
                        }
                }
                done += n;
                if ((off + done) % csize == 0 && done < len)
                        c = fat_get(c);
        }
        /* 2. metadata: FAT chain and directory entry */
        if (end > f->size)
                f->size = end;
        wr16(e + 26, f->first_cluster);
        wr32(e + 28, f->size);
        wr16(e + 22, fs.time);
        wr16(e + 24, fs.date);
        wr16(e + 18, fs.date);
        bool in_root = f->dir_lba >= fs.root_lba && f->dir_lba < fs.root_lba + fs.root_sectors;
        if (!in_root && (r = meta_commit()) < 0) /* FAT before a subdirectory entry */
                return r;
        if ((r = dir_entry_store(f->dir_lba, f->dir_off, e)) < 0)
                return r;
        if ((r = meta_commit()) < 0)
                return r;
        /* 3. flush */
        return blk_flush() < 0 ? FAT_EIO : 0;
}
