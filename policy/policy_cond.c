/* `when` conditions: a small recursive-descent parser into a fixed node array,
 * and an evaluator that walks it without allocating.
 *
 *   expr := and ('or' and)*
 *   and  := unary ('and' unary)*
 *   unary:= 'not' unary | '(' expr ')' | cmp
 *   cmp  := 'exists' '(' FIELD ')' | FIELD [op literal]
 *                                      a bare FIELD means FIELD == true
 *   op   := == != < <= > >=
 *   literal := number | true | false | "text" | 'text' | word
 *
 * Field types are checked when the route is compiled (policy_load.c).
 *
 * Evaluation is three-valued and fails closed: a comparison with a field the
 * record lacks is unknown, `not unknown` stays unknown, `and`/`or` follow
 * Kleene's rules, and a route fires only when the whole condition is true.
 * exists(field) is the one way to ask about absence. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy_internal.h"

#define MAX_DEPTH 24

struct parser {
    struct policy_route *r;
    const char *s;
    size_t pos;
    char *why;
    size_t why_len;
    int depth;
    bool failed;
    size_t err_pos;
};

static void fail(struct parser *ps, const char *msg)
{
    if (ps->failed)
        return;
    ps->failed = true;
    ps->err_pos = ps->pos;
    snprintf(ps->why, ps->why_len, "%s", msg);
}

static void skip_ws(struct parser *ps)
{
    while (ps->s[ps->pos] && isspace((unsigned char)ps->s[ps->pos]))
        ps->pos++;
}

static bool is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

/* Consumes keyword kw if it stands alone at pos. */
static bool keyword(struct parser *ps, const char *kw)
{
    skip_ws(ps);
    size_t l = strlen(kw);
    if (strncmp(ps->s + ps->pos, kw, l) == 0 && !is_word_char(ps->s[ps->pos + l])) {
        ps->pos += l;
        return true;
    }
    return false;
}

static bool sym(struct parser *ps, const char *t)
{
    skip_ws(ps);
    size_t l = strlen(t);
    if (strncmp(ps->s + ps->pos, t, l) == 0) {
        ps->pos += l;
        return true;
    }
    return false;
}

static int new_node(struct parser *ps, policy_cond_kind k)
{
    if (ps->r->ncond >= POLICY_MAX_COND) {
        fail(ps, "condition too long (at most 32 comparisons and operators)");
        return -1;
    }
    int i = ps->r->ncond++;
    struct policy_cond *c = &ps->r->cond[i];
    memset(c, 0, sizeof *c);
    c->kind = k;
    c->a = c->b = -1;
    return i;
}

static char *word(struct parser *ps)
{
    skip_ws(ps);
    size_t st = ps->pos;
    if (!isalpha((unsigned char)ps->s[st]) && ps->s[st] != '_')
        return NULL;
    while (is_word_char(ps->s[ps->pos]))
        ps->pos++;
    return strndup(ps->s + st, ps->pos - st);
}

static int parse_expr(struct parser *ps);

/* exists(FIELD), after the keyword. */
static int parse_exists(struct parser *ps)
{
    if (!sym(ps, "(")) {
        fail(ps, "write exists(FIELD)");
        return -1;
    }
    char *field = word(ps);
    if (!field || !sym(ps, ")")) {
        free(field);
        fail(ps, "write exists(FIELD)");
        return -1;
    }
    int n = new_node(ps, POLICY_COND_EXISTS);
    if (n < 0) {
        free(field);
        return -1;
    }
    ps->r->cond[n].field = field;
    return n;
}

