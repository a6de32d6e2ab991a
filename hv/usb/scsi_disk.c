/* SCSI commands for a direct-access device over an image file (SPC-3, SBC-3):
 * the set Linux's usb-storage and sd need to attach, read and write a disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scsi_disk.h"

#define SK_NOT_READY       0x2
#define SK_MEDIUM_ERROR    0x3
#define SK_ILLEGAL_REQUEST 0x5
#define SK_DATA_PROTECT    0x7

#define ASC_WRITE_ERROR      0x0c
#define ASC_READ_ERROR       0x11
#define ASC_INVALID_OPCODE   0x20
#define ASC_LBA_OUT_OF_RANGE 0x21
#define ASC_INVALID_FIELD    0x24
#define ASC_WRITE_PROTECTED  0x27

static void set_sense(struct scsi_disk *d, struct scsi_cmd *cmd, uint8_t key, uint8_t asc)
{
        d->sense_key = key;
        d->asc = asc;
        d->ascq = 0;
        cmd->good = false;
        cmd->data_len = 0;
}

static uint32_t be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)(v >> 24);
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
}

int scsi_disk_open(struct scsi_disk *d, const char *path, char *err, size_t errlen)
{
        memset(d, 0, sizeof(*d));
        d->fd = open(path, O_RDWR | O_CLOEXEC);
        if (d->fd < 0 && (errno == EACCES || errno == EROFS)) {
                d->fd = open(path, O_RDONLY | O_CLOEXEC);
                d->readonly = true;
        }
        if (d->fd < 0) {
                snprintf(err, errlen, "usb storage: cannot open %s: %s", path, strerror(errno));
                return -1;
        }
        /* A block device (a whole disk handed to the guest) reports its
         * size through lseek, not st_size. */
        struct stat st;
        off_t size = -1;
        if (fstat(d->fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))
                size = lseek(d->fd, 0, SEEK_END);
        if (size < SCSI_BLOCK) {
                snprintf(err, errlen,
                         "usb storage: %s is not an image file or block device of at least 512 "
                         "bytes",
                         path);
                close(d->fd);
                return -1;
        }
        d->blocks = (uint64_t)size / SCSI_BLOCK;
        if (d->blocks > 0xffffffffull)
                d->blocks = 0xffffffffull; /* READ CAPACITY(10) reach; larger needs (16) */
        return 0;
}

void scsi_disk_close(struct scsi_disk *d)
{
        if (d->fd >= 0)
                close(d->fd);
        d->fd = -1;
}

