/* The USB menu: tandemd's devices (usb-list) with their owners, and Attach
 * (usb-attach {device, domain}) / Detach (usb-detach {device}). A device is
 * named by its tandem-vmm --usb spec; one not listed yet (an emulated
 * printer or stick) can be typed. Policy refusals are shown as such. */
#include <string.h>

#include "shell.h"
#include "tandem_client.h"

struct usb_dialog {
        struct shell *s;
        GtkWidget *dialog, *list_label, *device, *domain, *message, *attach, *detach;
        bool busy;
};

static const char *str_of(json_object *o, const char *key)
{
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                   ? json_object_get_string(v)
                   : NULL;
}

static void say(struct usb_dialog *u, bool error, const char *msg)
{
        GtkStyleContext *sc = gtk_widget_get_style_context(u->message);
        if (error)
                gtk_style_context_add_class(sc, "tandem-error");
        else
                gtk_style_context_remove_class(sc, "tandem-error");
        gtk_label_set_text(GTK_LABEL(u->message), msg);
        shell_status(u->s, "USB: %s", msg);
}

static void refresh(struct usb_dialog *u)
{
        json_object *res, *devs;
        char code[32], msg[600];
        if (daemon_call(u->s, "usb-list", NULL, &res, code, sizeof(code), msg, sizeof(msg)) < 0) {
                gtk_label_set_text(GTK_LABEL(u->list_label), msg);
                gtk_widget_set_sensitive(u->attach, FALSE);
                gtk_widget_set_sensitive(u->detach, FALSE);
                shell_status(u->s, "USB devices: %s", msg);
                return;
        }
        GString *g = g_string_new(NULL);
        GtkComboBoxText *combo = GTK_COMBO_BOX_TEXT(u->device);
        gtk_combo_box_text_remove_all(combo);
        size_t n = json_object_object_get_ex(res, "devices", &devs) &&
                           json_object_is_type(devs, json_type_array)
                       ? json_object_array_length(devs)
                       : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *d = json_object_array_get_idx(devs, i);
                const char *dev = str_of(d, "device"), *id = str_of(d, "id"),
                           *owner = str_of(d, "owner");
                if (!dev)
                        continue;
                gtk_combo_box_text_append_text(combo, dev);
                g_string_append_printf(g, "%s%s  %s  %s", g->len ? "\n" : "", dev, id ? id : "",
                                       owner ? owner : "(free)");
        }
        gtk_label_set_text(GTK_LABEL(u->list_label), n ? g->str : "No USB devices.");
        shell_status(u->s, "USB devices: usb-list answered: %zu device(s)%s%s", n, n ? "; " : "",
                     g->str);
        g_string_free(g, TRUE);
        json_object_put(res);
        /* the running domains, as the main window lists them */
        GtkComboBoxText *dc = GTK_COMBO_BOX_TEXT(u->domain);
        GtkEntry *de = GTK_ENTRY(gtk_bin_get_child(GTK_BIN(dc)));
        char *keep = g_strdup(gtk_entry_get_text(de));
        gtk_combo_box_text_remove_all(dc);
        GtkTreeIter it;
        for (gboolean ok = gtk_tree_model_get_iter_first(GTK_TREE_MODEL(u->s->domains), &it); ok;
             ok = gtk_tree_model_iter_next(GTK_TREE_MODEL(u->s->domains), &it)) {
                char *name;
                gtk_tree_model_get(GTK_TREE_MODEL(u->s->domains), &it, COL_NAME, &name, -1);
                gtk_combo_box_text_append_text(dc, name);
                g_free(name);
        }
        gtk_entry_set_text(de, keep);
        g_free(keep);
}

static void call_done(struct shell *s, json_object *res, const char *code, const char *message,
                      void *data)
{
        (void)s;
        struct usb_dialog *u = data;
        u->busy = false;
        gtk_widget_set_sensitive(u->attach, TRUE);
        gtk_widget_set_sensitive(u->detach, TRUE);
        char *m;
        if (res) {
                const char *dev = str_of(res, "device"), *owner = str_of(res, "owner");
                json_object *port;
                m = owner ? g_strdup_printf("%s attached to %s (port %d)", dev, owner,
                                            json_object_object_get_ex(res, "port", &port)
                                                ? json_object_get_int(port)
                                                : 0)
                          : g_strdup_printf("%s detached", dev ? dev : "device");
        } else if (!strcmp(code, "denied")) {
                m = g_strdup_printf("Denied by USB policy: %s", message);
        } else if (!strcmp(code, "busy")) {
                m = g_strdup_printf("Busy: %s", message);
        } else if (!strcmp(code, "not-running")) {
                m = g_strdup_printf("Not running: %s", message);
        } else {
                m = g_strdup_printf("Failed: %s", message);
        }
        refresh(u);
        say(u, !res, m);
        g_free(m);
}

static const char *entry_text(GtkWidget *combo)
{
        return gtk_entry_get_text(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(combo))));
}

