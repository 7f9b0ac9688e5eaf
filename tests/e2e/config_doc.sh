#!/usr/bin/env bash
# The configuration table is the one source: docs/configuration.md must be
# exactly what `fairgate config docs` prints, examples/fairgate.yaml must list
# every key (and no key the table lacks) and pass `fairgate config check`, and
# check must name file:line:col for a misspelt key.
source "$(dirname "$0")/lib.sh"

# 1. docs/configuration.md never drifts from the binary.
"$FAIRGATE" config docs >"$WORK/configuration.md" || fail "fairgate config docs failed"
if ! diff -u "$SRC/docs/configuration.md" "$WORK/configuration.md" >"$WORK/doc.diff"; then
    head -n 40 "$WORK/doc.diff"
    fail "docs/configuration.md is stale: run scripts/gen-config-doc.sh"
fi
pass "docs/configuration.md matches the configuration table"

# 2. The example lists every key, commented or not, and nothing else.
"$FAIRGATE" run --help-config | awk '/^  [a-z]/ {print $1}' | sort >"$WORK/table.keys"
[ -s "$WORK/table.keys" ] || fail "no keys from --help-config"
python3 - "$SRC/examples/fairgate.yaml" >"$WORK/example.keys" <<'PY'
import re, sys
stack = []  # (indent, name) of the enclosing sections, commented or not
keys = set()
for line in open(sys.argv[1]):
    m = re.match(r'^( *)#?([a-z_]+):(.*)$', line.rstrip('\n'))
    if not m:
        continue
    ind, name = len(m.group(1)), m.group(2)
    while stack and stack[-1][0] >= ind:
        stack.pop()
    keys.add('.'.join([s[1] for s in stack] + [name]))
    stack.append((ind, name))
# keep leaves only: a key that is a prefix of another is a section
leaves = {k for k in keys if not any(o.startswith(k + '.') for o in keys)}
print('\n'.join(sorted(leaves)))
PY
missing=$(comm -23 "$WORK/table.keys" "$WORK/example.keys")
extra=$(comm -13 "$WORK/table.keys" "$WORK/example.keys")
[ -z "$missing" ] || fail "examples/fairgate.yaml lacks: $(echo $missing)"
[ -z "$extra" ] || fail "examples/fairgate.yaml names keys the table lacks: $(echo $extra)"
pass "examples/fairgate.yaml lists all $(wc -l <"$WORK/table.keys") keys"

# 3. The example is valid once its files exist.
make_test_ca "$WORK/ca" mqtt.example.com
"$FAIRGATE" keys init --role employer "$WORK/employer" >/dev/null
"$FAIRGATE" keys init --role works-council "$WORK/works-council" >/dev/null
cp "$SRC/examples/policy-demo.yaml" "$WORK/policy.yaml"
"$FAIRGATE" policy sign "$WORK/policy.yaml" --key "$WORK/employer.key" --role employer >/dev/null
"$FAIRGATE" policy sign "$WORK/policy.yaml" --key "$WORK/works-council.key" --role works-council >/dev/null
sed -e "s|/etc/fairgate/policy.yaml|$WORK/policy.yaml|" \
    -e "s|/etc/fairgate/trust/|$WORK/|" \
    -e "s|/etc/fairgate/upstream-ca.crt|$WORK/ca/ca.crt|" \
    -e "s|^#state_dir: .*|state_dir: $WORK/state|" \
    "$SRC/examples/fairgate.yaml" >"$WORK/fairgate.yaml"
out=$("$FAIRGATE" config check "$WORK/fairgate.yaml" 2>&1) || { echo "$out"; fail "example not valid"; }
grep -q "fairgate.yaml: valid" <<<"$out" || { echo "$out"; fail "no 'valid' verdict"; }
[ ! -e "$WORK/state" ] || fail "config check created the state directory"
pass "examples/fairgate.yaml passes config check"

# 4. Errors name file:line:col; a missing policy or CA is an error too.
printf 'site: x\nupstream:\n  tls: { ca: %s }\n  hots: example.com\npolicy: { file: %s }\n' \
    "$WORK/ca/ca.crt" "$SRC/examples/policy-demo.yaml" >"$WORK/typo.yaml"
if out=$("$FAIRGATE" config check "$WORK/typo.yaml" 2>&1); then fail "typo accepted"; fi
grep -q "typo.yaml:4:3: unknown key 'upstream.hots'" <<<"$out" || { echo "$out"; fail "no file:line:col"; }
printf 'upstream: { tls: { ca: %s } }\npolicy: { file: %s/nope.yaml }\n' "$WORK/ca/ca.crt" "$WORK" >"$WORK/nopol.yaml"
if out=$("$FAIRGATE" config check "$WORK/nopol.yaml" 2>&1); then fail "missing policy accepted"; fi
grep -q "nope.yaml" <<<"$out" || { echo "$out"; fail "missing policy not named"; }
printf 'upstream: { tls: { ca: %s/none.crt } }\npolicy: { file: %s, required_roles: "" }\n' "$WORK" "$SRC/examples/policy-demo.yaml" >"$WORK/noca.yaml"
if out=$("$FAIRGATE" config check "$WORK/noca.yaml" 2>&1); then fail "missing CA accepted"; fi
grep -q "upstream TLS" <<<"$out" || { echo "$out"; fail "missing CA not explained"; }
printf 'upstream: { tls: { ca: %s } }\npolicy: { file: %s }\n' "$WORK/ca/ca.crt" "$SRC/examples/policy-demo.yaml" >"$WORK/unsigned.yaml"
if out=$("$FAIRGATE" config check "$WORK/unsigned.yaml" 2>&1); then fail "unsigned policy accepted"; fi
grep -q "would refuse the policy" <<<"$out" || { echo "$out"; fail "unsigned policy not explained"; }
rc=0; "$FAIRGATE" config check >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "usage error: exit $rc, not 2"
pass "config check reports errors with their place"
