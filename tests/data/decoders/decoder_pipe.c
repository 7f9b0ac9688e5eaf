/* A decoder built outside fairgate's tree, as an integrator writes one:
 * "W-1001|21.5|1|1795766400" -- one value per declared field, in the
 * descriptor's order, separated by '|'. Built by the tests with
 *     cc -shared -fPIC -I include -o pipe.so decoder_pipe.c
 * (-DWRONG_ABI builds it against another ABI version, for the refusal test;
 * -DNO_REASON makes it fail without a reason.) */
#include <fairgate/sensor_decoder.h>
#include <stdlib.h>
#include <string.h>

static int decode(const struct fg_decoder_type *t, const unsigned char *payload, size_t len,
                  const struct fg_decoder_host *host, struct fg_decoder_record *rec, char *why,
                  size_t why_len)
{
    const char *p = (const char *)payload, *end = p + len;
    for (size_t i = 0; i < t->nfields && p <= end; i++) {
        const char *bar = memchr(p, '|', (size_t)(end - p));
        const char *stop = bar ? bar : end;
        size_t n = (size_t)(stop - p);
        char num[32];
        int rc = FG_DECODER_OK;
        if (n == 0) { /* empty: absent */
        } else if (t->fields[i].type == FG_DECODER_STRING || t->fields[i].type == FG_DECODER_ENUM)
            rc = host->set_string(rec, i, p, n, why, why_len);
        else if (n >= sizeof num) {
#ifdef NO_REASON
            return FG_DECODER_ERR_PARSE;
#else
            strncpy(why, "a value is too long", why_len);
            return FG_DECODER_ERR_TOO_BIG;
#endif
        } else {
            memcpy(num, p, n);
            num[n] = '\0';
            char *e;
            double v = strtod(num, &e);
            if (*e) {
#ifdef NO_REASON
                return FG_DECODER_ERR_PARSE;
#else
                strncpy(why, "a number field is not a number", why_len);
                return FG_DECODER_ERR_TYPE;
#endif
            }
            if (t->fields[i].type == FG_DECODER_BOOLEAN)
                rc = host->set_bool(rec, i, v != 0, why, why_len);
            else if (t->fields[i].type == FG_DECODER_TIMESTAMP)
                rc = host->set_time_ms(rec, i, (int64_t)(v * 1000), why, why_len);
            else
                rc = host->set_number(rec, i, v, why, why_len);
        }
        if (rc)
            return rc;
        if (!bar)
            break;
        p = bar + 1;
    }
    return FG_DECODER_OK;
}

static int check(const struct fg_decoder_type *t, char *why, size_t why_len)
{
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].path_len != 1) {
            strncpy(why, "decoder pipe reads flat fields, not a path", why_len);
            return FG_DECODER_ERR_CONFIG;
        }
    return FG_DECODER_OK;
}

#ifdef WRONG_ABI
FAIRGATE_DECODER_EXPORT = {.abi = FAIRGATE_DECODER_ABI + 1,
                           .size = sizeof(struct fg_decoder),
                           .name = "pipe",
                           .decode = decode,
                           .check = check};
#else
FAIRGATE_DECODER_EXPORT = {FAIRGATE_DECODER_HEADER, .name = "pipe", .decode = decode,
                           .check = check};
#endif
