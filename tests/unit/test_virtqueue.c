/* Split virtqueue: chains, used ring, EVENT_IDX decisions, and every ring
 * attack a driver can mount, on real rings in real guest memory. */
#include <string.h>

#include "harness.h"
#include "vdriver.h"
#include "virtqueue.h"

#define RAM   (128ull << 20)
#define QBASE 0x1000
#define QSIZE 8
#define DATA  0x100000

static struct guest_mem mem;

/* A fresh, enabled device-side queue with its driver-side view. */
static void setup(struct virtqueue *vq, struct vd_queue *q, bool event_idx)
{
        vd_queue_init(q, &mem, QBASE, QSIZE);
        virtq_reset(vq);
        vq->size = QSIZE;
        vq->desc_gpa = q->desc;
        vq->avail_gpa = q->avail;
        vq->used_gpa = q->used;
        vq->event_idx = event_idx;
        REQUIRE(virtq_enable(vq, &mem) == 0);
}

static struct virtq_chain chain;

static enum virtq_pop_result pop(struct virtqueue *vq)
{
        return virtq_pop(vq, &mem, &chain);
}

static void test_basic_chain(void)
{
        struct virtqueue vq;
        struct vd_queue q;
        setup(&vq, &q, false);
        CHECK_EQ(pop(&vq), VIRTQ_EMPTY);
        CHECK(!virtq_has_work(&vq, &mem));
        struct vd_buf b[3] = {
            {DATA, 16, false}, {DATA + 0x1000, 100, true}, {DATA + 0x2000, 1, true}};
        uint16_t head = vd_add_chain(&q, b, 3);
        CHECK(virtq_has_work(&vq, &mem));
        CHECK_EQ(pop(&vq), VIRTQ_CHAIN);
        CHECK_EQ(chain.head, head);
        CHECK_EQ(chain.nout, 1);
        CHECK_EQ(chain.nin, 2);
        CHECK_EQ(chain.out_bytes, 16);
        CHECK_EQ(chain.in_bytes, 101);
        CHECK(chain.iov[0].iov_base == guest_mem_ptr(&mem, DATA, 16));
        CHECK(chain.iov[1].iov_base == guest_mem_ptr(&mem, DATA + 0x1000, 100));
        CHECK_EQ(chain.iov[2].iov_len, 1);
        CHECK_EQ(pop(&vq), VIRTQ_EMPTY);
        CHECK_EQ(virtq_push(&vq, &mem, head, 42), 0);
        uint32_t id, len;
        CHECK(vd_get_used(&q, &id, &len));
        CHECK_EQ(id, head);
        CHECK_EQ(len, 42);
        CHECK(!vd_get_used(&q, &id, &len));
}

static void test_index_wrap(void)
{
        struct virtqueue vq;
        struct vd_queue q;
        setup(&vq, &q, false);
        vq.last_avail = vq.used_idx = 65534;
        q.used_seen = 65534;
        vd_set_avail_idx(&q, 65534);
        for (int i = 0; i < 4; i++) {
                struct vd_buf b = {DATA, 8, true};
                vd_add_chain(&q, &b, 1);
        }
        for (int i = 0; i < 4; i++) {
                CHECK_EQ(pop(&vq), VIRTQ_CHAIN);
                CHECK_EQ(virtq_push(&vq, &mem, chain.head, 8), 0);
        }
        CHECK_EQ(pop(&vq), VIRTQ_EMPTY);
        CHECK_EQ(vd_used_idx(&q), 2);
        CHECK(vq.ready);
}

static void test_enable_validation(void)
{
        struct virtqueue vq;
        struct vd_queue q;
        setup(&vq, &q, false);
        struct {
                uint16_t size;
                uint64_t desc, avail, used;
        } bad[] = {
            {0, q.desc, q.avail, q.used},                    /* size 0 */
            {6, q.desc, q.avail, q.used},                    /* not a power of two */
            {2048, q.desc, q.avail, q.used},                 /* above VIRTQ_MAX_SIZE */
            {QSIZE, q.desc + 8, q.avail, q.used},            /* desc not 16-aligned */
            {QSIZE, q.desc, q.avail + 1, q.used},            /* avail not 2-aligned */
            {QSIZE, q.desc, q.avail, q.used + 2},            /* used not 4-aligned */
            {QSIZE, RAM - 64, q.avail, q.used},              /* desc table leaves RAM */
            {QSIZE, q.desc, RAM - 16, q.used},               /* avail leaves RAM */
            {QSIZE, q.desc, q.avail, RAM - 32},              /* used leaves RAM */
            {QSIZE, 0xfffffffffffffff0ull, q.avail, q.used}, /* wraps the address space */
        };
        for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                virtq_reset(&vq);
                vq.size = bad[i].size;
                vq.desc_gpa = bad[i].desc;
                vq.avail_gpa = bad[i].avail;
                vq.used_gpa = bad[i].used;
                CHECK(virtq_enable(&vq, &mem) < 0);
                CHECK(!vq.ready);
                CHECK_EQ(pop(&vq), VIRTQ_EMPTY);
        }
}

