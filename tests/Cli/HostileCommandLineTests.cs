using System.Diagnostics;
using NativeIg.Cli;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>Items 3, 4, 6 and 8 on the command line: every argument checked, with bounds, before any work.</summary>
[Collection("model")]
public class HostileCommandLineTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => RunCli(args);

    private static string Missing => Path.Combine(TempDir(), "no-such.caffemodel");

    [SharedTheory]
    [InlineData("--steps", "2147483647")]
    [InlineData("--steps", "99999999999")]
    [InlineData("--batch", "2147483647")]
    [InlineData("--batch", "0")]
    [InlineData("--max-steps", "2000000")]
    [InlineData("--baseline", "blur:1e9")]
    [InlineData("--baseline", "blur:100000")]
    [InlineData("--baseline", "blur:NaN")]
    [InlineData("--baseline", "noise:abc")]
    [InlineData("--clip", "NaN")]
    [InlineData("--clip", "Infinity")]
    [InlineData("--auto-steps", "NaN")]
    [InlineData("--threads", "100000")]
    [InlineData("--out", "")]
    public void ExplodingOrNonsenseValuesAreUsageErrorsBeforeAnyFileIsRead(string option, string value)
    {
        // The weights path does not exist: a usage error must come before anything looks for it.
        var clock = Stopwatch.StartNew();
        var (code, _, error) = Run("explain", Shared("images/fireboat.jpg"), option, value, "--weights", Missing);
        Assert.Equal(2, code);
        Assert.Contains(option, error.Replace("Baseline", "--baseline"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"{option} {value} took {clock.Elapsed}");
    }

    /// <summary>Item 6: a bad --target failed only after the model had loaded.</summary>
    [SharedFact]
    public void ABadTargetFailsBeforeTheModelLoads()
    {
        var (code, _, error) = Run("explain", Shared("images/fireboat.jpg"), "--target", "not-a-class", "--weights", Missing, "--labels", Shared("labels/synset_words.txt"));
        Assert.Equal(2, code);
        Assert.Contains("not-a-class", error);
    }

    /// <summary>Item 6: an --out that is a file, or read-only, failed only after the whole IG.</summary>
    [SharedFact]
    public void AnUnwritableOutputFolderFailsBeforeTheModelLoads()
    {
        var file = Path.Combine(TempDir(), "a-file");
        File.WriteAllText(file, "x");
        var (code, _, error) = Run("explain", Shared("images/fireboat.jpg"), "--out", file, "--weights", Missing, "--labels", Shared("labels/synset_words.txt"));
        Assert.Equal(1, code);
        Assert.Contains("is a file", error);
        if (Environment.UserName != "root") // root writes anywhere: the read-only case needs an ordinary user
        {
            var readOnly = TempDir();
            File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            (code, _, error) = Run("explain", Shared("images/fireboat.jpg"), "--out", Path.Combine(readOnly, "out"), "--weights", Missing, "--labels", Shared("labels/synset_words.txt"));
            Assert.Equal(1, code);
            Assert.Contains("cannot write", error);
        }
    }

    /// <summary>Items 3 and 8: `--weights /dev/zero` ran out of memory; `--labels /dev/zero` gave an internal message.</summary>
    [SharedFact]
    public void DevicesAsInputFilesAreClearFileErrors()
    {
        if (!File.Exists("/dev/zero")) return; // no such device on this OS
        var (code, _, error) = Run("classify", Shared("images/fireboat.jpg"), "--weights", "/dev/zero", "--labels", Shared("labels/synset_words.txt"));
        Assert.Equal(1, code);
        Assert.Contains("/dev/zero: not a regular file", error);
        (code, _, error) = Run("classify", Shared("images/fireboat.jpg"), "--labels", "/dev/zero", "--weights", Shared("weights/bvlc_googlenet.caffemodel"));
        Assert.Equal(1, code);
        Assert.Contains("/dev/zero: not a regular file", error);
    }

    /// <summary>Item 3: bad .npy headers crashed classify and stopped the images after them.</summary>
    [SharedFact]
    public void ABadNpyDoesNotStopTheOtherImages()
    {
        var bad = Path.Combine(TempDir(), "bad.npy");
        File.WriteAllBytes(bad, [0x93, .. "NUMPY"u8.ToArray(), 1, 0, 20, 0, .. "{'shape': [1, 2], }  \n"u8.ToArray()]);
        var (code, output, error) = Run("classify", bad, Shared("images/fireboat.jpg"), "--weights", Shared("weights/bvlc_googlenet.caffemodel"), "--labels", Shared("labels/synset_words.txt"));
        Assert.Equal(1, code);
        Assert.Contains("bad.npy", error);
        Assert.Contains("fireboat", output);
    }

    /// <summary>Item 5: an interrupted run left 0-byte PNGs; now it exits 130 and leaves the previous outputs as they were.</summary>
    [SharedFact]
    public void ACancelledExplainExits130AndLeavesThePreviousOutputs()
    {
        var outDir = TempDir();
        var previous = Path.Combine(outDir, "figure.png");
        File.WriteAllText(previous, "previous run");
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = Program.Run(["explain", Shared("images/fireboat.jpg"), "--out", outDir, "--steps", "4",
            "--weights", Shared("weights/bvlc_googlenet.caffemodel"), "--labels", Shared("labels/synset_words.txt")], stdout, stderr, cancelled.Token);
        Assert.Equal(130, code);
        Assert.Contains("interrupted", stderr.ToString());
        Assert.Equal("previous run", File.ReadAllText(previous));
        Assert.Equal(["figure.png"], Directory.GetFiles(outDir).Select(f => Path.GetFileName(f)).ToArray());
    }
}
