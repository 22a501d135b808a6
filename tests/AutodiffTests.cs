using NativeIg.Autodiff;
using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>
/// Every op's backward against central finite differences of its double-precision forward
/// (<see cref="DoubleOps"/>). The analytic gradient is float32, so the comparison allows float32
/// rounding: |analytic − numeric| ≤ 1e-4·max|numeric| + 1e-5.
/// </summary>
public class GradientCheckTests
{
    private const double Rtol = 1e-4, Atol = 1e-5;

    /// <summary>Runs op on a recording tape with input x (and seed dL/dy), returns dL/dx.</summary>
    private static float[] Analytic(float[] x, int[] shape, Func<Tape, Variable, Variable> op, int seedSeed, out double[] seed)
    {
        using var X = Tensor.FromSpan(x, shape);
        using var tape = new Tape();
        var input = tape.Input(X);
        var y = op(tape, input);
        using var seedTensor = Tensor.FromSpan(Random(y.Value.Length, seedSeed), y.Value.Shape.ToArray());
        seed = DoubleOps.ToDouble(seedTensor.Span);
        tape.Backward(y, seedTensor);
        var grad = input.Grad!.ToArray();
        input.Grad.Dispose();
        return grad;
    }

    private static void Check(string what, float[] x, int[] shape, Func<Tape, Variable, Variable> op, Func<double[], double[]> reference)
    {
        var analytic = Analytic(x, shape, op, 99, out var seed);
        var numeric = DoubleOps.NumericGradient(reference, DoubleOps.ToDouble(x), seed);
        AssertClose(numeric.Select(v => (float)v).ToArray(), analytic, Atol, Rtol, what);
    }

    public static TheoryData<int, int, int, int, int, int, int> ConvCases => new()
    {
        // n, size, ci, kernel, stride, pad, co
        { 1, 5, 3, 3, 1, 1, 4 }, { 2, 6, 2, 3, 2, 1, 3 }, { 1, 7, 3, 7, 2, 3, 2 }, { 1, 4, 5, 1, 1, 0, 3 }, { 1, 5, 2, 5, 1, 2, 2 },
    };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv2dInputAndFilterGradients(int n, int size, int ci, int kernel, int stride, int pad, int co)
    {
        var g = WindowGeometry.ConvCaffe(n, size, size, ci, kernel, stride, pad);
        var x = Random(n * size * size * ci, 1);
        var w = Random(kernel * kernel * ci * co, 2);
        var b = Random(co, 3);
        foreach (bool relu in new[] { false, true })
        {
            using var W = Tensor.FromSpan(w, kernel, kernel, ci, co);
            using var B = Tensor.FromSpan(b, co);
            var wv = Variable.Parameter(W, "w");
            var bv = Variable.Parameter(B, "b");
            Check($"conv dX relu={relu}", x, g.InputShape, (t, v) => t.Conv2d(v, wv, bv, g, relu),
                xd => DoubleOps.Conv(g, xd, DoubleOps.ToDouble(w), DoubleOps.ToDouble(b), co, relu));
            // dW: the filter is the variable, x fixed
            using var X = Tensor.FromSpan(x, g.InputShape);
            var xv = Variable.Parameter(X, "x");
            Check($"conv dW relu={relu}", w, [kernel, kernel, ci, co], (t, v) => t.Conv2d(xv, v, bv, g, relu),
                wd => DoubleOps.Conv(g, DoubleOps.ToDouble(x), wd, DoubleOps.ToDouble(b), co, relu));
            using var W2 = Tensor.FromSpan(w, kernel, kernel, ci, co);
            var wv2 = Variable.Parameter(W2, "w");
            Check($"conv db relu={relu}", b, [co], (t, v) => t.Conv2d(xv, wv2, v, g, relu),
                bd => DoubleOps.Conv(g, DoubleOps.ToDouble(x), DoubleOps.ToDouble(w), bd, co, relu));
        }
    }

    [Theory]
    [InlineData(1, 6, 3, 3, 2, 0)]
    [InlineData(2, 5, 2, 3, 1, 1)]
    [InlineData(1, 7, 17, 2, 3, 0)]
    public void PoolGradients(int n, int size, int c, int kernel, int stride, int pad)
    {
        var g = WindowGeometry.PoolCaffe(n, size, size, c, kernel, stride, pad);
        var x = Random(n * size * size * c, 4);
        Check("max pool", x, g.InputShape, (t, v) => t.MaxPool(v, g), xd => DoubleOps.MaxPool(g, xd));
        foreach (var divisor in new[] { AvgPoolDivisor.IncludePadding, AvgPoolDivisor.ValidOnly })
            Check($"avg pool {divisor}", x, g.InputShape, (t, v) => t.AvgPool(v, g, divisor), xd => DoubleOps.AvgPool(g, xd, divisor));
    }

