using NativeIg.Tensors;

namespace NativeIg.Ig;

/// <summary>The tutorial's pictures of attributions, and PAIR-style refinements (percentile clipping, signed masks).</summary>
public static class Visualization
{
    private static readonly (byte, byte, byte) Black = (0, 0, 0);
    private static readonly (byte, byte, byte) Blue = (31, 119, 180);

    /// <summary>Mask [H, W]: Σ over channels of |attr| (the tutorial), or Σ attr when <paramref name="signed"/>.</summary>
    public static Tensor AttributionMask(Tensor attributions, bool signed = false)
    {
        if (attributions.Rank != 3) throw new ArgumentException($"AttributionMask expects [H, W, C]; got {attributions.ShapeString}.");
        int h = attributions.Dim(0), w = attributions.Dim(1), c = attributions.Dim(2);
        var mask = Tensor.Zeros(h, w);
        var a = attributions.Span; var m = mask.Span;
        for (int p = 0; p < h * w; p++)
            for (int ch = 0; ch < c; ch++) m[p] += signed ? a[p * c + ch] : MathF.Abs(a[p * c + ch]);
        return mask;
    }

    /// <summary>
    /// Scales a mask for display: unsigned masks to [0, 1] by min–max (as matplotlib's imshow does),
    /// signed ones to [−1, 1] by max |v|; values beyond the <paramref name="clipPercentile"/>-th
    /// percentile of |v| (PAIR uses 99) are clipped first so a few hot pixels do not wash out the rest.
    /// </summary>
    public static float[] Normalize(Tensor mask, double? clipPercentile = null, bool signed = false)
    {
        var v = mask.ToArray();
        if (clipPercentile is { } pct)
        {
            if (pct is <= 0 or > 100) throw new ArgumentOutOfRangeException(nameof(clipPercentile), $"Percentile must be in (0, 100], got {pct}.");
            float limit = Percentile(v.Select(MathF.Abs).ToArray(), pct);
            for (int i = 0; i < v.Length; i++) v[i] = Math.Clamp(v[i], -limit, limit);
        }
        if (signed)
        {
            float maxAbs = v.Length == 0 ? 0 : v.Max(MathF.Abs);
            for (int i = 0; i < v.Length; i++) v[i] = maxAbs > 0 ? v[i] / maxAbs : 0;
            return v;
        }
        float min = v.Min(), max = v.Max();
        for (int i = 0; i < v.Length; i++) v[i] = max > min ? (v[i] - min) / (max - min) : 0;
        return v;
    }

