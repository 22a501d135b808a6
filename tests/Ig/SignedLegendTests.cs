using Xunit;

namespace NativeIg.Tests;

/// <summary>A signed colour bar names its ends.</summary>
public class SignedLegendTests
{
    [Fact]
    public void ASignedBarHasTextBetweenItsEndsAndAnUnsignedOneDoesNot()
    {
        using var image = TestUtil.RandomTensor(7, 32, 32, 3);
        using var baseline = NativeIg.Ig.Baselines.Black(32, 32, 3);
        var normalized = Enumerable.Range(0, 1024).Select(i => i / 1023f * 2 - 1).ToArray();
        using var colored = NativeIg.Ig.Visualization.Colorize(normalized, 32, 32, NativeIg.Ig.Colormap.Diverging, signed: true);
        using var overlay = NativeIg.Ig.Visualization.Overlay(image, colored);
        int TextPixelsBesideTheBar(float low, float high)
        {
            var figure = NativeIg.Ig.Visualization.TutorialFigure(baseline, image, colored, overlay, "t",
                colorBar: new NativeIg.Ig.Visualization.ColorBar(NativeIg.Ig.Colormap.Diverging, low, high, "SUM ATTR"));
            int panel = Math.Max(64, NativeIg.Ig.Visualization.MinimumPanelPixels); // 32 px at scale 2, drawn at least at the minimum
            int x0 = 2 * panel + 3 * 16 + 24 + 6, top = 30 + 16 + panel + 30 + 16 + 30;
            // Between the end labels (which both kinds have), away from the middle "0".
            int count = 0;
            for (int y = top + 12; y < top + 30; y++)
                for (int x = x0; x < figure.Width; x++)
                    if (figure[x, y] == ((byte)0, (byte)0, (byte)0)) count++;
            return count;
        }
        Assert.True(TextPixelsBesideTheBar(-1f, 1f) > 20, "the signed bar does not say which end is positive");
        Assert.Equal(0, TextPixelsBesideTheBar(0f, 1f));
    }
}
