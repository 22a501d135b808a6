using NativeIg.Autodiff;
using NativeIg.Ig;
using NativeIg.Tensors;
using Xunit;

namespace NativeIg.Tests;

/// <summary>
/// MethodCheck, as OpCheck is for ops: one row per attribution method, each run on a linear network whose
/// answer is known in closed form — F(x) = Σ_{p,c} v[p,c]·h[p,c] with h = a 1×1 convolution "hidden" of
/// the image — and checked for that closed form, for completeness where the method has it, and for giving
/// bit for bit the same result at batch 1 on one thread as at batch 5 on two. <see cref="EveryMethodHasACase"/>
/// fails when a method the command line or the comparison offers has no row.
/// </summary>
public class MethodCheckTests
{
    private const int H = 3, W = 4, C = 3, Hidden = 2, Pixels = H * W;

    /// <summary>The linear network: image [H, W, 3] → hidden [H, W, 2] (1×1 convolution, named) → one logit.</summary>
    public sealed class LinearNet : IDifferentiableModel
    {
        public readonly float[] Filter = TestUtil.Random(C * Hidden, 41);            // [1, 1, C, Hidden]
        public readonly float[] Readout = TestUtil.Random(Pixels * Hidden, 42);      // [Pixels·Hidden, 1]
        private readonly Variable _filter, _readout;

        public LinearNet()
        {
            _filter = Variable.Parameter(Tensor.FromSpan(Filter, 1, 1, C, Hidden), "filter");
            _readout = Variable.Parameter(Tensor.FromSpan(Readout, Pixels * Hidden, 1), "readout");
        }

        public int[] ImageShape => [H, W, C];
        public int Classes => 1;

        public Variable Logits(Tape tape, Variable images)
        {
            var hidden = tape.Conv2d(images, _filter, null, 1, 0, relu: false, name: "hidden");
            return tape.FullyConnected(tape.Reshape(hidden, [images.Value.Dim(0), Pixels * Hidden]), _readout, null, "logit");
        }

        /// <summary>∂F/∂x[p, i] = Σ_c v[p, c]·w[i, c]: the same at every point, as for any linear F.</summary>
        public double[] InputGradient()
        {
            var g = new double[Pixels * C];
            for (int p = 0; p < Pixels; p++)
                for (int i = 0; i < C; i++)
                    for (int c = 0; c < Hidden; c++) g[p * C + i] += (double)Readout[p * Hidden + c] * Filter[i * Hidden + c];
            return g;
        }

        /// <summary>h[p, c] = Σ_i w[i, c]·x[p, i].</summary>
        public double[] HiddenOf(float[] x)
        {
            var h = new double[Pixels * Hidden];
            for (int p = 0; p < Pixels; p++)
                for (int c = 0; c < Hidden; c++)
                    for (int i = 0; i < C; i++) h[p * Hidden + c] += (double)Filter[i * Hidden + c] * x[p * C + i];
            return h;
        }
    }

    /// <summary>One method: how to run it (batch, threads) and its closed form on <see cref="LinearNet"/> for image x.</summary>
    public sealed record Case(string Method, Func<LinearNet, Tensor, int, int, (float[] Attributions, double? Delta, double Gap)> Run, Func<LinearNet, float[], double[]> Expected)
    {
        public override string ToString() => Method;
    }

    private static IgOptions Ig(int batch, int threads, int steps = 6) => IgOptions.Default with { Steps = steps, BatchSize = batch, Threads = threads, Output = TargetOutput.Logit };

    private static (float[], double?, double) FromResult(IgResult r)
    {
        using (r) return (r.Attributions.ToArray(), r.Delta, r.FInput - r.FBaseline);
    }

    private static (float[], double?, double) FromTensor(Tensor t)
    {
        using (t) return (t.ToArray(), null, 0);
    }

    private static double[] Times(double[] g, Func<int, double> x) => g.Select((v, i) => v * x(i)).ToArray();

    private static readonly NoiseOptions Noise = new() { Samples = 3, Sigma = 0.2, Seed = 5 };
    private const double BlurSigma = 2;

