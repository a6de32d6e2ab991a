/* "New domain from template": clone {domain, new} makes a linked copy of a
 * stopped domain (overlay disks, a new config), then create starts it with
 * the config tandemd wrote (docs/storage.md). */
#include <string.h>

#include "shell.h"
#include "tandem_client.h"

struct clone_job {
        char tmpl[128], name[128];
};

static void started(struct shell *s, json_object *res, const char *code, const char *message,
                    void *data)
{
        (void)code;
        struct clone_job *j = data;
        if (res)
                shell_status(s, "Clone: %s cloned from %s and started", j->name, j->tmpl);
        else
                shell_status(s, "Clone: %s was cloned from %s but did not start: %s", j->name,
                             j->tmpl, message);
        g_free(j);
}

static void cloned(struct shell *s, json_object *res, const char *code, const char *message,
                   void *data)
{
        (void)code;
        struct clone_job *j = data;
        json_object *cfg, *path;
        if (!res || !json_object_object_get_ex(res, "config", &cfg) ||
            !json_object_object_get_ex(res, "config_path", &path)) {
                shell_status(s, "Clone: cloning %s failed: %s", j->tmpl,
                             res ? "tandemd's reply has no config" : message);
                g_free(j);
                return;
        }
        json_object *p = json_object_new_object();
        json_object_object_add(p, "config", json_object_get(cfg));
        json_object_object_add(p, "path", json_object_get(path));
        daemon_call_async(s, "create", p, started, j);
}

void clone_and_start(struct shell *s, const char *tmpl, const char *name)
{
        struct clone_job *j = g_new0(struct clone_job, 1);
        g_strlcpy(j->tmpl, tmpl, sizeof(j->tmpl));
        g_strlcpy(j->name, name, sizeof(j->name));
        json_object *p = json_object_new_object();
        json_object_object_add(p, "domain", json_object_new_string(tmpl));
        json_object_object_add(p, "new", json_object_new_string(name));
        daemon_call_async(s, "clone", p, cloned, j);
}
