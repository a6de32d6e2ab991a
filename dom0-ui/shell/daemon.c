/* Everything tandem-shell asks tandemd, through libtandem. */
#include <string.h>

#include "shell.h"
#include "tandem_client.h"

static const char *str_member(json_object *o, const char *key)
{
        json_object *v;
        return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

/* dom: a row of tandemd's list, or a state event (which names its domain
 * "domain"). */
static void set_row(struct shell *s, json_object *dom)
{
        const char *name = str_member(dom, "name");
        if (!name && str_member(dom, "state"))
                name = str_member(dom, "domain");
        if (!name)
                return;
        const char *state = str_member(dom, "state");
        json_object *v;
        char cpu[32] = "", mem[32] = "";
        if (json_object_object_get_ex(dom, "cpu_percent", &v) ||
            json_object_object_get_ex(dom, "cpu", &v))
                snprintf(cpu, sizeof(cpu), "%.0f%%", json_object_get_double(v));
        if (json_object_object_get_ex(dom, "memory_mb", &v) ||
            json_object_object_get_ex(dom, "memory", &v))
                snprintf(mem, sizeof(mem), "%lld MiB", (long long)json_object_get_int64(v));
        const char *reason = str_member(dom, "reason");
        if (state)
                for (unsigned i = 0; i < s->nconsoles; i++)
                        if (!strcmp(console_domain(s->consoles[i]), name))
                                console_set_domain_state(s->consoles[i], state, reason);
        GtkTreeIter it;
        gboolean found = FALSE;
        for (gboolean ok = gtk_tree_model_get_iter_first(GTK_TREE_MODEL(s->domains), &it); ok;
             ok = gtk_tree_model_iter_next(GTK_TREE_MODEL(s->domains), &it)) {
                char *n;
                gtk_tree_model_get(GTK_TREE_MODEL(s->domains), &it, COL_NAME, &n, -1);
                found = !strcmp(n, name);
                g_free(n);
                if (found)
                        break;
        }
        if (state && !strcmp(state, "destroyed")) {
                /* gone from tandemd; its panes keep saying so */
                if (found)
                        gtk_list_store_remove(s->domains, &it);
                return;
        }
        if (!found)
                gtk_list_store_append(s->domains, &it);
        gtk_list_store_set(s->domains, &it, COL_NAME, name, -1);
        if (state)
                gtk_list_store_set(s->domains, &it, COL_STATE, state, -1);
        if (cpu[0])
                gtk_list_store_set(s->domains, &it, COL_CPU, cpu, -1);
        if (mem[0])
                gtk_list_store_set(s->domains, &it, COL_MEM, mem, -1);
        /* every domain that runs gets its pane (side by side and a tab) */
        if (state && (!strcmp(state, "running") || !strcmp(state, "paused")))
                shell_add_console(s, name, NULL);
}

void daemon_refresh(struct shell *s)
{
        if (!s->calls)
                return;
        struct tandem_error err;
        json_object *list = tandem_list(s->calls, &err);
        if (!list) {
                shell_status(s, "tandemd: %s", err.message);
                return;
        }
        for (size_t i = 0; i < json_object_array_length(list); i++)
                set_row(s, json_object_array_get_idx(list, i));
        json_object_put(list);
}

static gboolean on_daemon_event(GIOChannel *ch, GIOCondition cond, gpointer data)
{
        (void)ch, (void)cond;
        struct shell *s = data;
        json_object *ev;
        struct tandem_error err;
        int rc;
        bool state_changed = false;
        while ((rc = tandem_next_event(s->events, 0, &ev, &err)) == 1) {
                const char *kind = str_member(ev, "event");
                if (kind && !strcmp(kind, "metrics"))
                        graphs_sample(s, ev);
                else if (kind && !strcmp(kind, "phase-progress"))
                        phase_panel_progress(s, ev);
                else if (kind && !strcmp(kind, "state")) {
                        state_changed = true;
                        set_row(s, ev);
                }
                json_object_put(ev);
        }
        /* state events name the domain but carry no row; the list does */
        if (state_changed)
                daemon_refresh(s);
        if (rc < 0) {
                shell_status(s, "tandemd connection lost: %s", err.message);
                s->events_watch = 0;
                return G_SOURCE_REMOVE;
        }
        return G_SOURCE_CONTINUE;
}

void daemon_connect(struct shell *s)
{
        struct tandem_error err;
        s->calls = tandem_connect(s->socket_path, &err);
        if (!s->calls) {
                shell_status(s, "tandemd not reachable: %s", err.message);
                return;
        }
        s->events = tandem_connect(s->socket_path, &err);
        if (s->events && tandem_subscribe(s->events, NULL, NULL, &err) == 0) {
                GIOChannel *ch = g_io_channel_unix_new(tandem_client_fd(s->events));
                s->events_watch = g_io_add_watch(ch, G_IO_IN | G_IO_HUP, on_daemon_event, s);
                g_io_channel_unref(ch);
        } else {
                shell_status(s, "tandemd events unavailable: %s", err.message);
        }
        daemon_refresh(s);
}

struct action {
        struct shell *s;
        char method[32];
        json_object *params, *result;
        char error[600], code[32];
        daemon_done_fn done;
        void *data;
};

static void action_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
        (void)src, (void)c;
        struct action *a = data;
        struct tandem_error err;
        /* a worker gets its own connection: clients are not thread-safe */
        struct tandem_client *cl = tandem_connect(a->s->socket_path, &err);
        if (!cl || tandem_call_timeout(cl, a->method, json_object_get(a->params), 600000,
                                       &a->result, &err) < 0) {
                snprintf(a->error, sizeof(a->error), "%s", err.message);
                g_strlcpy(a->code, err.code, sizeof(a->code));
        }
        if (cl)
                tandem_close(cl);
        g_task_return_boolean(task, TRUE);
}

