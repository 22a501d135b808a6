using NativeIg.Ig;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

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
