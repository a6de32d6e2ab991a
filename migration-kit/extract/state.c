#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void masked_prefix_hash(const struct source *s, uint32_t len, char out[SHA256_HEX_LEN])
{
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy)
                abort();
        memcpy(copy, s->data, len);
        for (uint32_t off = 0; off + TICKET_LEN <= len; off += TICKET_LEN)
                copy[off + STATUS_COL] = 0;
        sha256_hex(copy, len, out);
        free(copy);
}

static const char *get_str(json_object *o, const char *key)
{
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                   ? json_object_get_string(v)
                   : NULL;
}

static int apply_tickets(json_object *st, struct extraction *x, char *err, size_t errlen)
{
        const struct source *s = &x->src[SRC_TICKETS];
        json_object *off;
        const char *hash = get_str(st, "prefix_sha256_masked"), *statuses = get_str(st, "statuses");
        if (!json_object_object_get_ex(st, "offset", &off) || !hash || !statuses) {
                snprintf(err, errlen, "state: TICKETS.DAT entry lacks offset/prefix/statuses");
                return -1;
        }
        int64_t from = json_object_get_int64(off);
        if (from < 0 || from % TICKET_LEN || (size_t)from / TICKET_LEN != strlen(statuses)) {
                snprintf(err, errlen, "state: TICKETS.DAT offset %lld is not consistent",
                         (long long)from);
                return -1;
        }
        if (from > s->size) {
                snprintf(err, errlen,
                         "TICKETS.DAT shrank to %u bytes below the %lld already extracted: the "
                         "file was rewritten; run a full extraction without --since",
                         s->size, (long long)from);
                return -1;
        }
        char now[SHA256_HEX_LEN];
        masked_prefix_hash(s, (uint32_t)from, now);
        if (strcmp(now, hash)) {
                snprintf(err, errlen,
                         "TICKETS.DAT was rewritten: its first %lld bytes differ from the last "
                         "extraction (beyond cancellations); run a full extraction without --since",
                         (long long)from);
                return -1;
        }
        x->tickets_from = (uint32_t)from;
        for (size_t i = 0; i < x->ntickets; i++) {
                const struct ticket *t = &x->tickets[i];
                if (t->offset < from && statuses[t->offset / TICKET_LEN] != t->status) {
                        x->status_changed[i] = true;
                        x->nstatus_changed++;
                }
        }
        return 0;
}

int state_apply(const char *path, struct extraction *x, char *err, size_t errlen)
{
        x->incremental = true;
        x->status_changed = calloc(x->ntickets + 1, sizeof(bool));
        if (!x->status_changed)
                abort();
        for (int k = 0; k < SRC_COUNT; k++)
                x->src[k].moved = x->src[k].present;
        if (access(path, F_OK) != 0)
                return 0; /* first run: everything moves */
        json_object *root = json_object_from_file(path);
        json_object *files;
        if (!root || !json_object_object_get_ex(root, "files", &files)) {
                snprintf(err, errlen, "state %s: not a tandem-extract state file", path);
                json_object_put(root);
                return -1;
        }
        int rc = 0;
        for (int k = 0; k < SRC_COUNT && rc == 0; k++) {
                struct source *s = &x->src[k];
                json_object *st;
                if (!json_object_object_get_ex(files, s->name, &st))
                        continue;
                if (!s->present) {
                        snprintf(err, errlen,
                                 "%s was extracted before but is gone from the disk; run a full "
                                 "extraction without --since",
                                 s->name);
                        rc = -1;
                        break;
                }
                if (k == SRC_TICKETS) {
                        rc = apply_tickets(st, x, err, errlen);
                } else {
                        const char *h = get_str(st, "sha256");
                        s->moved = !h || strcmp(h, s->sha256) != 0;
                }
        }
        json_object_put(root);
        return rc;
}

int state_save(const char *path, const struct extraction *x, char *err, size_t errlen)
{
        json_object *root = json_object_new_object(), *files = json_object_new_object();
        json_object_object_add(root, "version", json_object_new_int(1));
        json_object_object_add(root, "files", files);
        for (int k = 0; k < SRC_COUNT; k++) {
                const struct source *s = &x->src[k];
                if (!s->present)
                        continue;
                json_object *st = json_object_new_object();
                if (k == SRC_TICKETS) {
                        uint32_t whole = s->size - s->size % TICKET_LEN;
                        char hash[SHA256_HEX_LEN];
                        masked_prefix_hash(s, whole, hash);
                        char *statuses = malloc(whole / TICKET_LEN + 1);
                        if (!statuses)
                                abort();
                        for (uint32_t i = 0; i < whole / TICKET_LEN; i++) {
                                uint8_t b = s->data[i * TICKET_LEN + STATUS_COL];
                                statuses[i] = b == 'S' || b == 'C' ? (char)b : '?';
                        }
                        statuses[whole / TICKET_LEN] = 0;
                        json_object_object_add(st, "offset", json_object_new_int64(whole));
                        json_object_object_add(st, "prefix_sha256_masked",
                                               json_object_new_string(hash));
                        json_object_object_add(st, "statuses", json_object_new_string(statuses));
                        free(statuses);
                }
                json_object_object_add(st, "sha256", json_object_new_string(s->sha256));
                json_object_object_add(files, s->name, st);
        }
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        int rc = json_object_to_file_ext(tmp, root, JSON_C_TO_STRING_PRETTY);
        json_object_put(root);
        int fd = rc == 0 ? open(tmp, O_RDONLY | O_CLOEXEC) : -1;
        if (fd < 0 || fsync(fd) < 0 || rename(tmp, path) < 0) {
                snprintf(err, errlen, "state %s: cannot write: %s", path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        close(fd);
        return 0;
}
