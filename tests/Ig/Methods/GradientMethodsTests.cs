using NativeIg.Ig;
using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>Plain gradients, gradient × input and the noise tunnel (SmoothGrad, SmoothGrad², VarGrad), against closed forms.</summary>
[Collection("model")]
public class GradientMethodsTests(ModelFixture fixture)
{
    private static readonly float[] W = [0.5f, -2f, 3f, 0.25f];

    [SharedFact]
    public void OnALinearModelTheGradientIsTheWeightsAndGradientTimesInputSumsToF()
    {
        var model = FunctionModel.Linear(W);
        using var x = FunctionModel.Image(1f, 2f, -1f, 4f);
        using var g = Gradients.Plain(model, x, 0, TargetOutput.Logit);
        Assert.Equal(W, g.ToArray());
        using var gx = Gradients.TimesInput(model, x, 0, TargetOutput.Logit);
        Assert.Equal(new[] { 0.5f, -4f, -3f, 1f }, gx.ToArray());
        Assert.Equal(0.5 - 4 - 3 + 1, gx.ToArray().Sum(v => (double)v), 6); // = F(x) − F(0) for a linear model without bias
    }

    [SharedFact]
    public void SmoothGradOfALinearModelsGradientIsTheGradientAndVarGradIsZero()
    {
        var model = FunctionModel.Linear(W);
        using var x = FunctionModel.Image(1f, 2f, -1f, 4f);
        Tensor Gradient(Tensor image) => Gradients.Plain(model, image, 0, TargetOutput.Logit);
        using var smooth = NoiseTunnel.Attribute(Gradient, x, new NoiseOptions { Samples = 20, Sigma = 0.3, Seed = 7 });
        Assert.Equal(W, smooth.ToArray());
        using var squared = NoiseTunnel.Attribute(Gradient, x, new NoiseOptions { Samples = 20, Sigma = 0.3, Seed = 7, Aggregation = NoiseAggregation.SmoothGradSquared });
        Assert.Equal(W.Select(w => w * w), squared.ToArray());
        using var variance = NoiseTunnel.Attribute(Gradient, x, new NoiseOptions { Samples = 20, Sigma = 0.3, Seed = 7, Aggregation = NoiseAggregation.VarGrad });
        Assert.All(variance.ToArray(), v => Assert.Equal(0f, v));
    }

    [SharedFact]
    public void TheNoiseIsRealSeededAndScaledByTheInputRange()
    {
        // Identity-like method: the tunnel's mean of (x + ε) tends to x; its variance to σ²·range².
        using var x = FunctionModel.Image(0f, 1f, 2f, 4f); // range 4
        Tensor Identity(Tensor image) => image.Clone();
        var options = new NoiseOptions { Samples = 4000, Sigma = 0.1, Seed = 3, Aggregation = NoiseAggregation.VarGrad };
        using var variance = NoiseTunnel.Attribute(Identity, x, options);
        Assert.All(variance.ToArray(), v => Assert.InRange(v, 0.16f * 0.9f, 0.16f * 1.1f)); // (0.1·4)² = 0.16
        using var again = NoiseTunnel.Attribute(Identity, x, options);
        Assert.Equal(variance.ToArray(), again.ToArray());
        using var other = NoiseTunnel.Attribute(Identity, x, options with { Seed = 4 });
        Assert.NotEqual(variance.ToArray(), other.ToArray());
    }

    [SharedFact]
    public void SmoothGradOfIgIsIdenticalForAnyBatchSizeAndThreadCount()
    {
        var ig = new IntegratedGradients(fixture.Model);
        using var fireboat = Npy.Read(Shared("reference/fireboat_input.npy"));
        Tensor SmoothIg(int batch, int threads)
        {
            var igOptions = IgOptions.Default with { Steps = 3, BatchSize = batch, Threads = threads };
            return NoiseTunnel.Attribute(image => { using var r = ig.Attribute(image, null, 554, igOptions); return r.Attributions.Clone(); },
                fireboat, new NoiseOptions { Samples = 2, Sigma = 0.1, Seed = 11 });
        }
        using var a = SmoothIg(4, 1);
        using var b = SmoothIg(1, 2);
        Assert.Equal(a.ToArray(), b.ToArray());
        Assert.NotEqual(0f, a.ToArray().Max(MathF.Abs));
    }

    [SharedTheory]
    [InlineData(0, 0.1)]
    [InlineData(10_001, 0.1)]
    [InlineData(5, -0.1)]
    [InlineData(5, double.NaN)]
    [InlineData(5, double.PositiveInfinity)]
    public void BadNoiseOptionsAreRefused(int samples, double sigma)
    {
        using var x = FunctionModel.Image(1f, 2f);
        Assert.Throws<ArgumentOutOfRangeException>(() => NoiseTunnel.Attribute(i => i.Clone(), x, new NoiseOptions { Samples = samples, Sigma = sigma }));
    }
}
