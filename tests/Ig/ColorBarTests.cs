using Xunit;

namespace NativeIg.Tests;

/// <summary>The figure's colour bar spans the mask's colour scale and carries its labels.</summary>
public class ColorBarTests
{
    [Fact]
    public void TheFigureHasAColourBarFromTheMapsLowToHighEnd()
    {
        using var image = TestUtil.RandomTensor(5, 16, 16, 3);
        using var baseline = NativeIg.Ig.Baselines.Black(16, 16, 3);
        var normalized = Enumerable.Range(0, 256).Select(i => i / 255f).ToArray();
        using var colored = NativeIg.Ig.Visualization.Colorize(normalized, 16, 16, NativeIg.Ig.Colormap.Inferno);
        using var overlay = NativeIg.Ig.Visualization.Overlay(image, colored);
        var plain = NativeIg.Ig.Visualization.TutorialFigure(baseline, image, colored, overlay, "t");
        var bar = new NativeIg.Ig.Visualization.ColorBar(NativeIg.Ig.Colormap.Inferno, 0f, 0.0031f, "SUM |ATTR|");
        var figure = NativeIg.Ig.Visualization.TutorialFigure(baseline, image, colored, overlay, "t", colorBar: bar);
        Assert.True(figure.Width > plain.Width, "no room was made for the colour bar");
        // Find the bar: the column right of the panels whose top is the map's high end and bottom its low end.
        int x = plain.Width + 4;
        var column = Enumerable.Range(0, figure.Height).Select(y => figure[x, y]).ToArray();
        int top = Array.FindIndex(column, c => c == NativeIg.Ig.Colormap.Inferno.Map(1f));
        int bottom = Array.FindLastIndex(column, c => c == NativeIg.Ig.Colormap.Inferno.Map(0f));
        Assert.True(top > 0 && bottom > top + 16, $"colour bar not found (top {top}, bottom {bottom})");
        // Its labels are drawn: dark text pixels right of the bar near both ends.
        bool Dark(int y0) => Enumerable.Range(x + 26, 60).Any(px => Enumerable.Range(Math.Max(0, y0 - 8), 16).Any(py => figure[px, py] == ((byte)0, (byte)0, (byte)0)));
        Assert.True(Dark(top), "no label at the top of the colour bar");
        Assert.True(Dark(bottom), "no label at the bottom of the colour bar");
    }

    [Fact]
    public void TheDisplayRangeIsTheClippedScale()
    {
        using var mask = NativeIg.Tensors.Tensor.FromSpan([0f, 1f, 2f, 100f], 2, 2);
        Assert.Equal((0f, 100f), NativeIg.Ig.Visualization.DisplayRange(mask));
        var (low, high) = NativeIg.Ig.Visualization.DisplayRange(mask, clipPercentile: 50);
        Assert.Equal(0f, low);
        Assert.Equal(1.5f, high, 5);
    }
}
