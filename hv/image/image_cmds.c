/* tandem-image commit, rebase and snapshot. Both data-moving commands work
 * on guest-visible contents, block by block: they copy only what differs,
 * so they need no per-format allocation map and they keep sparse files
 * sparse. */
#include "image_cmds.h"

#include <getopt.h>
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "image.h"

#define BLOCK (64u << 10)

static int read_at(struct blk_backend *b, uint8_t *buf, size_t n, uint64_t off)
{
        /* a shorter backing file reads as zeros past its end */
        if (off >= b->size) {
                memset(buf, 0, n);
                return 0;
        }
        size_t have = b->size - off < n ? (size_t)(b->size - off) : n;
        memset(buf + have, 0, n - have);
        struct iovec iov = {.iov_base = buf, .iov_len = have};
        return b->ops->read(b, &iov, 1, off);
}

/* Writes into dst every BLOCK where view differs from base (NULL: zeros);
 * dst and base may be the same image through two handles. */
static int copy_differences(struct blk_backend *view, struct blk_backend *base,
                            struct blk_backend *dst, uint64_t size, bool show, uint64_t *copied)
{
        uint8_t *a = malloc(BLOCK), *b = malloc(BLOCK);
        int rc = a && b ? 0 : -1;
        *copied = 0;
        for (uint64_t off = 0; rc == 0 && off < size; off += BLOCK) {
                size_t n = size - off < BLOCK ? (size_t)(size - off) : BLOCK;
                if (!base)
                        memset(b, 0, n); /* no backing: the guest saw zeros */
                if (read_at(view, a, n, off) < 0 || (base && read_at(base, b, n, off) < 0)) {
                        fprintf(stderr, "\ntandem-image: read failed at offset %llu\n",
                                (unsigned long long)off);
                        rc = -1;
                        break;
                }
                if (memcmp(a, b, n)) {
                        struct iovec iov = {.iov_base = a, .iov_len = n};
                        int e = dst->ops->write(dst, &iov, 1, off);
                        if (e < 0) {
                                fprintf(stderr, "\ntandem-image: write failed at offset %llu: %s\n",
                                        (unsigned long long)off, strerror(-e));
                                rc = -1;
                                break;
                        }
                        *copied += n;
                }
                if (show && ((off / BLOCK) % 64 == 63 || off + n == size))
                        progress(off + n, size);
        }
        if (rc == 0 && dst->ops->flush(dst) < 0) {
                fprintf(stderr, "tandem-image: flush failed\n");
                rc = -1;
        }
        free(a);
        free(b);
        return rc;
}

static void backing_of(const char *image, const char *name, char *out, size_t len)
{
        if (name[0] == '/') {
                snprintf(out, len, "%s", name);
                return;
        }
        char *copy = strdup(image);
        snprintf(out, len, "%s/%s", copy ? dirname(copy) : ".", name);
        free(copy);
}

int cmd_commit(int argc, char **argv)
{
        bool show = isatty(2);
        int c;
        while ((c = getopt(argc, argv, "p")) != -1) {
                if (c != 'p')
                        return 2;
                show = true;
        }
        if (optind + 1 != argc) {
                fprintf(stderr, "usage: tandem-image commit [-p] PATH\n");
                return 1;
        }
        const char *path = argv[optind];
        char err[PATH_MAX + 1600], bpath[PATH_MAX + 1100];
        struct image_locks lk_top = {0}, lk_base = {0};
        struct blk_backend *top =
            blk_image_open_locked(path, NULL, true, &lk_top, err, sizeof(err));
        struct blk_backend *base = NULL;
        int rc = 1;
        if (!top)
                goto fail;
        struct image_info in;
        blk_image_info(top, &in);
        if (!in.backing[0]) {
                snprintf(err, sizeof(err), "%s has no backing file to commit into", path);
                goto fail;
        }
        backing_of(path, in.backing, bpath, sizeof(bpath));
        /* the top's chain holds a shared lock on the base: release it to write */
        top->ops->close(top);
        blk_image_unlock(&lk_top);
        int top_lock = blk_image_lock_file(path, true, err, sizeof(err));
        if (top_lock < 0)
                goto fail;
        top = blk_image_open(path, NULL, true, err, sizeof(err));
        base = top ? blk_image_open_locked(bpath, in.backing_format[0] ? in.backing_format : NULL,
                                           false, &lk_base, err, sizeof(err))
                   : NULL;
        if (top && base && base->size < top->size)
                snprintf(err, sizeof(err), "backing file %s is smaller than %s; resize it first",
                         bpath, path);
        else if (top && base) {
                uint64_t copied;
                if (copy_differences(top, base, base, top->size, show, &copied) == 0) {
                        rc = 0;
                        if (!image_env_json())
                                printf("committed %llu bytes into %s\n", (unsigned long long)copied,
                                       bpath);
                        else
                                printf("{\"committed-bytes\": %llu, \"backing\": \"%s\"}\n",
                                       (unsigned long long)copied, bpath);
                }
                err[0] = 0;
        }
        if (top)
                top->ops->close(top);
        if (base)
                base->ops->close(base);
        blk_image_unlock(&lk_base);
        close(top_lock);
        if (rc && err[0])
                fprintf(stderr, "tandem-image: %s\n", err);
        return rc;
fail:
        fprintf(stderr, "tandem-image: %s\n", err);
        return 1;
}

