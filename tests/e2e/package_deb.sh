#!/usr/bin/env bash
# The Debian package: build it with CPack in a throw-away build directory,
# inspect its control data (dependencies from the linked libraries, conffiles,
# maintainer scripts) and contents, unpack it into a throw-away root and run
# the installed binary against the installed data; systemd-analyze verify the
# units and keep their exposure at or below 1.5; then install it for real in a private
# mount namespace (overlays on /etc, /usr, /var, /run: the host is not touched), run the
# postinst, set up certificates as operations.md says, and start each unit's commands as
# its user: mosquitto must start on the packaged configuration and enforce its ACL, the
# gateway must connect through it. Skips (77) without dpkg-deb, dpkg-shlibdeps or cpack.
source "$(dirname "$0")/lib.sh"

for t in dpkg-deb dpkg-shlibdeps cpack; do
    command -v "$t" >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done

# Until CMakeLists.txt includes cmake/packaging.cmake, inject it.
inject=()
grep -q "include(cmake/packaging.cmake)" "$SRC/CMakeLists.txt" ||
    inject=("-DCMAKE_PROJECT_INCLUDE=$SRC/cmake/packaging.cmake")
cmake -S "$SRC" -B "$WORK/build" -DCMAKE_INSTALL_PREFIX=/usr -DFAIRGATE_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo "${inject[@]}" >"$WORK/cmake.log" 2>&1 || fail "cmake failed"
cmake --build "$WORK/build" -j2 >"$WORK/build.log" 2>&1 || fail "build failed"
(cd "$WORK/build" && cpack -G DEB >"$WORK/cpack.log" 2>&1) || fail "cpack failed"
DEB=$(compgen -G "$WORK/build/fairgate_*.deb" || true)
[ -f "$DEB" ] || fail "no .deb produced"
echo "package: $(basename "$DEB")"

# ---- control data -------------------------------------------------------------
dpkg-deb -I "$DEB" >"$WORK/info.log"
depends=$(dpkg-deb -f "$DEB" Depends)
echo "Depends: $depends"
# Every shared library the binary needs is covered by a dependency.
# (No early-exiting readers in pipes: with pipefail, SIGPIPE would fail the test.)
ldconfig -p >"$WORK/ldconfig.log"
objdump -p "$WORK/build/fairgate" >"$WORK/objdump.log"
for lib in $(awk '/NEEDED/ {print $2}' "$WORK/objdump.log"); do
    path=$(awk -v l="$lib" '$1 == l && !found {print $NF; found=1}' "$WORK/ldconfig.log")
    pkg=""
    for p in "$(readlink -f "$path")" "$path"; do
        [ -n "$pkg" ] || pkg=$(dpkg -S "$p" 2>/dev/null | awk -F: 'NR == 1 {print $1}') || true
    done
    [ -n "$pkg" ] || fail "no Debian package owns $lib ($path)"
    grep -qE "(^|, )$pkg( |,|$)" <<<"$depends" || fail "$lib ($pkg) missing from Depends: $depends"
done
for p in libsodium23 libpaho-mqtt1.3 libyaml-0-2 libcjson1 adduser; do
    grep -qE "(^|, )$p( |,|$)" <<<"$depends" || fail "Depends lacks $p"
done
grep -q "libmicrohttpd" "$WORK/objdump.log" &&
    { grep -q "libmicrohttpd12" <<<"$depends" || fail "Depends lacks libmicrohttpd12"; }
dpkg-deb -e "$DEB" "$WORK/control"
grep -qx "/etc/fairgate/fairgate.yaml" "$WORK/control/conffiles" || fail "fairgate.yaml is not a conffile"
grep -qx "/etc/fairgate/mosquitto.conf" "$WORK/control/conffiles" || fail "mosquitto.conf is not a conffile"
for s in postinst prerm postrm; do
    [ -x "$WORK/control/$s" ] || fail "no executable $s"
    sh -n "$WORK/control/$s" || fail "$s: syntax error"
done
grep -q "adduser --system" "$WORK/control/postinst" || fail "postinst creates no system user"
pass "control data: dependencies, conffiles, maintainer scripts"