static void start(struct usb_dialog *u, const char *method, bool with_domain)
{
        const char *dev = entry_text(u->device), *dom = entry_text(u->domain);
        if (!dev[0] || (with_domain && !dom[0])) {
                say(u, true, with_domain ? "Choose a device and a domain" : "Choose a device");
                return;
        }
        json_object *p = json_object_new_object();
        json_object_object_add(p, "device", json_object_new_string(dev));
        if (with_domain)
                json_object_object_add(p, "domain", json_object_new_string(dom));
        u->busy = true;
        gtk_widget_set_sensitive(u->attach, FALSE);
        gtk_widget_set_sensitive(u->detach, FALSE);
        daemon_call_async(u->s, method, p, call_done, u);
}

static void on_attach(GtkButton *b, gpointer data)
{
        (void)b;
        start(data, "usb-attach", true);
}

static void on_detach(GtkButton *b, gpointer data)
{
        (void)b;
        start(data, "usb-detach", false);
}

static void on_response(GtkDialog *d, gint response, gpointer data)
{
        struct usb_dialog *u = data;
        if (response == 1) {
                refresh(u);
                return;
        }
        if (u->busy)
                return; /* closes after the call */
        gtk_widget_destroy(GTK_WIDGET(d));
        g_free(u);
}

static gboolean on_delete(GtkWidget *w, GdkEvent *ev, gpointer data)
{
        (void)w, (void)ev;
        return ((struct usb_dialog *)data)->busy;
}

static GtkWidget *labelled(GtkGrid *g, int y, const char *mnemonic, GtkWidget *combo)
{
        GtkWidget *l = gtk_label_new_with_mnemonic(mnemonic);
        gtk_label_set_mnemonic_widget(GTK_LABEL(l), gtk_bin_get_child(GTK_BIN(combo)));
        gtk_widget_set_halign(l, GTK_ALIGN_END);
        gtk_widget_set_hexpand(combo, TRUE);
        gtk_grid_attach(g, l, 0, y, 1, 1);
        gtk_grid_attach(g, combo, 1, y, 1, 1);
        return combo;
}

void dialog_usb(struct shell *s)
{
        struct usb_dialog *u = g_new0(struct usb_dialog, 1);
        u->s = s;
        u->dialog = gtk_dialog_new_with_buttons("USB devices", GTK_WINDOW(s->window),
                                                GTK_DIALOG_DESTROY_WITH_PARENT, "R_efresh", 1,
                                                "_Close", GTK_RESPONSE_CLOSE, NULL);
        gtk_window_set_default_size(GTK_WINDOW(u->dialog), 560, -1);
        GtkWidget *grid = gtk_grid_new();
        gtk_container_set_border_width(GTK_CONTAINER(grid), 12);
        gtk_grid_set_row_spacing(GTK_GRID(grid), 6);
        gtk_grid_set_column_spacing(GTK_GRID(grid), 8);
        u->list_label = gtk_label_new("");
        gtk_widget_set_halign(u->list_label, GTK_ALIGN_START);
        gtk_label_set_selectable(GTK_LABEL(u->list_label), TRUE);
        gtk_grid_attach(GTK_GRID(grid), u->list_label, 0, 0, 2, 1);
        u->device = labelled(GTK_GRID(grid), 1, "_Device", gtk_combo_box_text_new_with_entry());
        u->domain = labelled(GTK_GRID(grid), 2, "D_omain", gtk_combo_box_text_new_with_entry());
        u->attach = gtk_button_new_with_mnemonic("_Attach");
        u->detach = gtk_button_new_with_mnemonic("Detac_h");
        g_signal_connect(u->attach, "clicked", G_CALLBACK(on_attach), u);
        g_signal_connect(u->detach, "clicked", G_CALLBACK(on_detach), u);
        GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
        gtk_box_pack_start(GTK_BOX(buttons), u->attach, FALSE, FALSE, 0);
        gtk_box_pack_start(GTK_BOX(buttons), u->detach, FALSE, FALSE, 0);
        gtk_grid_attach(GTK_GRID(grid), buttons, 1, 3, 1, 1);
        u->message = gtk_label_new("");
        gtk_widget_set_halign(u->message, GTK_ALIGN_START);
        gtk_label_set_line_wrap(GTK_LABEL(u->message), TRUE);
        gtk_label_set_selectable(GTK_LABEL(u->message), TRUE);
        gtk_grid_attach(GTK_GRID(grid), u->message, 0, 4, 2, 1);
        gtk_container_add(GTK_CONTAINER(gtk_dialog_get_content_area(GTK_DIALOG(u->dialog))), grid);
        g_signal_connect(u->dialog, "response", G_CALLBACK(on_response), u);
        g_signal_connect(u->dialog, "delete-event", G_CALLBACK(on_delete), u);
        gtk_widget_show_all(u->dialog);
        refresh(u);
}
