/* tandemd methods clone, export and import (docs/api.md, "Storage").
 *
 * clone writes qcow2 overlays over the source's writable disks and a new
 * config next to them; export packs the config and every disk, flattened to
 * a standalone qcow2, into a tar with a SHA-256 manifest; import checks the
 * whole archive against its manifest before it writes anything, then
 * installs into a fresh folder by one rename. They run synchronously: an
 * export blocks the daemon for as long as the copy takes. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../image/sha256.h"
#include "../image/tar.h"
#include "api_image_job.h"
#include "daemon.h"
#include "image.h"
#include "tandem_client.h"

#define CHUNK       (1u << 20)
#define MAX_MEMBERS (DOMCFG_MAX_DISKS + 2)
#define MANIFEST    "manifest.json"
#define CONFIG      "config.cfg"
/* Failures of the work itself (locked disk, bad archive, I/O): exit 1 in the CLI. */
#define E_IMAGE "image"

static const char *str_param(json_object *p, const char *key)
{
        json_object *v;
        if (!p || !json_object_object_get_ex(p, key, &v) ||
            !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static const char *image_format(const char *cfg_format)
{
        return !strcmp(cfg_format, "vhd") ? "vpc" : cfg_format;
}

/* xl.cfg string literal. */
static void put_str(FILE *f, const char *s)
{
        fputc('"', f);
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        fputc('\\', f);
                fputc(*s, f);
        }
        fputc('"', f);
}

/* A config equivalent to cfg, renamed, with the disks given (targets and
 * formats per disk; NULL keeps the original). MACs are dropped: a copy must
 * not share its source's. */
static char *config_text(const struct domcfg *cfg, const char *name, char *const targets[],
                         const char *const formats[])
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return NULL;
        fprintf(f, "name = ");
        put_str(f, name);
        fprintf(f, "\ntype = ");
        put_str(f, cfg->type == DOM_TYPE_LEGACY ? "tandem-legacy" : "pvh");
        fprintf(f, "\nkernel = ");
        put_str(f, cfg->kernel);
        if (cfg->ramdisk) {
                fprintf(f, "\nramdisk = ");
                put_str(f, cfg->ramdisk);
        }
        if (cfg->cmdline && *cfg->cmdline) {
                fprintf(f, "\nextra = ");
                put_str(f, cfg->cmdline);
        }
        fprintf(f, "\nmemory = %llu\nvcpus = %u\n", (unsigned long long)cfg->memory_mib,
                cfg->vcpus);
        if (cfg->n_disks) {
                fprintf(f, "disk = [\n");
                for (size_t i = 0; i < cfg->n_disks; i++) {
                        char spec[PATH_MAX + 128];
                        const struct dom_disk *d = &cfg->disks[i];
                        snprintf(spec, sizeof(spec), "format=%s, vdev=%s, access=%s, target=%s",
                                 formats && formats[i] ? formats[i] : d->format, d->vdev,
                                 d->readonly ? "ro" : "rw",
                                 targets && targets[i] ? targets[i] : d->target);
                        fprintf(f, "  ");
                        put_str(f, spec);
                        fprintf(f, ",\n");
                }
                fprintf(f, "]\n");
        }
        if (cfg->n_vifs) {
                fprintf(f, "vif = [ ");
                for (size_t i = 0; i < cfg->n_vifs; i++) {
                        char spec[512] = "";
                        const struct dom_vif *v = &cfg->vifs[i];
                        snprintf(spec, sizeof(spec), "%s%s%s%s%s", v->bridge ? "bridge=" : "",
                                 v->bridge ? v->bridge : "", v->bridge && v->model ? "," : "",
                                 v->model ? "model=" : "", v->model ? v->model : "");
                        put_str(f, spec);
                        fprintf(f, ", ");
                }
                fprintf(f, "]\n");
        }
        if (cfg->vfb)
                fprintf(f, "vfb = [ \"resolution=%ux%u\" ]\n", cfg->fb_width, cfg->fb_height);
        if (cfg->n_usbdevs) {
                fprintf(f, "usbdev = [ ");
                for (size_t i = 0; i < cfg->n_usbdevs; i++) {
                        put_str(f, cfg->usbdevs[i]);
                        fprintf(f, ", ");
                }
                fprintf(f, "]\n");
        }
        if (cfg->printer) {
                fprintf(f, "printer = ");
                put_str(f, cfg->printer);
                fprintf(f, "\n");
        }
        fprintf(f, "on_poweroff = \"%s\"\non_reboot = \"%s\"\non_crash = \"%s\"\n",
                dom_action_name(cfg->on_poweroff), dom_action_name(cfg->on_reboot),
                dom_action_name(cfg->on_crash));
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

static int write_file(const char *path, const char *text, char *err, size_t errlen)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        size_t n = strlen(text);
        if (fd < 0 || write(fd, text, n) != (ssize_t)n || fsync(fd) < 0) {
                snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
                if (fd >= 0) {
                        close(fd);
                        unlink(path);
                }
                return -1;
        }
        close(fd);
        return 0;
}

