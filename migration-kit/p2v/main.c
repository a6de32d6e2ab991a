/* tandem-p2v [--out IMG] [--name NAME] [--force] [--progress|--quiet] [--json] SOURCE
 *
 * SOURCE is a block device or a raw disk image, read offline. Writes IMG
 * (raw, sparse: unused blocks of known filesystems stay holes), IMG's
 * domain config next to it (NAME.cfg), and a report of what was found and
 * what was not converted, and why. Exit: 0 converted, 2 bad arguments or
 * an unreadable, truncated or unrecognisable source, 1 a failed copy. */
#include "../common/offline.h"
#include "p2v.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *prog = "tandem-p2v";

/* Static: an early exit leaves them reachable, not leaked. */
static struct disk d;
static struct fsinfo whole;
static struct ranges rs;

static int usage(void)
{
        fprintf(stderr,
                "usage: %s [--out IMG] [--name NAME] [--force] [--progress|--quiet] "
                "[--json] SOURCE\n",
                prog);
        return 2;
}

static int die(const char *src, const char *msg)
{
        fprintf(stderr, "%s: %s: %s\n", prog, src, msg);
        return 2;
}

static void what_for(const struct fsinfo *fs, char *out, size_t len)
{
        snprintf(out, len, "%s%s%s%s%s", fs->type[0] ? fs->type : "unknown",
                 fs->label[0] ? " \"" : "", fs->label, fs->label[0] ? "\"" : "",
                 fs->os[0] ? "" : "");
}

