#!/usr/bin/env python3
"""The code a small invocation runs, as a symbol-ordering file for the linker: reads the
linker's map of the binary (lld's `-Map`) and callgrind traces of the binary running
(`--dump-instr=yes --compress-pos=no --compress-strings=no`), keeps every function section
of `.text` that executed at least one instruction, and writes their symbols in their address
order (one a line) to OUT. lld places those sections first in `.text`, together, so the
code a pass runs fills a few hundred KiB of pages instead of being spread over the whole
text segment, where fault-around maps each touched page's 64 KiB neighbourhood
(BENCHMARKS.md, "A small pass's memory, fifth round"). `benches/code_order.sh` drives it.

    benches/code_order.py MAP BINARY OUT TRACE...

The first two traces' functions are each kept contiguous (the first's own, the shared, the
second's own); the other traces' follow.

Prints what it found: the sections and bytes executed, and how many 64 KiB windows of the
text they touch now against packed together.
"""
import bisect
import re
import sys

INPUT_SECTION = re.compile(
    r"^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+\s+\S.*:\((\.text[^)]*)\)$"
)
OUTPUT_SECTION = re.compile(r"^\s*[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+\d+ (\S+)$")
# How LLVM names a function's own section: `.text.` (or `.text.unlikely.`, `.text.hot.`,
# `.text.startup.`) then the symbol.
PREFIXES = (".text.unlikely.", ".text.hot.", ".text.startup.", ".text.split.", ".text.")


def text_sections(map_path):
    """(start, size, symbol) of every input section in the output section `.text` that is one
    function's own section."""
    sections, out = [], None
    with open(map_path) as f:
        for line in f:
            m = OUTPUT_SECTION.match(line)
            if m:
                out = m.group(1)
                continue
            if out != ".text":
                continue
            m = INPUT_SECTION.match(line.rstrip("\n"))
            if not m:
                continue
            start, size, name = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
            symbol = next((name[len(p):] for p in PREFIXES if name.startswith(p)), "")
            if symbol and size:
                sections.append((start, size, symbol))
    sections.sort()
    return sections


def executed(trace_path, binary):
    """Addresses of the instructions callgrind saw executed in `binary`."""
    addresses, current = set(), None
    with open(trace_path) as f:
        for line in f:
            if line.startswith("ob="):
                current = line[3:].strip()
            elif current == binary and line.startswith("0x"):
                addresses.add(int(line.split(maxsplit=1)[0], 16))
    return addresses


def main():
    map_path, binary, out_path, *traces = sys.argv[1:]
    sections = text_sections(map_path)
    starts = [s[0] for s in sections]
    runs = [executed(trace, binary) for trace in traces]
    addresses = set().union(*runs)
    if not addresses:
        sys.exit(f"no instruction of {binary} in {traces}: is it the binary the traces ran?")

    def section_of(a):
        i = bisect.bisect_right(starts, a) - 1
        return sections[i] if i >= 0 and a < sections[i][0] + sections[i][1] else None

    ran = [{section_of(a) for a in run} - {None} for run in runs]
    unmapped = sum(1 for a in addresses if section_of(a) is None)
    # The first trace's own functions, then those it shares with the second, then the
    # second's own, then the rest's: each of the first two runs' code is one contiguous run of
    # pages. Within a group, the order they had.
    first, second = ran[0], ran[1] if len(ran) > 1 else set()

    def group(s):
        if s in first:
            return 1 if s in second else 0
        return 2 if s in second else 3

    chosen = sorted(set().union(*ran), key=lambda s: (group(s), s[0]))
    with open(out_path, "w") as f:
        for _, _, symbol in chosen:
            f.write(symbol + "\n")
    size = sum(s[1] for s in chosen)
    windows = {a >> 16 for a in addresses}
    text = sum(s[1] for s in sections)
    print(
        f"{len(chosen)} of {len(sections)} function sections executed, {size / 1024:.0f} of "
        f"{text / 1024:.0f} KiB; they touch {len(windows)} 64 KiB windows "
        f"({len(windows) * 64} KiB) where they are, {size // 65536 + 1} packed together; "
        f"{unmapped} executed addresses outside function sections (libc's startup code, "
        f"assembly in plain .text)"
    )


main()