static int parse_cmp(struct parser *ps)
{
    size_t at = ps->pos;
    skip_ws(ps);
    if (strncmp(ps->s + ps->pos, "exists", 6) == 0) {
        size_t q = ps->pos + 6;
        while (isspace((unsigned char)ps->s[q]))
            q++;
        if (ps->s[q] == '(') {
            ps->pos += 6;
            return parse_exists(ps);
        }
    }
    char *field = word(ps);
    if (!field) {
        fail(ps, "expected a field name");
        return -1;
    }
    if (!strcmp(field, "and") || !strcmp(field, "or") || !strcmp(field, "not")) {
        ps->pos = at;
        free(field);
        fail(ps, "expected a field name");
        return -1;
    }
    int n = new_node(ps, POLICY_COND_CMP);
    if (n < 0) {
        free(field);
        return -1;
    }
    struct policy_cond *c = &ps->r->cond[n];
    c->field = field;
    static const struct {
        const char *t;
        policy_cond_op op;
    } ops[] = {{"==", POLICY_OP_EQ}, {"!=", POLICY_OP_NE}, {"<=", POLICY_OP_LE},
               {">=", POLICY_OP_GE}, {"<", POLICY_OP_LT},  {">", POLICY_OP_GT}};
    bool have_op = false;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (sym(ps, ops[i].t)) {
            c->op = ops[i].op;
            have_op = true;
            break;
        }
    if (!have_op) {
        if (ps->s[ps->pos] == '=') {
            fail(ps, "use == to compare");
            return -1;
        }
        c->op = POLICY_OP_EQ; /* bare field: a boolean that must be true */
        c->lit = POLICY_LIT_BOOL;
        c->b_val = true;
        return n;
    }
    skip_ws(ps);
    const char *p = ps->s + ps->pos;
    if (*p == '"' || *p == '\'') {
        const char *end = strchr(p + 1, *p);
        if (!end) {
            fail(ps, "unterminated text literal");
            return -1;
        }
        c->lit = POLICY_LIT_STR;
        c->str = strndup(p + 1, (size_t)(end - p - 1));
        c->str_len = (size_t)(end - p - 1);
        ps->pos += (size_t)(end - p) + 1;
        return n;
    }
    if (isdigit((unsigned char)*p) || ((*p == '-' || *p == '+' || *p == '.') && p[1])) {
        char *end;
        double d = strtod(p, &end);
        if (end == p || !isfinite(d) || is_word_char(*end)) {
            fail(ps, "expected a number");
            return -1;
        }
        c->lit = POLICY_LIT_NUM;
        c->num = d;
        ps->pos += (size_t)(end - p);
        return n;
    }
    char *w = word(ps);
    if (!w) {
        fail(ps, "expected a value: a number, true, false or text");
        return -1;
    }
    if (!strcmp(w, "true") || !strcmp(w, "false")) {
        c->lit = POLICY_LIT_BOOL;
        c->b_val = w[0] == 't';
        free(w);
    } else {
        c->lit = POLICY_LIT_STR; /* enum values may be written bare: state == fault */
        c->str = w;
        c->str_len = strlen(w);
    }
    return n;
}

static int parse_unary(struct parser *ps)
{
    if (++ps->depth > MAX_DEPTH) {
        fail(ps, "condition nested too deeply");
        return -1;
    }
    int n;
    if (keyword(ps, "not") || sym(ps, "!")) {
        int a = parse_unary(ps);
        if (a < 0)
            return -1;
        n = new_node(ps, POLICY_COND_NOT);
        if (n >= 0)
            ps->r->cond[n].a = a;
    } else if (sym(ps, "(")) {
        n = parse_expr(ps);
        if (n >= 0 && !sym(ps, ")")) {
            fail(ps, "expected ')'");
            n = -1;
        }
    } else
        n = parse_cmp(ps);
    ps->depth--;
    return n;
}

static int parse_and(struct parser *ps)
{
    int a = parse_unary(ps);
    while (a >= 0 && (keyword(ps, "and") || sym(ps, "&&"))) {
        int b = parse_unary(ps);
        if (b < 0)
            return -1;
        int n = new_node(ps, POLICY_COND_AND);
        if (n < 0)
            return -1;
        ps->r->cond[n].a = a;
        ps->r->cond[n].b = b;
        a = n;
    }
    return a;
}

static int parse_expr(struct parser *ps)
{
    int a = parse_and(ps);
    while (a >= 0 && (keyword(ps, "or") || sym(ps, "||"))) {
        int b = parse_and(ps);
        if (b < 0)
            return -1;
        int n = new_node(ps, POLICY_COND_OR);
        if (n < 0)
            return -1;
        ps->r->cond[n].a = a;
        ps->r->cond[n].b = b;
        a = n;
    }
    return a;
}

fg_err policy_cond_parse(struct policy_route *r, const char *text, char *why, size_t why_len,
                         int *err_col)
{
    struct parser ps = {.r = r, .s = text, .why = why, .why_len = why_len};
    r->ncond = 0;
    r->cond_root = -1;
    int root = parse_expr(&ps);
    skip_ws(&ps);
    if (!ps.failed && root >= 0 && ps.s[ps.pos])
        fail(&ps, "unexpected text after the condition (missing 'and' or 'or'?)");
    if (ps.failed || root < 0) {
        if (!ps.failed)
            fail(&ps, "empty condition");
        *err_col = (int)ps.err_pos;
        return FG_ERR_CONFIG;
    }
    r->cond_root = root;
    return FG_OK;
}

static bool cmp_num(policy_cond_op op, double a, double b)
{
    switch (op) {
    case POLICY_OP_EQ:
        return a == b;
    case POLICY_OP_NE:
        return a != b;
    case POLICY_OP_LT:
        return a < b;
    case POLICY_OP_LE:
        return a <= b;
    case POLICY_OP_GT:
        return a > b;
    case POLICY_OP_GE:
        return a >= b;
    }
    return false;
}

/* Three truth values; a route fires only on TV_TRUE. */
enum { TV_FALSE = 0, TV_TRUE = 1, TV_UNKNOWN = 2 };

static int cmp_value(const struct policy_cond *c, const struct sensor_field *f,
                     const struct sensor_value *v)
{
    switch (f->type) {
    case SENSOR_BOOLEAN:
        return (v->v.b == c->b_val) == (c->op == POLICY_OP_EQ);
    case SENSOR_STRING:
    case SENSOR_ENUM: {
        bool eq = v->v.str.len == c->str_len && memcmp(v->v.str.s, c->str, c->str_len) == 0;
        return eq == (c->op == POLICY_OP_EQ);
    }
    case SENSOR_INTEGER:
    case SENSOR_TIMESTAMP:
        return cmp_num(c->op, (double)v->v.i, c->num);
    case SENSOR_NUMBER:
        return cmp_num(c->op, v->v.num, c->num);
    default:
        return TV_UNKNOWN;
    }
}

