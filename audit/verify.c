/* Audit log verification: chain, seq, checkpoints, hand-overs, anchor, witness.
 * Names the first bad line and the kind of damage; docs/audit.md explains each kind. */
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_util.h"
#include "audit/audit.h"

static const char *const damage_names[] = {
    [AUDIT_INTACT] = "intact",
    [AUDIT_EDITED] = "edited",
    [AUDIT_INSERTED] = "inserted",
    [AUDIT_DELETED] = "deleted",
    [AUDIT_REORDERED] = "reordered",
    [AUDIT_TRUNCATED] = "truncated",
    [AUDIT_ROLLED_BACK] = "rolled back",
    [AUDIT_FORKED] = "forked",
    [AUDIT_RESIGNED] = "re-signed with a later key",
    [AUDIT_WRONG_KEY] = "wrong key",
    [AUDIT_UNSEALED] = "seals missing",
    [AUDIT_LEGACY] = "legacy log",
};

const char *audit_damage_str(enum audit_damage d)
{
    if ((unsigned)d >= sizeof damage_names / sizeof damage_names[0])
        return "unknown";
    return damage_names[d];
}

struct vline {
    const char *p;
    size_t len;
    bool parsed, hashed;
    cJSON *ev; /* NULL if not a well-formed event */
    int64_t seq;
    const char *prev, *action, *actor, *time;
    const cJSON *obj;
    char hash[65];
};

struct verifier {
    struct vline *v;
    size_t n;
    const unsigned char *first_pk;
    char log_id[33];
    unsigned char (*keys)[32]; /* keys[e] = accepted public key of epoch e */
    size_t nkeys;
    uint64_t epoch;
    struct audit_verify_result *res;
    /* sealing bounds (docs/audit.md, "What the verifier demands") */
    bool have_bounds;
    struct audit_bounds b;
    uint64_t run_len;    /* lines since the last checkpoint */
    int64_t run_start;   /* log time of the first of them */
    int64_t epoch_start; /* log time of the current epoch's hand-over */
    size_t run_first;    /* 0-based line of the first of them */
};

static struct vline *get(struct verifier *vf, size_t i)
{
    struct vline *l = &vf->v[i];
    if (!l->parsed) {
        l->parsed = true;
        l->seq = -1;
        l->ev = audit_parse_line(l->p, l->len);
        if (l->ev) {
            l->seq = (int64_t)cJSON_GetObjectItemCaseSensitive(l->ev, "seq")->valuedouble;
            l->prev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(l->ev, "prev"));
            l->action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(l->ev, "action"));
            l->actor = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(l->ev, "actor"));
            l->time = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(l->ev, "time"));
            l->obj = cJSON_GetObjectItemCaseSensitive(l->ev, "object");
        }
    }
    return l;
}

static const char *hash_of(struct verifier *vf, size_t i)
{
    struct vline *l = &vf->v[i];
    if (!l->hashed) {
        unsigned char h[32];
        crypto_generichash(h, 32, (const unsigned char *)l->p, l->len, NULL, 0);
        sodium_bin2hex(l->hash, sizeof l->hash, h, 32);
        l->hashed = true;
    }
    return l->hash;
}

static bool hex_ok(const char *s, size_t n)
{
    if (!s || strlen(s) != n)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

static bool hex_to(unsigned char *out, size_t n, const char *s)
{
    size_t got = 0;
    return hex_ok(s, 2 * n) && sodium_hex2bin(out, n, s, 2 * n, NULL, &got, NULL) == 0 && got == n;
}

static bool get_uint(const cJSON *o, const char *key, uint64_t *out)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(j) || j->valuedouble < 0 || j->valuedouble > 9007199254740992.0 ||
        (double)(uint64_t)j->valuedouble != j->valuedouble)
        return false;
    *out = (uint64_t)j->valuedouble;
    return true;
}

