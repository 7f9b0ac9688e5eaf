/* Property tests over randomised telemetry (fixed seeds): thousands of workers
 * and events through a policy with per-message and aggregate routes. For
 * every output: only allow-listed fields, no raw identifier, no group below
 * min_group, published counts equal the true distinct counts, and never
 * exactly one hidden group beside a published total (no derivation by
 * subtraction). */
#include <cjson/cJSON.h>

#include "test_policy_util.h"

#define WORKERS 3000
#define ZONES 20
#define WINDOWS 32
#define EVENTS 40000
#define MIN_GROUP 5
#define WIN_MS (15 * 60000LL)

static const char *POLICY =
    "policy: prop\nversion: 1\n"
    "zones:\n  west: { rect: [0, 0, 50, 100] }\n  east: { rect: [50, 0, 100, 100] }\n"
    "routes:\n"
    "  - name: occ\n    purpose: p\n    from: t-badge\n    to: s/occ/{zone}\n"
    "    aggregate: { window: 15m, by: [zone], min_group: 5, totals: true, max_groups: 64,\n"
    "                 emit: { people: count_distinct(badge), n: count(), mx: mean(x) } }\n"
    "  - name: areas\n    purpose: p\n    from: t-badge\n    to: s/areas/{x}\n"
    "    fields: { badge: pseudonymise, x: generalise(zone), ts: generalise(1m) }\n"
    "  - name: md\n    purpose: p\n    from: t-vitals\n    when: man_down == true\n"
    "    to: s/md\n    fields: { badge: pseudonymise, zone: keep }\n";

static uint64_t rng;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* truth[window][zone]: bitset of workers seen */
static uint8_t truth[WINDOWS][ZONES][WORKERS / 8 + 1];

static int popcount(const uint8_t *b)
{
    int n = 0;
    for (size_t i = 0; i < WORKERS / 8 + 1; i++)
        n += __builtin_popcount(b[i]);
    return n;
}

static bool allowed(const char *route, const char *key)
{
    static const char *const occ[] = {"window_start", "window_end", "zone", "total",
                                      "people",       "n",          "mx"};
    static const char *const areas[] = {"badge", "x", "ts"};
    static const char *const md[] = {"badge", "zone"};
    const char *const *l = !strcmp(route, "occ") ? occ : !strcmp(route, "areas") ? areas : md;
    size_t n = !strcmp(route, "occ") ? 7 : !strcmp(route, "areas") ? 3 : 2;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(l[i], key))
            return true;
    return false;
}

