/* Newline-framed input buffer with a hard size limit, shared by the client
 * library, tandemd's API server and its VMM control connections. */
#ifndef TANDEM_LINEBUF_H
#define TANDEM_LINEBUF_H

#include <stddef.h>
#include <sys/types.h>

struct linebuf {
        char *data;
        size_t start; /* first unconsumed byte */
        size_t len;   /* bytes held */
        size_t cap;
        size_t max; /* longest line accepted, newline included */
};

void linebuf_init(struct linebuf *b, size_t max);
void linebuf_free(struct linebuf *b);
/* Compacts and grows the buffer for the next read; returns the free room,
 * or 0 with errno ENOMEM, or EMSGSIZE when a line already fills the maximum. */
size_t linebuf_reserve(struct linebuf *b);
/* One read(2) into the buffer: >0 bytes read, 0 end of file, -1 error
 * (errno set; EAGAIN for a non-blocking fd with nothing to read). */
ssize_t linebuf_fill(struct linebuf *b, int fd);
/* 1: *line is the next line, NUL-terminated without its newline, valid until
 * the next fill; 0: no complete line yet; -1: the pending line exceeds max. */
int linebuf_next(struct linebuf *b, char **line);
/* Writes all of buf to a blocking or non-blocking fd, waiting up to
 * timeout_ms in total for it to drain. 0 on success, -1 with errno. */
int write_all_timeout(int fd, const void *buf, size_t len, int timeout_ms);

#endif
