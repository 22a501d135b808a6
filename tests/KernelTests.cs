using NativeIg.InceptionV1;
using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

public class GemmTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 1, 33, 7 }, { 7, 1, 300 }, { 13, 17, 19 }, { 8, 32, 256 }, { 9, 33, 257 },
        { 100, 47, 513 }, { 97, 130, 5 }, { 193, 64, 64 }, { 6, 16, 1 }, { 250, 300, 100 },
    };

    public static IEnumerable<GemmKernel> Kernels => Enum.GetValues<GemmKernel>().Where(Gemm.IsSupported);

    /// <summary>Every supported micro-kernel, every transpose, with and without accumulation, against the triple loop.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void FastMatchesReference(int m, int n, int k)
    {
        foreach (var kernel in Kernels)
            foreach (bool transA in new[] { false, true })
                foreach (bool transB in new[] { false, true })
                    foreach (bool accumulate in new[] { false, true })
                    {
                        var a = Random(m * k, 1 + m);
                        var b = Random(k * n, 2 + n);
                        var c0 = Random(m * n, 3);
                        var fast = (float[])c0.Clone();
                        var reference = (float[])c0.Clone();
                        Gemm.Multiply(m, n, k, a, transA ? m : k, transA, b, transB ? k : n, transB, fast, n, accumulate, kernel);
                        GemmReference.Multiply(m, n, k, a, transA ? m : k, transA, b, transB ? k : n, transB, reference, n, accumulate);
                        AssertClose(reference, fast, 1e-6, DotTolerance(k), $"{kernel} {m}×{n}×{k} tA={transA} tB={transB} acc={accumulate}");
                    }
    }

    [Fact]
    public void LeadingDimensionsLargerThanTheMatrixAreHonoured()
    {
        int m = 5, n = 7, k = 9, lda = 12, ldb = 10, ldc = 11;
        var a = Random(m * lda, 4); var b = Random(k * ldb, 5);
        var fast = new float[m * ldc]; var reference = new float[m * ldc];
        Gemm.Multiply(m, n, k, a, lda, false, b, ldb, false, fast, ldc);
        GemmReference.Multiply(m, n, k, a, lda, false, b, ldb, false, reference, ldc);
        AssertClose(reference, fast, 1e-6, DotTolerance(k), "strided GEMM");
    }

    [Fact]
    public void UndersizedOperandsThrowNamingTheOperand()
    {
        var a = new float[10]; var b = new float[12]; var c = new float[12];
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(3, 4, 4, a, 4, false, b, 4, false, c, 4));
        Assert.Contains("operand A", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(3, 4, 3, new float[9], 3, false, b, 4, false, new float[11], 4));
        Assert.Contains("operand C", e.Message);
    }
}

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

public class Conv2dTests
{
    /// <summary>Every convolution of BVLC GoogLeNet, from its table 1: (name, spatial size, kernel, stride, pad, CI, CO).</summary>
    public static IEnumerable<object[]> GoogLeNetLayers() =>
        GoogLeNet.Convolutions.Select(c => new object[] { c.Name, c.InputSize, c.Kernel, c.Stride, c.Pad, c.Inputs, c.Outputs });

    /// <summary>Odd shapes: tiny images, channel counts off every SIMD width, stride &gt; kernel, asymmetric sizes.</summary>
    public static TheoryData<int, int, int, int, int, int, int, int> OddShapes => new()
    {
        // n, h, w, ci, kernel, stride, pad, co
        { 1, 1, 1, 1, 1, 1, 0, 1 },
        { 1, 1, 1, 3, 3, 1, 1, 4 },
        { 2, 5, 5, 3, 3, 1, 1, 7 },
        { 1, 7, 5, 5, 5, 1, 2, 3 },
        { 3, 6, 7, 2, 3, 2, 1, 5 },
        { 1, 9, 9, 4, 2, 3, 0, 6 },
        { 5, 5, 5, 7, 5, 1, 2, 17 },
        { 2, 8, 8, 13, 1, 1, 0, 33 },
        { 1, 11, 13, 6, 7, 2, 3, 9 },
        { 1, 4, 4, 3, 1, 2, 0, 5 },
        { 1, 5, 5, 1, 5, 1, 0, 2 },
    };

