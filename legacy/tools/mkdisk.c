/* legacy-mkdisk: creates a blank FAT16 data disk for the legacy betting
 * terminal, holding the initial race card and operators (fixed-width CP850
 * records, docs/legacy-records.md) and an empty ticket file.
 *
 *   legacy-mkdisk [--force] [--size-mb N] OUT.img
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SECTOR       512
#define SPC          4 /* 2 KiB clusters */
#define ROOT_ENTRIES 512
#define RESERVED     1
#define NFATS        2

struct runner_def {
        unsigned race;
        const char *track, *post;
        unsigned number;
        const char *name;
};

/* UTF-8 source text; converted to CP850 on the disk. */
static const struct runner_def racecard[] = {
    {1, "Örebro", "14:05", 1, "Åskväder"},   {1, "Örebro", "14:05", 2, "Bellman"},
    {1, "Örebro", "14:05", 3, "Mästerkatt"}, {1, "Örebro", "14:05", 4, "Silverpil"},
    {2, "Åby", "14:40", 1, "Östanvind"},     {2, "Åby", "14:40", 2, "Kronprins"},
    {2, "Åby", "14:40", 3, "Älvdansen"},     {2, "Åby", "14:40", 4, "Guldfaxe"},
    {2, "Åby", "14:40", 5, "Tornado"},       {3, "Solvalla", "15:15", 1, "Björnbär"},
    {3, "Solvalla", "15:15", 2, "Caramel"},  {3, "Solvalla", "15:15", 3, "Snöstorm"},
};

static const struct {
        unsigned id, pin;
        const char *name;
} operators[] = {
    {1001, 1234, "Åsa Öberg"},
    {1002, 4321, "Lars Ängström"},
};

/* The few non-ASCII letters of Swedish/Norwegian/Danish/German/French names. */
static const struct {
        uint32_t cp;
        uint8_t b;
} cp850_map[] = {
    {0xC7, 0x80}, {0xFC, 0x81}, {0xE9, 0x82}, {0xE2, 0x83}, {0xE4, 0x84}, {0xE0, 0x85},
    {0xE5, 0x86}, {0xE7, 0x87}, {0xEA, 0x88}, {0xEB, 0x89}, {0xE8, 0x8A}, {0xC4, 0x8E},
    {0xC5, 0x8F}, {0xC9, 0x90}, {0xE6, 0x91}, {0xC6, 0x92}, {0xF6, 0x94}, {0xD6, 0x99},
    {0xDC, 0x9A}, {0xF8, 0x9B}, {0xD8, 0x9D}, {0xDF, 0xE1},
};

