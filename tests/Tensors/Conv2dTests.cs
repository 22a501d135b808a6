using NativeIg.InceptionV1;
using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

[Trait("Category", "Quick")] // dotnet test --filter Category=Quick: the README's quick check
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
