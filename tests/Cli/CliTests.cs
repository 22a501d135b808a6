using System.Text.Json;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

[Collection("model")]
public class CliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => RunCli(args);

    private static string[] Model => ModelArguments;

    [SharedFact]
    public void ClassifyPrintsTheTutorialsLines()
    {
        var (code, output, _) = Run(["classify", Shared("images/fireboat.jpg"), "--top", "3", .. Model]);
        Assert.Equal(0, code);
        Assert.Contains("fireboat: 94.3%", output);
        Assert.Contains("pier: 4.2%", output);
    }

    [SharedFact]
    public void ClassifyJsonHasOneObjectPerImage()
    {
        var (code, output, _) = Run(["classify", Shared("images/fireboat.jpg"), Shared("images/giant_panda.jpg"), "--json", "--top", "2", .. Model]);
        Assert.Equal(0, code);
        var lines = output.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        var top = first.RootElement.GetProperty("top")[0];
        Assert.Equal(554, top.GetProperty("index").GetInt32());
        Assert.Equal("fireboat", top.GetProperty("label").GetString());
        Assert.Equal(0.94304, top.GetProperty("probability").GetDouble(), 5);
        using var second = JsonDocument.Parse(lines[1]);
        Assert.Equal("giant panda", second.RootElement.GetProperty("top")[0].GetProperty("label").GetString());
    }

    [SharedFact]
    public void OneBadImageDoesNotStopTheOthers()
    {
        var bad = Path.Combine(TempDir(), "broken.jpg");
        File.WriteAllText(bad, "not a jpeg");
        var (code, output, error) = Run(["classify", bad, Shared("images/fireboat.jpg"), .. Model]);
        Assert.Equal(1, code);
        Assert.Contains("broken.jpg", error);
        Assert.Contains("fireboat:", output);
    }

    [SharedTheory]
    [InlineData("frobnicate")]
    [InlineData("classify")]
    [InlineData("classify", "x.jpg", "--top", "0")]
    [InlineData("classify", "x.jpg", "--bogus")]
    [InlineData("explain", "--steps", "0")]
    [InlineData("explain", "--batch", "-1")]
    [InlineData("explain", "--rule", "simpson")]
    [InlineData("explain", "--output", "energy")]
    [InlineData("explain", "--steps", "10", "--auto-steps", "0.01")]
    [InlineData("explain", "--steps")]
    [InlineData("classify", "x.jpg", "--device", "tpu")]
    public void BadArgumentsExitWithTwo(params string[] args)
    {
        var (code, _, error) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains("nativeig:", error);
    }

    [SharedFact]
    public void UnknownTargetLabelIsABadArgumentAndNoWorkIsDone()
    {
        var (code, _, error) = Run(["explain", Shared("images/fireboat.jpg"), "--target", "spaceship", "--out", TempDir(), .. Model]);
        Assert.Equal(2, code);
        Assert.Contains("spaceship", error);
        (code, _, error) = Run(["explain", Shared("images/fireboat.jpg"), "--target", "1000", "--out", TempDir(), .. Model]);
        Assert.Equal(2, code);
        Assert.Contains("1000", error);
    }

    [SharedFact]
    public void HelpIsAvailableOnEveryCommand()
    {
        foreach (var args in new[] { new[] { "--help" }, ["classify", "--help"], ["explain", "-h"] })
        {
            var (code, output, _) = Run(args);
            Assert.Equal(0, code);
            Assert.Contains("Usage", output);
        }
    }

    [NoCudaFact(NeedsShared = true)]
    public void AnAbsentDeviceIsReportedWithWhatIsPresent()
    {
        var (code, _, error) = Run(["classify", Shared("images/fireboat.jpg"), "--device", "cuda", .. Model]);
        Assert.Equal(1, code);
        Assert.Contains("No cuda device", error);
        Assert.Contains("ilgpu-cpu", error);
    }

    [SharedFact]
    public void MissingWeightsSayHowToGetThem()
    {
        var (code, _, error) = Run("classify", Shared("images/fireboat.jpg"), "--weights", "/nonexistent/w.caffemodel");
        Assert.Equal(1, code);
        Assert.Contains("/nonexistent/w.caffemodel", error);
    }

    [SharedFact]
    public void ExplainWritesEveryFileAndReportsCompleteness()
    {
        var dir = TempDir();
        var (code, output, error) = Run(["explain", Shared("images/fireboat.jpg"), "--steps", "8", "--batch", "5", "--baseline", "noise:3",
            "--rule", "middle", "--clip", "99", "--out", dir, "--json", .. Model]);
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal(554, root.GetProperty("target").GetInt32());
        Assert.Equal("fireboat", root.GetProperty("label").GetString());
        Assert.Equal(8, root.GetProperty("steps").GetInt32());
        Assert.Equal("middle", root.GetProperty("rule").GetString());
        double sum = root.GetProperty("sum").GetDouble(), fx = root.GetProperty("f_input").GetDouble(), fb = root.GetProperty("f_baseline").GetDouble();
        Assert.Equal(sum - (fx - fb), root.GetProperty("delta").GetDouble(), 6);
        foreach (var name in new[] { "figure", "mask", "overlay", "saturation", "attributions" })
            Assert.True(File.Exists(root.GetProperty("files").GetProperty(name).GetString()), name);
        using var attributions = NativeIg.Tensors.IO.Npy.Read(Path.Combine(dir, "attributions.npy"));
        Assert.Equal([224, 224, 3], attributions.Shape.ToArray());
        Assert.Equal(sum, attributions.ToArray().Sum(v => (double)v), 3);
    }

    [SharedFact]
    public void ExplainTextReportNamesTheTargetAndDelta()
    {
        var dir = TempDir();
        var (code, output, error) = Run(["explain", Shared("images/fireboat.jpg"), "--steps", "4", "--target", "pier", "--output", "logit", "--out", dir, .. Model]);
        Assert.True(code == 0, error);
        Assert.Contains("'pier' (718)", output);
        Assert.Contains("delta", output);
        Assert.True(File.Exists(Path.Combine(dir, "figure.png")));
    }
}