    [Theory]
    [InlineData(5, 0.75f, 7)]
    [InlineData(3, 0.6f, 4)]
    [InlineData(4, 0.75f, 9)]
    public void LrnGradient(int size, float beta, int channels)
    {
        var p = new LrnParameters(size, 0.7f, beta, 1.2f);
        var x = Random(2 * 3 * channels, 5, -2, 2);
        Check("lrn", x, [1, 2, 3, channels], (t, v) => t.Lrn(v, p), xd => DoubleOps.Lrn(p, xd, channels));
    }

    [Fact]
    public void SoftmaxAndLogSoftmaxGradients()
    {
        var x = Random(3 * 7, 6, -3, 3);
        Check("softmax", x, [3, 7], (t, v) => t.Softmax(v), xd => DoubleOps.Softmax(xd, 7));
        Check("log-softmax", x, [3, 7], (t, v) => t.LogSoftmax(v), xd => DoubleOps.Softmax(xd, 7, log: true));
    }

    [Fact]
    public void FullyConnectedGradients()
    {
        int n = 2, inputs = 6, outputs = 5;
        var x = Random(n * inputs, 7); var w = Random(inputs * outputs, 8); var b = Random(outputs, 9);
        using var W = Tensor.FromSpan(w, inputs, outputs); using var B = Tensor.FromSpan(b, outputs); using var X = Tensor.FromSpan(x, n, inputs);
        var wv = Variable.Parameter(W, "w"); var bv = Variable.Parameter(B, "b"); var xv = Variable.Parameter(X, "x");
        Check("fc dX", x, [n, inputs], (t, v) => t.FullyConnected(v, wv, bv), xd => DoubleOps.FullyConnected(xd, DoubleOps.ToDouble(w), DoubleOps.ToDouble(b), n, inputs, outputs));
        Check("fc dW", w, [inputs, outputs], (t, v) => t.FullyConnected(xv, v, bv), wd => DoubleOps.FullyConnected(DoubleOps.ToDouble(x), wd, DoubleOps.ToDouble(b), n, inputs, outputs));
        Check("fc db", b, [outputs], (t, v) => t.FullyConnected(xv, wv, v), bd => DoubleOps.FullyConnected(DoubleOps.ToDouble(x), DoubleOps.ToDouble(w), bd, n, inputs, outputs));
    }

    [Fact]
    public void ElementwiseGradients()
    {
        var x = Random(12, 10);
        var other = Random(12, 11);
        using var O = Tensor.FromSpan(other, 3, 4);
        var ov = Variable.Parameter(O, "other");
        Check("relu", x, [3, 4], (t, v) => t.Relu(v), xd => xd.Select(v => Math.Max(v, 0)).ToArray());
        Check("add", x, [3, 4], (t, v) => t.Add(v, ov), xd => xd.Select((v, i) => v + other[i]).ToArray());
        Check("mul", x, [3, 4], (t, v) => t.Mul(v, ov), xd => xd.Select((v, i) => v * other[i]).ToArray());
        Check("add self", x, [3, 4], (t, v) => t.Add(v, v), xd => xd.Select(v => 2 * v).ToArray());
        Check("mul self", x, [3, 4], (t, v) => t.Mul(v, v), xd => xd.Select(v => v * v).ToArray());
        Check("scale", x, [3, 4], (t, v) => t.Scale(v, -2.5f), xd => xd.Select(v => -2.5 * v).ToArray());
        Check("sum", x, [3, 4], (t, v) => t.Sum(v), xd => [xd.Sum()]);
        Check("mean", x, [3, 4], (t, v) => t.Mean(v), xd => [xd.Average()]);
        Check("select column", x, [3, 4], (t, v) => t.SelectColumn(v, 2), xd => [xd[2], xd[6], xd[10]]);
        Check("reshape", x, [3, 4], (t, v) => t.Reshape(v, [2, 6]), xd => xd);
        Check("minimum", x, [3, 4], (t, v) => t.Minimum(v, 0.3f), xd => xd.Select(v => Math.Min(v, 0.3)).ToArray());
        Check("concat", x, [1, 2, 2, 3], (t, v) => t.Concat("c", v, t.Scale(v, 2f)), xd =>
            DoubleOps.Concat([(xd, 3), (xd.Select(v => 2 * v).ToArray(), 3)], 4));
        int[] source = [2, 0, 1];
        float[] scale = [255f, -1f, 0.5f], shift = [-104f, 3f, 0f];
        Check("channel affine", x, [1, 2, 2, 3], (t, v) => t.ChannelAffine(v, source, scale, shift), xd =>
        {
            var y = new double[xd.Length];
            for (int px = 0; px < 4; px++)
                for (int c = 0; c < 3; c++) y[px * 3 + c] = scale[c] * xd[px * 3 + source[c]] + shift[c];
            return y;
        });
    }
}

