using System.Reflection;
using NativeIg.Autodiff;
using NativeIg.Tensors;
using Xunit;

namespace NativeIg.Tests;

/// <summary>
/// Every tape op through <see cref="OpCheck"/>: forward against its double reference, backward against
/// finite differences, and the same op on ILGPU's CPU accelerator against the host — one line per case,
/// odd shapes included. <see cref="EveryTapeOpHasACase"/> fails when an op is added without one.
/// </summary>
[Collection("ilgpu")]
[Trait("Category", "Quick")] // dotnet test --filter Category=Quick: the README's quick check
public class OpCheckTests(IlgpuCpuFixture fixture)
{
    private static OpCase Conv((int N, int H, int W, int Ci, int Co) s, WindowGeometry g, bool relu, bool bias = true, bool frozenFilter = false) =>
        new("Conv2d", $"{s.N}x{s.H}x{s.W}x{s.Ci} k{g.KernelH}x{g.KernelW}/{g.StrideH} pad {g.PadTop},{g.PadLeft},{g.PadBottom},{g.PadRight} co {s.Co} relu={relu} bias={bias} frozen={frozenFilter}",
            bias ? [g.InputShape, [g.KernelH, g.KernelW, s.Ci, s.Co], [s.Co]] : [g.InputShape, [g.KernelH, g.KernelW, s.Ci, s.Co]],
            (t, v) => t.Conv2d(v[0], v[1], bias ? v[2] : null, g, relu),
            a => Conv2dReference.Forward(g, a[0], a[1], bias ? a[2] : null, s.Co, relu),
            Frozen: frozenFilter ? (bias ? [1, 2] : [1]) : null);

    private static OpCase CaffeConv(int n, int size, int ci, int kernel, int stride, int pad, int co, bool relu, bool frozen = false) =>
        Conv((n, size, size, ci, co), WindowGeometry.ConvCaffe(n, size, size, ci, kernel, stride, pad), relu, frozenFilter: frozen);

    private static OpCase Pool(string op, WindowGeometry g, AvgPoolDivisor divisor = AvgPoolDivisor.IncludePadding) =>
        new(op, $"{g.N}x{g.H}x{g.W}x{g.C} k{g.KernelH}/{g.StrideH} pad {g.PadTop},{g.PadBottom} {(op == "AvgPool" ? divisor : "")}", [g.InputShape],
            op == "MaxPool" ? (t, v) => t.MaxPool(v[0], g) : (t, v) => t.AvgPool(v[0], g, divisor),
            op == "MaxPool" ? a => Pool2dReference.MaxForward(g, a[0], out _) : a => Pool2dReference.AvgForward(g, a[0], divisor));

    private static OpCase Lrn(int size, float beta, int channels) =>
        new("Lrn", $"size {size} beta {beta} channels {channels}", [[1, 2, 3, channels]],
            (t, v) => t.Lrn(v[0], new LrnParameters(size, 0.7f, beta, 1.2f)),
            a => LrnReference.Forward(new LrnParameters(size, 0.7f, beta, 1.2f), a[0], channels), Low: -2f, High: 2f);

    private static OpCase Elementwise(string op, string label, int inputs, Func<Tape, Variable[], Variable> run, Func<double[][], double[]> reference) =>
        new(op, label, Enumerable.Repeat(new[] { 3, 4 }, inputs).ToArray(), run, reference);

    private static readonly int[] AffineSource = [2, 0, 1];
    private static readonly float[] AffineScale = [255f, -1f, 0.5f], AffineShift = [-104f, 3f, 0f];

