using NativeIg.Autodiff;
using NativeIg.Ig;
using NativeIg.InceptionV1;
using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>Tiny models whose Integrated Gradients are known in closed form. Images are [1, W, 1].</summary>
internal sealed class FunctionModel(int width, Func<Tape, Variable, Variable> f) : IDifferentiableModel
{
    public int[] ImageShape => [1, width, 1];
    public int Classes => 1;

    /// <summary>Logits [N, 1] = f(pixels [N, W]).</summary>
    public Variable Logits(Tape tape, Variable images) => tape.Reshape(f(tape, tape.Reshape(images, [images.Value.Dim(0), width])), [images.Value.Dim(0), 1]);

    public static Tensor Image(params float[] pixels) => Tensor.FromSpan(pixels, 1, pixels.Length, 1);

    /// <summary>Σ w_i·x_i.</summary>
    public static FunctionModel Linear(float[] w) => new(w.Length, (t, x) =>
    {
        var weights = Variable.Parameter(Tensor.FromSpan(w, w.Length, 1), "w");
        return t.FullyConnected(x, weights, null);
    });

    /// <summary>x₁·x₂.</summary>
    public static FunctionModel Product() => new(2, (t, x) => t.Mul(t.SelectColumn(x, 0), t.SelectColumn(x, 1)));

    /// <summary>ReLU(x − 0.5).</summary>
    public static FunctionModel ShiftedRelu() => new(1, (t, x) =>
        t.Relu(t.Add(t.SelectColumn(x, 0), t.Input(Tensor.Filled(-0.5f, x.Value.Dim(0)), "shift", requiresGrad: false))));

    /// <summary>min(x, 0.8), the tutorial's saturating function.</summary>
    public static FunctionModel Saturating() => new(1, (t, x) => t.Minimum(t.SelectColumn(x, 0), 0.8f));
}

public class IntegratedGradientsAnalyticTests
{
    private static readonly IntegrationRule[] AllRules = Enum.GetValues<IntegrationRule>();

    [Fact]
    public void RulesHaveWeightsSummingToOneAndTheTutorialsAlphas()
    {
        foreach (var rule in AllRules)
            foreach (int m in new[] { 1, 2, 7, 50 })
            {
                var (alphas, weights) = PathRules.AlphasAndWeights(rule, m);
                Assert.Equal(1.0, weights.Sum(), 12);
                Assert.All(alphas, a => Assert.InRange(a, 0.0, 1.0));
            }
        var (trapezoid, tw) = PathRules.AlphasAndWeights(IntegrationRule.Trapezoid, 50);
        Assert.Equal(51, trapezoid.Length);
        Assert.Equal(1.0, trapezoid[^1]); // exactly, as linspace(0, 1, 51)
        Assert.Equal(0.01, tw[0], 15);
        Assert.Throws<ArgumentOutOfRangeException>(() => PathRules.AlphasAndWeights(IntegrationRule.Trapezoid, 0));
    }

    [Fact]
    public void GaussLegendreIsExactForPolynomialsOfDegreeTwoMMinusOne()
    {
        for (int m = 1; m <= 8; m++)
        {
            var (alphas, weights) = PathRules.AlphasAndWeights(IntegrationRule.GaussLegendre, m);
            for (int degree = 0; degree <= 2 * m - 1; degree++)
            {
                double integral = alphas.Select((a, i) => weights[i] * Math.Pow(a, degree)).Sum();
                Assert.Equal(1.0 / (degree + 1), integral, 12);
            }
        }
    }

    [Fact]
    public void LinearModelGivesWeightsTimesInputDifferenceExactly()
    {
        float[] w = [0.5f, -2f, 3f, 0.25f];
        var ig = new IntegratedGradients(FunctionModel.Linear(w));
        using var x = FunctionModel.Image(1f, 2f, -1f, 4f);
        using var baseline = FunctionModel.Image(0.5f, 0f, 1f, 0f);
        foreach (var rule in AllRules)
        {
            using var r = ig.Attribute(x, baseline, 0, steps: 3, batchSize: 2, rule: rule, output: TargetOutput.Logit);
            for (int i = 0; i < 4; i++) Assert.Equal(w[i] * (x[i] - baseline[i]), r.Attributions[i], 5);
            Assert.Equal(0, r.Delta, 5);
        }
    }

