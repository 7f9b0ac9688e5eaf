#!/usr/bin/env python3
"""Seal stripping, as an attacker WITHOUT any key would do it (issue 14, item 1).

usage: audit_strip.py IN OUT MODE LINE
  strip     edit a count on LINE, delete every later checkpoint and key.handover,
            renumber seq and recompute prev
  rename    edit LINE, rename the action of every later checkpoint/key.handover
  nobounds  drop the sealing bounds from line 1 and every seal after it
  loosen    change the sealing bounds on line 1 (events x1000), strip later seals
"""
import hashlib
import re
import sys

src, dst, mode, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
lines = open(src, encoding="utf-8").read().split("\n")
if lines and lines[-1] == "":
    lines.pop()
SEAL = re.compile(r'"action":"(checkpoint|key\.handover)"')

if mode in ("strip", "rename"):
    lines[k - 1] = re.sub(r'"count":(\d+)', lambda m: '"count":%d' % (int(m.group(1)) + 1),
                          lines[k - 1], count=1)
    if mode == "strip":
        lines = lines[:k] + [l for l in lines[k:] if not SEAL.search(l)]
    else:
        lines = lines[:k] + [SEAL.sub(lambda m: '"action":"%s-x"' % m.group(1), l)
                             for l in lines[k:]]
    start = k
elif mode in ("nobounds", "loosen"):
    if mode == "nobounds":
        lines[0] = re.sub(r',"seal":\{[^}]*\}', "", lines[0])
    else:
        lines[0] = re.sub(r'"events":(\d+)', lambda m: '"events":%d' % (int(m.group(1)) * 1000),
                          lines[0], count=1)
    lines = lines[:1] + [l for l in lines[1:] if not SEAL.search(l)]
    start = 1
else:
    sys.exit("unknown mode " + mode)

for i in range(start, len(lines)):
    prev = hashlib.blake2b(lines[i - 1].encode(), digest_size=32).hexdigest()
    seq = int(re.match(r'\{"seq":(\d+),', lines[i - 1]).group(1)) + 1
    l = re.sub(r'^\{"seq":\d+,', '{"seq":%d,' % seq, lines[i])
    lines[i] = re.sub(r'"prev":"[0-9a-f]{64}"\}$', '"prev":"%s"}' % prev, l)

open(dst, "w", encoding="utf-8").write("\n".join(lines) + "\n")
