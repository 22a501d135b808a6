using NativeIg.Cli;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>Progress that works in logs, hints that say when an explanation is doubtful, and --version.</summary>
[Collection("model")]
public class CliProgressTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => RunCli(args);

    private static string[] Model => ModelArguments;

    [Fact]
    public void VersionNamesTheToolAndTheKernelPath()
    {
        var (code, output, _) = Run("--version");
        Assert.Equal(0, code);
        Assert.StartsWith("nativeig ", output);
        Assert.Contains(NativeIg.Tensors.Gemm.InstructionSetPath, output);
    }

    [Fact]
    public void RedirectedProgressIsOnePlainLinePerChunkAndQuietHasNone()
    {
        var (code, _, error) = Run(["explain", Shared("images/fireboat.jpg"), "--steps", "8", "--batch", "4", "--out", TempDir(), .. Model]);
        Assert.Equal(0, code);
        var lines = error.Split('\n').Where(l => l.Contains("path ")).ToArray();
        // 9 path images at batch 4: 4, then the remainder 5 shared as 3 + 2 (every chunk at least half a batch).
        Assert.Equal(["path 4/9", "path 7/9", "path 9/9"], lines.Select(l => l.Trim().Split(" images")[0]).ToArray());
        Assert.All(lines, l => Assert.Contains("elapsed", l));
        Assert.DoesNotContain('\r', error);
        (code, _, error) = Run(["explain", Shared("images/fireboat.jpg"), "--steps", "8", "--batch", "4", "--quiet", "--out", TempDir(), .. Model]);
        Assert.Equal(0, code);
        Assert.DoesNotContain("path ", error);
    }

    [Fact]
    public void APoorIntegralAndAnUnpredictedTargetGetHints()
    {
        // One trapezoid step across the fireboat's saturating path misses completeness by far more than 5%.
        var (code, _, error) = Run(["explain", Shared("images/fireboat.jpg"), "--steps", "1", "--out", TempDir(), .. Model]);
        Assert.Equal(0, code);
        Assert.Contains("hint: the integral is poor", error);
        Assert.Contains("--auto-steps 0.01", error);
        (code, _, error) = Run(["explain", Shared("images/fireboat.jpg"), "--steps", "4", "--target", "tench", "--out", TempDir(), .. Model]);
        Assert.Equal(0, code);
        Assert.Contains("note: the model gives 'tench' only", error);
    }
}

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

/// <summary>Command-line conventions: short aliases, `--`, @response files, `-` for standard input, exit codes.</summary>
[Collection("model")]
public class CliConventionTests
{
    [Fact]
    public void ShortAliasesMeanTheLongOptions()
    {
        var dir = TempDir();
        var (code, output, error) = RunCli(["explain", Shared("images/fireboat.jpg"), "-t", "pier", "-m", "4", "-b", "3", "-o", dir, "-j", "-q", .. ModelArguments]);
        Assert.True(code == 0, error);
        using var json = System.Text.Json.JsonDocument.Parse(output);
        Assert.Equal("pier", json.RootElement.GetProperty("label").GetString());
        Assert.Equal(4, json.RootElement.GetProperty("steps").GetInt32());
        Assert.True(File.Exists(Path.Combine(dir, "figure.png")));
        Assert.Equal("", error); // -q: no progress, no hints
    }

    [Fact]
    public void AResponseFileAndDoubleDashWork()
    {
        var dir = TempDir();
        var args = Path.Combine(dir, "args.txt");
        File.WriteAllLines(args, ["# classify the fireboat", "--top", "2", "", .. ModelArguments]);
        var (code, output, _) = RunCli("classify", $"@{args}", "--", Shared("images/fireboat.jpg"));
        Assert.Equal(0, code);
        Assert.Contains("fireboat: 94.3%", output);
        Assert.Equal(3, output.Trim().Split('\n').Length); // the path and two labels: --top 2 came from the file
        // After --, an argument that looks like an option is an IMAGE (here a missing one: exit 1, not a usage error).
        (code, _, var error) = RunCli(["classify", .. ModelArguments, "--", "--top"]);
        Assert.Equal(1, code);
        Assert.Contains("--top: file not found", error);
        (code, _, error) = RunCli("classify", "@/no/such/args.txt");
        Assert.Equal(2, code);
        Assert.Contains("Response file", error);
        if (File.Exists("/dev/zero")) // a device as a response file is refused, not read forever
        {
            (code, _, error) = RunCli("classify", "@/dev/zero");
            Assert.Equal(2, code);
            Assert.Contains("not a regular file", error);
        }
    }

    [Fact]
    public void StandardInputIsAnImage()
    {
        using var stdin = new MemoryStream(File.ReadAllBytes(Shared("images/fireboat.jpg")));
        using var fromStdin = Program.LoadImage("-", stdin);
        using var fromFile = NativeIg.InceptionV1.ImageLoader.LoadForModel(Shared("images/fireboat.jpg"));
        Assert.Equal(fromFile.ToArray(), fromStdin.ToArray());
        using var garbage = new MemoryStream("not an image"u8.ToArray());
        var e = Assert.Throws<NativeIg.InceptionV1.ImageFormatException>(() => Program.LoadImage("-", garbage));
        Assert.StartsWith("stdin:", e.Message);
        var (code, _, error) = RunCli(["classify", "-", "-", .. ModelArguments]);
        Assert.Equal(2, code);
        Assert.Contains("at most once", error);
    }

    [Theory]
    [InlineData("explain", "-m", "abc")]
    [InlineData("explain", "--baseline", "noise:abc")]
    [InlineData("explain", "-x")]
    [InlineData("classify", "--top", "0", "a.jpg")]
    public void EveryUsageErrorExitsTwo(params string[] args)
    {
        var (code, _, error) = RunCli(args);
        Assert.Equal(2, code);
        Assert.StartsWith("nativeig:", error);
    }
}

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
            int x0 = 2 * 64 + 3 * 16 + 24 + 6, top = 30 + 16 + 64 + 30 + 16 + 30;
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
