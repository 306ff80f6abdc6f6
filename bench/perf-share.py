#!/usr/bin/python3
"""bench/perf-share.py: read `perf script` output (with call chains) on stdin
and print the share of samples, in percent, whose stack holds a recorder
frame: gatehouse's recorder functions, or libzstd (the recording's
compressor; the proxy uses zstd for nothing else). SHA-256 of the integrity
chain is caught through the recorder frames that call it. Each sample is
counted once, whatever the depth, so nested frames are not double counted.
Prints: recorder_pct zstd_pct samples"""
import re
import sys

REC = re.compile(r"\b(rec_write|rec_write_at|rec_tick|rec_tick_at|rec_flush|rec_writer_\w+|append|emit_record|"
                 r"compress|frame_begin|frame_end|flush_pending|write_all|rec_chain_step|sha256_parts)\b")
ZSTD = re.compile(r"libzstd|ZSTD_")
total = rec = zst = 0
in_rec = in_zstd = False
started = False
for line in sys.stdin:
    if line and not line[0].isspace():
        if started:
            total += 1
            rec += in_rec or in_zstd
            zst += in_zstd
        started = True
        in_rec = in_zstd = False
        continue
    if not line.strip():
        continue
    if not in_rec and REC.search(line):
        in_rec = True
    if not in_zstd and ZSTD.search(line):
        in_zstd = True
if started:
    total += 1
    rec += in_rec or in_zstd
    zst += in_zstd
if total == 0:
    print("0 0 0")
else:
    print(f"{100.0 * rec / total:.2f} {100.0 * zst / total:.2f} {total}")
