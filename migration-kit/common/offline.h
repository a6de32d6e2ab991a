/* Makes sure a legacy disk image is offline before a migration tool reads
 * or replaces it.
 *
 * tandem-vmm takes no lock on its disk, so a lock alone cannot prove the
 * disk is idle. Two checks, both required:
 *  1. flock(LOCK_SH | LOCK_NB) on the image, held until the tool exits: any
 *     tool that holds LOCK_EX (another tandem-archive restore, a future VMM
 *     lock) makes us refuse, and our shared lock keeps such tools out while
 *     we read;
 *  2. no process on this host has the image open for writing: every
 *     /proc/PID/fd link with the same device and inode is checked in
 *     /proc/PID/fdinfo for O_WRONLY/O_RDWR. A running tandem-vmm always
 *     holds its disk open read-write, so it is found by this check. */
#ifndef TANDEM_MIGRATION_OFFLINE_H
#define TANDEM_MIGRATION_OFFLINE_H

#include <stdbool.h>
#include <stddef.h>

/* Opens path read-only and verifies it is offline (above). exclusive takes
 * LOCK_EX instead of LOCK_SH (for tools that will rewrite the image). Returns
 * the fd (keep it open for the lock's lifetime), or -1 with a message in err. */
int offline_open(const char *path, bool exclusive, char *err, size_t errlen);

/* Pid of a process (other than us) that has path's inode open for writing,
 * 0 if none, -1 when path cannot be stat'ed. */
int offline_find_writer(const char *path);

#endif
