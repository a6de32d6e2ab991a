/* tandem-image: create, inspect, convert, check and resize disk images
 * (raw, qcow2, vpc). `tandem image ...` dispatches here. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "image.h"
#include "image_cmds.h"
#include "size_parse.h"

#define CHUNK (1u << 20)

bool image_env_json(void)
{
        const char *j = getenv("TANDEM_JSON");
        return j && !strcmp(j, "1");
}

static int usage(void)
{
        fprintf(stderr, "usage: tandem-image create [-f FMT] [-o cluster_size=N,compat=0.10|1.1] "
                        "[-b BACKING [-F FMT]] [--fixed] PATH SIZE\n"
                        "       tandem-image info [--json] [-f FMT] PATH\n"
                        "       tandem-image convert [-f FMT] [-O FMT] [-p] SRC DST\n"
                        "       tandem-image check [--json] [-r] PATH\n"
                        "       tandem-image resize PATH [+]SIZE\n"
                        "       tandem-image commit [-p] PATH\n"
                        "       tandem-image rebase [-u] [-p] -b BACKING [-F FMT] PATH\n"
                        "       tandem-image snapshot -l [--json] PATH\n"
                        "(as `tandem image ...`, tandem's --json applies)\n");
        return 1;
}

static int cmd_create(int argc, char **argv)
{
        const char *fmt = "qcow2";
        struct image_create_opts o = {0};
        static const struct option lo[] = {{"fixed", no_argument, NULL, 'x'}, {0}};
        int c;
        while ((c = getopt_long(argc, argv, "f:o:b:F:", lo, NULL)) != -1) {
                switch (c) {
                case 'f':
                        fmt = optarg;
                        break;
                case 'b':
                        o.backing = optarg;
                        break;
                case 'F':
                        o.backing_format = optarg;
                        break;
                case 'x':
                        o.vhd_fixed = true;
                        break;
                case 'o':
                        for (char *tok = strtok(optarg, ","); tok; tok = strtok(NULL, ",")) {
                                if (!strncmp(tok, "cluster_size=", 13)) {
                                        if (size_parse(tok + 13, &o.cluster_size) < 0) {
                                                fprintf(stderr,
                                                        "tandem-image: bad cluster size '%s'\n",
                                                        tok + 13);
                                                return 1;
                                        }
                                } else if (!strcmp(tok, "compat=0.10")) {
                                        o.qcow2_version = 2;
                                } else if (!strcmp(tok, "compat=1.1")) {
                                        o.qcow2_version = 3;
                                } else if (!strcmp(tok, "subformat=fixed")) {
                                        o.vhd_fixed = true;
                                } else {
                                        fprintf(stderr, "tandem-image: unknown option '%s'\n", tok);
                                        return 1;
                                }
                        }
                        break;
                default:
                        return usage();
                }
        }
        uint64_t size = 0;
        char err[512];
        if (optind + 1 == argc && o.backing) {
                struct blk_backend *b =
                    blk_image_open(o.backing, o.backing_format, true, err, sizeof(err));
                if (!b) {
                        fprintf(stderr, "tandem-image: %s\n", err);
                        return 1;
                }
                size = b->size;
                b->ops->close(b);
        } else if (optind + 2 != argc || size_parse(argv[optind + 1], &size) < 0) {
                if (optind + 2 == argc)
                        fprintf(stderr, "tandem-image: bad size '%s'\n", argv[optind + 1]);
                return usage();
        }
        if (blk_image_create(argv[optind], fmt, size, &o, err, sizeof(err)) < 0) {
                fprintf(stderr, "tandem-image: %s\n", err);
                return 1;
        }
        return 0;
}

static int cmd_info(int argc, char **argv)
{
        const char *fmt = NULL;
        bool json = image_env_json();
        static const struct option lo[] = {{"json", no_argument, NULL, 'j'}, {0}};
        int c;
        while ((c = getopt_long(argc, argv, "f:", lo, NULL)) != -1) {
                if (c == 'f')
                        fmt = optarg;
                else if (c == 'j')
                        json = true;
                else
                        return usage();
        }
        if (optind + 1 != argc)
                return usage();
        char err[512];
        struct blk_backend *b = blk_image_open(argv[optind], fmt, true, err, sizeof(err));
        if (!b) {
                fprintf(stderr, "tandem-image: %s\n", err);
                return 1;
        }
        struct image_info in;
        blk_image_info(b, &in);
        if (json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "filename", json_object_new_string(argv[optind]));
                json_object_object_add(o, "format", json_object_new_string(in.format));
                json_object_object_add(o, "virtual-size",
                                       json_object_new_int64((int64_t)in.virtual_size));
                if (in.cluster_size)
                        json_object_object_add(o, "cluster-size",
                                               json_object_new_int64((int64_t)in.cluster_size));
                if (in.version)
                        json_object_object_add(o, "version", json_object_new_int(in.version));
                if (in.backing[0])
                        json_object_object_add(o, "backing-filename",
                                               json_object_new_string(in.backing));
                if (in.backing_format[0])
                        json_object_object_add(o, "backing-filename-format",
                                               json_object_new_string(in.backing_format));
                json_object_object_add(o, "dirty", json_object_new_boolean(in.dirty));
                printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
                json_object_put(o);
        } else {
                printf("image: %s\nformat: %s\nvirtual size: %llu bytes\n", argv[optind], in.format,
                       (unsigned long long)in.virtual_size);
                if (in.cluster_size)
                        printf("cluster size: %llu\n", (unsigned long long)in.cluster_size);
                if (in.backing[0])
                        printf("backing file: %s%s%s%s\n", in.backing,
                               in.backing_format[0] ? " (" : "", in.backing_format,
                               in.backing_format[0] ? ")" : "");
                if (in.dirty)
                        printf("dirty: yes\n");
        }
        b->ops->close(b);
        return 0;
}

void progress(uint64_t done, uint64_t total)
{
        int pct = total ? (int)(done * 100 / total) : 100;
        char bar[41];
        memset(bar, '#', (size_t)(pct * 40 / 100));
        memset(bar + pct * 40 / 100, '.', 40 - (size_t)(pct * 40 / 100));
        bar[40] = 0;
        fprintf(stderr, "\r[%s] %3d%%", bar, pct);
        if (done == total)
                fputc('\n', stderr);
}

bool all_zero(const uint8_t *p, size_t n)
{
        return n == 0 || (p[0] == 0 && !memcmp(p, p + 1, n - 1));
}

static int cmd_convert(int argc, char **argv)
{
        const char *ifmt = NULL, *ofmt = "raw";
        bool show = false;
        int c;
        while ((c = getopt(argc, argv, "f:O:p")) != -1) {
                if (c == 'f')
                        ifmt = optarg;
                else if (c == 'O')
                        ofmt = optarg;
                else if (c == 'p')
                        show = true;
                else
                        return usage();
        }
        if (optind + 2 != argc)
                return usage();
        show = show || isatty(2);
        char err[512];
        /* one open answers block status, the others read in parallel */
        struct blk_backend *srcs[IMAGE_COPY_READERS + 1] = {0}, *dst = NULL;
        int nsrc = 0, rc = 1;
        for (; nsrc < IMAGE_COPY_READERS + 1; nsrc++) {
                srcs[nsrc] = blk_image_open(argv[optind], ifmt, true, err, sizeof(err));
                if (!srcs[nsrc]) {
                        fprintf(stderr, "tandem-image: %s\n", err);
                        goto out;
                }
        }
        struct blk_backend *src = srcs[0];
        const char *dpath = argv[optind + 1];
        if (blk_image_create(dpath, ofmt, src->size, NULL, err, sizeof(err)) < 0 ||
            !(dst = blk_image_open(dpath, ofmt, false, err, sizeof(err)))) {
                fprintf(stderr, "tandem-image: %s\n", err);
                goto out;
        }
        /* a vpc destination may round the size up to its geometry */
        uint64_t fail_off = 0;
        int wfd = open(dpath, O_RDONLY | O_CLOEXEC); /* same page cache as dst's */
        int e = image_copy(srcs, nsrc, dst, wfd, show, &fail_off);
        if (wfd >= 0)
                close(wfd);
        if (e < 0) {
                fprintf(stderr, "\ntandem-image: convert failed at offset %llu: %s\n",
                        (unsigned long long)fail_off, strerror(-e));
                goto out;
        }
        if (dst->ops->flush(dst) < 0) {
                fprintf(stderr, "tandem-image: flush of %s failed\n", dpath);
                goto out;
        }
        rc = 0;
