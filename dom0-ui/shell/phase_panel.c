/* The phase panel: where the migration stands (phase-status), the plan's
 * phases, and Apply / Rollback behind a confirmation, with a progress bar
 * that follows tandemd's phase-progress events while it works (no polling;
 * docs/phase-plan.md). */
#include <string.h>

#include "shell.h"
#include "tandem_client.h"

struct phase_panel {
        struct shell *s;
        GtkWidget *dialog, *summary, *current, *next, *error, *plan_entry, *progress;
        GtkWidget *apply, *rollback;
        bool busy; /* the panel stays open while a change runs */
};

static const char *str_of(json_object *o, const char *key)
{
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                   ? json_object_get_string(v)
                   : NULL;
}

static int int_of(json_object *o, const char *key)
{
        json_object *v;
        return json_object_object_get_ex(o, key, &v) ? json_object_get_int(v) : 0;
}

static void join_list(GString *out, json_object *o, const char *key)
{
        json_object *a;
        if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(a); i++)
                g_string_append_printf(out, "%s%s", i ? ", " : "",
                                       json_object_get_string(json_object_array_get_idx(a, i)));
}

/* "Phase 2: title — runs a, b; kiosk a, b" */
static char *describe_phase(json_object *ph)
{
        if (!ph)
                return g_strdup("none");
        GString *g = g_string_new(NULL);
        g_string_append_printf(g, "%d: %s\nruns: ", int_of(ph, "phase"),
                               str_of(ph, "title") ? str_of(ph, "title") : "");
        join_list(g, ph, "run");
        json_object *k;
        if (json_object_object_get_ex(ph, "kiosk", &k)) {
                g_string_append(g, "; kiosk: ");
                join_list(g, k, "shows");
        }
        if (json_object_object_get_ex(ph, "retire", &k) && json_object_array_length(k)) {
                g_string_append(g, "; retires: ");
                join_list(g, ph, "retire");
        }
        return g_string_free(g, FALSE);
}

static void show_error(struct phase_panel *p, const char *msg)
{
        gtk_label_set_text(GTK_LABEL(p->error), msg ? msg : "");
        gtk_widget_set_visible(p->error, msg && msg[0]);
}

/* Reads phase-status into the panel. */
static void refresh(struct phase_panel *p)
{
        json_object *st;
        char code[32], msg[600];
        if (daemon_call(p->s, "phase-status", NULL, &st, code, sizeof(code), msg, sizeof(msg)) <
            0) {
                gtk_label_set_text(GTK_LABEL(p->summary), msg);
                gtk_widget_set_sensitive(p->apply, FALSE);
                gtk_widget_set_sensitive(p->rollback, FALSE);
                shell_status(p->s, "Phase: %s", msg);
                return;
        }
        json_object *cur = NULL, *next = NULL;
        json_object_object_get_ex(st, "current", &cur);
        json_object_object_get_ex(st, "next", &next);
        int phase = int_of(st, "phase"), phases = int_of(st, "phases");
        const char *title = str_of(st, "title"), *path = str_of(st, "plan_path");
        char *summary = title ? g_strdup_printf("Plan \"%s\": phase %d of %d", title, phase, phases)
                              : g_strdup_printf("No phase plan is applied (phase %d)", phase);
        gtk_label_set_text(GTK_LABEL(p->summary), summary);
        char *c = describe_phase(cur), *n = describe_phase(next);
        gtk_label_set_text(GTK_LABEL(p->current), c);
        gtk_label_set_text(GTK_LABEL(p->next), n);
        if (path && !gtk_entry_get_text(GTK_ENTRY(p->plan_entry))[0])
                gtk_entry_set_text(GTK_ENTRY(p->plan_entry), path);
        const char *last = str_of(st, "last_error");
        char *err = last ? g_strdup_printf("Last change failed: %s", last) : NULL;
        show_error(p, err);
        gtk_widget_set_sensitive(p->apply, !p->busy && (!title || next));
        gtk_widget_set_sensitive(p->rollback, !p->busy && phase > 0);
        shell_status(p->s, "Phase: phase-status answered: %s%s%s", summary, err ? "; " : "",
                     err ? err : "");
        g_free(err);
        g_free(summary);
        g_free(c);
        g_free(n);
        json_object_put(st);
}

