using NativeIg.Tensors;
using Xunit;

namespace NativeIg.Tests;

public class TensorTests
{
    [Fact]
    public void BuffersAre64ByteAlignedAndReusedAcrossSizeClasses()
    {
        for (int n = 1; n < 5000; n += 997)
        {
            using var t = Tensor.Uninitialized(n);
            unsafe
            {
                fixed (float* p = t.Span) Assert.Equal(0, (long)p % 64);
            }
        }
        Assert.Equal(1 << 20, BufferPool.SizeClass(1 << 20));
        Assert.Equal((1 << 20) + (1 << 18), BufferPool.SizeClass((1 << 20) + 1));
        Assert.True(BufferPool.SizeClass(26 * 1000) == BufferPool.SizeClass(25 * 1000 + 500));
    }

    [Fact]
    public void ViewsShareStorageAndShapesAreChecked()
    {
        using var t = Tensor.FromSpan(Enumerable.Range(0, 24).Select(i => (float)i).ToArray(), 4, 3, 2);
        using var slice = t.SliceBatch(1, 2);
        Assert.Equal(6f, slice[0]);
        slice[0] = -1;
        Assert.Equal(-1f, t[6]);
        using var reshaped = t.Reshape(2, 12);
        Assert.Equal(12, reshaped.Dim(1));
        var e = Assert.Throws<ArgumentException>(() => t.Reshape(5, 5));
        Assert.Contains("[4, 3, 2]", e.Message);
        Assert.Contains("[5, 5]", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.SliceBatch(3, 2));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(1, 2, 3, 4, 5));
    }

    [Fact]
    public void DisposedTensorsRefuseAccess()
    {
        var t = Tensor.Zeros(3);
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.Span.Length);
    }

    [Fact]
    public void TopKIsLargestFirstTiesInIndexOrderAndNaNLast()
    {
        float[] values = [0.5f, float.NaN, 2f, 0.5f, -1f];
        Assert.Equal([(2, 2f), (0, 0.5f), (3, 0.5f)], Ranking.TopK(values, 3));
        Assert.Equal(5, Ranking.TopK(values, 99).Length);
        Assert.Equal(1, Ranking.TopK(values, 99)[^1].Index); // NaN below every number
        Assert.Empty(Ranking.TopK(values, 0));
    }
}
