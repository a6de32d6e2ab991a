#include "net_stats.h"

#include <json-c/json.h>

#include "../../hv/vmm/control.h"
#include "../virtio/net.h"

#define MAX_NICS 8

/* One VMM process runs one domain, so one table serves it. */
static struct {
        struct control *ctl;
        struct virtio_device *nic[MAX_NICS];
        unsigned n;
} nics;

static void add_counter(json_object *o, const char *name, uint64_t v)
{
        json_object_object_add(o, name, json_object_new_int64((int64_t)v));
}

static void net_stats(void *opaque, json_object *reply)
{
        (void)opaque;
        json_object *arr = json_object_new_array();
        for (unsigned i = 0; i < nics.n; i++) {
                struct virtio_net_stats s;
                virtio_net_get_stats(nics.nic[i], &s);
                json_object *o = json_object_new_object();
                json_object_object_add(o, "index", json_object_new_int((int)i));
                json_object_object_add(
                    o, "backend", json_object_new_string(virtio_net_backend_desc(nics.nic[i])));
                add_counter(o, "rx_packets", s.rx_packets);
                add_counter(o, "rx_bytes", s.rx_bytes);
                add_counter(o, "rx_dropped", s.rx_dropped);
                add_counter(o, "tx_packets", s.tx_packets);
                add_counter(o, "tx_bytes", s.tx_bytes);
                add_counter(o, "tx_dropped", s.tx_dropped);
                add_counter(o, "tx_errors", s.tx_errors);
                add_counter(o, "tx_oversized", s.tx_oversized);
                json_object_array_add(arr, o);
        }
        json_object_object_add(reply, "net", arr);
}

int net_stats_add(struct control *ctl, struct virtio_device *nic)
{
        if (!ctl)
                return 0;
        if (nics.n == MAX_NICS || (nics.ctl && nics.ctl != ctl))
                return -1;
        if (!nics.ctl) {
                if (control_add_stats(ctl, net_stats, NULL) < 0)
                        return -1;
                nics.ctl = ctl;
        }
        nics.nic[nics.n++] = nic;
        return 0;
}