    public static IEnumerable<OpCase> Cases()
    {
        // n, size, ci, kernel, stride, pad, co: 3×3 same, strided, conv1's 7×7/2, pointwise, 5×5.
        foreach (bool relu in new[] { false, true })
        {
            yield return CaffeConv(1, 5, 3, 3, 1, 1, 4, relu);
            yield return CaffeConv(2, 6, 2, 3, 2, 1, 3, relu);
            yield return CaffeConv(1, 7, 3, 7, 2, 3, 2, relu);
            yield return CaffeConv(1, 4, 5, 1, 1, 0, 3, relu);
            yield return CaffeConv(1, 5, 2, 5, 1, 2, 2, relu);
        }
        yield return CaffeConv(2, 5, 3, 3, 1, 1, 4, relu: true, frozen: true);   // IG's case: packed frozen filters
        yield return CaffeConv(1, 7, 3, 7, 2, 3, 5, relu: true, frozen: true);
        yield return Conv((1, 6, 5, 2, 3), WindowGeometry.Same(1, 6, 5, 2, 3, 3, 2, 2), relu: false, bias: false); // TF SAME: asymmetric pad
        yield return Conv((2, 5, 7, 3, 2), WindowGeometry.Valid(2, 5, 7, 3, 2, 3, 1, 2), relu: true);
        yield return Conv((1, 8, 8, 3, 4), WindowGeometry.Explicit(1, 8, 8, 3, 3, 3, 2, 2, 1, 2, 2, 1), relu: false, bias: false); // more pad left than right
        yield return Conv((1, 8, 8, 3, 4), WindowGeometry.Explicit(1, 8, 8, 3, 3, 3, 1, 1, 2, 0, 0, 2), relu: false, bias: false);

        // Depthwise: 3×3 same, strided with asymmetric pads, 5×5, frozen filter; channel counts off the vector widths.
        foreach (var (g, bias, frozen) in new[]
        {
            (WindowGeometry.ConvCaffe(2, 6, 6, 5, 3, 1, 1), true, false),
            (WindowGeometry.Explicit(1, 7, 6, 3, 3, 3, 2, 2, 1, 0, 1, 1), false, false),
            (WindowGeometry.ConvCaffe(1, 6, 6, 17, 5, 1, 2), true, false),
            (WindowGeometry.ConvCaffe(2, 5, 5, 9, 3, 2, 1), true, true),
        })
            yield return new("DepthwiseConv2d", $"{g.N}x{g.H}x{g.W}x{g.C} k{g.KernelH}/{g.StrideH} pad {g.PadTop},{g.PadLeft},{g.PadBottom},{g.PadRight} bias={bias} frozen={frozen}",
                bias ? [g.InputShape, [g.KernelH, g.KernelW, g.C], [g.C]] : [g.InputShape, [g.KernelH, g.KernelW, g.C]],
                (t, v) => t.DepthwiseConv2d(v[0], v[1], bias ? v[2] : null, g),
                a => DepthwiseConv2dReference.Forward(g, a[0], a[1], bias ? a[2] : null),
                Frozen: frozen ? [1, 2] : null);

        foreach (var (n, size, c, kernel, stride, pad) in new[] { (1, 6, 3, 3, 2, 0), (2, 5, 2, 3, 1, 1), (1, 7, 17, 2, 3, 0), (1, 8, 9, 3, 2, 1) })
        {
            var g = WindowGeometry.PoolCaffe(n, size, size, c, kernel, stride, pad);
            yield return Pool("MaxPool", g);
            yield return Pool("AvgPool", g, AvgPoolDivisor.IncludePadding);
            yield return Pool("AvgPool", g, AvgPoolDivisor.ValidOnly);
        }
        yield return Lrn(5, 0.75f, 7);   // the fused β = 0.75 path
        yield return Lrn(3, 0.6f, 4);
        yield return Lrn(4, 0.75f, 9);   // even size: the window is asymmetric

        yield return new("Softmax", "3x7", [[3, 7]], (t, v) => t.Softmax(v[0]), a => SoftmaxReference.Forward(a[0], 7), Low: -3f, High: 3f);
        yield return new("LogSoftmax", "3x7", [[3, 7]], (t, v) => t.LogSoftmax(v[0]), a => SoftmaxReference.Forward(a[0], 7, log: true), Low: -3f, High: 3f);

        yield return new("FullyConnected", "2x6 → 5", [[2, 6], [6, 5], [5]], (t, v) => t.FullyConnected(v[0], v[1], v[2]),
            a => FullyConnectedReference.Forward(a[0], a[1], a[2], 2, 6, 5));
        yield return new("FullyConnected", "2x2x1x3 flattened → 4, no bias", [[2, 2, 1, 3], [6, 4]], (t, v) => t.FullyConnected(v[0], v[1], null),
            a => FullyConnectedReference.Forward(a[0], a[1], null, 2, 6, 4));
        yield return new("FullyConnected", "3x7 → 2, frozen", [[3, 7], [7, 2], [2]], (t, v) => t.FullyConnected(v[0], v[1], v[2]),
            a => FullyConnectedReference.Forward(a[0], a[1], a[2], 3, 7, 2), Frozen: [1, 2]);

        yield return new("Concat", "3 + 1 + 2 channels, one part twice", [[1, 2, 3, 3], [1, 2, 3, 1], [1, 2, 3, 2]],
            (t, v) => t.Concat("c", v[0], v[1], v[2], v[0]),
            a => ChannelConcatReference.Forward([(a[0], 3), (a[1], 1), (a[2], 2), (a[0], 3)], 6));
        yield return new("ChannelAffine", "RGB → BGR·scale + shift", [[1, 2, 2, 3]],
            (t, v) => t.ChannelAffine(v[0], AffineSource, AffineScale, AffineShift),
            a => ChannelAffineReference.Forward(a[0], AffineSource, AffineScale, AffineShift));

        yield return new("AddBias", "per channel, 2x3x2x5 + 5", [[2, 3, 2, 5], [5]], (t, v) => t.AddBias(v[0], v[1]), a => AddBiasReference.Forward(a[0], a[1]));
        yield return new("AddBias", "a mean image, 3x2x2x3 + 2x2x3 frozen", [[3, 2, 2, 3], [2, 2, 3]], (t, v) => t.AddBias(v[0], v[1]),
            a => AddBiasReference.Forward(a[0], a[1]), Frozen: [1]);

        // Activations over [−4, 4], which crosses every kink (hard swish's at ±3, clip's at its bounds).
        foreach (var f in new[] { ActivationFunction.LeakyRelu(0.1f), ActivationFunction.Sigmoid, ActivationFunction.Tanh, ActivationFunction.Clip(-0.5f, 2f),
                     ActivationFunction.HardSigmoid(), ActivationFunction.HardSwish })
            yield return new("Activation", $"{f.Kind} 2x3x5", [[2, 3, 5]], (t, v) => t.Activation(v[0], f), a => ActivationReference.Forward(f, a[0]), Low: -4f, High: 4f);

        yield return new("ScaleChannels", "2x3x2x5 by 2x5", [[2, 3, 2, 5], [2, 5]], (t, v) => t.ScaleChannels(v[0], v[1]), a => ScaleChannelsReference.Forward(a[0], a[1], 2, 5));
        yield return new("ScaleChannels", "3x7 by 3x7, the same value twice", [[3, 7]], (t, v) => t.ScaleChannels(v[0], v[0]), a => ScaleChannelsReference.Forward(a[0], a[0], 3, 7));

        yield return new("FlattenChannelsFirst", "2x3x2x5 → 2x30 in NCHW order", [[2, 3, 2, 5]], (t, v) => t.FlattenChannelsFirst(v[0]), a =>
        {
            var y = new double[a[0].Length];
            for (int n = 0; n < 2; n++)
                for (int p = 0; p < 6; p++)
                    for (int c = 0; c < 5; c++) y[(n * 5 + c) * 6 + p] = a[0][(n * 6 + p) * 5 + c];
            return y;
        });
        yield return new("FlattenChannelsFirst", "read twice (accumulating backward)", [[1, 2, 2, 3]], (t, v) => t.Add(t.FlattenChannelsFirst(v[0]), t.FlattenChannelsFirst(v[0])), a =>
        {
            var y = new double[12];
            for (int p = 0; p < 4; p++)
                for (int c = 0; c < 3; c++) y[c * 4 + p] = 2 * a[0][p * 3 + c];
            return y;
        });

        yield return Elementwise("Relu", "3x4", 1, (t, v) => t.Relu(v[0]), a => a[0].Select(x => Math.Max(x, 0)).ToArray());
        yield return Elementwise("Minimum", "3x4 c = 0.3", 1, (t, v) => t.Minimum(v[0], 0.3f), a => a[0].Select(x => Math.Min(x, 0.3)).ToArray());
        yield return Elementwise("Add", "3x4", 2, (t, v) => t.Add(v[0], v[1]), a => a[0].Select((x, i) => x + a[1][i]).ToArray());
        yield return Elementwise("Add", "a value with itself", 1, (t, v) => t.Add(v[0], v[0]), a => a[0].Select(x => 2 * x).ToArray());
        yield return Elementwise("Mul", "3x4", 2, (t, v) => t.Mul(v[0], v[1]), a => a[0].Select((x, i) => x * a[1][i]).ToArray());
        yield return Elementwise("Mul", "a value with itself", 1, (t, v) => t.Mul(v[0], v[0]), a => a[0].Select(x => x * x).ToArray());
        yield return Elementwise("Scale", "3x4 by −2.5", 1, (t, v) => t.Scale(v[0], -2.5f), a => a[0].Select(x => -2.5 * x).ToArray());
        yield return Elementwise("Sum", "3x4", 1, (t, v) => t.Sum(v[0]), a => [a[0].Sum()]);
        yield return Elementwise("Mean", "3x4", 1, (t, v) => t.Mean(v[0]), a => [a[0].Average()]);
        yield return Elementwise("SelectColumn", "column 2 of 3x4", 1, (t, v) => t.SelectColumn(v[0], 2), a => [a[0][2], a[0][6], a[0][10]]);
        yield return Elementwise("Reshape", "3x4 → 2x6", 1, (t, v) => t.Reshape(v[0], [2, 6]), a => a[0]);
        yield return Elementwise("Sum", "after a fan-out into Add and Mul", 1,
            (t, v) => t.Sum(t.Add(t.Mul(v[0], v[0]), t.Scale(v[0], 3f))), a => [a[0].Sum(x => x * x + 3 * x)]);
    }