/* UTF-8 -> CP850, padded with spaces to width w (no NUL). */
static void to_cp850(const char *s, char *out, size_t w)
{
        size_t n = 0;
        const unsigned char *p = (const unsigned char *)s;
        while (*p && n < w) {
                uint32_t cp = *p++;
                if (cp >= 0xC0 && (*p & 0xC0) == 0x80)
                        cp = (cp & 0x1F) << 6 | (*p++ & 0x3F);
                uint8_t b = '?';
                if (cp < 0x80)
                        b = (uint8_t)cp;
                for (size_t i = 0; i < sizeof(cp850_map) / sizeof(cp850_map[0]); i++)
                        if (cp850_map[i].cp == cp)
                                b = cp850_map[i].b;
                out[n++] = (char)b;
        }
        while (n < w)
                out[n++] = ' ';
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

struct layout {
        uint32_t total, fat_sectors, root_lba, data_lba, clusters;
};

static int plan(uint32_t total, struct layout *l)
{
        uint32_t root_sectors = ROOT_ENTRIES * 32 / SECTOR;
        uint32_t fat = 1;
        for (;;) {
                uint32_t data = total - RESERVED - NFATS * fat - root_sectors;
                uint32_t clusters = data / SPC;
                uint32_t need = ((clusters + 2) * 2 + SECTOR - 1) / SECTOR;
                if (need <= fat) {
                        l->total = total;
                        l->fat_sectors = fat;
                        l->root_lba = RESERVED + NFATS * fat;
                        l->data_lba = l->root_lba + root_sectors;
                        l->clusters = clusters;
                        return clusters >= 4085 && clusters <= 65524 ? 0 : -1;
                }
                fat = need;
        }
}

static void dos_time(uint16_t *date, uint16_t *tim)
{
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        *date = (uint16_t)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
        *tim = (uint16_t)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
}

static void dirent(uint8_t *e, const char name[11], uint8_t attr, uint16_t cluster, uint32_t size)
{
        uint16_t date, tim;
        dos_time(&date, &tim);
        memset(e, 0, 32);
        memcpy(e, name, 11);
        e[11] = attr;
        wr16(e + 14, tim);
        wr16(e + 16, date);
        wr16(e + 18, date);
        wr16(e + 22, tim);
        wr16(e + 24, date);
        wr16(e + 26, cluster);
        wr32(e + 28, size);
}

static void usage(FILE *f)
{
        fprintf(f, "usage: legacy-mkdisk [--force] [--size-mb N] OUT.img\n"
                   "Creates a FAT16 data disk for the legacy betting terminal (N: 9..127, "
                   "default 16).\n");
}

int main(int argc, char **argv)
{
        bool force = false;
        unsigned long size_mb = 16;
        static const struct option opts[] = {{"force", no_argument, 0, 'f'},
                                             {"size-mb", required_argument, 0, 's'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
        int c;
        while ((c = getopt_long(argc, argv, "fs:h", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        force = true;
                        break;
                case 's': {
                        char *end;
                        size_mb = strtoul(optarg, &end, 10);
                        if (*end || size_mb < 9 || size_mb > 127) {
                                fprintf(stderr, "legacy-mkdisk: --size-mb %s: not 9..127\n",
                                        optarg);
                                return 2;
                        }
                        break;
                }
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind != argc - 1) {
                usage(stderr);
                return 2;
        }
        const char *out = argv[optind];
        struct layout l;
        if (plan((uint32_t)(size_mb << 20) / SECTOR, &l) < 0) {
                fprintf(stderr, "legacy-mkdisk: %lu MiB gives no valid FAT16 layout\n", size_mb);
                return 2;
        }
        size_t bytes = (size_t)l.total * SECTOR;
        uint8_t *img = calloc(1, bytes);
        if (!img) {
                fprintf(stderr, "legacy-mkdisk: out of memory\n");
                return 1;
        }
        /* boot sector and BPB */
        uint8_t *bs = img;
        bs[0] = 0xEB;
        bs[1] = 0x3C;
        bs[2] = 0x90;
        memcpy(bs + 3, "TANDEM  ", 8);
        wr16(bs + 11, SECTOR);
        bs[13] = SPC;
        wr16(bs + 14, RESERVED);
        bs[16] = NFATS;
        wr16(bs + 17, ROOT_ENTRIES);
        wr16(bs + 19, l.total < 65536 ? (uint16_t)l.total : 0);
        bs[21] = 0xF8;
        wr16(bs + 22, (uint16_t)l.fat_sectors);
        wr16(bs + 24, 32);
        wr16(bs + 26, 2);
        wr32(bs + 28, 0);
        wr32(bs + 32, l.total < 65536 ? 0 : l.total);
        bs[36] = 0x80;
        bs[38] = 0x29;
        wr32(bs + 39, (uint32_t)time(NULL));
        memcpy(bs + 43, "TANDEMDATA ", 11);
        memcpy(bs + 54, "FAT16   ", 8);
        bs[62] = 0xF4; /* hlt: this disk is not bootable */
        bs[510] = 0x55;
        bs[511] = 0xAA;

        /* file contents */
        char rc[sizeof(racecard) / sizeof(racecard[0]) * 47];
        for (size_t i = 0; i < sizeof(racecard) / sizeof(racecard[0]); i++) {
                char *p = rc + i * 47;
                char head[4];
                snprintf(head, sizeof(head), "%02u ", racecard[i].race);
                memcpy(p, head, 3);
                to_cp850(racecard[i].track, p + 3, 12);
                p[15] = ' ';
                memcpy(p + 16, racecard[i].post, 5);
                char num[5];
                snprintf(num, sizeof(num), " %02u ", racecard[i].number);
                memcpy(p + 21, num, 4);
                to_cp850(racecard[i].name, p + 25, 20);
                p[45] = '\r';
                p[46] = '\n';
        }
        char op[sizeof(operators) / sizeof(operators[0]) * 32];
        for (size_t i = 0; i < sizeof(operators) / sizeof(operators[0]); i++) {
                char *p = op + i * 32;
                char head[11];
                snprintf(head, sizeof(head), "%04u %04u ", operators[i].id, operators[i].pin);
                memcpy(p, head, 10);
                to_cp850(operators[i].name, p + 10, 20);
                p[30] = '\r';
                p[31] = '\n';
        }

        /* FATs, root directory, data */
        uint8_t *fat = img + RESERVED * SECTOR;
        wr16(fat, 0xFFF8);
        wr16(fat + 2, 0xFFFF);
        uint8_t *root = img + (size_t)l.root_lba * SECTOR;
        uint16_t next = 2;
        const struct {
                const char *name83;
                const char *data;
                size_t len;
        } files[] = {
            {"RACECARDDAT", rc, sizeof(rc)},
            {"OPERATORDAT", op, sizeof(op)},
            {"TICKETS DAT", NULL, 0},
        };
        dirent(root, "TANDEMDATA ", 0x08, 0, 0);
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                uint32_t csize = SPC * SECTOR;
                uint32_t n = (uint32_t)((files[i].len + csize - 1) / csize);
                uint16_t first = n ? next : 0;
                for (uint32_t k = 0; k < n; k++, next++) {
                        wr16(fat + next * 2, k + 1 == n ? 0xFFFF : (uint16_t)(next + 1));
                        memcpy(img + ((size_t)l.data_lba + (size_t)(next - 2) * SPC) * SECTOR,
                               files[i].data + (size_t)k * csize,
                               files[i].len - (size_t)k * csize < csize
                                   ? files[i].len - (size_t)k * csize
                                   : csize);
                }
                dirent(root + 32 * (i + 1), files[i].name83, 0x20, first, (uint32_t)files[i].len);
        }
        memcpy(img + (size_t)(RESERVED + l.fat_sectors) * SECTOR, fat, l.fat_sectors * SECTOR);

        int fd = open(out, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), 0644);
        if (fd < 0) {
                if (errno == EEXIST)
                        fprintf(stderr, "legacy-mkdisk: %s exists; use --force to overwrite it\n",
                                out);
                else
                        fprintf(stderr, "legacy-mkdisk: cannot create %s: %s\n", out,
                                strerror(errno));
                free(img);
                return 1;
        }
        size_t done = 0;
        while (done < bytes) {
                ssize_t w = write(fd, img + done, bytes - done);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0) {
                        fprintf(stderr, "legacy-mkdisk: writing %s: %s\n", out, strerror(errno));
                        close(fd);
                        free(img);
                        return 1;
                }
                done += (size_t)w;
        }
        free(img);
        if (fsync(fd) < 0 || close(fd) < 0) {
                fprintf(stderr, "legacy-mkdisk: writing %s: %s\n", out, strerror(errno));
                return 1;
        }
        printf("legacy-mkdisk: %s: FAT16, %lu MiB, %u clusters of %u bytes\n", out, size_mb,
               l.clusters, SPC * SECTOR);
        return 0;
}