/* Each attack must yield VIRTQ_BROKEN and leave the queue stopped. */
static void expect_broken(struct virtqueue *vq, const char *what)
{
        enum virtq_pop_result r = pop(vq);
        if (r != VIRTQ_BROKEN)
                fprintf(stderr, "attack not caught: %s\n", what);
        CHECK_EQ(r, VIRTQ_BROKEN);
        CHECK(!vq->ready);
        CHECK_EQ(pop(vq), VIRTQ_EMPTY); /* stopped: nothing more is consumed */
}

static void test_attacks(void)
{
        struct virtqueue vq;
        struct vd_queue q;

        setup(&vq, &q, false); /* two-descriptor loop */
        vd_set_desc(&q, 0, DATA, 8, VD_NEXT, 1);
        vd_set_desc(&q, 1, DATA, 8, VD_NEXT, 0);
        vd_publish(&q, 0);
        expect_broken(&vq, "descriptor loop");

        setup(&vq, &q, false); /* self loop */
        vd_set_desc(&q, 3, DATA, 8, VD_NEXT, 3);
        vd_publish(&q, 3);
        expect_broken(&vq, "self loop");

        setup(&vq, &q, false);
        vd_set_desc(&q, 0, DATA, 8, VD_NEXT, QSIZE);
        vd_publish(&q, 0);
        expect_broken(&vq, "next out of range");

        setup(&vq, &q, false);
        vd_publish(&q, QSIZE + 1);
        expect_broken(&vq, "head out of range");

        setup(&vq, &q, false);
        vd_set_desc(&q, 0, DATA, 8, 0, 0);
        vd_set_avail_idx(&q, QSIZE + 1);
        expect_broken(&vq, "avail idx jumps more than the queue size");

        setup(&vq, &q, false);
        vd_set_desc(&q, 0, RAM - 4, 16, 0, 0);
        vd_publish(&q, 0);
        expect_broken(&vq, "buffer past the end of RAM");

        setup(&vq, &q, false);
        vd_set_desc(&q, 0, 0xfffffffffffffff0ull, 0x20, 0, 0);
        vd_publish(&q, 0);
        expect_broken(&vq, "buffer address wraps");

        setup(&vq, &q, false);
        vd_set_desc(&q, 0, GUEST_MEM_LOW_LIMIT, 16, 0, 0);
        vd_publish(&q, 0);
        expect_broken(&vq, "buffer in the PCI hole");

        setup(&vq, &q, false); /* 40 MiB + 40 MiB > VIRTQ_MAX_CHAIN_BYTES */
        vd_set_desc(&q, 0, 0x1000000, 40u << 20, VD_NEXT | VD_WRITE, 1);
        vd_set_desc(&q, 1, 0x1000000, 40u << 20, VD_WRITE, 0);
        vd_publish(&q, 0);
        expect_broken(&vq, "chain larger than VIRTQ_MAX_CHAIN_BYTES");

        setup(&vq, &q, false);
        vd_set_desc(&q, 0, DATA, 8, VD_NEXT | VD_WRITE, 1);
        vd_set_desc(&q, 1, DATA, 8, 0, 0);
        vd_publish(&q, 0);
        expect_broken(&vq, "readable after writable");
}

/* Indirect table at DATA+0x8000 with n entries. */
static void ind_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
        uint8_t d[16];
        memcpy(d, &addr, 8);
        memcpy(d + 8, &len, 4);
        memcpy(d + 12, &flags, 2);
        memcpy(d + 14, &next, 2);
        vd_write(&mem, DATA + 0x8000 + 16ull * i, d, 16);
}