static int eval(const struct policy_route *r, const struct policy_route_source *src,
                const struct sensor_record *rec, int n)
{
    const struct policy_cond *c = &r->cond[n];
    int idx = src->cond_field[n];
    bool present = idx >= 0 && rec->values[idx].present;
    switch (c->kind) {
    case POLICY_COND_OR: {
        int a = eval(r, src, rec, c->a);
        if (a == TV_TRUE)
            return TV_TRUE;
        int b = eval(r, src, rec, c->b);
        return b == TV_TRUE ? TV_TRUE : (a == TV_FALSE && b == TV_FALSE) ? TV_FALSE : TV_UNKNOWN;
    }
    case POLICY_COND_AND: {
        int a = eval(r, src, rec, c->a);
        if (a == TV_FALSE)
            return TV_FALSE;
        int b = eval(r, src, rec, c->b);
        return b == TV_FALSE ? TV_FALSE : (a == TV_TRUE && b == TV_TRUE) ? TV_TRUE : TV_UNKNOWN;
    }
    case POLICY_COND_NOT: {
        int a = eval(r, src, rec, c->a);
        return a == TV_UNKNOWN ? TV_UNKNOWN : !a;
    }
    case POLICY_COND_EXISTS:
        return present;
    case POLICY_COND_CMP:
        break;
    }
    /* An absent field makes a comparison unknown: unknown is not "yes",
     * and "not unknown" is not "yes" either. */
    if (!present)
        return TV_UNKNOWN;
    return cmp_value(c, &src->type->fields[idx], &rec->values[idx]);
}

bool policy_cond_eval(const struct policy_route *r, const struct policy_route_source *src,
                      const struct sensor_record *rec)
{
    return r->cond_root < 0 || eval(r, src, rec, r->cond_root) == TV_TRUE;
}

static void app(char *buf, size_t len, size_t *at, const char *s)
{
    size_t l = strlen(s);
    if (*at + l + 1 > len)
        l = *at + 1 < len ? len - *at - 1 : 0;
    memcpy(buf + *at, s, l);
    *at += l;
    buf[*at] = '\0';
}

static void describe(const struct policy_route *r, int n, fg_lang l, char *buf, size_t len,
                     size_t *at, int parent)
{
    const struct policy_cond *c = &r->cond[n];
    char tmp[256];
    switch (c->kind) {
    case POLICY_COND_OR:
    case POLICY_COND_AND: {
        /* Parentheses only where the reader needs them: or inside and. */
        bool paren = parent == POLICY_COND_AND && c->kind == POLICY_COND_OR;
        if (paren)
            app(buf, len, at, "(");
        describe(r, c->a, l, buf, len, at, (int)c->kind);
        app(buf, len, at, fg_tr(l, c->kind == POLICY_COND_AND ? "ex.cond.and" : "ex.cond.or"));
        describe(r, c->b, l, buf, len, at, (int)c->kind);
        if (paren)
            app(buf, len, at, ")");
        return;
    }
    case POLICY_COND_NOT:
        app(buf, len, at, fg_tr(l, "ex.cond.not"));
        describe(r, c->a, l, buf, len, at, -1);
        app(buf, len, at, ")");
        return;
    case POLICY_COND_EXISTS:
        fg_trf(tmp, sizeof tmp, l, "ex.cond.exists", c->field);
        app(buf, len, at, tmp);
        return;
    case POLICY_COND_CMP:
        break;
    }
    static const char *const ops[] = {"ex.op.eq", "ex.op.ne", "ex.op.lt",
                                      "ex.op.le", "ex.op.gt", "ex.op.ge"};
    const char *op = fg_tr(l, ops[c->op]);
    switch (c->lit) {
    case POLICY_LIT_BOOL:
        snprintf(tmp, sizeof tmp, "%s %s %s", c->field, op,
                 fg_tr(l, c->b_val ? "ex.true" : "ex.false"));
        break;
    case POLICY_LIT_STR:
        snprintf(tmp, sizeof tmp, "%s %s '%s'", c->field, op, c->str);
        break;
    case POLICY_LIT_NUM:
        if (c->str) /* a time, converted at load: show it as written */
            snprintf(tmp, sizeof tmp, "%s %s %s", c->field, op, c->str);
        else
            snprintf(tmp, sizeof tmp, "%s %s %g", c->field, op, c->num);
        break;
    }
    app(buf, len, at, tmp);
}

void policy_cond_describe(const struct policy_route *r, int node, const char *lang, char *buf,
                          size_t len)
{
    size_t at = 0;
    if (len)
        buf[0] = '\0';
    if (node >= 0) {
        fg_lang l = FG_LANG_EN;
        if (lang && !fg_lang_parse(lang, &l))
            l = FG_LANG_EN;
        describe(r, node, l, buf, len, &at, -1);
    }
}
