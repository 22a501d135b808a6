namespace NativeIg.Ig;

/// <summary>
/// How <see cref="IntegratedGradients"/> integrates, as one record: a new option is a new property with
/// a default, never a new parameter. Start from <see cref="Default"/> and change what you need with
/// <c>with</c>: <c>IgOptions.Default with { Steps = 300, Threads = 4 }</c>.
/// </summary>
public sealed record IgOptions
{
    /// <summary>The tutorial's settings: 50 steps, trapezoid rule, the target's probability, batches of 32, all cores.</summary>
    public static IgOptions Default { get; } = new();

    /// <summary>Integration steps m (the path has m + 1 points for the trapezoid rule); 1…<see cref="IntegratedGradients.MaxSteps"/>.</summary>
    public int Steps { get; init; } = 50;

    /// <summary>Path images per forward and backward pass; bounds the memory, not the result (results are bit-identical for any batch size).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>The Riemann or trapezoid rule that places the alphas and weighs them.</summary>
    public IntegrationRule Rule { get; init; } = IntegrationRule.Trapezoid;

    /// <summary>What F is: the target's softmax probability (the tutorial) or its logit.</summary>
    public TargetOutput Output { get; init; } = TargetOutput.Probability;

    /// <summary>
    /// When set, <see cref="Steps"/> is only the start: the steps double until the completeness gap
    /// |Δ| is at most this fraction of |F(x) − F(x′)|, or <see cref="MaxSteps"/> is reached.
    /// </summary>
    public double? AutoStepsTolerance { get; init; }

    /// <summary>The most steps <see cref="AutoStepsTolerance"/> may double to.</summary>
    public int MaxSteps { get; init; } = 1600;

    /// <summary>Worker threads for this call's kernels (null: <see cref="NativeIg.Tensors.ComputeThreads.Current"/>). The result does not depend on it.</summary>
    public int? Threads { get; init; }

    /// <summary>Told after every chunk of path images (for progress bars); null for none.</summary>
    public IProgress<IgProgress>? Progress { get; init; }
}