    [Fact]
    public void ProductMatchesClosedFormWithinEachRulesErrorOrder()
    {
        // f = x₁x₂, baseline 0: ∂f/∂x₁ along the path is α·x₂, so IG₁ = IG₂ = x₁x₂/2. The integrand is
        // linear in α: trapezoid, midpoint and Gauss–Legendre are exact; left/right Riemann are off by x₁x₂/(2m).
        var ig = new IntegratedGradients(FunctionModel.Product());
        using var x = FunctionModel.Image(3f, 2f);
        using var baseline = FunctionModel.Image(0f, 0f);
        int m = 10;
        foreach (var rule in AllRules)
        {
            using var r = ig.Attribute(x, baseline, 0, m, 4, rule, TargetOutput.Logit);
            double error = rule is IntegrationRule.RiemannLeft or IntegrationRule.RiemannRight ? 6.0 / (2 * m) : 1e-5;
            Assert.InRange(Math.Abs(r.Attributions[0] - 3.0), 0, error + 1e-5);
            Assert.InRange(Math.Abs(r.Attributions[1] - 3.0), 0, error + 1e-5);
        }
    }

    [Fact]
    public void ShiftedReluAndSaturatingFunctionRecoverTheirFullChange()
    {
        // ReLU(x − 0.5) from 0 to 1: the gradient is 1 on (0.5, 1], so IG = 0.5; min(x, 0.8): IG = 0.8.
        // Both integrands jump, so every rule is O(1/m) here.
        int m = 200;
        foreach (var (model, expected) in new[] { (FunctionModel.ShiftedRelu(), 0.5), (FunctionModel.Saturating(), 0.8) })
        {
            var ig = new IntegratedGradients(model);
            using var x = FunctionModel.Image(1f);
            using var baseline = FunctionModel.Image(0f);
            foreach (var rule in AllRules)
            {
                using var r = ig.Attribute(x, baseline, 0, m, 64, rule, TargetOutput.Logit);
                Assert.InRange(r.Attributions[0], expected - 1.0 / m - 1e-5, expected + 1.0 / m + 1e-5);
            }
        }
    }

    [Fact]
    public void AutoStepsDoublesUntilCompletenessHolds()
    {
        var ig = new IntegratedGradients(FunctionModel.ShiftedRelu());
        using var x = FunctionModel.Image(1f);
        using var baseline = FunctionModel.Image(0f);
        // Trapezoid misses 1/(2m) of the 0.5 here: 2% at m = 50, 0.0625% at m = 1600.
        using var r = ig.AutoSteps(x, baseline, 0, tolerance: 1e-3, startSteps: 50, maxSteps: 6400, output: TargetOutput.Logit);
        Assert.Equal(1600, r.Steps);
        Assert.True(r.RelativeDelta <= 1e-3, $"relative delta {r.RelativeDelta}");
        using var capped = ig.AutoSteps(x, baseline, 0, tolerance: 1e-9, startSteps: 50, maxSteps: 100, output: TargetOutput.Logit);
        Assert.Equal(100, capped.Steps);
    }

