using NativeIg.Ig;
using NativeIg.Tensors;
using Xunit;

namespace NativeIg.Tests;

/// <summary>
/// The pictures the README shows (docs/images/regenerate.sh draws them with the same code), checked by
/// what they must show rather than by their bytes: their size, text where every title is, a colour bar
/// that spans the mask from its top colour to its bottom colour, the signed map's legend, and the padding
/// of a non-square image outside the signed map.
/// </summary>
public class ReadmeFigureTests
{
    private static readonly (byte, byte, byte) White = (255, 255, 255);
    private static readonly (byte R, byte G, byte B) Photo = ((byte)51, (byte)204, (byte)77); // the synthetic photo's colour

    /// <summary>A 224² "photo" of one colour (letterboxed: 16 black rows at the top and bottom) and a result whose attributions vary.</summary>
    private static (Tensor Image, Tensor Baseline, IgResult Result) Synthetic(TargetOutput output)
    {
        var image = Tensor.Zeros(224, 224, 3);
        var s = image.Span;
        for (int y = 16; y < 208; y++)
            for (int x = 0; x < 224; x++) (s[(y * 224 + x) * 3], s[(y * 224 + x) * 3 + 1], s[(y * 224 + x) * 3 + 2]) = (Photo.R / 255f, Photo.G / 255f, Photo.B / 255f);
        var attributions = TestUtil.RandomTensor(7, 224, 224, 3);
        var a = attributions.Span;
        for (int i = 0; i < a.Length; i++) a[i] -= 0.5f; // both signs
        double[] alphas = [0, 0.25, 0.5, 0.75, 1];
        var result = new IgResult
        {
            Attributions = attributions, Target = 388, Output = output, Rule = IntegrationRule.Trapezoid, Steps = 4,
            FInput = output == TargetOutput.Logit ? 27 : 0.99, FBaseline = output == TargetOutput.Logit ? -3 : 0.001,
            Alphas = alphas, PathValues = output == TargetOutput.Logit ? [-3, 10, 20, 25, 27] : [0.001, 0.6, 0.9, 0.98, 0.99],
            MeanPathGradients = [0.4, 0.3, 0.2, 0.1, 0.05], Elapsed = TimeSpan.FromSeconds(1), GradientTime = TimeSpan.FromSeconds(1),
        };
        return (image, Tensor.Zeros(224, 224, 3), result);
    }

    private static (byte R, byte G, byte B)[,] Draw(bool signed, TargetOutput output, string file)
    {
        var (image, baseline, result) = Synthetic(output);
        using (image) using (baseline) using (result)
        {
            var dir = TestUtil.TempDir();
            var paths = ExplanationFiles.Write(dir, result, image, baseline, "IG for 'giant panda' (388), 4 steps", clipPercentile: 99, signed: signed);
            return Pixels(file == "figure" ? paths.Figure : paths.Saturation);
        }
    }

    /// <summary>A PNG's pixels as bytes, indexed [x, y].</summary>
    private static (byte R, byte G, byte B)[,] Pixels(string png)
    {
        using var image = ImageLoader.Load(png);
        int h = image.Dim(0), w = image.Dim(1);
        var pixels = new (byte, byte, byte)[w, h];
        var p = image.Span;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                pixels[x, y] = ((byte)MathF.Round(p[(y * w + x) * 3] * 255), (byte)MathF.Round(p[(y * w + x) * 3 + 1] * 255), (byte)MathF.Round(p[(y * w + x) * 3 + 2] * 255));
        return pixels;
    }

    /// <summary>The bounding box of the pixels equal to <paramref name="color"/> within [x0, x1).</summary>
    private static (int Left, int Top, int Right, int Bottom) Box((byte, byte, byte)[,] px, (byte, byte, byte) color, int x0 = 0, int x1 = int.MaxValue)
    {
        int left = int.MaxValue, top = int.MaxValue, right = -1, bottom = -1;
        for (int y = 0; y < px.GetLength(1); y++)
            for (int x = x0; x < Math.Min(x1, px.GetLength(0)); x++)
                if (px[x, y] == color) { left = Math.Min(left, x); right = Math.Max(right, x); top = Math.Min(top, y); bottom = Math.Max(bottom, y); }
        return (left, top, right, bottom);
    }