void phase_panel_progress(struct shell *s, json_object *ev)
{
        struct phase_panel *p = s->phase_panel;
        const char *state = str_of(ev, "state"), *text = str_of(ev, "text");
        int step = int_of(ev, "step"), steps = int_of(ev, "steps");
        /* "done"/"failed" end the change: phase-apply's own reply says how */
        if (!p || !p->busy || !state || strcmp(state, "running") || steps <= 0)
                return;
        const char *action = str_of(ev, "action");
        char *what = g_strdup_printf("%sStep %d of %d: %s",
                                     action && !strcmp(action, "phase-undo") ? "Undoing: " : "",
                                     step, steps, text ? text : "");
        gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(p->progress),
                                      CLAMP((double)(step - 1) / steps, 0.0, 1.0));
        gtk_progress_bar_set_text(GTK_PROGRESS_BAR(p->progress), what);
        shell_status(s, "Phase: %s", what);
        g_free(what);
}

static void set_busy(struct phase_panel *p, bool busy, const char *what)
{
        p->busy = busy;
        gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(p->progress), 0);
        gtk_progress_bar_set_text(GTK_PROGRESS_BAR(p->progress), what);
        gtk_widget_set_visible(p->progress, busy);
        gtk_widget_set_sensitive(p->apply, !busy);
        gtk_widget_set_sensitive(p->rollback, !busy);
        if (busy)
                shell_status(p->s, "Phase: progress shown: %s", what);
}

static void change_done(struct shell *s, json_object *res, const char *code, const char *message,
                        void *data)
{
        (void)code;
        struct phase_panel *p = data;
        set_busy(p, false, "");
        if (res)
                shell_status(s, "Phase: now in phase %d (was %d)", int_of(res, "phase"),
                             int_of(res, "from"));
        refresh(p);
        if (!res) {
                char *m = g_strdup_printf("Failed: %s", message);
                show_error(p, m);
                shell_status(s, "Phase: %s", m);
                g_free(m);
        }
}

static bool confirm(struct phase_panel *p, const char *title, const char *question,
                    const char *detail, const char *ok)
{
        GtkWidget *d =
            gtk_message_dialog_new(GTK_WINDOW(p->dialog), GTK_DIALOG_MODAL, GTK_MESSAGE_QUESTION,
                                   GTK_BUTTONS_NONE, "%s", question);
        gtk_window_set_title(GTK_WINDOW(d), title);
        gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", detail);
        gtk_dialog_add_buttons(GTK_DIALOG(d), "_Cancel", GTK_RESPONSE_CANCEL, ok, GTK_RESPONSE_OK,
                               NULL);
        gtk_dialog_set_default_response(GTK_DIALOG(d), GTK_RESPONSE_CANCEL);
        shell_status(p->s, "Phase: confirm: %s", question);
        bool yes = gtk_dialog_run(GTK_DIALOG(d)) == GTK_RESPONSE_OK;
        gtk_widget_destroy(d);
        if (!yes)
                shell_status(p->s, "Phase: cancelled");
        return yes;
}

static void append_lines(GString *g, json_object *o, const char *key, const char *head)
{
        json_object *a;
        if (!json_object_object_get_ex(o, key, &a) || !json_object_array_length(a))
                return;
        g_string_append_printf(g, "%s:\n", head);
        for (size_t i = 0; i < json_object_array_length(a); i++)
                g_string_append_printf(g, "  %s\n",
                                       json_object_get_string(json_object_array_get_idx(a, i)));
}

static void on_apply(GtkButton *b, gpointer data)
{
        (void)b;
        struct phase_panel *p = data;
        const char *path = gtk_entry_get_text(GTK_ENTRY(p->plan_entry));
        char *text = NULL;
        GError *gerr = NULL;
        if (!path[0] || !g_file_get_contents(path, &text, NULL, &gerr)) {
                char *m = g_strdup_printf("Plan file: %s", gerr ? gerr->message : "none given");
                show_error(p, m);
                shell_status(p->s, "Phase: %s", m);
                g_free(m);
                g_clear_error(&gerr);
                return;
        }
        /* what applying would do, from tandemd itself (changes nothing) */
        json_object *params = json_object_new_object(), *plan;
        json_object_object_add(params, "plan", json_object_new_string(text));
        json_object_object_add(params, "path", json_object_new_string(path));
        g_free(text);
        char code[32], msg[600];
        if (daemon_call(p->s, "phase-plan", json_object_get(params), &plan, code, sizeof(code), msg,
                        sizeof(msg)) < 0) {
                char *m = g_strdup_printf("Plan refused: %s", msg);
                show_error(p, m);
                shell_status(p->s, "Phase: %s", m);
                g_free(m);
                json_object_put(params);
                return;
        }
        GString *detail = g_string_new(NULL);
        append_lines(detail, plan, "steps", "Steps");
        append_lines(detail, plan, "changes", "Changes");
        char *q = g_strdup_printf("Apply phase %d (%s)?", int_of(plan, "phase"),
                                  str_of(plan, "title") ? str_of(plan, "title") : "");
        json_object_put(plan);
        if (confirm(p, "Apply phase?", q, detail->str, "_Apply")) {
                show_error(p, NULL);
                set_busy(p, true, "Applying\u2026");
                daemon_call_async(p->s, "phase-apply", params, change_done, p);
        } else {
                json_object_put(params);
        }
        g_free(q);
        g_string_free(detail, TRUE);
}

