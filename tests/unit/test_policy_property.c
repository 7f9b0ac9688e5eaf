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

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_random_telemetry)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
