#include "net_mac.h"

#include <stdio.h>
#include <string.h>

int net_mac_parse(const char *s, uint8_t mac[6])
{
        unsigned v[6];
        int used = 0;
        if (!s || strlen(s) != 17 ||
            sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                   &used) != 6 ||
            s[used] != '\0' || (v[0] & 1))
                return -1;
        for (int i = 0; i < 6; i++)
                mac[i] = (uint8_t)v[i];
        return 0;
}

void net_mac_for_name(const char *name, unsigned index, uint8_t mac[6])
{
        uint32_t h = 2166136261u; /* FNV-1a */
        for (const char *p = name ? name : ""; *p; p++)
                h = (h ^ (uint8_t)*p) * 16777619u;
        h = (h ^ index) * 16777619u;
        mac[0] = 0x06; /* locally administered, unicast */
        mac[1] = 0x54;
        mac[2] = (uint8_t)(h >> 24);
        mac[3] = (uint8_t)(h >> 16);
        mac[4] = (uint8_t)(h >> 8);
        mac[5] = (uint8_t)h;
}

void net_mac_format(const uint8_t mac[6], char out[18])
{
        snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
                 mac[5]);
}
