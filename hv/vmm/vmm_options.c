#include "vmm_options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../pvdrivers/net/net_spec.h"
#include "../../pvdrivers/audio/audio.h"
#include "console_mux.h"
#include "size_parse.h"

#define VMM_MIN_MEM (4ULL << 20)
#define VMM_MAX_MEM (1ULL << 40)

static const char usage[] =
    "Usage: tandem-vmm [OPTIONS]\n"
    "Runs one Tandem domain: a KVM virtual machine with its devices.\n"
    "\n"
    "Guest (exactly one):\n"
    "  --kernel FILE        Linux bzImage (x86 boot protocol, 64-bit entry) or a PVH ELF\n"
    "  --legacy FILE        the Tandem legacy PV guest (ELF with the Tandem ABI note)\n"
    "  --initrd FILE        initial ramdisk (with --kernel)\n"
    "  --cmdline STRING     kernel command line (with --kernel)\n"
    "\n"
    "Machine:\n"
    "  --name NAME          domain name, for logs and the control socket\n"
    "  --mem SIZE           guest RAM, e.g. 512M or 2G (default 256M, minimum 4M)\n"
    "  --cpus N             vCPUs, 1-64 (default 1)\n"
    "  --disk PATH[,ro][,format=F]  a disk image; virtio-blk for Linux, the PV disk for\n"
    "                       the legacy guest; repeatable (up to 8); ',ro' makes it\n"
    "                       read-only; F is raw, qcow2, vpc or vmdk (default: probed;\n"
    "                       format=raw is never probed); ',cache=none' reads and\n"
    "                       writes guest data with O_DIRECT (default: writeback)\n"
    "  --console MODE       the serial console (ttyS0 / legacy PV console):\n"
    "                       stdio (default), pty, none, file:PATH, socket:PATH\n"
    "  --vconsole MODE      a virtio-console (hvc0), same modes (default: none)\n"
    "  --fb WxH             a linear framebuffer for Linux guests (vesafb), e.g. 1024x768\n"
    "  --printer PATH       the legacy guest's printer spool file\n"
    "  --sound SPEC         sound backend: pulse[:SERVER], wav:PATH or none (docs/sound.md)\n"
    "  --no-rng             no virtio-rng device\n"
    "  --net SPEC           a virtio-net NIC (repeatable, up to 4): tap=IFNAME[,mac=MAC]\n"
    "                       or user[,hostfwd=tcp::HOSTPORT-:GUESTPORT]...[,mac=MAC]\n"
    "                       (user-mode NAT, guest 10.0.2.15, host 10.0.2.2); the\n"
    "                       default MAC is derived from --name (docs/net.md)\n"
    "  --usb SPEC           a USB device on the xHCI controller: kbd, storage:PATH,\n"
    "                       printer:PATH, host:BUS-PORT[.PORT] or host:VVVV:PPPP\n"
    "                       (libusb passthrough), none (repeatable); on PV USB for\n"
    "                       the --legacy guest\n"
    "  --control PATH       the control socket (JSON lines; docs/vmm-control.md)\n"
    "  --no-sandbox         do not apply the seccomp allow-list after setup (debugging)\n"
    "  --count-instructions single-step every vCPU to count guest instructions\n"
    "                       (a measurement mode, hundreds of times slower; `stats`);\n"
    "                       exact on a software KVM, a lower bound on nested SVM\n"
    "  -h, --help           this text;  --version  the version\n"
    "\n"
    "Exit status:\n"
    "  0  the guest powered off        3  the guest asked for a reboot\n"
    "  1  the VMM failed or was killed 4  the guest crashed (triple fault, emulation\n"
    "  2  bad arguments                   failure, crash report from a PV guest)\n";