    [Fact]
    public void BadArgumentsFailBeforeAnyWork()
    {
        int calls = 0;
        var model = new FunctionModel(1, (t, x) => { calls++; return t.SelectColumn(x, 0); });
        var ig = new IntegratedGradients(model);
        using var x = FunctionModel.Image(1f);
        using var baseline = FunctionModel.Image(0f);
        using var wrongBaseline = FunctionModel.Image(0f, 0f);
        Assert.Throws<ArgumentOutOfRangeException>(() => ig.Attribute(x, baseline, 0, steps: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ig.Attribute(x, baseline, 0, batchSize: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ig.Attribute(x, baseline, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ig.Attribute(x, baseline, -1));
        var e = Assert.Throws<ArgumentException>(() => ig.Attribute(x, wrongBaseline, 0));
        Assert.Contains("[1, 2, 1]", e.Message);
        Assert.Equal(0, calls);
    }

    [Fact]
    public void ProgressIsReportedPerChunkAndCancellationStops()
    {
        var ig = new IntegratedGradients(FunctionModel.Saturating());
        using var x = FunctionModel.Image(1f);
        using var baseline = FunctionModel.Image(0f);
        var reports = new List<IgProgress>();
        using (ig.Attribute(x, baseline, 0, steps: 50, batchSize: 16, progress: new SyncProgress(reports.Add))) { }
        Assert.Equal(4, reports.Count); // 51 alphas in chunks of at most 16
        Assert.Equal(51, reports[^1].ImagesDone);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => ig.Attribute(x, baseline, 0, cancellation: cancelled.Token));
    }

    [Fact]
    public void AveragedBaselinesAverageAttributions()
    {
        float[] w = [2f, -1f];
        var ig = new IntegratedGradients(FunctionModel.Linear(w));
        using var x = FunctionModel.Image(1f, 1f);
        using var b1 = FunctionModel.Image(0f, 0f);
        using var b2 = FunctionModel.Image(1f, -1f);
        using var r = ig.AttributeAveraged(x, [b1, b2], 0, steps: 4, output: TargetOutput.Logit);
        Assert.Equal((2f * 1 + 2f * 0) / 2, r.Attributions[0], 5);
        Assert.Equal((-1f * 1 + -1f * 2) / 2, r.Attributions[1], 5);
        Assert.Equal(0, r.Delta, 5);
    }

    [Fact]
    public void TutorialStepsComposeToTheSameAttributions()
    {
        var model = FunctionModel.Product();
        var ig = new IntegratedGradients(model);
        using var x = FunctionModel.Image(3f, 2f);
        using var baseline = FunctionModel.Image(1f, 0.5f);
        var (alphas, weights) = PathRules.AlphasAndWeights(IntegrationRule.Trapezoid, 8);
        using var path = IntegratedGradients.InterpolateImages(baseline, x, alphas);
        var (gradients, _) = ig.ComputeGradients(path, 0, TargetOutput.Logit);
        using (gradients)
        using (var integrated = IntegratedGradients.IntegralApproximation(gradients, weights))
        using (var attributions = IntegratedGradients.ScaleByInputDifference(integrated, x, baseline))
        using (var direct = ig.Attribute(x, baseline, 0, 8, 3, IntegrationRule.Trapezoid, TargetOutput.Logit))
            AssertClose(direct.Attributions.Span, attributions.Span, 1e-6, 1e-6, "tutorial steps vs Attribute");
    }

    private sealed class SyncProgress(Action<IgProgress> report) : IProgress<IgProgress>
    {
        public void Report(IgProgress value) => report(value);
    }
}

[CollectionDefinition("memory", DisableParallelization = true)]
public class MemoryCollection;

[Collection("memory")]
public class IntegratedGradientsMemoryTests
{
    [Fact]
    public void PeakMemoryIsBoundedByTheBatchNotTheSteps()
    {
        // A conv net big enough that its activations dominate: 2000 steps must peak where 50 steps do.
        var w = Tensor.FromSpan(Random(3 * 3 * 3 * 8, 1).Select(v => v * 0.3f).ToArray(), 3, 3, 3, 8);
        var fc = Tensor.FromSpan(Random(8 * 16 * 16, 2).Select(v => v * 0.01f).ToArray(), 8 * 16 * 16, 1);
        var wv = Variable.Parameter(w, "w");
        var fcv = Variable.Parameter(fc, "fc");
        var model = new ConvModel(wv, fcv);
        var ig = new IntegratedGradients(model);
        using var x = TestUtil.RandomTensor(3, 16, 16, 3);
        using var baseline = Tensor.Zeros(16, 16, 3);
        // Start from an empty pool: idle buffers other tests left (of other sizes) would otherwise be
        // taken by the shorter chunks and count at their larger capacity.
        BufferPool.Shared.Clear();
        long Peak(int steps)
        {
            BufferPool.Shared.ResetPeak();
            long before = BufferPool.Shared.LiveBytes;
            using (ig.Attribute(x, baseline, 0, steps, batchSize: 8, output: TargetOutput.Logit)) { }
            return BufferPool.Shared.PeakLiveBytes - before;
        }
        long small = Peak(50), large = Peak(2000);
        Assert.True(large <= small * 1.1, $"peak {large} bytes at 2000 steps vs {small} at 50");
    }

    /// <summary>
    /// Issue 11 item 7: the peak grew with the steps because the chunk size did (26 images at m = 50,
    /// 32 at m = 1000) and a shorter last chunk allocated buffers of its own. Full chunks and reuse of
    /// larger pooled buffers make the peak one full batch at every step count.
    /// </summary>
    [Fact]
    public void PeakMemoryIsTheSameAtEveryStepCount()
    {
        var w = Tensor.FromSpan(Random(3 * 3 * 3 * 8, 4).Select(v => v * 0.3f).ToArray(), 3, 3, 3, 8);
        var fc = Tensor.FromSpan(Random(8 * 16 * 16, 5).Select(v => v * 0.01f).ToArray(), 8 * 16 * 16, 1);
        var ig = new IntegratedGradients(new ConvModel(Variable.Parameter(w, "w"), Variable.Parameter(fc, "fc")));
        using var x = TestUtil.RandomTensor(6, 16, 16, 3);
        using var baseline = Tensor.Zeros(16, 16, 3);
        BufferPool.Shared.Clear(); // start from this test's own buffers only (see above)
        using (ig.Attribute(x, baseline, 0, 20, batchSize: 8, output: TargetOutput.Logit)) { } // warm the pool
        var peaks = new[] { 50, 240, 1000 }.Select(steps =>
        {
            BufferPool.Shared.ResetPeak();
            long before = BufferPool.Shared.LiveBytes;
            long pooledBefore = BufferPool.Shared.PooledBytes;
            using (ig.Attribute(x, baseline, 0, steps, batchSize: 8, output: TargetOutput.Logit)) { }
            return (Steps: steps, Peak: BufferPool.Shared.PeakLiveBytes - before, Growth: BufferPool.Shared.PooledBytes - pooledBefore);
        }).ToArray();
        foreach (var p in peaks)
        {
            Assert.True(Math.Abs(p.Peak - peaks[0].Peak) <= 0.05 * peaks[0].Peak, $"peak {p.Peak} bytes at {p.Steps} steps vs {peaks[0].Peak} at {peaks[0].Steps}");
            // A smaller chunk reuses the full chunks' buffers: the pool may gain a few small ones, not a chunk's worth.
            Assert.True(p.Growth <= 0.02 * peaks[0].Peak, $"the pool grew by {p.Growth} bytes at {p.Steps} steps: a chunk allocated new buffers");
        }
    }

    private sealed class ConvModel(Variable w, Variable fc) : IDifferentiableModel
    {
        public int[] ImageShape => [16, 16, 3];
        public int Classes => 1;
        public Variable Logits(Tape tape, Variable images) => tape.FullyConnected(tape.Conv2d(images, w, null, 1, 1, relu: true), fc, null);
    }
}

[Collection("model")]
public class FireboatIntegratedGradientsTests(ModelFixture fixture)
{
    private IntegratedGradients Ig => new(fixture.Model);

    /// <summary>
    /// Against the float64 reference (black baseline, target 554, probability, trapezoid, m = 50):
    /// relative L2 error ≤ 5e-3 (float32 libtorch lands at ~1e-3) and Σattr within 1e-3.
    /// </summary>
    [Fact]
    public void MatchesTheFloat64Reference()
    {
        using var image = Npy.Read(Shared("reference/fireboat_input.npy"));
        using var baseline = Baselines.Black(224, 224, 3);
        using var r = Ig.Attribute(image, baseline, 554, steps: 50, batchSize: 32);
        AssertMatchesReference(r);
    }

    internal static void AssertMatchesReference(IgResult r)
    {
        var (_, expected) = Npy.ReadDoubles(Shared("reference/fireboat_ig_m50.npy"));
        double num = 0, den = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = r.Attributions[i] - expected[i];
            num += d * d;
            den += expected[i] * expected[i];
        }
        double relativeL2 = Math.Sqrt(num / den);
        Assert.True(relativeL2 <= 5e-3, $"relative L2 error {relativeL2:E3}");
        Assert.InRange(r.Sum, 0.953176 - 1e-3, 0.953176 + 1e-3);
        Assert.Equal(0.943041, r.FInput, 4);
        Assert.Equal(4.43e-6, r.FBaseline, 7);
        Assert.Equal(r.Sum - (r.FInput - r.FBaseline), r.Delta, 9);
    }

    [Fact]
    public void ResultsDoNotDependOnTheBatchSize()
    {
        // Batch sizes that split the 51 alphas differently, including chunks ending one past a boundary.
        using var image = Npy.Read(Shared("reference/fireboat_input.npy"));
        using var baseline = Baselines.Black(224, 224, 3);
        using var reference = Ig.Attribute(image, baseline, 554, 50, 32);
        foreach (int batch in new[] { 1, 7, 51 })
        {
            using var r = Ig.Attribute(image, baseline, 554, 50, batch);
            AssertClose(reference.Attributions.Span, r.Attributions.Span, 0, 1e-6, $"batch {batch} vs 32");
        }
    }

    [Fact]
    public void TwoHundredFortyStepsSatisfyCompletenessWithinOnePercent()
    {
        using var image = ImageLoader.LoadForModel(Shared("images/fireboat.jpg"));
        using var baseline = Baselines.Black(224, 224, 3);
        using var r = Ig.Attribute(image, baseline, 554, steps: 240, batchSize: 32);
        Assert.True(r.RelativeDelta <= 0.01, $"|delta| = {Math.Abs(r.Delta):E3} is {r.RelativeDelta:P2} of F(x) − F(baseline)");
    }
}

public class BaselineAndVisualizationTests
{
    [Fact]
    public void BaselinesHaveTheImagesShapeAndExpectedValues()
    {
        using var image = TestUtil.RandomTensor(1, 9, 7, 3);
        using var black = Baselines.Parse("black", image);
        using var white = Baselines.Parse("white", image);
        using var noise = Baselines.Parse("noise:42", image);
        using var noiseAgain = Baselines.Parse("noise:42", image);
        using var blur = Baselines.Parse("blur:2", image);
        Assert.All(new[] { black, white, noise, blur }, b => Assert.True(b.SameShape(image)));
        Assert.All(black.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(white.ToArray(), v => Assert.Equal(1f, v));
        Assert.Equal(noise.ToArray(), noiseAgain.ToArray());
        Assert.All(noise.ToArray(), v => Assert.InRange(v, 0f, 1f));
        // A blur keeps the mean and lowers the variance.
        Assert.Equal(image.ToArray().Average(), blur.ToArray().Average(), 1);
        Assert.True(Variance(blur.ToArray()) < Variance(image.ToArray()));
        Assert.Throws<ArgumentException>(() => Baselines.Parse("noise:abc", image));
        Assert.Throws<ArgumentException>(() => Baselines.Parse("/no/such/baseline.png", image));
    }

    private static double Variance(float[] v) => v.Select(x => (x - v.Average()) * (x - v.Average())).Average();

    [Fact]
    public void MaskSumsAbsoluteAttributionsOverChannels()
    {
        using var attributions = Tensor.FromSpan([1f, -2f, 3f, -0.5f, 0f, 0.5f], 1, 2, 3);
        using var mask = Visualization.AttributionMask(attributions);
        Assert.Equal([6f, 1f], mask.ToArray());
        using var signed = Visualization.AttributionMask(attributions, signed: true);
        Assert.Equal([2f, 0f], signed.ToArray());
        Assert.Equal([1f, 0f], Visualization.Normalize(mask));
        Assert.Equal(2.5f, Visualization.Percentile([1f, 2f, 3f, 4f], 50));
        Assert.Equal(3.97f, Visualization.Percentile([1f, 2f, 3f, 4f], 99), 5);
        using var spiky = Tensor.FromSpan([0f, 1f, 2f, 100f], 2, 2);
        var clipped = Visualization.Normalize(spiky, clipPercentile: 50);
        Assert.Equal([0f, 0.66667f, 1f, 1f], clipped.Select(v => MathF.Round(v, 5)).ToArray());
    }

    [Fact]
    public void ColormapsAreMatplotlibsTables()
    {
        Assert.Equal(((byte)0, (byte)0, (byte)4), Colormap.Inferno.Map(0f));       // #000004
        Assert.Equal(((byte)252, (byte)255, (byte)164), Colormap.Inferno.Map(1f)); // #FCFFA4
        Assert.Equal(((byte)68, (byte)1, (byte)84), Colormap.Viridis.Map(0f));      // #440154
        Assert.Equal(((byte)253, (byte)231, (byte)37), Colormap.Viridis.Map(1f));   // #FDE725
        // Diverging: a neutral grey at zero (not the white background), blue for negative, orange for positive.
        var middle = Colormap.Diverging.Map(0.5f);
        Assert.True(Math.Abs(middle.R - middle.B) <= 4 && Math.Abs(middle.G - middle.B) <= 4 && middle.R is > 200 and < 240, $"diverging centre {middle} is not a light neutral grey");
        var negative = Colormap.Diverging.Map(0f);
        var positive = Colormap.Diverging.Map(1f);
        Assert.True(negative.B > negative.R && negative.B > negative.G, $"negative end {negative} is not blue");
        Assert.True(positive.R > positive.G && positive.G > positive.B, $"positive end {positive} is not orange");
        Assert.Throws<ArgumentException>(() => Colormap.Parse("jet"));
    }

    [Fact]
    public void FiguresAreWrittenAsReadablePngs()
    {
        var dir = TempDir();
        using var image = TestUtil.RandomTensor(2, 8, 8, 3);
        using var baseline = Baselines.Black(8, 8, 3);
        var normalized = Enumerable.Range(0, 64).Select(i => i / 63f).ToArray();
        using var colored = Visualization.Colorize(normalized, 8, 8, Colormap.Inferno);
        using var overlay = Visualization.Overlay(image, colored);
        Assert.Equal(0.4f * image[0] + 0.6f * colored[0], overlay[0], 6);
        var figure = Visualization.TutorialFigure(baseline, image, colored, overlay, "test");
        var path = Path.Combine(dir, "figure.png");
        figure.SavePng(path);
        var decoded = StbImageSharp.ImageResult.FromMemory(File.ReadAllBytes(path), StbImageSharp.ColorComponents.RedGreenBlue);
        Assert.Equal(figure.Width, decoded.Width);
        Assert.Equal(figure.Height, decoded.Height);
        var plots = Visualization.SaturationPlots([0, 0.5, 1], [0.1, 0.6, 0.9], [0.3, 0.2, 0.1]);
        plots.SavePng(Path.Combine(dir, "saturation.png"));
        Assert.True(new FileInfo(Path.Combine(dir, "saturation.png")).Length > 1000);
    }
}

/// <summary>GoogLeNet and the fireboat's IG on real CUDA against the golden references (skipped, with the reason, without CUDA).</summary>
[Collection("model")]
public class CudaModelTests(ModelFixture fixture)
{
    [CudaFact]
    public void ReferenceProbabilitiesAndFireboatIgOnCuda()
    {
        using var cuda = NativeIg.Tensors.Gpu.GpuDevice.Open("cuda");
        var model = fixture.Model.ToDevice(cuda);
        foreach (var name in new[] { "fireboat", "giant_panda", "city" })
        {
            using var probabilities = ReferenceProbabilityTests.AssertReferenceProbabilities(model, name, "on CUDA");
        }
        var ig = new IntegratedGradients(model);
        using var image = Npy.Read(Shared("reference/fireboat_input.npy"));
        using var baseline = Baselines.Black(224, 224, 3);
        using (var r = ig.Attribute(image, baseline, 554, steps: 50, batchSize: 32))
            FireboatIntegratedGradientsTests.AssertMatchesReference(r);
        using var oneChunk = ig.Attribute(image, baseline, 554, steps: 240, batchSize: 241);
        Assert.True(oneChunk.RelativeDelta <= 0.01, $"m = 240 on CUDA: |delta| is {oneChunk.RelativeDelta:P2} of F(x) − F(baseline)");
    }
}

/// <summary>
/// The whole GoogLeNet through the GPU backend on ILGPU's CPU accelerator: every op dispatch, every real
/// layer shape (conv1's stride, LRN, ceil-rounded pools, concat, FC) against the golden probabilities.
/// One forward at batch 1 takes a few minutes there, so it is the only full-model GPU test without CUDA.
/// </summary>
[Collection("model")]
public class IlgpuCpuModelTests(ModelFixture fixture)
{
    [Fact]
    public void FireboatProbabilitiesThroughTheGpuBackend()
    {
        using var device = NativeIg.Tensors.Gpu.GpuDevice.Open("ilgpu-cpu");
        var model = fixture.Model.ToDevice(device);
        using var probabilities = ReferenceProbabilityTests.AssertReferenceProbabilities(model, "fireboat", "through the GPU backend on ilgpu-cpu");
    }
}
