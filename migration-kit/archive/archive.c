#include "archive.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "manifest.h"
#include "offline.h"
#include "run.h"
#include "sha256.h"

#define COMPRESSOR "zstd -q --check -10"
#define SIDE_EXT   ".sha256"

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void)st;
        (void)type;
        (void)ftw;
        return remove(path);
}

static void rm_tree(const char *dir)
{
        if (dir[0])
                nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A private scratch directory next to path (same file system, so a restore
 * can rename into place). */
static int scratch_near(const char *path, char *dir, size_t len, char *err, size_t errlen)
{
        char *copy = strdup(path);
        snprintf(dir, len, "%s/.tandem-archive-XXXXXX", dirname(copy));
        free(copy);
        if (!mkdtemp(dir)) {
                snprintf(err, errlen, "cannot create a scratch directory for %s: %s", path,
                         strerror(errno));
                dir[0] = 0;
                return -1;
        }
        return 0;
}

/* Copies in to the new file out_path, keeping holes (runs of zero blocks) as
 * holes, hashing the bytes on the way. */
static int copy_hashed(int in, const char *out_path, mode_t mode, uint64_t *size,
                       char sha[SHA256_HEX_LEN], char *err, size_t errlen)
{
        int out = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
        if (out < 0) {
                snprintf(err, errlen, "%s: %s", out_path, strerror(errno));
                return -1;
        }
        static uint8_t buf[1 << 16], zero[1 << 16];
        struct sha256_stream *h = sha256_begin();
        uint64_t total = 0;
        ssize_t n;
        int rc = 0;
        while (rc == 0 && (n = pread(in, buf, sizeof(buf), (off_t)total)) > 0) {
                sha256_update(h, buf, (size_t)n);
                if (memcmp(buf, zero, (size_t)n) != 0 &&
                    pwrite(out, buf, (size_t)n, (off_t)total) != n)
                        rc = -1;
                total += (uint64_t)n;
        }
        if (n < 0 || rc < 0 || ftruncate(out, (off_t)total) < 0 || fsync(out) < 0) {
                snprintf(err, errlen, "%s: copy failed: %s", out_path, strerror(errno));
                rc = -1;
        }
        close(out);
        sha256_end(h, sha);
        *size = total;
        return rc;
}

static int add_file(struct manifest *m, const char *kind, int fd, const char *src,
                    const char *stage, char *err, size_t errlen)
{
        struct manifest_file *e = &m->files[m->nfiles];
        char *copy = strdup(src), *abs = realpath(src, NULL);
        const char *base = basename(copy);
        snprintf(e->kind, sizeof(e->kind), "%s", kind);
        snprintf(e->member, sizeof(e->member), "%s/%s", kind, base);
        snprintf(e->path, sizeof(e->path), "%s", abs ? abs : src);
        free(abs);
        free(copy);
        if (strpbrk(e->path, "\n\r") || strchr(e->member, ' ')) {
                snprintf(err, errlen, "%s: names with spaces or line breaks are not archived", src);
                return -1;
        }
        char dir[4096], dst[8192];
        snprintf(dir, sizeof(dir), "%s/%s", stage, kind);
        snprintf(dst, sizeof(dst), "%s/%s", stage, e->member);
        struct stat st;
        fstat(fd, &st);
        if (mkdir(dir, 0755) < 0 ||
            copy_hashed(fd, dst, st.st_mode, &e->size, e->sha256, err, errlen) < 0)
                return -1;
        m->nfiles++;
        return 0;
}

int archive_create(const char *name, const char *disk, const char *config, const char *out,
                   char *err, size_t errlen)
{
        if (access(out, F_OK) == 0) {
                snprintf(err, errlen, "%s already exists", out);
                return -1;
        }
        int dfd = offline_open(disk, false, err, errlen);
        if (dfd < 0)
                return -1;
        int cfd = config ? open(config, O_RDONLY | O_CLOEXEC) : -1;
        if (config && cfd < 0) {
                snprintf(err, errlen, "%s: %s", config, strerror(errno));
                close(dfd);
                return -1;
        }
        struct manifest m = {0};
        snprintf(m.name, sizeof(m.name), "%s", name);
        time_t now = time(NULL);
        strftime(m.created, sizeof(m.created), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
        char stage[4096], path[8192], tmp[4096];
        int rc = scratch_near(out, stage, sizeof(stage), err, errlen);
        if (rc == 0)
                rc = add_file(&m, "disk", dfd, disk, stage, err, errlen);
        if (rc == 0 && config)
                rc = add_file(&m, "config", cfd, config, stage, err, errlen);
        snprintf(path, sizeof(path), "%s/MANIFEST", stage);
        if (rc == 0 && manifest_write(path, &m) < 0) {
                snprintf(err, errlen, "%s: cannot write MANIFEST", stage);
                rc = -1;
        }
        snprintf(tmp, sizeof(tmp), "%s.partial", out);
        char *tar[] = {"tar",
                       "--create",
                       "--format=gnu",
                       "--sparse",
                       "--sort=name",
                       "--owner=0",
                       "--group=0",
                       "--numeric-owner",
                       "--use-compress-program=" COMPRESSOR,
                       "-f",
                       tmp,
                       "-C",
                       stage,
                       "MANIFEST",
                       "disk",
                       config ? "config" : NULL,
                       NULL};
        if (rc == 0)
                rc = run_program(tar, NULL, err, errlen);
        char sha[SHA256_HEX_LEN];
        if (rc == 0 && sha256_file_hex(tmp, sha) < 0) {
                snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
                rc = -1;
        }
        if (rc == 0) {
                char side[4096], *copy = strdup(out);
                snprintf(side, sizeof(side), "%s" SIDE_EXT, out);
                FILE *f = fopen(side, "w");
                if (!f || fprintf(f, "%s  %s\n", sha, basename(copy)) < 0 || fclose(f) != 0 ||
                    rename(tmp, out) < 0) {
                        snprintf(err, errlen, "%s: %s", out, strerror(errno));
                        rc = -1;
                }
                free(copy);
        }
        if (rc < 0)
                unlink(tmp);
        rm_tree(stage);
        close(dfd);
        if (cfd >= 0)
                close(cfd);
        return rc;
}

/* Full verification; on success leaves the extracted members in *stage
 * (caller removes it) and the parsed manifest in m. */
static int verify_into(const char *archive, const char *near, struct manifest *m, char *stage,
                       size_t stagelen, char *err, size_t errlen)
{
        char side[4096], want[SHA256_HEX_LEN] = "", got[SHA256_HEX_LEN];
        snprintf(side, sizeof(side), "%s" SIDE_EXT, archive);
        FILE *f = fopen(side, "r");
        if (!f || fscanf(f, "%64s", want) != 1 || strlen(want) != 64) {
                snprintf(err, errlen, "%s: missing or malformed checksum file %s", archive, side);
                if (f)
                        fclose(f);
                return -1;
        }
        fclose(f);
        if (sha256_file_hex(archive, got) < 0) {
                snprintf(err, errlen, "%s: %s", archive, strerror(errno));
                return -1;
        }
        if (strcmp(want, got)) {
                snprintf(err, errlen,
                         "%s: SHA-256 mismatch: archive is damaged (expected %.12s..., got "
                         "%.12s...)",
                         archive, want, got);
                return -1;
        }
        if (scratch_near(near, stage, stagelen, err, errlen) < 0)
                return -1;
        char *tar[] = {"tar",
                       "--extract",
                       "--no-same-owner",
                       "--no-overwrite-dir",
                       "--use-compress-program=zstd -q",
                       "-f",
                       (char *)archive,
                       "-C",
                       stage,
                       NULL};
        if (run_program(tar, NULL, err, errlen) < 0)
                goto fail;
        char path[8192];
        snprintf(path, sizeof(path), "%s/MANIFEST", stage);
        if (manifest_read(path, m, err, errlen) < 0)
                goto fail;
        /* Nothing but the manifest's members may be in the archive. */
        char list[4096];
        snprintf(list, sizeof(list), "%s/.members", stage);
        char *ls[] = {"tar", "--list",        "--use-compress-program=zstd -q",
                      "-f",  (char *)archive, NULL};
        if (run_program(ls, list, err, errlen) < 0)
                goto fail;
        f = fopen(list, "r");
        char line[4200];
        while (f && fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = 0;
                bool known =
                    !strcmp(line, "MANIFEST") || !strcmp(line, "disk/") || !strcmp(line, "config/");
                for (unsigned i = 0; i < m->nfiles; i++)
                        known |= !strcmp(line, m->files[i].member);
                if (!known) {
                        snprintf(err, errlen, "%s: unexpected member '%s'", archive, line);
                        fclose(f);
                        goto fail;
                }
        }
        if (f)
                fclose(f);
        for (unsigned i = 0; i < m->nfiles; i++) {
                const struct manifest_file *e = &m->files[i];
                struct stat st;
                snprintf(path, sizeof(path), "%s/%s", stage, e->member);
                if (stat(path, &st) < 0 || sha256_file_hex(path, got) < 0) {
                        snprintf(err, errlen, "%s: member %s missing", archive, e->member);
                        goto fail;
                }
                if ((uint64_t)st.st_size != e->size || strcmp(got, e->sha256)) {
                        snprintf(err, errlen, "%s: member %s does not match MANIFEST", archive,
                                 e->member);
                        goto fail;
                }
        }
        return 0;
fail:
        rm_tree(stage);
        stage[0] = 0;
        return -1;
}

int archive_verify(const char *archive, char *err, size_t errlen)
{
        struct manifest m;
        char stage[4096];
        int rc = verify_into(archive, archive, &m, stage, sizeof(stage), err, errlen);
        if (rc == 0)
                rm_tree(stage);
        return rc;
}

static void target_of(const struct manifest_file *e, const char *to_dir, char *out, size_t len)
{
        if (to_dir)
                snprintf(out, len, "%s/%s", to_dir, strchr(e->member, '/') + 1);
        else
                snprintf(out, len, "%s", e->path);
}

int archive_restore(const char *archive, const char *to_dir, bool force, char *err, size_t errlen)
{
        struct manifest m;
        char stage[4096];
        /* Scratch next to the destination when it is known, so placing the
         * disk is a rename; otherwise (or across file systems) a copy. */
        char near[4096];
        snprintf(near, sizeof(near), "%s/x", to_dir ? to_dir : ".");
        if (!to_dir)
                snprintf(near, sizeof(near), "%s", archive);
        if (verify_into(archive, near, &m, stage, sizeof(stage), err, errlen) < 0)
                return -1;
        int rc = 0;
        int locks[MANIFEST_MAX_FILES] = {-1, -1};
        char target[MANIFEST_MAX_FILES][4096];
        for (unsigned i = 0; i < m.nfiles && rc == 0; i++) {
                target_of(&m.files[i], to_dir, target[i], sizeof(target[i]));
                if (access(target[i], F_OK) != 0)
                        continue;
                if (!force) {
                        snprintf(err, errlen, "%s exists; restore with --force to replace it",
                                 target[i]);
                        rc = -1;
                } else if (!strcmp(m.files[i].kind, "disk")) {
                        locks[i] = offline_open(target[i], true, err, errlen);
                        rc = locks[i] < 0 ? -1 : 0;
                }
        }
        for (unsigned i = 0; i < m.nfiles && rc == 0; i++) {
                char src[8192], got[SHA256_HEX_LEN];
                snprintf(src, sizeof(src), "%s/%s", stage, m.files[i].member);
                if (rename(src, target[i]) < 0) {
                        /* Another file system (config elsewhere): copy instead. */
                        char tmp[4200];
                        uint64_t size;
                        snprintf(tmp, sizeof(tmp), "%s.restoring", target[i]);
                        int in = open(src, O_RDONLY | O_CLOEXEC);
                        unlink(tmp);
                        rc = in < 0 ? -1 : copy_hashed(in, tmp, 0644, &size, got, err, errlen);
                        if (in >= 0)
                                close(in);
                        if (rc == 0 && rename(tmp, target[i]) < 0) {
                                snprintf(err, errlen, "%s: %s", target[i], strerror(errno));
                                rc = -1;
                        }
                        if (rc < 0)
                                break;
                }
                if (sha256_file_hex(target[i], got) < 0 || strcmp(got, m.files[i].sha256)) {
                        snprintf(err, errlen, "%s: restored copy does not match the archive",
                                 target[i]);
                        rc = -1;
                } else {
                        printf("restored %s (%s)\n", target[i], m.files[i].kind);
                }
        }
        for (unsigned i = 0; i < MANIFEST_MAX_FILES; i++)
                if (locks[i] >= 0)
                        close(locks[i]);
        rm_tree(stage);
        return rc;
}

int archive_purge(const char *archive, bool yes, char *err, size_t errlen)
{
        struct manifest m;
        char stage[4096];
        if (verify_into(archive, archive, &m, stage, sizeof(stage), err, errlen) < 0)
                return -1;
        rm_tree(stage);
        int fds[MANIFEST_MAX_FILES] = {-1, -1}, rc = 0;
        for (unsigned i = 0; i < m.nfiles && rc == 0; i++) {
                const struct manifest_file *e = &m.files[i];
                char got[SHA256_HEX_LEN];
                if (access(e->path, F_OK) != 0)
                        continue; /* already gone */
                fds[i] = offline_open(e->path, true, err, errlen);
                if (fds[i] < 0) {
                        rc = -1;
                } else if (sha256_file_hex(e->path, got) < 0 || strcmp(got, e->sha256)) {
                        snprintf(err, errlen,
                                 "%s changed since it was archived; archive it again before "
                                 "purging",
                                 e->path);
                        rc = -1;
                }
        }
        for (unsigned i = 0; i < m.nfiles && rc == 0; i++) {
                if (fds[i] < 0)
                        continue;
                if (!yes) {
                        printf("would delete %s (%s, archived in %s)\n", m.files[i].path,
                               m.files[i].kind, archive);
                } else if (unlink(m.files[i].path) < 0) {
                        snprintf(err, errlen, "%s: %s", m.files[i].path, strerror(errno));
                        rc = -1;
                } else {
                        printf("deleted %s\n", m.files[i].path);
                }
        }
        for (unsigned i = 0; i < MANIFEST_MAX_FILES; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        if (rc == 0 && !yes) {
                snprintf(err, errlen, "purge deletes the originals: run it again with --yes");
                rc = -1;
        }
        return rc;
}
