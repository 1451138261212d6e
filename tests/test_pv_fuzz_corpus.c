/* test_pv_fuzz_corpus.c: the hypercall fuzzer's corpus
 * (tests/fuzz/corpus/pv_hypercalls/) is replayed by make test, but an input
 * whose operation Xen's L1TF check refuses (xen.l1tf_check, on by default)
 * crashes the domain there and the harness replays nothing after it. Such an
 * input stays, for the crash path, and has a variant NAME-l1tf-off beside it
 * (tests/fuzz/gen_pv_seeds.py --l1tf-off: header bit h1 0x04) whose whole
 * sequence is replayed. Here every input is replayed through the harness:
 * each one that crashes has its variant; each variant has the check off,
 * crashes nothing, is read to its end (or to the harness's 400-operation
 * limit), replays more operations than its original, and its original
 * still crashes. */
#include "fuzz/fuzz_pv_hypercalls.c"

#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#define SUFFIX "-l1tf-off"

struct input {
    char name[256];
    uint8_t *data;
    size_t size;
    struct fz_end end;
};

/* Every input of the corpus, in name order, replayed once. */
static unsigned load_corpus(struct input **out)
{
    const char *src = getenv("MEMVIRT_SRC");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/pv_hypercalls", src ? src : ".");
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n <= 0) {
        fail_msg("cannot list %s, or it is empty", dir);
        return 0;
    }
    struct input *in = calloc((size_t)n, sizeof *in);
    assert_non_null(in);
    unsigned count = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            struct input *x = &in[count++];
            char path[4400];
            snprintf(x->name, sizeof x->name, "%s", names[i]->d_name);
            snprintf(path, sizeof path, "%s/%s", dir, x->name);
            x->data = (uint8_t *)tu_slurp(path, &x->size);
            if (!x->data)
                fail_msg("cannot read %s", path);
            x->end = fz_run(x->data, x->size);
        }
        free(names[i]);
    }
    free(names);
    *out = in;
    return count;
}

static const struct input *find(const struct input *in, unsigned n, const char *name)
{
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(in[i].name, name))
            return &in[i];
    return NULL;
}

static int is_variant(const char *name)
{
    size_t len = strlen(name), sl = strlen(SUFFIX);
    return len > sl && !strcmp(name + len - sl, SUFFIX);
}

static void test_crashing_inputs_have_full_variants(void **state)
{
    (void)state;
    struct input *in;
    unsigned n = load_corpus(&in), crashing = 0, variants = 0;
    assert_true(n > 0);
    for (unsigned i = 0; i < n; i++) {
        const struct input *x = &in[i];
        if (is_variant(x->name)) {
            variants++;
            char orig[256];
            snprintf(orig, sizeof orig, "%.*s", (int)(strlen(x->name) - strlen(SUFFIX)), x->name);
            const struct input *o = find(in, n, orig);
            if (!o)
                fail_msg("%s: no %s beside it", x->name, orig);
            if (x->size != o->size || x->size < 2 || !(x->data[1] & 0x04) || (o->data[1] & 0x04) ||
                memcmp(x->data + 2, o->data + 2, x->size - 2) || x->data[0] != o->data[0] ||
                (x->data[1] & ~0x04) != o->data[1])
                fail_msg("%s is not %s with only the L1TF check turned off", x->name, orig);
            if (!o->end.crashed[0])
                fail_msg("%s no longer crashes the domain: its variant %s is not needed", orig, x->name);
            if (x->end.crashed[0])
                fail_msg("%s crashes the domain: %s", x->name, x->end.crashed);
            if (x->end.unread && x->end.ops < 400)
                fail_msg("%s: %zu bytes unread after %u operations", x->name, x->end.unread, x->end.ops);
            if (x->end.ops <= o->end.ops)
                fail_msg("%s replays %u operations, its original %u", x->name, x->end.ops, o->end.ops);
            print_message("%s: %u operations (%s: %u, then the crash)\n", x->name, x->end.ops, orig,
                          o->end.ops);
        } else if (x->end.crashed[0]) {
            crashing++;
            char want[300];
            snprintf(want, sizeof want, "%s" SUFFIX, x->name);
            if (!find(in, n, want))
                fail_msg("%s crashes the domain after %u operations with %zu bytes unread (%s) and has no %s "
                         "(tests/fuzz/gen_pv_seeds.py --l1tf-off)",
                         x->name, x->end.ops, x->end.unread, x->end.crashed, want);
        }
    }
    assert_int_equal(variants, crashing);
    for (unsigned i = 0; i < n; i++)
        free(in[i].data);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crashing_inputs_have_full_variants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
