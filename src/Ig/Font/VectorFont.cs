namespace NativeIg.Ig;

/// <summary>
/// A proportional, anti-aliased font for the figures, with no native dependency: the outlines of
/// DejaVu Sans's letters, digits, punctuation and the symbols the figures use (α Σ Δ ′ × ± − …) are an
/// embedded resource (Font/dejavu-sans.glyphs, made by Font/make-glyphs.py), flattened to polygons once,
/// and filled per call with exact horizontal coverage on five sub-rows per pixel row.
/// </summary>
internal sealed class VectorFont
{
    private readonly Dictionary<int, Glyph> _glyphs;

    /// <summary>Font units per em, and the ascender and (negative) descender in font units.</summary>
    public int UnitsPerEm { get; }
    public int Ascender { get; }
    public int Descender { get; }

    private sealed record Glyph(int Advance, (float X, float Y)[][] Polygons);

    /// <summary>DejaVu Sans, loaded once.</summary>
    public static VectorFont Sans => s_sans.Value;

    private static readonly Lazy<VectorFont> s_sans = new(() =>
    {
        using var stream = typeof(VectorFont).Assembly.GetManifestResourceStream("NativeIg.Ig.dejavu-sans.glyphs")
            ?? throw new InvalidOperationException("The figures' font is missing from NativeIg.Ig (a broken build).");
        using var reader = new StreamReader(stream);
        return new VectorFont(reader.ReadToEnd());
    });

    private VectorFont(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split(' ');
        (UnitsPerEm, Ascender, Descender) = (int.Parse(header[0]), int.Parse(header[1]), int.Parse(header[2]));
        _glyphs = new Dictionary<int, Glyph>();
        foreach (var line in lines.Skip(1))
        {
            var parts = line.Split(' ', 3);
            var contours = parts.Length < 3 || parts[2].Length == 0 ? [] : parts[2].Split('|');
            _glyphs[int.Parse(parts[0])] = new Glyph(int.Parse(parts[1]), contours.Select(Flatten).ToArray());
        }
    }

    /// <summary>
    /// A TrueType contour ("x,y" on the curve, "x,y~" a quadratic control point; two controls in a row
    /// imply an on-curve point between them) as a closed polygon, each curve cut into 8 segments.
    /// </summary>
    private static (float X, float Y)[] Flatten(string contour)
    {
        var points = contour.Split(' ').Select(p =>
        {
            bool control = p.EndsWith('~');
            var xy = p.TrimEnd('~').Split(',');
            return (X: float.Parse(xy[0], System.Globalization.CultureInfo.InvariantCulture), Y: float.Parse(xy[1], System.Globalization.CultureInfo.InvariantCulture), On: !control);
        }).ToList();
        // Make every other point explicit: insert the implied on-curve midpoints, and start on the curve.
        var full = new List<(float X, float Y, bool On)>();
        for (int i = 0; i < points.Count; i++)
        {
            var p = points[i];
            var next = points[(i + 1) % points.Count];
            full.Add(p);
            if (!p.On && !next.On) full.Add(((p.X + next.X) / 2, (p.Y + next.Y) / 2, true));
        }
        int first = full.FindIndex(p => p.On);
        var ordered = full.Skip(first).Concat(full.Take(first)).ToList();
        var polygon = new List<(float, float)>();
        for (int i = 0; i < ordered.Count; i++)
        {
            var p = ordered[i];
            if (!p.On) continue;
            polygon.Add((p.X, p.Y));
            var q = ordered[(i + 1) % ordered.Count];
            if (q.On) continue;
            var r = ordered[(i + 2) % ordered.Count];
            const int segments = 8;
            for (int s = 1; s < segments; s++)
            {
                float t = s / (float)segments, u = 1 - t;
                polygon.Add((u * u * p.X + 2 * u * t * q.X + t * t * r.X, u * u * p.Y + 2 * u * t * q.Y + t * t * r.Y));
            }
        }
        return polygon.ToArray();
    }

    private Glyph GlyphOf(char c) => _glyphs.TryGetValue(c, out var g) ? g : _glyphs['?'];

    /// <summary>The advance width of <paramref name="text"/> at <paramref name="size"/> pixels per em.</summary>
    public float Measure(string text, float size) => text.Sum(c => GlyphOf(c).Advance) * size / UnitsPerEm;

