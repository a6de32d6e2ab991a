/* virtio-console port 0 over real pipes and a real event loop thread: guest
 * output reaches out_fd, host input reaches posted receive buffers, input
 * waits (unpolled) while no buffers are posted, and emerg_wr works. */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devices.h"
#include "evloop.h"
#include "harness.h"
#include "vdriver.h"
#include "virtio_core.h"

#define RAM   (4ull << 20)
#define RXQ   0x1000
#define TXQ   0x3000
#define RXBUF 0x10000
#define TXBUF 0x20000

static struct guest_mem mem;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct evloop *loop;

static void post_rx(struct vd_queue *q, uint64_t gpa, uint32_t len)
{
        struct vd_buf b = {gpa, len, true};
        vd_add_chain(q, &b, 1);
}

int main(void)
{
        REQUIRE(guest_mem_init(&mem, RAM) == 0);
        loop = evloop_new();
        REQUIRE(loop);
        int in[2], out[2];
        REQUIRE(pipe(in) == 0 && pipe(out) == 0);
        fcntl(in[0], F_SETFL, O_NONBLOCK);
        fcntl(out[0], F_SETFL, O_NONBLOCK);
        char err[200];
        CHECK(virtio_console_create(&mem, NULL, in[0], out[1], err, sizeof(err)) == NULL);
        struct virtio_device *con =
            virtio_console_create(&mem, loop, in[0], out[1], err, sizeof(err));
        REQUIRE(con);
        struct vd_loop_thread th;
        vd_loop_start(&th, loop, &lock);

        struct vd_queue qs[2];
        vd_queue_init(&qs[0], &mem, RXQ, 16);
        vd_queue_init(&qs[1], &mem, TXQ, 16);
        pthread_mutex_lock(&lock);
        uint8_t st = vd_bringup(con, con->device_features, qs, 2);
        pthread_mutex_unlock(&lock);
        REQUIRE(st & VIRTIO_STATUS_DRIVER_OK);
        uint32_t ports = 0;
        con->ops->config_read(con, 4, &ports, 4);
        CHECK_EQ(ports, 1);

        /* guest output */
        vd_write(&mem, TXBUF, "hello, ", 7);
        vd_write(&mem, TXBUF + 0x100, "host\n", 5);
        struct vd_buf tx[2] = {{TXBUF, 7, false}, {TXBUF + 0x100, 5, false}};
        pthread_mutex_lock(&lock);
        vd_add_chain(&qs[1], tx, 2);
        virtio_kick(con, 1);
        pthread_mutex_unlock(&lock);
        char got[64] = {0};
        CHECK_EQ(read(out[0], got, sizeof(got)), 12);
        CHECK(memcmp(got, "hello, host\n", 12) == 0);
        uint32_t id, len;
        CHECK(vd_get_used(&qs[1], &id, &len));
        CHECK_EQ(len, 0);

        /* host input split over two small receive buffers */
        pthread_mutex_lock(&lock);
        post_rx(&qs[0], RXBUF, 4);
        post_rx(&qs[0], RXBUF + 0x100, 4);
        virtio_kick(con, 0);
        pthread_mutex_unlock(&lock);
        CHECK_EQ(write(in[1], "abcdefg", 7), 7);
        CHECK(vd_wait_used(&qs[0], &lock, 2, 5000));
        CHECK(vd_get_used(&qs[0], &id, &len));
        CHECK_EQ(len, 4);
        CHECK(vd_get_used(&qs[0], &id, &len));
        CHECK_EQ(len, 3);
        vd_read(&mem, RXBUF, got, 4);
        vd_read(&mem, RXBUF + 0x100, got + 4, 3);
        CHECK(memcmp(got, "abcdefg", 7) == 0);

        /* input with no buffer posted waits, then arrives once one is */
        CHECK_EQ(write(in[1], "XYZ", 3), 3);
        nanosleep(&(struct timespec){0, 50000000}, NULL);
        CHECK_EQ(vd_used_idx(&qs[0]), 2);
        pthread_mutex_lock(&lock);
        post_rx(&qs[0], RXBUF + 0x200, 16);
        virtio_kick(con, 0);
        pthread_mutex_unlock(&lock);
        CHECK(vd_wait_used(&qs[0], &lock, 3, 5000));
        CHECK(vd_get_used(&qs[0], &id, &len));
        CHECK_EQ(len, 3);
        vd_read(&mem, RXBUF + 0x200, got, 3);
        CHECK(memcmp(got, "XYZ", 3) == 0);

        /* emergency write */
        uint32_t ch = '!';
        pthread_mutex_lock(&lock);
        con->ops->config_write(con, 8, &ch, 4);
        pthread_mutex_unlock(&lock);
        CHECK_EQ(read(out[0], got, sizeof(got)), 1);
        CHECK_EQ(got[0], '!');

        /* a broken transmit ring stops the device, not the loop */
        pthread_mutex_lock(&lock);
        vd_set_desc(&qs[1], 5, TXBUF, 4, VD_NEXT, 5);
        vd_publish(&qs[1], 5);
        virtio_kick(con, 1);
        CHECK(con->status & VIRTIO_STATUS_NEEDS_RESET);
        pthread_mutex_unlock(&lock);

        /* input closed: the device stops watching it */
        close(in[1]);
        nanosleep(&(struct timespec){0, 20000000}, NULL);

        vd_loop_stop(&th);
        virtio_device_destroy(con);
        evloop_free(loop);
        close(in[0]);
        close(out[0]);
        close(out[1]);
        guest_mem_destroy(&mem);
        TEST_END();
}
