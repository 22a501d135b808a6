using System.Diagnostics;
using NativeIg.Autodiff;
using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Ig;

/// <summary>Blur IG's settings (Xu et al. 2020; the defaults are the PAIR saliency library's).</summary>
public sealed record BlurIgOptions
{
    /// <summary>The most steps Blur IG takes.</summary>
    public const int MaxSteps = 100_000;

    /// <summary>Steps m along the blur path (m + 1 gradients); the paper's code uses 100.</summary>
    public int Steps { get; init; } = 100;
    /// <summary>σ of the most blurred image, the path's start, in pixels; the paper's code uses 50.</summary>
    public double MaxSigma { get; init; } = 50;
    /// <summary>Path images per forward and backward pass (bounds memory, not the result).</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>What F is: the target's probability or its logit.</summary>
    public TargetOutput Output { get; init; } = TargetOutput.Probability;
    /// <summary>Worker threads for this call (null: <see cref="NativeIg.Tensors.ComputeThreads.Current"/>).</summary>
    public int? Threads { get; init; }
    /// <summary>Told after each batch of path images (see <see cref="IgProgress"/>).</summary>
    public IProgress<IgProgress>? Progress { get; init; }
}

/// <summary>
/// Blur Integrated Gradients (Xu, Venugopalan, Sundararajan, Ehinger and Yuille 2020): the path is the
/// scale space of the image, γ(σ) = x blurred by a Gaussian of σ, from σ_max (the baseline, information
/// removed without inventing a colour) to 0 (the input). Attributions are ∫ ∂F/∂γ · ∂γ/∂σ dσ.
/// Algorithm, as in the paper's section 3:
/// <list type="number">
/// <item>σ_0 = σ_max > σ_1 > … > σ_m = 0: the path from the baseline to x (a geometric grid down to <see cref="MinSigma"/>, then 0).</item>
/// <item>Gradients g_k = ∂F/∂x at γ(σ_k), in batches.</item>
/// <item>attributions = Σ_k ½(g_k + g_{k+1}) ⊙ (γ(σ_{k+1}) − γ(σ_k)).</item>
/// </list>
/// Step 3 uses the path's exact differences and the trapezoid rule where the paper's code uses a
/// finite-difference ∂γ/∂σ, a left sum and a linear σ grid: then completeness, Σ attributions = F(x) − F(γ(σ_max)),
/// holds to O(1/m²), and <see cref="IgResult.Delta"/> reports what is left.
/// </summary>
public static class BlurIntegratedGradients
{
    /// <summary>The smallest σ before the input itself (σ = 0) on the path's grid, in pixels.</summary>
    public const double MinSigma = 0.25;

    /// <summary>Blur IG attributions [H, W, C] of <paramref name="target"/> (null: the predicted class); <see cref="IgResult.FBaseline"/> is F of the most blurred image and <see cref="IgResult.Alphas"/> are the σ's, baseline first.</summary>
    public static IgResult Attribute(IDifferentiableModel model, Tensor image, int? target = null, BlurIgOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(image);
        options ??= new BlurIgOptions();
        if (options.Steps is < 1 or > BlurIgOptions.MaxSteps) throw new ArgumentOutOfRangeException(nameof(options), $"Steps must be in 1…{BlurIgOptions.MaxSteps}, got {options.Steps}.");
        if (!(options.MaxSigma > 0) || options.MaxSigma > 1000) throw new ArgumentOutOfRangeException(nameof(options), $"MaxSigma must be in (0, 1000] pixels, got {options.MaxSigma}.");
        if (options.BatchSize is < 1 or > IntegratedGradients.MaxBatchSize) throw new ArgumentOutOfRangeException(nameof(options), $"BatchSize must be in 1…{IntegratedGradients.MaxBatchSize}, got {options.BatchSize}.");
        using var threads = NativeIg.Tensors.ComputeThreads.Limit(options.Threads);
        var clock = Stopwatch.StartNew();
        var gradientClock = new Stopwatch();
        var ig = new IntegratedGradients(model);
        int cls = ig.TargetOrPredicted(target, image);

        // 1. The σ's from the baseline (σ_max) to the input (0).
        int m = options.Steps;
        var sigmas = new double[m + 1];
        // Geometric from σ_max down to a quarter pixel (a blur that barely changes the image), then 0: a
        // natural image changes about as much per step in log σ at every scale, so the grid puts its points
        // where the picture, and F, change (a linear grid leaves most of F's rise to its last few steps).
        double smallest = Math.Min(MinSigma, options.MaxSigma);
        for (int k = 0; k < m; k++) sigmas[k] = m == 1 ? options.MaxSigma : options.MaxSigma * Math.Pow(smallest / options.MaxSigma, (double)k / (m - 1));
        sigmas[m] = 0;
        var attributions = new double[image.Length];
        var pathValues = new double[m + 1];
        var meanGradients = new double[m + 1];
        // The previous path point and its gradient, for the next segment (two buffers, reused).
        var previousPoint = new float[image.Length];
        var previousGradient = new float[image.Length];
        int largestChunk = 0;
        foreach (var (start, count) in IntegratedGradients.Chunks(m + 1, options.BatchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            // A shorter chunk after full ones reuses their pooled buffers (as IG's path does) instead of
            // making a second set of activations for its own size.
            largestChunk = Math.Max(largestChunk, count);
            using var reuse = NativeIg.Tensors.BufferPool.ScaleRequests(largestChunk, count);
            int size = image.Length;
            using var path = Tensor.Uninitialized([count, .. image.Shape]);
            for (int j = 0; j < count; j++)
            {
                using var blurred = GaussianBlur.Blur(image, sigmas[start + j]);
                blurred.Span.CopyTo(path.Span.Slice(j * size, size));
            }
            // 2. Gradients along the path.
            gradientClock.Start();
            var (gradients, values) = ig.ComputeGradients(path, cls, options.Output);
            gradientClock.Stop();
            using (gradients)
            {
                var g = gradients.Span;
                var p = path.Span;
                for (int j = 0; j < count; j++)
                {
                    var point = p.Slice(j * size, size);
                    var gradient = g.Slice(j * size, size);
                    // 3. The trapezoid rule on the segment from the previous point to this one.
                    if (start + j > 0)
                        for (int i = 0; i < size; i++)
                            attributions[i] += 0.5 * ((double)previousGradient[i] + gradient[i]) * ((double)point[i] - previousPoint[i]);
                    point.CopyTo(previousPoint);
                    gradient.CopyTo(previousGradient);
                    pathValues[start + j] = values[j];
                    meanGradients[start + j] = System.Numerics.Tensors.TensorPrimitives.Sum(gradient) / size;
                    if (j == count - 1) options.Progress?.Report(new IgProgress(start + count, m + 1, 0, 1));
                }
            }
        }
        var result = Tensor.Uninitialized(image.Shape.ToArray());
        for (int i = 0; i < attributions.Length; i++) result[i] = (float)attributions[i];
        return new IgResult
        {
            Attributions = result, Target = cls, Output = options.Output, Rule = IntegrationRule.Trapezoid, Steps = m,
            FInput = pathValues[m], FBaseline = pathValues[0], Alphas = sigmas, PathValues = pathValues, MeanPathGradients = meanGradients,
            Elapsed = clock.Elapsed, GradientTime = gradientClock.Elapsed,
        };
    }
}
