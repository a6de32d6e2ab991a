/* A SCSI direct-access block device (SBC-3 subset) over an image file, as
 * the USB mass-storage transport needs it. Reads and writes are streamed:
 * the transport asks for the next chunk of a READ/WRITE instead of buffering
 * a whole command. */
#ifndef TANDEM_SCSI_DISK_H
#define TANDEM_SCSI_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCSI_BLOCK 512

struct scsi_disk {
        int fd;
        bool readonly;
        uint64_t blocks;
        uint8_t sense_key, asc, ascq; /* for REQUEST SENSE */
};

/* What a command does after scsi_disk_command accepted it. */
struct scsi_cmd {
        bool good;         /* false: CHECK CONDITION, sense is set */
        bool data_in;      /* device-to-host data */
        bool streamed;     /* data moves through scsi_disk_read/write_chunk */
        uint64_t offset;   /* streamed: next byte offset in the image */
        uint64_t data_len; /* bytes of data the device moves */
        uint8_t reply[96]; /* non-streamed data-in */
};

int scsi_disk_open(struct scsi_disk *d, const char *path, char *err, size_t errlen);
void scsi_disk_close(struct scsi_disk *d);
/* Decodes and runs (or prepares, for READ/WRITE) one CDB. */
void scsi_disk_command(struct scsi_disk *d, const uint8_t *cdb, unsigned cdb_len,
                       struct scsi_cmd *cmd);
/* Streamed data: moves len bytes at cmd->offset and advances it. false: I/O
 * error (sense set). */
bool scsi_disk_read_chunk(struct scsi_disk *d, struct scsi_cmd *cmd, uint8_t *buf, size_t len);
bool scsi_disk_write_chunk(struct scsi_disk *d, struct scsi_cmd *cmd, const uint8_t *buf,
                           size_t len);

#endif