/* Only root may name files for the daemon (running as root) to write or
 * read on its behalf elsewhere than in folders the client owns. */
static bool client_owns_dir(const struct client *c, const char *path)
{
        if (c->uid == 0)
                return true;
        char *copy = strdup(path);
        struct stat st;
        bool ok = copy && stat(dirname(copy), &st) == 0 && st.st_uid == c->uid;
        free(copy);
        return ok;
}

static void m_clone(struct client *c, json_object *id, json_object *p)
{
        const char *src = str_param(p, "domain"), *name = str_param(p, "new");
        if (!src || !name) {
                api_reply_error(c, id, TANDEM_E_INVALID, "clone: needs domain and new (strings)");
                return;
        }
        struct domain *d = domain_find(src);
        if (!d) {
                api_reply_error(c, id, TANDEM_E_NOT_FOUND, "no domain named '%s'", src);
                return;
        }
        if (!domcfg_valid_name(name) || domain_find(name)) {
                api_reply_error(c, id, domain_find(name) ? TANDEM_E_EXISTS : TANDEM_E_INVALID,
                                domain_find(name) ? "a domain named '%s' already exists"
                                                  : "'%s' is not a valid domain name",
                                name);
                return;
        }
        const struct domcfg *cfg = &d->cfg;
        char dir[PATH_MAX];
        char *copy = strdup(cfg->n_disks ? cfg->disks[0].target : d->config_path);
        snprintf(dir, sizeof(dir), "%s", copy ? dirname(copy) : ".");
        free(copy);
        if (dir[0] != '/' || !client_owns_dir(c, dir) || !client_owns_dir(c, cfg->kernel)) {
                api_reply_error(c, id, TANDEM_E_DENIED,
                                "clone: the clone goes into %s, which is not yours", dir);
                return;
        }
        char *targets[DOMCFG_MAX_DISKS] = {0};
        const char *formats[DOMCFG_MAX_DISKS] = {0};
        char err[PATH_MAX + 600], cfgpath[PATH_MAX + 80];
        snprintf(cfgpath, sizeof(cfgpath), "%s/%s.cfg", dir, name);
        json_object *disks = json_object_new_array();
        char *text = NULL;
        size_t made = 0;
        bool ok = access(cfgpath, F_OK) != 0;
        if (!ok)
                snprintf(err, sizeof(err), "%s already exists", cfgpath);
        for (size_t i = 0; ok && i < cfg->n_disks; i++, made = i) {
                const struct dom_disk *dd = &cfg->disks[i];
                if (dd->readonly)
                        continue; /* shared as it is */
                char ov[PATH_MAX + 100], base[PATH_MAX];
                snprintf(ov, sizeof(ov), "%s/%s-%s.qcow2", dir, name, dd->vdev);
                if (!realpath(dd->target, base)) {
                        snprintf(err, sizeof(err), "disk %s: %s", dd->target, strerror(errno));
                        ok = false;
                        break;
                }
                if (access(ov, F_OK) == 0) {
                        snprintf(err, sizeof(err), "%s already exists", ov);
                        ok = false;
                        break;
                }
                /* a shared lock fails while a VMM writes the disk: an overlay
                 * over a base that still changes would be garbage */
                struct image_locks lk;
                struct blk_backend *b = blk_image_open_locked(base, image_format(dd->format), true,
                                                              &lk, err, sizeof(err));
                if (!b) {
                        ok = false;
                        break;
                }
                uint64_t size = b->size;
                b->ops->close(b);
                blk_image_unlock(&lk);
                struct image_create_opts o = {.backing = base,
                                              .backing_format = image_format(dd->format)};
                if (blk_image_create(ov, "qcow2", size, &o, err, sizeof(err)) < 0) {
                        ok = false;
                        break;
                }
                if (c->uid && chown(ov, c->uid, (gid_t)-1) < 0) {
                        /* the client owns the folder, so it can still remove it */
                }
                targets[i] = strdup(ov);
                formats[i] = "qcow2";
                json_object_array_add(disks, json_object_new_string(ov));
        }
        if (ok && !(text = config_text(cfg, name, targets, formats))) {
                snprintf(err, sizeof(err), "out of memory");
                ok = false;
        }
        if (ok && write_file(cfgpath, text, err, sizeof(err)) < 0)
                ok = false;
        if (ok) {
                json_object *r = json_object_new_object();
                json_object_object_add(r, "name", json_object_new_string(name));
                json_object_object_add(r, "config_path", json_object_new_string(cfgpath));
                json_object_object_add(r, "config", json_object_new_string(text));
                json_object_object_add(r, "disks", disks);
                domain_log(d, "clone", "linked clone %s (%s)", name, cfgpath);
                api_reply_ok(c, id, r);
        } else {
                for (size_t i = 0; i < made + 1 && i < cfg->n_disks; i++)
                        if (targets[i])
                                unlink(targets[i]);
                json_object_put(disks);
                api_reply_error(c, id, E_IMAGE, "clone: %s", err);
        }
        for (size_t i = 0; i < DOMCFG_MAX_DISKS; i++)
                free(targets[i]);
        free(text);
}

