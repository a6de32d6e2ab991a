/* The per-domain mute toggle: follows the selected domain's snd-list entry
 * and sends snd-mute (docs/sound.md). Without tandemd's sound methods, or
 * for a domain without sound, it is insensitive and says why. */
#include <string.h>

#include "shell.h"
#include "tandem_client.h"

static void set_active_quietly(struct shell *s, bool muted)
{
        s->mute_updating = true;
        gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(s->mute), muted);
        s->mute_updating = false;
}

void sound_update(struct shell *s)
{
        char *name = shell_selected_domain(s);
        if (!name) {
                gtk_widget_set_sensitive(s->mute, FALSE);
                return;
        }
        json_object *p = json_object_new_object(), *res, *doms, *v;
        json_object_object_add(p, "domain", json_object_new_string(name));
        char code[32], msg[600];
        if (daemon_call(s, "snd-list", p, &res, code, sizeof(code), msg, sizeof(msg)) < 0) {
                gtk_widget_set_sensitive(s->mute, FALSE);
                gtk_widget_set_tooltip_text(s->mute, msg);
                shell_status(s, "Sound: %s: %s", name, msg);
                g_free(name);
                return;
        }
        json_object *d = json_object_object_get_ex(res, "domains", &doms) &&
                                 json_object_is_type(doms, json_type_array) &&
                                 json_object_array_length(doms)
                             ? json_object_array_get_idx(doms, 0)
                             : NULL;
        bool has_sound = d && json_object_object_get_ex(d, "device", &v) &&
                         json_object_is_type(v, json_type_string);
        bool muted = d && json_object_object_get_ex(d, "muted", &v) && json_object_get_boolean(v);
        set_active_quietly(s, muted);
        gtk_widget_set_sensitive(s->mute, has_sound);
        gtk_widget_set_tooltip_text(s->mute, has_sound ? "Mute this domain's audio"
                                                       : "This domain has no sound device");
        shell_status(s, "Sound: %s %s", name,
                     !has_sound ? "has no sound device"
                     : muted    ? "is muted"
                                : "is not muted");
        json_object_put(res);
        g_free(name);
}

static void mute_done(struct shell *s, json_object *res, const char *code, const char *message,
                      void *data)
{
        (void)code, (void)data;
        if (res) {
                json_object *v;
                const char *dom =
                    json_object_object_get_ex(res, "domain", &v) ? json_object_get_string(v) : "?";
                bool muted =
                    json_object_object_get_ex(res, "muted", &v) && json_object_get_boolean(v);
                /* the reply is the truth now; snd-list's "muted" comes from
                 * the VMM's next stats sample (up to a second later) */
                set_active_quietly(s, muted);
                shell_status(s, "Sound: %s %s", dom, muted ? "muted" : "unmuted");
        } else {
                shell_status(s, "Sound: mute failed: %s", message);
                sound_update(s);
        }
}

void sound_toggled(GtkToggleButton *b, gpointer data)
{
        struct shell *s = data;
        if (s->mute_updating)
                return;
        char *name = shell_selected_domain(s);
        if (!name)
                return;
        json_object *p = json_object_new_object();
        json_object_object_add(p, "domain", json_object_new_string(name));
        json_object_object_add(p, "muted",
                               json_object_new_boolean(gtk_toggle_button_get_active(b)));
        daemon_call_async(s, "snd-mute", p, mute_done, NULL);
        g_free(name);
}
