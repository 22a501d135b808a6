using StbImageWriteSharp;
using NativeIg.Tensors;

namespace NativeIg.Ig;

/// <summary>
/// An RGB8 raster with just enough drawing for IG's figures: images, filled rectangles, lines and
/// text in a built-in 5×7 bitmap font (upper case, digits, common punctuation), written as PNG.
/// </summary>
public sealed class Canvas
{
    /// <summary>Width in pixels.</summary>
    public int Width { get; }
    /// <summary>Height in pixels.</summary>
    public int Height { get; }
    /// <summary>RGB bytes, row by row.</summary>
    public byte[] Pixels { get; }

    /// <summary>A canvas filled with <paramref name="background"/> (white when null).</summary>
    public Canvas(int width, int height, (byte R, byte G, byte B)? background = null)
    {
        if (width < 1 || height < 1) throw new ArgumentException($"Canvas size {width}×{height} must be positive.");
        Width = width;
        Height = height;
        Pixels = new byte[width * height * 3];
        Fill(0, 0, width, height, background ?? (255, 255, 255));
    }

    /// <summary>One pixel's colour.</summary>
    public (byte R, byte G, byte B) this[int x, int y] => (Pixels[(y * Width + x) * 3], Pixels[(y * Width + x) * 3 + 1], Pixels[(y * Width + x) * 3 + 2]);

