using Xunit;

namespace NativeIg.Tests;

/// <summary>Pictures that read well: round ticks, titles that follow the output kind, no stray rules.</summary>
public class PictureTests
{
    [Theory]
    [InlineData(0, 1, 0, 1, 0.2)]
    [InlineData(0, 8.43, 0, 10, 2)]
    [InlineData(-3.2, 7.9, -5, 10, 2.5)]
    [InlineData(0, 0.0031, 0, 0.004, 0.001)]
    [InlineData(0, 12.5, 0, 12.5, 2.5)]
    public void TicksFallOnRoundValues(double min, double max, double low, double high, double step)
    {
        var ticks = NativeIg.Ig.Visualization.NiceTicks(min, max);
        Assert.Equal(step, ticks.Step, 9);
        Assert.Equal(low, ticks.Low, 9);
        Assert.Equal(high, ticks.High, 9);
    }

    [Fact]
    public void TheSaturationTitleFollowsTheOutputKind()
    {
        double[] alphas = [0, 0.5, 1], values = [0.5, 3.1, 8.4], gradients = [0.3, 0.2, 0.1];
        var probability = NativeIg.Ig.Visualization.SaturationPlots(alphas, [0.1, 0.6, 0.9], gradients);
        var logit = NativeIg.Ig.Visualization.SaturationPlots(alphas, values, gradients, "Target logit");
        // The left plot's title band (y 8…24) differs: "Target class probability over alpha" vs "Target logit over alpha".
        bool differs = false;
        for (int y = 8; y < 24 && !differs; y++)
            for (int x = 100; x < 600 && !differs; x++)
                differs = probability[x, y] != logit[x, y];
        Assert.True(differs, "the logit plot kept the probability title");
    }

    [Fact]
    public void FunctionAndGradientPlotsDrawTheGradientsDropAndRefuseMismatchedInputs()
    {
        // min(x, 0.8) on 11 points: the gradient line sits at the top of the right plot up to x = 0.8, then at its bottom.
        var xs = Enumerable.Range(0, 11).Select(i => i / 10.0).ToArray();
        var f = xs.Select(x => Math.Min(x, 0.8)).ToArray();
        var g = xs.Select(x => x <= 0.8 ? 1.0 : 0.0).ToArray();
        var canvas = NativeIg.Ig.Visualization.FunctionAndGradientPlots(xs, f, g, "f", "df/dx");
        // Cropped to its content: two 500 × 340 plots side by side with their titles, ticks and labels.
        Assert.InRange(canvas.Width, 1100, 1300);
        Assert.InRange(canvas.Height, 400, 480);
        // The right plot's frame: the first column right of the middle with a 340 px black run.
        int frameLeft = -1, frameTop = -1;
        for (int x = canvas.Width / 2; x < canvas.Width && frameLeft < 0; x++)
            for (int y = 0, run = 0; y < canvas.Height; y++)
            {
                run = canvas[x, y] == (0, 0, 0) ? run + 1 : 0;
                if (run == 341) { frameLeft = x; frameTop = y - 340; break; }
            }
        Assert.True(frameLeft > 0, "no frame for the right plot");
        // The line is blue (drawn 3 px wide): at the top of the plot up to x = 0.8, at its bottom after.
        bool IsLine(int x, int y) => Enumerable.Range(-2, 5).Any(d => canvas[x, y + d] is var c && c.B > 150 && c.R < 100);
        Assert.True(IsLine(frameLeft + 250, frameTop), "gradient 1 at x = 0.5");
        Assert.True(IsLine(frameLeft + 475, frameTop + 340), "gradient 0 at x = 0.95");
        Assert.False(IsLine(frameLeft + 250, frameTop + 340), "no gradient-0 line at x = 0.5");
        Assert.Throws<ArgumentException>(() => NativeIg.Ig.Visualization.FunctionAndGradientPlots(xs, f, g[1..], "f", "df/dx"));
        Assert.Throws<ArgumentException>(() => NativeIg.Ig.Visualization.FunctionAndGradientPlots(xs.Select(x => x * 2).ToArray(), f, g, "f", "df/dx"));
    }

    [Fact]
    public void TheInterpolationStripEndsInBackgroundNotARule()
    {
        using var image = TestUtil.RandomTensor(3, 16, 16, 3);
        using var baseline = NativeIg.Ig.Baselines.Black(16, 16, 3);
        var strip = NativeIg.Ig.Visualization.InterpolationStrip(baseline, image);
        for (int y = strip.Height - 3; y < strip.Height; y++)
            for (int x = 0; x < strip.Width; x++)
                Assert.Equal(strip[0, 0], strip[x, y]);
    }
}
