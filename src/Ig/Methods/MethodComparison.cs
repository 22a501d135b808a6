using System.Diagnostics;
using NativeIg.Autodiff;
using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Ig;

/// <summary>The settings of a side-by-side comparison; each method's defaults are its paper's, SmoothGrad's copies are fewer to keep it under a minute.</summary>
public sealed record ComparisonOptions
{
    /// <summary>IG's steps (and XRAI's, per baseline).</summary>
    public int Steps { get; init; } = 50;
    /// <summary>SmoothGrad-IG: noisy copies.</summary>
    public int NoiseSamples { get; init; } = 10;
    /// <summary>SmoothGrad-IG: σ as a fraction of the input's range.</summary>
    public double NoiseSigma { get; init; } = 0.15;
    /// <summary>SmoothGrad-IG: IG steps per noisy copy.</summary>
    public int NoiseSteps { get; init; } = 20;
    /// <summary>SmoothGrad-IG: the noise's seed.</summary>
    public int Seed { get; init; }
    /// <summary>Blur IG's steps.</summary>
    public int BlurSteps { get; init; } = 100;
    /// <summary>Blur IG's largest σ, in pixels.</summary>
    public double MaxSigma { get; init; } = 50;
    /// <summary>Guided IG's steps.</summary>
    public int GuidedSteps { get; init; } = 200;
    /// <summary>The share of the image XRAI's picture shows (its top regions).</summary>
    public double TopFraction { get; init; } = 0.3;
    /// <summary>What F is, for every method.</summary>
    public TargetOutput Output { get; init; } = TargetOutput.Probability;
    /// <summary>Path images per forward and backward pass.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Worker threads (null: <see cref="NativeIg.Tensors.ComputeThreads.Current"/>).</summary>
    public int? Threads { get; init; }
    /// <summary>Told the name of each method as it finishes.</summary>
    public IProgress<MethodOutcome>? Progress { get; init; }
    /// <summary>Told after each batch of path images, with the method's name (a long Guided IG is not silent).</summary>
    public IProgress<(string Method, IgProgress Progress)>? PathProgress { get; init; }
    /// <summary>Which methods run, by <see cref="MethodComparison.MethodNames"/> (null: all of them, in the figure's order).</summary>
    public IReadOnlyList<string>? Methods { get; init; }
}

/// <summary>One method's attributions [H, W, C] in a comparison, its completeness gap where it has one, and its cost.</summary>
/// <param name="Name">The method as the figure titles it.</param>
/// <param name="Attributions">[H, W, C].</param>
/// <param name="RelativeDelta">|Σ attributions − (F(x) − F(x′))| / |F(x) − F(x′)|; null for methods without completeness (SmoothGrad).</param>
/// <param name="GradientImages">Forward and backward passes of one image it took: its cost in path images.</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record MethodOutcome(string Name, Tensor Attributions, double? RelativeDelta, int GradientImages, TimeSpan Elapsed);

/// <summary>The methods of one comparison, in the figure's order, and XRAI's regions.</summary>
public sealed class ComparisonResult : IDisposable
{
    /// <summary>IG, SmoothGrad-IG, Blur IG, Guided IG, XRAI (its IG underneath).</summary>
    public required IReadOnlyList<MethodOutcome> Methods { get; init; }
    /// <summary>XRAI's regions and saliency; null when XRAI was not among the methods run.</summary>
    public required XraiResult? Xrai { get; init; }
    /// <summary>The class explained.</summary>
    public required int Target { get; init; }

    /// <summary>Gives every tensor back.</summary>
    public void Dispose()
    {
        foreach (var m in Methods) if (!ReferenceEquals(m.Attributions, Xrai?.Ig.Attributions)) m.Attributions.Dispose();
        Xrai?.Dispose();
    }
}

/// <summary>
/// Every method on one image, for the side-by-side figure users look at before they trust one: the
/// original, IG, SmoothGrad-IG, Blur IG, Guided IG and XRAI's top regions, each map clipped at the same
/// percentile and drawn with the same colour scale.
/// </summary>
public static class MethodComparison
{
    /// <summary>The methods a comparison can run, in the figure's order: IG, SmoothGrad-IG, Blur IG, Guided IG, XRAI.</summary>
    public static IReadOnlyList<string> MethodNames { get; } = ["ig", "smoothgrad-ig", "blur-ig", "guided-ig", "xrai"];

    /// <summary>
    /// What each method costs in path images (forward and backward passes of one image) with these
    /// options, as a text for a help or a plan: Guided IG's is a lower bound, since its moves follow the gradients.
    /// </summary>
    public static string Cost(string method, ComparisonOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return method switch
        {
            "ig" => $"{options.Steps + 1}",
            "smoothgrad-ig" => $"{options.NoiseSamples * (options.NoiseSteps + 1)}",
            "blur-ig" => $"{options.BlurSteps + 1}",
            "guided-ig" => $"at least {options.GuidedSteps * new GuidedIgOptions().PointsPerMove + 1} (its moves follow the gradients)",
            "xrai" => $"{2 * (options.Steps + 1)}",
            _ => throw new ArgumentException($"Unknown method '{method}'; a comparison runs {string.Join(", ", MethodNames)}.", nameof(method)),
        };
    }