static const char *get_str(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* Signatures that verified, by BLAKE2b-256 of (pk, sig, msg): verifying the same log
 * again in one process (report after verify, prune, the tamper tests) skips the
 * Ed25519 work. Only successes are kept; a hit needs a BLAKE2b collision to forge. */
#define SIG_CACHE 1024
static unsigned char sig_cache[SIG_CACHE][32];
static pthread_mutex_t sig_cache_mu = PTHREAD_MUTEX_INITIALIZER;

static bool sig_ok(const char *sighex, const char *msg, size_t mlen, const unsigned char pk[32])
{
    unsigned char sig[crypto_sign_BYTES], key[32];
    if (!mlen || !hex_to(sig, sizeof sig, sighex))
        return false;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof key);
    crypto_generichash_update(&st, pk, 32);
    crypto_generichash_update(&st, sig, sizeof sig);
    crypto_generichash_update(&st, (const unsigned char *)msg, mlen);
    crypto_generichash_final(&st, key, sizeof key);
    size_t slot = ((size_t)key[0] << 8 | key[1]) % SIG_CACHE;
    pthread_mutex_lock(&sig_cache_mu);
    bool hit = sodium_memcmp(sig_cache[slot], key, sizeof key) == 0;
    pthread_mutex_unlock(&sig_cache_mu);
    if (hit)
        return true;
    if (crypto_sign_verify_detached(sig, (const unsigned char *)msg, mlen, pk) != 0)
        return false;
    pthread_mutex_lock(&sig_cache_mu);
    memcpy(sig_cache[slot], key, sizeof key);
    pthread_mutex_unlock(&sig_cache_mu);
    return true;
}

static bool add_key(struct verifier *vf, uint64_t epoch, const unsigned char pk[32])
{
    if (epoch >= vf->nkeys) {
        size_t nn = epoch + 16;
        unsigned char(*k)[32] = realloc(vf->keys, nn * 32);
        if (!k)
            return false;
        memset(k + vf->nkeys, 0, (nn - vf->nkeys) * 32);
        vf->keys = k;
        vf->nkeys = nn;
    }
    memcpy(vf->keys[epoch], pk, 32);
    vf->epoch = epoch;
    return true;
}

