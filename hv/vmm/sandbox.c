/* The VMM's seccomp allow-list (DESIGN.md: "once set up, it drops
 * privileges and applies a seccomp allow-list").
 *
 * A guest that finds a bug in a device model gets the VMM's privileges; the
 * filter bounds what that is worth: no new programs, no new processes, no
 * mounts, modules, kexec, ptrace or BPF. What stays allowed is what the VMM
 * does after setup: KVM_RUN and the other ioctls, file and socket I/O on its
 * descriptors, threads (USB, audio and slirp backends start their own),
 * memory management, timers and signals. Files are still opened after setup
 * (USB hot-attach of an image, an audio server reconnect), so openat stays.
 *
 * A blocked call is a VMM bug, not guest behaviour: it ends the VMM with a
 * one-line message naming the call (SIGSYS handler), exit status 1. */
#include "sandbox.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef TANDEM_HAVE_SECCOMP
#include <seccomp.h>

static const char *const allowed[] = {
    /* I/O on descriptors */
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "lseek",
    "close",
    "fstat",
    "newfstatat",
    "statx",
    "stat",
    "lstat",
    "fstatfs",
    "ioctl",
    "fcntl",
    "dup",
    "dup2",
    "dup3",
    "pipe",
    "pipe2",
    "fsync",
    "fdatasync",
    "fallocate",
    "ftruncate",
    "flock",
    "sendfile",
    "copy_file_range",
    "openat",
    "open",
    "access",
    "faccessat",
    "faccessat2",
    "readlink",
    "readlinkat",
    "getdents64",
    "unlink",
    "unlinkat",
    "mkdirat",
    "rename",
    "renameat",
    "renameat2",
    "getcwd",
    "umask",
    "memfd_create",
    "eventfd2",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    "signalfd4",
    "inotify_init1",
    "inotify_add_watch",
    "inotify_rm_watch",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    /* waiting */
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "futex",
    "futex_waitv",
    "nanosleep",
    "clock_nanosleep",
    "sched_yield",
    /* sockets (control socket, audio server, slirp, netlink uevents) */
    "accept",
    "accept4",
    "bind",
    "listen",
    "connect",
    "getsockname",
    "getpeername",
    "getsockopt",
    "setsockopt",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "sendmmsg",
    "recvmmsg",
    "shutdown",
    "socketpair",
    /* memory */
    "mmap",
    "munmap",
    "mprotect",
    "mremap",
    "madvise",
    "brk",
    "mlock",
    "munlock",
    "membarrier",
    "get_mempolicy",
    /* threads, time, identity */
    "set_robust_list",
    "get_robust_list",
    "rseq",
    "set_tid_address",
    "gettid",
    "getpid",
    "getppid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getgroups",
    "getresuid",
    "getresgid",
    "tgkill",
    "tkill",
    "sched_getaffinity",
    "sched_setaffinity",
    "sched_getparam",
    "sched_getscheduler",
    "sched_setscheduler",
    "getpriority",
    "setpriority",
    "getrusage",
    "clock_gettime",
    "clock_getres",
    "gettimeofday",
    "time",
    "times",
    "uname",
    "sysinfo",
    "getrandom",
    "prlimit64",
    "getrlimit",
    "prctl",
    "arch_prctl",
    "capget",
    /* signals and the end */
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigtimedwait",
    "sigaltstack",
    "restart_syscall",
    "exit",
    "exit_group",
};

static void blocked(int sig, siginfo_t *si, void *uc)
{
        (void)sig, (void)uc;
        char msg[160];
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, si->si_syscall);
        int n = snprintf(msg, sizeof(msg),
                         "tandem-vmm: sandbox: blocked system call %d (%s): a VMM bug, stopping\n",
                         si->si_syscall, name ? name : "unknown");
        if (n > 0)
                (void)!write(STDERR_FILENO, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg));
        _exit(1);
}

int sandbox_apply(char *err, size_t errlen)
{
        struct sigaction sa = {.sa_sigaction = blocked, .sa_flags = SA_SIGINFO};
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGSYS, &sa, NULL) < 0) {
                snprintf(err, errlen, "sandbox: SIGSYS handler: %s", strerror(errno));
                return -1;
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                snprintf(err, errlen, "sandbox: no_new_privs: %s", strerror(errno));
                return -1;
        }
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
        if (!ctx) {
                snprintf(err, errlen, "sandbox: seccomp_init failed");
                return -1;
        }
        int rc = 0;
        const char *what = "";
        for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && rc == 0; i++) {
                int nr = seccomp_syscall_resolve_name(allowed[i]);
                if (nr == __NR_SCMP_ERROR)
                        continue; /* not on this architecture */
                what = allowed[i];
                rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        }
        /* Threads only: a clone without CLONE_THREAD would be a new process. */
        if (rc == 0) {
                what = "clone";
                rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                                      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
        }
        /* clone3 passes its flags in memory the filter cannot read: ENOSYS
         * makes the C library fall back to clone, which the rule above checks. */
        if (rc == 0) {
                what = "clone3";
                rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
        }
        static const int families[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};
        for (size_t i = 0; i < sizeof(families) / sizeof(families[0]) && rc == 0; i++) {
                what = "socket";
                rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                                      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i]));
        }
        /* Every thread, including backend threads started during setup. */
        if (rc == 0) {
                what = "thread sync";
                rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
        }
        if (rc == 0) {
                what = "load";
                rc = seccomp_load(ctx);
        }
        seccomp_release(ctx);
        if (rc != 0) {
                snprintf(err, errlen, "sandbox: seccomp %s: %s", what, strerror(-rc));
                return -1;
        }
        return 0;
}

#else

int sandbox_apply(char *err, size_t errlen)
{
        snprintf(err, errlen, "sandbox: built without libseccomp (use --no-sandbox)");
        return -1;
}

#endif
