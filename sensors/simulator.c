#include "sensors/simulator.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_util.h"

struct zone {
    const char *name;
    double x0, y0, x1, y1;
};

static const struct zone factory_zones[] = {
    {"assembly-1", 0, 0, 40, 30},   {"assembly-2", 40, 0, 80, 30}, {"warehouse", 0, 30, 50, 60},
    {"loading-dock", 50, 30, 80, 45}, {"canteen", 50, 45, 65, 60},  {"office", 65, 45, 80, 60},
};
#define NZONES (sizeof factory_zones / sizeof factory_zones[0])

static const char *const first_names[] = {"Anna",  "Bram", "Chantal", "Daan",  "Emre", "Fatima",
                                          "Gert",  "Hana", "Ivo",     "Jasmijn", "Kees", "Lotte",
                                          "Mehmet", "Noor", "Olga",   "Piotr"};
static const char *const last_names[] = {"de Vries", "Jansen", "Bakker", "Visser", "Smit",
                                         "Meijer",   "Yilmaz", "Kowalski", "El Amrani", "Mulder"};

struct worker {
    char badge[16];
    char tag[18];
    char name[48];
    double x, y, tx, ty;
    int zone, target;
    double battery;
};

struct sim {
    struct sim_options o;
    uint64_t rng;
    struct worker *w;
    int64_t now_ms;
    uint64_t n;
};

static uint64_t next_u64(struct sim *s)
{
    /* splitmix64: tiny, seedable, good enough for telemetry */
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(struct sim *s)
{
    return (double)(next_u64(s) >> 11) / 9007199254740992.0;
}

static void pick_target(struct sim *s, struct worker *w)
{
    w->target = (int)(next_u64(s) % NZONES);
    const struct zone *z = &factory_zones[w->target];
    w->tx = z->x0 + uniform(s) * (z->x1 - z->x0);
    w->ty = z->y0 + uniform(s) * (z->y1 - z->y0);
}

fg_err sim_new(const struct sim_options *o, struct sim **out)
{
    struct sim *s = calloc(1, sizeof *s);
    if (!s)
        return FG_ERR_NOMEM;
    s->o = *o;
    if (s->o.workers <= 0)
        s->o.workers = 1;
    if (s->o.step_ms <= 0)
        s->o.step_ms = 100;
    s->rng = o->seed;
    s->now_ms = o->start_ms;
    s->w = calloc((size_t)s->o.workers, sizeof *s->w);
    if (!s->w) {
        free(s);
        return FG_ERR_NOMEM;
    }
    for (int i = 0; i < s->o.workers; i++) {
        struct worker *w = &s->w[i];
        snprintf(w->badge, sizeof w->badge, "B-%05d", 10000 + i * 7 % 90000);
        uint64_t mac = next_u64(s);
        snprintf(w->tag, sizeof w->tag, "%02x:%02x:%02x:%02x:%02x:%02x", 0xd4, 0x3f,
                 (unsigned)(mac & 0xff), (unsigned)(mac >> 8 & 0xff), (unsigned)(mac >> 16 & 0xff),
                 (unsigned)(mac >> 24 & 0xff));
        snprintf(w->name, sizeof w->name, "%s %s",
                 first_names[next_u64(s) % (sizeof first_names / sizeof *first_names)],
                 last_names[next_u64(s) % (sizeof last_names / sizeof *last_names)]);
        w->zone = (int)(next_u64(s) % NZONES);
        const struct zone *z = &factory_zones[w->zone];
        w->x = z->x0 + uniform(s) * (z->x1 - z->x0);
        w->y = z->y0 + uniform(s) * (z->y1 - z->y0);
        w->battery = 60 + uniform(s) * 40;
        pick_target(s, w);
    }
    *out = s;
    return FG_OK;
}

void sim_free(struct sim *s)
{
    if (!s)
        return;
    free(s->w);
    free(s);
}

static int zone_at(double x, double y)
{
    for (size_t i = 0; i < NZONES; i++) {
        const struct zone *z = &factory_zones[i];
        if (x >= z->x0 && x < z->x1 && y >= z->y0 && y < z->y1)
            return (int)i;
    }
    return 0;
}

size_t sim_next(struct sim *s, char *topic, size_t topic_len, char *payload, size_t payload_len)
{
    s->now_ms += s->o.step_ms;
    s->n++;
    char ts[40];
    fg_format_time(s->now_ms, ts, sizeof ts);
    int len;
    /* One environment reading per 10 messages; the rest are badge positions. */
    if (s->n % 10 == 0) {
        int sensor = (int)((s->n / 10) % NZONES);
        const struct zone *z = &factory_zones[sensor];
        double hour = fmod((double)s->now_ms / 3600000.0, 24.0);
        double temp = 19.5 + 3.0 * sin((hour - 9) / 24.0 * 2 * M_PI) + uniform(s) * 0.4;
        snprintf(topic, topic_len, "raw/environment/env-%02d", sensor + 1);
        len = snprintf(payload, payload_len,
                       "{\"temperature\":%.1f,\"humidity\":%.0f,\"co2\":%.0f,\"noise\":%.1f,"
                       "\"zone\":\"%s\",\"battery\":%.0f,\"ts\":\"%s\",\"fw\":\"3.2.1\"}",
                       temp, 40 + uniform(s) * 15, 450 + uniform(s) * 500, 55 + uniform(s) * 25,
                       z->name, 70 + uniform(s) * 30, ts);
    } else {
        struct worker *w = &s->w[next_u64(s) % (uint64_t)s->o.workers];
        double dx = w->tx - w->x, dy = w->ty - w->y, d = sqrt(dx * dx + dy * dy);
        double stepm = 1.2 * (double)s->o.step_ms / 1000.0 * (double)s->o.workers;
        if (d <= stepm) {
            w->x = w->tx;
            w->y = w->ty;
            pick_target(s, w);
        } else {
            w->x += dx / d * stepm;
            w->y += dy / d * stepm;
        }
        w->zone = zone_at(w->x, w->y);
        w->battery = w->battery > 5 ? w->battery - 0.001 : 100;
        snprintf(topic, topic_len, "raw/uwb-badge/%s", w->tag);
        /* Badges also send things no policy should ever see (the worker's name
         * from the badge's provisioning, RSSI): undeclared, so dropped at decode. */
        len = snprintf(payload, payload_len,
                       "{\"badge\":\"%s\",\"tag\":\"%s\",\"x\":%.2f,\"y\":%.2f,\"zone\":\"%s\","
                       "\"battery\":%.0f,\"ts\":\"%s\",\"holder\":\"%s\",\"rssi\":%d}",
                       w->badge, w->tag, w->x, w->y, factory_zones[w->zone].name, w->battery, ts,
                       w->name, -40 - (int)(uniform(s) * 50));
    }
    if (len < 0 || (size_t)len >= payload_len)
        return 0;
    return (size_t)len;
}