    public static readonly Case[] Cases =
    [
        new("ig", (m, x, b, t) => FromResult(new IntegratedGradients(m).Attribute(x, null, 0, Ig(b, t))),
            (m, x) => Times(m.InputGradient(), i => x[i])),
        new("gradient", (m, x, b, t) => { using var _ = ComputeThreads.Limit(t); return FromTensor(Gradients.Plain(m, x, 0, TargetOutput.Logit)); },
            (m, x) => m.InputGradient()),
        new("grad-x-input", (m, x, b, t) => { using var _ = ComputeThreads.Limit(t); return FromTensor(Gradients.TimesInput(m, x, 0, TargetOutput.Logit)); },
            (m, x) => Times(m.InputGradient(), i => x[i])),
        new("smoothgrad", (m, x, b, t) =>
        {
            using var _ = ComputeThreads.Limit(t);
            return FromTensor(NoiseTunnel.Attribute(noisy => Gradients.Plain(m, noisy, 0, TargetOutput.Logit), x, Noise));
        }, (m, x) => m.InputGradient()),
        // SmoothGrad-IG: the mean of IG over the noisy copies, g ⊙ mean(noisy copy), the copies taken from the tunnel itself.
        new("smoothgrad-ig", (m, x, b, t) => FromTensor(NoiseTunnel.Attribute(noisy =>
        {
            using var r = new IntegratedGradients(m).Attribute(noisy, null, 0, Ig(b, t));
            return r.Attributions.Clone();
        }, x, Noise)), (m, x) =>
        {
            using var x0 = Tensor.FromSpan(x, H, W, C);
            using var mean = NoiseTunnel.Attribute(noisy => noisy.Clone(), x0, Noise);
            var copies = mean.ToArray();
            return Times(m.InputGradient(), i => copies[i]);
        }),
        new("blur-ig", (m, x, b, t) => FromResult(BlurIntegratedGradients.Attribute(m, x, 0,
                new BlurIgOptions { Steps = 6, MaxSigma = BlurSigma, BatchSize = b, Threads = t, Output = TargetOutput.Logit })),
            (m, x) =>
            {
                using var x0 = Tensor.FromSpan(x, H, W, C);
                using var blurred = GaussianBlur.Blur(x0, BlurSigma);
                var start = blurred.ToArray();
                return Times(m.InputGradient(), i => x[i] - start[i]);
            }),
        new("guided-ig", (m, x, b, t) => FromResult(GuidedIntegratedGradients.Attribute(m, x, null, 0,
                new GuidedIgOptions { Steps = 6, Threads = t, Output = TargetOutput.Logit })),
            (m, x) => Times(m.InputGradient(), i => x[i])),
        // XRAI's attributions are IG averaged over the black and the white baseline: g ⊙ (x − ½).
        new("xrai", (m, x, b, t) =>
        {
            using var r = Xrai.Attribute(m, x, 0, new XraiOptions { Steps = 6, BatchSize = b, Threads = t, Output = TargetOutput.Logit, MinSegmentSize = 2 });
            return (r.Ig.Attributions.ToArray(), r.Ig.Delta, r.Ig.FInput - r.Ig.FBaseline);
        }, (m, x) => Times(m.InputGradient(), i => x[i] - 0.5)),
        // At the hidden layer: conductance and layer IG are v ⊙ (h(x) − h(0)); h(0) = 0.
        new("conductance", (m, x, b, t) => FromResult(LayerConductance.Attribute(m, x, "hidden", null, 0, Ig(b, t))),
            (m, x) => m.HiddenOf(x).Select((h, j) => h * m.Readout[j]).ToArray()),
        new("layer-ig", (m, x, b, t) => FromResult(LayerIntegratedGradients.Attribute(m, x, "hidden", null, 0, Ig(b, t))),
            (m, x) => m.HiddenOf(x).Select((h, j) => h * m.Readout[j]).ToArray()),
        // Neuron IG of hidden channel 1's mean: ∂/∂x[p, i] = w[i, 1] / pixels, times x.
        new("neuron-ig", (m, x, b, t) => FromResult(NeuronIntegratedGradients.Attribute(m, x, "hidden", 1, null, Ig(b, t))),
            (m, x) => Enumerable.Range(0, Pixels * C).Select(k => (double)m.Filter[(k % C) * Hidden + 1] / Pixels * x[k]).ToArray()),
    ];

    public static TheoryData<Case> All
    {
        get
        {
            var data = new TheoryData<Case>();
            foreach (var c in Cases) data.Add(c);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void TheMethodGivesItsClosedFormItsCompletenessAndTheSameBitsAtAnyBatchAndThreadCount(Case method)
    {
        var model = new LinearNet();
        var pixels = TestUtil.Random(Pixels * C, 43, 0f, 1f);
        using var x = Tensor.FromSpan(pixels, H, W, C);
        var (attributions, delta, gap) = method.Run(model, x, 1, 1);
        var expected = method.Expected(model, pixels);
        Assert.Equal(expected.Length, attributions.Length);
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(attributions[i] - expected[i]) <= 2e-5 * scale + 1e-7,
                $"{method.Method}: attribution {i} is {attributions[i]}, the closed form {expected[i]}");
        if (delta is { } d) Assert.True(Math.Abs(d) <= 1e-5 * Math.Max(1, Math.Abs(gap)), $"{method.Method}: completeness gap {d} of {gap}");
        var (again, _, _) = method.Run(model, x, 5, 2);
        Assert.Equal(attributions, again); // bit for bit: the batch and the threads change nothing
    }

    [Fact]
    public void EveryMethodHasACase()
    {
        var offered = NativeIg.Cli.MethodSpec.Methods                // explain --method
            .Concat(["layer-ig", "neuron-ig"])                      // explain --layer, --neuron
            .Concat(MethodComparison.MethodNames)                   // compare --methods
            .Distinct().Order().ToArray();
        var covered = Cases.Select(c => c.Method).ToHashSet();
        Assert.Empty(offered.Where(m => !covered.Contains(m)));
    }

    [Fact]
    public void AModelOfYourOwnNeedsOnlyLogitsToPredict()
    {
        IDifferentiableModel model = new LinearNet();
        var pixels = TestUtil.Random(2 * Pixels * C, 44, 0f, 1f);
        using var images = Tensor.FromSpan(pixels, 2, H, W, C);
        using var outputs = model.PredictOutputs(images, threads: 1);
        var g = ((LinearNet)model).InputGradient();
        for (int n = 0; n < 2; n++)
            Assert.Equal(Enumerable.Range(0, Pixels * C).Sum(k => g[k] * pixels[n * Pixels * C + k]), outputs[n], 4);
        using var probabilities = model.PredictProbabilities(images);
        Assert.Equal([1f, 1f], probabilities.ToArray()); // one output: its softmax is 1
        Assert.Null(model.ToModelDevice(images)); // host memory: the images serve as they are
    }
}
