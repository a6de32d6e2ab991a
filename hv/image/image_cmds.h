/* tandem-image subcommands on backing chains and snapshots (image_cmds.c)
 * and the helpers they share with tandem-image.c. */
#ifndef TANDEM_IMAGE_CMDS_H
#define TANDEM_IMAGE_CMDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TANDEM_JSON=1 (set by `tandem --json image ...`) means --json. */
bool image_env_json(void);
/* A progress bar on stderr, ending the line when done == total. */
void progress(uint64_t done, uint64_t total);
bool all_zero(const uint8_t *p, size_t n);

/* Copies what the source reads into a fresh dst (which reads as zeros),
 * sparse; 0 or -errno with *fail_off set. srcs are nsrc opens of the same
 * source: srcs[0] answers block status, each other one reads in a thread of
 * its own (up to IMAGE_COPY_READERS), so that many reads are in flight.
 * writeback_fd (or -1): a descriptor of dst's file whose dirty pages are
 * sent to disk every few MiB. */
#define IMAGE_COPY_READERS 8
struct blk_backend;
int image_copy(struct blk_backend *const *srcs, int nsrc, struct blk_backend *dst, int writeback_fd,
               bool show, uint64_t *fail_off);

int cmd_commit(int argc, char **argv);
int cmd_rebase(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);

#endif
