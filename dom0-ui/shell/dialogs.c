/* The create-domain dialog: a form that calls tandemd. */
#include <string.h>

#include "shell.h"
#include "tandem_client.h"

static GtkWidget *row(GtkGrid *g, int y, const char *label, GtkWidget *w)
{
        GtkWidget *l = gtk_label_new_with_mnemonic(label);
        gtk_label_set_mnemonic_widget(
            GTK_LABEL(l), GTK_IS_COMBO_BOX(w) && gtk_combo_box_get_has_entry(GTK_COMBO_BOX(w))
                              ? gtk_bin_get_child(GTK_BIN(w))
                              : w);
        gtk_widget_set_halign(l, GTK_ALIGN_END);
        gtk_grid_attach(g, l, 0, y, 1, 1);
        gtk_grid_attach(g, w, 1, y, 1, 1);
        return w;
}

/* The stopped domains, which can be cloned (a running one's disks are
 * locked); any name can be typed. */
static GtkWidget *template_combo(struct shell *s)
{
        GtkWidget *c = gtk_combo_box_text_new_with_entry();
        GtkTreeIter it;
        for (gboolean ok = gtk_tree_model_get_iter_first(GTK_TREE_MODEL(s->domains), &it); ok;
             ok = gtk_tree_model_iter_next(GTK_TREE_MODEL(s->domains), &it)) {
                char *n, *st;
                gtk_tree_model_get(GTK_TREE_MODEL(s->domains), &it, COL_NAME, &n, COL_STATE, &st,
                                   -1);
                if (st && (!strcmp(st, "stopped") || !strcmp(st, "crashed")))
                        gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(c), n);
                g_free(n);
                g_free(st);
        }
        gtk_widget_set_tooltip_text(c, "Clone a stopped domain (linked disks) and start the "
                                       "clone; the fields below are then not used");
        return c;
}

void dialog_create_domain(struct shell *s)
{
        GtkWidget *d = gtk_dialog_new_with_buttons("New domain", GTK_WINDOW(s->window),
                                                   GTK_DIALOG_MODAL, "_Cancel", GTK_RESPONSE_CANCEL,
                                                   "C_reate", GTK_RESPONSE_OK, NULL);
        GtkWidget *grid = gtk_grid_new();
        gtk_grid_set_row_spacing(GTK_GRID(grid), 6);
        gtk_grid_set_column_spacing(GTK_GRID(grid), 8);
        GtkGrid *g = GTK_GRID(grid);
        GtkWidget *name = row(g, 0, "_Name", gtk_entry_new());
        GtkWidget *tmpl = row(g, 6, "From _template", template_combo(s));
        GtkWidget *cpus = row(g, 1, "vCPUs", gtk_spin_button_new_with_range(1, 64, 1));
        GtkWidget *mem = row(g, 2, "Memory (MiB)", gtk_spin_button_new_with_range(16, 262144, 64));
        gtk_spin_button_set_value(GTK_SPIN_BUTTON(mem), 512);
        GtkWidget *disk =
            row(g, 3, "Disk image",
                gtk_file_chooser_button_new("Disk image", GTK_FILE_CHOOSER_ACTION_OPEN));
        GtkWidget *net = row(g, 4, "Network", gtk_combo_box_text_new());
        gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(net), "none", "None");
        gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(net), "user", "NAT (user)");
        gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(net), "bridge", "Bridge");
        gtk_combo_box_set_active(GTK_COMBO_BOX(net), 0);
        GtkWidget *usb = row(g, 5, "USB devices (vid:pid, ...)", gtk_entry_new());
        gtk_container_add(GTK_CONTAINER(gtk_dialog_get_content_area(GTK_DIALOG(d))), grid);
        gtk_widget_show_all(d);
        if (gtk_dialog_run(GTK_DIALOG(d)) == GTK_RESPONSE_OK) {
                const char *n = gtk_entry_get_text(GTK_ENTRY(name));
                const char *t = gtk_entry_get_text(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(tmpl))));
                if (!n[0]) {
                        shell_status(s, "new domain: a name is required");
                } else if (t[0]) {
                        clone_and_start(s, t, n);
                } else {
                        json_object *cfg = json_object_new_object();
                        json_object_object_add(cfg, "name", json_object_new_string(n));
                        json_object_object_add(cfg, "vcpus",
                                               json_object_new_int(gtk_spin_button_get_value_as_int(
                                                   GTK_SPIN_BUTTON(cpus))));
                        json_object_object_add(cfg, "memory",
                                               json_object_new_int(gtk_spin_button_get_value_as_int(
                                                   GTK_SPIN_BUTTON(mem))));
                        char *file = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(disk));
                        if (file) {
                                json_object *disks = json_object_new_array();
                                json_object_array_add(disks, json_object_new_string(file));
                                json_object_object_add(cfg, "disk", disks);
                                g_free(file);
                        }
                        json_object_object_add(cfg, "network",
                                               json_object_new_string(gtk_combo_box_get_active_id(
                                                   GTK_COMBO_BOX(net))));
                        const char *u = gtk_entry_get_text(GTK_ENTRY(usb));
                        if (u[0])
                                json_object_object_add(cfg, "usb", json_object_new_string(u));
                        json_object *p = json_object_new_object();
                        json_object_object_add(p, "config", cfg);
                        daemon_action(s, "create", p);
                }
        }
        gtk_widget_destroy(d);
}
