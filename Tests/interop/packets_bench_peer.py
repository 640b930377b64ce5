"""Times space_packet_parser 6.2.0 decoding a packet file (the peer of `sdc-bench packets`).

Each packet is framed with `ccsds_generator` and decoded with `parse_bytes`, which computes raw and derived
values, as imap_processing does. Prints one JSON object: packets, fields, seconds, packets/s, fields/s and
peak RSS. `--limit N` times only the first N packets (the rate is per packet, so a sample is representative).

Usage: python packets_bench_peer.py FILE XTCE [--limit N]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import resource
import sys
import time
import warnings

import space_packet_parser as spp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("xtce")
    parser.add_argument("--limit", type=int, default=0, help="decode only the first N packets (0: all)")
    arguments = parser.parse_args(argv)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        definition = spp.load_xtce(arguments.xtce)
        load_seconds = time.perf_counter() - start
        packets = fields = 0
        start = time.perf_counter()
        with open(arguments.file, "rb") as handle:
            for raw_packet in spp.ccsds_generator(handle):
                packet = definition.parse_bytes(raw_packet)
                packets += 1
                fields += len(packet)
                if arguments.limit and packets >= arguments.limit:
                    break
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    print(json.dumps({
        "tool": f"space_packet_parser {importlib.metadata.version('space_packet_parser')}", "packets": packets, "fields": fields,
        "xtce_load_seconds": load_seconds, "seconds": seconds, "packets_per_s": packets / seconds,
        "fields_per_s": fields / seconds, "peak_rss_bytes": peak,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
