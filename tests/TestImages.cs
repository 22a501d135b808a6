using StbImageWriteSharp;

namespace NativeIg.Tests;

/// <summary>Test images of every supported format, made here (no binaries from elsewhere).</summary>
internal static class TestImages
{
    public static byte[] Pixels(int w, int h, int seed)
    {
        var r = new System.Random(seed);
        var p = new byte[w * h * 3];
        r.NextBytes(p);
        return p;
    }

    public static byte[] Png(int w = 16, int h = 12, int seed = 1) => Write(s => new ImageWriter().WritePng(Pixels(w, h, seed), w, h, ColorComponents.RedGreenBlue, s));
    public static byte[] Jpeg(int w = 16, int h = 12, int seed = 1) => Write(s => new ImageWriter().WriteJpg(Pixels(w, h, seed), w, h, ColorComponents.RedGreenBlue, s, 90));
    public static byte[] Bmp(int w = 16, int h = 12, int seed = 1) => Write(s => new ImageWriter().WriteBmp(Pixels(w, h, seed), w, h, ColorComponents.RedGreenBlue, s));
    public static byte[] Tga(int w = 16, int h = 12, int seed = 1) => Write(s => new ImageWriter().WriteTga(Pixels(w, h, seed), w, h, ColorComponents.RedGreenBlue, s));

    /// <summary>A w×h GIF89a with a 2-colour table whose image data is an LZW stream of clear codes and one pixel value repeated.</summary>
    public static byte[] Gif(int w = 4, int h = 4)
    {
        var b = new List<byte>();
        b.AddRange("GIF89a"u8.ToArray());
        b.AddRange([(byte)w, (byte)(w >> 8), (byte)h, (byte)(h >> 8), 0x80, 0, 0]); // global table of 2 colours
        b.AddRange([0, 0, 0, 255, 255, 255]);
        b.AddRange([0x2C, 0, 0, 0, 0, (byte)w, (byte)(w >> 8), (byte)h, (byte)(h >> 8), 0]);
        // LZW, minimum code size 2: clear (4), then w·h codes of colour 1 (3 bits each), then end (5).
        var codes = new List<int> { 4 };
        int count = w * h;
        // Stay below the first code-size change by clearing every 2 codes (each new entry grows the table).
        for (int i = 0; i < count; i++) { codes.Add(1); if (i % 2 == 1) codes.Add(4); }
        codes.Add(5);
        var bits = new List<byte>();
        int buffer = 0, used = 0;
        foreach (var code in codes)
        {
            buffer |= code << used; used += 3;
            while (used >= 8) { bits.Add((byte)buffer); buffer >>= 8; used -= 8; }
        }
        if (used > 0) bits.Add((byte)buffer);
        b.Add(2);
        for (int i = 0; i < bits.Count; i += 255)
        {
            int n = Math.Min(255, bits.Count - i);
            b.Add((byte)n);
            b.AddRange(bits.Skip(i).Take(n));
        }
        b.Add(0);
        b.Add(0x3B);
        return b.ToArray();
    }

    private static byte[] Write(Action<Stream> write)
    {
        using var stream = new MemoryStream();
        write(stream);
        return stream.ToArray();
    }
}
