#include "audit/flows.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_log.h"
#include "common/fg_util.h"
#include "audit/audit.h"
#include "sensors/sensor.h"

#define MAX_FLOWS 128

struct flow {
    char *route, *purpose;
    uint32_t categories;
    uint64_t count;
    unsigned char sum[32];
};

struct flows {
    pthread_mutex_t lock;
    struct flow f[MAX_FLOWS];
    size_t n;
};

fg_err flows_new(struct flows **out)
{
    struct flows *f = calloc(1, sizeof *f);
    if (!f)
        return FG_ERR_NOMEM;
    pthread_mutex_init(&f->lock, NULL);
    *out = f;
    return FG_OK;
}

void flows_free(struct flows *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->f[i].route);
        free(f->f[i].purpose);
    }
    pthread_mutex_destroy(&f->lock);
    free(f);
}

static void add256(unsigned char acc[32], const unsigned char h[32])
{
    unsigned carry = 0;
    for (int i = 0; i < 32; i++) {
        unsigned v = acc[i] + h[i] + carry;
        acc[i] = (unsigned char)v;
        carry = v >> 8;
    }
}

void flows_hash(const char *topic, const char *payload, size_t len, unsigned char h[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const unsigned char *)topic, strlen(topic) + 1);
    crypto_generichash_update(&st, (const unsigned char *)payload, len);
    crypto_generichash_final(&st, h, 32);
}

void flows_add(struct flows *f, const char *route, const char *purpose, uint32_t categories,
               const unsigned char h[32])
{
    pthread_mutex_lock(&f->lock);
    struct flow *fl = NULL;
    for (size_t i = 0; i < f->n && !fl; i++)
        if (!strcmp(f->f[i].route, route))
            fl = &f->f[i];
    if (!fl && f->n < MAX_FLOWS) {
        fl = &f->f[f->n];
        fl->route = strdup(route);
        fl->purpose = strdup(purpose);
        if (fl->route && fl->purpose)
            f->n++;
        else {
            free(fl->route);
            free(fl->purpose);
            fl = NULL;
        }
    }
    if (fl) {
        fl->count++;
        fl->categories |= categories;
        add256(fl->sum, h);
    }
    pthread_mutex_unlock(&f->lock);
}

void flows_flush(struct flows *f, struct audit *a, const char *destination, int64_t since_ms,
                 int64_t until_ms)
{
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->n; i++) {
        struct flow *fl = &f->f[i];
        if (!fl->count)
            continue;
        char since[40], until[40], digest[65];
        fg_format_time(since_ms, since, sizeof since);
        fg_format_time(until_ms, until, sizeof until);
        sodium_bin2hex(digest, sizeof digest, fl->sum, sizeof fl->sum);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "route", fl->route);
        cJSON_AddStringToObject(o, "destination", destination);
        cJSON_AddStringToObject(o, "purpose", fl->purpose);
        cJSON *cats = cJSON_AddArrayToObject(o, "categories");
        for (int c = 0; c < SENSOR_CAT__COUNT; c++)
            if (fl->categories & (1u << c))
                cJSON_AddItemToArray(cats, cJSON_CreateString(sensor_category_name(c)));
        cJSON_AddNumberToObject(o, "count", (double)fl->count);
        cJSON_AddStringToObject(o, "digest", digest);
        cJSON_AddStringToObject(o, "since", since);
        cJSON_AddStringToObject(o, "until", until);
        if (audit_append(a, "gateway", "flow.summary", o) != FG_OK)
            fg_error("audit", "cannot write a flow summary for route %s", fl->route);
        cJSON_Delete(o);
        fl->count = 0;
        fl->categories = 0;
        memset(fl->sum, 0, sizeof fl->sum);
    }
    pthread_mutex_unlock(&f->lock);
}
