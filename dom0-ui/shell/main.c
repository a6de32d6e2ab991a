/* tandem-shell: the dom0 graphical shell. */
#include <stdio.h>
#include <string.h>

#include "shell.h"
#include "tandem_client.h"
#include "theme.h"

static struct shell shell = {.scale_to_fit = true};
static char *opt_theme, *opt_socket, *opt_open, *opt_select;
static char **opt_attach;
static gboolean opt_fullscreen, opt_no_scale;

static const GOptionEntry entries[] = {
    {"socket", 's', 0, G_OPTION_ARG_FILENAME, &opt_socket, "tandemd socket", "PATH"},
    {"theme", 't', 0, G_OPTION_ARG_STRING, &opt_theme, "light, dark, high-contrast, or a CSS file",
     "NAME"},
    {"attach", 'a', 0, G_OPTION_ARG_STRING_ARRAY, &opt_attach,
     "show a console straight from a VMM control socket", "DOMAIN=SOCKET"},
    {"fullscreen", 'f', 0, G_OPTION_ARG_NONE, &opt_fullscreen, "start full screen", NULL},
    {"no-scale", 'n', 0, G_OPTION_ARG_NONE, &opt_no_scale, "show guests 1:1, not scaled", NULL},
    {"open", 0, 0, G_OPTION_ARG_STRING, &opt_open, "open a dialog at start: usb, phase or new",
     "DIALOG"},
    {"select", 0, 0, G_OPTION_ARG_STRING, &opt_select, "select a domain in the tree at start",
     "DOMAIN"},
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

static gboolean open_dialog(gpointer data)
{
        (void)data;
        if (!strcmp(opt_open, "usb"))
                dialog_usb(&shell);
        else if (!strcmp(opt_open, "phase"))
                dialog_phase(&shell);
        else if (!strcmp(opt_open, "new"))
                dialog_create_domain(&shell);
        else
                shell_status(&shell, "--open %s: expected usb, phase or new", opt_open);
        return G_SOURCE_REMOVE;
}

static void activate(GtkApplication *app, gpointer data)
{
        (void)data;
        if (shell.window) {
                gtk_window_present(GTK_WINDOW(shell.window));
                return;
        }
        shell.app = app;
        shell.socket_path = opt_socket;
        if (!theme_apply(opt_theme)) {
                g_application_quit(G_APPLICATION(app));
                return;
        }
        shell.scale_to_fit = !opt_no_scale;
        shell_build_window(&shell);
        if (opt_fullscreen) {
                /* also size it to the screen: without a window manager the
                 * fullscreen request alone does nothing */
                GdkRectangle r;
                gdk_monitor_get_geometry(
                    gdk_display_get_primary_monitor(gdk_display_get_default())
                        ?: gdk_display_get_monitor(gdk_display_get_default(), 0),
                    &r);
                gtk_window_resize(GTK_WINDOW(shell.window), r.width, r.height);
                gtk_window_fullscreen(GTK_WINDOW(shell.window));
        }
        daemon_connect(&shell);
        for (char **a = opt_attach; a && *a; a++) {
                char *eq = strchr(*a, '=');
                if (!eq) {
                        shell_status(&shell, "--attach %s: expected DOMAIN=SOCKET", *a);
                        continue;
                }
                *eq = 0;
                shell_add_console(&shell, *a, eq + 1);
        }
        if (opt_select)
                shell_select_domain(&shell, opt_select);
        if (opt_open)
                g_idle_add(open_dialog, NULL);
}

int main(int argc, char **argv)
{
        GtkApplication *app = gtk_application_new("org.tandem.Shell", G_APPLICATION_NON_UNIQUE);
        g_application_add_main_option_entries(G_APPLICATION(app), entries);
        g_signal_connect(app, "activate", G_CALLBACK(activate), NULL);
        int rc = g_application_run(G_APPLICATION(app), argc, argv);
        if (shell.calls)
                tandem_close(shell.calls);
        if (shell.events)
                tandem_close(shell.events);
        g_object_unref(app);
        return rc;
}
