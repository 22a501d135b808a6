using System.Diagnostics;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>Item 5 with a real signal: SIGTERM to a running `nativeig explain` (what schedulers send).</summary>
[Collection("model")]
public class SignalTests
{
    [Fact]
    public void SigtermDuringExplainExits143AndLeavesThePreviousOutputs()
    {
        if (OperatingSystem.IsWindows()) return; // no SIGTERM to send there
        var outDir = TempDir();
        var previous = Path.Combine(outDir, "mask.png");
        File.WriteAllText(previous, "previous run");
        var cli = Path.Combine(AppContext.BaseDirectory, "nativeig.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { cli, "explain", Shared("images/fireboat.jpg"), "--steps", "2000", "--out", outDir,
            "--weights", Shared("weights/bvlc_googlenet.caffemodel"), "--labels", Shared("labels/synset_words.txt") })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        Thread.Sleep(TimeSpan.FromSeconds(4)); // past the model load, inside the path
        if (process.HasExited) Assert.Fail($"explain ended before the signal: {error.Result}");
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill!.WaitForExit();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "explain did not stop within 30 s of SIGTERM");
        Assert.Equal(143, process.ExitCode);
        Assert.Contains("interrupted", error.Result);
        Assert.Equal("previous run", File.ReadAllText(previous));
        Assert.Equal(["mask.png"], Directory.GetFiles(outDir).Select(f => Path.GetFileName(f)).ToArray());
    }
}