static void inquiry(struct scsi_disk *d, const uint8_t *cdb, struct scsi_cmd *cmd)
{
        if (cdb[1] & 1) { /* vital product data pages: none */
                set_sense(d, cmd, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
                return;
        }
        uint8_t *r = cmd->reply;
        r[0] = 0x00; /* direct-access block device */
        r[1] = 0x80; /* removable medium */
        r[2] = 0x05; /* SPC-3 */
        r[3] = 0x02; /* response data format */
        r[4] = 31;   /* additional length */
        memcpy(r + 8, "TANDEM  ", 8);
        memcpy(r + 16, "USB DISK        ", 16);
        memcpy(r + 32, "0001", 4);
        cmd->data_len = 36;
}

static void mode_sense6(struct scsi_disk *d, const uint8_t *cdb, struct scsi_cmd *cmd)
{
        unsigned page = cdb[2] & 0x3f;
        uint8_t *r = cmd->reply;
        r[1] = 0;                      /* medium type */
        r[2] = d->readonly ? 0x80 : 0; /* WP */
        r[3] = 0;                      /* no block descriptors */
        unsigned len = 4;
        if (page == 0x08 || page == 0x3f) { /* caching page: write cache off */
                r[len] = 0x08;
                r[len + 1] = 0x12;
                len += 0x14;
        } else if (page != 0) {
                set_sense(d, cmd, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
                return;
        }
        r[0] = (uint8_t)(len - 1);
        cmd->data_len = len;
}

static void read_write10(struct scsi_disk *d, const uint8_t *cdb, struct scsi_cmd *cmd, bool write)
{
        uint64_t lba = be32(cdb + 2);
        uint64_t count = (uint64_t)cdb[7] << 8 | cdb[8];
        if (lba + count > d->blocks) {
                set_sense(d, cmd, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
                return;
        }
        if (write && d->readonly) {
                set_sense(d, cmd, SK_DATA_PROTECT, ASC_WRITE_PROTECTED);
                return;
        }
        cmd->streamed = true;
        cmd->data_in = !write;
        cmd->offset = lba * SCSI_BLOCK;
        cmd->data_len = count * SCSI_BLOCK;
}

void scsi_disk_command(struct scsi_disk *d, const uint8_t *cdb, unsigned cdb_len,
                       struct scsi_cmd *cmd)
{
        memset(cmd, 0, sizeof(*cmd));
        cmd->good = true;
        cmd->data_in = true;
        if (cdb_len < 6 || (cdb[0] >= 0x20 && cdb[0] < 0x60 && cdb_len < 10)) {
                set_sense(d, cmd, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
                return;
        }
        uint8_t *r = cmd->reply;
        switch (cdb[0]) {
        case 0x00: /* TEST UNIT READY */
        case 0x1b: /* START STOP UNIT */
        case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
                break;
        case 0x03: /* REQUEST SENSE, fixed format */
                r[0] = 0x70;
                r[2] = d->sense_key;
                r[7] = 10;
                r[12] = d->asc;
                r[13] = d->ascq;
                cmd->data_len = 18;
                d->sense_key = d->asc = d->ascq = 0;
                break;
        case 0x12: /* INQUIRY */
                inquiry(d, cdb, cmd);
                break;
        case 0x1a: /* MODE SENSE(6) */
                mode_sense6(d, cdb, cmd);
                break;
        case 0x25: /* READ CAPACITY(10) */
                put_be32(r, (uint32_t)(d->blocks - 1));
                put_be32(r + 4, SCSI_BLOCK);
                cmd->data_len = 8;
                break;
        case 0x28: /* READ(10) */
                read_write10(d, cdb, cmd, false);
                break;
        case 0x2a: /* WRITE(10) */
                read_write10(d, cdb, cmd, true);
                break;
        case 0x35: /* SYNCHRONIZE CACHE(10) */
                if (fdatasync(d->fd) < 0)
                        set_sense(d, cmd, SK_MEDIUM_ERROR, ASC_WRITE_ERROR);
                break;
        default:
                set_sense(d, cmd, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
                break;
        }
        /* Allocation length caps what non-streamed commands return. */
        if (!cmd->streamed && cmd->data_len) {
                unsigned alloc = cdb[0] == 0x25 ? 8 : cdb[4];
                if (cdb[0] == 0x12)
                        alloc = (unsigned)cdb[3] << 8 | cdb[4];
                if (cmd->data_len > alloc)
                        cmd->data_len = alloc;
        }
}

bool scsi_disk_read_chunk(struct scsi_disk *d, struct scsi_cmd *cmd, uint8_t *buf, size_t len)
{
        ssize_t n = pread(d->fd, buf, len, (off_t)cmd->offset);
        if (n != (ssize_t)len) {
                set_sense(d, cmd, SK_MEDIUM_ERROR, ASC_READ_ERROR);
                return false;
        }
        cmd->offset += len;
        return true;
}

bool scsi_disk_write_chunk(struct scsi_disk *d, struct scsi_cmd *cmd, const uint8_t *buf,
                           size_t len)
{
        ssize_t n = pwrite(d->fd, buf, len, (off_t)cmd->offset);
        if (n != (ssize_t)len) {
                set_sense(d, cmd, SK_MEDIUM_ERROR, ASC_WRITE_ERROR);
                return false;
        }
        cmd->offset += len;
        return true;
}
