/* rng.c: out-of-line helpers for rng.h. */
#include "lib/rng.h"
#include <math.h>

double rng_exp(rng_t *r, double mean)
{
    double u = rng_unit(r);
    return -mean * log1p(-u);
}
