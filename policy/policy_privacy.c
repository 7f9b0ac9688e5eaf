/* What `policy explain` and `policy check` say about the privacy rules of
 * issue 15: absent fields in conditions, persons behind things, zone lists,
 * small groups, movement tracks, overlapping aggregates and signed
 * exceptions. Kept apart from policy_explain.c so its phrases can be
 * translated table by table: one `struct privacy_lang` per language. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy_internal.h"

struct privacy_lang {
    const char *code;
    const char *absent; /* when: a field the message lacks */
};

static const struct privacy_lang PRIV_EN = {
    .code = "en",
    .absent = "  A comparison with a field the message lacks is not met, also after \"not\"; "
              "then nothing is sent.\n",
};

static const struct privacy_lang PRIV_NL = {
    .code = "nl",
    .absent = "  Een vergelijking met een veld dat in het bericht ontbreekt, klopt niet, ook "
              "niet na \"niet\"; dan wordt niets verstuurd.\n",
};

static const struct privacy_lang *priv_pick(const char *lang)
{
    return lang && !strcmp(lang, "nl") ? &PRIV_NL : &PRIV_EN;
}

void policy_privacy_explain_when(const struct policy_route *r, const char *lang, FILE *out)
{
    const struct privacy_lang *L = priv_pick(lang);
    for (int i = 0; i < r->ncond; i++)
        if (r->cond[i].kind == POLICY_COND_CMP) {
            fputs(L->absent, out);
            return;
        }
}
