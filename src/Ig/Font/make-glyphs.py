#!/usr/bin/env python3
"""Extracts the glyph outlines NativeIg's figures use from DejaVu Sans into dejavu-sans.glyphs.

Run once (the output is committed): python3 src/Ig/Font/make-glyphs.py /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
DejaVu Sans is under the Bitstream Vera licence (its changes public domain), which allows embedding and
redistribution with the notice (THIRD-PARTY-NOTICES.md). Output, one glyph per line, in font units:
  codepoint advance contour|contour|...   a contour is points "x,y" (on the curve) or "x,y~" (a quadratic control point)
The first line is: unitsPerEm ascender descender.
"""
import struct, sys

CHARS = [chr(c) for c in range(32, 127)] + list("αΣΔ′×±−·…é°µ≤≥≈∫ΩπσΦ")

def main(path, out):
    data = open(path, 'rb').read()
    num_tables = struct.unpack_from('>H', data, 4)[0]
    tables = {}
    for i in range(num_tables):
        tag, _, offset, length = struct.unpack_from('>4sIII', data, 12 + 16 * i)
        tables[tag.decode('latin-1')] = (offset, length)
    head = tables['head'][0]
    units_per_em = struct.unpack_from('>H', data, head + 18)[0]
    loca_format = struct.unpack_from('>h', data, head + 50)[0]
    num_glyphs = struct.unpack_from('>H', data, tables['maxp'][0] + 4)[0]
    hhea = tables['hhea'][0]
    ascender, descender = struct.unpack_from('>hh', data, hhea + 4)
    num_hmetrics = struct.unpack_from('>H', data, hhea + 34)[0]
    hmtx = tables['hmtx'][0]
    advance = lambda g: struct.unpack_from('>H', data, hmtx + 4 * min(g, num_hmetrics - 1))[0]
    loca = tables['loca'][0]
    def glyph_range(g):
        if loca_format == 0:
            a, b = struct.unpack_from('>HH', data, loca + 2 * g)
            return 2 * a, 2 * b
        return struct.unpack_from('>II', data, loca + 4 * g)
    glyf = tables['glyf'][0]
    cmap = cmap_format4(data, tables['cmap'][0])

    def contours(g, dx=0, dy=0):
        start, end = glyph_range(g)
        if start == end: return []
        p = glyf + start
        n = struct.unpack_from('>h', data, p)[0]
        p += 10
        if n < 0:  # composite: components with offsets (DejaVu's accented letters)
            result = []
            while True:
                flags, index = struct.unpack_from('>HH', data, p); p += 4
                if flags & 1: a1, a2 = struct.unpack_from('>hh', data, p); p += 4
                else: a1, a2 = struct.unpack_from('>bb', data, p); p += 2
                if not flags & 2: raise SystemExit('point-matched components are not supported')
                if flags & 0x8: p += 2
                elif flags & 0x40: p += 4
                elif flags & 0x80: p += 8
                result += contours(index, dx + a1, dy + a2)
                if not flags & 0x20: return result
        ends = struct.unpack_from('>%dH' % n, data, p); p += 2 * n
        count = ends[-1] + 1
        instructions = struct.unpack_from('>H', data, p)[0]; p += 2 + instructions
        flags = []
        while len(flags) < count:
            f = data[p]; p += 1
            flags.append(f)
            if f & 8:
                repeat = data[p]; p += 1
                flags += [f] * repeat
        def coords(short_bit, same_bit):
            nonlocal p
            values, v = [], 0
            for f in flags:
                if f & short_bit:
                    d = data[p]; p += 1
                    v += d if f & same_bit else -d
                elif not f & same_bit:
                    v += struct.unpack_from('>h', data, p)[0]; p += 2
                values.append(v)
            return values
        xs = coords(2, 16); ys = coords(4, 32)
        result, first = [], 0
        for e in ends:
            result.append([(xs[i] + dx, ys[i] + dy, bool(flags[i] & 1)) for i in range(first, e + 1)])
            first = e + 1
        return result

    with open(out, 'w', encoding='utf-8') as f:
        f.write(f'{units_per_em} {ascender} {descender}\n')
        for ch in CHARS:
            g = cmap.get(ord(ch))
            if g is None: raise SystemExit(f'{ch!r} is not in the font')
            parts = ['|'.join(' '.join(f'{x},{y}' + ('' if on else '~') for x, y, on in c) for c in contours(g))]
            f.write(f'{ord(ch)} {advance(g)} {parts[0]}\n')

def cmap_format4(data, cmap):
    n = struct.unpack_from('>H', data, cmap + 2)[0]
    for i in range(n):
        platform, encoding, offset = struct.unpack_from('>HHI', data, cmap + 4 + 8 * i)
        sub = cmap + offset
        if platform == 3 and encoding == 1 and struct.unpack_from('>H', data, sub)[0] == 4:
            segs = struct.unpack_from('>H', data, sub + 6)[0] // 2
            ends = struct.unpack_from('>%dH' % segs, data, sub + 14)
            starts = struct.unpack_from('>%dH' % segs, data, sub + 16 + 2 * segs)
            deltas = struct.unpack_from('>%dh' % segs, data, sub + 16 + 4 * segs)
            range_base = sub + 16 + 6 * segs
            range_offsets = struct.unpack_from('>%dH' % segs, data, range_base)
            mapping = {}
            for s in range(segs):
                for c in range(starts[s], ends[s] + 1):
                    if c == 0xFFFF: continue
                    if range_offsets[s] == 0: g = (c + deltas[s]) & 0xFFFF
                    else:
                        at = range_base + 2 * s + range_offsets[s] + 2 * (c - starts[s])
                        g = struct.unpack_from('>H', data, at)[0]
                        if g: g = (g + deltas[s]) & 0xFFFF
                    if g: mapping[c] = g
            return mapping
    raise SystemExit('no Unicode BMP cmap')

if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
         sys.argv[2] if len(sys.argv) > 2 else __file__.rsplit('/', 1)[0] + '/dejavu-sans.glyphs')
