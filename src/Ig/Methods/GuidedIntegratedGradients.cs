using System.Diagnostics;
using NativeIg.Autodiff;
using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Ig;

/// <summary>Guided IG's settings (Kapishnikov et al. 2021; the defaults are the paper's code's).</summary>
public sealed record GuidedIgOptions
{
    /// <summary>The most steps Guided IG takes.</summary>
    public const int MaxSteps = 100_000;

    /// <summary>Steps along the path (one gradient each, and one at the end); the paper's code uses 200.</summary>
    public int Steps { get; init; } = 200;
    /// <summary>The fraction of features, those with the smallest |gradient|, moved per inner step; the paper uses 0.25.</summary>
    public double Fraction { get; init; } = 0.25;
    /// <summary>How far (in α) a feature may lag behind or run ahead of the straight line; the paper uses 0.02.</summary>
    public double MaxDistance { get; init; } = 0.02;
    /// <summary>
    /// Anchor points on the straight line x′ → x that the path must pass (the paper's "anchors" variant);
    /// 0 for none. The steps are shared among the anchors+1 segments.
    /// </summary>
    public int Anchors { get; init; }
    /// <summary>
    /// Gradients per move of the path, evenly along it and taken in one batch (1: at the move's end only, the
    /// paper's cost). Each move shifts a quarter of the pixels at once through places where F is steep; with
    /// one gradient per move the fireboat's completeness gap at 200 steps was 78% on the probability and 4%
    /// on the logit, with 4 it is 0.73% and 0.10% (about 4× the gradients, in batches of 4).
    /// </summary>
    public int PointsPerMove { get; init; } = 4;
    /// <summary>What F is: the target's probability or its logit.</summary>
    public TargetOutput Output { get; init; } = TargetOutput.Probability;
    /// <summary>Worker threads for this call (null: <see cref="NativeIg.Tensors.ComputeThreads.Current"/>).</summary>
    public int? Threads { get; init; }
    /// <summary>Told after each batch of path images (see <see cref="IgProgress"/>).</summary>
    public IProgress<IgProgress>? Progress { get; init; }
}

/// <summary>
/// Guided Integrated Gradients (Kapishnikov, Venugopalan, Avci, Wedin, Terry and Birdal 2021): instead of
/// the straight line, an adaptive path that at each step moves first the features whose gradient is
/// smallest, so it avoids regions where the model is noisy. Algorithm 1 of the paper, step by step:
/// <list type="number">
/// <item>Start at the baseline; the L1 distance to the input shrinks by 1/T of the total each step.</item>
/// <item>At step t take the gradient g at x; features that fell more than <c>MaxDistance</c> behind α = t/T are moved up to α − MaxDistance.</item>
/// <item>Among the features not yet at their bound α + MaxDistance, pick the <c>Fraction</c> with the smallest |g|, and move them to their bound,
/// or, when that would overshoot the step's L1 target, the part γ of the way that meets it exactly; repeat until the target is met.</item>
/// <item>attributions += (x_new − x_old) ⊙ g.</item>
/// </list>
/// Step 4 here integrates each move of the path with the trapezoid rule on <see cref="GuidedIgOptions.PointsPerMove"/>
/// straight pieces (gradients at both ends of each) where the paper takes one gradient per step at its start:
/// completeness, Σ attributions = F(x) − F(x′), then holds to the rule's error, and <see cref="IgResult.Delta"/>
/// reports what is left. The path is sequential: the pieces of one move form a batch, the moves follow one another.
/// </summary>
public static class GuidedIntegratedGradients
{
    private const double Epsilon = 1e-9;

