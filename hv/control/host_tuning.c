/* Host settings tandemd applies at start, when it runs as root.
 *
 * Guest RAM is a memfd (shmem) that tandem-vmm asks to be backed by huge
 * pages (MADV_HUGEPAGE); the kernel honours that for shmem only when
 * transparent_hugepage/shmem_enabled is "advise" or "always". Debian ships
 * "never". "advise" changes nothing for any mapping that did not ask, so
 * tandemd sets it rather than leaving every guest on 4 KiB pages, and says
 * so in its log and event store. */
#include "host_tuning.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SHMEM_THP "/sys/kernel/mm/transparent_hugepage/shmem_enabled"

int host_tuning_apply(char *what, size_t len)
{
        what[0] = '\0';
        if (geteuid() != 0)
                return 0;
        char cur[128] = "";
        FILE *f = fopen(SHMEM_THP, "r");
        if (!f)
                return 0; /* no THP in this kernel */
        if (!fgets(cur, sizeof(cur), f))
                cur[0] = '\0';
        fclose(f);
        if (!strstr(cur, "[never]"))
                return 0;
        f = fopen(SHMEM_THP, "w");
        if (!f || fputs("advise", f) < 0 || fclose(f) != 0) {
                snprintf(what, len, "cannot set %s to advise: guest RAM stays on 4 KiB pages",
                         SHMEM_THP);
                return -1;
        }
        snprintf(what, len, "set %s from never to advise (huge pages for guest RAM)", SHMEM_THP);
        return 1;
}
