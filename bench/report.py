#!/usr/bin/env python3
"""Summarises bench/out/steps.jsonl (written by bench/run.sh) into a table on
stdout and bench/out/results.csv, with the design brief's section 10 targets.

Ratios are computed per round (systems interleaved within a round share the
machine's state) and the median of the per-round ratios is reported."""
import csv
import json
import os
import statistics
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "out")
rows = [json.loads(l) for l in open(os.path.join(out, "steps.jsonl")) if l.strip()]
meta = next((r for r in rows if r.get("kind") == "meta"), {})
NAMES = {"a": "mosquitto bridge", "b": "Node-RED 4 flow", "c": "fairgate (bench policy)",
         "d": meta.get("d_label") or "fairgate (d)",
         "e": "fairgate inside mosquitto + bridge", "f": "fairgate, batched upstream (50 records, 20 ms)",
         "x": "direct, one broker (baseline)"}


def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def fmt(v, f="%.0f"):
    return "-" if v is None else f % v


systems = sorted({r["system"] for r in rows if "system" in r and r["system"] != "x"})
rounds = sorted({r["round"] for r in rows if "round" in r})


def sel(**kw):
    return [r for r in rows if all(r.get(k) == v for k, v in kw.items())]


def max_ok(s, q, rnd):
    ok = [r["rate"] for r in sel(system=s, qos=q, round=rnd, kind="ramp") if r["ok"]]
    return max(ok) if ok else 0


def lat(s, q, rnd):
    l = sel(system=s, qos=q, round=rnd, kind="lat")
    return l[0] if l else None


res = {}
for q in (0, 1):
    for s in systems:
        per = []
        for rnd in rounds:
            l, x = lat(s, q, rnd), lat("x", q, rnd)
            ramp = sel(system=s, qos=q, round=rnd, kind="ramp")
            idle = sel(system=s, qos=q, round=rnd, kind="idle")
            added = {}
            for p in ("p50_us", "p99_us", "p999_us"):
                added[p] = (l[p] - x[p]) if (l and x and l.get(p) is not None and x.get(p) is not None) else None
            per.append(dict(
                max=max_ok(s, q, rnd), lat=l, added=added,
                rate_lat=l["rate"] if l else None,
                hwm=max([r.get("hwm_kib", 0) for r in ramp + ([l] if l else [])] or [0]),
                rss_steady=l["rss_kib"] if l else None,
                rss_idle=idle[0]["rss_kib"] if idle else None,
                loss=sum(r["loss"] or 0 for r in ramp if r["ok"]) + (l["loss"] if l else 0),
                dups=sum(r["dups"] or 0 for r in ramp) + ((l["dups"] or 0) if l else 0),
                fail_loss=next((r["loss"] for r in ramp if not r["ok"]), None),
                fail_rate=next((r["rate"] for r in ramp if not r["ok"]), None)))
        res[(s, q)] = per

# ---- table -------------------------------------------------------------------------
lines = []
P = lines.append
P("End to end, loopback, plain TCP for every system (TLS used by none), %s msg/s steps of %s s, "
  "%s round(s) interleaved; a step is sustained when loss = 0, the offered rate was reached and "
  "every message arrived within %s ms of its send time." % (
      meta.get("rates"), meta.get("step_s"), meta.get("rounds"), meta.get("grace_ms")))
P("")
hdr = ("sys", "QoS", "max sustained (per round)", "lat@rate", "p50/p99/p99.9 e2e us",
       "added p50/p99/p99.9 us", "CPU us/msg sys (mid)", "%core/1k msg/s", "RSS idle/steady/peak MiB",
       "loss", "dups", "first failing step")