    /// <summary>Guided IG attributions [H, W, C] of <paramref name="target"/> (null: the predicted class) from <paramref name="baseline"/> (null: black).</summary>
    public static IgResult Attribute(IDifferentiableModel model, Tensor image, Tensor? baseline = null, int? target = null, GuidedIgOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(image);
        options ??= new GuidedIgOptions();
        if (options.Steps is < 1 or > GuidedIgOptions.MaxSteps) throw new ArgumentOutOfRangeException(nameof(options), $"Steps must be in 1…{GuidedIgOptions.MaxSteps}, got {options.Steps}.");
        if (!(options.Fraction > 0 && options.Fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(options), $"Fraction must be in (0, 1], got {options.Fraction}.");
        if (!(options.MaxDistance >= 0 && options.MaxDistance <= 1)) throw new ArgumentOutOfRangeException(nameof(options), $"MaxDistance must be in [0, 1], got {options.MaxDistance}.");
        if (options.PointsPerMove is < 1 or > 64) throw new ArgumentOutOfRangeException(nameof(options), $"PointsPerMove must be in 1…64, got {options.PointsPerMove}.");
        if (options.Anchors < 0 || options.Anchors >= options.Steps) throw new ArgumentOutOfRangeException(nameof(options), $"Anchors must be in 0…{options.Steps - 1} (fewer than the steps), got {options.Anchors}.");
        using var threads = NativeIg.Tensors.ComputeThreads.Limit(options.Threads);
        var clock = Stopwatch.StartNew();
        var gradientClock = new Stopwatch();
        var ig = new IntegratedGradients(model);
        using var black = IntegratedGradients.BlackUnless(baseline, image);
        baseline ??= black!;
        Tensor.RequireSameShape(baseline, image, "GuidedIntegratedGradients (baseline vs image)");
        int cls = ig.TargetOrPredicted(target, image);

        int n = image.Length;
        var input = ToDouble(image);
        var start = ToDouble(baseline);
        var attributions = new double[n];
        var alphas = new List<double>();
        var values = new List<double>();
        var means = new List<double>();
        var x = (double[])start.Clone();
        // Gradients at several points in one batch (the points of one move).
        int imagesDone = 0;
        List<float[]> GradientsAt(IReadOnlyList<double[]> points)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var batch = Tensor.Uninitialized([points.Count, .. image.Shape]);
            var b = batch.Span;
            for (int j = 0; j < points.Count; j++)
                for (int i = 0; i < n; i++) b[j * n + i] = (float)points[j][i];
            gradientClock.Start();
            var (gradients, f) = ig.ComputeGradients(batch, cls, options.Output);
            imagesDone += points.Count;
            options.Progress?.Report(new IgProgress(imagesDone, 0, 0, 1));
            gradientClock.Stop();
            using (gradients)
            {
                var result = new List<float[]>(points.Count);
                for (int j = 0; j < points.Count; j++)
                {
                    var g = gradients.Span.Slice(j * n, n).ToArray();
                    means.Add(System.Numerics.Tensors.TensorPrimitives.Sum(g) / n);
                    values.Add(f[j]);
                    result.Add(g);
                }
                return result;
            }
        }
        (float[] Gradient, float Value) GradientAt(double[] point) => (GradientsAt([point])[0], (float)values[^1]);

        var (gradient, _) = GradientAt(x);
        alphas.Add(0);
        // The anchors split the straight line into segments; each is a guided path of its own.
        int segments = options.Anchors + 1;
        for (int s = 0; s < segments; s++)
        {
            double from = (double)s / segments, to = (double)(s + 1) / segments;
            var segmentStart = Lerp(start, input, from);
            var segmentEnd = s == segments - 1 ? input : Lerp(start, input, to);
            int steps = options.Steps / segments + (s < options.Steps % segments ? 1 : 0);
            var state = new GuidedPath(segmentStart, segmentEnd, options.Fraction, options.MaxDistance);
            if (s > 0) x = segmentStart; // the anchor is exactly on the line
            for (int t = 0; t < steps; t++)
            {
                // One step is a few moves (catch up, then the smallest-gradient features); each move is a
                // segment of the path, with the gradient taken at its end.
                foreach (var point in state.Step(x, gradient, t, steps))
                {
                    // The move x → point, split into PointsPerMove straight pieces whose ends are taken in one batch.
                    int k = options.PointsPerMove;
                    var pieces = new List<double[]>(k);
                    for (int j = 1; j <= k; j++)
                    {
                        if (j == k) { pieces.Add(point); break; }
                        var piece = new double[n];
                        for (int i = 0; i < n; i++) piece[i] = x[i] + (point[i] - x[i]) * j / k;
                        pieces.Add(piece);
                    }
                    var nexts = GradientsAt(pieces);
                    for (int j = 0; j < k; j++)
                    {
                        var (a, b, ga, gb) = (j == 0 ? x : pieces[j - 1], pieces[j], j == 0 ? gradient : nexts[j - 1], nexts[j]);
                        for (int i = 0; i < n; i++) attributions[i] += (b[i] - a[i]) * 0.5 * ((double)ga[i] + gb[i]);
                        if (j < k - 1) alphas.Add(from + (to - from) * (t + 1) / steps);
                    }
                    var next = nexts[^1];
                    gradient = next;
                    x = point;
                    alphas.Add(from + (to - from) * (t + 1) / steps);
                }
            }
        }
        var result = Tensor.Uninitialized(image.Shape.ToArray());
        for (int i = 0; i < n; i++) result[i] = (float)attributions[i];
        return new IgResult
        {
            Attributions = result, Target = cls, Output = options.Output, Rule = IntegrationRule.Trapezoid, Steps = options.Steps,
            FInput = values[^1], FBaseline = values[0], Alphas = [.. alphas], PathValues = [.. values], MeanPathGradients = [.. means],
            Elapsed = clock.Elapsed, GradientTime = gradientClock.Elapsed,
        };
    }

