using NativeIg.Autodiff;
using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>A small CNN with every kind of layer Inception has, checked end to end and trained.</summary>
public class CompositeNetworkTests
{
    /// <summary>conv → LRN → max pool → four-branch inception concat → avg pool → FC (logits).</summary>
    internal sealed class TinyInception
    {
        public readonly Variable Conv, ConvB, B1, B3r, B3, B5, PoolProj, Fc, FcB;
        private readonly List<Tensor> _owned = [];

        public TinyInception(bool trainable, int seed, NativeIg.Gpu.GpuDevice? device = null)
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
        return ToDouble(y.Value.Span);
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
        var numeric = OpCheck.NumericGradient(xd => DoubleLogitsByFiniteDifferenceHelper(net, xd.Select(v => (float)v).ToArray(), shape), ToDouble(x), ToDouble(seed), 1e-3);
        AssertClose(numeric.Select(v => (float)v).ToArray(), input.Grad!.Span, 2e-4, 2e-2, "tiny inception dX");
        foreach (var p in net.Parameters)
        {
            var original = p.Value.ToArray();
            var numericP = OpCheck.NumericGradient(pd =>
            {
                pd.Select(v => (float)v).ToArray().CopyTo(p.Value.Span);
                var r = DoubleLogitsByFiniteDifferenceHelper(net, x, shape);
                original.CopyTo(p.Value.Span);
                return r;
            }, ToDouble(original), ToDouble(seed), 1e-3);
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
