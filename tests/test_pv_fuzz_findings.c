/* test_pv_fuzz_findings.c: every failure the stateful hypercall fuzzer
 * (tests/fuzz/fuzz_pv_hypercalls.c) found, as a named test that replays the
 * input it found through the harness itself: after every operation the
 * harness checks pv_check (reference recount included) and the loaded root,
 * and an internal assertion aborts. Each input is also in the seed corpus
 * (tests/fuzz/corpus/pv_hypercalls/finding-*). A readable version of each
 * scenario is in test_pv_window.c or test_pv_hostile.c.
 *
 * Found against the code before the fixes of this branch, starting from the
 * seeds without a preemption window (docs/pv.md, "Checking the PV
 * hypervisor"). */
#define MEMVIRT_LIBFUZZER   /* the harness, without its replay main() */
#include "fuzz/fuzz_pv_hypercalls.c"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

/* pv with xen.preempt_entries=1 and the window: a kernel builds an L4 over
 * an L3 from its own pages and pins it; the PIN is preempted back to the
 * guest; in the window the guest pins the same frame as another type, which
 * is refused, and the refusal dropped the general reference the partial
 * validation held (pv_check: "general count 2 but 3 references exist";
 * later a put_page would have freed the frame). Fixed by the partial state's
 * own reference. test_pv_window.c: test_refused_pin_of_another_type. */
static const uint8_t refused_pin_drops_partial_ref[] = {
    0xd2, 0xd2, 0xd2, 0xd2, 0xd2, 0xd2, 0xd2, 0xd2, 0xd2, 0xd2, 0xd2, 0xd2,
    0xd2, 0xd2, 0x05, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x30, 0x01,
    0x00, 0x01, 0x00, 0x30, 0x02, 0x00, 0x02, 0x02, 0x30, 0x03, 0x00, 0x03,
    0x00, 0x32, 0x04, 0x0f, 0x00, 0x00, 0x0f, 0x01, 0x00, 0x0f, 0x02, 0x00,
    0x0f, 0x03, 0x00, 0x00, 0x02, 0x00, 0x03, 0x08, 0x00, 0x05, 0x00, 0x00,
    0x00, 0x03, 0x00, 0x00, 0x00, 0x30, 0xd1, 0x01, 0x00, 0x01, 0x00, 0x30,
    0x02, 0x00, 0x02, 0x02, 0x30, 0x03, 0x00, 0x03, 0x00, 0x32, 0x04, 0x0f,
    0x00, 0x00, 0x0f, 0x01, 0x00, 0x02, 0x00, 0x08, 0x00, 0x00, 0x00, 0x03,
    0x00, 0x03, 0x00, 0x32, 0x04, 0x01, 0xd1, 0x01, 0x00, 0x01, 0x00, 0x30,
    0x02, 0x00, 0x02, 0x02, 0x03, 0x00, 0x00, 0x00, 0x30, 0x01, 0x00, 0x01,
    0x00, 0x30, 0x02, 0x00, 0x02, 0x02, 0x02, 0x0f, 0x00, 0x00, 0x00, 0x0f,
    0x01, 0x0f,
};

/* A load by the guest kernel from guest frame 2^40, beyond its memory:
 * hw/cpu.c asserted ("guest load from unmapped frame"). Now it reads all
 * ones (a store faults). test_pv_hostile.c: test_memory_beyond_the_guest. */
static const uint8_t load_beyond_memory[] = {
    0x00, 0x00, 0x0c, 0x07, 0x12, 0x19, 0x1b, 0x0b, 0x04, 0x07, 0x0c, 0x07,
    0x17, 0x00, 0x09, 0x0d, 0x00, 0x14, 0x16, 0x09, 0x08, 0x14, 0x16, 0x0c,
    0x04, 0x07,
};

static void test_refused_pin_drops_partial_ref(void **state)
{
    (void)state;
    LLVMFuzzerTestOneInput(refused_pin_drops_partial_ref, sizeof refused_pin_drops_partial_ref);
}

static void test_load_beyond_memory(void **state)
{
    (void)state;
    LLVMFuzzerTestOneInput(load_beyond_memory, sizeof load_beyond_memory);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_pin_drops_partial_ref),
        cmocka_unit_test(test_load_beyond_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
