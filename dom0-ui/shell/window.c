/* The main window: domain tree, lifecycle buttons, consoles, graphs. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "shell.h"

void shell_status(struct shell *s, const char *fmt, ...)
{
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        gtk_label_set_text(GTK_LABEL(s->status), buf);
        /* TANDEM_SHELL_LOG=1: the status line on stderr too (for scripts) */
        if (g_getenv("TANDEM_SHELL_LOG"))
                fprintf(stderr, "tandem-shell: %s\n", buf);
}

char *shell_selected_domain(struct shell *s)
{
        GtkTreeSelection *sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(s->tree));
        GtkTreeModel *m;
        GtkTreeIter it;
        char *name = NULL;
        if (gtk_tree_selection_get_selected(sel, &m, &it))
                gtk_tree_model_get(m, &it, COL_NAME, &name, -1);
        return name;
}

static void lifecycle(GtkButton *b, gpointer data)
{
        struct shell *s = data;
        const char *method = g_object_get_data(G_OBJECT(b), "method");
        char *name = shell_selected_domain(s);
        if (!name) {
                shell_status(s, "select a domain first");
                return;
        }
        json_object *p = json_object_new_object();
        json_object_object_add(p, "domain", json_object_new_string(name));
        daemon_action(s, method, p);
        g_free(name);
}

void shell_add_console(struct shell *s, const char *domain, const char *control_path)
{
        if (s->nconsoles + 2 > SHELL_MAX_CONSOLES)
                return;
        for (unsigned i = 0; i < s->nconsoles; i++)
                if (!strcmp(console_domain(s->consoles[i]), domain))
                        return;
        /* one pane side by side with the others, one in its own tab */
        struct console *side = console_new(domain, control_path);
        struct console *tab = console_new(domain, control_path);
        if (!control_path) {
                console_use_tandemd(side, s->socket_path);
                console_use_tandemd(tab, s->socket_path);
        }
        s->consoles[s->nconsoles++] = side;
        s->consoles[s->nconsoles++] = tab;
        gtk_box_pack_start(GTK_BOX(s->side_by_side), console_widget(side), TRUE, TRUE, 0);
        gtk_notebook_append_page(GTK_NOTEBOOK(s->notebook), console_widget(tab),
                                 gtk_label_new(domain));
        gtk_widget_show_all(s->notebook);
        console_set_scale_to_fit(side, s->scale_to_fit);
        console_set_scale_to_fit(tab, s->scale_to_fit);
        console_attach(side, NULL);
        console_attach(tab, NULL);
}

static void open_console(GtkButton *b, gpointer data)
{
        (void)b;
        struct shell *s = data;
        char *name = shell_selected_domain(s);
        if (!name)
                return;
        shell_add_console(s, name, NULL);
        g_free(name);
}

static void toggle_fullscreen(GtkToggleButton *b, gpointer data)
{
        struct shell *s = data;
        if (gtk_toggle_button_get_active(b))
                gtk_window_fullscreen(GTK_WINDOW(s->window));
        else
                gtk_window_unfullscreen(GTK_WINDOW(s->window));
}

static void toggle_fit(GtkToggleButton *b, gpointer data)
{
        struct shell *s = data;
        s->scale_to_fit = gtk_toggle_button_get_active(b);
        for (unsigned i = 0; i < s->nconsoles; i++)
                console_set_scale_to_fit(s->consoles[i], s->scale_to_fit);
}

static void on_new(GtkButton *b, gpointer d)
{
        (void)b;
        dialog_create_domain(d);
}
static void on_usb(GtkButton *b, gpointer d)
{
        (void)b;
        dialog_usb(d);
}
static void on_phase(GtkButton *b, gpointer d)
{
        (void)b;
        dialog_phase(d);
}

static GtkWidget *button(const char *label, GCallback cb, gpointer data)
{
        GtkWidget *b = gtk_button_new_with_label(label);
        g_signal_connect(b, "clicked", cb, data);
        return b;
}

