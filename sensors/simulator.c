#include "sensors/simulator.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_util.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct zone {
    const char *name;
    double x0, y0, x1, y1;
    bool work; /* people work here (not canteen) */
};

static const struct zone factory_zones[] = {
    {"assembly-1", 0, 0, 40, 30, true}, {"assembly-2", 40, 0, 80, 30, true},
    {"warehouse", 0, 30, 50, 60, true}, {"loading-dock", 50, 30, 80, 45, true},
    {"canteen", 50, 45, 65, 60, false}, {"office", 65, 45, 80, 60, true},
};
static const struct zone depot_zones[] = {
    {"inbound", 0, 0, 30, 20, true},     {"aisle-a", 0, 20, 30, 70, true},
    {"aisle-b", 30, 20, 60, 70, true},   {"aisle-c", 60, 20, 90, 70, true},
    {"outbound", 60, 0, 90, 20, true},   {"dock", 30, 0, 60, 20, true},
    {"canteen", 90, 50, 110, 70, false}, {"office", 90, 20, 110, 50, true},
};

static const char *const factory_types[] = {"uwb-badge",   "wearable-vitals", "machine-terminal",
                                            "environment", "access-gate",     NULL};
static const char *const depot_types[] = {"pick-scanner", "forklift",    "vehicle-gps", "dock-door",
                                          "uwb-badge",    "environment", NULL};
const char *const sim_sites[] = {"factory", "depot", NULL};

static const char *const first_names[] = {"Anna",   "Bram", "Chantal", "Daan",    "Emre", "Fatima",
                                          "Gert",   "Hana", "Ivo",     "Jasmijn", "Kees", "Lotte",
                                          "Mehmet", "Noor", "Olga",    "Piotr"};
static const char *const last_names[] = {"de Vries", "Jansen", "Bakker",   "Visser",    "Smit",
                                         "Meijer",   "Yilmaz", "Kowalski", "El Amrani", "Mulder"};

struct worker {
    char badge[16];
    char tag[18];
    char name[48];
    char wearable[16];
    uint32_t card; /* driver card number */
    double x, y, tx, ty;
    int zone, target, home;
    int64_t last_ms, dwell_until;
    double battery, wbattery, fatigue;
    int steps, hr_base;
    int team;
    bool inside; /* last access-gate direction */
};

struct machine {
    char id[16];
    int zone;
    int op; /* worker index, -1 when nobody is logged in */
    int state;
    int64_t output;
};

struct forklift {
    uint16_t id;
    int driver;
    double x, y, tx, ty, speed;
    int zone;
    double battery;
    int64_t last_ms;
};

struct van {
    char id[16];
    int driver;
    double lat, lon, heading, speed;
};

struct sim {
    struct sim_options o;
    bool depot;
    const struct zone *zones;
    int nzones, canteen;
    uint64_t rng;
    struct worker *w;
    struct machine machines[8];
    int nmachines;
    struct forklift trucks[16];
    int ntrucks;
    struct van vans[8];
    int nvans;
    int64_t now_ms;
    uint64_t n;
    int64_t man_down_done_shift; /* index of the last shift whose man-down was sent */
    uint64_t orders;
};

static const char *const machine_states[] = {"running", "idle", "setup", "fault"};
static const char *const team_names[] = {"team-a", "team-b", "team-c"};

