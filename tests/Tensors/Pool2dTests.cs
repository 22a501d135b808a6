using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

[Trait("Category", "Quick")] // dotnet test --filter Category=Quick: the README's quick check
public class Pool2dTests
{
    [Fact]
    public void CaffeCeilRoundingGivesGoogLeNetSizes()
    {
        int size = 112;
        foreach (int expected in new[] { 56, 28, 14, 7 })
        {
            var g = WindowGeometry.PoolCaffe(1, size, size, 1, 3, 2, 0);
            Assert.Equal(expected, g.OutH);
            size = g.OutH;
        }
        Assert.Equal(28, WindowGeometry.PoolCaffe(1, 28, 28, 1, 3, 1, 1).OutH);
        Assert.Equal(1, WindowGeometry.PoolCaffe(1, 7, 7, 1, 7, 1, 0).OutH);
        // TensorFlow: SAME = ceil(in/stride), VALID = floor((in − k)/stride) + 1
        Assert.Equal(56, WindowGeometry.Same(1, 112, 112, 1, 3, 3, 2, 2).OutH);
        Assert.Equal(55, WindowGeometry.Valid(1, 112, 112, 1, 3, 3, 2, 2).OutH);
    }

    public static TheoryData<int, int, int, int, int, int> PoolShapes => new()
    {
        // n, size, channels, kernel, stride, pad — GoogLeNet's pools, then odd ones
        { 1, 112, 64, 3, 2, 0 }, { 5, 56, 192, 3, 2, 0 }, { 1, 28, 256, 3, 1, 1 }, { 5, 28, 480, 3, 2, 0 },
        { 2, 14, 528, 3, 1, 1 }, { 5, 14, 832, 3, 2, 0 }, { 5, 7, 1024, 7, 1, 0 },
        { 1, 1, 1, 1, 1, 0 }, { 2, 5, 3, 3, 1, 1 }, { 3, 9, 17, 2, 3, 0 }, { 1, 6, 33, 3, 2, 1 }, { 2, 7, 5, 4, 3, 2 },
    };

    [Theory]
    [MemberData(nameof(PoolShapes))]
    public void MaxPoolMatchesReferenceForwardAndBackward(int n, int size, int c, int kernel, int stride, int pad)
    {
        var g = WindowGeometry.PoolCaffe(n, size, size, c, kernel, stride, pad);
        var x = Random(n * size * size * c, 31);
        using var X = Tensor.FromSpan(x, g.InputShape);
        using var Y = Tensor.Uninitialized(n, g.OutH, g.OutW, c);
        var taps = new byte[Y.Length];
        Pool2d.MaxForward(g, X, Y, taps);
        var expected = ToFloat(Pool2dReference.MaxForward(g, ToDouble(x), out var expectedTaps));
        Assert.Equal(expected, Y.ToArray());
        Assert.Equal(expectedTaps, taps);
        var dy = Random(Y.Length, 32);
        using var DY = Tensor.FromSpan(dy, Y.Shape.ToArray());
        using var DX = Tensor.Uninitialized(g.InputShape);
        Pool2d.MaxBackward(g, DY, taps, DX);
        var expectedDx = Pool2dReference.MaxBackward(g, ToDouble(dy), expectedTaps);
        AssertClose(expectedDx, DX.Span, 1e-6, 1e-6, "max pool backward");
    }

    [Fact]
    public void MaxPoolTiesGoToTheFirstMaximumInRowMajorOrder()
    {
        var g = WindowGeometry.PoolCaffe(1, 2, 2, 1, 2, 2, 0);
        using var x = Tensor.FromSpan([1f, 3f, 3f, 3f], 1, 2, 2, 1);
        using var y = Tensor.Uninitialized(1, 1, 1, 1);
        var taps = new byte[1];
        Pool2d.MaxForward(g, x, y, taps);
        Assert.Equal(3f, y[0]);
        Assert.Equal(1, taps[0]); // position (0, 1), not (1, 0) or (1, 1)
    }

    [Theory]
    [MemberData(nameof(PoolShapes))]
    public void AvgPoolMatchesReference(int n, int size, int c, int kernel, int stride, int pad)
    {
        foreach (var divisor in new[] { AvgPoolDivisor.IncludePadding, AvgPoolDivisor.ValidOnly })
        {
            var g = WindowGeometry.PoolCaffe(n, size, size, c, kernel, stride, pad);
            var x = Random(n * size * size * c, 33);
            using var X = Tensor.FromSpan(x, g.InputShape);
            using var Y = Tensor.Uninitialized(n, g.OutH, g.OutW, c);
            Pool2d.AvgForward(g, X, Y, divisor);
            var expected = Pool2dReference.AvgForward(g, ToDouble(x), divisor);
            AssertClose(expected, Y.Span, 1e-6, 1e-6, $"avg pool {divisor}");
            var dy = Random(Y.Length, 34);
            using var DY = Tensor.FromSpan(dy, Y.Shape.ToArray());
            using var DX = Tensor.Uninitialized(g.InputShape);
            Pool2d.AvgBackward(g, DY, DX, divisor);
            AssertClose(Pool2dReference.AvgBackward(g, ToDouble(dy), divisor), DX.Span, 1e-6, 1e-6, $"avg pool backward {divisor}");
        }
    }

    [Fact]
    public void AveragePoolDivisorAtPaddedBordersFollowsCaffeOrTensorFlow()
    {
        // 3×3 ones, 3×3 window, stride 1, pad 1: the corner window holds 4 real pixels of 9 positions.
        var g = WindowGeometry.PoolCaffe(1, 3, 3, 1, 3, 1, 1);
        using var x = Tensor.Filled(1f, 1, 3, 3, 1);
        using var y = Tensor.Uninitialized(1, 3, 3, 1);
        Pool2d.AvgForward(g, x, y, AvgPoolDivisor.IncludePadding);
        Assert.Equal(4f / 9f, y[0], 6);
        Assert.Equal(6f / 9f, y[1], 6);
        Assert.Equal(1f, y[4], 6);
        Pool2d.AvgForward(g, x, y, AvgPoolDivisor.ValidOnly);
        Assert.Equal(1f, y[0], 6);
    }

    [Fact]
    public void PoolShapeErrorsNameBothShapes()
    {
        var g = WindowGeometry.PoolCaffe(1, 4, 4, 2, 2, 2, 0);
        using var x = Tensor.Zeros(1, 4, 4, 2);
        using var y = Tensor.Zeros(1, 3, 3, 2);
        var e = Assert.Throws<ArgumentException>(() => Pool2d.MaxForward(g, x, y, new byte[32]));
        Assert.Contains("[1, 3, 3, 2]", e.Message);
        Assert.Contains("[1, 2, 2, 2]", e.Message);
    }
}