static GtkWidget *domain_tree(struct shell *s)
{
        s->domains =
            gtk_list_store_new(N_COLS, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
        s->tree = gtk_tree_view_new_with_model(GTK_TREE_MODEL(s->domains));
        const char *titles[N_COLS] = {"Domain", "State", "CPU", "Memory"};
        for (int i = 0; i < N_COLS; i++)
                gtk_tree_view_append_column(
                    GTK_TREE_VIEW(s->tree),
                    gtk_tree_view_column_new_with_attributes(
                        titles[i], gtk_cell_renderer_text_new(), "text", i, NULL));
        gtk_tree_view_set_search_column(GTK_TREE_VIEW(s->tree), COL_NAME);
        g_signal_connect_swapped(gtk_tree_view_get_selection(GTK_TREE_VIEW(s->tree)), "changed",
                                 G_CALLBACK(sound_update), s);
        return s->tree;
}

void shell_select_domain(struct shell *s, const char *domain)
{
        GtkTreeIter it;
        for (gboolean ok = gtk_tree_model_get_iter_first(GTK_TREE_MODEL(s->domains), &it); ok;
             ok = gtk_tree_model_iter_next(GTK_TREE_MODEL(s->domains), &it)) {
                char *n;
                gtk_tree_model_get(GTK_TREE_MODEL(s->domains), &it, COL_NAME, &n, -1);
                bool found = !strcmp(n, domain);
                g_free(n);
                if (found) {
                        gtk_tree_selection_select_iter(
                            gtk_tree_view_get_selection(GTK_TREE_VIEW(s->tree)), &it);
                        return;
                }
        }
        shell_status(s, "--select %s: no such domain", domain);
}

void shell_build_window(struct shell *s)
{
        s->window = gtk_application_window_new(s->app);
        gtk_window_set_title(GTK_WINDOW(s->window), "Tandem");
        gtk_window_set_default_size(GTK_WINDOW(s->window), 1280, 720);
        gtk_style_context_add_class(gtk_widget_get_style_context(s->window), "tandem-window");

        GtkWidget *toolbar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
        static const struct {
                const char *label, *method;
        } actions[] = {{"Start", "start"},        {"Pause", "pause"},     {"Resume", "resume"},
                       {"Shut down", "shutdown"}, {"Destroy", "destroy"}, {"Reboot", "reboot"}};
        gtk_box_pack_start(GTK_BOX(toolbar), button("New\u2026", G_CALLBACK(on_new), s), FALSE,
                           FALSE, 0);
        for (unsigned i = 0; i < G_N_ELEMENTS(actions); i++) {
                GtkWidget *b = button(actions[i].label, G_CALLBACK(lifecycle), s);
                g_object_set_data(G_OBJECT(b), "method", (gpointer)actions[i].method);
                gtk_box_pack_start(GTK_BOX(toolbar), b, FALSE, FALSE, 0);
        }
        gtk_box_pack_start(GTK_BOX(toolbar), button("Console", G_CALLBACK(open_console), s), FALSE,
                           FALSE, 0);
        gtk_box_pack_start(GTK_BOX(toolbar), button("USB\u2026", G_CALLBACK(on_usb), s), FALSE,
                           FALSE, 0);
        gtk_box_pack_start(GTK_BOX(toolbar), button("Phase\u2026", G_CALLBACK(on_phase), s), FALSE,
                           FALSE, 0);
        s->mute = gtk_toggle_button_new_with_mnemonic("_Mute");
        gtk_widget_set_sensitive(s->mute, FALSE);
        g_signal_connect(s->mute, "toggled", G_CALLBACK(sound_toggled), s);
        gtk_box_pack_start(GTK_BOX(toolbar), s->mute, FALSE, FALSE, 0);
        GtkWidget *fit = gtk_toggle_button_new_with_label("Scale to fit");
        gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(fit), s->scale_to_fit);
        g_signal_connect(fit, "toggled", G_CALLBACK(toggle_fit), s);
        GtkWidget *fs = gtk_toggle_button_new_with_label("Fullscreen");
        g_signal_connect(fs, "toggled", G_CALLBACK(toggle_fullscreen), s);
        gtk_box_pack_end(GTK_BOX(toolbar), fs, FALSE, FALSE, 0);
        gtk_box_pack_end(GTK_BOX(toolbar), fit, FALSE, FALSE, 0);

        GtkWidget *left = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
        gtk_box_pack_start(GTK_BOX(left), domain_tree(s), TRUE, TRUE, 0);
        s->graphs = graphs_new(s);
        gtk_box_pack_start(GTK_BOX(left), s->graphs, FALSE, FALSE, 0);

        s->notebook = gtk_notebook_new();
        s->side_by_side = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
        gtk_box_set_homogeneous(GTK_BOX(s->side_by_side), TRUE);
        gtk_notebook_append_page(GTK_NOTEBOOK(s->notebook), s->side_by_side,
                                 gtk_label_new("Side by side"));

        GtkWidget *paned = gtk_paned_new(GTK_ORIENTATION_HORIZONTAL);
        gtk_paned_pack1(GTK_PANED(paned), left, FALSE, FALSE);
        gtk_paned_pack2(GTK_PANED(paned), s->notebook, TRUE, FALSE);
        gtk_paned_set_position(GTK_PANED(paned), 260);

        GtkWidget *statusbar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
        s->status = gtk_label_new("");
        gtk_widget_set_halign(s->status, GTK_ALIGN_START);
        s->progress = gtk_progress_bar_new();
        gtk_widget_set_no_show_all(s->progress, TRUE);
        gtk_box_pack_start(GTK_BOX(statusbar), s->status, TRUE, TRUE, 4);
        gtk_box_pack_end(GTK_BOX(statusbar), s->progress, FALSE, FALSE, 4);

        GtkWidget *vbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
        gtk_box_pack_start(GTK_BOX(vbox), toolbar, FALSE, FALSE, 0);
        gtk_box_pack_start(GTK_BOX(vbox), paned, TRUE, TRUE, 0);
        gtk_box_pack_start(GTK_BOX(vbox), statusbar, FALSE, FALSE, 0);
        gtk_container_add(GTK_CONTAINER(s->window), vbox);
        gtk_widget_show_all(s->window);
}
