using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>Changes the process-wide thread count, so it runs apart from the other tests.</summary>
[Collection("memory")]
public class GemmThreadingTests
{
    [Fact]
    public void SingleThreadedEqualsMultiThreadedBitForBit()
    {
        int m = 300, n = 70, k = 600;
        var a = Random(m * k, 6); var b = Random(k * n, 7);
        var one = new float[m * n]; var many = new float[m * n];
        using (ComputeThreads.Limit(1))
        {
            Assert.Equal(1, Gemm.Threads);
            Gemm.Multiply(m, n, k, a, k, false, b, n, false, one, n);
        }
        using (ComputeThreads.Limit(Math.Max(2, Environment.ProcessorCount)))
            Gemm.Multiply(m, n, k, a, k, false, b, n, false, many, n);
        Assert.Equal(one, many);
    }

    [Fact]
    public async Task ALimitHoldsForItsOwnFlowOnly()
    {
        using var entered = new Barrier(2);
        int SeenUnder(int limit)
        {
            using (ComputeThreads.Limit(limit))
            {
                entered.SignalAndWait(); // both limits are in force at the same time
                int seen = 0;
                Parallel.For(0, 4, _ => Interlocked.Exchange(ref seen, ComputeThreads.Current)); // and reach the workers
                entered.SignalAndWait();
                return seen;
            }
        }
        var one = Task.Run(() => SeenUnder(1));
        var three = Task.Run(() => SeenUnder(3));
        Assert.Equal(1, await one);
        Assert.Equal(3, await three);
        Assert.Equal(ComputeThreads.Default, ComputeThreads.Current); // restored here
        Assert.Throws<ArgumentOutOfRangeException>(() => ComputeThreads.Limit(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ComputeThreads.Limit(ComputeThreads.MaxThreads + 1));
    }

}
