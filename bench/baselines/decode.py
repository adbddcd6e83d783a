#!/usr/bin/env python3
"""A straightforward Python decoder of IMS frames (the baseline for `imsmeter decode`).

Slides a 12-byte window over the file; a window is a frame when bytes 7-8 are 0x00 and
byte 12 is 0x0D (guide 2.5.2); prints the same JSON Lines as `imsmeter decode`.
"""
import sys


def main(path):
    data = open(path, "rb").read()
    out = sys.stdout.write
    i, n, frames = 0, len(data), 0
    while i + 12 <= n:
        w = data[i:i + 12]
        if w[11] == 0x0D and w[6] == 0 and w[7] == 0:
            counts = w[3] * 256 + w[4]
            centi = counts * 2  # exact hundredths of a kW
            out('{"offset":%d,"meter_id":%d,"peak_demand_counts":%d,"peak_demand_kw":%d.%02d,'
                '"demand_resets":%d,"total_kwh":%d,"raw":"%s"}\n'
                % (i, w[1] * 256 + w[2], counts, centi // 100, centi % 100, w[5],
                   w[8] * 65536 + w[9] * 256 + w[10], w.hex()))
            frames += 1
            i += 12
        else:
            i += 1
    sys.stderr.write("%d frames\n" % frames)


if __name__ == "__main__":
    main(sys.argv[1])
