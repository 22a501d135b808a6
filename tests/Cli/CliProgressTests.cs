using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>Progress that works in logs, hints that say when an explanation is doubtful, and --version.</summary>
[Collection("model")]
public class CliProgressTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => RunCli(args);

    private static string[] Model => ModelArguments;

    [SharedFact]
    public void VersionNamesTheToolAndTheKernelPath()
    {
        var (code, output, _) = Run("--version");
        Assert.Equal(0, code);
        Assert.StartsWith("nativeig ", output);
        Assert.Contains(NativeIg.Tensors.Gemm.InstructionSetPath, output);
    }

    [SharedFact]
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

    [SharedFact]
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
