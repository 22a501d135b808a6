using NativeIg.Autodiff;
using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Ig;

/// <summary>One step of a cascading randomisation: the blocks randomised so far and how alike the explanation still is.</summary>
/// <param name="Randomized">The top blocks whose parameters are random at this step (the last one is new).</param>
/// <param name="RankCorrelation">Spearman's ρ between the trained model's and this model's |attributions| summed over channels.</param>
/// <param name="SignedRankCorrelation">Spearman's ρ of the signed attributions summed over channels.</param>
public sealed record RandomizationStep(IReadOnlyList<string> Randomized, double RankCorrelation, double SignedRankCorrelation);

/// <summary>
/// Sanity checks for saliency maps (Adebayo, Gilmer, Muelly, Goodfellow, Hardt and Kim 2018): an
/// explanation that stays the same when the model's top layers are replaced by random ones does not
/// explain the model. Cascading randomisation randomises the blocks from the top down, one more per step,
/// and compares each explanation with the trained model's by rank correlation; a method that depends on
/// the model shows ρ falling well below 1.
/// </summary>
public static class SanityChecks
{
    /// <summary>
    /// Runs <paramref name="explain"/> on the trained model and then on <paramref name="randomizedTop"/>(k) for
    /// k = 1…<paramref name="blocks"/>.Count (the top k blocks random), and returns ρ for each step.
    /// Each randomised model is disposed when <see cref="IDisposable"/> once its step is done.
    /// </summary>
    /// <param name="model">The trained model.</param>
    /// <param name="blocks">Block names, top first (for GoogLeNet, a prefix of <c>GoogLeNet.BlocksTopDown</c>).</param>
    /// <param name="randomizedTop">Makes the model with the first k blocks randomised.</param>
    /// <param name="explain">The method under test: attributions [H, W, C] of a model for the image.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    public static IReadOnlyList<RandomizationStep> CascadingRandomization(IDifferentiableModel model, IReadOnlyList<string> blocks,
        Func<int, IDifferentiableModel> randomizedTop, Func<IDifferentiableModel, Tensor> explain, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(blocks);
        ArgumentNullException.ThrowIfNull(randomizedTop);
        ArgumentNullException.ThrowIfNull(explain);
        double[] reference, referenceAbs;
        using (var trained = explain(model)) (reference, referenceAbs) = ChannelSums(trained);
        var steps = new List<RandomizationStep>();
        for (int k = 1; k <= blocks.Count; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var randomized = randomizedTop(k);
            try
            {
                using var attributions = explain(randomized);
                var (signed, absolute) = ChannelSums(attributions);
                steps.Add(new RandomizationStep(blocks.Take(k).ToArray(), SpearmanRankCorrelation(referenceAbs, absolute), SpearmanRankCorrelation(reference, signed)));
            }
            finally { (randomized as IDisposable)?.Dispose(); }
        }
        return steps;
    }

    /// <summary>Spearman's ρ: the Pearson correlation of the ranks, ties given their mean rank; 0 when either side is constant.</summary>
    public static double SpearmanRankCorrelation(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count != b.Count) throw new ArgumentException($"Rank correlation needs equal lengths; got {a.Count} and {b.Count}.");
        if (a.Count < 2) throw new ArgumentException("Rank correlation needs at least two values.");
        var ra = Ranks(a);
        var rb = Ranks(b);
        double meanA = ra.Average(), meanB = rb.Average();
        double covariance = 0, varianceA = 0, varianceB = 0;
        for (int i = 0; i < ra.Length; i++)
        {
            double da = ra[i] - meanA, db = rb[i] - meanB;
            covariance += da * db; varianceA += da * da; varianceB += db * db;
        }
        return varianceA == 0 || varianceB == 0 ? 0 : covariance / Math.Sqrt(varianceA * varianceB);
    }

    /// <summary>1-based ranks, ties sharing their mean rank; NaN ranks last.</summary>
    private static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).ToArray();
        Array.Sort(order, (i, j) => values[i].CompareTo(values[j]) is var c && c != 0 ? c : i.CompareTo(j));
        var ranks = new double[values.Count];
        for (int i = 0; i < order.Length;)
        {
            int j = i + 1;
            while (j < order.Length && values[order[j]].CompareTo(values[order[i]]) == 0) j++;
            double mean = (i + j + 1) / 2.0; // ranks i+1 … j
            for (int k = i; k < j; k++) ranks[order[k]] = mean;
            i = j;
        }
        return ranks;
    }

    /// <summary>Per pixel: the sum over channels, and the sum of absolute values (the two maps Adebayo et al. compare).</summary>
    private static (double[] Signed, double[] Absolute) ChannelSums(Tensor attributions)
    {
        if (attributions.Rank != 3) throw new ArgumentException($"Attributions must be [H, W, C]; got {attributions.ShapeString}.");
        int c = attributions.Dim(2), pixels = attributions.Length / c;
        var a = attributions.Span;
        var signed = new double[pixels];
        var absolute = new double[pixels];
        for (int p = 0; p < pixels; p++)
            for (int k = 0; k < c; k++) { signed[p] += a[p * c + k]; absolute[p] += Math.Abs(a[p * c + k]); }
        return (signed, absolute);
    }
}