    [Theory]
    [MemberData(nameof(GoogLeNetLayers))]
    public void GoogLeNetLayerForwardMatchesReference(string name, int size, int kernel, int stride, int pad, int ci, int co)
    {
        // Batch 5 where the direct reference stays cheap (14² and 7²), batch 1 everywhere.
        foreach (int batch in size <= 14 ? new[] { 1, 5 } : new[] { 1 })
            CheckForward(WindowGeometry.ConvCaffe(batch, size, size, ci, kernel, stride, pad), co, relu: true, name);
    }

    [Theory]
    [MemberData(nameof(GoogLeNetLayers))]
    public void GoogLeNetLayerBackwardDataMatchesReference(string name, int size, int kernel, int stride, int pad, int ci, int co)
    {
        if (size == 56) size = 28; // conv2's backward reference at 56² is slow; the same kernel, stride and channels at 28²
        CheckBackward(WindowGeometry.ConvCaffe(1, size, size, ci, kernel, stride, pad), co, name, filter: size <= 14);
    }

    [Theory]
    [MemberData(nameof(OddShapes))]
    public void OddShapesMatchReference(int n, int h, int w, int ci, int kernel, int stride, int pad, int co)
    {
        var g = WindowGeometry.ConvCaffe(n, h, w, ci, kernel, stride, pad);
        CheckForward(g, co, relu: false, "odd");
        CheckForward(g, co, relu: true, "odd+relu");
        CheckBackward(g, co, "odd", filter: true);
    }

    [Fact]
    public void TensorFlowSamePaddingIsAsymmetricAndMatchesReference()
    {
        var g = WindowGeometry.Same(2, 7, 8, 3, 3, 3, 2, 2);
        Assert.Equal((4, 4), (g.OutH, g.OutW));
        Assert.Equal((1, 1), (g.PadTop, g.PadBottom)); // (4−1)·2 + 3 − 7 = 2, split evenly
        Assert.Equal((0, 1), (g.PadLeft, g.PadRight)); // (4−1)·2 + 3 − 8 = 1, the odd pixel at the right
        CheckForward(g, 5, relu: false, "SAME");
        CheckBackward(g, 5, "SAME", filter: true);
    }

    [Fact]
    public void WrongShapesThrowNamingBothShapes()
    {
        var g = WindowGeometry.ConvCaffe(1, 5, 5, 3, 3, 1, 1);
        using var x = Tensor.Zeros(1, 5, 5, 4);
        using var w = Tensor.Zeros(3, 3, 3, 2);
        using var y = Tensor.Zeros(1, 5, 5, 2);
        var e = Assert.Throws<ArgumentException>(() => Conv2d.Forward(g, x, w, null, y, false));
        Assert.Contains("[1, 5, 5, 4]", e.Message);
        Assert.Contains("[1, 5, 5, 3]", e.Message);
        using var x3 = Tensor.Zeros(1, 5, 5, 3);
        using var badW = Tensor.Zeros(3, 3, 4, 2);
        e = Assert.Throws<ArgumentException>(() => Conv2d.Forward(g, x3, badW, null, y, false));
        Assert.Contains("[3, 3, 4, 2]", e.Message);
        using var badBias = Tensor.Zeros(3);
        e = Assert.Throws<ArgumentException>(() => Conv2d.Forward(g, x3, w, badBias, y, false));
        Assert.Contains("[3]", e.Message);
        Assert.Throws<ArgumentException>(() => WindowGeometry.ConvCaffe(1, 2, 2, 3, 5, 1, 0));
    }

