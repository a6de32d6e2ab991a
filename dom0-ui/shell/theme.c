#include "theme.h"

#include <gtk/gtk.h>
#include <stdio.h>
#include <string.h>

#ifndef TANDEM_THEMES_INSTALLED
#define TANDEM_THEMES_INSTALLED "/usr/local/share/tandem/themes"
#endif
#ifndef TANDEM_THEMES_SOURCE
#define TANDEM_THEMES_SOURCE ""
#endif

static char *theme_from_config(void)
{
        char *path = g_build_filename(g_get_user_config_dir(), "tandem", "shell.conf", NULL);
        char *text = NULL, *found = NULL;
        if (g_file_get_contents(path, &text, NULL, NULL)) {
                char **lines = g_strsplit(text, "\n", -1);
                for (char **l = lines; *l; l++) {
                        char *s = g_strstrip(*l);
                        if (g_str_has_prefix(s, "theme") && strchr(s, '='))
                                found = g_strdup(g_strstrip(strchr(s, '=') + 1));
                }
                g_strfreev(lines);
        }
        g_free(text);
        g_free(path);
        return found;
}

static char *find_css(const char *name)
{
        if (strchr(name, '/'))
                return g_file_test(name, G_FILE_TEST_IS_REGULAR) ? g_strdup(name) : NULL;
        const char *dirs[] = {g_getenv("TANDEM_THEMES_DIR"), TANDEM_THEMES_INSTALLED,
                              TANDEM_THEMES_SOURCE};
        for (unsigned i = 0; i < G_N_ELEMENTS(dirs); i++) {
                if (!dirs[i] || !dirs[i][0])
                        continue;
                char *file = g_strconcat(name, ".css", NULL);
                char *path = g_build_filename(dirs[i], file, NULL);
                g_free(file);
                if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
                        return path;
                g_free(path);
        }
        return NULL;
}

bool theme_apply(const char *name)
{
        char *cfg = NULL;
        if (!name)
                name = g_getenv("TANDEM_THEME");
        if (!name)
                name = cfg = theme_from_config();
        if (!name)
                name = "light";
        char *path = find_css(name);
        if (!path) {
                fprintf(stderr, "tandem-shell: theme \"%s\" not found\n", name);
                g_free(cfg);
                return false;
        }
        GtkCssProvider *css = gtk_css_provider_new();
        GError *error = NULL;
        bool ok = gtk_css_provider_load_from_path(css, path, &error);
        if (!ok) {
                fprintf(stderr, "tandem-shell: theme %s: %s\n", path, error->message);
                g_error_free(error);
        } else {
                gtk_style_context_add_provider_for_screen(gdk_screen_get_default(),
                                                          GTK_STYLE_PROVIDER(css),
                                                          GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
                GtkSettings *settings = gtk_settings_get_default();
                g_object_set(settings, "gtk-application-prefer-dark-theme",
                             strstr(name, "dark") != NULL, NULL);
        }
        g_object_unref(css);
        g_free(path);
        g_free(cfg);
        return ok;
}
