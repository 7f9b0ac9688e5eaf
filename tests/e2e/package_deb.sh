#!/usr/bin/env bash
# The Debian package: build it with CPack in a throw-away build directory,
# inspect its control data (dependencies from the linked libraries, conffiles,
# maintainer scripts) and contents, unpack it into a throw-away root and run
# the installed binary against the installed data; systemd-analyze verify the
# units. Skips (77) without dpkg-deb, dpkg-shlibdeps or cpack.
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
    /usr/share/doc/fairgate/configuration.md /usr/share/doc/fairgate/examples/fairgate.yaml; do
    grep -qx "$f" "$WORK/contents.log" || fail "package lacks $f"
done
# fairgate inside mosquitto: the plugin, when the build had mosquitto-dev
if [ -f "$BUILD/fairgate_mosquitto.so" ]; then
    grep -qE '^/usr/lib/[^/]+/fairgate/fairgate_mosquitto\.so$' "$WORK/contents.log" ||
        fail "package lacks fairgate_mosquitto.so"
fi
if grep -vE '^/(usr/bin/fairgate|usr/lib/[^/]+/fairgate|usr/share/(fairgate|doc/fairgate|man/man1)|lib/systemd/system|etc/fairgate)(/|$)|/$' \
    "$WORK/contents.log" | grep -v '^/$' >"$WORK/unexpected.log"; then
    cat "$WORK/unexpected.log"; fail "unexpected files in the package"
fi
nsrc=$(ls "$SRC"/sensors/types/*.yaml | wc -l)
npkg=$(grep -c '^/usr/share/fairgate/sensors/.*\.yaml$' "$WORK/contents.log")
[ "$nsrc" = "$npkg" ] || fail "$nsrc sensor types in the tree, $npkg in the package"
pass "contents: binary, mosquitto plugin, units, configuration, $npkg sensor types, policies, man page, docs"

# ---- the installed binary -------------------------------------------------------
ROOT=$WORK/root
dpkg -x "$DEB" "$ROOT"
FG=$ROOT/usr/bin/fairgate
[ "$("$FG" --version)" = "fairgate $(sed -n 's/^project(fairgate VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")" ] ||
    fail "--version: $("$FG" --version)"
grep -qa "/usr/share/fairgate" "$FG" || fail "the binary does not look in /usr/share/fairgate"
FAIRGATE_SENSOR_TYPES=$ROOT/usr/share/fairgate/sensors "$FG" sensors list >"$WORK/sensors.log" 2>&1 ||
    { cat "$WORK/sensors.log"; fail "sensors list with the installed data failed"; }
for t in uwb-badge forklift wearable-vitals; do
    grep -q "$t" "$WORK/sensors.log" || fail "installed sensor type $t not listed"
done
for p in "$ROOT"/usr/share/fairgate/policy/*.yaml; do
    FAIRGATE_SENSOR_TYPES=$ROOT/usr/share/fairgate/sensors "$FG" policy check "$p" >"$WORK/pcheck.log" 2>&1 ||
        { cat "$WORK/pcheck.log"; fail "shipped policy $(basename "$p") does not check"; }
done
# The shipped configuration parses; it fails only on files an operator provides.
out=$(FAIRGATE_SENSOR_TYPES=$ROOT/usr/share/fairgate/sensors "$FG" config check "$ROOT/etc/fairgate/fairgate.yaml" 2>&1) || true
grep -q "unknown key\|must be" <<<"$out" && fail "shipped configuration does not parse: $out"
# The man page renders and names every subcommand.
man -l "$ROOT/usr/share/man/man1/fairgate.1.gz" >"$WORK/man.log" 2>&1 || fail "man page does not render"
for c in $("$FG" --help | awk '/^commands:/ {on=1; next} on && NF {print $1}'); do
    grep -q "$c" "$WORK/man.log" || fail "man page does not mention '$c'"
done
pass "installed binary runs with the installed sensor types, policies and man page"

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
else
    echo "SKIP: systemd-analyze not installed; units not verified"
fi
