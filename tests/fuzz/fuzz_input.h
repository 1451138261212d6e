/* fuzz_input.h: reading a stateful fuzz target's input (fuzz_pv_hypercalls,
 * fuzz_hvm_guest) as a stream of little-endian numbers; past its end every
 * read gives 0. Every read is its own statement, so the order in which the
 * input is consumed never depends on the compiler (argument and operand
 * evaluation order is unspecified in C). */
#ifndef MV_FUZZ_INPUT_H
#define MV_FUZZ_INPUT_H
#include <stddef.h>
#include <stdint.h>

struct in {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t u8(struct in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t u16(struct in *in)
{
    uint16_t lo = u8(in);
    return (uint16_t)(lo | (u8(in) << 8));
}

static inline uint32_t u32(struct in *in)
{
    uint32_t lo = u16(in);
    return lo | ((uint32_t)u16(in) << 16);
}

static inline uint64_t u64(struct in *in)
{
    uint64_t lo = u32(in);
    return lo | ((uint64_t)u32(in) << 32);
}

#endif