static void damage(struct verifier *vf, enum audit_damage d, size_t line0, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void damage(struct verifier *vf, enum audit_damage d, size_t line0, const char *fmt, ...)
{
    struct audit_verify_result *r = vf->res;
    if (r->damage != AUDIT_INTACT)
        return;
    r->damage = d;
    r->bad_line = line0 + 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}

/* A signature that fails under the current key but verifies under a key handed over
 * later in the file means someone holding a later secret rewrote sealed history. */
static bool signed_by_later_key(struct verifier *vf, const char *sighex, const char *msg,
                                size_t mlen)
{
    static const char tag[] = "\"action\":\"key.handover\"";
    for (size_t i = 0; i < vf->n; i++) {
        if (!memmem(vf->v[i].p, vf->v[i].len, tag, sizeof tag - 1))
            continue; /* cheap filter: parse only hand-over lines */
        struct vline *l = get(vf, i);
        if (!l->ev || strcmp(l->action, "key.handover") != 0)
            continue;
        uint64_t e;
        unsigned char pk[32];
        if (get_uint(l->obj, "epoch", &e) && e > vf->epoch &&
            hex_to(pk, 32, get_str(l->obj, "pubkey")) && sig_ok(sighex, msg, mlen, pk))
            return true;
    }
    return false;
}

/* Checks a checkpoint line already known to chain correctly. */
static enum audit_damage check_checkpoint(struct verifier *vf, struct vline *l, const char **why)
{
    uint64_t cs, ce;
    const char *head = get_str(l->obj, "head"), *sig = get_str(l->obj, "sig");
    if (strcmp(l->actor, "gateway") != 0 || !get_uint(l->obj, "seq", &cs) ||
        cs + 1 != (uint64_t)l->seq || !get_uint(l->obj, "epoch", &ce) || !head ||
        strcmp(head, l->prev) != 0 || !hex_ok(sig, 2 * crypto_sign_BYTES) ||
        cJSON_GetArraySize(l->obj) != 4) {
        *why = "checkpoint fields do not match the line";
        return AUDIT_EDITED;
    }
    char msg[512];
    size_t mlen = audit_checkpoint_message(msg, sizeof msg, vf->log_id, cs, head, ce, l->time);
    if (ce == vf->epoch && sig_ok(sig, msg, mlen, vf->keys[vf->epoch]))
        return AUDIT_INTACT;
    if (signed_by_later_key(vf, sig, msg, mlen)) {
        *why = "checkpoint of a sealed epoch signed with a later epoch's key";
        return AUDIT_RESIGNED;
    }
    *why = ce != vf->epoch ? "checkpoint names the wrong epoch"
                           : "checkpoint signature does not verify";
    return AUDIT_EDITED;
}

static enum audit_damage check_handover(struct verifier *vf, struct vline *l, const char **why)
{
    uint64_t ne;
    const char *pk = get_str(l->obj, "pubkey"), *sig = get_str(l->obj, "sig");
    unsigned char npk[32];
    if (strcmp(l->actor, "gateway") != 0 || !get_uint(l->obj, "epoch", &ne) ||
        ne != vf->epoch + 1 || !hex_to(npk, 32, pk) || !hex_ok(sig, 2 * crypto_sign_BYTES) ||
        cJSON_GetArraySize(l->obj) != 3) {
        *why = "key hand-over fields are malformed or skip an epoch";
        return AUDIT_EDITED;
    }
    char msg[512];
    size_t mlen =
        audit_handover_message(msg, sizeof msg, vf->log_id, (uint64_t)l->seq, l->prev, ne, pk);
    if (!sig_ok(sig, msg, mlen, vf->keys[vf->epoch])) {
        if (signed_by_later_key(vf, sig, msg, mlen)) {
            *why = "key hand-over signed with a later epoch's key";
            return AUDIT_RESIGNED;
        }
        *why = "key hand-over is not signed by the previous epoch's key";
        return AUDIT_EDITED;
    }
    if (!add_key(vf, ne, npk)) {
        *why = "out of memory";
        return AUDIT_EDITED;
    }
    return AUDIT_INTACT;
}

static const char *dur(int64_t ms, char *buf, size_t len)
{
    if (ms % 3600000 == 0)
        snprintf(buf, len, "%lld h", (long long)(ms / 3600000));
    else if (ms % 60000 == 0)
        snprintf(buf, len, "%lld min", (long long)(ms / 60000));
    else if (ms % 1000 == 0)
        snprintf(buf, len, "%lld s", (long long)(ms / 1000));
    else
        snprintf(buf, len, "%lld ms", (long long)ms);
    return buf;
}

/* A pruned log keeps its first two lines in the anchor ("genesis"): log.created with
 * the sealing bounds, and the checkpoint the first key signed over it. Absent: legacy. */
static bool check_genesis(struct verifier *vf, const cJSON *g)
{
    if (!g)
        return true; /* pruned by an older fairgate: legacy */
    const char *l1 = cJSON_GetStringValue(cJSON_GetArrayItem(g, 0));
    const char *l2 = cJSON_GetStringValue(cJSON_GetArrayItem(g, 1));
    cJSON *e1 = l1 ? audit_parse_line(l1, strlen(l1)) : NULL;
    cJSON *e2 = l2 ? audit_parse_line(l2, strlen(l2)) : NULL;
    const cJSON *o1 = cJSON_GetObjectItemCaseSensitive(e1, "object");
    const cJSON *o2 = cJSON_GetObjectItemCaseSensitive(e2, "object");
    unsigned char pk[32], h[32];
    char hex[65], msg[512];
    uint64_t s1 = 0, s2 = 0, cs = 0, ce = 0;
    bool ok = e1 && e2 && cJSON_GetArraySize(g) == 2 && get_uint(e1, "seq", &s1) && s1 == 1 &&
              !strcmp(get_str(e1, "action"), "log.created") &&
              !strcmp(get_str(e2, "action"), "checkpoint") && get_uint(e2, "seq", &s2) && s2 == 2 &&
              hex_to(pk, 32, get_str(o1, "pubkey")) && sodium_memcmp(pk, vf->first_pk, 32) == 0 &&
              !strcmp(get_str(o1, "log_id") ? get_str(o1, "log_id") : "", vf->log_id) &&
              audit_bounds_from_json(cJSON_GetObjectItemCaseSensitive(o1, "seal"), &vf->b);
    if (ok) {
        crypto_generichash(h, 32, (const unsigned char *)l1, strlen(l1), NULL, 0);
        sodium_bin2hex(hex, sizeof hex, h, 32);
        size_t ml = 0;
        if (!strcmp(get_str(e2, "prev"), hex) && get_uint(o2, "seq", &cs) && cs == 1 &&
            get_uint(o2, "epoch", &ce) && ce == 1 && get_str(o2, "head") &&
            !strcmp(get_str(o2, "head"), hex))
            ml = audit_checkpoint_message(msg, sizeof msg, vf->log_id, 1, hex, 1,
                                          get_str(e2, "time"));
        ok = sig_ok(get_str(o2, "sig"), msg, ml, vf->first_pk);
    }
    cJSON_Delete(e1);
    cJSON_Delete(e2);
    if (!ok)
        damage(vf, AUDIT_EDITED, 0,
               "the anchor's copy of the first two lines (sealing bounds) "
               "does not verify from the given key");
    vf->have_bounds = ok;
    return ok;
}

/* A line whose hash the next line does not carry was edited: that is the finding,
 * even when the edit also breaks a bound (e.g. its time). */
static bool edited_here(struct verifier *vf, size_t i)
{
    if (i + 1 >= vf->n)
        return false;
    struct vline *n = get(vf, i + 1);
    if (!n->ev || strcmp(n->prev, hash_of(vf, i)) == 0)
        return false;
    damage(vf, AUDIT_EDITED, i, "the hash of this line does not match the next");
    return true;
}

/* The writer seals within the bounds its first line states (audit_bounds); a log
 * that does not was stripped of checkpoints or hand-overs, or had them renamed. */
static bool check_bounds(struct verifier *vf, size_t i, const struct vline *l, bool is_cp,
                         bool is_handover)
{
    int64_t t = 0;
    char b1[32], b2[32];
    fg_parse_time(l->time, strlen(l->time), &t); /* audit_parse_line checked it */
    if (vf->epoch_start == INT64_MIN)
        vf->epoch_start = t; /* a pruned log: its epoch began before the kept checkpoint */
    if (is_cp) {
        vf->run_len = 0;
        return true;
    }
    if (vf->run_len++ == 0) {
        vf->run_start = t;
        vf->run_first = i;
    }
    if (is_handover || i == 0)
        vf->epoch_start = t;
    if (!vf->have_bounds)
        return true;
    if (vf->run_len > vf->b.events) {
        if (!edited_here(vf, i))
            damage(vf, AUDIT_UNSEALED, i,
                   "%llu lines in a row without a checkpoint, but this log is sealed at least "
                   "every %llu lines: checkpoints were removed or renamed",
                   (unsigned long long)vf->run_len, (unsigned long long)vf->b.events);
        return false;
    }
    if (t - vf->run_start > vf->b.interval_ms) {
        if (!edited_here(vf, i))
            damage(
                vf, AUDIT_UNSEALED, i,
                "written %s after the first unsealed line (line %zu) with no checkpoint between, "
                "but this log is sealed at least every %s: checkpoints were removed or renamed",
                dur(t - vf->run_start, b1, sizeof b1), vf->run_first + 1,
                dur(vf->b.interval_ms, b2, sizeof b2));
        return false;
    }
    if (!is_handover && t - vf->epoch_start > vf->b.rotate_ms) {
        if (!edited_here(vf, i))
            damage(vf, AUDIT_UNSEALED, i,
                   "epoch %llu runs %s past its start without a key hand-over, but this log "
                   "hands over at least every %s: hand-overs were removed or renamed",
                   (unsigned long long)vf->epoch, dur(t - vf->epoch_start, b1, sizeof b1),
                   dur(vf->b.rotate_ms, b2, sizeof b2));
        return false;
    }
    return true;
}

/* Anchor line of a pruned log: walks its hand-over chain from the first key. */
static bool check_anchor(struct verifier *vf, const char *p, size_t len, uint64_t *base,
                         char head[65])
{
    cJSON *j = cJSON_ParseWithLength(p, len);
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(j, "anchor");
    const char *id = get_str(an, "log_id"), *h = get_str(an, "head");
    uint64_t seq, ep;
    unsigned char pk[32];
    bool ok = cJSON_IsObject(an) && hex_ok(id, 32) && hex_ok(h, 64) && get_uint(an, "seq", &seq) &&
              get_uint(an, "epoch", &ep) && hex_to(pk, 32, get_str(an, "pubkey"));
    if (!ok) {
        damage(vf, AUDIT_EDITED, 0, "anchor line is malformed");
        cJSON_Delete(j);
        return false;
    }
    memcpy(vf->log_id, id, 33);
    add_key(vf, 1, vf->first_pk);
    const cJSON *ho;
    cJSON_ArrayForEach(ho, cJSON_GetObjectItemCaseSensitive(an, "handovers"))
    {
        uint64_t hs = 0, he = 0;
        const char *prev = get_str(ho, "prev"), *hpk = get_str(ho, "pubkey");
        unsigned char npk[32];
        char msg[512];
        size_t mlen = 0;
        if (get_uint(ho, "seq", &hs) && get_uint(ho, "epoch", &he) && he == vf->epoch + 1 &&
            hex_ok(prev, 64) && hex_to(npk, 32, hpk))
            mlen = audit_handover_message(msg, sizeof msg, id, hs, prev, he, hpk);
        if (!sig_ok(get_str(ho, "sig"), msg, mlen, vf->keys[vf->epoch])) {
            damage(vf, vf->epoch == 1 ? AUDIT_WRONG_KEY : AUDIT_EDITED, 0,
                   "anchor hand-over to epoch %llu does not verify from the given key",
                   (unsigned long long)vf->epoch + 1);
            cJSON_Delete(j);
            return false;
        }
        add_key(vf, he, npk);
    }
    if (vf->epoch != ep || sodium_memcmp(vf->keys[ep], pk, 32) != 0) {
        damage(vf, vf->epoch == 1 ? AUDIT_WRONG_KEY : AUDIT_EDITED, 0,
               "anchor key does not follow from the given key");
        cJSON_Delete(j);
        return false;
    }
    if (!check_genesis(vf, cJSON_GetObjectItemCaseSensitive(an, "genesis"))) {
        cJSON_Delete(j);
        return false;
    }
    *base = seq;
    memcpy(head, h, 65);
    cJSON_Delete(j);
    return true;
}

static void check_witness(struct verifier *vf, const char *wjson, size_t first, uint64_t base,
                          const char *anchor_head)
{
    struct audit_verify_result *r = vf->res;
    cJSON *w = cJSON_Parse(wjson);
    uint64_t ws, we;
    const char *wid = get_str(w, "log_id"), *wh = get_str(w, "head");
    const char *wch = get_str(w, "checkpoint_hash"); /* optional */
    unsigned char wpk[32];
    if (!w || !hex_ok(wid, 32) || !get_uint(w, "seq", &ws) || !get_uint(w, "epoch", &we) ||
        !hex_ok(wh, 64) || !hex_to(wpk, 32, get_str(w, "pubkey"))) {
        damage(vf, AUDIT_EDITED, vf->n, "witness file is malformed");
        r->bad_line = 0;
        cJSON_Delete(w);
        return;
    }
    r->witness_checked = true;
    struct audit_bounds wb;
    bool wseal = audit_bounds_from_json(cJSON_GetObjectItemCaseSensitive(w, "seal"), &wb);
    if (wseal && (!vf->have_bounds || wb.events != vf->b.events ||
                  wb.interval_ms != vf->b.interval_ms || wb.rotate_ms != vf->b.rotate_ms)) {
        damage(vf, AUDIT_FORKED, 0,
               vf->have_bounds ? "the log states other sealing bounds than the witness saw"
                               : "the witness saw sealing bounds on line 1; this log states "
                                 "none: its first line was replaced");
    } else if (strcmp(wid, vf->log_id) != 0) {
        damage(vf, AUDIT_FORKED, 0, "log id differs from the witness: a different log");
    } else if (r->last_seq < ws) {
        bool sealed_end = r->unsealed == 0 && r->has_checkpoint;
        damage(vf, sealed_end ? AUDIT_ROLLED_BACK : AUDIT_TRUNCATED, vf->n,
               "log ends at seq %llu but the witness saw seq %llu%s",
               (unsigned long long)r->last_seq, (unsigned long long)ws,
               sealed_end ? ": an older copy" : "");
    } else if (ws < base) {
        r->witness_checked = false; /* the witnessed point was pruned away */
    } else if (ws == base) {
        if (strcmp(anchor_head, wh) != 0)
            damage(vf, AUDIT_FORKED, 0, "anchor head differs from the witness");
    } else {
        size_t i = first + (size_t)(ws - base - 1);
        if (i >= vf->n || get(vf, i)->seq != (int64_t)ws || strcmp(hash_of(vf, i), wh) != 0)
            damage(vf, AUDIT_FORKED, i, "seq %llu differs from the witnessed checkpoint",
                   (unsigned long long)ws);
        else if (we < 1 || we > vf->epoch || sodium_memcmp(vf->keys[we], wpk, 32) != 0)
            damage(vf, AUDIT_FORKED, i, "epoch %llu key differs from the witness",
                   (unsigned long long)we);
        else if (hex_ok(wch, 64)) {
            /* The witnessed checkpoint line itself: covers the one line its own
             * signature cannot (e.g. its action renamed so it no longer seals). */
            if (i + 1 >= vf->n)
                damage(vf, AUDIT_TRUNCATED, vf->n, "the witnessed checkpoint line is missing");
            else if (strcmp(hash_of(vf, i + 1), wch) != 0)
                damage(vf, AUDIT_EDITED, i + 1, "the witnessed checkpoint line was changed");
        }
    }
    cJSON_Delete(w);
}

/* Which line is bad when seq/prev do not continue at line i (0-based). */
static void classify(struct verifier *vf, size_t i, size_t first, int64_t e, const char *eprev)
{
    struct vline *l = get(vf, i);
    struct vline *n1 = i + 1 < vf->n ? get(vf, i + 1) : NULL;
    struct vline *n2 = i + 2 < vf->n ? get(vf, i + 2) : NULL;
    /* Line i is an insertion if skipping it makes the chain continue. */
    bool skip_ok = n1 && n1->ev && n1->seq == e && strcmp(n1->prev, eprev) == 0 &&
                   (n2 ? n2->ev && n2->seq == e + 1 && strcmp(n2->prev, hash_of(vf, i + 1)) == 0
                       : l->seq != e + 1);
    if (!l->ev) {
        if (skip_ok)
            damage(vf, AUDIT_INSERTED, i, "a line that is not an event was inserted");
        else
            damage(vf, AUDIT_EDITED, i, "not a well-formed event line");
        return;
    }
    if (l->seq == e) { /* prev does not match */
        if (skip_ok)
            damage(vf, AUDIT_INSERTED, i, "an extra event with seq %lld was inserted",
                   (long long)e);
        else if (i > first && (n1 ? n1->ev && strcmp(n1->prev, hash_of(vf, i)) == 0
                                  : strcmp(l->action, "checkpoint") != 0))
            damage(vf, AUDIT_EDITED, i - 1, "the hash of this line does not match the next");
        else if (i > first && !n1) {
            const char *why;
            if (check_checkpoint(vf, l, &why) == AUDIT_INTACT)
                damage(vf, AUDIT_EDITED, i - 1, "the hash of this line does not match the seal");
            else
                damage(vf, AUDIT_EDITED, i, "prev hash does not match the previous line");
        } else
            damage(vf, AUDIT_EDITED, i, "prev hash does not match the previous line");
        return;
    }
    if (strcmp(l->prev, eprev) == 0) {
        damage(vf, AUDIT_EDITED, i, "seq %lld where %lld was expected, hash chain intact",
               (long long)l->seq, (long long)e);
        return;
    }
    if (l->seq == e - 1 && i > first && get(vf, i - 1)->ev &&
        strcmp(l->prev, get(vf, i - 1)->prev) == 0) {
        damage(vf, AUDIT_INSERTED, i - 1, "an extra event with seq %lld was inserted",
               (long long)(e - 1));
        return;
    }
    if (skip_ok) {
        damage(vf, AUDIT_INSERTED, i, "an extra line (seq %lld) was inserted", (long long)l->seq);
        return;
    }
    for (size_t j = i + 1; j < vf->n; j++)
        if (get(vf, j)->seq == e) {
            damage(vf, AUDIT_REORDERED, i, "seq %lld appears here, seq %lld only at line %zu",
                   (long long)l->seq, (long long)e, j + 1);
            return;
        }
    if (l->seq > e)
        damage(vf, AUDIT_DELETED, i, "%lld event(s) missing before this line (seq %lld..%lld)",
               (long long)(l->seq - e), (long long)e, (long long)(l->seq - 1));
    else
        damage(vf, AUDIT_INSERTED, i, "seq %lld repeats an earlier event", (long long)l->seq);
}

/* What a line that chains correctly must also be, by its place and its action. */
static enum audit_damage check_line(struct verifier *vf, size_t i, size_t first, struct vline *l,
                                    bool is_cp, const char **why)
{
    enum audit_damage d = AUDIT_INTACT;
    if (!vf->res->anchored && i == 0) {
        unsigned char pk[32];
        uint64_t ep;
        if (strcmp(l->action, "log.created") != 0 || !hex_ok(get_str(l->obj, "log_id"), 32) ||
            !get_uint(l->obj, "epoch", &ep) || ep != 1 ||
            !hex_to(pk, 32, get_str(l->obj, "pubkey"))) {
            d = AUDIT_EDITED;
            *why = "the first line is not a log.created event";
        } else if (sodium_memcmp(pk, vf->first_pk, 32) != 0) {
            d = AUDIT_WRONG_KEY;
            *why = "the log was created with a different key than the one given";
        } else {
            memcpy(vf->log_id, get_str(l->obj, "log_id"), 33);
            add_key(vf, 1, vf->first_pk);
            vf->have_bounds =
                audit_bounds_from_json(cJSON_GetObjectItemCaseSensitive(l->obj, "seal"), &vf->b);
            if (vf->have_bounds && vf->n == 1) {
                d = AUDIT_TRUNCATED;
                *why = "the log ends before its first seal (line 2 must be a checkpoint)";
            }
        }
    } else if (!vf->res->anchored && i == 1 && vf->have_bounds && !is_cp) {
        d = AUDIT_EDITED;
        *why = "line 2 must be the first key's checkpoint over the sealing bounds of line 1";
    } else if (strcmp(l->action, "log.created") == 0) {
        d = AUDIT_EDITED;
        *why = "a second log.created event";
    } else if (vf->res->anchored && i == first && !is_cp) {
        d = AUDIT_EDITED;
        *why = "a pruned log must continue with the anchored checkpoint";
    } else if (is_cp) {
        d = check_checkpoint(vf, l, why);
    } else if (strcmp(l->action, "key.handover") == 0) {
        d = check_handover(vf, l, why);
        vf->res->handovers += d == AUDIT_INTACT;
    } else if (cJSON_GetObjectItemCaseSensitive(l->obj, "sig") &&
               (cJSON_GetObjectItemCaseSensitive(l->obj, "head") ||
                cJSON_GetObjectItemCaseSensitive(l->obj, "pubkey"))) {
        d = AUDIT_EDITED;
        *why = "a checkpoint or key hand-over whose action was renamed, so it no longer "
               "seals";
    }
    return d;
}

fg_err audit_verify_buffer(const char *buf, size_t len, const unsigned char pubkey[32],
                           const char *witness_json, struct audit_verify_result *res)
{
    memset(res, 0, sizeof *res);
    if (sodium_init() < 0)
        return FG_ERR_CRYPTO;
    struct verifier vf = {.first_pk = pubkey, .res = res, .epoch_start = INT64_MIN};
    /* Room for the first epochs up front: add_key(1) below then cannot fail, and a
     * later failure leaves the chain short of a key, which reports damage. */
    vf.nkeys = 16;
    vf.keys = calloc(vf.nkeys, sizeof *vf.keys);
    if (!vf.keys)
        return FG_ERR_NOMEM;
    size_t cap = 0;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            res->torn_tail = true;
            break;
        }
        if (vf.n == cap) {
            cap = cap ? cap * 2 : 1024;
            struct vline *nv = realloc(vf.v, cap * sizeof *nv);
            if (!nv) {
                free(vf.v);
                free(vf.keys);
                return FG_ERR_NOMEM;
            }
            vf.v = nv;
        }
        vf.v[vf.n++] = (struct vline){.p = p, .len = (size_t)(nl - p)};
        p = nl + 1;
    }
    res->lines = vf.n;
    char eprev[65], anchor_head[65] = "";
    memset(eprev, '0', 64);
    eprev[64] = '\0';
    uint64_t base = 0;
    size_t first = 0;
    if (vf.n && strncmp(vf.v[0].p, "{\"anchor\":", 10) == 0) {
        res->anchored = true;
        first = 1;
        if (check_anchor(&vf, vf.v[0].p, vf.v[0].len, &base, anchor_head))
            memcpy(eprev, anchor_head, 65);
    }
    size_t last_cp = first; /* lines from here on are unsealed */
    for (size_t i = first; i < vf.n && res->damage == AUDIT_INTACT; i++) {
        int64_t e = (int64_t)(base + (i - first) + 1);
        struct vline *l = get(&vf, i);
        if (!l->ev || l->seq != e || strcmp(l->prev, eprev) != 0) {
            classify(&vf, i, first, e, eprev);
            break;
        }
        const char *why = NULL;
        bool is_cp = strcmp(l->action, "checkpoint") == 0;
        enum audit_damage d = check_line(&vf, i, first, l, is_cp, &why);
        if (d != AUDIT_INTACT) {
            damage(&vf, d, i, "%s", why);
            break;
        }
        if (!check_bounds(&vf, i, l, is_cp, strcmp(l->action, "key.handover") == 0))
            break;
        if (is_cp) {
            res->checkpoints++;
            res->has_checkpoint = true;
            res->cp_seq = (uint64_t)l->seq - 1;
            res->cp_epoch = vf.epoch;
            memcpy(res->cp_head, l->prev, 65);
            memcpy(res->cp_line_hash, hash_of(&vf, i), 65);
            memcpy(res->cp_pubkey, vf.keys[vf.epoch], 32);
            snprintf(res->last_seal_time, sizeof res->last_seal_time, "%s", l->time);
            last_cp = i + 1;
        }
        res->events++;
        res->last_seq = (uint64_t)l->seq;
        memcpy(eprev, hash_of(&vf, i), 65);
    }
    res->unsealed = vf.n > last_cp ? vf.n - last_cp : 0;
    if (res->unsealed && get(&vf, last_cp)->ev)
        snprintf(res->unsealed_since, sizeof res->unsealed_since, "%s", get(&vf, last_cp)->time);
    res->legacy = !vf.have_bounds;
    res->bounds = vf.b;
    res->epoch = vf.epoch;
    memcpy(res->log_id, vf.log_id, sizeof res->log_id);
    if (res->damage == AUDIT_INTACT && vf.n - first == 0 && !res->torn_tail)
        damage(&vf, AUDIT_TRUNCATED, 0, "the log is empty");
    if (res->damage == AUDIT_INTACT && witness_json)
        check_witness(&vf, witness_json, first, base, anchor_head);
    if (res->damage == AUDIT_INTACT && res->torn_tail)
        damage(&vf, AUDIT_TRUNCATED, vf.n,
               "torn last line (no newline): an interrupted write that the writer removes "
               "on reopen");
    else
        res->torn_tail = false;
    if (res->damage == AUDIT_INTACT && res->legacy)
        damage(&vf, AUDIT_LEGACY, 0,
               "no sealing bounds: a legacy log (or one made to look like one), which cannot be "
               "checked for stripped checkpoints or hand-overs");
    res->ok = res->damage == AUDIT_INTACT;
    for (size_t i = 0; i < vf.n; i++)
        cJSON_Delete(vf.v[i].ev);
    free(vf.v);
    free(vf.keys);
    return FG_OK;
}