    private static void CheckForward(WindowGeometry g, int co, bool relu, string what)
    {
        int k = g.KernelH * g.KernelW * g.C;
        var x = Random(g.N * g.H * g.W * g.C, 11);
        var w = Random(k * co, 12);
        var b = Random(co, 13);
        using var X = Tensor.FromSpan(x, g.InputShape);
        using var W = Tensor.FromSpan(w, g.KernelH, g.KernelW, g.C, co);
        using var B = Tensor.FromSpan(b, co);
        using var Y = Tensor.Uninitialized(g.N, g.OutH, g.OutW, co);
        var expected = Conv2dReference.Forward(g, ToDouble(x), ToDouble(w), ToDouble(b), co, relu);
        foreach (var kernel in GemmTests.Kernels)
        {
            Conv2d.Forward(g, X, W, B, Y, relu, kernel);
            AssertClose(expected, Y.Span, 1e-6, DotTolerance(k), $"{what} forward {kernel} {g}");
        }
    }

    private static void CheckBackward(WindowGeometry g, int co, string what, bool filter)
    {
        int k = g.KernelH * g.KernelW * g.C;
        var x = Random(g.N * g.H * g.W * g.C, 21);
        var w = Random(k * co, 22);
        var dy = Random(g.N * g.OutH * g.OutW * co, 23);
        using var X = Tensor.FromSpan(x, g.InputShape);
        using var W = Tensor.FromSpan(w, g.KernelH, g.KernelW, g.C, co);
        using var DY = Tensor.FromSpan(dy, g.N, g.OutH, g.OutW, co);
        using var DX = Tensor.Uninitialized(g.InputShape);
        var expected = ToFloat(Conv2dReference.BackwardData(g, ToDouble(dy), ToDouble(w), co));
        Conv2d.BackwardData(g, DY, W, DX);
        int taps = (g.KernelH + g.StrideH - 1) / g.StrideH * ((g.KernelW + g.StrideW - 1) / g.StrideW) * co;
        AssertClose(expected, DX.Span, 1e-6, DotTolerance(taps), $"{what} backward-data {g}");
        // accumulate adds to what is there
        Conv2d.BackwardData(g, DY, W, DX, accumulate: true);
        AssertClose(expected.Select(v => 2 * v).ToArray(), DX.Span, 1e-6, 2 * DotTolerance(taps), $"{what} backward-data accumulate");
        if (!filter) return;
        using var DW = Tensor.Uninitialized(g.KernelH, g.KernelW, g.C, co);
        using var DB = Tensor.Uninitialized(co);
        var (expectedW, expectedB) = Conv2dReference.BackwardFilter(g, ToDouble(x), ToDouble(dy), co);
        Conv2d.BackwardFilter(g, X, DY, DW, DB);
        AssertClose(expectedW, DW.Span, 1e-6, DotTolerance(g.OutputPixels), $"{what} backward-filter dW {g}");
        AssertClose(expectedB, DB.Span, 1e-6, DotTolerance(g.OutputPixels), $"{what} backward-filter db {g}");
    }
}

public class PoolTests
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

public class LrnTests
{
    public static TheoryData<int, int, int, float> Shapes => new()
    {
        // pixels, channels, size, beta — GoogLeNet's two LRNs at 56², then odd channel counts and windows
        { 56 * 56, 64, 5, 0.75f }, { 56 * 56, 192, 5, 0.75f },
        { 3, 1, 5, 0.75f }, { 4, 2, 5, 0.75f }, { 5, 3, 3, 0.75f }, { 7, 7, 4, 0.6f }, { 2, 17, 5, 0.5f }, { 3, 33, 1, 0.75f },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesReferenceForwardAndBackward(int pixels, int c, int size, float beta)
    {
        // α large enough that the normalisation is visible (GoogLeNet's 1e-4 on ×255 inputs is similar).
        var p = new LrnParameters(size, 0.5f, beta, 1.5f);
        var x = Random(pixels * c, 41, -2, 2);
        using var X = Tensor.FromSpan(x, 1, pixels, 1, c);
        using var Y = Tensor.Uninitialized(1, pixels, 1, c);
        Lrn.Forward(p, X, Y);
        var expected = LrnReference.Forward(p, ToDouble(x), c);
        AssertClose(expected, Y.Span, 1e-6, 1e-5, "LRN forward");
        var dy = Random(x.Length, 42);
        using var DY = Tensor.FromSpan(dy, 1, pixels, 1, c);
        using var DX = Tensor.Uninitialized(1, pixels, 1, c);
        Lrn.Backward(p, X, DY, DX);
        var expectedDx = LrnReference.Backward(p, ToDouble(x), ToDouble(dy), c);
        AssertClose(expectedDx, DX.Span, 1e-6, 1e-5, "LRN backward");
    }
}

public class ElementwiseTests
{
    [Fact]
    public void SoftmaxIsStableAndMatchesDouble()
    {
        var x = new float[] { 1000f, 999f, -1000f, 0f, 1f, 2f, 3f, 4f };
        var y = new float[8];
        Softmax.Forward(x, y, 4);
        var expected = SoftmaxReference.Forward(ToDouble(x), 4);
        for (int i = 0; i < 8; i++) Assert.Equal(expected[i], y[i], 6);
        Softmax.LogForward(x, y, 4);
        expected = SoftmaxReference.Forward(ToDouble(x), 4, log: true);
        for (int i = 0; i < 8; i++) Assert.True(Math.Abs(expected[i] - y[i]) <= 1e-6 * Math.Max(1, Math.Abs(expected[i])), $"log-softmax[{i}]: {y[i]} vs {expected[i]}");
    }

