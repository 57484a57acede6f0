#!/usr/bin/env python3
"""`make bench`: every scenario of the benchmark, each beside its reference measured in the same run, repeated;
prints a table and writes bench/results/latest.json (medians, with min and max as the spread).
Environment: BENCH_REPEAT (default 3), BENCH_LEADS (default 1000000), BENCH_MESSAGES (default 20000)."""
import json, os, platform, re, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.environ.get("NURTURE_BIN", os.path.join(ROOT, ".build/release/nurture"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
LEADS = int(os.environ.get("BENCH_LEADS", "1000000"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "20000"))


def run(cmd, **kw):
    sys.stderr.write(f"$ {' '.join(cmd)}\n")
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}")
    return done.stdout


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def delivery(dkim="off", connections=("1", "4", "8"), store="sqlite", nodes=1):
    samples = {}
    for _ in range(REPEAT):
        out = run([os.path.join(HERE, "delivery.sh"), str(MESSAGES), *connections],
                  env={**os.environ, "DKIM": dkim, "STORE": store, "NODES": str(nodes)})
        for m in re.finditer(r"connections=(\d+) .*?size=(\d+) nurture=(\d+) msg/s \(with startup: (\d+)\) smtp_source=(\d+) msg/s", out):
            c, size, steady, total, source = map(int, m.groups())
            s = samples.setdefault(c, {"nurture": [], "smtp_source": [], "ratio": [], "size": size})
            s["nurture"].append(steady); s["smtp_source"].append(source); s["ratio"].append(steady / source)
    return {c: {"nurture_msg_s": spread(s["nurture"]), "smtp_source_msg_s": spread(s["smtp_source"]),
                "ratio": spread(s["ratio"]), "message_bytes": s["size"]} for c, s in sorted(samples.items())}


def tracking():
    rows = {"nginx": [], "open": [], "click": [], "open_p99": [], "click_p99": [], "ratio": [], "recorded_equal": []}
    for _ in range(REPEAT):
        out = run([os.path.join(HERE, "tracking.sh"), "10", "64", "2"])
        def target(name):
            m = re.search(rf"target={name} requests=\d+ rps=([\d.]+) p99=([\d.]+)(ms|us|s)", out)
            rps, p99, unit = float(m.group(1)), float(m.group(2)), m.group(3)
            return rps, p99 * {"ms": 1, "us": 0.001, "s": 1000}[unit]
        nginx, _ = target("nginx-static-gif")
        o, op99 = target("nurture-open")
        c, cp99 = target("nurture-click")
        rec = re.search(r"opens recorded=(\d+) answered_by_server=(\d+)", out)
        rows["nginx"].append(nginx); rows["open"].append(o); rows["click"].append(c)
        rows["open_p99"].append(op99); rows["click_p99"].append(cp99); rows["ratio"].append(o / nginx)
        rows["recorded_equal"].append(rec.group(1) == rec.group(2))
    return {"nginx_static_gif_rps": spread(rows["nginx"]), "open_rps": spread(rows["open"]), "open_p99_ms": spread(rows["open_p99"]),
            "click_rps": spread(rows["click"]), "click_p99_ms": spread(rows["click_p99"]), "open_ratio_to_nginx": spread(rows["ratio"]),
            "every_open_recorded": all(rows["recorded_equal"])}


def scale():
    out = run([os.path.join(HERE, "scale.sh"), str(LEADS)])
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return {k: float(v) for k, v in values.items()}


def authoring():
    work = tempfile.mkdtemp(prefix="nurture-bench-validate.")
    os.makedirs(f"{work}/sequences"); os.makedirs(f"{work}/templates")
    for layout in ("_layout.html", "_layout.txt"):
        with open(f"{ROOT}/templates/{layout}") as src, open(f"{work}/templates/{layout}", "w") as dst:
            dst.write(src.read())
    with open(f"{work}/templates/step.md", "w") as f:
        f.write("---\nsubject: Hi {{first_name}}\n---\nHello {{first_name}}, [read](https://example.com/read).\n")
    for i in range(1000):
        with open(f"{work}/sequences/s{i}.yaml", "w") as f:
            f.write(f"id: seq-{i}\npersona: persona_{i}\nwindow: {{ days: [mon, tue, wed, thu, fri], hours: \"09:00-17:00\" }}\n"
                    "entry: { require: [email, first_name], consent: required }\nsteps:\n"
                    + "".join(f"  - {{ id: step{j}, after: {j + 1}d, template: step }}\n" for j in range(5)))
    with open(f"{work}/nurture.yaml", "w") as f:
        f.write("database: var/nurture.sqlite\nfields: [first_name]\n"
                "sender: { name: Bench, email: bench@example.com, postal_address: 1 Bench Street }\n")
    hf = f"{work}/hyperfine.json"
    run(["hyperfine", "--warmup", "1", "--runs", str(max(5, REPEAT)), "--export-json", hf, f"{BIN} validate --config {work}/nurture.yaml"])
    result = json.load(open(hf))["results"][0]
    validate = {"files": 1000, "seconds": spread(result["times"])}

    csv = f"{work}/leads.csv"
    with open(csv, "w") as f:
        f.write("email,first_name,persona\n")
        for i in range(100_000):
            f.write(f"lead{i}@example{i % 500}.com,First{i},persona_{i % 1000}\n")
    rates, rss = [], []
    for r in range(REPEAT):
        db = f"{work}/var/nurture.sqlite"
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        err = subprocess.run(["/usr/bin/time", "-f", "%e %M", BIN, "lead", "import", csv, "--consent", "bench", "--quiet",
                              "--config", f"{work}/nurture.yaml"], capture_output=True, text=True).stderr.strip().splitlines()[-1]
        seconds, kb = err.split()
        rates.append(100_000 / float(seconds)); rss.append(int(kb) / 1024)
    return {"validate_1000_files": validate, "import_100k_rows_per_s": spread(rates), "import_100k_peak_rss_mb": spread(rss)}


def inbound():
    """The pipe (one process per message, beside the binary's bare start) and the IMAP poller (beside imaplib)."""
    out = run([os.path.join(HERE, "inbound.sh"), "900", "900"])
    def number(key, line):
        return float(line.split(key + "=", 1)[1].split()[0].rstrip(";"))
    pipe = next(l for l in out.splitlines() if l.startswith("pipe="))
    imap = next(l for l in out.splitlines() if l.startswith("imap="))
    return {"pipe_msg_s": number("pipe", pipe), "start_only_msg_s": number("start_only", pipe), "pipe_ratio": number("ratio", pipe),
            "imap_msg_s": number("imap", imap), "imaplib_msg_s": number("imaplib", imap), "imap_ratio": number("ratio", imap)}


def fmt(s, unit="", digits=0):
    if s is None:
        return "n/a"
    f = (lambda v: f"{v:,.{digits}f}".replace(",", " "))
    return f"{f(s['median'])}{unit} ({f(s['min'])}–{f(s['max'])})" if s["runs"] > 1 else f"{f(s['median'])}{unit}"


def main():
    started = time.time()
    machine = {"cpus": os.cpu_count(), "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
               "kernel": platform.release(), "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)}
    results = {"machine": machine, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "repeat": REPEAT}
    results["delivery"] = delivery()
    # DKIM: the same delivery signed, beside the unsigned figure of the same run.
    results["delivery_signed"] = {mode: delivery(mode, ("1", "4")) for mode in ("ed25519", "rsa", "both")}
    # PostgreSQL: one node at 1 and 4 connections, and three nodes on one machine sharing the database.
    results["delivery_postgresql"] = delivery(connections=("1", "4"), store="postgresql")
    results["delivery_postgresql_3_nodes"] = delivery(connections=("4",), store="postgresql", nodes=3)
    results["tracking"] = tracking()
    results["scale"] = scale()
    results["authoring"] = authoring()
    results["inbound"] = inbound()
    results["seconds"] = round(time.time() - started)
    os.makedirs(f"{HERE}/results", exist_ok=True)
    with open(f"{HERE}/results/latest.json", "w") as f:
        json.dump(results, f, indent=2, default=str)

    d, t, s, a = results["delivery"], results["tracking"], results["scale"], results["authoring"]
    print(f"Nurture benchmark — {machine['cpus']} × {machine['cpu']}, {results['date']}, median (min–max) of {REPEAT} runs\n")
    print("| scenario | Nurture | reference (same run) | ratio | target |")
    print("|---|---|---|---|---|")
    targets = {1: "≥ 0.60", 4: "≥ 0.35", 8: ""}
    for c, row in d.items():
        print(f"| delivery, {MESSAGES} msgs of {row['message_bytes']} B, {c} conn. | {fmt(row['nurture_msg_s'], ' msg/s')} | smtp-source {fmt(row['smtp_source_msg_s'], ' msg/s')} | {fmt(row['ratio'], '', 2)} | {targets.get(c, '')} |")
    signed_targets = {("ed25519", 1): "≥ 0.90", ("ed25519", 4): "≥ 0.90", ("rsa", 1): "≥ 0.90", ("rsa", 4): "≥ 0.60",
                      ("both", 1): "≥ 0.90", ("both", 4): "≥ 0.60"}
    for mode, rows in results["delivery_signed"].items():
        for c, row in rows.items():
            unsigned = d[c]["nurture_msg_s"]["median"]
            ratio = row["nurture_msg_s"]["median"] / unsigned
            print(f"| delivery DKIM-signed ({mode}), {c} conn. | {fmt(row['nurture_msg_s'], ' msg/s')} | unsigned {unsigned:,.0f} msg/s | {ratio:.2f} | {signed_targets[(mode, c)]} |")
    for c, row in results["delivery_postgresql"].items():
        sqlite = d[c]["nurture_msg_s"]["median"]
        print(f"| delivery on PostgreSQL, 1 node, {c} conn. | {fmt(row['nurture_msg_s'], ' msg/s')} | SQLite {sqlite:,.0f} msg/s, smtp-source {fmt(row['smtp_source_msg_s'], ' msg/s')} | {row['nurture_msg_s']['median'] / sqlite:.2f} of SQLite | {'≥ 0.50' if c == 4 else ''} |")
    for c, row in results["delivery_postgresql_3_nodes"].items():
        one = results["delivery_postgresql"][c]["nurture_msg_s"]["median"]
        print(f"| delivery on PostgreSQL, 3 nodes on this machine, {c} conn. each | {fmt(row['nurture_msg_s'], ' msg/s')} together | 1 node {one:,.0f} msg/s | {row['nurture_msg_s']['median'] / one:.2f} of 1 node | |")
    print(f"| open pixel, wrk -c64 | {fmt(t['open_rps'], ' req/s')}, p99 {fmt(t['open_p99_ms'], ' ms', 1)} | nginx static GIF {fmt(t['nginx_static_gif_rps'], ' req/s')} | {fmt(t['open_ratio_to_nginx'], '', 2)} | ≥ 0.30 |")
    print(f"| click redirect, wrk -c64 | {fmt(t['click_rps'], ' req/s')}, p99 {fmt(t['click_p99_ms'], ' ms', 1)} | | | |")
    print(f"| every open recorded | {'yes' if t['every_open_recorded'] else 'NO'} | | | equal |")
    print(f"| {LEADS:,} leads: next due batch | {s.get('due_batch_ms_median', 0):.1f} ms median, {s.get('due_batch_ms_max', 0):.1f} ms max | | | < 20 ms |")
    print(f"| {LEADS:,} leads: start to ready | {s['ready_ms']:.0f} ms | | | < 2 s |")
    print(f"| {LEADS:,} leads: resident memory while sending | {s['steady_rss_kb'] / 1024:.0f} MB (peak {s['peak_rss_kb'] / 1024:.0f} MB) | | | < 150 MB |")
    print(f"| import {LEADS:,} rows | {LEADS / s['import_seconds']:,.0f} rows/s, peak {s['import_peak_rss_kb'] / 1024:.0f} MB | | | ≥ 50 000 rows/s |")
    print(f"| import 100 000 rows | {fmt(a['import_100k_rows_per_s'], ' rows/s')}, peak {fmt(a['import_100k_peak_rss_mb'], ' MB')} | | | ≥ 50 000 rows/s |")
    print(f"| validate 1 000 sequence files | {fmt({k: v * 1000 if isinstance(v, float) else v for k, v in a['validate_1000_files']['seconds'].items()}, ' ms')} | | | |")
    i = results["inbound"]
    print(f"| inbound: `nurture inbound` pipe, 900 msgs, one process each | {i['pipe_msg_s']:.0f} msg/s | the binary's bare start {i['start_only_msg_s']:.0f} /s | {i['pipe_ratio']:.2f} | |")
    print(f"| inbound: IMAP poller (IMAPS, moved), 900 msgs | {i['imap_msg_s']:.0f} msg/s | imaplib fetch + move {i['imaplib_msg_s']:.0f} msg/s | {i['imap_ratio']:.2f} | |")
    print(f"\nWritten to bench/results/latest.json ({results['seconds']} s).")


if __name__ == "__main__":
    main()