int cmd_rebase(int argc, char **argv)
{
        bool show = isatty(2), unsafe = false;
        const char *nb = NULL, *nbf = NULL;
        int c;
        while ((c = getopt(argc, argv, "upb:F:")) != -1) {
                if (c == 'u')
                        unsafe = true;
                else if (c == 'p')
                        show = true;
                else if (c == 'b')
                        nb = optarg;
                else if (c == 'F')
                        nbf = optarg;
                else
                        return 1;
        }
        if (optind + 1 != argc || !nb) {
                fprintf(stderr, "usage: tandem-image rebase [-u] [-p] -b BACKING [-F FMT] PATH\n");
                return 1;
        }
        const char *path = argv[optind];
        char err[PATH_MAX + 1600], npath[PATH_MAX + 1100];
        int lock = blk_image_lock_file(path, true, err, sizeof(err));
        if (lock < 0) {
                fprintf(stderr, "tandem-image: %s\n", err);
                return 1;
        }
        int rc = 1;
        struct blk_backend *view = NULL, *nbase = NULL, *dst = NULL;
        if (!(view = blk_image_open(path, NULL, true, err, sizeof(err))))
                goto out;
        if (strcmp(blk_image_format(view), "qcow2")) {
                snprintf(err, sizeof(err), "%s: rebase works on qcow2 images only", path);
                goto out;
        }
        if (*nb) {
                backing_of(path, nb, npath, sizeof(npath));
                if (!(nbase = blk_image_open(npath, nbf, true, err, sizeof(err))))
                        goto out;
                if (!nbf)
                        nbf = blk_image_format(nbase);
        }
        if (!unsafe) {
                /* what the guest saw through the old chain must survive the switch */
                if (!(dst = blk_image_open(path, "qcow2", false, err, sizeof(err))))
                        goto out;
                uint64_t copied;
                int e = copy_differences(view, nbase, dst, view->size, show, &copied);
                if (e < 0) {
                        err[0] = 0;
                        goto out;
                }
                dst->ops->close(dst);
                dst = NULL;
        }
        if (blk_image_set_backing(path, *nb ? nb : NULL, *nb ? nbf : NULL, err, sizeof(err)) < 0)
                goto out;
        rc = 0;
out:
        if (rc && err[0])
                fprintf(stderr, "tandem-image: %s\n", err);
        if (dst)
                dst->ops->close(dst);
        if (nbase)
                nbase->ops->close(nbase);
        if (view)
                view->ops->close(view);
        close(lock);
        return rc;
}

int cmd_snapshot(int argc, char **argv)
{
        bool json = image_env_json(), list = false;
        static const struct option lo[] = {{"json", no_argument, NULL, 'j'}, {0}};
        int c;
        while ((c = getopt_long(argc, argv, "lc:d:a:", lo, NULL)) != -1) {
                if (c == 'j')
                        json = true;
                else if (c == 'l')
                        list = true;
                else if (c == 'c' || c == 'd' || c == 'a') {
                        fprintf(stderr,
                                "tandem-image: snapshot -%c: creating, deleting and applying "
                                "internal snapshots is not supported; take an external one "
                                "with: tandem-image create -f qcow2 -b IMAGE NEW.qcow2\n",
                                c);
                        return 1;
                } else
                        return 1;
        }
        if (!list || optind + 1 != argc) {
                fprintf(stderr, "usage: tandem-image snapshot -l [--json] PATH\n");
                return 1;
        }
        char err[512];
        struct image_snapshot *s;
        int n = blk_image_snapshots(argv[optind], &s, err, sizeof(err));
        if (n < 0) {
                fprintf(stderr, "tandem-image: %s\n", err);
                return 1;
        }
        if (json) {
                json_object *arr = json_object_new_array();
                for (int i = 0; i < n; i++) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "id", json_object_new_string(s[i].id));
                        json_object_object_add(o, "name", json_object_new_string(s[i].name));
                        json_object_object_add(o, "date-sec", json_object_new_int64(s[i].date_sec));
                        json_object_object_add(o, "vm-state-size",
                                               json_object_new_int64(s[i].vm_state_size));
                        json_object_object_add(o, "disk-size",
                                               json_object_new_int64((int64_t)s[i].disk_size));
                        json_object_array_add(arr, o);
                }
                printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
                json_object_put(arr);
        } else {
                if (n)
                        printf("%-6s %-24s %12s %s\n", "ID", "TAG", "VM SIZE", "DATE (UTC s)");
                for (int i = 0; i < n; i++)
                        printf("%-6s %-24s %12u %u\n", s[i].id, s[i].name, s[i].vm_state_size,
                               s[i].date_sec);
        }
        free(s);
        return 0;
}
