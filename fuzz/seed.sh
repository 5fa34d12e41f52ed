#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seed inputs taken from the shared capture
# corpus (../shared/corpus, i.e. /work/shared/corpus beside the repository).
# The corpus directories are not committed (/fuzz/corpus is in .gitignore);
# run this once before `cargo fuzz run` to get the same seeds every time.
#
#   fuzz/seed.sh                # uses ../shared/corpus relative to the repo
#   SHARED=/path/to/corpus fuzz/seed.sh
#
# Needs: python3, tshark, gzip, zstd.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
SHARED=${SHARED:-$repo/../shared/corpus}
[ -d "$SHARED/lab" ] || SHARED=/work/shared/corpus
lab=$SHARED/lab
pub=$SHARED/public
out=$here/corpus
mkdir -p "$out"/{capture_reader,defrag,ike_parse,decode_frame,decrypt_ikev1}

# 1. capture_reader: small whole captures of every container flavour.
cr=$out/capture_reader
for f in \
    "$lab/ok_psk.pcap" \
    "$lab/ikev1_no_proposal.pcap" \
    "$lab/invalid_ke.pcap" \
    "$pub/pcap-parser/modified-format.pcap" \
    "$pub/zeek/trunc__trunc-hdr.pcap" \
    "$pub/PcapPlusPlus/Sll2Packet.pcap" \
    "$pub/PcapPlusPlus/ipsec.pcapng" \
    "$pub/pcap-parser/test001-be.pcapng" \
    "$pub/pcap-parser/test016-le.pcapng" \
    "$pub/zeek/pcapng-multi-interface.pcapng" \
    "$pub/tcpdump/ikev2pI2-segfault.pcapng" \
    "$pub"/pcapng-test-generator/*.pcapng; do
    [ -f "$f" ] && cp "$f" "$cr/$(basename "$f")"
done
gzip -9 -n -c "$lab/ikev1_no_proposal.pcap" > "$cr/ikev1_no_proposal.pcap.gz"
gzip -9 -n -c "$pub/pcapng-test-generator/output_be__advanced__test101.pcapng" \
    > "$cr/output_be__advanced__test101.pcapng.gz"
zstd -q -19 -f -c "$lab/no_proposal_chosen.pcap" > "$cr/no_proposal_chosen.pcap.zst"

# 2. ike_parse: IKE messages (UDP payloads; the 4-byte non-ESP marker on
#    4500 removed) from IKEv1 and IKEv2 lab captures.
ik=$out/ike_parse
for f in "$lab"/ikev1_*.pcap "$lab/ok_psk.pcap" "$lab/invalid_ke.pcap" \
    "$lab/ikev2_fragmentation_rfc7383.pcap" "$lab/natt_ok.pcap" \
    "$lab/cookie.pcap" "$lab/ts_unacceptable.pcap" "$lab/dpd_dead_peer.pcap" \
    "$lab/libreswan_ikev1_pfs_mismatch.pcap" "$lab/ok_cert_fragmented.pcap"; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .pcap)
    tshark -r "$f" -Y isakmp -T fields -e frame.number -e udp.dstport -e udp.srcport -e udp.payload 2>/dev/null |
        python3 -c '
import sys
name, out = sys.argv[1], sys.argv[2]
for line in sys.stdin:
    parts = line.rstrip("\n").split("\t")
    if len(parts) < 4 or not parts[3]:
        continue
    num, dport, sport, hexpayload = parts[:4]
    b = bytes.fromhex(hexpayload.replace(":", ""))
    if "4500" in (dport, sport):
        if b[:4] != b"\0\0\0\0":
            continue  # ESP, not IKE
        b = b[4:]
    if len(b) >= 28:
        open(f"{out}/{name}_{num}.ike", "wb").write(b)
' "$name" "$ik"
done
for f in "$pub"/ipsec-parser/*.bin; do
    [ -f "$f" ] && cp "$f" "$ik/"
done

# 3. decode_frame: [link type index][frame] from pcap files of several
#    link types; 4. defrag: a few hand-made fragment streams.
python3 - "$out" "$lab" "$pub" <<'PY'
import os, struct, sys, glob
out, lab, pub = sys.argv[1:4]
LINKTYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 239, 276, 9]

def pcap_frames(path):
    d = open(path, "rb").read()
    if len(d) < 24:
        return
    magic = d[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return
    lt = struct.unpack(e + "I", d[20:24])[0] & 0xFFFF
    pos = 24
    while pos + 16 <= len(d):
        _, _, incl, _ = struct.unpack(e + "IIII", d[pos:pos + 16])
        pos += 16
        if pos + incl > len(d):
            return
        yield lt, d[pos:pos + incl]
        pos += incl

files = sorted(glob.glob(f"{lab}/*.pcap")) + sorted(glob.glob(f"{pub}/**/*.pcap", recursive=True))
seen = set()
n = 0
for path in files:
    per_file = 0
    for lt, frame in pcap_frames(path):
        if lt not in LINKTYPES or per_file >= 6:
            continue
        data = bytes([LINKTYPES.index(lt)]) + frame
        if data in seen:
            continue
        seen.add(data)
        per_file += 1
        n += 1
        open(f"{out}/decode_frame/{os.path.basename(path)}_{per_file}", "wb").write(data)

