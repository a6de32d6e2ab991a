/* The create-domain dialog: either a clone of a stopped domain (clone.c)
 * or a new domain from its fields, sent to tandemd's create as xl.cfg text
 * (newdomain_config.c). It stays open until tandemd has started the
 * domain, so both the field checks and tandemd's refusal are shown in it. */
#include <string.h>

#include "newdomain_config.h"
#include "shell.h"
#include "tandem_client.h"

struct create_dialog {
        struct shell *s;
        GtkWidget *dialog, *name, *tmpl, *legacy, *kernel, *cpus, *mem, *disk, *net, *usb;
        GtkWidget *message, *create;
        char pending[128]; /* the domain tandemd is creating, "" when none */
};

static GtkWidget *row(GtkGrid *g, int y, const char *label, GtkWidget *w)
{
        GtkWidget *l = gtk_label_new_with_mnemonic(label);
        GtkWidget *target = w;
        if (GTK_IS_COMBO_BOX(w) && gtk_combo_box_get_has_entry(GTK_COMBO_BOX(w)))
                target = gtk_bin_get_child(GTK_BIN(w));
        else if (GTK_IS_BOX(w)) /* entry + Browse button */
                target = g_object_get_data(G_OBJECT(w), "entry");
        gtk_label_set_mnemonic_widget(GTK_LABEL(l), target);
        gtk_widget_set_halign(l, GTK_ALIGN_END);
        gtk_grid_attach(g, l, 0, y, 1, 1);
        gtk_grid_attach(g, w, 1, y, 1, 1);
        return w;
}

static GtkWidget *entry_of(GtkWidget *w)
{
        return GTK_IS_BOX(w) ? g_object_get_data(G_OBJECT(w), "entry") : w;
}

static void browse(GtkButton *b, gpointer data)
{
        GtkWidget *entry = data;
        GtkWidget *chooser = gtk_file_chooser_dialog_new(
            "Choose a file", GTK_WINDOW(gtk_widget_get_toplevel(GTK_WIDGET(b))),
            GTK_FILE_CHOOSER_ACTION_OPEN, "_Cancel", GTK_RESPONSE_CANCEL, "_Open",
            GTK_RESPONSE_ACCEPT, NULL);
        if (gtk_dialog_run(GTK_DIALOG(chooser)) == GTK_RESPONSE_ACCEPT) {
                char *f = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(chooser));
                if (f)
                        gtk_entry_set_text(GTK_ENTRY(entry), f);
                g_free(f);
        }
        gtk_widget_destroy(chooser);
}

/* A file name entry (typed or pasted) with a Browse… button. */
static GtkWidget *file_field(const char *tooltip)
{
        GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
        GtkWidget *e = gtk_entry_new();
        gtk_widget_set_hexpand(e, TRUE);
        gtk_widget_set_tooltip_text(e, tooltip);
        GtkWidget *b = gtk_button_new_with_label("Browse\u2026");
        g_signal_connect(b, "clicked", G_CALLBACK(browse), e);
        gtk_box_pack_start(GTK_BOX(box), e, TRUE, TRUE, 0);
        gtk_box_pack_start(GTK_BOX(box), b, FALSE, FALSE, 0);
        g_object_set_data(G_OBJECT(box), "entry", e);
        return box;
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

/* The dialog's message line (and the status line): errors in the error
 * style, progress plain. */
static void say(struct create_dialog *cd, bool error, const char *text)
{
        gtk_label_set_text(GTK_LABEL(cd->message), text);
        GtkStyleContext *sc = gtk_widget_get_style_context(cd->message);
        if (error)
                gtk_style_context_add_class(sc, "tandem-error");
        else
                gtk_style_context_remove_class(sc, "tandem-error");
        shell_status(cd->s, "New domain: %s", text);
}

static void created(struct shell *s, json_object *res, const char *code, const char *message,
                    void *data)
{
        (void)s, (void)code;
        struct create_dialog *cd = data;
        char text[700];
        if (res) {
                snprintf(text, sizeof(text), "%s created and started", cd->pending);
                shell_status(cd->s, "New domain: %s", text);
                gtk_widget_destroy(cd->dialog);
                return;
        }
        snprintf(text, sizeof(text), "tandemd refused %s: %s", cd->pending, message);
        cd->pending[0] = '\0';
        gtk_widget_set_sensitive(cd->create, TRUE);
        say(cd, true, text);
}

static void create_from_fields(struct create_dialog *cd)
{
        const char *net = gtk_combo_box_get_active_id(GTK_COMBO_BOX(cd->net));
        struct newdomain_form f = {
            .name = gtk_entry_get_text(GTK_ENTRY(cd->name)),
            .type = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(cd->legacy)) ? "tandem-legacy"
                                                                                : "pvh",
            .kernel = gtk_entry_get_text(GTK_ENTRY(entry_of(cd->kernel))),
            .memory = gtk_entry_get_text(GTK_ENTRY(cd->mem)),
            .vcpus = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(cd->cpus)),
            .disk = gtk_entry_get_text(GTK_ENTRY(entry_of(cd->disk))),
            .network = net ? net : "none",
            .usb = gtk_entry_get_text(GTK_ENTRY(cd->usb)),
        };
        char err[600];
        char *cfg = newdomain_config(&f, err, sizeof(err));
        if (!cfg) {
                say(cd, true, err);
                return;
        }
        g_strlcpy(cd->pending, f.name, sizeof(cd->pending));
        char text[200];
        snprintf(text, sizeof(text), "creating %s\u2026", f.name);
        say(cd, false, text);
        gtk_widget_set_sensitive(cd->create, FALSE);
        json_object *p = json_object_new_object();
        json_object_object_add(p, "config", json_object_new_string(cfg));
        json_object_object_add(p, "path", json_object_new_string("new-domain-dialog"));
        g_free(cfg);
        daemon_call_async(cd->s, "create", p, created, cd);
}

