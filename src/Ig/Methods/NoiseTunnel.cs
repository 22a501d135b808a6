using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Ig;

/// <summary>How a noise tunnel combines the attributions of the noisy copies.</summary>
public enum NoiseAggregation
{
    /// <summary>SmoothGrad (Smilkov et al. 2017): their mean.</summary>
    SmoothGrad,
    /// <summary>SmoothGrad²: the mean of their squares.</summary>
    SmoothGradSquared,
    /// <summary>VarGrad (Adebayo et al. 2018): their variance.</summary>
    VarGrad,
}

/// <summary>The noise tunnel's settings: how many noisy copies, how much noise, the seed, and how they combine.</summary>
public sealed record NoiseOptions
{
    /// <summary>Noisy copies of the input (1…10000); SmoothGrad's paper uses 50.</summary>
    public int Samples { get; init; } = 50;
    /// <summary>σ of the Gaussian noise as a fraction of the input's range (max − min); the paper finds 0.1–0.2 works.</summary>
    public double Sigma { get; init; } = 0.15;
    /// <summary>The noise's seed: the same seed gives the same attributions, for any batch size and thread count.</summary>
    public int Seed { get; init; }
    /// <summary>Mean, mean of squares, or variance.</summary>
    public NoiseAggregation Aggregation { get; init; } = NoiseAggregation.SmoothGrad;
}

/// <summary>
/// SmoothGrad, SmoothGrad² and VarGrad around any attribution method (Captum's NoiseTunnel): the method
/// runs on n copies x + ε_k, ε_k ~ N(0, (σ·(max x − min x))²), one after another, and their attributions
/// are combined in float64. Memory is the method's own plus two running sums, for any n.
/// </summary>
public static class NoiseTunnel
{
    /// <summary>The most noisy copies.</summary>
    public const int MaxSamples = 10_000;

    /// <summary>
    /// Combines <paramref name="method"/>'s attributions [H, W, C] over noisy copies of <paramref name="image"/>.
    /// The noise of copy k depends only on the seed and k.
    /// </summary>
    public static Tensor Attribute(Func<Tensor, Tensor> method, Tensor image, NoiseOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(image);
        options ??= new NoiseOptions();
        if (options.Samples is < 1 or > MaxSamples) throw new ArgumentOutOfRangeException(nameof(options), $"Samples must be in 1…{MaxSamples}, got {options.Samples}.");
        if (!(options.Sigma >= 0) || !double.IsFinite(options.Sigma)) throw new ArgumentOutOfRangeException(nameof(options), $"Sigma must be a finite number ≥ 0, got {options.Sigma}.");
        var x = image.Span;
        float range = x.Length == 0 ? 0 : System.Numerics.Tensors.TensorPrimitives.Max(x) - System.Numerics.Tensors.TensorPrimitives.Min(x);
        double sigma = options.Sigma * range;
        var sum = new double[image.Length];
        var sumOfSquares = new double[image.Length];
        using var noisy = Tensor.Uninitialized(image.Shape.ToArray());
        for (int k = 0; k < options.Samples; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var random = new Random(unchecked(options.Seed * 1_000_003 + k)); // copy k's noise: the seed and k only (no per-process hashing)
            var n = noisy.Span;
            for (int i = 0; i < n.Length; i++) n[i] = (float)(x[i] + sigma * Gaussian(random));
            using var attributions = method(noisy);
            Tensor.RequireSameShape(attributions, image, "NoiseTunnel (the method's attributions vs the image)");
            var a = attributions.Span;
            for (int i = 0; i < a.Length; i++)
            {
                sum[i] += a[i];
                sumOfSquares[i] += (double)a[i] * a[i];
            }
        }
        var result = Tensor.Uninitialized(image.Shape.ToArray());
        var r = result.Span;
        int count = options.Samples;
        for (int i = 0; i < r.Length; i++)
        {
            double mean = sum[i] / count, meanOfSquares = sumOfSquares[i] / count;
            r[i] = (float)(options.Aggregation switch
            {
                NoiseAggregation.SmoothGrad => mean,
                NoiseAggregation.SmoothGradSquared => meanOfSquares,
                _ => Math.Max(0, meanOfSquares - mean * mean),
            });
        }
        return result;
    }

    /// <summary>A standard normal draw (Box–Muller), from <paramref name="random"/> alone.</summary>
    private static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