static uint64_t mix(uint64_t z)
{
    /* splitmix64 finaliser: tiny, seedable, good enough for telemetry */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t next_u64(struct sim *s)
{
    return mix(s->rng += 0x9e3779b97f4a7c15ULL);
}

static double uniform(struct sim *s)
{
    return (double)(next_u64(s) >> 11) / 9007199254740992.0;
}

static int pick(struct sim *s, int n)
{
    return (int)(next_u64(s) % (uint64_t)n);
}

const char *const *sim_site_types(const char *site)
{
    if (site && !strcmp(site, "factory"))
        return factory_types;
    if (site && !strcmp(site, "depot"))
        return depot_types;
    return NULL;
}

/* ---- the shift ---------------------------------------------------------------- */

static int64_t shift_index(const struct sim *s)
{
    return (s->now_ms - s->o.start_ms) / s->o.shift_ms;
}

/* Position in the current shift, 0..1. */
static double shift_frac(const struct sim *s)
{
    int64_t in = (s->now_ms - s->o.start_ms) % s->o.shift_ms;
    return (double)in / (double)s->o.shift_ms;
}

static bool on_break(const struct sim *s)
{
    double f = shift_frac(s);
    return f >= 0.45 && f < 0.52;
}

/* The man-down of shift k: when (fraction of the shift, outside the break)
 * and who. Derived from the seed alone, not from the message stream, so the
 * schedule does not depend on what else was sent. */
static void man_down_plan(const struct sim *s, int64_t k, double *frac, int *victim)
{
    uint64_t h = mix(s->o.seed ^ mix((uint64_t)k + 0x51ed270b));
    *frac = 0.08 + 0.3 * ((double)(h >> 11) / 9007199254740992.0);
    *victim = (int)(mix(h) % (uint64_t)s->o.workers);
}

static const char *shift_name(int64_t ms)
{
    int hour = (int)((ms / 3600000) % 24);
    return hour >= 6 && hour < 14 ? "early" : hour >= 14 && hour < 22 ? "late" : "night";
}

/* ---- workers ------------------------------------------------------------------- */

static void point_in(struct sim *s, int zone, double *x, double *y)
{
    const struct zone *z = &s->zones[zone];
    *x = z->x0 + uniform(s) * (z->x1 - z->x0);
    *y = z->y0 + uniform(s) * (z->y1 - z->y0);
}

static void choose_target(struct sim *s, struct worker *w)
{
    if (on_break(s))
        w->target = s->canteen;
    else if (uniform(s) < 0.65)
        w->target = w->home;
    else
        do
            w->target = pick(s, s->nzones);
        while (!s->zones[w->target].work);
    point_in(s, w->target, &w->tx, &w->ty);
}

static int zone_at(const struct sim *s, double x, double y)
{
    for (int i = 0; i < s->nzones; i++) {
        const struct zone *z = &s->zones[i];
        if (x >= z->x0 && x < z->x1 && y >= z->y0 && y < z->y1)
            return i;
    }
    /* on a boundary or a corridor: the nearest zone centre */
    int best = 0;
    double bd = 1e300;
    for (int i = 0; i < s->nzones; i++) {
        const struct zone *z = &s->zones[i];
        double cx = (z->x0 + z->x1) / 2 - x, cy = (z->y0 + z->y1) / 2 - y;
        if (cx * cx + cy * cy < bd) {
            bd = cx * cx + cy * cy;
            best = i;
        }
    }
    return best;
}

/* Walks a worker from its last update to now at 1.2 m/s, with dwell times at
 * each destination; the break pulls everyone to the canteen and back. */
static void advance(struct sim *s, struct worker *w)
{
    double dt = (double)(s->now_ms - w->last_ms) / 1000.0;
    w->last_ms = s->now_ms;
    bool brk = on_break(s);
    if (brk != (w->target == s->canteen)) {
        choose_target(s, w);
        w->dwell_until = 0;
    }
    for (int i = 0; i < 4 && dt > 0; i++) {
        if (s->now_ms < w->dwell_until)
            break;
        double dx = w->tx - w->x, dy = w->ty - w->y, d = sqrt(dx * dx + dy * dy);
        double step = 1.2 * dt;
        if (d <= step) {
            w->x = w->tx;
            w->y = w->ty;
            dt -= d / 1.2;
            w->dwell_until = s->now_ms + (int64_t)(30000 + uniform(s) * 270000);
            choose_target(s, w);
        } else {
            w->x += dx / d * step;
            w->y += dy / d * step;
            w->steps += (int)(step / 0.75);
            dt = 0;
        }
    }
    w->zone = zone_at(s, w->x, w->y);
    w->battery = w->battery > 5 ? w->battery - 0.001 : 100;
    w->fatigue = fmin(1.0, 0.05 + 0.6 * shift_frac(s) + (brk ? -0.1 : 0.0));
    if (w->fatigue < 0)
        w->fatigue = 0;
}

/* ---- setup --------------------------------------------------------------------- */

fg_err sim_new(const struct sim_options *o, struct sim **out)
{
    *out = NULL;
    if (!sim_site_types(o->site))
        return FG_ERR_CONFIG;
    struct sim *s = calloc(1, sizeof *s);
    if (!s)
        return FG_ERR_NOMEM;
    s->o = *o;
    if (s->o.workers <= 0)
        s->o.workers = 1;
    if (s->o.step_ms <= 0)
        s->o.step_ms = 100;
    if (s->o.shift_ms <= 0)
        s->o.shift_ms = 8 * 3600000LL;
    s->depot = !strcmp(o->site, "depot");
    s->zones = s->depot ? depot_zones : factory_zones;
    s->nzones = s->depot ? (int)N(depot_zones) : (int)N(factory_zones);
    for (int i = 0; i < s->nzones; i++)
        if (!s->zones[i].work)
            s->canteen = i;
    s->rng = o->seed;
    s->now_ms = o->start_ms;
    s->man_down_done_shift = -1;
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
        snprintf(w->name, sizeof w->name, "%s %s", first_names[pick(s, (int)N(first_names))],
                 last_names[pick(s, (int)N(last_names))]);
        snprintf(w->wearable, sizeof w->wearable, "wv-%04d", 100 + i);
        w->card = 4700000u + (uint32_t)(next_u64(s) % 100000u);
        w->team = i % 3;
        /* depot pickers work their team's aisle; others anywhere people work */
        if (s->depot)
            w->home = 1 + w->team;
        else
            do
                w->home = pick(s, s->nzones);
            while (!s->zones[w->home].work);
        w->zone = w->home;
        point_in(s, w->zone, &w->x, &w->y);
        w->battery = 60 + uniform(s) * 40;
        w->wbattery = 70 + uniform(s) * 30;
        w->hr_base = 62 + pick(s, 20);
        w->last_ms = s->now_ms;
        choose_target(s, w);
    }
    if (s->depot) {
        s->ntrucks = s->o.workers / 8 < 1 ? 1 : s->o.workers / 8 > 16 ? 16 : s->o.workers / 8;
        for (int i = 0; i < s->ntrucks; i++) {
            struct forklift *f = &s->trucks[i];
            f->id = (uint16_t)(201 + i);
            f->driver = i % s->o.workers;
            f->zone = pick(s, 6);
            point_in(s, f->zone, &f->x, &f->y);
            point_in(s, pick(s, 6), &f->tx, &f->ty);
            f->battery = 50 + uniform(s) * 50;
            f->last_ms = s->now_ms;
        }
        s->nvans = s->o.workers / 12 < 1 ? 1 : s->o.workers / 12 > 8 ? 8 : s->o.workers / 12;
        for (int i = 0; i < s->nvans; i++) {
            struct van *v = &s->vans[i];
            snprintf(v->id, sizeof v->id, "VAN-%02d", i + 1);
            v->driver = (s->ntrucks + i) % s->o.workers;
            v->lat = 51.885 + uniform(s) * 0.02;
            v->lon = 4.280 + uniform(s) * 0.03;
            v->heading = uniform(s) * 2 * M_PI;
        }
    } else {
        s->nmachines = 8;
        for (int i = 0; i < s->nmachines; i++) {
            struct machine *m = &s->machines[i];
            snprintf(m->id, sizeof m->id, "M-%02d", i + 1);
            m->zone = i < 4 ? 0 : 1; /* assembly-1, assembly-2 */
            m->op = -1;
            m->state = 1;
        }
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

/* ---- messages ------------------------------------------------------------------ */

static void text(struct sim_msg *m, int len)
{
    m->binary = false;
    m->len = len > 0 && (size_t)len < sizeof m->payload ? (size_t)len : 0;
}

static void emit_env(struct sim *s, struct sim_msg *m, const char *ts)
{
    int sensor = (int)((s->n / 10) % (uint64_t)s->nzones);
    double hour = fmod((double)s->now_ms / 3600000.0, 24.0);
    double temp = 19.5 + 3.0 * sin((hour - 9) / 24.0 * 2 * M_PI) + uniform(s) * 0.4;
    m->type = "environment";
    snprintf(m->topic, sizeof m->topic, "raw/environment/env-%02d", sensor + 1);
    text(m, snprintf((char *)m->payload, sizeof m->payload,
                     "{\"temperature\":%.1f,\"humidity\":%.0f,\"co2\":%.0f,\"noise\":%.1f,"
                     "\"zone\":\"%s\",\"battery\":%.0f,\"ts\":\"%s\",\"fw\":\"3.2.1\"}",
                     temp, 40 + uniform(s) * 15, 450 + uniform(s) * 500, 55 + uniform(s) * 25,
                     s->zones[sensor].name, 70 + uniform(s) * 30, ts));
}

static void emit_badge(struct sim *s, struct sim_msg *m, const char *ts)
{
    struct worker *w = &s->w[pick(s, s->o.workers)];
    advance(s, w);
    m->type = "uwb-badge";
    snprintf(m->topic, sizeof m->topic, "raw/uwb-badge/%s", w->tag);
    /* Badges also send things no policy should ever see (the worker's name
     * from the badge's provisioning, RSSI): undeclared, so dropped at decode. */
    text(m, snprintf((char *)m->payload, sizeof m->payload,
                     "{\"badge\":\"%s\",\"tag\":\"%s\",\"x\":%.2f,\"y\":%.2f,\"zone\":\"%s\","
                     "\"battery\":%.0f,\"ts\":\"%s\",\"holder\":\"%s\",\"rssi\":%d}",
                     w->badge, w->tag, w->x, w->y, s->zones[w->zone].name, w->battery, ts, w->name,
                     -40 - (int)(uniform(s) * 50)));
}

static void emit_vitals(struct sim *s, struct sim_msg *m, int who, bool man_down)
{
    struct worker *w = &s->w[who];
    advance(s, w);
    bool moving = s->now_ms >= w->dwell_until;
    int hr = w->hr_base + (moving ? 18 : 4) + (int)(w->fatigue * 10) + pick(s, 6);
    if (man_down) {
        hr += 35;
        w->dwell_until = s->now_ms + 600000; /* lies still until help comes */
    }
    double skin = 32.4 + uniform(s) * 1.2 + w->fatigue * 0.6;
    w->wbattery = w->wbattery > 5 ? w->wbattery - 0.002 : 100;
    m->type = "wearable-vitals";
    m->man_down = man_down;
    snprintf(m->topic, sizeof m->topic, "raw/wearable-vitals/%s", w->wearable);
    /* SenML with a base name and base time; spo2 and rssi are sent but not
     * declared, so they never leave the decoder. */
    text(m,
         snprintf((char *)m->payload, sizeof m->payload,
                  "[{\"bn\":\"urn:dev:wv:%s:\",\"bt\":%.3f,\"n\":\"badge\",\"vs\":\"%s\"},"
                  "{\"n\":\"heart_rate\",\"u\":\"beat/min\",\"v\":%d},"
                  "{\"n\":\"skin_temp\",\"u\":\"Cel\",\"v\":%.1f},"
                  "{\"n\":\"fatigue\",\"u\":\"/\",\"v\":%.2f},"
                  "{\"n\":\"steps\",\"u\":\"steps\",\"v\":%d},"
                  "{\"n\":\"man_down\",\"vb\":%s},{\"n\":\"fall\",\"vb\":%s},"
                  "{\"n\":\"zone\",\"vs\":\"%s\"},{\"n\":\"battery\",\"u\":\"%%\",\"v\":%.0f},"
                  "{\"n\":\"spo2\",\"u\":\"%%\",\"v\":%d},{\"n\":\"rssi\",\"u\":\"dBW\",\"v\":%d}]",
                  w->wearable, (double)s->now_ms / 1000.0, w->badge, hr, skin, w->fatigue, w->steps,
                  man_down ? "true" : "false", man_down ? "true" : "false", s->zones[w->zone].name,
                  w->wbattery, 95 + pick(s, 5), -60 - pick(s, 30)));
}

static void emit_machine(struct sim *s, struct sim_msg *m, const char *ts)
{
    struct machine *mc = &s->machines[pick(s, s->nmachines)];
    bool brk = on_break(s);
    /* Operators log out for the break and log in afterwards; a machine
     * without an operator idles. */
    if (brk)
        mc->op = -1;
    else if (mc->op < 0 && uniform(s) < 0.6) {
        int cand = pick(s, s->o.workers);
        for (int i = 0; i < s->o.workers && mc->op < 0; i++) {
            int k = (cand + i) % s->o.workers;
            if (s->w[k].home == mc->zone)
                mc->op = k;
        }
        if (mc->op < 0)
            mc->op = cand;
        mc->state = 2; /* setup after log-in */
    }
    double u = uniform(s);
    if (mc->op < 0)
        mc->state = 1;
    else if (mc->state == 3)
        mc->state = u < 0.3 ? 2 : 3;
    else if (u < 0.01)
        mc->state = 3;
    else if (u < 0.05)
        mc->state = 2;
    else
        mc->state = 0;
    double cycle = 38 + uniform(s) * 12;
    if (mc->state == 0)
        mc->output += 1 + pick(s, 3);
    m->type = "machine-terminal";
    snprintf(m->topic, sizeof m->topic, "raw/machine-terminal/term-%s", mc->id + 2);
    char op[48] = "";
    if (mc->op >= 0)
        snprintf(op, sizeof op, "\"operator\":\"%s\",", s->w[mc->op].badge);
    text(m, snprintf((char *)m->payload, sizeof m->payload,
                     "{\"machine\":\"%s\",\"hall\":\"%s\",%s\"state\":\"%s\","
                     "\"output_count\":%lld,\"cycle_time\":%.1f,\"shift\":\"%s\",\"ts\":\"%s\","
                     "\"plc\":\"S7-1200\"}",
                     mc->id, s->zones[mc->zone].name, op, machine_states[mc->state],
                     (long long)mc->output, cycle, shift_name(s->now_ms), ts));
}

static void emit_access(struct sim *s, struct sim_msg *m)
{
    struct worker *w = &s->w[pick(s, s->o.workers)];
    advance(s, w);
    /* gates at the warehouse, the office and the canteen */
    static const char *const gates[] = {"G-01", "G-02", "G-03"};
    static const int gate_zone[] = {2, 5, 4};
    int g = pick(s, 3);
    w->inside = !w->inside;
    bool granted = uniform(s) >= 0.03;
    m->type = "access-gate";
    snprintf(m->topic, sizeof m->topic, "raw/access-gate/panel-%d", g + 1);
    text(m, snprintf((char *)m->payload, sizeof m->payload,
                     "gate=%s;badge=%s;dir=%s;granted=%d;zone=%s;ts=%lld;door=%d\r\n", gates[g],
                     w->badge, w->inside ? "in" : "out", granted ? 1 : 0,
                     s->zones[gate_zone[g]].name, (long long)(s->now_ms / 1000), 1 + pick(s, 2)));
}

static void emit_pick(struct sim *s, struct sim_msg *m, const char *ts)
{
    int who = pick(s, s->o.workers);
    struct worker *w = &s->w[who];
    advance(s, w);
    m->type = "pick-scanner";
    snprintf(m->topic, sizeof m->topic, "raw/pick-scanner/sc-%03d", who + 1);
    s->orders += (uniform(s) < 0.2);
    text(m, snprintf((char *)m->payload, sizeof m->payload,
                     "{\"scanner\":\"SC-%03d\",\"operator\":\"%s\",\"team\":\"%s\","
                     "\"order\":\"SO-%06llu\",\"qty\":%d,\"pick_seconds\":%.1f,\"zone\":\"%s\","
                     "\"ts\":\"%s\",\"sku\":\"%05d\"}",
                     who + 1, w->badge, team_names[w->team],
                     (unsigned long long)(400000 + s->orders * 7 + (uint64_t)w->team),
                     1 + pick(s, 12), 8 + uniform(s) * 40 + w->fatigue * 10, s->zones[w->zone].name,
                     ts, pick(s, 100000)));
}

static void put_be(unsigned char *p, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static void emit_forklift(struct sim *s, struct sim_msg *m)
{
    struct forklift *f = &s->trucks[pick(s, s->ntrucks)];
    double dt = (double)(s->now_ms - f->last_ms) / 1000.0;
    f->last_ms = s->now_ms;
    double dx = f->tx - f->x, dy = f->ty - f->y, d = sqrt(dx * dx + dy * dy);
    f->speed = on_break(s) ? 0 : 6 + uniform(s) * 8;
    double step = f->speed / 3.6 * dt;
    if (d <= step || d < 0.5) {
        f->x = f->tx;
        f->y = f->ty;
        point_in(s, pick(s, 6), &f->tx, &f->ty);
    } else if (f->speed > 0) {
        f->x += dx / d * step;
        f->y += dy / d * step;
    }
    f->zone = zone_at(s, f->x, f->y);
    f->battery = f->battery > 10 ? f->battery - 0.003 : 100;
    bool harsh = f->speed > 0 && uniform(s) < 0.02;
    /* the odd impact: racking or a pallet, a few g */
    double impact = uniform(s) < 0.004 ? 2.5 + uniform(s) * 2.5 : uniform(s) * 0.3;
    unsigned char *p = m->payload;
    put_be(p + 0, f->id, 2);
    put_be(p + 2, s->w[f->driver].card, 4);
    put_be(p + 6, (uint64_t)lround(f->speed * 10), 2);
    put_be(p + 8, (uint64_t)lround(impact * 100), 2);
    p[10] = harsh ? 1 : 0;
    put_be(p + 11, (uint16_t)(int16_t)lround(f->x * 10), 2);
    put_be(p + 13, (uint16_t)(int16_t)lround(f->y * 10), 2);
    p[15] = (unsigned char)(f->zone + 1);
    p[16] = (unsigned char)lround(f->battery);
    put_be(p + 17, (uint64_t)(s->now_ms / 1000), 4);
    m->type = "forklift";
    m->len = 21;
    m->binary = true;
    snprintf(m->topic, sizeof m->topic, "raw/forklift/fl-%u", f->id);
}

static void emit_gps(struct sim *s, struct sim_msg *m)
{
    struct van *v = &s->vans[pick(s, s->nvans)];
    v->heading += (uniform(s) - 0.5) * 0.6;
    v->speed = uniform(s) < 0.15 ? 0 : 20 + uniform(s) * 45;
    double km = v->speed * (double)s->o.step_ms * (double)s->nvans * 10 / 3600000.0;
    v->lat += cos(v->heading) * km / 111.0;
    v->lon += sin(v->heading) * km / 68.7;
    /* stay in the region around the depot */
    if (fabs(v->lat - 51.895) > 0.05 || fabs(v->lon - 4.295) > 0.08)
        v->heading += M_PI;
    m->type = "vehicle-gps";
    snprintf(m->topic, sizeof m->topic, "raw/vehicle-gps/%s", v->id);
    text(m, snprintf((char *)m->payload, sizeof m->payload,
                     "{\"vehicle\":\"%s\",\"driver\":\"%s\",\"pos\":{\"lat\":%.5f,\"lon\":%.5f,"
                     "\"hdop\":%.1f},\"speed\":%.1f,\"ts\":%lld}",
                     v->id, s->w[v->driver].badge, v->lat, v->lon, 0.7 + uniform(s), v->speed,
                     (long long)(s->now_ms / 1000)));
}

static void emit_dock(struct sim *s, struct sim_msg *m)
{
    int door = 1 + pick(s, 6);
    double u = uniform(s);
    bool trailer = u < 0.6, open = trailer && uniform(s) < 0.7;
    unsigned char *p = m->payload;
    p[0] = (unsigned char)door;
    p[1] = open;
    p[2] = trailer;
    p[3] = 6; /* the dock zone */
    put_be(p + 4, (uint64_t)(s->now_ms / 1000), 4);
    m->type = "dock-door";
    m->len = 8;
    m->binary = true;
    snprintf(m->topic, sizeof m->topic, "raw/dock-door/door-%02d", door);
}

void sim_next_msg(struct sim *s, struct sim_msg *m)
{
    s->now_ms += s->o.step_ms;
    s->n++;
    m->man_down = false;
    m->time_ms = s->now_ms;
    char ts[40];
    fg_format_time(s->now_ms, ts, sizeof ts);
    /* One environment reading per 10 messages, as always. */
    if (s->n % 10 == 0) {
        emit_env(s, m, ts);
        return;
    }
    double u = uniform(s);
    if (!s->depot) {
        int64_t k = shift_index(s);
        double when;
        int victim;
        man_down_plan(s, k, &when, &victim);
        if (k != s->man_down_done_shift && shift_frac(s) >= when) {
            s->man_down_done_shift = k;
            emit_vitals(s, m, victim, true);
        } else if (u < 0.75)
            emit_badge(s, m, ts);
        else if (u < 0.87)
            emit_vitals(s, m, pick(s, s->o.workers), false);
        else if (u < 0.94)
            emit_machine(s, m, ts);
        else
            emit_access(s, m);
        return;
    }
    if (u < 0.45)
        emit_badge(s, m, ts);
    else if (u < 0.65)
        emit_pick(s, m, ts);
    else if (u < 0.80)
        emit_forklift(s, m);
    else if (u < 0.92)
        emit_gps(s, m);
    else
        emit_dock(s, m);
}

size_t sim_next(struct sim *s, char *topic, size_t topic_len, char *payload, size_t payload_len)
{
    struct sim_msg m;
    sim_next_msg(s, &m);
    if (strlen(m.topic) >= topic_len || m.len >= payload_len)
        return 0;
    strcpy(topic, m.topic);
    memcpy(payload, m.payload, m.len);
    payload[m.len] = '\0';
    return m.len;
}