static int parse_disk(const char *arg, struct vmm_disk *d, char *err, size_t errlen)
{
        char *copy = strdup(arg);
        char *comma = strchr(copy, ',');
        d->readonly = false;
        d->direct = false;
        d->format = NULL;
        if (comma) {
                *comma = 0;
                for (char *opt = strtok(comma + 1, ","); opt; opt = strtok(NULL, ",")) {
                        if (!strcmp(opt, "ro"))
                                d->readonly = true;
                        else if (!strcmp(opt, "rw"))
                                d->readonly = false;
                        else if (!strcmp(opt, "cache=none") || !strcmp(opt, "cache=writeback"))
                                d->direct = !strcmp(opt, "cache=none");
                        else if (!strcmp(opt, "format=raw") || !strcmp(opt, "format=qcow2") ||
                                 !strcmp(opt, "format=vpc") || !strcmp(opt, "format=vmdk"))
                                d->format = strdup(opt + strlen("format="));
                        else {
                                snprintf(err, errlen,
                                         "--disk %s: unknown option '%s' (ro, rw, "
                                         "format=raw|qcow2|vpc|vmdk, cache=none|writeback)",
                                         arg, opt);
                                free(copy);
                                return -1;
                        }
                }
        }
        struct stat st;
        if (!*copy) {
                snprintf(err, errlen, "--disk %s: empty path", arg);
                free(copy);
                return -1;
        }
        if (stat(copy, &st) < 0) {
                snprintf(err, errlen, "--disk %s: no such file", copy);
                free(copy);
                return -1;
        }
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
                snprintf(err, errlen, "--disk %s: not a file or block device", copy);
                free(copy);
                return -1;
        }
        d->path = copy; /* lives for the process */
        return 0;
}

