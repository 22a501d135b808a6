using StbImageWriteSharp;
using NativeIg.Tensors;

namespace NativeIg.Ig;

/// <summary>
/// An RGB8 raster with just enough drawing for IG's figures: images, filled rectangles, lines and
/// anti-aliased proportional text (DejaVu Sans outlines, built in), written as PNG.
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

    /// <summary>The text size of the figures' titles and labels, in pixels per em.</summary>
    public const float DefaultTextSize = 18f;

    /// <summary>Width in pixels of <paramref name="text"/> at <paramref name="size"/> pixels per em (rounded up).</summary>
    public static int TextWidth(string text, float size = DefaultTextSize) => (int)MathF.Ceiling(VectorFont.Sans.Measure(text, size));

    /// <summary>Height in pixels of a line of text at <paramref name="size"/>: from the tallest ascender to the lowest descender.</summary>
    public static int TextHeight(float size = DefaultTextSize) => (int)MathF.Ceiling((VectorFont.Sans.Ascender - VectorFont.Sans.Descender) * size / VectorFont.Sans.UnitsPerEm);

    private static float Ascent(float size) => VectorFont.Sans.Ascender * size / VectorFont.Sans.UnitsPerEm;

    /// <summary>
    /// Text with the top-left of its line box at (x, y), in DejaVu Sans (proportional, anti-aliased; letters,
    /// digits, punctuation and α Σ Δ ′ × ± − · … ° µ ≤ ≥ ≈ ∫; other characters draw as '?').
    /// </summary>
    public void Text(int x, int y, string text, (byte R, byte G, byte B) c, float size = DefaultTextSize) =>
        VectorFont.Sans.Draw(this, x, y + Ascent(size), text, size, c);

    /// <summary>Text centred horizontally on <paramref name="centerX"/>.</summary>
    public void TextCentered(int centerX, int y, string text, (byte R, byte G, byte B) c, float size = DefaultTextSize) =>
        VectorFont.Sans.Draw(this, centerX - VectorFont.Sans.Measure(text, size) / 2, y + Ascent(size), text, size, c);

    /// <summary>Text turned 90° anticlockwise (reading bottom to top), for a y-axis label; (x, y) is the bottom-left of its line box.</summary>
    public void TextVertical(int x, int y, string text, (byte R, byte G, byte B) c, float size = DefaultTextSize) =>
        VectorFont.Sans.Draw(this, x + Ascent(size), y, text, size, c, vertical: true);

    /// <summary>
    /// A copy cropped to what differs from the background (the top-left pixel's colour) plus
    /// <paramref name="margin"/> pixels on each side, so figures carry no empty borders.
    /// </summary>
    public Canvas Trimmed(int margin = 12)
    {
        var background = this[0, 0];
        int top = Height, bottom = -1, left = Width, right = -1;
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
                if (this[x, y] != background)
                {
                    top = Math.Min(top, y); bottom = Math.Max(bottom, y);
                    left = Math.Min(left, x); right = Math.Max(right, x);
                }
        if (bottom < 0) return this;
        int x0 = Math.Max(0, left - margin), y0 = Math.Max(0, top - margin);
        int x1 = Math.Min(Width - 1, right + margin), y1 = Math.Min(Height - 1, bottom + margin);
        var trimmed = new Canvas(x1 - x0 + 1, y1 - y0 + 1, background);
        for (int y = y0; y <= y1; y++)
            Array.Copy(Pixels, (y * Width + x0) * 3, trimmed.Pixels, (y - y0) * trimmed.Width * 3, trimmed.Width * 3);
        return trimmed;
    }

    /// <summary>Writes the PNG atomically (a temporary name, then a rename).</summary>
    public void SavePng(string path) => NativeIg.Tensors.IO.AtomicFiles.WriteOne(path, WritePng);

    /// <summary>The PNG bytes to a stream.</summary>
    public void WritePng(Stream stream) => new ImageWriter().WritePng(Pixels, Width, Height, ColorComponents.RedGreenBlue, stream);

    private static byte ToByte(float v) => (byte)Math.Clamp(MathF.Round(v * 255f), 0f, 255f);
}
