using System.Diagnostics;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>Item 5 with a real signal: SIGTERM to a running `nativeig explain` (what schedulers send).</summary>
[Collection("model")]
public class SignalTests
{
    [SharedFact]
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

    [SharedFact]
    public void SigtermEndsAProcessBlockedInARead()
    {
        if (OperatingSystem.IsWindows()) return;
        // `classify -` reads the image from standard input, which this test keeps open and never writes:
        // a read no cancellation token reaches. SIGTERM must still end the process, with 143.
        var model = OnnxWriter.TinyClassifier().Save(TempDir());
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "nativeig.dll"), "classify", "-", "--top", "1", "--model", model }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        Thread.Sleep(TimeSpan.FromSeconds(3)); // started, model loaded, blocked on standard input
        if (process.HasExited) Assert.Fail($"classify ended before the signal: {error.Result}");
        var signalled = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill!.WaitForExit();
        bool stopped = process.WaitForExit(TimeSpan.FromSeconds(60));
        if (!stopped) process.Kill();
        Assert.True(stopped, "classify blocked in a read did not stop within 60 s of SIGTERM");
        Assert.Equal(143, process.ExitCode);
        Assert.True(signalled.Elapsed < NativeIg.Cli.Program.StopGrace + TimeSpan.FromSeconds(10));
        process.StandardInput.Close();
    }
}