/* Appends src (whole chain, flattened, zero chunks left sparse) to the tar
 * as a standalone qcow2 made next to it. */
static int export_disk(int tarfd, const char *tarpath, const char *member, struct blk_backend *src,
                       char sha[65], uint64_t *stored, char *err, size_t errlen)
{
        char tmp[PATH_MAX + 64];
        char *copy = strdup(tarpath);
        snprintf(tmp, sizeof(tmp), "%s/.%s.%d.tmp", copy ? dirname(copy) : ".", member, getpid());
        free(copy);
        uint8_t *buf = malloc(CHUNK);
        struct blk_backend *dst = NULL;
        int rc = -1, fd = -1;
        if (!buf || blk_image_create(tmp, "qcow2", src->size, NULL, err, errlen) < 0 ||
            !(dst = blk_image_open(tmp, "qcow2", false, err, errlen)))
                goto out;
        uint64_t extent = 0;
        int status = 1;
        for (uint64_t off = 0, n; off < src->size; off += n) {
                int e = 0;
                if (!extent)
                        e = status = blk_image_block_status(src, off, src->size - off, &extent);
                n = !status || extent < CHUNK ? extent : CHUNK; /* holes unread */
                extent -= n;
                struct iovec iov = {.iov_base = buf, .iov_len = (size_t)n};
                if (status > 0 && (e = src->ops->read(src, &iov, 1, off)) == 0 && n &&
                    !(buf[0] == 0 && !memcmp(buf, buf + 1, (size_t)n - 1)))
                        e = dst->ops->write(dst, &iov, 1, off);
                if (e < 0) {
                        snprintf(err, errlen, "copying disk %s: %s", member, strerror(-e));
                        goto out;
                }
                image_job_progress(member, off + n, src->size);
        }
        if (dst->ops->flush(dst) < 0) {
                snprintf(err, errlen, "copying disk %s: flush failed", member);
                goto out;
        }
        dst->ops->close(dst);
        dst = NULL;
        struct stat st;
        fd = open(tmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0 ||
            tar_write_header(tarfd, member, (uint64_t)st.st_size, err, errlen) < 0)
                goto out;
        struct sha256 h;
        sha256_init(&h);
        for (uint64_t off = 0; off < (uint64_t)st.st_size;) {
                ssize_t got = pread(fd, buf, CHUNK, (off_t)off);
                if (got <= 0 || write(tarfd, buf, (size_t)got) != got) {
                        snprintf(err, errlen, "writing disk %s into the archive: %s", member,
                                 strerror(errno));
                        goto out;
                }
                sha256_update(&h, buf, (size_t)got);
                off += (uint64_t)got;
        }
        sha256_hex(&h, sha);
        *stored = (uint64_t)st.st_size;
        rc = tar_write_pad(tarfd, *stored, err, errlen);
out:
        if (fd >= 0)
                close(fd);
        if (dst)
                dst->ops->close(dst);
        unlink(tmp);
        free(buf);
        return rc;
}