out:
        if (dst)
                dst->ops->close(dst);
        for (int i = 0; i < nsrc; i++)
                srcs[i]->ops->close(srcs[i]);
        return rc;
}

static int cmd_check(int argc, char **argv)
{
        bool json = image_env_json(), repair = false;
        static const struct option lo[] = {{"json", no_argument, NULL, 'j'}, {0}};
        int c;
        while ((c = getopt_long(argc, argv, "r", lo, NULL)) != -1) {
                if (c == 'j')
                        json = true;
                else if (c == 'r')
                        repair = true;
                else
                        return usage();
        }
        if (optind + 1 != argc)
                return usage();
        const char *path = argv[optind];
        char err[512];
        struct image_check ck;
        if (blk_image_check(path, repair, &ck, err, sizeof(err)) < 0) {
                fprintf(stderr, "tandem-image: %s\n", err);
                return 1;
        }
        if (json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "filename", json_object_new_string(path));
                json_object_object_add(o, "referenced-clusters",
                                       json_object_new_int64((int64_t)ck.referenced_clusters));
                json_object_object_add(o, "leaks", json_object_new_int64((int64_t)ck.leaks));
                json_object_object_add(o, "corruptions",
                                       json_object_new_int64((int64_t)ck.corruptions));
                if (ck.first_problem[0])
                        json_object_object_add(o, "first-problem",
                                               json_object_new_string(ck.first_problem));
                printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
                json_object_put(o);
        } else {
                printf("%s: %llu leaked clusters, %llu corruptions%s%s\n", path,
                       (unsigned long long)ck.leaks, (unsigned long long)ck.corruptions,
                       ck.first_problem[0] ? "; first: " : "", ck.first_problem);
        }
        if (repair) {
                if (!json)
                        printf("%s: %llu refcounts repaired\n", path,
                               (unsigned long long)ck.repaired);
                return 0;
        }
        return ck.corruptions ? 2 : ck.leaks ? 3 : 0;
}

