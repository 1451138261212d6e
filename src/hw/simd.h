/* simd.h: the run-time choice between SIMD and scalar code for the set
 * scans of the TLB and data-cache models.
 *
 * A lookup compares a tag with every way of one set; with AVX2 that is one
 * compare per four ways and a bit mask, with no branch per way. The choice
 * is made once, when the program starts: AVX2 if the host has it, unless
 * the environment says MEMVIRT_SIMD=scalar (to test the fallback, or to
 * compare the two); any other value but avx2 is warned about (simd.c).
 * Both give the same results to the bit; only speed differs. Code that
 * uses the AVX2 scans is compiled twice, under HW_SIMD_TARGET and plainly,
 * and picks one with hw_simd. */
#ifndef MV_HW_SIMD_H
#define MV_HW_SIMD_H
#include <stddef.h>
#include <stdint.h>

extern int hw_simd;   /* 1: the AVX2 set scans are in use */

/* The choice for MEMVIRT_SIMD = env (NULL: unset) on a host that has AVX2
 * (host_avx2) or not: 1 for the AVX2 scans. A value other than empty,
 * "scalar" or "avx2", or "avx2" on a host without it, leaves a one-line
 * warning (without the "memvirt: warning: " prefix) in warning[n], else an
 * empty string. The program's choice is this, made once at start. */
int hw_simd_choose(const char *env, int host_avx2, char *warning, size_t n);
/* Whether this host (and this build) can run the AVX2 scans: AVX2, BMI1
 * and BMI2 (what HW_SIMD_TARGET compiles for). */
int hw_simd_host(void);

#if defined(__x86_64__) && !defined(MEMVIRT_NO_SIMD)
#include <immintrin.h>
#define HW_SIMD_TARGET __attribute__((target("avx2,bmi,bmi2")))

/* Bit w set for each way w < ways (ways <= 16) whose tag is key. Reads
 * whole groups of 4 tags: the array must be readable 3 tags past the set.
 * The usual geometries (4, 8, 12 and 16 ways) get straight-line code. */
static inline HW_SIMD_TARGET uint32_t tags_match_avx2_n(const uint64_t *t, uint32_t ways, uint64_t key)
{
    __m256i k = _mm256_set1_epi64x((long long)key);
    uint32_t m = 0;
    for (uint32_t w = 0; w < ways; w += 4) {
        __m256i e = _mm256_cmpeq_epi64(_mm256_loadu_si256((const __m256i *)(t + w)), k);
        m |= (uint32_t)_mm256_movemask_pd(_mm256_castsi256_pd(e)) << w;
    }
    return m & ((1u << ways) - 1);
}

static inline HW_SIMD_TARGET uint32_t tags_match_avx2(const uint64_t *t, uint32_t ways, uint64_t key)
{
    switch (ways) {
    case 4: return tags_match_avx2_n(t, 4, key);
    case 8: return tags_match_avx2_n(t, 8, key);
    case 12: return tags_match_avx2_n(t, 12, key);
    case 16: return tags_match_avx2_n(t, 16, key);
    default: return tags_match_avx2_n(t, ways, key);
    }
}
/* The same over 32-bit tags, 8 ways a compare: the array must be readable
 * 7 tags past the set. */
static inline HW_SIMD_TARGET uint32_t tags32_match_avx2_n(const uint32_t *t, uint32_t ways, uint32_t key)
{
    __m256i k = _mm256_set1_epi32((int)key);
    uint32_t m = 0;
    for (uint32_t w = 0; w < ways; w += 8) {
        __m256i e = _mm256_cmpeq_epi32(_mm256_loadu_si256((const __m256i *)(t + w)), k);
        m |= (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(e)) << w;
    }
    return m & (uint32_t)((1ull << ways) - 1);
}

static inline HW_SIMD_TARGET uint32_t tags32_match_avx2(const uint32_t *t, uint32_t ways, uint32_t key)
{
    switch (ways) {
    case 8: return tags32_match_avx2_n(t, 8, key);
    case 16: return tags32_match_avx2_n(t, 16, key);
    default: return tags32_match_avx2_n(t, ways, key);
    }
}

/* Bit i set for each of the 32 16-bit keys t[0..31] equal to key: two
 * compares, their results packed to bytes (packs interleaves the two
 * halves by 128-bit lane; the permute puts them back in order). */
static inline HW_SIMD_TARGET uint32_t keys16_match32_avx2(const uint16_t *t, uint16_t key)
{
    __m256i k = _mm256_set1_epi16((short)key);
    __m256i a = _mm256_cmpeq_epi16(_mm256_loadu_si256((const __m256i *)t), k);
    __m256i b = _mm256_cmpeq_epi16(_mm256_loadu_si256((const __m256i *)(t + 16)), k);
    __m256i ab = _mm256_permute4x64_epi64(_mm256_packs_epi16(a, b), 0xd8);
    return (uint32_t)_mm256_movemask_epi8(ab);
}
#else
#define HW_SIMD_TARGET
static inline uint32_t keys16_match32_avx2(const uint16_t *t, uint16_t key)
{
    (void)t, (void)key;
    __builtin_unreachable();
}
static inline uint32_t tags32_match_avx2(const uint32_t *t, uint32_t ways, uint32_t key)
{
    (void)t, (void)ways, (void)key;
    __builtin_unreachable();
}
static inline uint32_t tags_match_avx2(const uint64_t *t, uint32_t ways, uint64_t key)
{
    (void)t, (void)ways, (void)key;
    __builtin_unreachable();
}
#endif

/* The same, a way at a time. */
static inline uint32_t tags_match_scalar(const uint64_t *t, uint32_t ways, uint64_t key)
{
    uint32_t m = 0;
    for (uint32_t w = 0; w < ways; w++)
        m |= (uint32_t)(t[w] == key) << w;
    return m;
}

static inline uint32_t tags32_match_scalar(const uint32_t *t, uint32_t ways, uint32_t key)
{
    uint32_t m = 0;
    for (uint32_t w = 0; w < ways; w++)
        m |= (uint32_t)(t[w] == key) << w;
    return m;
}

/* In code compiled twice: simd is a constant in each copy. */
#define TAGS_MATCH(simd, t, ways, key) \
    ((simd) ? tags_match_avx2((t), (ways), (key)) : tags_match_scalar((t), (ways), (key)))
#define TAGS32_MATCH(simd, t, ways, key) \
    ((simd) ? tags32_match_avx2((t), (ways), (key)) : tags32_match_scalar((t), (ways), (key)))

/* Tags a set scan may read past an array's last set: 64-bit, 32-bit. */
#define HW_SIMD_PAD 3
#define HW_SIMD_PAD32 7

#endif
