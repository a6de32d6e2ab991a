/* History graphs (CPU, memory, disk, network) of the selected domain, fed by
 * tandemd's 1 s metrics events: redrawn when a sample arrives, never polled. */
#include <string.h>

#include "shell.h"

static const char *const metric_keys[4][2] = {
    {"cpu_percent", "cpu"}, {"memory_mb", "memory"}, {"disk_bytes", "disk"}, {"net_bytes", "net"}};
static const char *const metric_titles[4] = {"CPU", "Memory", "Disk", "Network"};

static gboolean on_draw(GtkWidget *w, cairo_t *cr, gpointer data)
{
        struct shell *s = data;
        int aw = gtk_widget_get_allocated_width(w), ah = gtk_widget_get_allocated_height(w);
        int gh = ah / 4;
        for (int m = 0; m < 4; m++) {
                double top = m * gh, max = 1;
                for (unsigned i = 0; i < s->nhistory; i++)
                        if (s->history[m][i] > max)
                                max = s->history[m][i];
                cairo_set_source_rgba(cr, 0.5, 0.5, 0.5, 0.15);
                cairo_rectangle(cr, 0, top + 1, aw, gh - 2);
                cairo_fill(cr);
                cairo_set_source_rgb(cr, 0.16, 0.44, 0.69);
                for (unsigned i = 0; i < s->nhistory; i++) {
                        double x = aw * (double)i / 119.0;
                        double y = top + gh - 2 - (gh - 4) * s->history[m][i] / max;
                        if (i == 0)
                                cairo_move_to(cr, x, y);
                        else
                                cairo_line_to(cr, x, y);
                }
                cairo_stroke(cr);
                cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
                cairo_move_to(cr, 4, top + 12);
                cairo_show_text(cr, metric_titles[m]);
        }
        return TRUE;
}

GtkWidget *graphs_new(struct shell *s)
{
        GtkWidget *w = gtk_drawing_area_new();
        gtk_widget_set_size_request(w, 240, 200);
        g_signal_connect(w, "draw", G_CALLBACK(on_draw), s);
        return w;
}

void graphs_sample(struct shell *s, json_object *ev)
{
        json_object *d;
        if (!json_object_object_get_ex(ev, "domain", &d))
                return;
        const char *dom = json_object_get_string(d);
        if (!s->graph_domain[0])
                g_strlcpy(s->graph_domain, dom, sizeof(s->graph_domain));
        if (strcmp(dom, s->graph_domain) != 0)
                return;
        if (s->nhistory == 120) {
                for (int m = 0; m < 4; m++)
                        memmove(s->history[m], s->history[m] + 1, 119 * sizeof(double));
                s->nhistory--;
        }
        for (int m = 0; m < 4; m++) {
                json_object *v;
                double val = 0;
                if (json_object_object_get_ex(ev, metric_keys[m][0], &v) ||
                    json_object_object_get_ex(ev, metric_keys[m][1], &v))
                        val = json_object_get_double(v);
                s->history[m][s->nhistory] = val;
        }
        s->nhistory++;
        gtk_widget_queue_draw(s->graphs);
}