static int cmd_resize(int argc, char **argv)
{
        if (argc != 3)
                return usage();
        const char *path = argv[1], *arg = argv[2];
        uint64_t size;
        char err[512];
        bool rel = arg[0] == '+';
        if (size_parse(arg + rel, &size) < 0) {
                fprintf(stderr, "tandem-image: bad size '%s'\n", arg);
                return 1;
        }
        if (rel) {
                struct blk_backend *b = blk_image_open(path, NULL, true, err, sizeof(err));
                if (!b) {
                        fprintf(stderr, "tandem-image: %s\n", err);
                        return 1;
                }
                size += b->size;
                b->ops->close(b);
        }
        if (blk_image_resize(path, size, err, sizeof(err)) < 0) {
                fprintf(stderr, "tandem-image: %s\n", err);
                return 1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        if (argc < 2)
                return usage();
        const char *cmd = argv[1];
        argc--;
        argv++;
        if (!strcmp(cmd, "create"))
                return cmd_create(argc, argv);
        if (!strcmp(cmd, "info"))
                return cmd_info(argc, argv);
        if (!strcmp(cmd, "convert"))
                return cmd_convert(argc, argv);
        if (!strcmp(cmd, "check"))
                return cmd_check(argc, argv);
        if (!strcmp(cmd, "resize"))
                return cmd_resize(argc, argv);
        if (!strcmp(cmd, "commit"))
                return cmd_commit(argc, argv);
        if (!strcmp(cmd, "rebase"))
                return cmd_rebase(argc, argv);
        if (!strcmp(cmd, "snapshot"))
                return cmd_snapshot(argc, argv);
        return usage();
}
