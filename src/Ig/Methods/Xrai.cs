using System.Diagnostics;
using NativeIg.Autodiff;
using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Ig;

/// <summary>XRAI's settings (Kapishnikov et al. 2019; the defaults are the PAIR saliency library's).</summary>
public sealed record XraiOptions
{
    /// <summary>IG steps per baseline (black and white).</summary>
    public int Steps { get; init; } = 50;
    /// <summary>Path images per forward and backward pass.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Felzenszwalb scales: one over-segmentation each, small regions to large.</summary>
    public IReadOnlyList<double> Scales { get; init; } = [50, 100, 150, 250, 500, 1200];
    /// <summary>Felzenszwalb's smoothing σ.</summary>
    public double Sigma { get; init; } = 0.8;
    /// <summary>Felzenszwalb's smallest region, in pixels.</summary>
    public int MinSegmentSize { get; init; } = 150;
    /// <summary>Each region grows by a disk of this radius (pixels) so that regions overlap and edges are not lost.</summary>
    public int DilationRadius { get; init; } = 5;
    /// <summary>A region that would add fewer new pixels than this is dropped.</summary>
    public int MinPixelDifference { get; init; } = 50;
    /// <summary>What F is for the IG underneath.</summary>
    public TargetOutput Output { get; init; } = TargetOutput.Probability;
    /// <summary>Worker threads for this call (null: <see cref="NativeIg.Tensors.ComputeThreads.Current"/>).</summary>
    public int? Threads { get; init; }
    /// <summary>Told after each batch of path images (see <see cref="IgProgress"/>).</summary>
    public IProgress<IgProgress>? Progress { get; init; }
}

/// <summary>XRAI's answer: a saliency per pixel that is constant on each region, the regions' order, and the IG it was built from.</summary>
public sealed class XraiResult : IDisposable
{
    /// <summary>[H, W]: the attribution density (mean IG per pixel) of the region each pixel joined with; higher is more important.</summary>
    public required Tensor Saliency { get; init; }
    /// <summary>[H·W], row-major: the rank (0 first) of the region each pixel joined with.</summary>
    public required int[] RegionRank { get; init; }
    /// <summary>How many regions were taken before the image was covered.</summary>
    public required int Regions { get; init; }
    /// <summary>Candidate regions over all scales (before dilation-free ones were dropped).</summary>
    public required int CandidateRegions { get; init; }
    /// <summary>The IG underneath (black and white baselines averaged), with its completeness delta.</summary>
    public required IgResult Ig { get; init; }

    /// <summary>
    /// [H·W]: the first regions in XRAI's order that together cover at least <paramref name="fraction"/> of
    /// the image (whole regions, so a little more), the paper's "top k%" picture.
    /// </summary>
    public bool[] TopMask(double fraction)
    {
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), $"fraction must be in (0, 1], got {fraction}.");
        var pixelsPerRank = new int[Regions];
        foreach (int r in RegionRank) pixelsPerRank[r]++;
        int last = 0;
        for (long covered = 0; last < Regions; last++)
        {
            covered += pixelsPerRank[last];
            if (covered >= fraction * RegionRank.Length) break;
        }
        return RegionRank.Select(r => r <= last).ToArray();
    }

    /// <summary>Gives the tensors' storage back.</summary>
    public void Dispose()
    {
        Saliency.Dispose();
        Ig.Dispose();
    }
}

