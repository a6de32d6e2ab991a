/* The metrics sampler: every interval, CPU and RSS of each VMM from /proc
 * and disk/network byte counters from the VMM's "stats" command, turned
 * into rates, stored as 1 s rows and folded into minute and hour rows. */
#include "daemon.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int64_t last_minute_done, last_hour_done;

static bool proc_sample(pid_t pid, uint64_t *ticks, int64_t *rss)
{
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return false;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        /* Fields after the parenthesised comm, which may hold spaces. */
        char *p = strrchr(buf, ')');
        unsigned long long ut, st;
        long long rss_pages;
        if (!p || sscanf(p + 2,
                         "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d"
                         " %*d %*d %*u %*u %lld",
                         &ut, &st, &rss_pages) != 3)
                return false;
        *ticks = ut + st;
        *rss = rss_pages * sysconf(_SC_PAGESIZE);
        return true;
}

static uint64_t sum_field(json_object *stats, const char *list, const char *field)
{
        json_object *arr, *v;
        uint64_t sum = 0;
        if (!stats || !json_object_object_get_ex(stats, list, &arr) ||
            !json_object_is_type(arr, json_type_array))
                return 0;
        for (size_t i = 0; i < json_object_array_length(arr); i++)
                if (json_object_object_get_ex(json_object_array_get_idx(arr, i), field, &v))
                        sum += (uint64_t)json_object_get_int64(v);
        return sum;
}

static void stats_reply(struct domain *d, void *opaque, json_object *reply, const char *error)
{
        (void)opaque;
        if (error || !reply)
                return;
        json_object_put(d->last_vmm_stats);
        d->last_vmm_stats = json_object_get(reply);
        json_object_object_del(d->last_vmm_stats, "id");
        json_object_object_del(d->last_vmm_stats, "ok");
}

static double rate(uint64_t now, uint64_t before, double dt)
{
        return now >= before && dt > 0 ? (double)(now - before) / dt : 0;
}

void metrics_tick(double now)
{
        int64_t t = (int64_t)now_wall();
        long hz = sysconf(_SC_CLK_TCK);
        store_begin(&g_store);
        for (struct domain *d = g_domains; d; d = d->next) {
                if ((d->state != DS_RUNNING && d->state != DS_PAUSED &&
                     d->state != DS_SHUTTING_DOWN) ||
                    !d->vmm_pid)
                        continue;
                uint64_t ticks;
                int64_t rss;
                if (!proc_sample(d->vmm_pid, &ticks, &rss))
                        continue;
                double dt = d->last_sample_t ? now - d->last_sample_t : 0;
                struct metric_sample m = {.mem_bytes = rss};
                if (dt > 0 && ticks >= d->last_cpu_ticks)
                        m.cpu_pct = 100.0 * (double)(ticks - d->last_cpu_ticks) / hz / dt;
                json_object *vs = d->last_vmm_stats;
                uint64_t rd = sum_field(vs, "disk", "rd_bytes"),
                         wr = sum_field(vs, "disk", "wr_bytes"),
                         rx = sum_field(vs, "net", "rx_bytes"),
                         tx = sum_field(vs, "net", "tx_bytes");
                if (d->have_io_baseline) {
                        m.disk_rd_bps = rate(rd, d->last_disk_rd, dt);
                        m.disk_wr_bps = rate(wr, d->last_disk_wr, dt);
                        m.net_rx_bps = rate(rx, d->last_net_rx, dt);
                        m.net_tx_bps = rate(tx, d->last_net_tx, dt);
                }
                d->have_io_baseline = vs != NULL;
                d->last_disk_rd = rd;
                d->last_disk_wr = wr;
                d->last_net_rx = rx;
                d->last_net_tx = tx;
                d->last_cpu_ticks = ticks;
                d->last_sample_t = now;
                if (dt > 0) {
                        d->last = m;
                        store_metric_add(&g_store, d->name, t, &m);
                        json_object *e = json_object_new_object();
                        json_object_object_add(e, "event", json_object_new_string("metrics"));
                        json_object_object_add(e, "domain", json_object_new_string(d->name));
                        json_object_object_add(e, "t", json_object_new_int64(t));
                        json_object_object_add(e, "cpu", json_object_new_double(m.cpu_pct));
                        json_object_object_add(e, "mem", json_object_new_int64(m.mem_bytes));
                        json_object_object_add(e, "disk_rd", json_object_new_double(m.disk_rd_bps));
                        json_object_object_add(e, "disk_wr", json_object_new_double(m.disk_wr_bps));
                        json_object_object_add(e, "net_rx", json_object_new_double(m.net_rx_bps));
                        json_object_object_add(e, "net_tx", json_object_new_double(m.net_tx_bps));
                        api_broadcast(TOPIC_METRICS, d->name, e);
                }
                /* Counters for the next tick; the reply lands before it. */
                vmmconn_call(d, "stats", NULL, stats_reply, NULL);
        }
        int64_t minute = t / 60 * 60, hour = t / 3600 * 3600;
        if (minute != last_minute_done) {
                store_metrics_downsample(&g_store, METRICS_RES_MINUTE,
                                         last_minute_done ? last_minute_done : minute - 60, minute);
                last_minute_done = minute;
        }
        if (hour != last_hour_done) {
                store_metrics_downsample(&g_store, METRICS_RES_HOUR,
                                         last_hour_done ? last_hour_done : hour - 3600, hour);
                last_hour_done = hour;
        }
        store_commit(&g_store);
}
