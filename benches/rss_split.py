#!/usr/bin/env python3
"""Peak resident memory of a command, split: runs it and samples /proc/PID/status every
0.5 ms, printing the largest VmRSS, RssAnon (heap, stacks), RssFile (mapped files: the
binary's own pages) and Threads seen, and VmHWM. BENCHMARKS.md, "A small pass".

    benches/rss_split.py target/release/freshness-monitor run
"""
import subprocess, sys, time, os
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
mx = {}
while p.poll() is None:
    try:
        with open(f"/proc/{p.pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "RssAnon", "RssFile", "Threads", "VmHWM"):
                    n = int(v.split()[0])
                    mx[k] = max(mx.get(k, 0), n)
    except Exception:
        pass
    time.sleep(0.0005)
print(" ".join(f"{k}={v}" for k, v in sorted(mx.items())), "rc", p.returncode)