/// <summary>The tape's contract: accumulation, frozen weights, memory release, clear errors.</summary>
public class TapeTests
{
    [Fact]
    public void GradientsAccumulateWhereAValueIsUsedFourTimes()
    {
        // Like an inception block: four branches read the same input.
        using var X = Tensor.FromSpan([1f, 2f, 3f], 3);
        using var tape = new Tape();
        var x = tape.Input(X);
        var sum = tape.Add(tape.Add(tape.Scale(x, 1f), tape.Scale(x, 2f)), tape.Add(tape.Scale(x, 3f), tape.Relu(x)));
        tape.Backward(tape.Sum(sum));
        Assert.Equal([7f, 7f, 7f], x.Grad!.ToArray());
    }

    [Fact]
    public void FrozenParametersGetNoGradientAndTrainableOnesDo()
    {
        using var W = Tensor.FromSpan(Random(3 * 3 * 2 * 4, 1), 3, 3, 2, 4);
        using var X = Tensor.FromSpan(Random(1 * 4 * 4 * 2, 2), 1, 4, 4, 2);
        var frozen = Variable.Parameter(W, "frozen");
        var trainable = Variable.Parameter(W, "trainable", requiresGrad: true);
        foreach (var w in new[] { frozen, trainable })
        {
            using var tape = new Tape();
            var x = tape.Input(X);
            tape.Backward(tape.Sum(tape.Conv2d(x, w, null, 1, 1)));
            Assert.NotNull(x.Grad);
            Assert.Equal(w.RequiresGrad, w.Grad is not null);
            x.Grad!.Dispose();
            w.ZeroGrad();
        }
    }

    [Fact]
    public void InferenceTapeRecordsNothingAndRefusesBackward()
    {
        using var X = Tensor.FromSpan([1f, -2f], 2);
        using var tape = Tape.ForInference();
        var x = tape.Input(X);
        var y = tape.Sum(tape.Relu(x));
        Assert.Equal(0, tape.RecordedOps);
        Assert.False(y.RequiresGrad);
        Assert.Throws<InvalidOperationException>(() => tape.Backward(y));
    }

    [Fact]
    public void SecondBackwardAndWrongSeedFailClearly()
    {
        using var X = Tensor.FromSpan([1f, 2f, 3f, 4f], 2, 2);
        var tape = new Tape();
        var x = tape.Input(X);
        var y = tape.Softmax(x);
        using var badSeed = Tensor.Zeros(4);
        var e = Assert.Throws<ArgumentException>(() => tape.Backward(y, badSeed));
        Assert.Contains("[4]", e.Message);
        Assert.Contains("[2, 2]", e.Message);
        var vector = Assert.Throws<ArgumentException>(() => tape.Backward(y));
        Assert.Contains("scalar", vector.Message);
        tape.Backward(tape.Sum(y));
        var again = Assert.Throws<InvalidOperationException>(() => tape.Backward(y));
        Assert.Contains("released", again.Message);
        Assert.Throws<InvalidOperationException>(() => tape.Relu(x));
    }

    [Fact]
    public void MismatchedShapesRaise()
    {
        using var A = Tensor.Zeros(2, 3);
        using var B = Tensor.Zeros(3, 2);
        using var tape = new Tape();
        var e = Assert.Throws<ArgumentException>(() => tape.Add(tape.Input(A), tape.Input(B)));
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[3, 2]", e.Message);
    }

    [Fact]
    public void BackwardReleasesTheTapesMemory()
    {
        using var X = Tensor.FromSpan(Random(1 * 8 * 8 * 3, 3), 1, 8, 8, 3);
        using var W = Tensor.FromSpan(Random(3 * 3 * 3 * 4, 4), 3, 3, 3, 4);
        var w = Variable.Parameter(W, "w");
        var tape = new Tape();
        var x = tape.Input(X);
        var hidden = tape.Conv2d(x, w, null, 1, 1, relu: true);
        var output = tape.Sum(hidden);
        tape.Backward(output);
        Assert.True(hidden.Value.IsDisposed);
        Assert.False(X.IsDisposed); // inputs belong to the caller
        x.Grad!.Dispose();
    }

