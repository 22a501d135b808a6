using NativeIg.Tensors;
using Xunit;

namespace NativeIg.Tests;

/// <summary>Random data, comparisons with stated tolerances, and the location of ../shared.</summary>
internal static class TestUtil
{
    public static float[] Random(int n, int seed, float low = -1f, float high = 1f)
    {
        var r = new System.Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = low + (high - low) * r.NextSingle();
        return a;
    }

    public static double[] ToDouble(ReadOnlySpan<float> x)
    {
        var d = new double[x.Length];
        for (int i = 0; i < x.Length; i++) d[i] = x[i];
        return d;
    }

    public static float[] ToFloat(ReadOnlySpan<double> x)
    {
        var f = new float[x.Length];
        for (int i = 0; i < x.Length; i++) f[i] = (float)x[i];
        return f;
    }

    public static Tensor RandomTensor(int seed, params int[] shape) => Tensor.FromSpan(Random(Tensor.ElementCount(shape), seed), shape);

    /// <summary>
    /// Asserts |actual − expected| ≤ atol + rtol·max|expected| everywhere, reporting the worst element.
    /// </summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol, double rtol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 0;
        foreach (var v in expected) scale = Math.Max(scale, Math.Abs(v));
        double tolerance = atol + rtol * scale, worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs((double)actual[i] - expected[i]);
            if (double.IsNaN(d) || d > worst) { worst = double.IsNaN(d) ? double.PositiveInfinity : d; worstAt = i; }
        }
        Assert.True(worst <= tolerance, $"{what}: max |diff| {worst:E3} at {worstAt} (expected {(worstAt >= 0 ? expected[worstAt] : 0)}, got {(worstAt >= 0 ? actual[worstAt] : 0)}) exceeds {tolerance:E3}");
    }

    /// <summary>A float32 result against a double-precision reference (rounded to float first, as the kernels' outputs are).</summary>
    public static void AssertClose(double[] expected, ReadOnlySpan<float> actual, double atol, double rtol, string what) =>
        AssertClose(ToFloat(expected), actual, atol, rtol, what);

    /// <summary>
    /// Tolerance for a float32 dot product of length k against a double-accumulated reference: each
    /// term's rounding (unit roundoff 6e-8) adds a random-sign error, so the total grows like √k·u·|y|.
    /// 2e-6·√k is ~30× that expectation: loose enough for any summation order, far below the O(1)
    /// error of an indexing bug.
    /// </summary>
    public static double DotTolerance(int k) => 2e-6 * Math.Sqrt(Math.Max(k, 1));

    /// <summary>The shared data folder (../shared beside the project root), or null when absent.</summary>
    public static string? SharedDir
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared"), Path.Combine(dir.FullName, "..", "shared") })
                    if (File.Exists(Path.Combine(candidate, "weights", "bvlc_googlenet.caffemodel"))) return Path.GetFullPath(candidate);
            }
            return null;
        }
    }

    public static string Shared(string relative) =>
        Path.Combine(SharedDir ?? throw new InvalidOperationException("../shared (weights, images, references) is required for this test and was not found."), relative);

    /// <summary>Runs the nativeig command line in this process: exit code, stdout and stderr.</summary>
    public static (int Code, string Out, string Err) RunCli(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = NativeIg.Cli.Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>--weights and --labels from ../shared.</summary>
    public static string[] ModelArguments => ["--weights", Shared("weights/bvlc_googlenet.caffemodel"), "--labels", Shared("labels/synset_words.txt")];

    /// <summary>Makes a FIFO (named pipe) at <paramref name="path"/>: a file that blocks whoever opens it for reading.</summary>
    public static void MakeFifo(string path)
    {
        using var mkfifo = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("mkfifo", [path]) { RedirectStandardError = true })!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "nativeig-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