fg_err audit_verify_file_text(const char *log_path, const unsigned char pubkey[32],
                              const char *witness_path, struct audit_verify_result *res,
                              char **log_text, size_t *log_len)
{
    char *buf = NULL, *w = NULL;
    size_t len = 0;
    memset(res, 0, sizeof *res);
    fg_err e = fg_read_file(log_path, (size_t)1 << 34, &buf, &len);
    if (e == FG_OK && witness_path)
        e = fg_read_file(witness_path, 65536, &w, NULL);
    if (e == FG_OK)
        e = audit_verify_buffer(buf, len, pubkey, w, res);
    free(w);
    if (e != FG_OK || !log_text) {
        free(buf);
        buf = NULL;
        len = 0;
    }
    if (log_text) {
        *log_text = buf;
        *log_len = len;
    }
    return e;
}

fg_err audit_verify_file(const char *log_path, const unsigned char pubkey[32],
                         const char *witness_path, struct audit_verify_result *res)
{
    return audit_verify_file_text(log_path, pubkey, witness_path, res, NULL, NULL);
}

fg_err audit_write_witness(const char *path, const struct audit_verify_result *res)
{
    if ((!res->ok && res->damage != AUDIT_LEGACY) || !res->has_checkpoint)
        return FG_ERR_MISSING;
    char pk[65], fp[32], now[32];
    sodium_bin2hex(pk, sizeof pk, res->cp_pubkey, 32);
    audit_fingerprint(res->cp_pubkey, fp, sizeof fp);
    fg_format_time(fg_now_ms(), now, sizeof now);
    cJSON *w = cJSON_CreateObject();
    cJSON_AddStringToObject(w, "log_id", res->log_id);
    cJSON_AddNumberToObject(w, "seq", (double)res->cp_seq);
    cJSON_AddStringToObject(w, "head", res->cp_head);
    cJSON_AddStringToObject(w, "checkpoint_hash", res->cp_line_hash);
    cJSON_AddNumberToObject(w, "epoch", (double)res->cp_epoch);
    cJSON_AddStringToObject(w, "pubkey", pk);
    cJSON_AddStringToObject(w, "fingerprint", fp);
    cJSON_AddStringToObject(w, "accepted_at", now);
    if (!res->legacy) {
        cJSON *b = cJSON_AddObjectToObject(w, "seal");
        cJSON_AddNumberToObject(b, "events", (double)res->bounds.events);
        cJSON_AddNumberToObject(b, "interval_ms", (double)res->bounds.interval_ms);
        cJSON_AddNumberToObject(b, "rotate_ms", (double)res->bounds.rotate_ms);
    }
    char *s = cJSON_Print(w);
    cJSON_Delete(w);
    if (!s)
        return FG_ERR_NOMEM;
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return FG_ERR_NOMEM;
    }
    t[n] = '\n';
    fg_err e = fg_write_file_atomic(path, t, n + 1, 0644);
    free(t);
    return e;
}
