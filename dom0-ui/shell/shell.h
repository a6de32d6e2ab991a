/* tandem-shell: the main window and its parts. */
#ifndef TANDEM_SHELL_H
#define TANDEM_SHELL_H

#include <gtk/gtk.h>
#include <json-c/json.h>
#include <stdbool.h>

#include "console.h"

#define SHELL_MAX_CONSOLES 16

struct shell {
        GtkApplication *app;
        GtkWidget *window, *tree, *notebook, *side_by_side, *status, *progress;
        GtkWidget *graphs;
        GtkListStore *domains; /* name, state, cpu text, memory text */
        struct tandem_client *calls, *events;
        guint events_watch;
        char *socket_path;
        struct console *consoles[SHELL_MAX_CONSOLES];
        unsigned nconsoles;
        bool scale_to_fit;
        /* metric history of the selected domain, for the graphs */
        char graph_domain[64];
        double history[4][120];
        unsigned nhistory;
        unsigned busy_calls; /* daemon_call_async calls under way */
        GtkWidget *mute;
        bool mute_updating;              /* set while the toggle follows tandemd */
        struct phase_panel *phase_panel; /* the open phase panel, or NULL */
};

enum { COL_NAME, COL_STATE, COL_CPU, COL_MEM, N_COLS };

void shell_build_window(struct shell *s);
/* Shows a console for domain (side by side and in its own tab); with
 * control_path NULL the display comes from tandemd. */
void shell_add_console(struct shell *s, const char *domain, const char *control_path);
void shell_status(struct shell *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* The domain selected in the tree (g_free it), or NULL. */
char *shell_selected_domain(struct shell *s);
/* Selects domain in the tree once tandemd lists it (--select). */
void shell_select_domain(struct shell *s, const char *domain);

/* tandemd */
void daemon_connect(struct shell *s);
void daemon_refresh(struct shell *s);
/* Runs method on a worker thread with a progress bar; refreshes when done. */
void daemon_action(struct shell *s, const char *method, json_object *params);
/* The same, then done(result, NULL, ...) or done(NULL, error code, message)
 * on the main thread (result and message are the callback's to read only). */
typedef void (*daemon_done_fn)(struct shell *s, json_object *result, const char *code,
                               const char *message, void *data);
void daemon_call_async(struct shell *s, const char *method, json_object *params,
                       daemon_done_fn done, void *data);
/* A quick call on the main thread (takes params). Returns 0 with *result, or
 * -1 with the error code and a message ("not available (tandemd has no M
 * method)" for an unknown method). */
int daemon_call(struct shell *s, const char *method, json_object *params, json_object **result,
                char *code, size_t codelen, char *msg, size_t msglen);

void dialog_create_domain(struct shell *s);
/* Clones the stopped domain tmpl as name, then starts the clone. */
void clone_and_start(struct shell *s, const char *tmpl, const char *name);
void dialog_usb(struct shell *s);
void dialog_phase(struct shell *s);
/* A phase-progress event from tandemd: moves the open panel's progress bar. */
void phase_panel_progress(struct shell *s, json_object *ev);
GtkWidget *graphs_new(struct shell *s);
/* The mute toggle: follows the selected domain; sends snd-mute. */
void sound_update(struct shell *s);
void sound_toggled(GtkToggleButton *b, gpointer data);
void graphs_sample(struct shell *s, json_object *metrics);

#endif