# defrag: config (8 bytes) then records, see fuzz_targets/defrag.rs.
def cfg(max_len=65535, total=0xFFFF, sets=15, frags=31, pending=7, timeout=200):
    return struct.pack(">HHBBBB", max_len, total, sets, frags, pending, timeout)

def frag(op, key, offset, length, payload, step=1):
    # op bits: 3 = offset*8, 4 = MF, 5 = captured length byte follows.
    rec = struct.pack(">BBHH", op, key, offset, length)
    if op & 0x20:
        rec += bytes([min(len(payload), 255)])
    return rec + bytes([step]) + payload

def blob(n, c):
    return bytes([c]) * n

seeds = {
    # two fragments in order, then expire.
    "in_order": cfg() + frag(0x18, 0x00, 0, 40, blob(40, 1)) + frag(0x08, 0x00, 5, 20, blob(20, 2)) + b"\x07",
    # reverse order, with a duplicate of the last.
    "reverse_dup": cfg() + frag(0x08, 0x01, 5, 20, blob(20, 2)) + frag(0x08, 0x01, 5, 20, blob(20, 2)) + frag(0x18, 0x01, 0, 40, blob(40, 1)),
    # overlap with different content, IPv6 key.
    "overlap_v6": cfg() + frag(0x18, 0x02, 0, 48, blob(48, 3)) + frag(0x18, 0x02, 4, 32, blob(32, 4)) + frag(0x08, 0x02, 10, 8, blob(8, 5)),
    # first fragment only (incomplete at finish), then a late one after 30 s.
    "incomplete": cfg() + frag(0x18, 0x03, 0, 64, blob(64, 6)) + frag(0x48, 0x03, 16, 8, blob(8, 7)) + b"\x07",
    # snaplen-truncated fragment.
    "truncated": cfg() + frag(0x38, 0x00, 0, 200, blob(60, 8)) + frag(0x08, 0x00, 25, 16, blob(16, 9)),
    # many sets under a tight memory cap.
    "evict": cfg(total=0x0100, sets=3) + b"".join(frag(0x18, k, 0, 64, blob(64, k)) for k in range(0, 64, 4)) + b"\x07",
    # atomic fragment and a late duplicate after completion.
    "atomic_late_dup": cfg() + frag(0x00, 0x00, 0, 10, blob(10, 1)) + frag(0x18, 0x10, 0, 16, blob(16, 1)) + frag(0x08, 0x10, 2, 16, blob(16, 2)) + frag(0x08, 0x10, 2, 16, blob(16, 2)),
}
for name, data in seeds.items():
    open(f"{out}/defrag/{name}", "wb").write(data)
print(f"decode_frame seeds: {n}, defrag seeds: {len(seeds)}")
PY

# 5. decrypt_ikev1: mode 0, every IKEv1 message of a lab capture (cookie
#    rewritten to the harness's 0102030405060708), framed [u16 len][msg];
#    mode 1, hand-made plaintext records (see fuzz_targets/decrypt_ikev1.rs).
mkdir -p "$out/decrypt_ikev1"
for f in "$lab"/ikev1_*.pcap "$lab/libreswan_ikev1_pfs_mismatch.pcap" \
    "$lab/l2tp_ipsec_transport_ok.pcap"; do
    [ -f "$f" ] || continue
    tshark -r "$f" -Y isakmp -T fields -e udp.dstport -e udp.srcport -e udp.payload 2>/dev/null |
        python3 -c '
import sys, struct
out = sys.argv[1]
seed = b"\x00"
for line in sys.stdin:
    parts = line.rstrip("\n").split("\t")
    if len(parts) < 3 or not parts[2]:
        continue
    b = bytes.fromhex(parts[2].replace(":", ""))
    if "4500" in parts[:2]:
        if b[:4] != b"\0\0\0\0":
            continue
        b = b[4:]
    if len(b) < 28:
        continue
    b = bytes(range(1, 9)) + b[8:]
    seed += struct.pack(">H", len(b)) + b
open(out, "wb").write(seed)
' "$out/decrypt_ikev1/$(basename "$f" .pcap)"
done
python3 - "$out/decrypt_ikev1" <<'PY'
import struct, sys
out = sys.argv[1]
def payload(np, body):
    return bytes([np, 0]) + struct.pack(">H", 4 + len(body)) + body
def rec(ctl, first, plain):
    return bytes([ctl, first, len(plain)]) + plain
h20 = bytes(20)
mm5 = payload(8, bytes([1, 0, 0, 0, 192, 0, 2, 10])) + payload(11, h20) + payload(0, struct.pack(">IBBH", 1, 1, 0, 24578))
qm = payload(1, h20) + payload(0, struct.pack(">II", 1, 1))
info = payload(11, h20) + payload(0, struct.pack(">IBBH", 1, 3, 4, 14) + bytes(4))
seed = b"\x01" + rec(0, 5, mm5) + rec(0, 5, mm5[:12] + payload(0, h20)) + rec(4, 0, b"") + rec(1, 8, qm) + rec(1, 8, payload(0, h20)) + rec(2, 8, info)
open(f"{out}/harness_main_quick_info", "wb").write(seed)
PY

for t in capture_reader defrag ike_parse decode_frame decrypt_ikev1; do
    echo "$t: $(ls "$out/$t" | wc -l) seeds"
done