/// <summary>
/// XRAI (Kapishnikov, Bolukbasi, Viégas and Terry 2019): region-based attribution. Algorithm 1 of the paper:
/// <list type="number">
/// <item>Attributions: IG with a black and a white baseline, averaged, summed over channels.</item>
/// <item>Over-segment the image (scaled to [−1, 1]) with <see cref="Felzenszwalb"/> at each scale, and dilate every region.</item>
/// <item>Greedily, until the image is covered: of the regions left, add the one whose not-yet-covered pixels have the
/// highest mean attribution (its gain); those pixels get that gain. Regions that would add fewer than
/// <see cref="XraiOptions.MinPixelDifference"/> new pixels are dropped.</item>
/// </list>
/// </summary>
public static class Xrai
{
    /// <summary>XRAI for <paramref name="target"/> (null: the predicted class) on an image [H, W, C].</summary>
    public static XraiResult Attribute(IDifferentiableModel model, Tensor image, int? target = null, XraiOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(image);
        options ??= new XraiOptions();
        if (options.Scales is null || options.Scales.Count is < 1 or > 32) throw new ArgumentOutOfRangeException(nameof(options), "Scales must hold 1…32 values.");
        if (options.DilationRadius is < 0 or > 64) throw new ArgumentOutOfRangeException(nameof(options), $"DilationRadius must be in 0…64, got {options.DilationRadius}.");
        if (options.MinPixelDifference < 0) throw new ArgumentOutOfRangeException(nameof(options), $"MinPixelDifference must be ≥ 0, got {options.MinPixelDifference}.");
        if (image.Rank != 3) throw new ArgumentException($"XRAI needs an image [H, W, C]; got {image.ShapeString}.", nameof(image));
        // 1. IG from black and from white.
        using var black = Tensor.Zeros(image.Shape.ToArray());
        using var white = Tensor.Filled(1f, image.Shape.ToArray());
        var ig = new IntegratedGradients(model).AttributeAveraged(image, [black, white], target,
            IgOptions.Default with { Steps = options.Steps, BatchSize = options.BatchSize, Output = options.Output, Threads = options.Threads, Progress = options.Progress }, cancellationToken);
        try
        {
            int h = image.Dim(0), w = image.Dim(1), c = image.Dim(2);
            var attribution = new double[h * w];
            var a = ig.Attributions.Span;
            for (int p = 0; p < attribution.Length; p++)
                for (int k = 0; k < c; k++) attribution[p] += a[p * c + k];
            // 2. Regions at every scale, dilated.
            var regions = Regions(image, options, cancellationToken);
            // 3. The greedy ranking.
            var (saliency, rank, taken) = Rank(attribution, regions, options.MinPixelDifference);
            var map = Tensor.Uninitialized(h, w);
            for (int p = 0; p < saliency.Length; p++) map[p] = (float)saliency[p];
            return new XraiResult { Saliency = map, RegionRank = rank, Regions = taken, CandidateRegions = regions.Count, Ig = ig };
        }
        catch
        {
            ig.Dispose();
            throw;
        }
    }