    [Fact]
    public void FreeDropsUnsavedIntermediatesButKeepsWhatBackwardNeeds()
    {
        using var X = Tensor.FromSpan(Random(1 * 4 * 4 * 3, 5), 1, 4, 4, 3);
        using var tape = new Tape();
        var x = tape.Input(X);
        var lrnInput = tape.Scale(x, 2f);
        var normalized = tape.Lrn(lrnInput, new LrnParameters(Size: 5));
        var scaled = tape.Scale(normalized, 3f);
        tape.Free(lrnInput);   // LRN's backward reads its input: kept
        tape.Free(normalized); // Scale's backward reads nothing: freed
        Assert.False(lrnInput.Value.IsDisposed);
        Assert.True(normalized.Value.IsDisposed);
        tape.Backward(tape.Sum(scaled));
        Assert.NotNull(x.Grad);
        x.Grad!.Dispose();
    }
}

/// <summary>A small CNN with every kind of layer Inception has, checked end to end and trained.</summary>
public class CompositeNetworkTests
{
    /// <summary>conv → LRN → max pool → four-branch inception concat → avg pool → FC (logits).</summary>
    internal sealed class TinyInception
    {
        public readonly Variable Conv, ConvB, B1, B3r, B3, B5, PoolProj, Fc, FcB;
        private readonly List<Tensor> _owned = [];

        public TinyInception(bool trainable, int seed, NativeIg.Tensors.Gpu.GpuDevice? device = null)
        {
            Variable P(string name, float scale, params int[] shape)
            {
                using var host = Tensor.FromSpan(Random(Tensor.ElementCount(shape), seed++).Select(v => v * scale).ToArray(), shape);
                var t = host.To(device);
                _owned.Add(t);
                return Variable.Parameter(t, name, trainable);
            }
            Conv = P("conv", 0.5f, 3, 3, 2, 4); ConvB = P("conv_b", 0.1f, 4);
            B1 = P("b1", 0.5f, 1, 1, 4, 2); B3r = P("b3r", 0.5f, 1, 1, 4, 3); B3 = P("b3", 0.3f, 3, 3, 3, 2);
            B5 = P("b5", 0.2f, 5, 5, 4, 2); PoolProj = P("proj", 0.5f, 1, 1, 4, 2);
            Fc = P("fc", 0.5f, 8, 3); FcB = P("fc_b", 0.1f, 3);
        }

        public IEnumerable<Variable> Parameters => [Conv, ConvB, B1, B3r, B3, B5, PoolProj, Fc, FcB];

        public Variable Logits(Tape t, Variable x)
        {
            var h = t.Conv2d(x, Conv, ConvB, 1, 1, relu: true);
            h = t.Lrn(h, new LrnParameters(3, 0.5f, 0.75f, 1f));
            var v = h.Value;
            h = t.MaxPool(h, WindowGeometry.PoolCaffe(v.Dim(0), v.Dim(1), v.Dim(2), v.Dim(3), 3, 2, 0));
            v = h.Value;
            var pool = t.MaxPool(h, WindowGeometry.PoolCaffe(v.Dim(0), v.Dim(1), v.Dim(2), v.Dim(3), 3, 1, 1));
            h = t.Concat("mixed",
                t.Conv2d(h, B1, null, 1, 0, relu: true),
                t.Conv2d(t.Conv2d(h, B3r, null, 1, 0, relu: true), B3, null, 1, 1, relu: true),
                t.Conv2d(h, B5, null, 1, 2, relu: true),
                t.Conv2d(pool, PoolProj, null, 1, 0, relu: true));
            v = h.Value;
            h = t.AvgPool(h, WindowGeometry.PoolCaffe(v.Dim(0), v.Dim(1), v.Dim(2), v.Dim(3), v.Dim(1), 1, 0), AvgPoolDivisor.IncludePadding);
            return t.FullyConnected(h, Fc, FcB);
        }
    }

    private static double[] DoubleLogitsByFiniteDifferenceHelper(TinyInception net, float[] x, int[] shape)
    {
        using var X = Tensor.FromSpan(x, shape);
        using var tape = Tape.ForInference();
        var y = tape.Softmax(net.Logits(tape, tape.Input(X, requiresGrad: false)));
        return DoubleOps.ToDouble(y.Value.Span);
    }

