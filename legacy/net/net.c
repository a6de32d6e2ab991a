#include "net.h"

#include "../../pvdrivers/legacy/netfront.h"
#include "../kernel/fat16.h"
#include "../kernel/lib.h"
#include "ipstack.h"
#include "netcfg.h"

static struct net_config cfg;
static bool up;
static bool servicing;

void net_start(bool disk_ok)
{
        if (!disk_ok)
                return;
        struct fat_file f;
        static char text[512];
        if (fat_open(NET_CFG_FILE, &f) < 0)
                return; /* no network configured: stay quiet */
        if (f.size > sizeof(text)) {
                klog("legacy: %s is larger than %u bytes, network off\n", NET_CFG_FILE,
                     (unsigned)sizeof(text));
                return;
        }
        int n = fat_read(&f, 0, text, f.size);
        const char *why;
        unsigned line;
        if (n < 0 || netcfg_parse(text, (uint32_t)n, &cfg, &why, &line) < 0) {
                klog("legacy: %s line %u: %s, network off\n", NET_CFG_FILE, n < 0 ? 0 : line,
                     n < 0 ? "unreadable" : why);
                return;
        }
        int r = net_front_init();
        if (r < 0) {
                klog("legacy: %s present but no network device (%d), network off\n", NET_CFG_FILE,
                     r);
                return;
        }
        const uint8_t *m = net_front_mac();
        char ip[16];
        netcfg_format_ip(cfg.addr, ip);
        klog("legacy: net up %s mac %02x:%02x:%02x:%02x:%02x:%02x\n", ip, m[0], m[1], m[2], m[3],
             m[4], m[5]);
        up = true;
        ip_start(&cfg, m, net_front_send);
        net_event();
}

uint32_t net_port_mask(void)
{
        return up ? net_front_port_mask() : 0;
}

void net_event(void)
{
        /* ip_input may answer (ARP) and so come back here through a send;
         * the outer loop collects whatever arrives meanwhile. */
        if (!up || servicing)
                return;
        servicing = true;
        while (net_front_poll(ip_input))
                ;
        servicing = false;
}

void net_ticket_summary(const char *record, uint32_t len)
{
        static char payload[sizeof(NET_SUMMARY_MAGIC) - 1 + 128];
        const uint32_t mlen = sizeof(NET_SUMMARY_MAGIC) - 1;
        if (!up || !cfg.summary_addr)
                return;
        if (len > sizeof(payload) - mlen)
                len = sizeof(payload) - mlen;
        memcpy(payload, NET_SUMMARY_MAGIC, mlen);
        memcpy(payload + mlen, record, len);
        int r =
            ip_udp_send(cfg.summary_addr, NET_SUMMARY_SPORT, cfg.summary_port, payload, mlen + len);
        if (r < 0)
                klog("legacy: sale summary not sent (error %d)\n", r);
        /* The send's kick may have hidden a received frame's event. */
        if (net_front_rx_waiting())
                net_event();
}
