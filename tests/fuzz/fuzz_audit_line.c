/* Fuzz target over the audit line parser and the verifier (anchor, chain, hand-overs,
 * witness). Built with -DFUZZING and -fsanitize=fuzzer under clang; otherwise main()
 * below runs every file named on the command line once, so the seed corpus
 * (tests/fuzz/corpus/audit_line/) runs under ASan/UBSan in the normal test run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_util.h"
#include "audit/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    /* 1. one line */
    const char *nl = memchr(buf, '\n', size);
    cJSON *ev = audit_parse_line(buf, nl ? (size_t)(nl - buf) : size);
    /* 2. the whole input as a log, verified from the key its first line names, so the
     * fuzzer gets past line 1 with the seeds */
    unsigned char pk[32] = {0};
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(ev, "object");
    const char *hex = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "pubkey"));
    if (hex && strlen(hex) == 64)
        for (size_t i = 0; i < 32; i++) {
            unsigned v = 0;
            if (sscanf(hex + 2 * i, "%2x", &v) != 1)
                break;
            pk[i] = (unsigned char)v;
        }
    cJSON_Delete(ev);
    struct audit_verify_result r;
    if (audit_verify_buffer(buf, size, pk, NULL, &r) == FG_OK && r.ok && r.bad_line)
        abort(); /* an intact log names no bad line */
    /* 3. the input as a witness for a log consisting of itself (NUL-terminated copy) */
    char *w = malloc(size + 1);
    if (w) {
        memcpy(w, data, size);
        w[size] = '\0';
        if (audit_verify_buffer(buf, size, pk, w, &r) != FG_OK)
            abort();
        free(w);
    }
    return 0;
}

#ifndef FUZZING
int main(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc; i++) {
        char *b;
        size_t len;
        if (fg_read_file(argv[i], (size_t)1 << 26, &b, &len) != FG_OK) {
            fprintf(stderr, "cannot read %s\n", argv[i]);
            return 1;
        }
        LLVMFuzzerTestOneInput((const uint8_t *)b, len);
        free(b);
        n++;
    }
    printf("fuzz_audit_line: ran %d input(s)\n", n);
    return 0;
}
#endif
