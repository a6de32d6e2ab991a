#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int run_program(char *const argv[], const char *out_path, char *err, size_t errlen)
{
        char errpath[] = "/tmp/tandem-archive-stderr-XXXXXX";
        int efd = mkstemp(errpath);
        if (efd < 0) {
                snprintf(err, errlen, "cannot create a temporary file: %s", strerror(errno));
                return -1;
        }
        unlink(errpath);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, efd, 2);
        if (out_path)
                posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC,
                                                 0644);
        pid_t pid;
        int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) {
                snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(rc));
                close(efd);
                return -1;
        }
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                close(efd);
                return 0;
        }
        char line[256] = "";
        ssize_t n = pread(efd, line, sizeof(line) - 1, 0);
        close(efd);
        line[n > 0 ? n : 0] = 0;
        line[strcspn(line, "\n")] = 0;
        if (WIFEXITED(status))
                snprintf(err, errlen, "%s failed (exit %d): %s", argv[0], WEXITSTATUS(status),
                         line[0] ? line : "no message");
        else
                snprintf(err, errlen, "%s killed by signal %d", argv[0], WTERMSIG(status));
        return -1;
}
