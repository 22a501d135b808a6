using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Ig;

/// <summary>
/// Efficient graph-based image segmentation (Felzenszwalb and Huttenlocher 2004), as scikit-image's
/// <c>felzenszwalb</c> defines it, written here for XRAI's regions:
/// <list type="number">
/// <item>Smooth each channel with a Gaussian of σ.</item>
/// <item>Connect every pixel to its 8 neighbours; an edge weighs the Euclidean colour distance of its ends.</item>
/// <item>In order of weight, merge the two components an edge joins when its weight is at most both components'
/// internal difference (their largest merged edge so far) plus (scale / 255) / size.</item>
/// <item>Then merge, in the same order, any component smaller than the minimum size into its neighbour.</item>
/// </list>
/// Equal weights are taken in edge order (a stable sort) and labels are numbered by each region's first
/// pixel in row-major order, so the result is the same on every machine.
/// </summary>
public static class Felzenszwalb
{
    /// <summary>Labels [H, W] (0…regions − 1) for an image [H, W, C]; every pixel gets exactly one.</summary>
    /// <param name="image">The image, any range (XRAI passes it scaled to [−1, 1]).</param>
    /// <param name="scale">Larger means larger regions (XRAI uses 50…1200).</param>
    /// <param name="sigma">The smoothing before segmenting (0.8 in XRAI; 0 for none).</param>
    /// <param name="minSize">The smallest region, in pixels, after the final merge.</param>
    public static int[] Segment(Tensor image, double scale, double sigma = 0.8, int minSize = 20) => Segment(image, [scale], sigma, minSize)[0];

    /// <summary>
    /// The same segmentation at several scales: the smoothing, the graph and its sorted edges are built once
    /// and only the merging (cheap) runs per scale, as XRAI needs.
    /// </summary>
    public static int[][] Segment(Tensor image, IReadOnlyList<double> scales, double sigma = 0.8, int minSize = 20)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(scales);
        if (image.Rank != 3 || image.Length == 0) throw new ArgumentException($"Felzenszwalb needs an image [H, W, C]; got {image.ShapeString}.", nameof(image));
        foreach (double scale in scales)
            if (!(scale > 0) || !double.IsFinite(scale)) throw new ArgumentOutOfRangeException(nameof(scales), $"scale must be a finite number > 0, got {scale}.");
        if (minSize < 0) throw new ArgumentOutOfRangeException(nameof(minSize), $"minSize must be ≥ 0, got {minSize}.");
        int h = image.Dim(0), w = image.Dim(1), c = image.Dim(2);
        // 1. Smooth.
        using var smooth = sigma > 0 ? GaussianBlur.Blur(image, sigma) : image.Clone();
        var x = smooth.Span.ToArray();
        // 2. The 8-connected grid: right, down, down-right, up-right of each pixel.
        var from = new List<int>(4 * h * w);
        var to = new List<int>(4 * h * w);
        var weight = new List<float>(4 * h * w);
        void Edge(int a, int b)
        {
            double sum = 0;
            for (int k = 0; k < c; k++) { double d = x[a * c + k] - x[b * c + k]; sum += d * d; }
            from.Add(a); to.Add(b); weight.Add((float)Math.Sqrt(sum));
        }
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
            {
                int p = i * w + j;
                if (j + 1 < w) Edge(p, p + 1);
                if (i + 1 < h) Edge(p, p + w);
                if (i + 1 < h && j + 1 < w) Edge(p, p + w + 1);
                if (i > 0 && j + 1 < w) Edge(p, p - w + 1);
            }
        var order = Enumerable.Range(0, weight.Count).ToArray();
        var keys = weight.ToArray();
        Array.Sort(keys, order); // Array.Sort is not stable: restore edge order among equal weights below
        StableWithinTies(keys, order);
        var result = new int[scales.Count][];
        for (int s = 0; s < scales.Count; s++) result[s] = Merge(h * w, from, to, weight, order, scales[s], minSize);
        return result;
    }

    /// <summary>Steps 3 and 4 at one scale: the labels, numbered by each region's first pixel.</summary>
    private static int[] Merge(int pixels, List<int> from, List<int> to, List<float> weight, int[] order, double scale, int minSize)
    {
        // 3. Merge by the internal-difference criterion. The scale is divided by 255 as scikit-image does
        // (the reference implementation read 0…255 pixels), so XRAI's scales mean what they mean there.
        double k = scale / 255.0;
        var sets = new DisjointSets(pixels);
        var internalDifference = new double[pixels];
        foreach (int e in order)
        {
            int a = sets.Find(from[e]), b = sets.Find(to[e]);
            if (a == b) continue;
            double cost = weight[e];
            if (cost <= internalDifference[a] + k / sets.Size(a) && cost <= internalDifference[b] + k / sets.Size(b))
            {
                int root = sets.Union(a, b);
                internalDifference[root] = cost;
            }
        }
        // 4. Small components join a neighbour.
        foreach (int e in order)
        {
            int a = sets.Find(from[e]), b = sets.Find(to[e]);
            if (a != b && (sets.Size(a) < minSize || sets.Size(b) < minSize)) sets.Union(a, b);
        }
        var labels = new int[pixels];
        var numbers = new Dictionary<int, int>();
        for (int p = 0; p < labels.Length; p++)
        {
            int root = sets.Find(p);
            if (!numbers.TryGetValue(root, out int label)) numbers[root] = label = numbers.Count;
            labels[p] = label;
        }
        return labels;
    }

    /// <summary>Sorts each run of equal keys by edge index, so ties are broken by position, not by the sort's internals.</summary>
    private static void StableWithinTies(float[] keys, int[] order)
    {
        for (int i = 0; i < keys.Length;)
        {
            int j = i + 1;
            while (j < keys.Length && keys[j] == keys[i]) j++;
            if (j - i > 1) Array.Sort(order, i, j - i);
            i = j;
        }
    }

    /// <summary>Union–find with union by size and path halving.</summary>
    private sealed class DisjointSets
    {
        private readonly int[] _parent;
        private readonly int[] _size;

        public DisjointSets(int count)
        {
            _parent = new int[count];
            _size = new int[count];
            for (int i = 0; i < count; i++) { _parent[i] = i; _size[i] = 1; }
        }

        public int Find(int p)
        {
            while (_parent[p] != p) p = _parent[p] = _parent[_parent[p]];
            return p;
        }

        public int Size(int root) => _size[root];

        public int Union(int a, int b)
        {
            if (_size[a] < _size[b] || _size[a] == _size[b] && b < a) (a, b) = (b, a);
            _parent[b] = a;
            _size[a] += _size[b];
            return a;
        }
    }
}