static void test_indirect(void)
{
        struct virtqueue vq;
        struct vd_queue q;
        uint64_t table = DATA + 0x8000;

        setup(&vq, &q, false);
        ind_desc(0, DATA, 16, VD_NEXT, 1);
        ind_desc(1, DATA + 0x100, 512, VD_NEXT | VD_WRITE, 2);
        ind_desc(2, DATA + 0x400, 1, VD_WRITE, 0);
        vd_set_desc(&q, 0, table, 48, VD_INDIRECT, 0);
        vd_publish(&q, 0);
        CHECK_EQ(pop(&vq), VIRTQ_CHAIN);
        CHECK_EQ(chain.nout, 1);
        CHECK_EQ(chain.nin, 2);
        CHECK_EQ(chain.in_bytes, 513);

        setup(&vq, &q, false);
        ind_desc(0, table, 16, VD_INDIRECT, 0);
        vd_set_desc(&q, 0, table, 16, VD_INDIRECT, 0);
        vd_publish(&q, 0);
        expect_broken(&vq, "nested indirect");

        setup(&vq, &q, false);
        vd_set_desc(&q, 0, table, 40, VD_INDIRECT, 0);
        vd_publish(&q, 0);
        expect_broken(&vq, "indirect length not a multiple of 16");

        setup(&vq, &q, false);
        vd_set_desc(&q, 0, table, 0, VD_INDIRECT, 0);
        vd_publish(&q, 0);
        expect_broken(&vq, "empty indirect table");

        setup(&vq, &q, false);
        ind_desc(0, DATA, 8, VD_NEXT, 1);
        ind_desc(1, DATA, 8, VD_NEXT, 0);
        vd_set_desc(&q, 0, table, 32, VD_INDIRECT, 0);
        vd_publish(&q, 0);
        expect_broken(&vq, "loop inside an indirect table");

        setup(&vq, &q, false);
        ind_desc(0, DATA, 8, VD_NEXT, 2);
        vd_set_desc(&q, 0, table, 32, VD_INDIRECT, 0);
        vd_publish(&q, 0);
        expect_broken(&vq, "indirect next beyond the table");

        setup(&vq, &q, false);
        ind_desc(0, DATA, 8, 0, 0);
        vd_set_desc(&q, 0, table, 16, VD_INDIRECT | VD_NEXT, 1);
        vd_publish(&q, 0);
        expect_broken(&vq, "indirect with NEXT");

        setup(&vq, &q, false);
        vd_set_desc(&q, 0, RAM - 16, 64, VD_INDIRECT, 0);
        vd_publish(&q, 0);
        expect_broken(&vq, "indirect table outside RAM");

        setup(&vq, &q, false);
        vd_set_desc(&q, 0, table, 16u * (VIRTQ_MAX_CHAIN + 1), VD_INDIRECT, 0);
        vd_publish(&q, 0);
        expect_broken(&vq, "indirect table larger than VIRTQ_MAX_CHAIN");
}

static void push_one(struct virtqueue *vq, struct vd_queue *q)
{
        struct vd_buf b = {DATA, 8, true};
        vd_add_chain(q, &b, 1);
        REQUIRE(pop(vq) == VIRTQ_CHAIN);
        REQUIRE(virtq_push(vq, &mem, chain.head, 8) == 0);
}

static void test_event_idx(void)
{
        struct virtqueue vq;
        struct vd_queue q;
        setup(&vq, &q, true);
        vd_set_used_event(&q, 1);              /* interrupt when used idx passes 1 */
        push_one(&vq, &q);                     /* used 1 */
        CHECK(virtq_should_notify(&vq, &mem)); /* nothing signalled yet */
        push_one(&vq, &q);                     /* used 2: crossed 1 */
        CHECK(virtq_should_notify(&vq, &mem));
        push_one(&vq, &q); /* used 3 */
        CHECK(!virtq_should_notify(&vq, &mem));
        vd_set_used_event(&q, 5);
        push_one(&vq, &q); /* used 4 */
        CHECK(!virtq_should_notify(&vq, &mem));
        push_one(&vq, &q); /* used 5 */
        CHECK(!virtq_should_notify(&vq, &mem));
        push_one(&vq, &q); /* used 6: crossed 5 */
        CHECK(virtq_should_notify(&vq, &mem));
        /* a batch that crosses the event is signalled once */
        vd_set_used_event(&q, 7);
        push_one(&vq, &q);
        push_one(&vq, &q); /* 6 -> 8 crosses 7 */
        CHECK(virtq_should_notify(&vq, &mem));
        CHECK(!virtq_should_notify(&vq, &mem)); /* nothing new */

        /* avail_event tells the driver when to kick */
        virtq_set_notification(&vq, &mem, true);
        CHECK_EQ(vd_avail_event(&q), vq.last_avail);
        uint16_t before = vd_avail_event(&q);
        push_one(&vq, &q);
        virtq_set_notification(&vq, &mem, false); /* disabled: left behind */
        CHECK_EQ(vd_avail_event(&q), before);
        CHECK_EQ(vd_used_flags(&q), 0); /* flags unused with EVENT_IDX */

        /* without EVENT_IDX: the flags decide */
        setup(&vq, &q, false);
        push_one(&vq, &q);
        CHECK(virtq_should_notify(&vq, &mem));
        vd_set_avail_flags(&q, 1); /* VIRTQ_AVAIL_F_NO_INTERRUPT */
        push_one(&vq, &q);
        CHECK(!virtq_should_notify(&vq, &mem));
        virtq_set_notification(&vq, &mem, false);
        CHECK_EQ(vd_used_flags(&q), 1); /* VIRTQ_USED_F_NO_NOTIFY */
        virtq_set_notification(&vq, &mem, true);
        CHECK_EQ(vd_used_flags(&q), 0);
}

int main(void)
{
        REQUIRE(guest_mem_init(&mem, RAM) == 0);
        test_basic_chain();
        test_index_wrap();
        test_enable_validation();
        test_attacks();
        test_indirect();
        test_event_idx();
        guest_mem_destroy(&mem);
        TEST_END();
}