int vmm_options_parse(int argc, char **argv, struct vmm_options *o, char *err, size_t errlen)
{
        enum {
                O_KERNEL = 256,
                O_INITRD,
                O_CMDLINE,
                O_LEGACY,
                O_MEM,
                O_CPUS,
                O_DISK,
                O_CONSOLE,
                O_VCONSOLE,
                O_CONTROL,
                O_FB,
                O_PRINTER,
                O_SOUND,
                O_NAME,
                O_VERSION,
                O_NORNG,
                O_USB,
                O_NET,
                O_COUNT_INSNS,
                O_NO_SANDBOX
        };
        static const struct option opts[] = {
            {"kernel", required_argument, 0, O_KERNEL},
            {"initrd", required_argument, 0, O_INITRD},
            {"cmdline", required_argument, 0, O_CMDLINE},
            {"legacy", required_argument, 0, O_LEGACY},
            {"mem", required_argument, 0, O_MEM},
            {"cpus", required_argument, 0, O_CPUS},
            {"disk", required_argument, 0, O_DISK},
            {"console", required_argument, 0, O_CONSOLE},
            {"vconsole", required_argument, 0, O_VCONSOLE},
            {"control", required_argument, 0, O_CONTROL},
            {"fb", required_argument, 0, O_FB},
            {"printer", required_argument, 0, O_PRINTER},
            {"sound", required_argument, 0, O_SOUND},
            {"name", required_argument, 0, O_NAME},
            {"no-rng", no_argument, 0, O_NORNG},
            {"usb", required_argument, 0, O_USB},
            {"net", required_argument, 0, O_NET},
            {"count-instructions", no_argument, 0, O_COUNT_INSNS},
            {"no-sandbox", no_argument, 0, O_NO_SANDBOX},
            {"help", no_argument, 0, 'h'},
            {"version", no_argument, 0, O_VERSION},
            {0, 0, 0, 0},
        };
        memset(o, 0, sizeof(*o));
        o->mem = 256ULL << 20;
        o->cpus = 1;
        o->console = "stdio";
        o->name = "domain";
        o->rng = true;
        opterr = 0;
        optind = 1;
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                char *end;
                switch (c) {
                case O_KERNEL:
                        o->kernel = optarg;
                        break;
                case O_INITRD:
                        o->initrd = optarg;
                        break;
                case O_CMDLINE:
                        o->cmdline = optarg;
                        break;
                case O_LEGACY:
                        o->legacy = optarg;
                        break;
                case O_NAME:
                        o->name = optarg;
                        break;
                case O_CONTROL:
                        o->control = optarg;
                        break;
                case O_PRINTER:
                        o->printer = optarg;
                        break;
                case O_SOUND:
                        if (audio_spec_check(optarg, err, errlen) < 0)
                                return -1;
                        o->sound = optarg;
                        break;
                case O_NORNG:
                        o->rng = false;
                        break;
                case O_COUNT_INSNS:
                        o->count_insns = true;
                        break;
                case O_NO_SANDBOX:
                        o->no_sandbox = true;
                        break;
                case O_USB:
                        if (o->nusb == VMM_MAX_USB) {
                                snprintf(err, errlen, "too many --usb options (at most %d)",
                                         VMM_MAX_USB);
                                return -1;
                        }
                        o->usb[o->nusb++] = optarg;
                        break;
                case O_MEM:
                        if (size_parse(optarg, &o->mem) < 0) {
                                snprintf(err, errlen, "--mem %s: not a size (e.g. 512M, 2G)",
                                         optarg);
                                return -1;
                        }
                        break;
                case O_CPUS: {
                        unsigned long n = strtoul(optarg, &end, 10);
                        if (*end || n < 1 || n > 64) {
                                snprintf(err, errlen, "--cpus %s: must be 1 to 64", optarg);
                                return -1;
                        }
                        o->cpus = (unsigned)n;
                        break;
                }
                case O_DISK:
                        if (o->ndisks == VMM_MAX_DISKS) {
                                snprintf(err, errlen, "too many --disk options (at most %d)",
                                         VMM_MAX_DISKS);
                                return -1;
                        }
                        if (parse_disk(optarg, &o->disk[o->ndisks], err, errlen) < 0)
                                return -1;
                        o->ndisks++;
                        break;
                case O_CONSOLE:
                case O_VCONSOLE:
                        if (!console_mux_spec_valid(optarg)) {
                                snprintf(err, errlen,
                                         "--%s %s: expected stdio, pty, none, file:PATH or "
                                         "socket:PATH",
                                         c == O_CONSOLE ? "console" : "vconsole", optarg);
                                return -1;
                        }
                        if (c == O_CONSOLE)
                                o->console = optarg;
                        else
                                o->vconsole = optarg;
                        break;
                case O_FB: {
                        unsigned w, h;
                        char x;
                        if (sscanf(optarg, "%u%c%u", &w, &x, &h) != 3 || x != 'x' || w < 64 ||
                            h < 64 || w > 4096 || h > 4096) {
                                snprintf(err, errlen,
                                         "--fb %s: expected WxH between 64x64 and 4096x4096",
                                         optarg);
                                return -1;
                        }
                        o->fb_width = w;
                        o->fb_height = h;
                        break;
                }
                case O_NET: {
                        struct net_spec ns;
                        if (o->nnets == VMM_MAX_NETS) {
                                snprintf(err, errlen, "too many --net options (at most %d)",
                                         VMM_MAX_NETS);
                                return -1;
                        }
                        if (net_spec_parse(optarg, &ns, err, errlen) < 0)
                                return -1;
                        o->net[o->nnets++] = optarg;
                        break;
                }
                case 'h':
                        fputs(usage, stdout);
                        return 1;
                case O_VERSION:
                        puts("tandem-vmm " TANDEM_VERSION);
                        return 1;
                default:
                        snprintf(err, errlen, "unknown or incomplete option '%s' (see --help)",
                                 argv[optind - 1]);
                        return -1;
                }
        }
        if (optind < argc) {
                snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
                return -1;
        }
        if (!o->kernel && !o->legacy) {
                snprintf(err, errlen, "no guest: give --kernel FILE or --legacy FILE");
                return -1;
        }
        if (o->kernel && o->legacy) {
                snprintf(err, errlen, "--kernel and --legacy conflict: give one guest");
                return -1;
        }
        if (o->legacy && (o->initrd || o->cmdline || o->fb_width)) {
                snprintf(err, errlen,
                         "--initrd, --cmdline and --fb apply to --kernel guests, not --legacy");
                return -1;
        }
        if (o->kernel && o->printer) {
                snprintf(err, errlen, "--printer applies to the --legacy guest only");
                return -1;
        }
        if (o->mem < VMM_MIN_MEM || o->mem > VMM_MAX_MEM || (o->mem & 0xfff)) {
                snprintf(err, errlen, "--mem: %llu bytes is outside 4M..1T or not page-aligned",
                         (unsigned long long)o->mem);
                return -1;
        }
        const char *guest = o->kernel ? o->kernel : o->legacy;
        struct stat st;
        if (stat(guest, &st) < 0 || !S_ISREG(st.st_mode)) {
                snprintf(err, errlen, "%s %s: no such file", o->kernel ? "--kernel" : "--legacy",
                         guest);
                return -1;
        }
        if (o->initrd && (stat(o->initrd, &st) < 0 || !S_ISREG(st.st_mode))) {
                snprintf(err, errlen, "--initrd %s: no such file", o->initrd);
                return -1;
        }
        return 0;
}