    /// <summary>Runs the chosen methods (<see cref="ComparisonOptions.Methods"/>, all by default) for <paramref name="target"/> (null: the predicted class), one after another.</summary>
    public static ComparisonResult Run(IDifferentiableModel model, Tensor image, int? target = null, ComparisonOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(image);
        options ??= new ComparisonOptions();
        if (!(options.TopFraction > 0 && options.TopFraction <= 1)) throw new ArgumentOutOfRangeException(nameof(options), $"TopFraction must be in (0, 1], got {options.TopFraction}.");
        var chosen = options.Methods ?? MethodNames;
        if (chosen.Count == 0) throw new ArgumentException("Methods is empty; name at least one.", nameof(options));
        foreach (var name in chosen)
            if (!MethodNames.Contains(name)) throw new ArgumentException($"Unknown method '{name}'; a comparison runs {string.Join(", ", MethodNames)}.", nameof(options));
        bool Runs(string name) => chosen.Contains(name);
        IProgress<IgProgress>? PathProgress(string method) =>
            options.PathProgress is { } p ? new Progress<IgProgress>(v => p.Report((method, v))) : null;
        using var threads = NativeIg.Tensors.ComputeThreads.Limit(options.Threads);
        var ig = new IntegratedGradients(model);
        int cls = target ?? ig.PredictedClass(image);
        var igOptions = IgOptions.Default with { Steps = options.Steps, BatchSize = options.BatchSize, Output = options.Output };
        var methods = new List<MethodOutcome>();
        void Add(MethodOutcome outcome)
        {
            methods.Add(outcome);
            options.Progress?.Report(outcome);
        }
        XraiResult? xrai = null;
        try
        {
            var clock = Stopwatch.StartNew();
            if (Runs("ig"))
                using (var r = ig.Attribute(image, null, cls, igOptions with { Progress = PathProgress("Integrated Gradients") }, cancellationToken))
                    Add(new MethodOutcome("Integrated Gradients", r.Attributions.Clone(), r.RelativeDelta, r.Alphas.Length, clock.Elapsed));

            clock.Restart();
            if (Runs("smoothgrad-ig"))
            {
                var noisyIg = igOptions with { Steps = options.NoiseSteps, Progress = PathProgress("SmoothGrad-IG") };
                var smooth = NoiseTunnel.Attribute(noisy =>
                {
                    using var r = ig.Attribute(noisy, null, cls, noisyIg, cancellationToken);
                    return r.Attributions.Clone();
                }, image, new NoiseOptions { Samples = options.NoiseSamples, Sigma = options.NoiseSigma, Seed = options.Seed }, cancellationToken);
                Add(new MethodOutcome("SmoothGrad-IG", smooth, null, options.NoiseSamples * (options.NoiseSteps + 1), clock.Elapsed));
            }

            clock.Restart();
            if (Runs("blur-ig"))
                using (var r = BlurIntegratedGradients.Attribute(model, image, cls, new BlurIgOptions
                       { Steps = options.BlurSteps, MaxSigma = options.MaxSigma, BatchSize = options.BatchSize, Output = options.Output, Progress = PathProgress("Blur IG") }, cancellationToken))
                    Add(new MethodOutcome("Blur IG", r.Attributions.Clone(), r.RelativeDelta, r.Alphas.Length, clock.Elapsed));

            clock.Restart();
            if (Runs("guided-ig"))
                using (var r = GuidedIntegratedGradients.Attribute(model, image, null, cls, new GuidedIgOptions
                       { Steps = options.GuidedSteps, Output = options.Output, Progress = PathProgress("Guided IG") }, cancellationToken))
                    Add(new MethodOutcome("Guided IG", r.Attributions.Clone(), r.RelativeDelta, r.PathValues.Length, clock.Elapsed));

            clock.Restart();
            if (Runs("xrai"))
            {
                xrai = Xrai.Attribute(model, image, cls, new XraiOptions
                    { Steps = options.Steps, BatchSize = options.BatchSize, Output = options.Output, Progress = PathProgress("XRAI") }, cancellationToken);
                Add(new MethodOutcome("XRAI", xrai.Ig.Attributions, xrai.Ig.RelativeDelta, 2 * (options.Steps + 1), clock.Elapsed));
            }
            return new ComparisonResult { Methods = methods, Xrai = xrai, Target = cls };
        }
        catch
        {
            foreach (var m in methods) if (!ReferenceEquals(m.Attributions, xrai?.Ig.Attributions)) m.Attributions.Dispose();
            xrai?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The side-by-side figure: the original, then each method's Σ|attributions| clipped at
    /// <paramref name="clipPercentile"/> and scaled to [0, 1] (so the maps share one colour bar), then
    /// XRAI's top <paramref name="topFraction"/> of the image.
    /// </summary>
    public static Canvas Figure(Tensor image, ComparisonResult result, string? caption = null, Colormap? colormap = null, double clipPercentile = 99, double topFraction = 0.3)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(result);
        colormap ??= Colormap.Inferno;
        var pictures = new List<Tensor>();
        try
        {
            var panels = new List<(string, Tensor)> { ("Original", image) };
            foreach (var m in result.Methods.Where(m => m.Name != "XRAI"))
            {
                var picture = Visualization.ColorMap(m.Attributions, colormap, clipPercentile);
                pictures.Add(picture);
                string delta = m.RelativeDelta is { } d ? $"Δ {d * 100:0.##}%" : "no completeness";
                panels.Add(($"{m.Name}\n{delta}", picture));
            }
            if (result.Xrai is { } xrai)
            {
                var top = Visualization.Highlight(image, xrai.TopMask(topFraction));
                pictures.Add(top);
                panels.Add(($"XRAI top {topFraction * 100:0}%\nregions", top));
            }
            var bar = new Visualization.ColorBar(colormap, 0, 1, $"Σ|attributions|,\nclipped at {clipPercentile:0.#}th\npercentile");
            return Visualization.PanelRow(panels, caption, bar);
        }
        finally
        {
            foreach (var p in pictures) p.Dispose();
        }
    }
}
