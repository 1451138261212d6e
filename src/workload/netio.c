/* netio.c: a netperf TCP_STREAM-like receiver. The NIC receives a stream at
 * link_mbps into the driver's ring (DMA through the IOMMU where there is
 * one); every slice the receiving process copies what arrived into its
 * receive buffer (modelled as writes to that buffer: 16 references, one per
 * 64-byte line of the first KiB, per 4 KiB received). A slice's references
 * are handed out in access events of at most 4096 from one fixed buffer,
 * however much the slice carries (at 1 Tbit/s a slice of seconds is billions
 * of them). A slice longer than what is left of the run is cut at its end,
 * with what the link carries in that time: the run streams `seconds`,
 * whatever the slice. The engine reports the achieved rate (dma_mbps) and
 * IOTLB misses per page. */
#include "guest/kernel.h"
#include "lib/err.h"
#include "workload/evq.h"
#include "workload/layouts.h"
#include "workload/touch.h"
#include <stdlib.h>

struct netio_cfg {
    double   seconds;
    uint64_t link_mbps;
    uint64_t slice_us;
    uint64_t buf_kb;
};

static const struct param_def defs[] = {
    PARAM_DBL(struct netio_cfg, seconds, "10", 0.001, 1e6, "simulated seconds of streaming"),
    PARAM_U64(struct netio_cfg, link_mbps, "100", 1, 1e6, "link rate in Mbit/s (paper: ~88 Mbit/s achieved)"),
    PARAM_U64(struct netio_cfg, slice_us, "1000", 10, 1e9, "receive interval in microseconds"),
    PARAM_U64(struct netio_cfg, buf_kb, "256", 4, 1 << 20, "the receiver's buffer in KiB"),
};
static const struct param_group group = { "netio", defs, sizeof defs / sizeof defs[0], "network stream receiver" };

static double nio_span_s(const void *cfg)
{
    return ((const struct netio_cfg *)cfg)->seconds;
}

static int nio_validate(const void *cfg, const struct kconfig *guest)
{
    const struct netio_cfg *c = cfg;
    if (c->buf_kb > guest->ram_mb << 10)
        return mv_error("--param netio.buf_kb=%llu: the buffer is larger than the guest's RAM (guest.ram_mb=%llu)",
                        (unsigned long long)c->buf_kb, (unsigned long long)guest->ram_mb);
    return 0;
}

#define RECV_BUF 0x7f0000000000ull
#define LINES 16                   /* references per 4 KiB received */
#define BATCH 4096                 /* references per access event, at most */

struct netio {
    struct netio_cfg c;
    struct evq q;
    uint64_t now_ns, end_ns, slice_ns;
    uint64_t per_slice, pos;       /* per_slice: bytes a whole slice carries */
    uint64_t left;                 /* pages of this slice not yet copied out */
    uint64_t cur_ns;               /* this slice's length: slice_ns, or less for the last */
    uint64_t refs[BATCH];
    int stage;
};

/* What a link of mbps Mbit/s carries in us microseconds, in bytes (at
 * least one). */
static uint64_t link_bytes(uint64_t mbps, double us)
{
    uint64_t b = (uint64_t)((double)mbps * 1e6 / 8 * us / 1e6);
    return b ? b : 1;
}

static void *net_create(const void *cfg, uint64_t seed)
{
    struct netio *s = mv_calloc(1, sizeof *s);
    s->c = *(const struct netio_cfg *)cfg;
    s->end_ns = (uint64_t)(s->c.seconds * 1e9 + 0.5);   /* 0.3 s is 300000000 ns, not one less */
    s->slice_ns = s->c.slice_us * 1000;
    s->per_slice = link_bytes(s->c.link_mbps, (double)s->c.slice_us);
    (void)seed;
    return s;
}

static void net_next(void *st, struct event *ev)
{
    struct netio *s = st;
    for (;;) {
        if (evq_pop(&s->q, ev))
            return;
        if (s->stage == 0) {
            s->stage = 1;
            evq_push(&s->q, (struct event){ .type = EV_SPAWN, .pid = 1 });
            evq_push(&s->q, (struct event){ .type = EV_EXEC, .pid = 1, .layout = layout_get("sh") });
            evq_push(&s->q, (struct event){ .type = EV_MMAP, .pid = 1, .addr = RECV_BUF,
                                            .len = s->c.buf_kb << 10, .prot = PROT_READ | PROT_WRITE,
                                            .flags = MAP_PRIVATE | MAP_ANON });
            continue;
        }
        if (s->stage == 2) {
            *ev = (struct event){ .type = EV_END };
            return;
        }
        if (s->left) {
            /* The receiver copies out the next pages of the slice, as many
             * as the buffer holds; the one event is handed out before the
             * buffer is filled again. */
            uint32_t n = 0;
            const uint64_t buf = s->c.buf_kb << 10;   /* >= 4 KiB: pos + 4 KiB wraps at most once */
            uint64_t pos = s->pos;
            for (; s->left && n + LINES <= BATCH; s->left--) {
                for (unsigned l = 0; l < LINES; l++) {
                    uint64_t off = pos + l * 64;
                    s->refs[n++] = (RECV_BUF + (off >= buf ? off - buf : off)) | REF_WRITE;
                }
                pos += 4096;
                pos -= pos >= buf ? buf : 0;
            }
            s->pos = pos;
            evq_push(&s->q, (struct event){ .type = EV_ACCESS, .pid = 1, .batch = s->refs, .n = n });
            if (!s->left) {
                s->now_ns += s->cur_ns;
                evq_push(&s->q, (struct event){ .type = EV_IDLE_UNTIL, .ns = s->now_ns });
            }
            continue;
        }
        if (s->now_ns >= s->end_ns) {
            s->stage = 2;
            evq_push(&s->q, (struct event){ .type = EV_EXIT, .pid = 1 });
            continue;
        }
        /* One slice: the NIC delivers, the receiver copies out every 4 KiB
         * page of it (the last one partly filled). The last slice ends with
         * the run. */
        s->cur_ns = s->end_ns - s->now_ns < s->slice_ns ? s->end_ns - s->now_ns : s->slice_ns;
        uint64_t bytes = s->cur_ns == s->slice_ns ? s->per_slice : link_bytes(s->c.link_mbps, (double)s->cur_ns / 1e3);
        evq_push(&s->q, (struct event){ .type = EV_DMA, .name = "nic", .len = bytes, .flags = 1 });
        s->left = (bytes + 4095) >> 12;
    }
}

static double net_progress(void *st)
{
    struct netio *s = st;
    return (double)s->now_ns / (double)s->end_ns;
}

static void net_destroy(void *st)
{
    struct netio *s = st;
    evq_free(&s->q);
    free(s);
}

const struct workload_def wl_netio = {
    .name = "netio",
    .doc = "netperf TCP_STREAM-like receiver: NIC DMA through the IOMMU at link rate",
    .params = &group,
    .cfg_size = sizeof(struct netio_cfg),
    .validate = nio_validate,
    .create = net_create,
    .next = net_next,
    .progress = net_progress,
    .destroy = net_destroy,
    .span_s = nio_span_s,
};