static int tar_add_text(int fd, const char *member, const char *text, char sha[65], char *err,
                        size_t errlen)
{
        size_t n = strlen(text);
        struct sha256 h;
        sha256_init(&h);
        sha256_update(&h, text, n);
        sha256_hex(&h, sha);
        if (tar_write_header(fd, member, n, err, errlen) < 0)
                return -1;
        if (write(fd, text, n) != (ssize_t)n) {
                snprintf(err, errlen, "writing %s into the archive: %s", member, strerror(errno));
                return -1;
        }
        return tar_write_pad(fd, n, err, errlen);
}

struct export_job {
        struct domain *d;
        const char *name, *path;
        uid_t uid;
};

static void export_work(void *arg);

static void m_export(struct client *c, json_object *id, json_object *p)
{
        const char *name = str_param(p, "domain"), *path = str_param(p, "path");
        if (!name || !path || path[0] != '/') {
                api_reply_error(c, id, TANDEM_E_INVALID,
                                "export: needs domain and an absolute path (strings)");
                return;
        }
        struct domain *d = domain_find(name);
        if (!d) {
                api_reply_error(c, id, TANDEM_E_NOT_FOUND, "no domain named '%s'", name);
                return;
        }
        if (!client_owns_dir(c, path)) {
                api_reply_error(c, id, TANDEM_E_DENIED, "export: the folder of %s is not yours",
                                path);
                return;
        }
        if (access(path, F_OK) == 0) {
                api_reply_error(c, id, TANDEM_E_EXISTS, "export: %s already exists", path);
                return;
        }
        struct export_job job = {.d = d, .name = name, .path = path, .uid = c->uid};
        image_job_start(c, id, "export", name, export_work, &job);
}

