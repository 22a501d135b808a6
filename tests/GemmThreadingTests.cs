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
        int threads = Gemm.Threads;
        try
        {
            Gemm.Threads = 1;
            Gemm.Multiply(m, n, k, a, k, false, b, n, false, one, n);
            Gemm.Threads = Math.Max(2, threads);
            Gemm.Multiply(m, n, k, a, k, false, b, n, false, many, n);
        }
        finally { Gemm.Threads = threads; }
        Assert.Equal(one, many);
    }

}
