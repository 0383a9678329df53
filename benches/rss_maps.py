#!/usr/bin/env python3
"""Where a command's resident memory is at its largest, mapping by mapping: runs it, reads
/proc/PID/smaps every ~1 ms, keeps the sample with the largest total Rss and prints that
sample's Rss (KiB) per file and permissions (`[anon]` for heap and thread stacks), largest
first. BENCHMARKS.md, "A small pass's memory, fourth round".

    benches/rss_maps.py target/release/freshness-monitor run
"""
import collections
import signal
import subprocess
import sys
import time

# Piped into `head`, end quietly as other command-line tools do, not with a BrokenPipe trace.
signal.signal(signal.SIGPIPE, signal.SIG_DFL)

p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
best, best_total = collections.Counter(), -1
while p.poll() is None:
    try:
        sample, name, total = collections.Counter(), None, 0
        with open(f"/proc/{p.pid}/smaps") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 5 and "-" in parts[0] and not parts[0].endswith(":"):
                    name = (parts[5] if len(parts) > 5 else "[anon]") + " " + parts[1]
                elif parts[0] == "Rss:":
                    sample[name] += int(parts[1])
                    total += int(parts[1])
        if total > best_total:
            best_total, best = total, sample
    except (OSError, ValueError, IndexError):
        pass
    time.sleep(0.001)
print(f"{best_total:8d} total, rc {p.returncode}")
for mapping, kib in best.most_common():
    if kib:
        print(f"{kib:8d} {mapping}")