static void run_seed(uint64_t seed)
{
    rng = seed;
    memset(truth, 0, sizeof truth);
    struct sensor_registry *reg = test_registry();
    char dir[256];
    struct pseudonym_keyring *keys = test_keys(dir, sizeof dir, 86400000, 86400000, T0);
    struct policy *p = load_ok(reg, POLICY);
    struct outs o = {0};
    /* zone popularity is skewed so some groups are small */
    for (int e = 0; e < EVENTS; e++) {
        int64_t t = T0 + (int64_t)e * (WINDOWS * WIN_MS) / EVENTS;
        int w = (int)((t - T0) / WIN_MS);
        uint32_t r = next();
        int zone = (int)(r % 1000 < 985 ? r % 5 : 5 + (r >> 8) % (ZONES - 5));
        int worker = zone < 5 ? (int)((r >> 12) % WORKERS) : (int)((r >> 12) % 12);
        char json[256], topic[64];
        if (r % 10 == 0) {
            snprintf(topic, sizeof topic, "test/vitals/v%d", worker);
            snprintf(json, sizeof json,
                     "{\"badge\":\"W-%05d\",\"heart_rate\":%u,\"man_down\":%s,\"zone\":\"Z%02d\"}",
                     worker, 60 + (r >> 20) % 100, (r >> 4) % 50 == 0 ? "true" : "false", zone);
        } else {
            snprintf(topic, sizeof topic, "test/badge/t%d", worker);
            snprintf(json, sizeof json,
                     "{\"badge\":\"W-%05d\",\"tag\":\"TAG-%05d\",\"x\":%u.%u,\"y\":%u,"
                     "\"zone\":\"Z%02d\",\"battery\":%u,\"ts\":%lld}",
                     worker, worker, (r >> 3) % 120, r % 10, (r >> 9) % 100, zone, r % 100,
                     (long long)(t / 1000));
            truth[w][zone][worker / 8] |= (uint8_t)(1u << (worker % 8));
        }
        const struct sensor_record *rec = decode(reg, topic, json);
        assert_int_equal(pseudonym_keyring_tick(keys, t), FG_OK);
        assert_int_equal(policy_tick(p, t, false, collect, &o), FG_OK);
        int n;
        assert_int_equal(policy_apply(p, keys, rec, t, collect, &o, &n), FG_OK);
    }
    assert_int_equal(policy_tick(p, T0 + WINDOWS * WIN_MS, true, collect, &o), FG_OK);
    bool published[WINDOWS][ZONES] = {{false}};
    bool total[WINDOWS] = {false};
    int total_people[WINDOWS] = {0};
    size_t agg = 0;
    for (size_t i = 0; i < o.n; i++) {
        const struct out_msg *m = &o.m[i];
        /* no raw identifier anywhere */
        assert_null(strstr(m->payload, "W-"));
        assert_null(strstr(m->payload, "TAG-"));
        assert_null(strstr(m->topic, "W-"));
        cJSON *j = cJSON_Parse(m->payload);
        assert_non_null(j);
        for (cJSON *it = j->child; it; it = it->next) {
            if (!allowed(m->route, it->string))
                fprintf(stderr, "route %s: field %s\n", m->route, it->string);
            assert_true(allowed(m->route, it->string));
        }
        if (!strcmp(m->route, "occ")) {
            agg++;
            int64_t ws;
            const char *wst = cJSON_GetObjectItem(j, "window_start")->valuestring;
            assert_true(fg_parse_time(wst, strlen(wst), &ws));
            int w = (int)((ws - T0) / WIN_MS);
            assert_true(w >= 0 && w < WINDOWS);
            int people = cJSON_GetObjectItem(j, "people")->valueint;
            assert_true(people >= MIN_GROUP); /* nothing below min_group leaves */
            if (cJSON_GetObjectItem(j, "total")) {
                total[w] = true;
                total_people[w] = people;
            } else {
                int z = atoi(cJSON_GetObjectItem(j, "zone")->valuestring + 1);
                published[w][z] = true;
                assert_int_equal(people, popcount(truth[w][z])); /* and it is exact */
            }
        }
        cJSON_Delete(j);
    }
    int hidden_total = 0, windows_with_total = 0;
    for (int w = 0; w < WINDOWS; w++) {
        int hidden = 0;
        for (int z = 0; z < ZONES; z++) {
            int people = popcount(truth[w][z]);
            if (people > 0 && !published[w][z])
                hidden++;
            if (people >= MIN_GROUP && !published[w][z] && !total[w])
                fprintf(stderr, "window %d zone %d: %d people hidden without a total\n", w, z,
                        people);
        }
        if (total[w]) {
            windows_with_total++;
            assert_true(hidden != 1); /* one hidden group = total minus the rest */
        }
        hidden_total += hidden;
        (void)total_people;
    }
    printf("seed %llu: %zu outputs, %zu aggregates, %d windows with totals, %d hidden groups\n",
           (unsigned long long)seed, o.n, agg, windows_with_total, hidden_total);
    assert_true(hidden_total > 0 && agg > 0); /* the data did exercise suppression */
    outs_free(&o);
    policy_free(p);
    pseudonym_keyring_close(keys);
    rm_dir(dir);
    sensor_registry_free(reg);
}

static void test_random_telemetry(void **state)
{
    (void)state;
    static const uint64_t seeds[] = {1, 0x9e3779b97f4a7c15ULL, 424242};
    for (size_t i = 0; i < 3; i++)
        run_seed(seeds[i]);
}

/* Differencing attacks per measure. Small crews send no battery value or only
 * zeros (like scanners that send no qty), so a window can have two hidden
 * groups of which only one adds to sum(battery): total minus the published
 * groups is then that one group's sum. The attacker knows which crews send
 * nothing; for every window with a published total and every value, it
 * subtracts the published groups from the total and succeeds when exactly
 * one hidden group adds to that value, or when the total's maximum exceeds
 * every published maximum and only one hidden group has values. */
#define DZ 12
struct cell {
    int records, bat_n, x_n;
    double bat_sum, x_max;
};
static struct cell dtruth[WINDOWS][DZ];

static const char *DPOLICY =
    "policy: diff\nversion: 1\n"
    "routes:\n"
    "  - name: crews\n    purpose: p\n    from: t-badge\n    to: s/crews/{zone}\n"
    "    aggregate: { window: 15m, by: [zone], min_group: 5, totals: true, max_groups: 64,\n"
    "                 emit: { n: count(), b: sum(battery), nb: count(battery), hi: max(x) } }\n";

