/* test_sha256.c -- dmr_sha256_hex against the FIPS 180-4 / NIST vectors. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static void s_check(const void *data, size_t len, const char *want)
{
    char hex[65];
    memset(hex, 'x', sizeof hex);
    dmr_sha256_hex(data, len, hex);
    cr_assert_str_eq(hex, want, "sha256 of %zu bytes: got %s, want %s", len,
                     hex, want);
}

Test(sha256, empty_input_matches_nist, .timeout = 10)
{
    s_check("", 0,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

Test(sha256, abc_matches_nist, .timeout = 10)
{
    s_check("abc", 3,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(sha256, two_block_448_bit_message_matches_nist, .timeout = 10)
{
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    s_check(m, strlen(m),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

Test(sha256, 896_bit_message_matches_nist, .timeout = 10)
{
    const char *m = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    s_check(m, strlen(m),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

Test(sha256, a_million_as_matches_nist, .timeout = 30)
{
    size_t n = 1000000;
    char *m = malloc(n);
    cr_assert_not_null(m);
    memset(m, 'a', n);
    s_check(m, n,
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(m);
}

/* Lengths 55, 56 and 64 sit on the padding boundaries (one or two final
 * blocks); compare with values from sha256sum. */
Test(sha256, padding_boundaries_match_reference, .timeout = 10)
{
    char m[64];
    memset(m, 'a', sizeof m);
    s_check(m, 55,
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    s_check(m, 56,
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    s_check(m, 64,
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}