int main(int argc, char **argv)
{
        const char *out = NULL, *name = NULL, *src = NULL;
        bool force = false, json = false;
        int progress = -1;
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--out") && i + 1 < argc)
                        out = argv[++i];
                else if (!strcmp(argv[i], "--name") && i + 1 < argc)
                        name = argv[++i];
                else if (!strcmp(argv[i], "--force"))
                        force = true;
                else if (!strcmp(argv[i], "--progress"))
                        progress = 1;
                else if (!strcmp(argv[i], "--quiet"))
                        progress = 0;
                else if (!strcmp(argv[i], "--json"))
                        json = true;
                else if (!src && argv[i][0] != '-')
                        src = argv[i];
                else
                        return usage();
        }
        if (!src)
                return usage();
        if (progress < 0)
                progress = isatty(2);
        char err[512];
        d.path = src;
        d.fd = offline_open(src, false, err, sizeof(err));
        if (d.fd < 0) {
                fprintf(stderr, "%s: %s\n", prog, err);
                return 2;
        }
        struct stat st;
        if (fstat(d.fd, &st) < 0)
                return die(src, strerror(errno));
        if (S_ISBLK(st.st_mode)) {
                uint64_t sz;
                if (ioctl(d.fd, BLKGETSIZE64, &sz) < 0)
                        return die(src, "cannot read the block device's size");
                d.size = sz;
        } else if (S_ISREG(st.st_mode)) {
                d.size = (uint64_t)st.st_size;
        } else {
                return die(src, "not a block device or a regular file");
        }
        if (ptable_read(&d, err, sizeof(err)) < 0)
                return die(src, err);
        /* Filesystems: per partition, or the whole disk without a table. */
        if (!strcmp(d.scheme, "none")) {
                if (fs_detect(&d, 0, d.size, &whole, err, sizeof(err)) < 0)
                        return die(src, err);
                if (!whole.type[0])
                        return die(src, "no partition table (MBR or GPT) and no filesystem "
                                        "signature: not a disk image");
        }
        for (size_t i = 0; i < d.n_parts; i++) {
                struct part *p = &d.parts[i];
                if (fs_detect(&d, p->start, p->size, &p->fs, err, sizeof(err)) < 0) {
                        char m[700];
                        snprintf(m, sizeof(m), "partition %d: %s", p->number, err);
                        return die(src, m);
                }
        }
        /* What to copy: everything outside partitions (tables, boot code,
         * gaps), and inside each partition what its filesystem uses. */
        if (!strcmp(d.scheme, "none")) {
                if (whole.mapped)
                        for (size_t k = 0; k < whole.used.n; k++)
                                range_add(&rs, whole.used.r[k].off, whole.used.r[k].len);
                else
                        range_add(&rs, 0, d.size);
        } else {
                struct ranges parts = {0};
                for (size_t i = 0; i < d.n_parts; i++)
                        range_add(&parts, d.parts[i].start, d.parts[i].size);
                ranges_sort_merge(&parts);
                uint64_t pos = 0;
                for (size_t k = 0; k < parts.n; k++) {
                        range_add(&rs, pos, parts.r[k].off - pos);
                        pos = parts.r[k].off + parts.r[k].len;
                }
                range_add(&rs, pos, d.size - pos);
                ranges_free(&parts);
                for (size_t i = 0; i < d.n_parts; i++) {
                        const struct part *p = &d.parts[i];
                        if (!p->fs.mapped) {
                                range_add(&rs, p->start, p->size);
                                continue;
                        }
                        for (size_t k = 0; k < p->fs.used.n; k++)
                                range_add(&rs, p->start + p->fs.used.r[k].off, p->fs.used.r[k].len);
                }
        }
        ranges_sort_merge(&rs);
        /* Output image and config. */
        char base[256], img[4096], cfg[4200];
        if (!name) {
                const char *b = strrchr(out ? out : src, '/');
                snprintf(base, sizeof(base), "%s", b ? b + 1 : out ? out : src);
                char *dot = strrchr(base, '.');
                if (dot && dot != base)
                        *dot = '\0';
                for (char *c = base; *c; c++)
                        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                              (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
                                *c = '-';
                name = base;
        }
        snprintf(img, sizeof(img), "%s", out ? out : "");
        if (!out)
                snprintf(img, sizeof(img), "%s.img", name);
        snprintf(cfg, sizeof(cfg), "%.*s.cfg",
                 (int)(strrchr(img, '.') && strrchr(img, '.') > strrchr(img, '/')
                           ? strrchr(img, '.') - img
                           : (long)strlen(img)),
                 img);
        int ofd = open(img, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), 0644);
        if (ofd < 0) {
                fprintf(stderr, "%s: %s: %s%s\n", prog, img, strerror(errno),
                        errno == EEXIST ? " (use --force to replace it)" : "");
                return 2;
        }
        if (ftruncate(ofd, 0) < 0 || ftruncate(ofd, (off_t)d.size) < 0) {
                fprintf(stderr, "%s: %s: %s\n", prog, img, strerror(errno));
                return 1;
        }
        int64_t wrote = copy_ranges(&d, ofd, &rs, progress, err, sizeof(err));
        if (wrote < 0 || fsync(ofd) < 0) {
                fprintf(stderr, "%s: %s: %s\n", prog, img, wrote < 0 ? err : strerror(errno));
                unlink(img);
                return 1;
        }
        close(ofd);
        /* The OS, and the config that boots it where Tandem can. */
        const char *os = whole.os[0] ? whole.os : NULL;
        bool linux_found = whole.type[0] == 'e';
        for (size_t i = 0; i < d.n_parts; i++) {
                if (!os && d.parts[i].fs.os[0])
                        os = d.parts[i].fs.os;
                if (d.parts[i].fs.type[0] == 'e') {
                        linux_found = true;
                        os = d.parts[i].fs.os;
                }
        }
        FILE *cf = fopen(cfg, "w");
        if (!cf) {
                fprintf(stderr, "%s: %s: %s\n", prog, cfg, strerror(errno));
                return 1;
        }
        const char *ib = strrchr(img, '/');
        fprintf(cf,
                "# Written by tandem p2v from %s (%s).\n"
                "# Tandem boots a guest from a kernel file: copy the guest's kernel next to\n"
                "# this file as vmlinuz (and its initrd as ramdisk) before `tandem create`.\n"
                "name = \"%s\"\ntype = \"pvh\"\nkernel = \"vmlinuz\"\nmemory = 512\n"
                "disk = [ '%s,raw,xvda,rw' ]\n%s",
                src, os ? os : "operating system not identified", name, ib ? ib + 1 : img,
                linux_found ? "root = \"/dev/vda1\"  # check: the root filesystem's partition\n"
                            : "");
        fclose(cf);
        /* Report. */
        uint64_t copied = ranges_total(&rs);
        if (json) {
                json_object *r = json_object_new_object(), *pa = json_object_new_array();
                json_object_object_add(r, "source", json_object_new_string(src));
                json_object_object_add(r, "size", json_object_new_int64((int64_t)d.size));
                json_object_object_add(r, "scheme", json_object_new_string(d.scheme));
                json_object_object_add(r, "os", os ? json_object_new_string(os) : NULL);
                json_object_object_add(r, "image", json_object_new_string(img));
                json_object_object_add(r, "config", json_object_new_string(cfg));
                json_object_object_add(r, "copied", json_object_new_int64((int64_t)copied));
                json_object_object_add(r, "written", json_object_new_int64(wrote));
                for (size_t i = 0; i <= d.n_parts; i++) {
                        const struct fsinfo *fs = i < d.n_parts ? &d.parts[i].fs : &whole;
                        if (i == d.n_parts && strcmp(d.scheme, "none"))
                                break;
                        json_object *p = json_object_new_object();
                        if (i < d.n_parts) {
                                json_object_object_add(p, "number",
                                                       json_object_new_int(d.parts[i].number));
                                json_object_object_add(
                                    p, "start", json_object_new_int64((int64_t)d.parts[i].start));
                                json_object_object_add(
                                    p, "size", json_object_new_int64((int64_t)d.parts[i].size));
                                json_object_object_add(
                                    p, "type", json_object_new_string(d.parts[i].scheme_type));
                                json_object_object_add(p, "name",
                                                       json_object_new_string(d.parts[i].name));
                        }
                        json_object_object_add(p, "fs", json_object_new_string(fs->type));
                        json_object_object_add(p, "label", json_object_new_string(fs->label));
                        json_object_object_add(p, "os", json_object_new_string(fs->os));
                        json_object_object_add(
                            p, "used",
                            json_object_new_int64(
                                (int64_t)(fs->mapped ? ranges_total(&fs->used) : 0)));
                        json_object_object_add(p, "copy",
                                               json_object_new_string(fs->skip     ? "header"
                                                                      : fs->mapped ? "used"
                                                                                   : "full"));
                        json_object_object_add(p, "note", json_object_new_string(fs->note));
                        json_object_array_add(pa, p);
                }
                json_object_object_add(r, "partitions", pa);
                printf("%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY));
                json_object_put(r);
        } else {
                printf("%s: %llu bytes, partition table: %s\n", src, (unsigned long long)d.size,
                       d.scheme);
                char what[160];
                for (size_t i = 0; i < d.n_parts; i++) {
                        const struct part *p = &d.parts[i];
                        what_for(&p->fs, what, sizeof(what));
                        printf("  %d  %s  at %llu, %llu bytes%s%s%s: %s%s%s", p->number,
                               p->scheme_type, (unsigned long long)p->start,
                               (unsigned long long)p->size, p->name[0] ? " \"" : "", p->name,
                               p->name[0] ? "\"" : "", what, p->fs.os[0] ? ", " : "", p->fs.os);
                        if (p->fs.mapped && !p->fs.skip)
                                printf(", %llu bytes in use copied\n",
                                       (unsigned long long)ranges_total(&p->fs.used));
                        else
                                printf("; %s\n", p->fs.note);
                }
                if (!strcmp(d.scheme, "none")) {
                        what_for(&whole, what, sizeof(what));
                        printf("  whole disk: %s%s%s%s%s\n", what, whole.os[0] ? ", " : "",
                               whole.os, whole.note[0] ? "; " : "", whole.note);
                }
                printf("OS: %s\n", os ? os : "not identified");
                printf("copied %llu of %llu bytes (%llu written, zero blocks left as holes) "
                       "into %s\nconfig: %s (set its kernel before `tandem create`)\n",
                       (unsigned long long)copied, (unsigned long long)d.size,
                       (unsigned long long)wrote, img, cfg);
        }
        ranges_free(&rs);
        ranges_free(&whole.used);
        for (size_t i = 0; i < d.n_parts; i++)
                ranges_free(&d.parts[i].fs.used);
        return 0;
}