/* In the worker process (api_image_job.h). */
static void export_work(void *arg)
{
        struct export_job *job = arg;
        const struct domcfg *cfg = &job->d->cfg;
        const char *name = job->name, *path = job->path;
        char part[PATH_MAX + 16], err[PATH_MAX + 600];
        snprintf(part, sizeof(part), "%s.part", path);
        int fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
                image_job_fail("export: cannot create %s: %s", part, strerror(errno));
                return;
        }
        char *members[DOMCFG_MAX_DISKS] = {0};
        const char *formats[DOMCFG_MAX_DISKS];
        json_object *man = json_object_new_object(), *jd = json_object_new_array();
        json_object_object_add(man, "tandem-export", json_object_new_int(1));
        json_object_object_add(man, "name", json_object_new_string(name));
        bool ok = true;
        for (size_t i = 0; ok && i < cfg->n_disks; i++) {
                const struct dom_disk *dd = &cfg->disks[i];
                char member[64], sha[65];
                snprintf(member, sizeof(member), "disk-%s.qcow2", dd->vdev);
                members[i] = strdup(member);
                formats[i] = "qcow2";
                /* a shared lock: refused while a VMM writes the disk */
                struct image_locks lk;
                struct blk_backend *b = blk_image_open_locked(dd->target, image_format(dd->format),
                                                              true, &lk, err, sizeof(err));
                uint64_t stored = 0, vsize = b ? b->size : 0;
                ok = b && export_disk(fd, part, member, b, sha, &stored, err, sizeof(err)) == 0;
                if (b)
                        b->ops->close(b);
                blk_image_unlock(&lk);
                if (!ok)
                        break;
                json_object *e = json_object_new_object();
                json_object_object_add(e, "file", json_object_new_string(member));
                json_object_object_add(e, "vdev", json_object_new_string(dd->vdev));
                json_object_object_add(e, "format", json_object_new_string("qcow2"));
                json_object_object_add(e, "readonly", json_object_new_boolean(dd->readonly));
                json_object_object_add(e, "virtual-size", json_object_new_int64((int64_t)vsize));
                json_object_object_add(e, "size", json_object_new_int64((int64_t)stored));
                json_object_object_add(e, "sha256", json_object_new_string(sha));
                json_object_array_add(jd, e);
        }
        json_object_object_add(man, "disks", jd);
        char *text = ok ? config_text(cfg, name, members, formats) : NULL;
        char sha[65];
        ok = ok && text && tar_add_text(fd, CONFIG, text, sha, err, sizeof(err)) == 0;
        if (ok) {
                json_object_object_add(man, "config", json_object_new_string(CONFIG));
                json_object_object_add(man, "config-sha256", json_object_new_string(sha));
                const char *mtext = json_object_to_json_string_ext(man, JSON_C_TO_STRING_PRETTY);
                ok = tar_add_text(fd, MANIFEST, mtext, sha, err, sizeof(err)) == 0 &&
                     tar_write_end(fd, err, sizeof(err)) == 0;
        }
        if (ok && fsync(fd) < 0) {
                snprintf(err, sizeof(err), "export: sync of %s: %s", part, strerror(errno));
                ok = false;
        }
        close(fd);
        if (ok && rename(part, path) < 0) {
                snprintf(err, sizeof(err), "export: rename to %s: %s", path, strerror(errno));
                ok = false;
        }
        if (ok) {
                if (job->uid && chown(path, job->uid, (gid_t)-1) < 0) {
                        /* still readable: 0644 */
                }
                json_object *r = json_object_new_object();
                json_object_object_add(r, "path", json_object_new_string(path));
                json_object_object_add(r, "manifest", json_object_get(man));
                image_job_reply(r);
        } else {
                unlink(part);
                image_job_fail("export: %s", text || err[0] ? err : "out of memory");
        }
        json_object_put(man);
        free(text);
        for (size_t i = 0; i < DOMCFG_MAX_DISKS; i++)
                free(members[i]);
}

static const struct tar_entry *member(const struct tar_entry *e, int n, const char *name)
{
        for (int i = 0; i < n; i++)
                if (!strcmp(e[i].name, name))
                        return &e[i];
        return NULL;
}

static int hash_member(int fd, const struct tar_entry *e, char sha[65])
{
        uint8_t *buf = malloc(CHUNK);
        if (!buf)
                return -1;
        struct sha256 h;
        sha256_init(&h);
        for (uint64_t done = 0; done < e->size;) {
                size_t want = e->size - done < CHUNK ? (size_t)(e->size - done) : CHUNK;
                ssize_t got = pread(fd, buf, want, (off_t)(e->data_off + done));
                if (got <= 0) {
                        free(buf);
                        return -1;
                }
                sha256_update(&h, buf, (size_t)got);
                done += (uint64_t)got;
                image_job_progress(e->name, done, e->size);
        }
        sha256_hex(&h, sha);
        free(buf);
        return 0;
}

/* Copies a member out, leaving all-zero 64 KiB blocks as holes. */
static int extract(int fd, const struct tar_entry *e, const char *path, char *err, size_t errlen)
{
        int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        uint8_t *buf = malloc(1 << 16);
        int rc = out >= 0 && buf ? 0 : -1;
        for (uint64_t done = 0; rc == 0 && done < e->size;) {
                size_t want = e->size - done < (1 << 16) ? (size_t)(e->size - done) : (1 << 16);
                ssize_t got = pread(fd, buf, want, (off_t)(e->data_off + done));
                if (got <= 0)
                        rc = -1;
                else if (!(buf[0] == 0 && !memcmp(buf, buf + 1, (size_t)got - 1)) &&
                         pwrite(out, buf, (size_t)got, (off_t)done) != got)
                        rc = -1;
                done += got > 0 ? (uint64_t)got : 0;
        }
        if (rc == 0 && (ftruncate(out, (off_t)e->size) < 0 || fsync(out) < 0))
                rc = -1;
        if (rc < 0)
                snprintf(err, errlen, "cannot extract %s: %s", path, strerror(errno));
        free(buf);
        if (out >= 0)
                close(out);
        return rc;
}