    /// <summary>Sets one pixel; coordinates outside the canvas are ignored.</summary>
    public void Set(int x, int y, (byte R, byte G, byte B) c)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) return;
        int i = (y * Width + x) * 3;
        Pixels[i] = c.R; Pixels[i + 1] = c.G; Pixels[i + 2] = c.B;
    }

    /// <summary>Fills a rectangle, clipped to the canvas.</summary>
    public void Fill(int x, int y, int w, int h, (byte R, byte G, byte B) c)
    {
        for (int yy = Math.Max(0, y); yy < Math.Min(Height, y + h); yy++)
            for (int xx = Math.Max(0, x); xx < Math.Min(Width, x + w); xx++) Set(xx, yy, c);
    }

    /// <summary>Draws an [H, W, 3] float image in [0, 1] (clamped) with its top-left at (x, y), each pixel <paramref name="scale"/>×<paramref name="scale"/>.</summary>
    public void DrawImage(int x, int y, Tensor image, int scale = 1)
    {
        if (image.Rank != 3 || image.Dim(2) != 3) throw new ArgumentException($"DrawImage expects [H, W, 3]; got {image.ShapeString}.");
        int h = image.Dim(0), w = image.Dim(1);
        var s = image.Span;
        for (int yy = 0; yy < h * scale; yy++)
            for (int xx = 0; xx < w * scale; xx++)
            {
                int i = ((yy / scale) * w + xx / scale) * 3;
                Set(x + xx, y + yy, (ToByte(s[i]), ToByte(s[i + 1]), ToByte(s[i + 2])));
            }
    }

    /// <summary>Draws another canvas at (x, y), each pixel <paramref name="scale"/>×<paramref name="scale"/>.</summary>
    public void DrawCanvas(int x, int y, Canvas other, int scale = 1)
    {
        for (int yy = 0; yy < other.Height * scale; yy++)
            for (int xx = 0; xx < other.Width * scale; xx++) Set(x + xx, y + yy, other[xx / scale, yy / scale]);
    }

    /// <summary>A line of the given thickness (Bresenham, square pen).</summary>
    public void Line(int x0, int y0, int x1, int y1, (byte R, byte G, byte B) c, int thickness = 1)
    {
        int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
        int half = thickness / 2;
        while (true)
        {
            Fill(x0 - half, y0 - half, thickness, thickness, c);
            if (x0 == x1 && y0 == y1) break;
            int e2 = 2 * err;
            if (e2 >= dy) { err += dy; x0 += sx; }
            if (e2 <= dx) { err += dx; y0 += sy; }
        }
    }

    /// <summary>Width in pixels of <paramref name="text"/> at <paramref name="scale"/>.</summary>
    public static int TextWidth(string text, int scale = 2) => text.Length * 6 * scale - scale;

    /// <summary>Text with its top-left at (x, y); letters are drawn upper case.</summary>
    public void Text(int x, int y, string text, (byte R, byte G, byte B) c, int scale = 2)
    {
        foreach (char ch in text.ToUpperInvariant())
        {
            if (Font.TryGetValue(ch, out var rows))
                for (int row = 0; row < 7; row++)
                    for (int col = 0; col < 5; col++)
                        if (rows[row * 6 + col] == '1') Fill(x + col * scale, y + row * scale, scale, scale, c);
            x += 6 * scale;
        }
    }

    /// <summary>Text centred horizontally on <paramref name="centerX"/>.</summary>
    public void TextCentered(int centerX, int y, string text, (byte R, byte G, byte B) c, int scale = 2) =>
        Text(centerX - TextWidth(text, scale) / 2, y, text, c, scale);

    /// <summary>Text turned 90° anticlockwise (reading bottom to top), for a y-axis label; (x, y) is its bottom-left.</summary>
    public void TextVertical(int x, int y, string text, (byte R, byte G, byte B) c, int scale = 2)
    {
        var strip = new Canvas(Math.Max(1, TextWidth(text, scale)), 7 * scale);
        strip.Text(0, 0, text, (0, 0, 0), scale);
        for (int sy = 0; sy < strip.Height; sy++)
            for (int sx = 0; sx < strip.Width; sx++)
                if (strip[sx, sy] == (0, 0, 0)) Set(x + sy, y - sx, c);
    }

    /// <summary>Writes the PNG atomically (a temporary name, then a rename).</summary>
    public void SavePng(string path) => NativeIg.Tensors.IO.AtomicFiles.WriteOne(path, WritePng);

    /// <summary>The PNG bytes to a stream.</summary>
    public void WritePng(Stream stream) => new ImageWriter().WritePng(Pixels, Width, Height, ColorComponents.RedGreenBlue, stream);

    private static byte ToByte(float v) => (byte)Math.Clamp(MathF.Round(v * 255f), 0f, 255f);

    /// <summary>5×7 glyphs, seven rows of five pixels each, rows separated by spaces.</summary>
    private static readonly Dictionary<char, string> Font = new()
    {
        ['A'] = "01110 10001 10001 11111 10001 10001 10001", ['B'] = "11110 10001 10001 11110 10001 10001 11110",
        ['C'] = "01110 10001 10000 10000 10000 10001 01110", ['D'] = "11110 10001 10001 10001 10001 10001 11110",
        ['E'] = "11111 10000 10000 11110 10000 10000 11111", ['F'] = "11111 10000 10000 11110 10000 10000 10000",
        ['G'] = "01110 10001 10000 10111 10001 10001 01111", ['H'] = "10001 10001 10001 11111 10001 10001 10001",
        ['I'] = "01110 00100 00100 00100 00100 00100 01110", ['J'] = "00111 00010 00010 00010 00010 10010 01100",
        ['K'] = "10001 10010 10100 11000 10100 10010 10001", ['L'] = "10000 10000 10000 10000 10000 10000 11111",
        ['M'] = "10001 11011 10101 10101 10001 10001 10001", ['N'] = "10001 10001 11001 10101 10011 10001 10001",
        ['O'] = "01110 10001 10001 10001 10001 10001 01110", ['P'] = "11110 10001 10001 11110 10000 10000 10000",
        ['Q'] = "01110 10001 10001 10001 10101 10010 01101", ['R'] = "11110 10001 10001 11110 10100 10010 10001",
        ['S'] = "01111 10000 10000 01110 00001 00001 11110", ['T'] = "11111 00100 00100 00100 00100 00100 00100",
        ['U'] = "10001 10001 10001 10001 10001 10001 01110", ['V'] = "10001 10001 10001 10001 10001 01010 00100",
        ['W'] = "10001 10001 10001 10101 10101 10101 01010", ['X'] = "10001 10001 01010 00100 01010 10001 10001",
        ['Y'] = "10001 10001 10001 01010 00100 00100 00100", ['Z'] = "11111 00001 00010 00100 01000 10000 11111",
        ['0'] = "01110 10001 10011 10101 11001 10001 01110", ['1'] = "00100 01100 00100 00100 00100 00100 01110",
        ['2'] = "01110 10001 00001 00010 00100 01000 11111", ['3'] = "11111 00010 00100 00010 00001 10001 01110",
        ['4'] = "00010 00110 01010 10010 11111 00010 00010", ['5'] = "11111 10000 11110 00001 00001 10001 01110",
        ['6'] = "00110 01000 10000 11110 10001 10001 01110", ['7'] = "11111 00001 00010 00100 01000 01000 01000",
        ['8'] = "01110 10001 10001 01110 10001 10001 01110", ['9'] = "01110 10001 10001 01111 00001 00010 01100",
        ['.'] = "00000 00000 00000 00000 00000 01100 01100", [','] = "00000 00000 00000 00000 01100 00100 01000",
        [':'] = "00000 01100 01100 00000 01100 01100 00000", ['-'] = "00000 00000 00000 11111 00000 00000 00000",
        ['('] = "00010 00100 01000 01000 01000 00100 00010", [')'] = "01000 00100 00010 00010 00010 00100 01000",
        ['='] = "00000 00000 11111 00000 11111 00000 00000", ['%'] = "11000 11001 00010 00100 01000 10011 00011",
        ['/'] = "00000 00001 00010 00100 01000 10000 00000", ['_'] = "00000 00000 00000 00000 00000 00000 11111",
        ['+'] = "00000 00100 00100 11111 00100 00100 00000", ['\''] = "01100 00100 01000 00000 00000 00000 00000",
        ['|'] = "00100 00100 00100 00100 00100 00100 00100", [' '] = "00000 00000 00000 00000 00000 00000 00000",
    };
}