    [Fact]
    public void FullyConnectedMatchesReference()
    {
        int n = 3, inputs = 37, outputs = 29;
        var x = Random(n * inputs, 51); var w = Random(inputs * outputs, 52); var b = Random(outputs, 53);
        using var X = Tensor.FromSpan(x, n, inputs); using var W = Tensor.FromSpan(w, inputs, outputs);
        using var B = Tensor.FromSpan(b, outputs); using var Y = Tensor.Uninitialized(n, outputs);
        FullyConnected.Forward(X, W, B, Y);
        var expected = FullyConnectedReference.Forward(ToDouble(x), ToDouble(w), ToDouble(b), n, inputs, outputs);
        AssertClose(expected.Select(v => (float)v).ToArray(), Y.Span, 1e-6, DotTolerance(inputs), "FC");
        using var badW = Tensor.Zeros(inputs + 1, outputs);
        Assert.Throws<ArgumentException>(() => FullyConnected.Forward(X, badW, B, Y));
    }

    [Fact]
    public void ConcatPlacesPartsAlongChannelsAndBackwardSplitsThem()
    {
        using var a = TestUtil.RandomTensor(1, 2, 3, 3, 1);
        using var b = TestUtil.RandomTensor(2, 2, 3, 3, 5);
        using var y = Tensor.Uninitialized(2, 3, 3, 6);
        ChannelConcat.Forward([a, b], y);
        for (int px = 0; px < 18; px++)
        {
            Assert.Equal(a[px], y[px * 6]);
            for (int c = 0; c < 5; c++) Assert.Equal(b[px * 5 + c], y[px * 6 + 1 + c]);
        }
        using var da = Tensor.Uninitialized(2, 3, 3, 1);
        using var db = Tensor.Uninitialized(2, 3, 3, 5);
        ChannelConcat.Backward(y, [da, db]);
        Assert.Equal(a.ToArray(), da.ToArray());
        Assert.Equal(b.ToArray(), db.ToArray());
        using var wrong = Tensor.Uninitialized(2, 3, 3, 7);
        var e = Assert.Throws<ArgumentException>(() => ChannelConcat.Forward([a, b], wrong));
        Assert.Contains("[2, 3, 3, 7]", e.Message);
    }

    [Fact]
    public void ReluMaskMarksPositiveValuesAndApplyMaskZeroesTheRestAtEveryLength()
    {
        // Lengths across several vector groups (4 vectors narrow to one byte vector) and every tail.
        for (int n = 0; n < 100; n++)
        {
            var y = Random(n, n);
            var mask = new byte[n];
            Relu.Mask(y, mask);
            for (int i = 0; i < n; i++) Assert.Equal(y[i] > 0 ? 1 : 0, mask[i]);
            var g = Random(n, 1000 + n);
            var masked = (float[])g.Clone();
            Relu.ApplyMask(masked, mask);
            for (int i = 0; i < n; i++) Assert.Equal(y[i] > 0 ? g[i] : 0f, masked[i]);
        }
    }
}

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
}
