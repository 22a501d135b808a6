using NativeIg.Ig;
using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

public class BaselineAndVisualizationTests
{
    [Fact]
    public void BaselinesHaveTheImagesShapeAndExpectedValues()
    {
        using var image = TestUtil.RandomTensor(1, 9, 7, 3);
        using var black = Baselines.Parse("black", image);
        using var white = Baselines.Parse("white", image);
        using var noise = Baselines.Parse("noise:42", image);
        using var noiseAgain = Baselines.Parse("noise:42", image);
        using var blur = Baselines.Parse("blur:2", image);
        Assert.All(new[] { black, white, noise, blur }, b => Assert.True(b.SameShape(image)));
        Assert.All(black.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(white.ToArray(), v => Assert.Equal(1f, v));
        Assert.Equal(noise.ToArray(), noiseAgain.ToArray());
        Assert.All(noise.ToArray(), v => Assert.InRange(v, 0f, 1f));
        // A blur keeps the mean and lowers the variance.
        Assert.Equal(image.ToArray().Average(), blur.ToArray().Average(), 1);
        Assert.True(Variance(blur.ToArray()) < Variance(image.ToArray()));
        Assert.Throws<ArgumentException>(() => Baselines.Parse("noise:abc", image));
        Assert.Throws<ArgumentException>(() => Baselines.Parse("/no/such/baseline.png", image));
    }

    private static double Variance(float[] v) => v.Select(x => (x - v.Average()) * (x - v.Average())).Average();

    [Fact]
    public void MaskSumsAbsoluteAttributionsOverChannels()
    {
        using var attributions = Tensor.FromSpan([1f, -2f, 3f, -0.5f, 0f, 0.5f], 1, 2, 3);
        using var mask = Visualization.AttributionMask(attributions);
        Assert.Equal([6f, 1f], mask.ToArray());
        using var signed = Visualization.AttributionMask(attributions, signed: true);
        Assert.Equal([2f, 0f], signed.ToArray());
        Assert.Equal([1f, 0f], Visualization.Normalize(mask));
        Assert.Equal(2.5f, Visualization.Percentile([1f, 2f, 3f, 4f], 50));
        Assert.Equal(3.97f, Visualization.Percentile([1f, 2f, 3f, 4f], 99), 5);
        using var spiky = Tensor.FromSpan([0f, 1f, 2f, 100f], 2, 2);
        var clipped = Visualization.Normalize(spiky, clipPercentile: 50);
        Assert.Equal([0f, 0.66667f, 1f, 1f], clipped.Select(v => MathF.Round(v, 5)).ToArray());
    }

    [Fact]
    public void ColormapsAreMatplotlibsTables()
    {
        Assert.Equal(((byte)0, (byte)0, (byte)4), Colormap.Inferno.Map(0f));       // #000004
        Assert.Equal(((byte)252, (byte)255, (byte)164), Colormap.Inferno.Map(1f)); // #FCFFA4
        Assert.Equal(((byte)68, (byte)1, (byte)84), Colormap.Viridis.Map(0f));      // #440154
        Assert.Equal(((byte)253, (byte)231, (byte)37), Colormap.Viridis.Map(1f));   // #FDE725
        // Diverging: a neutral grey at zero (not the white background), blue for negative, orange for positive.
        var middle = Colormap.Diverging.Map(0.5f);
        Assert.True(Math.Abs(middle.R - middle.B) <= 4 && Math.Abs(middle.G - middle.B) <= 4 && middle.R is > 200 and < 240, $"diverging centre {middle} is not a light neutral grey");
        var negative = Colormap.Diverging.Map(0f);
        var positive = Colormap.Diverging.Map(1f);
        Assert.True(negative.B > negative.R && negative.B > negative.G, $"negative end {negative} is not blue");
        Assert.True(positive.R > positive.G && positive.G > positive.B, $"positive end {positive} is not orange");
        Assert.Throws<ArgumentException>(() => Colormap.Parse("jet"));
    }

    [Fact]
    public void FiguresAreWrittenAsReadablePngs()
    {
        var dir = TempDir();
        using var image = TestUtil.RandomTensor(2, 8, 8, 3);
        using var baseline = Baselines.Black(8, 8, 3);
        var normalized = Enumerable.Range(0, 64).Select(i => i / 63f).ToArray();
        using var colored = Visualization.Colorize(normalized, 8, 8, Colormap.Inferno);
        using var overlay = Visualization.Overlay(image, colored);
        Assert.Equal(0.4f * image[0] + 0.6f * colored[0], overlay[0], 6);
        var figure = Visualization.TutorialFigure(baseline, image, colored, overlay, "test");
        var path = Path.Combine(dir, "figure.png");
        figure.SavePng(path);
        var decoded = StbImageSharp.ImageResult.FromMemory(File.ReadAllBytes(path), StbImageSharp.ColorComponents.RedGreenBlue);
        Assert.Equal(figure.Width, decoded.Width);
        Assert.Equal(figure.Height, decoded.Height);
        var plots = Visualization.SaturationPlots([0, 0.5, 1], [0.1, 0.6, 0.9], [0.3, 0.2, 0.1]);
        plots.SavePng(Path.Combine(dir, "saturation.png"));
        Assert.True(new FileInfo(Path.Combine(dir, "saturation.png")).Length > 1000);
    }
}