P("%-3s %-3s %-26s %-8s %-22s %-24s %-20s %-14s %-25s %-5s %-5s %s" % hdr)
csv_rows = []
for q in (0, 1):
    for s in systems:
        per = res[(s, q)]
        maxes = [p["max"] for p in per]
        L = [p["lat"] for p in per if p["lat"]]
        e2e = [med([l[k] for l in L]) for k in ("p50_us", "p99_us", "p999_us")]
        add = [med([p["added"][k] for p in per]) for k in ("p50_us", "p99_us", "p999_us")]
        cpu = med([l["cpu_us_per_msg"] for l in L])
        mcpu = med([l.get("mid_cpu_us_per_msg") for l in L])
        idle = med([p["rss_idle"] for p in per])
        steady = med([p["rss_steady"] for p in per])
        peak = max([p["hwm"] for p in per] or [0])
        loss = sum(p["loss"] for p in per)
        dups = sum(p["dups"] for p in per)
        fails = ["%s@%s" % (fmt(p["fail_loss"]), p["fail_rate"]) for p in per if p["fail_rate"]]
        P("%-3s %-3s %-26s %-8s %-22s %-24s %-20s %-14s %-25s %-5s %-5s %s" % (
            s, q, "%s (%s)" % (fmt(med(maxes)), "/".join(str(m) for m in maxes)),
            fmt(med([p["rate_lat"] for p in per])),
            "/".join(fmt(v) for v in e2e), "/".join(fmt(v) for v in add),
            "%s (%s)" % (fmt(cpu, "%.1f"), fmt(mcpu, "%.1f")),
            fmt(cpu / 10 if cpu else None, "%.2f"),
            "%s/%s/%s" % (fmt(idle / 1024 if idle else None, "%.1f"),
                          fmt(steady / 1024 if steady else None, "%.1f"), fmt(peak / 1024, "%.1f")),
            loss, dups, " ".join(fails) or "none (top step passed)"))
        csv_rows.append(dict(
            system=s, name=NAMES.get(s, s), qos=q, max_sustained_median=med(maxes),
            max_sustained_per_round="/".join(str(m) for m in maxes),
            latency_rate=med([p["rate_lat"] for p in per]),
            e2e_p50_us=e2e[0], e2e_p99_us=e2e[1], e2e_p999_us=e2e[2],
            added_p50_us=add[0], added_p99_us=add[1], added_p999_us=add[2],
            cpu_us_per_msg_system=cpu, cpu_us_per_msg_middle=mcpu,
            pct_core_per_1k_msgs_system=(cpu / 10 if cpu else None),
            pct_core_per_1k_msgs_middle=(mcpu / 10 if mcpu else None),
            rss_idle_mib=(idle / 1024 if idle else None), rss_steady_mib=(steady / 1024 if steady else None),
            rss_peak_mib=peak / 1024, loss_at_sustained=loss, dups=dups,
            first_failing_step=" ".join(fails)))
P("")
P("Systems: " + "; ".join("%s = %s" % (s, NAMES[s]) for s in systems + ["x"]))
P("CPU: utime+stime of every process of the system (both brokers included) during the latency "
  "step; (mid) = the middle process alone (for a: the bridging broker). RSS of the middle process "
  "(Node-RED: its node process): idle after start, steady at the end of the latency step, peak = VmHWM.")
P("Added latency = system percentile minus the direct one-broker baseline's percentile (same round, same rate).")
P("")


# ---- ratios, per round then median ------------------------------------------------------
def ratio(num, den, q, key):
    v = []
    for i, _ in enumerate(rounds):
        n, d = res.get((num, q)), res.get((den, q))
        if not n or not d:
            return None
        a, b = key(n[i]), key(d[i])
        if a is not None and b:
            v.append(a / b)
    return med(v)


def rate_of(p):
    return p["max"]


def cpu_mid(p):
    return p["lat"].get("mid_cpu_us_per_msg") if p["lat"] else None


P("Context switches per message of the middle process (all its threads, voluntary + "
  "involuntary, during the latency step):")
for q in (0, 1):
    P("  QoS %d: " % q + ", ".join(
        "%s %s" % (s, fmt(med([p["lat"].get("mid_ctxsw_per_msg") for p in res[(s, q)] if p["lat"]]), "%.2f"))
        for s in systems))
P("")


def cpu_sys(p):
    return p["lat"].get("cpu_us_per_msg") if p["lat"] else None


ratios = {}
P("Ratios (median of per-round ratios):")
for q in (0, 1):
    for num, den in (("c", "a"), ("d", "a"), ("e", "a"), ("f", "a"), ("c", "b"), ("d", "b"),
                     ("e", "b"), ("f", "b")):
        if (num, q) in res and (den, q) in res:
            r = ratio(num, den, q, rate_of)
            ratios[(num, den, q, "rate")] = r
            P("  QoS %d max sustained %s/%s = %s" % (q, num, den, fmt(r, "%.2f")))
    for num in ("c", "e", "f"):
        if (num, q) in res and ("a", q) in res:
            ce = ratio(num, "a", q, cpu_sys)
            ratios[(num, "a", q, "cpu")] = ce
            P("  QoS %d CPU per message %s/a = %s (whole system: both brokers)" % (q, num, fmt(ce, "%.3f")))
    for num in ("c", "d", "e", "f"):
        if (num, q) in res and ("b", q) in res:
            cm = ratio(num, "b", q, cpu_mid)
            cs = ratio(num, "b", q, cpu_sys)
            mem = ratio("b", num, q, lambda p: p["rss_steady"])
            ratios[(num, "b", q, "cpu")] = cm
            ratios[(num, "b", q, "mem")] = mem
            P("  QoS %d CPU per message %s/b = %s (middle process), %s (whole system); "
              "memory b/%s = %s (steady RSS)" % (q, num, fmt(cm, "%.3f"), fmt(cs, "%.3f"), num, fmt(mem, "%.1f")))
P("")