static void on_rollback(GtkButton *b, gpointer data)
{
        (void)b;
        struct phase_panel *p = data;
        if (!confirm(p, "Roll back?", "Roll back to the previous phase?",
                     "The domains, devices and kiosk of the previous phase are restored.",
                     "_Roll back"))
                return;
        show_error(p, NULL);
        set_busy(p, true, "Rolling back\u2026");
        daemon_call_async(p->s, "phase-rollback", NULL, change_done, p);
}

static void on_response(GtkDialog *d, gint response, gpointer data)
{
        (void)response;
        struct phase_panel *p = data;
        if (p->busy) {
                shell_status(p->s, "Phase: a change is under way; the panel closes after it");
                return;
        }
        if (p->s->phase_panel == p)
                p->s->phase_panel = NULL;
        gtk_widget_destroy(GTK_WIDGET(d));
        g_free(p);
}

static gboolean on_delete(GtkWidget *w, GdkEvent *ev, gpointer data)
{
        (void)w, (void)ev;
        return ((struct phase_panel *)data)->busy;
}

static GtkWidget *heading(const char *text)
{
        GtkWidget *l = gtk_label_new(text);
        gtk_widget_set_halign(l, GTK_ALIGN_START);
        gtk_style_context_add_class(gtk_widget_get_style_context(l), "dim-label");
        return l;
}

static GtkWidget *value(void)
{
        GtkWidget *l = gtk_label_new("");
        gtk_widget_set_halign(l, GTK_ALIGN_START);
        gtk_label_set_line_wrap(GTK_LABEL(l), TRUE);
        gtk_label_set_selectable(GTK_LABEL(l), TRUE);
        return l;
}

void dialog_phase(struct shell *s)
{
        if (s->phase_panel) {
                gtk_window_present(GTK_WINDOW(s->phase_panel->dialog));
                return;
        }
        struct phase_panel *p = g_new0(struct phase_panel, 1);
        p->s = s;
        s->phase_panel = p;
        p->dialog = gtk_dialog_new_with_buttons("Phase", GTK_WINDOW(s->window),
                                                GTK_DIALOG_DESTROY_WITH_PARENT, "_Close",
                                                GTK_RESPONSE_CLOSE, NULL);
        gtk_window_set_default_size(GTK_WINDOW(p->dialog), 560, -1);
        GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
        gtk_container_set_border_width(GTK_CONTAINER(box), 12);
        p->summary = value();
        p->current = value();
        p->next = value();
        p->error = value();
        gtk_style_context_add_class(gtk_widget_get_style_context(p->error), "tandem-error");
        gtk_widget_set_no_show_all(p->error, TRUE);
        p->plan_entry = gtk_entry_new();
        gtk_entry_set_placeholder_text(GTK_ENTRY(p->plan_entry), "plan file (.tp)");
        p->progress = gtk_progress_bar_new();
        gtk_progress_bar_set_show_text(GTK_PROGRESS_BAR(p->progress), TRUE);
        gtk_widget_set_no_show_all(p->progress, TRUE);
        p->apply = gtk_button_new_with_mnemonic("_Apply next phase\u2026");
        p->rollback = gtk_button_new_with_mnemonic("_Rollback\u2026");
        g_signal_connect(p->apply, "clicked", G_CALLBACK(on_apply), p);
        g_signal_connect(p->rollback, "clicked", G_CALLBACK(on_rollback), p);
        GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
        gtk_box_pack_start(GTK_BOX(buttons), p->apply, FALSE, FALSE, 0);
        gtk_box_pack_start(GTK_BOX(buttons), p->rollback, FALSE, FALSE, 0);
        GtkWidget *parts[] = {p->summary,
                              heading("Current phase"),
                              p->current,
                              heading("Next phase"),
                              p->next,
                              p->error,
                              heading("Plan file"),
                              p->plan_entry,
                              buttons,
                              p->progress};
        for (size_t i = 0; i < G_N_ELEMENTS(parts); i++)
                gtk_box_pack_start(GTK_BOX(box), parts[i], FALSE, FALSE, 0);
        gtk_container_add(GTK_CONTAINER(gtk_dialog_get_content_area(GTK_DIALOG(p->dialog))), box);
        g_signal_connect(p->dialog, "response", G_CALLBACK(on_response), p);
        g_signal_connect(p->dialog, "delete-event", G_CALLBACK(on_delete), p);
        gtk_widget_show_all(p->dialog);
        refresh(p);
}