    /// <summary>
    /// Fills <paramref name="text"/> onto <paramref name="canvas"/>, its baseline starting at (x, y), blending
    /// <paramref name="color"/> by coverage. <paramref name="vertical"/> turns it 90° anticlockwise (reading upwards).
    /// </summary>
    public void Draw(Canvas canvas, float x, float y, string text, float size, (byte R, byte G, byte B) color, bool vertical = false)
    {
        float scale = size / UnitsPerEm, pen = 0;
        var edges = new List<(float X0, float Y0, float X1, float Y1)>();
        foreach (char c in text)
        {
            var glyph = GlyphOf(c);
            foreach (var polygon in glyph.Polygons)
                for (int i = 0; i < polygon.Length; i++)
                {
                    var (ax, ay) = Place(polygon[i]);
                    var (bx, by) = Place(polygon[(i + 1) % polygon.Length]);
                    if (ay != by) edges.Add((ax, ay, bx, by));
                }
            pen += glyph.Advance * scale;

            (float, float) Place((float X, float Y) p)
            {
                float along = pen + p.X * scale, up = p.Y * scale; // font units: y points up from the baseline
                return vertical ? (x - up, y - along) : (x + along, y - up);
            }
        }
        Fill(canvas, edges, color);
    }

    /// <summary>Non-zero winding fill with anti-aliasing: 5 sub-rows per pixel row, exact coverage along each.</summary>
    private static void Fill(Canvas canvas, List<(float X0, float Y0, float X1, float Y1)> edges, (byte R, byte G, byte B) color)
    {
        if (edges.Count == 0) return;
        const int subRows = 5;
        int top = Math.Max(0, (int)MathF.Floor(edges.Min(e => MathF.Min(e.Y0, e.Y1))));
        int bottom = Math.Min(canvas.Height - 1, (int)MathF.Ceiling(edges.Max(e => MathF.Max(e.Y0, e.Y1))));
        int left = Math.Max(0, (int)MathF.Floor(edges.Min(e => MathF.Min(e.X0, e.X1))));
        int right = Math.Min(canvas.Width - 1, (int)MathF.Ceiling(edges.Max(e => MathF.Max(e.X0, e.X1))));
        if (top > bottom || left > right) return;
        var coverage = new float[right - left + 2];
        var crossings = new List<(float X, int Winding)>();
        for (int row = top; row <= bottom; row++)
        {
            Array.Clear(coverage);
            for (int s = 0; s < subRows; s++)
            {
                float sy = row + (s + 0.5f) / subRows;
                crossings.Clear();
                foreach (var e in edges)
                {
                    if ((sy < e.Y0) == (sy < e.Y1)) continue; // the sub-row does not cross this edge
                    float t = (sy - e.Y0) / (e.Y1 - e.Y0);
                    crossings.Add((e.X0 + t * (e.X1 - e.X0), e.Y1 > e.Y0 ? 1 : -1));
                }
                crossings.Sort((a, b) => a.X.CompareTo(b.X));
                int winding = 0;
                for (int i = 0; i + 1 < crossings.Count; i++)
                {
                    winding += crossings[i].Winding;
                    if (winding != 0) AddSpan(coverage, crossings[i].X - left, crossings[i + 1].X - left, 1f / subRows);
                }
            }
            for (int px = left; px <= right; px++)
            {
                float a = Math.Clamp(coverage[px - left], 0f, 1f);
                if (a <= 0) continue;
                var (r, g, b) = canvas[px, row];
                canvas.Set(px, row, ((byte)MathF.Round(r + (color.R - r) * a), (byte)MathF.Round(g + (color.G - g) * a), (byte)MathF.Round(b + (color.B - b) * a)));
            }
        }
    }

    /// <summary>Adds <paramref name="weight"/> × the covered fraction of each pixel between x0 and x1.</summary>
    private static void AddSpan(float[] coverage, float x0, float x1, float weight)
    {
        x0 = Math.Max(x0, 0); x1 = Math.Min(x1, coverage.Length - 1);
        if (x1 <= x0) return;
        int i0 = (int)x0, i1 = (int)x1;
        if (i0 == i1) { coverage[i0] += (x1 - x0) * weight; return; }
        coverage[i0] += (i0 + 1 - x0) * weight;
        for (int i = i0 + 1; i < i1; i++) coverage[i] += weight;
        coverage[i1] += (x1 - i1) * weight;
    }
}