static void diff_seed(uint64_t seed, int *attacks, int *hidden_seen)
{
    rng = seed;
    memset(dtruth, 0, sizeof dtruth);
    struct sensor_registry *reg = test_registry();
    char dir[256];
    struct pseudonym_keyring *keys = test_keys(dir, sizeof dir, 86400000, 86400000, T0);
    struct policy *p = load_ok(reg, DPOLICY);
    struct outs o = {0};
    for (int e = 0; e < 12000; e++) {
        int64_t t = T0 + (int64_t)e * (WINDOWS * WIN_MS) / 12000;
        int w = (int)((t - T0) / WIN_MS);
        uint32_t r = next();
        /* zones 0-3 are big; 4-11 small crews of 2-8 workers */
        int zone = r % 100 < 80 ? (int)(r % 4) : 4 + (int)((r >> 8) % (DZ - 4));
        int crew = zone < 4 ? 400 : 2 + zone % 7;
        int worker = zone * 1000 + (int)((r >> 12) % (uint32_t)crew);
        /* zone % 3: 0 sends no battery, 1 sends zeros, 2 sends values */
        int kind = zone < 4 ? 2 : zone % 3;
        double x = (double)((r >> 3) % 1000) / 10.0, bat = kind == 1 ? 0 : (double)(r % 100);
        char json[256], btext[32] = "";
        if (kind)
            snprintf(btext, sizeof btext, ",\"battery\":%g", bat);
        snprintf(json, sizeof json, "{\"badge\":\"W-%05d\",\"x\":%g,\"zone\":\"Z%02d\"%s}", worker,
                 x, zone, btext);
        struct cell *c = &dtruth[w][zone];
        c->records++;
        c->x_max = c->x_n++ ? fmax(c->x_max, x) : x;
        if (kind) {
            c->bat_n++;
            c->bat_sum += bat;
        }
        const struct sensor_record *rec = decode(reg, "test/badge/t1", json);
        assert_int_equal(policy_tick(p, t, false, collect, &o), FG_OK);
        int n;
        assert_int_equal(policy_apply(p, keys, rec, t, collect, &o, &n), FG_OK);
    }
    assert_int_equal(policy_tick(p, T0 + WINDOWS * WIN_MS, true, collect, &o), FG_OK);
    static struct cell pub[WINDOWS][DZ + 1]; /* DZ: the total */
    static bool seen[WINDOWS][DZ + 1];
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < o.n; i++) {
        cJSON *j = cJSON_Parse(o.m[i].payload);
        assert_non_null(j);
        int64_t ws;
        const char *wst = cJSON_GetObjectItem(j, "window_start")->valuestring;
        assert_true(fg_parse_time(wst, strlen(wst), &ws));
        int w = (int)((ws - T0) / WIN_MS);
        cJSON *z = cJSON_GetObjectItem(j, "zone");
        int k = z ? atoi(z->valuestring + 1) : DZ;
        struct cell *c = &pub[w][k];
        c->records = cJSON_GetObjectItem(j, "n")->valueint;
        c->bat_sum = cJSON_GetObjectItem(j, "b")->valuedouble;
        c->bat_n = cJSON_GetObjectItem(j, "nb")->valueint;
        cJSON *hi = cJSON_GetObjectItem(j, "hi");
        c->x_max = cJSON_IsNumber(hi) ? hi->valuedouble : -1;
        seen[w][k] = true;
        if (k < DZ) /* published groups are exact */
            assert_int_equal(c->records, dtruth[w][k].records);
        cJSON_Delete(j);
    }
    for (int w = 0; w < WINDOWS; w++) {
        int hid_rec = 0, hid_bat = 0, hid_nb = 0;
        double pub_max = -1;
        for (int k = 0; k < DZ; k++) {
            const struct cell *c = &dtruth[w][k];
            if (seen[w][k]) {
                pub_max = fmax(pub_max, pub[w][k].x_max);
                continue;
            }
            if (!c->records)
                continue;
            (*hidden_seen)++;
            hid_rec += c->records > 0;
            hid_bat += c->bat_sum != 0;
            hid_nb += c->bat_n > 0;
        }
        if (!seen[w][DZ] || !hid_rec)
            continue;
        (*attacks)++;
        /* subtracting the published groups from the total */
        assert_true(hid_rec != 1);
        assert_true(hid_bat != 1);
        assert_true(hid_nb != 1);
        if (pub[w][DZ].x_max > pub_max)
            assert_true(hid_rec >= 2);
    }
    outs_free(&o);
    policy_free(p);
    pseudonym_keyring_close(keys);
    rm_dir(dir);
    sensor_registry_free(reg);
}

static void test_differencing_attacks(void **state)
{
    (void)state;
    int attacks = 0, hidden = 0;
    for (uint64_t seed = 1; seed <= 20; seed++)
        diff_seed(seed * 0x9e3779b97f4a7c15ULL, &attacks, &hidden);
    printf("differencing: %d windows attacked, %d hidden groups\n", attacks, hidden);
    assert_true(attacks > 20 && hidden > 40); /* the data did exercise suppression */
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_random_telemetry),
                                       cmocka_unit_test(test_differencing_attacks)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
