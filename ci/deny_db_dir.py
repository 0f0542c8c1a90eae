#!/usr/bin/env python3
"""Prints the directory name cargo-deny gives an advisory database URL:
the URL's last path segment, a dash, and the XXH64 (seed 0xca80de71) of the
lower-cased URL in 16 hex digits. CI places the offline snapshot there so
that cargo-deny opens it with fetching disabled.

Usage: deny_db_dir.py URL     (or --self-test)
"""
import sys

MASK = (1 << 64) - 1
P1, P2, P3, P4, P5 = (
    0x9E3779B185EBCA87,
    0xC2B2AE3D27D4EB4F,
    0x165667B19E3779F9,
    0x85EBCA77C2B2AE63,
    0x27D4EB2F165667C5,
)


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & MASK


def lane_round(acc, lane):
    acc = (acc + lane * P2) & MASK
    return (rotl(acc, 31) * P1) & MASK


def merge(acc, value):
    acc ^= lane_round(0, value)
    return (acc * P1 + P4) & MASK


def xxh64(data, seed):
    n, i = len(data), 0
    u64 = lambda at: int.from_bytes(data[at:at + 8], "little")
    if n >= 32:
        v = [(seed + P1 + P2) & MASK, (seed + P2) & MASK, seed, (seed - P1) & MASK]
        while i + 32 <= n:
            v = [lane_round(v[k], u64(i + 8 * k)) for k in range(4)]
            i += 32
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & MASK
        for lane in v:
            h = merge(h, lane)
    else:
        h = (seed + P5) & MASK
    h = (h + n) & MASK
    while i + 8 <= n:
        h ^= lane_round(0, u64(i))
        h = (rotl(h, 27) * P1 + P4) & MASK
        i += 8
    if i + 4 <= n:
        h ^= (int.from_bytes(data[i:i + 4], "little") * P1) & MASK
        h = (rotl(h, 23) * P2 + P3) & MASK
        i += 4
    while i < n:
        h ^= (data[i] * P5) & MASK
        h = (rotl(h, 11) * P1) & MASK
        i += 1
    h ^= h >> 33
    h = (h * P2) & MASK
    h ^= h >> 29
    h = (h * P3) & MASK
    return h ^ (h >> 32)


def db_dir(url):
    url = url.lower()
    name = url.rstrip("/").rsplit("/", 1)[-1] or "empty_"
    return f"{name}-{xxh64(url.encode(), 0xCA80DE71):016x}"


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        # Reference values of XXH64 from its specification's test suite.
        assert xxh64(b"", 0) == 0xEF46DB3751D8E999
        assert xxh64(b"a", 0) == 0xD24EC4F1A98C6E5B
        assert xxh64(b"abc", 0) == 0x44BC2CF5AD770999
        assert xxh64(b"Nobody inspects the spammish repetition", 0) == 0xFBCEA83C8A378BF1
        print("xxh64 ok")
    elif len(sys.argv) == 2:
        print(db_dir(sys.argv[1]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