    /// <summary>Every scale's regions as pixel lists (row-major indices), each grown by a disk of the dilation radius.</summary>
    internal static List<int[]> Regions(Tensor image, XraiOptions options, CancellationToken cancellationToken = default)
    {
        int h = image.Dim(0), w = image.Dim(1);
        using var scaled = ScaleToMinusOneOne(image);
        int r = options.DilationRadius;
        var disk = new List<(int Dy, int Dx)>();
        for (int dy = -r; dy <= r; dy++)
            for (int dx = -r; dx <= r; dx++)
                if (dy * dy + dx * dx <= r * r) disk.Add((dy, dx));
        // One graph for every scale; the scales' dilations are independent (one task each, kept in order).
        var segmentations = Felzenszwalb.Segment(scaled, options.Scales, options.Sigma, options.MinSegmentSize);
        cancellationToken.ThrowIfCancellationRequested();
        var perScale = new List<int[]>[options.Scales.Count];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = NativeIg.Tensors.ComputeThreads.Current, CancellationToken = cancellationToken };
        Parallel.For(0, options.Scales.Count, parallel, s =>
        {
            var labels = segmentations[s];
            int count = labels.Max() + 1;
            var members = new List<int>[count];
            for (int l = 0; l < count; l++) members[l] = [];
            for (int p = 0; p < labels.Length; p++) members[labels[p]].Add(p);
            var lastSeen = new int[h * w];
            Array.Fill(lastSeen, -1);
            var grownRegions = new List<int[]>(count);
            for (int l = 0; l < count; l++)
            {
                var grown = new List<int>();
                foreach (int p in members[l])
                {
                    int y = p / w, x = p % w;
                    // Only a pixel on the region's edge reaches outside it; an inner one adds itself.
                    bool edge = x == 0 || x == w - 1 || y == 0 || y == h - 1
                        || labels[p - 1] != l || labels[p + 1] != l || labels[p - w] != l || labels[p + w] != l;
                    if (!edge)
                    {
                        if (lastSeen[p] != l) { lastSeen[p] = l; grown.Add(p); }
                        continue;
                    }
                    foreach (var (dy, dx) in disk)
                    {
                        int yy = y + dy, xx = x + dx;
                        if ((uint)yy >= (uint)h || (uint)xx >= (uint)w) continue;
                        int q = yy * w + xx;
                        if (lastSeen[q] == l) continue;
                        lastSeen[q] = l;
                        grown.Add(q);
                    }
                }
                grown.Sort();
                grownRegions.Add([.. grown]);
            }
            perScale[s] = grownRegions;
        });
        var regions = perScale.SelectMany(r => r).ToList();
        return regions;
    }

    /// <summary>The greedy loop: each pixel's gain, the rank of its region, and how many regions were taken.</summary>
    internal static (double[] Saliency, int[] Rank, int Taken) Rank(double[] attribution, List<int[]> regions, int minPixelDifference)
    {
        int n = attribution.Length;
        var covered = new bool[n];
        var saliency = new double[n];
        var rank = new int[n];
        Array.Fill(saliency, double.NegativeInfinity);
        // Each region's not-yet-covered pixels and their attribution, kept up to date as pixels are covered
        // (through the regions each pixel belongs to), so a round costs one pass over the regions.
        var uncovered = new int[regions.Count];
        var sums = new double[regions.Count];
        var memberships = new int[n + 1];
        for (int r = 0; r < regions.Count; r++)
        {
            uncovered[r] = regions[r].Length;
            foreach (int p in regions[r]) { sums[r] += attribution[p]; memberships[p + 1]++; }
        }
        for (int p = 0; p < n; p++) memberships[p + 1] += memberships[p];
        var containing = new int[memberships[n]];
        var fill = (int[])memberships.Clone();
        for (int r = 0; r < regions.Count; r++)
            foreach (int p in regions[r]) containing[fill[p]++] = r;
        var remaining = new List<int>(Enumerable.Range(0, regions.Count));
        int taken = 0, coveredCount = 0;
        while (coveredCount < n && remaining.Count > 0)
        {
            int best = -1;
            double bestGain = double.NegativeInfinity;
            // Regions that would add too few new pixels are dropped for good (they only shrink).
            remaining.RemoveAll(r => uncovered[r] < Math.Max(minPixelDifference, 1));
            foreach (int r in remaining)
            {
                double gain = sums[r] / uncovered[r];
                if (gain > bestGain) { bestGain = gain; best = r; }
            }
            if (best < 0) break;
            foreach (int p in regions[best])
            {
                if (covered[p]) continue;
                covered[p] = true;
                coveredCount++;
                saliency[p] = bestGain;
                rank[p] = taken;
                for (int m = memberships[p]; m < memberships[p + 1]; m++)
                {
                    uncovered[containing[m]]--;
                    sums[containing[m]] -= attribution[p];
                }
            }
            remaining.Remove(best);
            taken++;
        }
        if (coveredCount < n)
        {
            // What no region covered is one last region, with its own density.
            double sum = 0;
            int count = 0;
            for (int p = 0; p < n; p++) if (!covered[p]) { sum += attribution[p]; count++; }
            for (int p = 0; p < n; p++) if (!covered[p]) { saliency[p] = sum / count; rank[p] = taken; }
            taken++;
        }
        return (saliency, rank, taken);
    }

    private static Tensor ScaleToMinusOneOne(Tensor image)
    {
        var x = image.Span;
        float min = System.Numerics.Tensors.TensorPrimitives.Min(x), max = System.Numerics.Tensors.TensorPrimitives.Max(x);
        var result = Tensor.Uninitialized(image.Shape.ToArray());
        var r = result.Span;
        double range = max - min;
        for (int i = 0; i < r.Length; i++) r[i] = range > 0 ? (float)((x[i] - min) / range * 2 - 1) : 0f;
        return result;
    }
}
