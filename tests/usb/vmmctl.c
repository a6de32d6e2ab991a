/* vmmctl SOCKET JSON: sends one request line to a tandem-vmm control socket
 * and prints the reply line; exit 0 only if the reply has "ok": true. For
 * rig scripts, where busybox has no UNIX-socket client. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        if (argc != 3) {
                fprintf(stderr, "usage: vmmctl SOCKET JSON\n");
                return 2;
        }
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "vmmctl: socket path too long\n");
                return 2;
        }
        strcpy(sa.sun_path, argv[1]);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                perror("vmmctl: connect");
                return 1;
        }
        size_t len = strlen(argv[2]);
        if (write(fd, argv[2], len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
                perror("vmmctl: write");
                return 1;
        }
        char buf[65536];
        size_t got = 0;
        while (got < sizeof(buf) - 1) {
                ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
                if (n <= 0)
                        break;
                got += (size_t)n;
                if (memchr(buf, '\n', got))
                        break;
        }
        buf[got] = 0;
        fputs(buf, stdout);
        close(fd);
        return strstr(buf, "\"ok\": true") || strstr(buf, "\"ok\":true") ? 0 : 1;
}