static void response(GtkDialog *d, int id, gpointer data)
{
        struct create_dialog *cd = data;
        if (cd->pending[0]) /* tandemd's answer closes it or says why not */
                return;
        if (id != GTK_RESPONSE_OK) {
                gtk_widget_destroy(GTK_WIDGET(d));
                return;
        }
        const char *n = gtk_entry_get_text(GTK_ENTRY(cd->name));
        const char *t = gtk_entry_get_text(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(cd->tmpl))));
        if (!n[0]) {
                say(cd, true, "Name: a name is required");
        } else if (t[0]) {
                clone_and_start(cd->s, t, n);
                gtk_widget_destroy(GTK_WIDGET(d));
        } else {
                create_from_fields(cd);
        }
}

static gboolean delete_event(GtkWidget *w, GdkEvent *e, gpointer data)
{
        (void)w, (void)e;
        struct create_dialog *cd = data;
        return cd->pending[0] != '\0'; /* not while tandemd creates */
}

void dialog_create_domain(struct shell *s)
{
        struct create_dialog *cd = g_new0(struct create_dialog, 1);
        cd->s = s;
        cd->dialog = gtk_dialog_new_with_buttons("New domain", GTK_WINDOW(s->window),
                                                 GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                                 "_Cancel", GTK_RESPONSE_CANCEL, NULL);
        cd->create = gtk_dialog_add_button(GTK_DIALOG(cd->dialog), "C_reate", GTK_RESPONSE_OK);
        GtkWidget *grid = gtk_grid_new();
        gtk_grid_set_row_spacing(GTK_GRID(grid), 6);
        gtk_grid_set_column_spacing(GTK_GRID(grid), 8);
        gtk_container_set_border_width(GTK_CONTAINER(grid), 8);
        GtkGrid *g = GTK_GRID(grid);
        cd->name = row(g, 0, "_Name", gtk_entry_new());
        GtkWidget *types = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
        GtkWidget *pvh = gtk_radio_button_new_with_mnemonic(NULL, "_Linux (PVH)");
        cd->legacy =
            gtk_radio_button_new_with_mnemonic_from_widget(GTK_RADIO_BUTTON(pvh), "Le_gacy guest");
        gtk_box_pack_start(GTK_BOX(types), pvh, FALSE, FALSE, 0);
        gtk_box_pack_start(GTK_BOX(types), cd->legacy, FALSE, FALSE, 0);
        gtk_grid_attach(g, gtk_label_new("Type"), 0, 1, 1, 1);
        gtk_grid_attach(g, types, 1, 1, 1, 1);
        cd->kernel = row(g, 2, "_Kernel",
                         file_field("Linux bzImage or PVH ELF; for a legacy guest its ELF"));
        cd->cpus = row(g, 3, "_vCPUs", gtk_spin_button_new_with_range(1, 64, 1));
        cd->mem = row(g, 4, "_Memory", gtk_entry_new());
        gtk_entry_set_text(GTK_ENTRY(cd->mem), "512M");
        gtk_widget_set_tooltip_text(cd->mem, "MiB, or with a unit: 512M, 2G");
        cd->disk = row(g, 5, "_Disk image",
                       file_field("raw, qcow2, vhd or vmdk (by its extension); the guest's xvda"));
        cd->net = row(g, 6, "Net_work", gtk_combo_box_text_new());
        gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(cd->net), "none", "None");
        gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(cd->net), "user", "NAT (user)");
        gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(cd->net), "bridge", "Bridge (tandembr0)");
        gtk_combo_box_set_active(GTK_COMBO_BOX(cd->net), 0);
        cd->usb = row(g, 7, "_USB devices", gtk_entry_new());
        gtk_widget_set_tooltip_text(cd->usb, "host devices as VVVV:PPPP (vendor:product) or "
                                             "BUS-ADDR, separated by commas");
        cd->tmpl = row(g, 8, "From _template", template_combo(s));
        cd->message = gtk_label_new("");
        gtk_label_set_line_wrap(GTK_LABEL(cd->message), TRUE);
        gtk_label_set_max_width_chars(GTK_LABEL(cd->message), 60);
        gtk_label_set_xalign(GTK_LABEL(cd->message), 0);
        gtk_grid_attach(g, cd->message, 0, 9, 2, 1);
        gtk_container_add(GTK_CONTAINER(gtk_dialog_get_content_area(GTK_DIALOG(cd->dialog))), grid);
        g_signal_connect(cd->dialog, "response", G_CALLBACK(response), cd);
        g_signal_connect(cd->dialog, "delete-event", G_CALLBACK(delete_event), cd);
        g_signal_connect_swapped(cd->dialog, "destroy", G_CALLBACK(g_free), cd);
        gtk_widget_show_all(cd->dialog);
}
