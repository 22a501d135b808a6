using NativeIg.Ig;
using NativeIg.InceptionV1;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

[Collection("model")]
public class FireboatIntegratedGradientsTests(ModelFixture fixture)
{
    private IntegratedGradients Ig => new(fixture.Model);

    /// <summary>
    /// Against the float64 reference (black baseline, target 554, probability, trapezoid, m = 50):
    /// relative L2 error ≤ 5e-3 (float32 libtorch lands at ~1e-3) and Σattr within 1e-3.
    /// </summary>
    [Trait("Category", "Quick")]
    [SharedFact]
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
    }

    [SharedFact]
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

    [SharedFact]
    public void TwoHundredFortyStepsSatisfyCompletenessWithinOnePercent()
    {
        using var image = ImageLoader.LoadForModel(Shared("images/fireboat.jpg"));
        using var baseline = Baselines.Black(224, 224, 3);
        using var r = Ig.Attribute(image, baseline, 554, steps: 240, batchSize: 32);
        Assert.True(r.RelativeDelta <= 0.01, $"|delta| = {Math.Abs(r.Delta):E3} is {r.RelativeDelta:P2} of F(x) − F(baseline)");
    }
}