# ---- pipeline ---------------------------------------------------------------------------
pl = os.path.join(out, "pipeline.csv")
pipe = list(csv.DictReader(open(pl))) if os.path.exists(pl) else []
if pipe:
    P("In-process pipeline (one thread, thread CPU time):")
    for r in pipe:
        P("  %-30s %9.0f msg/s per core  %6.0f ns/msg  %5.2f allocs/msg  in %s B -> out %s B  (%s)" % (
            r["label"], float(r["msgs_per_s_per_core"]), float(r["ns_per_msg"]),
            float(r["allocs_per_msg"]), r["in_bytes"], r["out_bytes"], os.path.basename(r["policy"])))
agg = os.path.join(out, "aggregation.csv")
agg_mib = None
if os.path.exists(agg) and os.path.getsize(agg):
    a = open(agg).read().strip().split(",")
    agg_mib = float(a[2])
    P("  aggregation state, %s distinct workers: RSS +%s MiB (heap +%s MiB)" % (a[1], a[2], a[3]))
else:
    P("  aggregation state for 100k workers: not measured (no factory policy with aggregation yet)")
P("")

# ---- targets (design brief section 10) ------------------------------------------------------
P("Targets (design brief section 10):")


def target(name, value, goal, met, unit=""):
    if value is None:
        P("  [n/a ] %s: not measured" % name)
    else:
        P("  [%s] %s: %s%s (target %s)" % ("MET " if met else "MISS", name, value, unit, goal))


best_pipe = None
for r in pipe:
    if r["label"] == "decode+policy+encode" and "bench.yaml" in r["policy"]:
        best_pipe = float(r["msgs_per_s_per_core"])
if best_pipe is None and pipe:
    best_pipe = float(pipe[0]["msgs_per_s_per_core"])
target("pipeline msg/s per core with pseudonymisation (200-byte bench badge)",
       fmt(best_pipe), ">= 500000", best_pipe is not None and best_pipe >= 500000,
       " (%.0f%% of target)" % (100 * best_pipe / 500000) if best_pipe else "")
target("aggregation state, 100k workers", fmt(agg_mib, "%.1f"), "<= 64 MiB",
       agg_mib is not None and agg_mib <= 64, " MiB")
for sysn in ("d", "c"):
    if (sysn, 0) not in res:
        continue
    label = "(%s)" % sysn + ("" if sysn == "d" else " (stand-in while d is unavailable)" if ("d", 0) not in res else "")
    for q, goal in ((1, 0.8), (0, 0.9)):
        r = ratios.get((sysn, "a", q, "rate"))
        target("%s QoS %d throughput vs mosquitto bridge %s" % (label, q, label and ""),
               fmt(r, "%.2f"), ">= %.2f" % goal, r is not None and r >= goal)
    for q in (0, 1):
        add = med([p["added"]["p99_us"] for p in res[(sysn, q)]])
        target("%s QoS %d p99 added latency at half the bridge's maximum" % (label, q),
               fmt(add / 1000 if add is not None else None, "%.2f"), "< 5 ms",
               add is not None and add < 5000, " ms")
    if ("b", 1) in res:
        r = ratios.get((sysn, "b", 1, "rate"))
        target("%s QoS 1 max sustained vs Node-RED" % label, fmt(r, "%.2f"), ">= 2", r is not None and r >= 2, "x")
        r = ratios.get((sysn, "b", 1, "cpu"))
        target("%s CPU per message vs Node-RED (middle process, QoS 1)" % label, fmt(r, "%.3f"),
               "<= 0.200", r is not None and r <= 0.2)
        r = ratios.get((sysn, "b", 1, "mem"))
        target("%s Node-RED memory / fairgate memory (steady RSS)" % label, fmt(r, "%.1f"), ">= 7",
               r is not None and r >= 7, "x")
if ("e", 0) in res:
    for q in (0, 1):
        r = ratios.get(("e", "a", q, "rate"))
        target("(e) plugin QoS %d throughput vs mosquitto bridge" % q, fmt(r, "%.2f"), ">= 0.90",
               r is not None and r >= 0.9)
        r = ratios.get(("e", "a", q, "cpu"))
        target("(e) plugin QoS %d CPU per message vs mosquitto bridge (whole system)" % q,
               fmt(r, "%.2f"), "<= 1.20", r is not None and r <= 1.2)
if ("c", 1) in res:
    st = med([p["rss_steady"] for p in res[("c", 1)] + res[("c", 0)]])
    target("fairgate steady RSS (bench policy)", fmt(st / 1024 if st else None, "%.1f"), "< 16 MiB",
           st is not None and st < 16 * 1024, " MiB")

text = "\n".join(lines)
print(text)
with open(os.path.join(out, "results.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(csv_rows[0].keys()) if csv_rows else ["system"])
    w.writeheader()
    for r in csv_rows:
        w.writerow({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()})
