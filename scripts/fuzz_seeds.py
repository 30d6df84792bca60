#!/usr/bin/env python3
"""Seed corpora for scripts/fuzz.sh, built at run time (never committed).

usage: fuzz_seeds.py SHARED_DIR SEED_DIR OBJECT...

- assembler_fuzz: the assembly of every conformance test (SHARED_DIR/conformance/tests/*.data);
- decoder_fuzz: the bytecode of the conformance vectors and of every program in the objects;
- verifier_fuzz: the same programs behind the target's two-byte header (program type, privilege),
  each under a few program types.
Only seed directories that exist (the targets being run) are filled.
"""
import json
import os
import struct
import sys


def programs_of(path):
    """The executable sections of a little-endian ELF64 object (eBPF programs), or []."""
    try:
        data = open(path, "rb").read()
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            return []
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
        out = []
        for i in range(shnum):
            base = shoff + i * shentsize
            sh_type, sh_flags, _, sh_offset, sh_size = struct.unpack_from("<IQQQQ", data, base + 4)
            if sh_type == 1 and sh_flags & 0x4 and sh_size and sh_size % 8 == 0:
                out.append(data[sh_offset:sh_offset + sh_size])
        return out
    except (OSError, struct.error, IndexError):
        return []  # the corpus has malformed objects on purpose


def main():
    shared, seeds, objects = sys.argv[1], sys.argv[2], sys.argv[3:]
    want = lambda t: os.path.isdir(os.path.join(seeds, t))
    conformance = os.path.join(shared, "conformance")
    programs = []
    vectors = os.path.join(conformance, "vectors.jsonl")
    if os.path.exists(vectors):
        for line in open(vectors):
            programs.append(bytes.fromhex(json.loads(line)["program"]))
    tests = os.path.join(conformance, "tests")
    if want("assembler_fuzz") and os.path.isdir(tests):
        for name in sorted(os.listdir(tests)):
            if not name.endswith(".data"):
                continue
            lines, inside = [], False
            for line in open(os.path.join(tests, name)):
                if line.startswith("-- "):
                    inside = line.startswith("-- asm")
                elif inside:
                    lines.append(line)
            with open(os.path.join(seeds, "assembler_fuzz", name[:-5] + ".s"), "w") as f:
                f.write("".join(lines))
    for o in objects:
        programs.extend(programs_of(o))
    unique = sorted(set(programs))
    for i, program in enumerate(unique):
        if want("decoder_fuzz"):
            open(os.path.join(seeds, "decoder_fuzz", f"{i}.bin"), "wb").write(program)
        if want("verifier_fuzz"):
            for type_byte in (i % 7, 6 + i % 23):
                name = os.path.join(seeds, "verifier_fuzz", f"{i}-{type_byte}.bin")
                open(name, "wb").write(bytes([type_byte, 1]) + program)
    print(f"seeds: {len(unique)} programs from {len(objects)} objects and the conformance suite")


if __name__ == "__main__":
    main()