static void import_work(void *arg);

static void m_import(struct client *c, json_object *id, json_object *p)
{
        const char *path = str_param(p, "path"), *dirp = str_param(p, "dir");
        if (!path || path[0] != '/' || (dirp && dirp[0] != '/')) {
                api_reply_error(c, id, TANDEM_E_INVALID,
                                "import: needs an absolute path (and optional absolute dir)");
                return;
        }
        if (!client_owns_dir(c, path)) {
                api_reply_error(c, id, TANDEM_E_DENIED, "import: the folder of %s is not yours",
                                path);
                return;
        }
        image_job_start(c, id, "import", NULL, import_work, p);
}

/* In the worker process (api_image_job.h); p: the request's params. */
static void import_work(void *arg)
{
        json_object *p = arg;
        const char *path = str_param(p, "path"), *dirp = str_param(p, "dir");
        char err[3 * PATH_MAX] = "", dir[PATH_MAX], tmp[PATH_MAX + 64];
        struct tar_entry e[MAX_MEMBERS];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        int n = fd < 0 ? -1 : tar_list(fd, e, MAX_MEMBERS, err, sizeof(err));
        json_object *man = NULL, *disks = NULL;
        char *mtext = NULL, *ctext = NULL;
        struct domcfg cfg = {0};
        bool have_cfg = false, made_dir = false;
        const char *name = NULL;
        const struct tar_entry *me = n > 0 ? member(e, n, MANIFEST) : NULL;
        if (fd < 0)
                snprintf(err, sizeof(err), "cannot open %s: %s", path, strerror(errno));
        else if (n >= 0 && (!me || me->size > 1 << 20))
                snprintf(err, sizeof(err), "%s has no manifest.json: not a tandem export", path);
        if (!me)
                goto fail;
        mtext = calloc(1, me->size + 1);
        if (!mtext || pread(fd, mtext, me->size, (off_t)me->data_off) != (ssize_t)me->size ||
            !(man = json_tokener_parse(mtext)) || !json_object_is_type(man, json_type_object) ||
            !json_object_object_get_ex(man, "disks", &disks) ||
            !json_object_is_type(disks, json_type_array)) {
                snprintf(err, sizeof(err), "the manifest of %s is not valid", path);
                goto fail;
        }
        name = str_param(man, "name");
        const char *cfgname = str_param(man, "config"), *cfgsha = str_param(man, "config-sha256");
        const struct tar_entry *ce = cfgname ? member(e, n, cfgname) : NULL;
        if (!name || !domcfg_valid_name(name) || !ce || !cfgsha || ce->size > 1 << 20) {
                snprintf(err, sizeof(err), "the manifest of %s lacks a name or a config", path);
                goto fail;
        }
        /* every member must be accounted for and match its checksum */
        size_t nd = json_object_array_length(disks);
        if ((size_t)n != nd + 2) {
                snprintf(err, sizeof(err), "%s holds %d files, the manifest lists %zu", path, n,
                         nd + 2);
                goto fail;
        }
        char sha[65];
        if (hash_member(fd, ce, sha) < 0 || strcmp(sha, cfgsha)) {
                snprintf(err, sizeof(err),
                         "%s: checksum of %s does not match the manifest "
                         "(damaged or tampered with)",
                         path, cfgname);
                goto fail;
        }
        for (size_t i = 0; i < nd; i++) {
                json_object *dj = json_object_array_get_idx(disks, i);
                const char *file = str_param(dj, "file"), *want = str_param(dj, "sha256");
                const struct tar_entry *de = file ? member(e, n, file) : NULL;
                if (!de || !want || hash_member(fd, de, sha) < 0 || strcmp(sha, want)) {
                        snprintf(err, sizeof(err),
                                 "%s: checksum of %s does not match the manifest (damaged or "
                                 "tampered with)",
                                 path, file ? file : "a disk");
                        goto fail;
                }
        }
        if (domain_find(name)) {
                snprintf(err, sizeof(err), "a domain named '%s' already exists", name);
                goto fail;
        }
        char *copy = strdup(path);
        snprintf(dir, sizeof(dir), "%s/%s", dirp ? dirp : copy ? dirname(copy) : "/", name);
        free(copy);
        if (access(dir, F_OK) == 0) {
                snprintf(err, sizeof(err), "%s already exists", dir);
                goto fail;
        }
        snprintf(tmp, sizeof(tmp), "%s.import-%d", dir, getpid());
        if (mkdir(tmp, 0755) < 0) {
                snprintf(err, sizeof(err), "cannot create %s: %s", tmp, strerror(errno));
                goto fail;
        }
        made_dir = true;
        ctext = calloc(1, ce->size + 1);
        char cfgpath[PATH_MAX + 200], final_cfg[PATH_MAX + 200];
        snprintf(cfgpath, sizeof(cfgpath), "%s/%s.cfg", tmp, name);
        snprintf(final_cfg, sizeof(final_cfg), "%s/%s.cfg", dir, name);
        if (!ctext || pread(fd, ctext, ce->size, (off_t)ce->data_off) != (ssize_t)ce->size) {
                snprintf(err, sizeof(err), "cannot read the config from %s", path);
                goto fail;
        }
        for (size_t i = 0; i < nd; i++) {
                json_object *dj = json_object_array_get_idx(disks, i);
                const char *file = str_param(dj, "file");
                char dpath[PATH_MAX + 200];
                snprintf(dpath, sizeof(dpath), "%s/%s", tmp, file);
                if (extract(fd, member(e, n, file), dpath, err, sizeof(err)) < 0)
                        goto fail;
                /* a hostile image could name any file as its backing file */
                struct blk_backend *b = blk_image_open(dpath, "qcow2", true, err, sizeof(err));
                struct image_info in = {0};
                if (b)
                        blk_image_info(b, &in);
                if (!b || in.backing[0]) {
                        if (b) {
                                snprintf(err, sizeof(err), "%s in %s names a backing file", file,
                                         path);
                                b->ops->close(b);
                        }
                        goto fail;
                }
                b->ops->close(b);
        }
        /* the config must parse where it will live, naming only its own disks */
        if (domcfg_parse(ctext, final_cfg, &cfg, NULL, err, sizeof(err)) < 0)
                goto fail;
        have_cfg = true;
        if (strcmp(cfg.name, name) || cfg.n_disks != nd) {
                snprintf(err, sizeof(err), "the config in %s does not match its manifest", path);
                goto fail;
        }
        for (size_t i = 0; i < cfg.n_disks; i++) {
                char *t = strdup(cfg.disks[i].target);
                bool inside = t && !strcmp(dirname(t), dir);
                free(t);
                if (!inside) {
                        snprintf(err, sizeof(err), "the config in %s names a disk outside it: %s",
                                 path, cfg.disks[i].target);
                        goto fail;
                }
        }
        if (write_file(cfgpath, ctext, err, sizeof(err)) < 0)
                goto fail;
        if (rename(tmp, dir) < 0) {
                snprintf(err, sizeof(err), "cannot rename %s to %s: %s", tmp, dir, strerror(errno));
                goto fail;
        }
        made_dir = false;
        json_object *r = json_object_new_object();
        json_object_object_add(r, "name", json_object_new_string(name));
        json_object_object_add(r, "dir", json_object_new_string(dir));
        json_object_object_add(r, "config_path", json_object_new_string(final_cfg));
        image_job_reply(r);
        goto done;
fail:
        image_job_fail("import: %s", err[0] ? err : "out of memory or unreadable archive");
done:
        if (made_dir) {
                for (int i = 0; i < n; i++) {
                        char f[PATH_MAX + 300];
                        snprintf(f, sizeof(f), "%s/%.100s", tmp, e[i].name);
                        unlink(f);
                }
                char f[PATH_MAX + 200];
                snprintf(f, sizeof(f), "%s/%s.cfg", tmp, name);
                unlink(f);
                rmdir(tmp);
        }
        if (have_cfg)
                domcfg_free(&cfg);
        json_object_put(man);
        free(mtext);
        free(ctext);
        if (fd >= 0)
                close(fd);
}

TANDEM_API_METHOD(clone, "clone", m_clone, true)
TANDEM_API_METHOD(export, "export", m_export, false)
TANDEM_API_METHOD(import, "import", m_import, true)
