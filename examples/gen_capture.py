#!/usr/bin/env python3
"""Writes a deterministic capture of synthetic Ethernet traffic for the examples and tests.

    examples/gen_capture.py OUT.pcap [--frames N] [--seed S]

A mix of what an XDP program meets: IPv4 TCP (SYN, data, FIN), UDP (DNS and others), ICMP
echo, IPv6 TCP/UDP, ARP, 802.1Q-tagged IPv4, and a few malformed frames (truncated IPv4
headers, bad version). Sources come from a handful of prefixes, among them 203.0.113.0/24 and
198.51.100.0/24 (documentation ranges the firewall example blocks) and 2001:db8::/32. IPv4
header checksums are correct except where a frame is deliberately damaged. Standard library
only; the same seed always gives the same bytes.
"""
import argparse
import random
import struct

LINKTYPE_ETHERNET = 1

IPV4_SOURCES = [
    ("10.1.0.0", 16, 30),       # (prefix, length, weight)
    ("192.168.1.0", 24, 30),
    ("203.0.113.0", 24, 10),    # blocked by examples/xdp_firewall
    ("198.51.100.0", 24, 5),    # blocked by examples/xdp_firewall
    ("172.16.0.0", 12, 25),
]
IPV4_DESTINATIONS = ["10.0.0.1", "10.0.0.2", "192.168.1.1"]


def ipv4(text):
    return struct.unpack("!I", bytes(int(x) for x in text.split(".")))[0]


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ethernet(rng, ethertype, payload, vlan=None):
    dst = bytes([0x02, 0, 0, 0, 0, rng.randrange(1, 4)])
    src = bytes([0x02, 0x10, 0, 0, rng.randrange(256), rng.randrange(256)])
    if vlan is not None:
        return dst + src + struct.pack("!HHH", 0x8100, vlan, ethertype) + payload
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4_packet(rng, src, dst, proto, l4, ttl=64, damage=None):
    total = 20 + len(l4)
    header = struct.pack("!BBHHHBBHII", 0x45, 0, total, rng.randrange(65536), 0x4000, ttl, proto, 0, src, dst)
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    if damage == "version":
        header = bytes([0x65]) + header[1:]
    packet = header + l4
    if damage == "truncated":
        packet = packet[:12]
    return packet


def tcp(rng, flags, payload=b""):
    sport, dport = rng.randrange(1024, 65536), rng.choice([80, 443, 22, 8080])
    return struct.pack("!HHIIBBHHH", sport, dport, rng.randrange(2**32), 0, 5 << 4, flags, 65535, 0, 0) + payload


def udp(rng, payload):
    sport, dport = rng.randrange(1024, 65536), rng.choice([53, 53, 123, 5353, 9999])
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def icmp_echo(rng):
    body = struct.pack("!BBHHH", 8, 0, 0, rng.randrange(65536), rng.randrange(65536)) + bytes(32)
    return body[:2] + struct.pack("!H", checksum(body)) + body[4:]


def pick_ipv4_source(rng):
    prefixes = [p for p in IPV4_SOURCES]
    prefix, length, _ = rng.choices(prefixes, weights=[p[2] for p in prefixes])[0]
    host_bits = 32 - length
    return ipv4(prefix) | rng.randrange(1, 2**host_bits - 1)


def frame(rng):
    kind = rng.choices(
        ["tcp", "udp", "icmp", "ipv6", "arp", "vlan", "damaged"], weights=[45, 20, 8, 12, 5, 7, 3])[0]
    dst = ipv4(rng.choice(IPV4_DESTINATIONS))
    if kind in ("tcp", "vlan"):
        flags = rng.choice([0x02, 0x10, 0x18, 0x11])  # SYN, ACK, PSH|ACK, FIN|ACK
        l4 = tcp(rng, flags, bytes(rng.randrange(256) for _ in range(rng.choice([0, 0, 64, 512]))))
        packet = ipv4_packet(rng, pick_ipv4_source(rng), dst, 6, l4)
        return ethernet(rng, 0x0800, packet, vlan=rng.randrange(1, 4095) if kind == "vlan" else None)
    if kind == "udp":
        l4 = udp(rng, bytes(rng.randrange(256) for _ in range(rng.choice([20, 48, 100]))))
        return ethernet(rng, 0x0800, ipv4_packet(rng, pick_ipv4_source(rng), dst, 17, l4))
    if kind == "icmp":
        return ethernet(rng, 0x0800, ipv4_packet(rng, pick_ipv4_source(rng), dst, 1, icmp_echo(rng)))
    if kind == "ipv6":
        src = bytes.fromhex("20010db8") + bytes(rng.randrange(256) for _ in range(12))
        dst6 = bytes.fromhex("fd000000000000000000000000000001")
        l4 = tcp(rng, 0x02) if rng.random() < 0.6 else udp(rng, bytes(16))
        header = struct.pack("!IHBB", 6 << 28, len(l4), 6 if len(l4) == 20 else 17, 64) + src + dst6
        return ethernet(rng, 0x86DD, header + l4)
    if kind == "arp":
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + bytes(6) + struct.pack("!I", dst) + bytes(6) + \
            struct.pack("!I", pick_ipv4_source(rng))
        return ethernet(rng, 0x0806, arp)
    damage = rng.choice(["truncated", "version"])
    return ethernet(rng, 0x0800, ipv4_packet(rng, pick_ipv4_source(rng), dst, 6, tcp(rng, 0x02), damage=damage))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--frames", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with open(args.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET))
        t = 1_767_225_600  # 2026-01-01T00:00:00Z
        usec = 0
        for _ in range(args.frames):
            data = frame(rng)
            if len(data) < 60:
                data += bytes(60 - len(data))  # Ethernet minimum frame (without FCS)
            usec += rng.randrange(5, 400)
            f.write(struct.pack("<IIII", t + usec // 1_000_000, usec % 1_000_000, len(data), len(data)))
            f.write(data)


if __name__ == "__main__":
    main()
