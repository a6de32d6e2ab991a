/* SHA-256 as lowercase hex (libcrypto's EVP interface). */
#ifndef TANDEM_MIGRATION_SHA256_H
#define TANDEM_MIGRATION_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_HEX_LEN 65 /* 64 digits and NUL */

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN]);
/* Hashes a whole file; returns 0, or -1 with errno set. */
int sha256_file_hex(const char *path, char out[SHA256_HEX_LEN]);

/* Streaming form, for data that is copied while it is hashed. */
struct sha256_stream;
struct sha256_stream *sha256_begin(void);
void sha256_update(struct sha256_stream *s, const void *data, size_t len);
/* Writes the digest and frees s. */
void sha256_end(struct sha256_stream *s, char out[SHA256_HEX_LEN]);

#endif