    [Fact]
    public void InputAndParameterGradientsMatchFiniteDifferences()
    {
        // The float forward is evaluated here (no double twin of the whole net), so the step is larger
        // (1e-2) and the tolerance looser: this test catches wiring mistakes, the per-op checks catch maths.
        var net = new TinyInception(trainable: true, seed: 10);
        int[] shape = [2, 9, 9, 2];
        var x = Random(2 * 9 * 9 * 2, 20);
        using var X = Tensor.FromSpan(x, shape);
        using var tape = new Tape();
        var input = tape.Input(X);
        var probabilities = tape.Softmax(net.Logits(tape, input));
        var seed = Random(6, 21);
        using var S = Tensor.FromSpan(seed, 2, 3);
        tape.Backward(probabilities, S);
        var numeric = DoubleOps.NumericGradient(xd => DoubleLogitsByFiniteDifferenceHelper(net, xd.Select(v => (float)v).ToArray(), shape), DoubleOps.ToDouble(x), DoubleOps.ToDouble(seed), 1e-3);
        AssertClose(numeric.Select(v => (float)v).ToArray(), input.Grad!.Span, 2e-4, 2e-2, "tiny inception dX");
        foreach (var p in net.Parameters)
        {
            var original = p.Value.ToArray();
            var numericP = DoubleOps.NumericGradient(pd =>
            {
                pd.Select(v => (float)v).ToArray().CopyTo(p.Value.Span);
                var r = DoubleLogitsByFiniteDifferenceHelper(net, x, shape);
                original.CopyTo(p.Value.Span);
                return r;
            }, DoubleOps.ToDouble(original), DoubleOps.ToDouble(seed), 1e-3);
            AssertClose(numericP.Select(v => (float)v).ToArray(), p.Grad!.Span, 2e-4, 2e-2, $"tiny inception d{p.Name}");
        }
        input.Grad!.Dispose();
    }

    [Fact]
    public void PlainSgdReducesTheLossOnASyntheticProblem()
    {
        // Three classes told apart by which image quadrant is bright: learnable by this net in a few steps.
        var net = new TinyInception(trainable: true, seed: 30);
        int n = 12;
        var images = new float[n * 9 * 9 * 2];
        var onehot = new float[n * 3];
        var random = new System.Random(5);
        for (int i = 0; i < n; i++)
        {
            int label = i % 3;
            onehot[i * 3 + label] = 1;
            for (int y = 0; y < 9; y++)
                for (int x = 0; x < 9; x++)
                {
                    bool bright = label == 0 ? y < 4 : label == 1 ? x < 4 : y >= 5 && x >= 5;
                    for (int c = 0; c < 2; c++) images[((i * 9 + y) * 9 + x) * 2 + c] = (bright ? 1f : 0f) + 0.1f * random.NextSingle();
                }
        }
        using var X = Tensor.FromSpan(images, n, 9, 9, 2);
        using var Y = Tensor.FromSpan(onehot, n, 3);
        var losses = new List<float>();
        for (int step = 0; step < 40; step++)
        {
            using var tape = new Tape();
            var logProbabilities = tape.LogSoftmax(net.Logits(tape, tape.Input(X, requiresGrad: false)));
            var loss = tape.Scale(tape.Mean(tape.Mul(logProbabilities, tape.Input(Y, requiresGrad: false))), -3f);
            losses.Add(loss.Value[0]);
            tape.Backward(loss);
            foreach (var p in net.Parameters)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(p.Grad!.Span, -1.0f, p.Value.Span, p.Value.Span);
                p.ZeroGrad();
            }
        }
        Assert.True(losses[^1] < 0.5f * losses[0], $"loss went from {losses[0]:F4} to {losses[^1]:F4}");
    }

    [Fact]
    public void TutorialSaturatingFunctionNeedsIntegratedGradients()
    {
        // f(x) = min(x, 0.8): df/dx is 1 below 0.8 and 0 above, so the plain gradient at x = 1 says
        // "x does not matter"; integrating the gradient along 0 → 1 recovers the whole f(1) − f(0) = 0.8.
        static float Gradient(float at)
        {
            using var X = Tensor.FromSpan([at], 1);
            using var tape = new Tape();
            var x = tape.Input(X);
            tape.Backward(tape.Minimum(x, 0.8f));
            float g = x.Grad![0];
            x.Grad.Dispose();
            return g;
        }
        Assert.Equal(1f, Gradient(0.5f));
        Assert.Equal(0f, Gradient(1.0f));
        int m = 1000;
        double integral = 0;
        for (int k = 0; k < m; k++) integral += Gradient((k + 0.5f) / m) / m; // midpoint rule
        Assert.Equal(0.8, integral * (1.0 - 0.0), 3);
    }
}