static gboolean pulse(gpointer data)
{
        struct shell *s = data;
        gtk_progress_bar_pulse(GTK_PROGRESS_BAR(s->progress));
        return G_SOURCE_CONTINUE;
}

static void action_done(GObject *src, GAsyncResult *res, gpointer data)
{
        (void)src, (void)res;
        struct action *a = data;
        struct shell *s = a->s;
        if (--s->busy_calls == 0) {
                guint pulser = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(s->progress), "pulser"));
                if (pulser)
                        g_source_remove(pulser);
                g_object_set_data(G_OBJECT(s->progress), "pulser", NULL);
                gtk_widget_hide(s->progress);
        }
        if (a->error[0])
                shell_status(s, "%s: %s", a->method, a->error);
        else
                shell_status(s, "%s done", a->method);
        daemon_refresh(s);
        if (a->done)
                a->done(s, a->result, a->error[0] ? a->code : NULL, a->error, a->data);
        json_object_put(a->result);
        json_object_put(a->params);
        g_free(a);
}

void daemon_call_async(struct shell *s, const char *method, json_object *params,
                       daemon_done_fn done, void *data)
{
        struct action *a = g_new0(struct action, 1);
        a->s = s;
        g_strlcpy(a->method, method, sizeof(a->method));
        a->params = params;
        a->done = done;
        a->data = data;
        s->busy_calls++;
        gtk_widget_show(s->progress);
        if (!g_object_get_data(G_OBJECT(s->progress), "pulser"))
                g_object_set_data(G_OBJECT(s->progress), "pulser",
                                  GUINT_TO_POINTER(g_timeout_add(100, pulse, s)));
        shell_status(s, "%s\u2026", method);
        GTask *t = g_task_new(NULL, NULL, action_done, a);
        g_task_set_task_data(t, a, NULL);
        g_task_run_in_thread(t, action_thread);
        g_object_unref(t);
}

void daemon_action(struct shell *s, const char *method, json_object *params)
{
        daemon_call_async(s, method, params, NULL, NULL);
}

int daemon_call(struct shell *s, const char *method, json_object *params, json_object **result,
                char *code, size_t codelen, char *msg, size_t msglen)
{
        struct tandem_error err;
        *result = NULL;
        if (!s->calls) {
                json_object_put(params);
                g_strlcpy(code, TANDEM_E_CONNECT, codelen);
                g_strlcpy(msg, "tandemd is not reachable", msglen);
                return -1;
        }
        if (tandem_call(s->calls, method, params, result, &err) < 0) {
                g_strlcpy(code, err.code, codelen);
                if (!strcmp(err.code, TANDEM_E_UNKNOWN))
                        snprintf(msg, msglen, "not available (tandemd has no %s method)", method);
                else
                        g_strlcpy(msg, err.message, msglen);
                return -1;
        }
        return 0;
}