    /// <summary>One guided path from <c>start</c> to <c>end</c>: the inner loop of algorithm 1.</summary>
    private sealed class GuidedPath(double[] start, double[] end, double fraction, double maxDistance)
    {
        private readonly double _l1Total = L1(start, end);

        /// <summary>The points (copies) that move <paramref name="current"/> to step t + 1 of <paramref name="steps"/>, guided by <paramref name="gradient"/>: one per move of the inner loop.</summary>
        public List<double[]> Step(double[] current, float[] gradient, int t, int steps)
        {
            var x = (double[])current.Clone();
            var points = new List<double[]>();
            int n = x.Length;
            if (_l1Total == 0) return [x];
            double alpha = (t + 1.0) / steps;
            double alphaMin = Math.Max(alpha - maxDistance, 0), alphaMax = Math.Min(alpha + maxDistance, 1);
            double l1Target = _l1Total * (1 - (t + 1.0) / steps);
            var magnitude = new double[n];
            List<double[]> Done()
            {
                return points; // none when nothing moved
            }
            while (true)
            {
                bool caughtUp = false;
                // Features that fell behind α − MaxDistance catch up to it.
                for (int i = 0; i < n; i++)
                {
                    double span = end[i] - start[i];
                    double xAlpha = span != 0 ? (x[i] - start[i]) / span : alphaMax;
                    if (xAlpha < alphaMin) { x[i] = start[i] + span * alphaMin; caughtUp = true; }
                }
                if (caughtUp) points.Add((double[])x.Clone());
                double l1Current = L1(x, end);
                if (IsClose(l1Target, l1Current)) return Done();
                // Of the features not at their upper bound, the fraction with the smallest |g|.
                int candidates = 0;
                for (int i = 0; i < n; i++)
                {
                    double upper = start[i] + (end[i] - start[i]) * alphaMax;
                    magnitude[i] = x[i] == upper ? double.PositiveInfinity : Math.Abs(gradient[i]);
                    if (!double.IsPositiveInfinity(magnitude[i])) candidates++;
                }
                if (candidates == 0) return Done(); // everything is at its bound: the step's target is as near as it gets
                double threshold = Quantile(magnitude, fraction);
                double l1Selected = 0;
                for (int i = 0; i < n; i++)
                    if (magnitude[i] <= threshold && !double.IsPositiveInfinity(magnitude[i]))
                        l1Selected += Math.Abs(x[i] - (start[i] + (end[i] - start[i]) * alphaMax));
                double gamma = l1Selected > 0 ? (l1Current - l1Target) / l1Selected : double.PositiveInfinity;
                for (int i = 0; i < n; i++)
                {
                    if (!(magnitude[i] <= threshold) || double.IsPositiveInfinity(magnitude[i])) continue;
                    double upper = start[i] + (end[i] - start[i]) * alphaMax;
                    x[i] = gamma > 1 ? upper : x[i] + (upper - x[i]) * gamma;
                }
                points.Add((double[])x.Clone());
                if (gamma <= 1) return points;
            }
        }
    }

    /// <summary>numpy.quantile(values, q, method='lower'): the ⌊q·(n − 1)⌋-th smallest, by selection (O(n)).</summary>
    internal static double Quantile(double[] values, double q)
    {
        var copy = (double[])values.Clone();
        int k = (int)Math.Floor(q * (copy.Length - 1));
        int lo = 0, hi = copy.Length - 1;
        while (lo < hi)
        {
            // Median-of-three pivot, Hoare partition: deterministic.
            double a = copy[lo], b = copy[(lo + hi) >>> 1], c = copy[hi];
            double pivot = Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c));
            int i = lo, j = hi;
            while (i <= j)
            {
                while (copy[i] < pivot) i++;
                while (copy[j] > pivot) j--;
                if (i <= j) { (copy[i], copy[j]) = (copy[j], copy[i]); i++; j--; }
            }
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return copy[k];
        }
        return copy[k];
    }

    private static bool IsClose(double a, double b) => Math.Abs(a - b) <= Math.Max(Epsilon * Math.Max(Math.Abs(a), Math.Abs(b)), Epsilon);

    private static double L1(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += Math.Abs(a[i] - b[i]);
        return sum;
    }

    private static double[] ToDouble(Tensor t)
    {
        var s = t.Span;
        var r = new double[s.Length];
        for (int i = 0; i < r.Length; i++) r[i] = s[i];
        return r;
    }

    private static double[] Lerp(double[] a, double[] b, double alpha)
    {
        var r = new double[a.Length];
        for (int i = 0; i < r.Length; i++) r[i] = alpha == 1 ? b[i] : a[i] + (b[i] - a[i]) * alpha;
        return r;
    }
}
