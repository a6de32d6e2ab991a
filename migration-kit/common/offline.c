#include "offline.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whether /proc/PID/fdinfo/FD shows a write access mode. */
static bool fd_writable(const char *pid, const char *fd)
{
        char path[600], line[128];
        snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", pid, fd);
        FILE *f = fopen(path, "r");
        if (!f)
                return false;
        bool w = false;
        while (fgets(line, sizeof(line), f)) {
                unsigned long flags;
                if (sscanf(line, "flags: %lo", &flags) == 1) {
                        w = (flags & O_ACCMODE) != O_RDONLY;
                        break;
                }
        }
        fclose(f);
        return w;
}

int offline_find_writer(const char *path)
{
        struct stat want;
        if (stat(path, &want) < 0)
                return -1;
        DIR *proc = opendir("/proc");
        if (!proc)
                return 0;
        int found = 0;
        pid_t self = getpid();
        struct dirent *p;
        while (!found && (p = readdir(proc))) {
                char *end;
                long pid = strtol(p->d_name, &end, 10);
                if (*end || pid <= 0 || pid == self)
                        continue;
                char fddir[64];
                snprintf(fddir, sizeof(fddir), "/proc/%ld/fd", pid);
                DIR *fds = opendir(fddir);
                if (!fds)
                        continue; /* gone, or not ours to see */
                struct dirent *fd;
                while ((fd = readdir(fds))) {
                        if (fd->d_name[0] == '.')
                                continue;
                        struct stat st;
                        if (fstatat(dirfd(fds), fd->d_name, &st, 0) == 0 &&
                            st.st_dev == want.st_dev && st.st_ino == want.st_ino &&
                            fd_writable(p->d_name, fd->d_name)) {
                                found = (int)pid;
                                break;
                        }
                }
                closedir(fds);
        }
        closedir(proc);
        return found;
}

int offline_open(const char *path, bool exclusive, char *err, size_t errlen)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
        }
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                snprintf(err, errlen, "%s: not a regular file", path);
                close(fd);
                return -1;
        }
        if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
                snprintf(err, errlen, "%s: locked by another process (%s); is its domain running?",
                         path, strerror(errno));
                close(fd);
                return -1;
        }
        int pid = offline_find_writer(path);
        if (pid > 0) {
                char comm[64] = "?", cpath[64];
                snprintf(cpath, sizeof(cpath), "/proc/%d/comm", pid);
                FILE *f = fopen(cpath, "r");
                if (f) {
                        if (fgets(comm, sizeof(comm), f))
                                comm[strcspn(comm, "\n")] = 0;
                        fclose(f);
                }
                snprintf(err, errlen,
                         "%s: in use: process %d (%s) has it open for writing; stop the domain "
                         "first",
                         path, pid, comm);
                close(fd);
                return -1;
        }
        return fd;
}
