using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace NativeIg.Bench;

/// <summary>
/// One BenchmarkDotNet job per instruction-set path. The runtime's own switches pick the path in the
/// benchmark process: <c>DOTNET_EnableAVX512=0</c> gives the AVX2 kernels (.NET 10 reads this name;
/// <c>DOTNET_EnableAVX512F</c> is set too for older runtimes) and <c>DOTNET_EnableAVX2=0</c> the
/// 128-bit kernels that ARM64 runs. Only the native job runs unless <c>NATIVEIG_BENCH_PATHS=all</c>;
/// paths wider than the CPU are left out.
/// </summary>
public static class InstructionSetJobs
{
    public static IEnumerable<Job> For(Job template)
    {
        bool all = Environment.GetEnvironmentVariable("NATIVEIG_BENCH_PATHS") == "all";
        bool avx512 = Avx512F.IsSupported && Vector512.IsHardwareAccelerated;
        bool avx2 = Avx2.IsSupported && Fma.IsSupported;
        if (!all)
        {
            yield return template.WithId(NativeName);
            yield break;
        }
        if (avx512) yield return template.WithId("AVX-512");
        if (avx2)
            yield return template.WithId("AVX2").WithEnvironmentVariables(
                new EnvironmentVariable("DOTNET_EnableAVX512", "0"), new EnvironmentVariable("DOTNET_EnableAVX512F", "0"));
        if (avx2 || avx512)
            yield return template.WithId("128-bit").WithEnvironmentVariables(new EnvironmentVariable("DOTNET_EnableAVX2", "0"));
        if (!avx2 && !avx512) yield return template.WithId(NativeName);
    }

    /// <summary>The job name of the path this process takes: AVX-512, AVX2 or 128-bit.</summary>
    public static string NativeName =>
        Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? "AVX-512" :
        Avx2.IsSupported && Fma.IsSupported ? "AVX2" : "128-bit";

    /// <summary>"AMD EPYC 9R14 (family 25 model 17), 2 cores" from /proc/cpuinfo where there is one.</summary>
    public static string CpuDescription()
    {
        string model = "unknown CPU", family = "", modelNumber = "";
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                var parts = line.Split(':', 2, StringSplitOptions.TrimEntries);
                if (parts.Length != 2) continue;
                if (parts[0] == "model name" && model == "unknown CPU") model = parts[1];
                else if (parts[0] == "cpu family" && family == "") family = parts[1];
                else if (parts[0] == "model" && modelNumber == "") modelNumber = parts[1];
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return $"{model} (family {family} model {modelNumber}), {Environment.ProcessorCount} cores";
    }
}

/// <summary>
/// "% of peak": a row's GFLOP/s against the FMA-loop peak measured in the same run by
/// <c>FmaPeakBenchmarks</c> on the same job (instruction-set path) with the same thread count.
/// </summary>
public sealed class PercentOfPeakColumn(Func<BenchmarkCase, double> flops, Func<BenchmarkCase, int> threads)
    : NumberColumn("PercentOfPeak", "% of path peak", 1, "GFLOP/s as a share of the FMA peak measured in this run on the same path and thread count")
{
    public override string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is null) return "-";
        int t = threads(benchmarkCase);
        var peak = summary.Reports.FirstOrDefault(r =>
            r.BenchmarkCase.Descriptor.Type.Name == "FmaPeakBenchmarks" && r.ResultStatistics is not null &&
            r.BenchmarkCase.Job.Id == benchmarkCase.Job.Id &&
            Equals(r.BenchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Threads")?.Value, t));
        if (peak?.ResultStatistics is null) return "-";
        double peakGflops = FmaPeak.Flops(peak.BenchmarkCase) / peak.ResultStatistics.Mean;
        double gflops = flops(benchmarkCase) / report.ResultStatistics.Mean;
        return (100 * gflops / peakGflops).ToString("0.0");
    }
}

/// <summary>The FLOP count of one FmaPeakBenchmarks call, shared with the column that divides by it.</summary>
public static class FmaPeak
{
    /// <summary>Multiply-adds per chain per call.</summary>
    public const int Iterations = 1 << 22;
    /// <summary>Independent accumulator chains: enough to cover the FMA latency on two pipes.</summary>
    public const int Chains = 12;

    /// <summary>Float lanes of the widest vector of the path this process takes.</summary>
    public static int Lanes => LanesOf(InstructionSetJobs.NativeName);

    /// <summary>Float lanes of a path's widest vector, by job name (another job name: this process's path).</summary>
    public static int LanesOf(string path) => path switch { "AVX-512" => 16, "AVX2" => 8, "128-bit" => 4, _ => LanesOf(InstructionSetJobs.NativeName) };

    /// <summary>FLOPs of one call with the case's thread count, for the lane width of the job's path.</summary>
    public static double Flops(BenchmarkCase c)
    {
        int threads = (int)(c.Parameters.Items.FirstOrDefault(p => p.Name == "Threads")?.Value ?? 1);
        return 2.0 * Iterations * Chains * LanesOf(c.Job.Id) * threads;
    }
}