# ---- contents -----------------------------------------------------------------
dpkg-deb -c "$DEB" | awk '{print $NF}' | sed 's|^\./|/|' >"$WORK/contents.log"
for f in /usr/bin/fairgate /lib/systemd/system/fairgate.service \
    /lib/systemd/system/fairgate-mosquitto.service /etc/fairgate/fairgate.yaml \
    /etc/fairgate/mosquitto.conf /usr/share/fairgate/sensors/uwb-badge.yaml \
    /usr/share/fairgate/policy/factory.yaml /usr/share/man/man1/fairgate.1.gz \
    /usr/share/doc/fairgate/configuration.md /usr/share/doc/fairgate/examples/fairgate.yaml \
    /usr/include/fairgate/sensor_decoder.h /usr/share/doc/fairgate/examples/decoder_pipe.c; do
    grep -qx "$f" "$WORK/contents.log" || fail "package lacks $f"
done
grep -qE '^/usr/lib/[^/]+/fairgate/fairgate_mosquitto\.so$' "$WORK/contents.log" ||
    fail "package lacks the mosquitto plugin"
if grep -vE '^/(usr/bin/fairgate|usr/include/fairgate|usr/lib/[^/]+/fairgate|usr/share/(fairgate|doc/fairgate|man/man1)|lib/systemd/system|etc/fairgate)(/|$)|/$' \
    "$WORK/contents.log" | grep -v '^/$' >"$WORK/unexpected.log"; then
    cat "$WORK/unexpected.log"; fail "unexpected files in the package"
