/* Export and import copy whole disks: they run in a child process so tandemd
 * keeps serving other clients meanwhile. The child reports progress (events
 * "export-progress"/"import-progress" on the event topic) and ends with one
 * result or error, which the parent turns into the reply. */
#ifndef TANDEM_API_IMAGE_JOB_H
#define TANDEM_API_IMAGE_JOB_H

#include <json-c/json.h>
#include <stdint.h>

struct client;

/* Runs in the child with a copy of tandemd's memory (only fds 0-2 stay open);
 * ends with image_job_reply or image_job_fail. */
typedef void (*image_job_fn)(void *arg);

/* kind: "export" or "import"; domain: for events and the log, or NULL.
 * Replies to c itself when the child cannot be started. */
void image_job_start(struct client *c, json_object *id, const char *kind, const char *domain,
                     image_job_fn fn, void *arg);

/* In the child: the reply (takes the reference), or an error (code "image"). */
void image_job_reply(json_object *result);
void image_job_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* In the child: progress of the current file, at most a few times a second. */
void image_job_progress(const char *file, uint64_t done, uint64_t total);

#endif