    /// <summary>Pixels dark enough to be text (anti-aliased black) in a rectangle.</summary>
    private static int Ink((byte R, byte G, byte B)[,] px, int left, int top, int right, int bottom)
    {
        int ink = 0;
        for (int y = Math.Max(0, top); y <= Math.Min(px.GetLength(1) - 1, bottom); y++)
            for (int x = Math.Max(0, left); x <= Math.Min(px.GetLength(0) - 1, right); x++)
                if (px[x, y].R + px[x, y].G + px[x, y].B < 300) ink++;
        return ink;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheFigureHasItsTitlesAndAColourBarThatSpansTheMask(bool signed)
    {
        var px = Draw(signed, TargetOutput.Probability, "figure");
        int width = px.GetLength(0), height = px.GetLength(1);
        // Four 448² panels (scale 2) and a colour bar: the trimmed figure is a little larger than 2 × 2 panels.
        Assert.InRange(width, 2 * 448 + 100, 2 * 448 + 260);
        Assert.InRange(height, 2 * 448 + 80, 2 * 448 + 200);
        Assert.Equal(White, px[0, 0]);
        Assert.Equal(White, px[width - 1, height - 1]);

        var photo = Box(px, Photo);                 // the original image panel (top right), its letterbox excluded
        Assert.Equal(447, photo.Right - photo.Left);
        Assert.Equal(2 * 192 - 1, photo.Bottom - photo.Top);
        // The layout: 448² panels, 16 px margins, 30 px titles; the baseline panel is left of the photo, the mask row below.
        const int panel = 448, margin = 16, title = 30;
        int panelTop = photo.Top - 2 * 16, baseLeft = photo.Left - panel - margin, maskTop = panelTop + panel + margin + title;
        Assert.True(Ink(px, photo.Left, panelTop - title, photo.Right, panelTop - 1) > 40, "no title above the original image");
        Assert.True(Ink(px, baseLeft, panelTop - title, baseLeft + panel - 1, panelTop - 1) > 40, "no title above the baseline");
        Assert.True(Ink(px, photo.Left, maskTop - title, photo.Right, maskTop - 1) > 40, "no title above the overlay");
        Assert.True(Ink(px, 0, 0, width - 1, panelTop - 32) > 60, "no caption");

        // The colour bar: right of the overlay, exactly as tall as the mask row, top = the map's high end, bottom = its low end.
        var map = signed ? Colormap.Diverging : Colormap.Inferno;
        int barX = photo.Right + 1 + margin + 4;
        Assert.Equal(map.Map(1f), px[barX, maskTop]);
        Assert.Equal(map.Map(0f), px[barX, maskTop + panel - 1]);
        Assert.Equal(White, px[barX, maskTop - 1]);
        Assert.Equal(White, px[barX, maskTop + panel]);
        Assert.True(Ink(px, barX + 26, maskTop - 12, width - 1, maskTop + 12) > 10, "no value at the bar's top");
        Assert.True(Ink(px, barX + 26, maskTop + panel - 14, width - 1, Math.Min(height - 1, maskTop + panel + 12)) > 10, "no value at the bar's bottom");
        if (signed)
        {
            Assert.True(Ink(px, barX + 26, maskTop + 14, width - 1, maskTop + 60) > 30, "no 'positive' legend");
            Assert.True(Ink(px, barX + 26, maskTop + panel - 70, width - 1, maskTop + panel - 16) > 30, "no 'negative' legend");
            // The letterbox is outside the signed map: white there, the map's colours inside.
            Assert.Equal(White, px[baseLeft + 10, maskTop + 10]);
            Assert.NotEqual(White, px[baseLeft + 10, maskTop + 2 * 16 + 10]);
        }
    }

    [Fact]
    public void TheLogitSaturationPlotIsTitledForTheLogitAndDrawsBothCurves()
    {
        var px = Draw(false, TargetOutput.Logit, "saturation");
        int width = px.GetLength(0), height = px.GetLength(1);
        Assert.InRange(width, 1000, 1300);
        Assert.InRange(height, 380, 480);
        Assert.True(Ink(px, 0, 0, width / 2, 30) > 60, "no title over the left plot");
        Assert.True(Ink(px, width / 2, 0, width - 1, 30) > 60, "no title over the right plot");
        var blue = ((byte)31, (byte)119, (byte)180);
        Assert.True(Box(px, blue, 0, width / 2).Right > 0, "no curve in the left plot");
        Assert.True(Box(px, blue, width / 2).Right > 0, "no curve in the right plot");
    }

    [Fact]
    public void ThePanelRowOfTheMethodsFigurePlacesEveryPictureUnderItsTitleBesideOneColourBar()
    {
        // Four flat pictures of known colours, one title of two lines, and an inferno bar.
        (byte R, byte G, byte B)[] colours = [(200, 30, 30), (30, 160, 60), (40, 60, 200), (210, 120, 220)]; // no grey: text is anti-aliased grey
        var pictures = colours.Select(c =>
        {
            var t = Tensor.Zeros(64, 64, 3);
            var s = t.Span;
            for (int p = 0; p < 64 * 64; p++) (s[3 * p], s[3 * p + 1], s[3 * p + 2]) = (c.R / 255f, c.G / 255f, c.B / 255f);
            return t;
        }).ToArray();
        var canvas = Visualization.PanelRow([("Original", pictures[0]), ("IG\nΔ 1.06%", pictures[1]), ("Blur IG\nΔ 0.77%", pictures[2]), ("XRAI", pictures[3])],
            "caption", new Visualization.ColorBar(Colormap.Inferno, 0, 1, "Σ|attributions|,\nclipped"));
        foreach (var t in pictures) t.Dispose();
        var px = new (byte, byte, byte)[canvas.Width, canvas.Height];
        for (int y = 0; y < canvas.Height; y++) for (int x = 0; x < canvas.Width; x++) px[x, y] = canvas[x, y];
        var boxes = colours.Select(c => Box(px, c)).ToArray();
        // 64-px pictures are drawn at the minimum panel size (smoothly scaled up), each in a slot as wide as its title.
        Assert.All(boxes, b => Assert.Equal((Visualization.MinimumPanelPixels - 1, Visualization.MinimumPanelPixels - 1), (b.Right - b.Left, b.Bottom - b.Top)));
        Assert.All(boxes, b => Assert.Equal(boxes[0].Top, b.Top));
        for (int i = 1; i < boxes.Length; i++) Assert.True(boxes[i].Left > boxes[i - 1].Right, "pictures side by side, in order");
        int line = Canvas.TextHeight();
        foreach (var b in boxes) Assert.True(Ink(px, b.Left, b.Top - 2 * line - 10, b.Right, b.Top - 1) > 20, "a title above each picture");
        // The bar spans the pictures' height: the map's top colour at their top row, its bottom colour at their bottom row.
        var top = Box(px, Colormap.Inferno.Map(1f), boxes[^1].Right + 1);
        var bottom = Box(px, Colormap.Inferno.Map(0f), boxes[^1].Right + 1);
        Assert.Equal(boxes[0].Top, top.Top);
        Assert.Equal(boxes[0].Bottom, bottom.Bottom);
        Assert.True(Ink(px, top.Left, boxes[0].Top - 2 * line - 10, canvas.Width - 1, boxes[0].Top - 1) > 20, "the bar's label above it");
        Assert.True(Ink(px, top.Right + 1, boxes[0].Top, canvas.Width - 1, boxes[0].Bottom) > 10, "the bar's values beside it");
        Assert.Equal(0, Ink(px, boxes[0].Left, boxes[0].Bottom + 1, canvas.Width - 1, canvas.Height - 1)); // nothing drawn below
    }

    [Theory]
    [InlineData(28)]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(224)]
    [InlineData(512)]
    public void EveryInputSizeGetsPanelsOfAReadableSizeWithTitlesThatFit(int size)
    {
        using var image = Tensor.Filled(0f, size, size, 3);
        var s = image.Span;
        for (int i = 0; i < s.Length; i += 3) (s[i], s[i + 1], s[i + 2]) = (Photo.R / 255f, Photo.G / 255f, Photo.B / 255f);
        using var baseline = Tensor.Zeros(size, size, 3);
        var attributions = TestUtil.RandomTensor(3, size, size, 3);
        using var result = new IgResult
        {
            Attributions = attributions, Target = 1, Output = TargetOutput.Probability, Rule = IntegrationRule.Trapezoid, Steps = 2,
            FInput = 0.9, FBaseline = 0.1, Alphas = [0, 0.5, 1], PathValues = [0.1, 0.5, 0.9], MeanPathGradients = [0.1, 0.1, 0.1],
            Elapsed = TimeSpan.FromSeconds(1), GradientTime = TimeSpan.FromSeconds(1),
        };
        var paths = ExplanationFiles.Write(TestUtil.TempDir(), result, image, baseline, $"IG on a {size}×{size} model");
        foreach (var (file, scale) in new[] { (paths.Figure, 2), (paths.Interpolation, 1) })
        {
            var px = Pixels(file);
            int w = px.GetLength(0), h = px.GetLength(1);
            // The photo's panel (the last one of the strip is the photo itself): drawn at least 224 px, or at its scale when larger.
            var box = Box(px, Photo, x0: file == paths.Interpolation ? w / 2 : 0);
            int expected = Math.Max(Visualization.MinimumPanelPixels, size * scale);
            Assert.InRange(box.Right - box.Left + 1, expected - 2, expected + 2);
            Assert.InRange(box.Bottom - box.Top + 1, expected - 2, expected + 2);
            // Its title sits above it, inside its width, and no title ink touches the picture's edge (nothing is clipped).
            Assert.True(Ink(px, box.Left, box.Top - 30, box.Right, box.Top - 2) > 20, $"{Path.GetFileName(file)} at {size}: no title above the photo");
            Assert.Equal(0, Ink(px, 0, 0, 0, h - 1));
        }
    }
}