fi
nsrc=$(ls "$SRC"/sensors/types/*.yaml | wc -l)
npkg=$(grep -c '^/usr/share/fairgate/sensors/.*\.yaml$' "$WORK/contents.log")
[ "$nsrc" = "$npkg" ] || fail "$nsrc sensor types in the tree, $npkg in the package"
pass "contents: binary, mosquitto plugin, units, configuration, $npkg sensor types, policies, man page, docs, decoder header"

# ---- the installed binary -------------------------------------------------------
ROOT=$WORK/root
dpkg -x "$DEB" "$ROOT"
FG=$ROOT/usr/bin/fairgate
[ "$("$FG" --version)" = "fairgate $(sed -n 's/^project(fairgate VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")" ] ||
    fail "--version: $("$FG" --version)"
grep -qa "/usr/share/fairgate" "$FG" || fail "the binary does not look in /usr/share/fairgate"
"$FG" sensors list >"$WORK/sensors.log" 2>&1 ||
    { cat "$WORK/sensors.log"; fail "sensors list with the installed data failed"; }
for t in uwb-badge forklift wearable-vitals; do
    grep -q "$t" "$WORK/sensors.log" || fail "installed sensor type $t not listed"
done
for p in "$ROOT"/usr/share/fairgate/policy/*.yaml; do
    "$FG" policy check "$p" >"$WORK/pcheck.log" 2>&1 ||
        { cat "$WORK/pcheck.log"; fail "shipped policy $(basename "$p") does not check"; }
done
# The shipped configuration parses; it fails only on files an operator provides.
out=$("$FG" config check "$ROOT/etc/fairgate/fairgate.yaml" 2>&1) || true
grep -q "unknown key\|must be" <<<"$out" && fail "shipped configuration does not parse: $out"
# The man page renders and names every subcommand.
man -l "$ROOT/usr/share/man/man1/fairgate.1.gz" >"$WORK/man.log" 2>&1 || fail "man page does not render"
for c in $("$FG" --help | awk '/^commands:/ {on=1; next} on && NF {print $1}'); do
    grep -q "$c" "$WORK/man.log" || fail "man page does not mention '$c'"
done
# A decoder built outside fairgate against the installed header loads.
mkdir -m 0755 "$WORK/decoders"
cc -shared -fPIC -I"$ROOT/usr/include" -o "$WORK/decoders/pipe.so" \
    "$ROOT/usr/share/doc/fairgate/examples/decoder_pipe.c" || fail "sample decoder does not build against the installed header"
chmod 0755 "$WORK/decoders/pipe.so"
"$FG" sensors list --decoders "$WORK/decoders" >"$WORK/dec.log" 2>&1 ||
    { cat "$WORK/dec.log"; fail "sensors list --decoders failed"; }
grep -q "^decoder pipe: " "$WORK/dec.log" || fail "decoder built against the installed header not listed"
pass "installed binary runs with the installed sensor types, policies, man page and decoder header"

# ---- systemd units ---------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$WORK/units"
    for u in fairgate.service fairgate-mosquitto.service; do
        sed "s|/usr/bin/fairgate|$FG|g" "$ROOT/lib/systemd/system/$u" >"$WORK/units/$u"
    done
    command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] ||
        sed -i "s|/usr/sbin/mosquitto|/bin/true|g" "$WORK/units/fairgate-mosquitto.service"
    (cd "$WORK/units" && systemd-analyze verify --man=no ./fairgate.service ./fairgate-mosquitto.service) \
        >"$WORK/verify.log" 2>&1 || { cat "$WORK/verify.log"; fail "systemd-analyze verify"; }
    if grep -v "^$" "$WORK/verify.log" | grep -q .; then cat "$WORK/verify.log"; fail "systemd-analyze verify warned"; fi
    pass "systemd-analyze verify: both units"
    for u in fairgate.service fairgate-mosquitto.service; do
        grep -qx "LimitCORE=0" "$WORK/units/$u" || fail "$u: no LimitCORE=0"
        grep -qx "IPAddressDeny=any" "$WORK/units/$u" || fail "$u: no IPAddressDeny=any"
        grep -qx "PrivateUsers=yes" "$WORK/units/$u" || fail "$u: no PrivateUsers=yes"
        (cd "$WORK/units" && systemd-analyze security --offline=true "./$u") >"$WORK/security.log" 2>&1 ||
            { cat "$WORK/security.log"; fail "systemd-analyze security $u"; }
        level=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' "$WORK/security.log")
        awk -v l="$level" 'BEGIN { exit !(l != "" && l <= 1.5) }' ||
            { tail -5 "$WORK/security.log"; fail "$u: exposure $level > 1.5"; }
        echo "$u: exposure $level"
    done
    pass "units: LimitCORE=0, IP allow-list, PrivateUsers, exposure <= 1.5"
else
    echo "SKIP: systemd-analyze not installed; units not verified"
fi

# ---- installed, and started as the services' users ------------------------------
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null || ! command -v mosquitto >/dev/null ||
    ! getent passwd mosquitto >/dev/null || ! command -v mosquitto_pub >/dev/null; then
    echo "SKIP: installing for real needs root, unshare, and mosquitto with its user"
    exit 0
fi
BPORT=$(free_port)
start_broker upstream # plain, loopback: stands in for the upstream
cat >"$WORK/installed.sh" <<SH
set -euo pipefail
W=$WORK BPORT=$BPORT UPORT=$upstream_PORT ROOT=$ROOT
SH
cat >>"$WORK/installed.sh" <<'SH'
# Whatever happens below, the services started here stop with this script.
stop_started() {
    for f in "$W/installed-gateway.pid" "$W/installed-mosquitto.pid"; do
        [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
    done
}
trap stop_started EXIT
for d in etc usr var run; do
    mkdir -p "$W/ov/$d.u" "$W/ov/$d.w"
    mount -t overlay overlay -o "lowerdir=/$d,upperdir=$W/ov/$d.u,workdir=$W/ov/$d.w" "/$d"
done
tar -C "$ROOT" -cf - . | tar -C / -xf - --keep-directory-symlink # what dpkg unpacks
sh "$W/control/postinst" configure "" >"$W/postinst.log"
[ "$(stat -c %a:%U:%G /etc/fairgate)" = 751:root:fairgate ] || { echo "/etc/fairgate: $(stat -c %a:%U:%G /etc/fairgate)"; exit 1; }
# operations.md, "First start", step 1 and 2
fairgate certs init-ca --site pkg /etc/fairgate/ca >/dev/null
fairgate certs issue --ca /etc/fairgate/ca --kind sensor --name env-1 --sensor-type environment \
    --out /etc/fairgate/sensors >/dev/null
fairgate certs issue --ca /etc/fairgate/ca --kind gateway --name fairgate-gateway \
    --out /etc/fairgate/gateway >/dev/null
chown -R fairgate: /etc/fairgate/gateway # the directory (0700) and the key
fairgate broker-config --sensor-certs /etc/fairgate/sensors --ca /etc/fairgate/ca --port "$BPORT" \
    /etc/fairgate/mosquitto.d/fairgate.conf >/dev/null
chown mosquitto: /etc/fairgate/ca/broker.key
chmod 711 /etc/fairgate/ca
# what systemd does for a unit: its user, its RuntimeDirectory, each Exec line in turn
unit() { sed -n "s/^$2=//p" "/lib/systemd/system/$1"; }
as_unit() { # UNIT: sets AS, the command prefix that runs as the unit's user and group
    AS=(setpriv --reuid="$(unit "$1" User)" --regid="$(unit "$1" Group)" --init-groups)
}
U=fairgate-mosquitto.service
rt=$(unit $U RuntimeDirectory)
[ -n "$rt" ] && install -d -o "$(unit $U User)" -g "$(unit $U Group)" -m "$(unit $U RuntimeDirectoryMode)" "/run/$rt"
while read -r pre; do
    [ -n "$pre" ] || continue
    # shellcheck disable=SC2086
    as_unit $U
    "${AS[@]}" $pre >"$W/pre.log" 2>&1 || { echo "ExecStartPre failed: $pre"; cat "$W/pre.log"; exit 1; }
done < <(unit $U ExecStartPre)
as_unit $U
# shellcheck disable=SC2046
"${AS[@]}" $(unit $U ExecStart) >"$W/installed-mosquitto.log" 2>&1 &
echo $! >"$W/installed-mosquitto.pid"
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$BPORT") 2>/dev/null && break; sleep 0.1; done
(exec 3<>"/dev/tcp/127.0.0.1/$BPORT") 2>/dev/null || { echo "mosquitto did not start"; cat "$W/installed-mosquitto.log"; exit 1; }
grep -q "^Uid:.*$(id -u mosquitto)" "/proc/$(cat "$W/installed-mosquitto.pid")/status" ||
    { echo "mosquitto does not run as user mosquitto"; exit 1; }
# the gateway, configured as an operator would (step 4), as its unit runs it
cat >/etc/fairgate/fairgate.yaml <<YAML
site: pkg
local:
  host: 127.0.0.1
  port: $BPORT
  client_id: fairgate-gateway
  tls: { enabled: true, ca: /etc/fairgate/ca/ca.crt, cert: /etc/fairgate/gateway/fairgate-gateway.crt, key: /etc/fairgate/gateway/fairgate-gateway.key }
upstream: { host: 127.0.0.1, port: $UPORT, tls: { enabled: false } }
policy: { file: /usr/share/fairgate/policy/factory.yaml, required_roles: "" }
YAML
G=fairgate.service
as_unit $G
# shellcheck disable=SC2046
"${AS[@]}" $(unit $G ExecStart) >"$W/installed-gateway.log" 2>&1 &
echo $! >"$W/installed-gateway.pid"
for _ in $(seq 1 100); do grep -qs "subscribed to" "$W/installed-gateway.log" && break; sleep 0.1; done
grep -q "local: connected" "$W/installed-gateway.log" && grep -q "subscribed to" "$W/installed-gateway.log" ||
    { echo "the gateway did not connect to the packaged broker"; cat "$W/installed-gateway.log"; exit 1; }
# the broker enforces the generated ACL: the sensor's own type passes, another does not
C=(-h localhost -p "$BPORT" --cafile /etc/fairgate/ca/ca.crt --cert /etc/fairgate/sensors/env-1.crt --key /etc/fairgate/sensors/env-1.key -q 1)
timeout 10 mosquitto_sub -h localhost -p "$BPORT" --cafile /etc/fairgate/ca/ca.crt -q 1 \
    --cert /etc/fairgate/sensors/env-1.crt --key /etc/fairgate/sensors/env-1.key -t 'raw/#' -W 2 \
    >"$W/sensor-read.log" 2>&1 &
SUB=$!
sleep 0.3
timeout 10 mosquitto_pub "${C[@]}" -t raw/environment/env-1 -m '{"temperature":20.5}'
timeout 10 mosquitto_pub "${C[@]}" -t raw/uwb-badge/env-1 -m '{"badge":"B-1"}' || true
wait "$SUB" || true
sleep 1
kill "$(cat "$W/installed-gateway.pid")"
wait "$(cat "$W/installed-gateway.pid")" || true
kill "$(cat "$W/installed-mosquitto.pid")"
wait "$(cat "$W/installed-mosquitto.pid")" || true
grep -q "raw/" "$W/sensor-read.log" && { echo "a sensor could read raw/#"; exit 1; }
grep -q "in=1 " "$W/installed-gateway.log" ||
    { echo "the gateway did not get exactly the one allowed input"; cat "$W/installed-gateway.log"; exit 1; }
exit 0
SH
unshare -m --propagation private bash "$WORK/installed.sh" >"$WORK/installed.log" 2>&1 ||
    { cat "$WORK/installed.log"; for f in installed-mosquitto installed-gateway; do echo "--- $f"; cat "$WORK/$f.log" 2>/dev/null; done; fail "the installed package does not run as its services' users"; }
pass "installed: postinst, mosquitto as user mosquitto on the packaged configuration, the gateway as user fairgate"