    /// <summary>The p-th percentile with linear interpolation (NumPy's default).</summary>
    public static float Percentile(float[] values, double p)
    {
        if (values.Length == 0) return 0;
        var sorted = (float[])values.Clone();
        Array.Sort(sorted);
        double rank = p / 100 * (sorted.Length - 1);
        int lo = (int)Math.Floor(rank), hi = Math.Min(lo + 1, sorted.Length - 1);
        return (float)(sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo));
    }

    /// <summary>A normalised mask ([0, 1], or [−1, 1] when signed) as a colour image [H, W, 3].</summary>
    public static Tensor Colorize(float[] normalized, int height, int width, Colormap colormap, bool signed = false)
    {
        var rgb = Tensor.Uninitialized(height, width, 3);
        var s = rgb.Span;
        for (int p = 0; p < height * width; p++)
        {
            var (r, g, b) = colormap.Map(signed ? (normalized[p] + 1) / 2 : normalized[p]);
            s[3 * p] = r / 255f; s[3 * p + 1] = g / 255f; s[3 * p + 2] = b / 255f;
        }
        return rgb;
    }

    /// <summary>The tutorial's overlay: the coloured mask with the image drawn over it at <paramref name="imageAlpha"/> (0.4).</summary>
    public static Tensor Overlay(Tensor image, Tensor coloredMask, float imageAlpha = 0.4f)
    {
        Tensor.RequireSameShape(image, coloredMask, "Overlay (image vs mask)");
        if (imageAlpha is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(imageAlpha), "Alpha must be in [0, 1].");
        var result = Tensor.Uninitialized(image.Shape.ToArray());
        var a = image.Span; var m = coloredMask.Span; var r = result.Span;
        for (int i = 0; i < r.Length; i++) r[i] = imageAlpha * a[i] + (1 - imageAlpha) * m[i];
        return result;
    }

    /// <summary>The values at the two ends of the colour scale after <see cref="Normalize"/>: what a colour bar is labelled with.</summary>
    public static (float Low, float High) DisplayRange(Tensor mask, double? clipPercentile = null, bool signed = false)
    {
        var v = mask.ToArray();
        float limit = clipPercentile is { } pct ? Percentile(v.Select(MathF.Abs).ToArray(), pct) : float.PositiveInfinity;
        var clipped = v.Select(x => Math.Clamp(x, -limit, limit)).ToArray();
        if (clipped.Length == 0) return (0, 0);
        if (signed)
        {
            float maxAbs = clipped.Max(MathF.Abs);
            return (-maxAbs, maxAbs);
        }
        return (clipped.Min(), clipped.Max());
    }

    /// <summary>A colour scale for the figure: the colormap, the values at its ends, and what they measure.</summary>
    public sealed record ColorBar(Colormap Colormap, float Low, float High, string Label);

    /// <summary>
    /// The tutorial's 2×2 figure: baseline, original, attribution mask, overlay, each titled; with a
    /// <paramref name="colorBar"/>, a labelled colour scale beside the mask row.
    /// </summary>
    public static Canvas TutorialFigure(Tensor baseline, Tensor image, Tensor coloredMask, Tensor overlay, string? caption = null, int scale = 2, ColorBar? colorBar = null)
    {
        var (h, w) = PanelSize(image, scale);
        const int margin = 16, titleHeight = 30, barWidth = 24, barSpace = 170;
        int captionHeight = caption is null ? 0 : 30;
        var canvas = new Canvas(2 * w + 3 * margin + (colorBar is null ? 0 : barSpace), captionHeight + 2 * (h + titleHeight) + 3 * margin);
        if (caption is not null) canvas.TextCentered(canvas.Width / 2, margin, caption, Black);
        var panels = new[] { ("Baseline image", baseline), ("Original image", image), ("Attribution mask", coloredMask), ("Overlay", overlay) };
        for (int i = 0; i < 4; i++)
        {
            int x = margin + (i % 2) * (w + margin);
            int y = captionHeight + margin + (i / 2) * (h + titleHeight + margin);
            canvas.TextCentered(x + w / 2, y, panels[i].Item1, Black);
            DrawPanel(canvas, x, y + titleHeight, panels[i].Item2, scale);
        }
        if (colorBar is not null)
        {
            // The bar spans the mask row's height: top = High, bottom = Low, with both values and the quantity named.
            int x = 2 * w + 3 * margin, top = captionHeight + margin + h + titleHeight + margin + titleHeight;
            for (int row = 0; row < h; row++)
                canvas.Fill(x, top + row, barWidth, 1, colorBar.Colormap.Map(1f - row / (float)(h - 1)));
            int half = Canvas.TextHeight() / 2;
            canvas.Text(x + barWidth + 6, top - half, FormatScale(colorBar.High), Black);
            canvas.Text(x + barWidth + 6, top + h - half, FormatScale(colorBar.Low), Black);
            if (colorBar.Low < 0 && colorBar.High > 0)
            {
                // A signed scale: say which end is which, and where zero sits.
                canvas.Text(x + barWidth + 6, top + h / 2 - half, "0", Black);
                canvas.Text(x + barWidth + 6, top + 2 * half + 4, "positive", Black);
                canvas.Text(x + barWidth + 6, top + h - 4 * half - 4, "negative", Black);
            }
            canvas.Text(x, top - titleHeight, colorBar.Label, Black);
        }
        return canvas.Trimmed(margin);
    }

    /// <summary>
    /// The smallest height or width a picture is drawn at in a figure: a 28×28 or 32×32 model's pictures
    /// are scaled up smoothly to this, so that they can be seen and their titles fit above them.
    /// </summary>
    public const int MinimumPanelPixels = 224;

    /// <summary>The drawn size of <paramref name="picture"/> at <paramref name="scale"/>, at least <see cref="MinimumPanelPixels"/> on its shorter side.</summary>
    internal static (int Height, int Width) PanelSize(Tensor picture, int scale)
    {
        int h = picture.Dim(0) * scale, w = picture.Dim(1) * scale;
        int shorter = Math.Min(h, w);
        if (shorter >= MinimumPanelPixels || shorter == 0) return (h, w);
        double factor = (double)MinimumPanelPixels / shorter;
        return ((int)Math.Round(h * factor), (int)Math.Round(w * factor));
    }

    /// <summary>Draws a picture at its <see cref="PanelSize"/>: pixel-replicated when that is a whole multiple, else resized bilinearly (smooth, not blocky).</summary>
    internal static void DrawPanel(Canvas canvas, int x, int y, Tensor picture, int scale)
    {
        var (h, w) = PanelSize(picture, scale);
        if (h == picture.Dim(0) * scale && w == picture.Dim(1) * scale)
        {
            canvas.DrawImage(x, y, picture, scale);
            return;
        }
        using var resized = NativeIg.Tensors.IO.ImageLoader.ResizeBilinear(picture, h, w);
        canvas.DrawImage(x, y, resized, 1);
    }

    /// <summary>
    /// Pictures side by side, each titled (two lines when a title has a newline), with an optional caption
    /// above and one colour bar at the right, as tall as the pictures: the methods figure and single-map figures.
    /// </summary>
    public static Canvas PanelRow(IReadOnlyList<(string Title, Tensor Picture)> panels, string? caption = null, ColorBar? colorBar = null, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(panels);
        if (panels.Count == 0) throw new ArgumentException("A panel row needs at least one picture.", nameof(panels));
        var (h, pictureWidth) = PanelSize(panels[0].Picture, scale);
        const int margin = 16, barWidth = 24;
        int line = Canvas.TextHeight() + 4;
        // Each slot is as wide as its widest title line, so that no title runs into its neighbour's.
        int w = Math.Max(pictureWidth, panels.Max(p => p.Title.Split('\n').Max(l => Canvas.TextWidth(l))) + 8);
        var labelLines = colorBar?.Label.Split('\n') ?? [];
        // Titles and the bar's label share the band above the pictures; the band fits the tallest of them.
        int titleHeight = Math.Max(panels.Max(p => p.Title.Split('\n').Length), labelLines.Length) * line + 6;
        int captionHeight = caption is null ? 0 : line + 10;
        int barSpace = colorBar is null ? 0 : Math.Max(
            labelLines.Max(l => Canvas.TextWidth(l)),
            barWidth + 6 + Math.Max(Canvas.TextWidth(FormatScale(colorBar.High)), Canvas.TextWidth(FormatScale(colorBar.Low)))) + margin;
        var canvas = new Canvas(panels.Count * (w + margin) + margin + barSpace, captionHeight + titleHeight + h + 2 * margin);
        if (caption is not null) canvas.TextCentered(canvas.Width / 2, margin, caption, Black);
        int top = captionHeight + margin + titleHeight;
        for (int i = 0; i < panels.Count; i++)
        {
            int x = margin + i * (w + margin);
            var lines = panels[i].Title.Split('\n');
            for (int l = 0; l < lines.Length; l++) canvas.TextCentered(x + w / 2, top - titleHeight + l * line, lines[l], Black);
            DrawPanel(canvas, x + (w - pictureWidth) / 2, top, panels[i].Picture, scale);
        }
        if (colorBar is not null)
        {
            int x = panels.Count * (w + margin) + margin;
            for (int row = 0; row < h; row++)
                canvas.Fill(x, top + row, barWidth, 1, colorBar.Colormap.Map(1f - row / (float)(h - 1)));
            canvas.Text(x + barWidth + 6, top, FormatScale(colorBar.High), Black);
            canvas.Text(x + barWidth + 6, top + h - Canvas.TextHeight(), FormatScale(colorBar.Low), Black);
            for (int l = 0; l < labelLines.Length; l++)
                canvas.Text(x, top - titleHeight + l * line, labelLines[l], Black);
        }
        return canvas.Trimmed(margin);
    }

    /// <summary>An attribution map [H, W, C] as a colour picture [H, W, 3]: Σ|attributions| over channels, clipped at the percentile, scaled to [0, 1].</summary>
    public static Tensor ColorMap(Tensor attributions, Colormap colormap, double? clipPercentile = 99)
    {
        using var mask = attributions.Rank == 2 ? attributions.Clone() : AttributionMask(attributions);
        var normalized = Normalize(mask, clipPercentile);
        return Colorize(normalized, mask.Dim(0), mask.Dim(1), colormap);
    }

    /// <summary>The image where <paramref name="keep"/> is true and a dim grey (a quarter of it) elsewhere: XRAI's "top k%" picture.</summary>
    public static Tensor Highlight(Tensor image, IReadOnlyList<bool> keep)
    {
        ArgumentNullException.ThrowIfNull(keep);
        int pixels = image.Dim(0) * image.Dim(1);
        if (keep.Count != pixels) throw new ArgumentException($"The mask has {keep.Count} values for {pixels} pixels.", nameof(keep));
        var result = image.Clone();
        var r = result.Span;
        for (int p = 0; p < pixels; p++)
            if (!keep[p])
                for (int k = 0; k < 3; k++) r[3 * p + k] = 0.25f * r[3 * p + k] + 0.1f;
        return result;
    }

    /// <summary>A scale value with a typographic minus sign (U+2212), as plots print it.</summary>
    private static string FormatScale(float v) =>
        (v == 0 ? "0" : Math.Abs(v) >= 0.01 && Math.Abs(v) < 1000 ? v.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)
        : v.ToString("0.0E+0", System.Globalization.CultureInfo.InvariantCulture)).Replace('-', '−');

    /// <summary>
    /// The tutorial's saturation plots side by side: F (target probability) over alpha, and the mean
    /// path gradient normalised to [0, 1] over alpha.
    /// </summary>
    public static Canvas SaturationPlots(IReadOnlyList<double> alphas, IReadOnlyList<double> values, IReadOnlyList<double> meanGradients, string valueLabel = "Model p(target class)")
    {
        var canvas = new Canvas(1300, 480); // room for the right plot's title (48 characters) inside the margin
        double gMin = meanGradients.Min(), gMax = meanGradients.Max();
        var normalized = meanGradients.Select(g => gMax > gMin ? (g - gMin) / (gMax - gMin) : 0).ToArray();
        double vMin = Math.Min(0, values.Min()), vMax = Math.Max(values.Max(), vMin + 1e-12);
        if (vMin >= 0 && vMax <= 1) (vMin, vMax) = (0, 1);
        var (low, high, step) = NiceTicks(vMin, vMax);
        // The tutorial's title for probabilities; the value's own name for anything else (a logit).
        string title = valueLabel == "Model p(target class)" ? "Target class probability over alpha" : $"{valueLabel} over alpha";
        Plot(canvas, 100, 50, 500, 340, alphas, values, low, high, step, title, valueLabel);
        Plot(canvas, 720, 50, 500, 340, alphas, normalized, 0, 1, 0.2, "Average pixel gradients over alpha (normalized)", "Average pixel gradients");
        return canvas.Trimmed(16);
    }

    /// <summary>
    /// An axis range that covers [min, max] with ticks at round values (1, 2, 2.5 or 5 × 10^k apart,
    /// about five of them): a logit axis reads 0, 2, 4, … rather than 1.69, 3.37, ….
    /// </summary>
    public static (double Low, double High, double Step) NiceTicks(double min, double max, int about = 5)
    {
        // A NaN or an infinity has no round ticks; the axis is then [0, 1] rather than a crash in a figure.
        if (!double.IsFinite(min) || !double.IsFinite(max) || Math.Abs(max - min) > 1e300) (min, max) = (0, 1);
        if (about < 1) about = 5;
        if (!(max > min)) max = min + 1;
        double raw = (max - min) / about;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1, 2, 2.5, 5, 10 }.Select(f => f * magnitude).First(s => s >= raw * 0.999);
        double low = Math.Floor(min / step + 1e-9) * step, high = Math.Ceiling(max / step - 1e-9) * step;
        return (low, high, step);
    }

    /// <summary>
    /// A function of one variable on [0, 1] and its gradient, side by side (the tutorial's toy:
    /// f(x) = min(x, 0.8), whose gradient is 1 up to 0.8 and 0 after it). docs/backprop.md shows the
    /// picture samples/saturating-function.cs draws with this.
    /// </summary>
    public static Canvas FunctionAndGradientPlots(IReadOnlyList<double> xs, IReadOnlyList<double> values, IReadOnlyList<double> gradients,
        string functionTitle, string gradientTitle, string xLabel = "x")
    {
        if (xs.Count != values.Count || xs.Count != gradients.Count || xs.Count < 2)
            throw new ArgumentException($"FunctionAndGradientPlots: {xs.Count} x values, {values.Count} values and {gradients.Count} gradients; need the same number, at least 2.");
        if (xs.Any(x => x is < 0 or > 1)) throw new ArgumentException("FunctionAndGradientPlots: x must lie in [0, 1].");
        var canvas = new Canvas(1300, 480);
        var (low, high, step) = NiceTicks(Math.Min(0, values.Min()), Math.Max(values.Max(), 1e-12));
        Plot(canvas, 100, 50, 500, 340, xs, values, low, high, step, functionTitle, "f(x)", xLabel);
        var (gLow, gHigh, gStep) = NiceTicks(Math.Min(0, gradients.Min()), Math.Max(gradients.Max(), 1e-12));
        Plot(canvas, 720, 50, 500, 340, xs, gradients, gLow, gHigh, gStep, gradientTitle, "df/dx", xLabel);
        return canvas.Trimmed(16);
    }

    private static void Plot(Canvas c, int x0, int y0, int w, int h, IReadOnlyList<double> xs, IReadOnlyList<double> ys, double yMin, double yMax, double yStep, string title, string yLabel, string xLabel = "Alpha")
    {
        c.TextCentered(x0 + w / 2, y0 - 36, title, Black);
        c.Line(x0, y0 + h, x0 + w, y0 + h, Black);
        c.Line(x0, y0, x0, y0 + h, Black);
        c.Line(x0 + w, y0, x0 + w, y0 + h, Black);
        c.Line(x0, y0, x0 + w, y0, Black);
        for (int t = 0; t <= 5; t++)
        {
            int px = x0 + t * w / 5;
            c.Line(px, y0 + h, px, y0 + h + 5, Black);
            c.TextCentered(px, y0 + h + 10, (t / 5.0).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture), Black);
        }
        // Y ticks at the round values NiceTicks chose, labelled with only the decimals the step needs.
        int ticks = (int)Math.Round((yMax - yMin) / yStep);
        int decimals = 0;
        while (decimals < 6 && Math.Abs(yStep * Math.Pow(10, decimals) - Math.Round(yStep * Math.Pow(10, decimals))) > 1e-6) decimals++;
        for (int t = 0; t <= ticks; t++)
        {
            int py = y0 + h - (int)Math.Round((double)t / ticks * h);
            c.Line(x0 - 5, py, x0, py, Black);
            string label = (yMin + t * yStep).ToString("F" + decimals, System.Globalization.CultureInfo.InvariantCulture).Replace('-', '−');
            c.Text(x0 - 10 - Canvas.TextWidth(label), py - Canvas.TextHeight() / 2, label, Black);
        }
        c.TextCentered(x0 + w / 2, y0 + h + 34, xLabel, Black);
        c.TextVertical(x0 - 78, y0 + h / 2 + Canvas.TextWidth(yLabel) / 2, yLabel, Black);
        int? lastX = null, lastY = null;
        for (int i = 0; i < xs.Count; i++)
        {
            int px = x0 + (int)Math.Round(xs[i] * w);
            int py = y0 + h - (int)Math.Round((ys[i] - yMin) / (yMax - yMin) * h);
            py = Math.Clamp(py, y0, y0 + h);
            if (lastX is not null) c.Line(lastX.Value, lastY!.Value, px, py, Blue, 3);
            (lastX, lastY) = (px, py);
        }
    }

    /// <summary>The tutorial's strip of interpolated images at the given alphas (default 0, 0.2, …, 1).</summary>
    public static Canvas InterpolationStrip(Tensor baseline, Tensor image, double[]? alphas = null)
    {
        alphas ??= [0, 0.2, 0.4, 0.6, 0.8, 1.0];
        using var path = IntegratedGradients.InterpolateImages(baseline, image, alphas);
        var (h, w) = PanelSize(image, 1);
        const int margin = 12, titleHeight = 28;
        var canvas = new Canvas(alphas.Length * (w + margin) + margin, h + titleHeight + 2 * margin);
        for (int k = 0; k < alphas.Length; k++)
        {
            int x = margin + k * (w + margin);
            canvas.TextCentered(x + w / 2, margin, $"alpha: {alphas[k]:0.0}", Black);
            using var one = path.SliceBatch(k, 1);
            using var view = one.Reshape(image.Dim(0), image.Dim(1), 3);
            DrawPanel(canvas, x, margin + titleHeight, view, 1);
        }
        return canvas.Trimmed(margin);
    }

    /// <summary>
    /// The letterbox <see cref="NativeIg.Tensors.IO.ImageLoader.ResizeWithPad"/> adds around a non-square image: the rows at the top
    /// and bottom and the columns at the left and right that are exactly black in every channel. true = padding.
    /// </summary>
    internal static bool[] Padding(Tensor image)
    {
        int h = image.Dim(0), w = image.Dim(1), c = image.Dim(2);
        var s = image.ToArray();
        bool RowBlack(int y) { for (int i = y * w * c; i < (y + 1) * w * c; i++) if (s[i] != 0) return false; return true; }
        bool ColumnBlack(int x) { for (int y = 0; y < h; y++) for (int k = 0; k < c; k++) if (s[(y * w + x) * c + k] != 0) return false; return true; }
        int top = 0, bottom = h - 1, left = 0, right = w - 1;
        while (top <= bottom && RowBlack(top)) top++;
        while (bottom >= top && RowBlack(bottom)) bottom--;
        while (left <= right && ColumnBlack(left)) left++;
        while (right >= left && ColumnBlack(right)) right--;
        var padding = new bool[h * w];
        if (top > bottom) return padding; // an all-black image is content, not padding
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) padding[y * w + x] = y < top || y > bottom || x < left || x > right;
        return padding;
    }

    /// <summary>Paints the padding pixels of an [H, W, 3] picture with <paramref name="color"/> (RGB in [0, 1]).</summary>
    internal static void PaintPadding(Tensor picture, bool[] padding, (float R, float G, float B) color)
    {
        var s = picture.Span;
        for (int p = 0; p < padding.Length; p++)
            if (padding[p]) (s[3 * p], s[3 * p + 1], s[3 * p + 2]) = color;
    }

    /// <summary>An [H, W, 3] image in [0, 1] as a PNG (written atomically).</summary>
    public static void SavePng(Tensor image, string path) => ToCanvas(image).SavePng(path);

    /// <summary>An [H, W, 3] image in [0, 1] on a canvas of its size.</summary>
    public static Canvas ToCanvas(Tensor image)
    {
        var canvas = new Canvas(image.Dim(1), image.Dim(0));
        canvas.DrawImage(0, 0, image);
        return canvas;
    }
}