    public static TheoryData<string> CaseNames => new(Cases().Select(c => c.ToString()));

    private static OpCase Case(string name) => Cases().Single(c => c.ToString() == name);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void HostForwardMatchesReferenceAndBackwardMatchesFiniteDifferences(string name) => OpCheck.OnHost(Case(name));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void IlgpuCpuForwardAndBackwardMatchTheHost(string name) => OpCheck.OnDevice(Case(name), fixture.Device);

    [CudaFact]
    public void CudaForwardAndBackwardMatchTheHost()
    {
        using var cuda = NativeIg.Gpu.GpuDevice.Open("cuda");
        foreach (var c in Cases()) OpCheck.OnDevice(c, cuda);
    }

    [Fact]
    public void EveryTapeOpHasACase()
    {
        var ops = typeof(Tape).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => m.ReturnType == typeof(Variable) && m.Name != nameof(Tape.Input))
            .Select(m => m.Name).Distinct().ToList();
        Assert.NotEmpty(ops);
        var covered = Cases().Select(c => c.Op).ToHashSet();
        var missing = ops.Where(op => !covered.Contains(op)).ToList();
        Assert.True(missing.Count == 0, $"Tape ops without an OpCheck case: {string.Join(", ", missing)}");
        var unknown = covered.Where(op => !ops.Contains(op)).ToList();
        Assert.True(unknown.Count == 0, $"OpCheck cases name ops the tape does not have: {string.Join(", ", unknown)}");
    }
}
