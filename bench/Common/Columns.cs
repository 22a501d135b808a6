using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace NativeIg.Bench;

/// <summary>A benchmark class that knows how many floating-point operations one call of each method does.</summary>
public interface IFlopCount
{
    double Flops(string method);
}

/// <summary>A numeric, always-shown custom column: what every column of ours has in common.</summary>
public abstract class NumberColumn(string id, string name, int priority, string legend) : IColumn
{
    public string Id => id;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => priority;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);
    public abstract string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style);
}

/// <summary>GFLOP/s = the method's FLOPs / its mean time, as a BenchmarkDotNet column.</summary>
public sealed class GflopsColumn() : NumberColumn("GFLOPs", "GFLOP/s", 0, "Floating-point operations per second (2 per multiply-add), billions")
{
    public override string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is null) return "-";
        double flops = BenchCase.Flops(benchmarkCase);
        return double.IsNaN(flops) ? "-" : (flops / report.ResultStatistics.Mean).ToString("0.0"); // FLOP per ns = GFLOP/s
    }
}

/// <summary>What the columns need to know about one benchmark case.</summary>
public static class BenchCase
{
    /// <summary>The case's FLOPs from its class's <see cref="IFlopCount"/> (parameters applied), or NaN.</summary>
    public static double Flops(BenchmarkCase benchmarkCase)
    {
        if (benchmarkCase.Descriptor.Type == typeof(FmaPeakBenchmarks)) return FmaPeak.Flops(benchmarkCase);
        var instance = Activator.CreateInstance(benchmarkCase.Descriptor.Type);
        if (instance is not IFlopCount counter) return double.NaN;
        foreach (var parameter in benchmarkCase.Parameters.Items)
            benchmarkCase.Descriptor.Type.GetProperty(parameter.Name)?.SetValue(instance, parameter.Value);
        return counter.Flops(benchmarkCase.Descriptor.WorkloadMethod.Name);
    }

    /// <summary>A case's worker threads: its Threads parameter, else every core (the kernels' default).</summary>
    public static int Threads(BenchmarkCase benchmarkCase) =>
        (int?)benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Threads")?.Value ?? Environment.ProcessorCount;

}

/// <summary>
/// The measured FMA peak of the running instruction-set path: 12 independent multiply-add chains of
/// the path's widest vector (Vector512 FMA, Vector256 FMA, or 128-bit multiply-add — fused where the
/// runtime allows it), per thread. Every "% of path peak" column divides by this row of the same run.
/// </summary>
public class FmaPeakBenchmarks : IFlopCount
{
    [Params(1, 2)]
    public int Threads { get; set; }

    [Benchmark(Description = "FMA peak")]
    public float Peak()
    {
        if (Threads == 1) return Run();
        var sums = new float[Threads];
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t => sums[t] = Run());
        return sums.Sum();
    }

    private static float Run() =>
        Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? Run512() :
        Avx2.IsSupported && Fma.IsSupported ? Run256() : Run128();

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Run512()
    {
        var m = Vector512.Create(0.999999f); var a = Vector512.Create(1e-6f);
        Vector512<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
        for (int i = 0; i < FmaPeak.Iterations; i++)
        {
            c0 = Avx512F.FusedMultiplyAdd(c0, m, a); c1 = Avx512F.FusedMultiplyAdd(c1, m, a); c2 = Avx512F.FusedMultiplyAdd(c2, m, a);
            c3 = Avx512F.FusedMultiplyAdd(c3, m, a); c4 = Avx512F.FusedMultiplyAdd(c4, m, a); c5 = Avx512F.FusedMultiplyAdd(c5, m, a);
            c6 = Avx512F.FusedMultiplyAdd(c6, m, a); c7 = Avx512F.FusedMultiplyAdd(c7, m, a); c8 = Avx512F.FusedMultiplyAdd(c8, m, a);
            c9 = Avx512F.FusedMultiplyAdd(c9, m, a); c10 = Avx512F.FusedMultiplyAdd(c10, m, a); c11 = Avx512F.FusedMultiplyAdd(c11, m, a);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Run256()
    {
        var m = Vector256.Create(0.999999f); var a = Vector256.Create(1e-6f);
        Vector256<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
        for (int i = 0; i < FmaPeak.Iterations; i++)
        {
            c0 = Fma.MultiplyAdd(c0, m, a); c1 = Fma.MultiplyAdd(c1, m, a); c2 = Fma.MultiplyAdd(c2, m, a);
            c3 = Fma.MultiplyAdd(c3, m, a); c4 = Fma.MultiplyAdd(c4, m, a); c5 = Fma.MultiplyAdd(c5, m, a);
            c6 = Fma.MultiplyAdd(c6, m, a); c7 = Fma.MultiplyAdd(c7, m, a); c8 = Fma.MultiplyAdd(c8, m, a);
            c9 = Fma.MultiplyAdd(c9, m, a); c10 = Fma.MultiplyAdd(c10, m, a); c11 = Fma.MultiplyAdd(c11, m, a);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Run128()
    {
        var m = Vector128.Create(0.999999f); var a = Vector128.Create(1e-6f);
        Vector128<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
        for (int i = 0; i < FmaPeak.Iterations; i++)
        {
            c0 = MultiplyAdd128(c0, m, a); c1 = MultiplyAdd128(c1, m, a); c2 = MultiplyAdd128(c2, m, a);
            c3 = MultiplyAdd128(c3, m, a); c4 = MultiplyAdd128(c4, m, a); c5 = MultiplyAdd128(c5, m, a);
            c6 = MultiplyAdd128(c6, m, a); c7 = MultiplyAdd128(c7, m, a); c8 = MultiplyAdd128(c8, m, a);
            c9 = MultiplyAdd128(c9, m, a); c10 = MultiplyAdd128(c10, m, a); c11 = MultiplyAdd128(c11, m, a);
        }
        return Vector128.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    /// <summary>The kernels' own 128-bit multiply-add: fused on FMA3 and NEON, a multiply and an add on plain SSE.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> MultiplyAdd128(Vector128<float> a, Vector128<float> b, Vector128<float> c) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) :
        System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported ? System.Runtime.Intrinsics.Arm.AdvSimd.FusedMultiplyAdd(c, a, b) : a * b + c;

    public double Flops(string method) => 2.0 * FmaPeak.Iterations * FmaPeak.Chains * FmaPeak.Lanes * Threads;
}

