#!/usr/bin/env bash
# e2e: tapedeck-capture verify on sound files (exit 0), a corrupt frame (exit 1, naming the file and the
# frame's offset, the rest still readable), a cut-off tail (damage in a closed file, not in a .part
# segment), a broken convention (two records in one frame), a damaged dictionary; and how ls and cat
# react to the same damage (skip a cut-off tail with a warning; refuse a corrupt frame, exit 2).
source "$(dirname "$0")/../lib/common.sh"
TC=$BIN/tapedeck-capture
T=$(td_tmpdir)

python3 "$ROOT/tests/e2e/capture_fixture.py" >"$T/ex.json"
python3 "$ROOT/tests/lib/mkcapture.py" "$T/ex.json" "$T/good.warc.zst"
python3 "$ROOT/tests/lib/mkcapture.py" --dictionary "$T/ex.json" "$T/dict.warc.zst"
python3 "$ROOT/tests/lib/mkcapture.py" --plain "$T/ex.json" "$T/good.warc"

# Frame offsets, found by walking the zstd format (RFC 8878) independently of the code under test.
frames() { # file -> "offset size" per frame (skippable frames included)
    python3 - "$1" <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
o = 0
while o < len(b):
    start = o
    magic = struct.unpack_from("<I", b, o)[0]
    if magic & 0xFFFFFFF0 == 0x184D2A50:
        o += 8 + struct.unpack_from("<I", b, o + 4)[0]
    else:
        assert magic == 0xFD2FB528, hex(magic)
        fhd = b[o + 4]
        single, checksum, did, fcs = fhd >> 5 & 1, fhd >> 2 & 1, fhd & 3, fhd >> 6
        o += 5 + (0 if single else 1) + [0, 1, 2, 4][did] + ([1 if single else 0, 2, 4, 8][fcs])
        while True:
            h = b[o] | b[o + 1] << 8 | b[o + 2] << 16
            last, btype, bsize = h & 1, h >> 1 & 3, h >> 3
            o += 3 + (1 if btype == 1 else bsize)
            if last:
                break
        o += 4 if checksum else 0
    print(start, o - start)
EOF
}

run() { # want_rc, args...: runs tapedeck-capture, output in $T/out (stdout+stderr)
    local want=$1 rc; shift
    set +e; "$TC" "$@" >"$T/out" 2>&1; rc=$?; set -e
    [ $rc -eq "$want" ] || td_fail "tapedeck-capture $*: exit $rc, want $want
$(cat "$T/out")"
}
has() { grep -qF -- "$1" "$T/out" || td_fail "output lacks '$1':
$(cat "$T/out")"; }

# ---- sound files ----
run 0 verify "$T/good.warc.zst" "$T/dict.warc.zst" "$T/good.warc"
has "good.warc.zst: ok: 16 records (8 exchanges); zstd,"
has "dict.warc.zst: ok: 16 records (8 exchanges); zstd with dictionary,"
has "good.warc: ok: 16 records (8 exchanges); plain WARC,"
has "verify: 3 files, 48 records, 24 exchanges readable; no damage"
[ "$(frames "$T/good.warc.zst" | wc -l)" -eq 16 ] || td_fail "the fixture is not one frame per record"

# ---- a corrupt frame: one byte of the 5th frame's checksum flipped ----
read -r off size < <(frames "$T/good.warc.zst" | sed -n 5p)
cp "$T/good.warc.zst" "$T/corrupt.warc.zst"
python3 - "$T/corrupt.warc.zst" $((off + size - 2)) <<'EOF'
import sys
p, at = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[at] ^= 0xFF; open(p, "wb").write(bytes(b))
EOF
run 1 verify "$T/corrupt.warc.zst"
has "corrupt.warc.zst: offset $off: damaged frame:"
has "($size bytes skipped)"
has "corrupt.warc.zst: DAMAGED:"
has "15 records"               # everything else is still readable
has "1 damaged frame ($size bytes)"
has "DAMAGE FOUND"
# the other commands refuse it, naming the file and the offset
run 2 ls "$T/corrupt.warc.zst"
has "corrupt.warc.zst"
has "$off"
run 2 cat "$T/corrupt.warc.zst"
has "corrupt.warc.zst: offset $off:"

# ---- a cut-off tail ----
read -r off size < <(frames "$T/good.warc.zst" | tail -n 1)
total=$(stat -c %s "$T/good.warc.zst")
head -c $((total - 7)) "$T/good.warc.zst" >"$T/cut.warc.zst"
cp "$T/cut.warc.zst" "$T/seg-20260101T000000Z-0001.warc.zst.part"
run 1 verify "$T/cut.warc.zst" # a closed file must not end inside a frame
has "cut.warc.zst: offset $off: DAMAGE: the file ends inside a frame ($((size - 7)) bytes cut off) although it is a closed file"
has "15 records"
run 0 verify "$T/seg-20260101T000000Z-0001.warc.zst.part" # a segment being written may
has "offset $off: cut-off last frame ($((size - 7)) bytes), normal for a .part segment"
has "no damage"
run 0 ls "$T/seg-20260101T000000Z-0001.warc.zst.part" # readers skip it, say so, and go on
has "7 2026-01-01T00:00:00.600000Z GET /api/trips/7f3e9a1b2c4d 404 4.000"
has "skipped $((size - 7)) bytes"
# (exchange 8 lost its response with the cut: the reader lists its request with status '-')
run 0 cat "$T/seg-20260101T000000Z-0001.warc.zst.part"
has "skipped $((size - 7)) bytes"
# plain WARC cut short
head -c 1000 "$T/good.warc" >"$T/cut.warc"
run 1 verify "$T/cut.warc"
has "cut.warc: offset"
has "the file ends inside a frame"

# ---- the convention broken: every record in one frame ----
python3 "$ROOT/tests/lib/mkcapture.py" --frames one "$T/ex.json" "$T/oneframe.warc.zst"
run 1 verify "$T/oneframe.warc.zst"
has "oneframe.warc.zst: offset 0: frame holds more than one record"

# ---- a damaged dictionary: nothing is readable, and that is damage ----
cp "$T/dict.warc.zst" "$T/baddict.warc.zst"
printf '\xff\xff\xff\xff' | dd of="$T/baddict.warc.zst" bs=1 seek=4 conv=notrunc status=none
run 1 verify "$T/baddict.warc.zst"
has "baddict.warc.zst: offset 0: dictionary frame runs past the end of the file"

# ---- a wrong digest and a response that names another request ----
python3 - "$T/ex.json" "$T/tampered.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["exchanges"][0]["response"] = d["exchanges"][0]["response"].replace('"a":1', '"a":2')
json.dump(d, open(sys.argv[2], "w"))
EOF
python3 "$ROOT/tests/lib/mkcapture.py" --plain "$T/tampered.json" "$T/tampered.warc"
# change the body after the digest was computed: same length, different bytes
python3 - "$T/tampered.warc" <<'EOF'
import sys
p = sys.argv[1]; b = open(p, "rb").read(); open(p, "wb").write(b.replace(b'"a":2', b'"a":3', 1))
EOF
run 1 verify "$T/tampered.warc"
has "WARC-Payload-Digest does not match the response body"

# ---- unreadable ----
run 2 verify "$T/missing.warc.zst"
run 2 verify
echo "ok: verify finds corrupt frames, cut-off tails, broken conventions and bad digests"
