#include "sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void to_hex(const unsigned char *md, char out[SHA256_HEX_LEN])
{
        for (int i = 0; i < 32; i++)
                snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN])
{
        unsigned char md[32];
        unsigned int mdlen = 0;
        EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
        to_hex(md, out);
}

int sha256_file_hex(const char *path, char out[SHA256_HEX_LEN])
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
        unsigned char buf[1 << 16];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                EVP_DigestUpdate(ctx, buf, (size_t)n);
        close(fd);
        unsigned char md[32];
        unsigned int mdlen = 0;
        EVP_DigestFinal_ex(ctx, md, &mdlen);
        EVP_MD_CTX_free(ctx);
        if (n < 0)
                return -1;
        to_hex(md, out);
        return 0;
}

struct sha256_stream *sha256_begin(void)
{
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
                abort();
        return (struct sha256_stream *)ctx;
}

void sha256_update(struct sha256_stream *s, const void *data, size_t len)
{
        EVP_DigestUpdate((EVP_MD_CTX *)s, data, len);
}

void sha256_end(struct sha256_stream *s, char out[SHA256_HEX_LEN])
{
        unsigned char md[32];
        unsigned int mdlen = 0;
        EVP_DigestFinal_ex((EVP_MD_CTX *)s, md, &mdlen);
        EVP_MD_CTX_free((EVP_MD_CTX *)s);
        to_hex(md, out);
}
