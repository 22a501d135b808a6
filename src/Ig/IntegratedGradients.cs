using System.Diagnostics;
using System.Numerics.Tensors;
using NativeIg.Autodiff;

using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Ig;

/// <summary>What F is: the target class's softmax probability (the tutorial) or its logit.</summary>
public enum TargetOutput
{
    /// <summary>The target's softmax probability, as in the tutorial.</summary>
    Probability,
    /// <summary>The target's logit (no softmax): attributions that do not saturate with confidence.</summary>
    Logit,
}

/// <summary>
/// Progress of one attribution: path images whose gradients are done, out of all; <c>ImagesTotal</c> is 0
/// when the method cannot know it in advance (Guided IG's moves follow the gradients).
/// </summary>
public readonly record struct IgProgress(int ImagesDone, int ImagesTotal, int BaselineIndex, int Baselines);

/// <summary>
/// The attributions and everything needed to judge them. Completeness (IG's axiom) says
/// Σ attributions = F(x) − F(x′); <see cref="Delta"/> is how far the approximation is from it.
/// </summary>
public sealed class IgResult : IDisposable
{
    /// <summary>Attributions, the input's shape [H, W, C].</summary>
    public required Tensor Attributions { get; init; }
    /// <summary>The class explained.</summary>
    public required int Target { get; init; }
    /// <summary>What F was: probability or logit.</summary>
    public required TargetOutput Output { get; init; }
    /// <summary>The rule that placed and weighed the alphas.</summary>
    public required IntegrationRule Rule { get; init; }
    /// <summary>The steps used (with automatic steps, where the doubling stopped).</summary>
    public required int Steps { get; init; }
    /// <summary>F(x): the target's output at the input.</summary>
    public required double FInput { get; init; }
    /// <summary>F(x′): at the baseline (the mean over baselines when there are several).</summary>
    public required double FBaseline { get; init; }
    /// <summary>Alphas of the path, and F and the mean input gradient at each (the tutorial's saturation plots).</summary>
    public required double[] Alphas { get; init; }
    /// <summary>F at each alpha.</summary>
    public required double[] PathValues { get; init; }
    /// <summary>The mean input gradient at each alpha.</summary>
    public required double[] MeanPathGradients { get; init; }
    /// <summary>Wall time of the whole call.</summary>
    public required TimeSpan Elapsed { get; init; }
    /// <summary>The part of <see cref="Elapsed"/> spent in forward and backward passes.</summary>
    public required TimeSpan GradientTime { get; init; }

    /// <summary>Σ attributions, in float64.</summary>
    public double Sum => TensorPrimitives.Sum(Attributions.Span);
    /// <summary>The completeness gap Σ attributions − (F(x) − F(x′)); zero for the exact integral.</summary>
    public double Delta => Sum - (FInput - FBaseline);
    /// <summary>|Δ| / |F(x) − F(x′)|.</summary>
    public double RelativeDelta => Math.Abs(Delta) / Math.Max(Math.Abs(FInput - FBaseline), 1e-30);

    /// <summary>Gives the attributions' storage back.</summary>
    public void Dispose() => Attributions.Dispose();
}

/// <summary>
/// Integrated Gradients (Sundararajan, Taly and Yan, 2017) for any differentiable model of the
/// engine: IG_i(x) = (x_i − x′_i)·∫₀¹ ∂F(x′ + α(x − x′))/∂x_i dα. The steps of the TensorFlow
/// tutorial stay separate public functions — alphas (<see cref="PathRules"/>),
/// <see cref="InterpolateImages"/>, <see cref="ComputeGradients"/>, <see cref="IntegralApproximation(Tensor, ReadOnlySpan{double})"/>
/// and <see cref="ScaleByInputDifference(Tensor, Tensor, Tensor)"/> — and <see cref="Attribute(Tensor, Tensor?, int?, IgOptions?, CancellationToken)"/> runs them chunk by chunk so
/// memory is bounded by the batch, not by the number of steps.
/// </summary>
public sealed class IntegratedGradients(IDifferentiableModel model)
{
    /// <summary>The model explained.</summary>
    public IDifferentiableModel Model { get; } = model;

    /// <summary>
    /// Integrated Gradients of <paramref name="image"/> [H, W, C] against <paramref name="baseline"/>
    /// (null: a black image, the tutorial's baseline) for class <paramref name="target"/> (null: the
    /// class the model predicts for the image), with <paramref name="options"/> (null: <see cref="IgOptions.Default"/>).
    /// One instance serves many threads at once; each call's result is the same as if it ran alone.
    /// </summary>
    /// <exception cref="ArgumentException">The image or baseline does not fit the model, or the target is not a class.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of its range.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (checked between chunks).</exception>
    public IgResult Attribute(Tensor image, Tensor? baseline = null, int? target = null, IgOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (baseline is not null) return AttributeAveraged(image, [baseline], target, options, cancellationToken);
        using var black = Tensor.Zeros(image.Shape.ToArray());
        return AttributeAveraged(image, [black], target, options, cancellationToken);
    }

    /// <summary>
    /// Integrated Gradients averaged over several baselines (expected-gradients style): F(x′) is the
    /// mean over the baselines. <paramref name="target"/> null means the predicted class.
    /// </summary>
    /// <exception cref="ArgumentException">An image or baseline does not fit the model, or the target is not a class.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of its range.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (checked between chunks).</exception>
    public IgResult AttributeAveraged(Tensor image, IReadOnlyList<Tensor> baselines, int? target = null, IgOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(baselines);
        options ??= IgOptions.Default;
        using var threads = NativeIg.Tensors.ComputeThreads.Limit(options.Threads);
        int cls = target ?? PredictedClass(image);
        if (options.AutoStepsTolerance is { } tolerance)
        {
            if (baselines.Count != 1) throw new ArgumentException("Automatic steps work with one baseline; pass one, or fixed Steps.", nameof(baselines));
            return AutoSteps(image, baselines[0], cls, tolerance, options.Steps, options.MaxSteps, options.BatchSize, options.Rule, options.Output, options.Progress, cancellationToken);
        }
        return AttributeAveraged(image, baselines, cls, options.Steps, options.BatchSize, options.Rule, options.Output, options.Progress, cancellationToken);
    }

    /// <summary>The class a method explains: <paramref name="target"/> checked against the model's classes, or the predicted class (which also checks the image's shape).</summary>
    internal int TargetOrPredicted(int? target, Tensor image)
    {
        int cls = target ?? PredictedClass(image);
        if ((uint)cls >= (uint)Model.Classes) throw new ArgumentOutOfRangeException(nameof(target), $"Target class {cls} is outside [0, {Model.Classes}).");
        return cls;
    }

    /// <summary>A black image of the input's shape when no baseline is given (the caller disposes it), else null.</summary>
    internal static Tensor? BlackUnless(Tensor? baseline, Tensor image) => baseline is null ? Tensor.Zeros(image.Shape.ToArray()) : null;

    /// <summary>The class the model gives the highest logit for <paramref name="image"/> [H, W, C] (the lowest index on a tie).</summary>
    public int PredictedClass(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        Validate(image, [image], 0, 1, 1);
        using var batch = image.Reshape([1, .. image.Shape]);
        using var onDevice = Model.ToModelDevice(batch);
        using var tape = Tape.ForInference();
        var logits = Model.Logits(tape, tape.Input(onDevice ?? batch, requiresGrad: false));
        using var host = logits.Value.ToHost();
        var values = host.Span;
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    /// <summary>(Positional form, for the tests.) Attributions of <paramref name="image"/> [H, W, C] for class <paramref name="target"/> against one baseline.</summary>
    internal IgResult Attribute(Tensor image, Tensor baseline, int target, int steps = 50, int batchSize = 32,
        IntegrationRule rule = IntegrationRule.Trapezoid, TargetOutput output = TargetOutput.Probability,
        IProgress<IgProgress>? progress = null, CancellationToken cancellation = default)
        => AttributeAveraged(image, [baseline], target, steps, batchSize, rule, output, progress, cancellation);

    /// <summary>Attributions averaged over several baselines (expected-gradients style); F(x′) is the mean over baselines.</summary>
    internal IgResult AttributeAveraged(Tensor image, IReadOnlyList<Tensor> baselines, int target, int steps = 50, int batchSize = 32,
        IntegrationRule rule = IntegrationRule.Trapezoid, TargetOutput output = TargetOutput.Probability,
        IProgress<IgProgress>? progress = null, CancellationToken cancellation = default)
    {
        Validate(image, baselines, target, steps, batchSize);
        var clock = Stopwatch.StartNew();
        var gradientClock = new Stopwatch();
        // 1. The alphas along the path, and the integration rule's weight for each.
        var (alphas, weights) = PathRules.AlphasAndWeights(rule, steps);
        var attributions = new double[image.Length];
        var pathValues = new double[alphas.Length];
        var meanGradients = new double[alphas.Length];
        // F at a path endpoint that is bitwise the input or a baseline needs no forward of its own.
        double? fInputFromPath = null;
        var fBaselineFromPath = new double?[baselines.Count];
        GradientFunction gradientsAt = images => GradientsWhereTheModelIs(images, target, output);
        for (int b = 0; b < baselines.Count; b++)
        {
            var baseline = baselines[b];
            // Where the steps run: in host memory, or all on the model's device (only F and the mean
            // gradient of each path image come back per chunk).
            using PathIntegral path = Model.Device is { } device
                ? new DevicePathIntegral(device, image, baseline, Math.Min(batchSize, alphas.Length), gradientsAt)
                : new HostPathIntegral(image, baseline, gradientsAt);
            // Chunk by chunk, so memory is bounded by the batch and not by the number of steps.
            foreach (var (start, count) in Chunks(alphas.Length, batchSize))
            {
                cancellation.ThrowIfCancellationRequested();
                gradientClock.Start();
                float[] values;
                double[] means;
                using (path.BeginChunk(count))
                {
                    // 2. Interpolate the path images x′ + α(x − x′).
                    using var images = path.InterpolateImages(alphas.AsSpan(start, count));
                    // 3. Compute the gradients of F at each of them (and F itself).
                    var (gradients, fValues) = path.ComputeGradients(images);
                    using (gradients)
                    {
                        // 4. Integral approximation: add the rule's weighted sum of this chunk's gradients.
                        path.IntegralApproximation(gradients, weights.AsSpan(start, count));
                        means = path.MeanGradients(gradients);
                    }
                    values = fValues;
                }
                gradientClock.Stop();
                for (int j = 0; j < count; j++)
                {
                    pathValues[start + j] += values[j] / baselines.Count;
                    meanGradients[start + j] += means[j] / baselines.Count;
                    // The path's endpoints are the baseline and the input exactly (InterpolateImages).
                    if (alphas[start + j] == 0) fBaselineFromPath[b] = values[j];
                    if (alphas[start + j] == 1) fInputFromPath = values[j];
                }
                progress?.Report(new IgProgress(start + count, alphas.Length, b, baselines.Count));
            }
            // 5. Scale the integral by the input difference (x − x′), averaged over the baselines.
            ScaleByInputDifference(path.Integral(), image, baseline, attributions, baselines.Count);
        }
        // Otherwise F(x) and F(x′) take their own forward: x′ + 1·(x − x′) need not be x in float32.
        var missing = new List<Tensor>();
        if (fInputFromPath is null) missing.Add(image);
        for (int b = 0; b < baselines.Count; b++)
            if (fBaselineFromPath[b] is null) missing.Add(baselines[b]);
        var evaluated = missing.Count > 0 ? Evaluate(missing, target, output) : [];
        int next = 0;
        double fInput = fInputFromPath ?? evaluated[next++], fBaseline = 0;
        for (int b = 0; b < baselines.Count; b++) fBaseline += (fBaselineFromPath[b] ?? evaluated[next++]) / baselines.Count;

        var result = Tensor.Uninitialized(image.Shape.ToArray());
        var r = result.Span;
        for (int i = 0; i < r.Length; i++) r[i] = (float)attributions[i];
        return new IgResult
        {
            Attributions = result, Target = target, Output = output, Rule = rule, Steps = steps,
            FInput = fInput, FBaseline = fBaseline, Alphas = alphas, PathValues = pathValues, MeanPathGradients = meanGradients,
            Elapsed = clock.Elapsed, GradientTime = gradientClock.Elapsed,
        };
    }

    /// <summary>
    /// Starts at <paramref name="startSteps"/> and doubles the steps until |Δ| ≤ tolerance·|F(x) − F(x′)|
    /// or <paramref name="maxSteps"/> is reached; the result's <see cref="IgResult.Steps"/> says where it stopped.
    /// </summary>
    internal IgResult AutoSteps(Tensor image, Tensor baseline, int target, double tolerance, int startSteps = 50, int maxSteps = 1600,
        int batchSize = 32, IntegrationRule rule = IntegrationRule.Trapezoid, TargetOutput output = TargetOutput.Probability,
        IProgress<IgProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (!(tolerance > 0) || !double.IsFinite(tolerance)) throw new ArgumentOutOfRangeException(nameof(tolerance), $"The tolerance must be a finite number > 0, got {tolerance}.");
        if (maxSteps > MaxSteps) throw new ArgumentOutOfRangeException(nameof(maxSteps), $"maxSteps must be ≤ {MaxSteps}, got {maxSteps}.");
        if (startSteps < 1 || maxSteps < startSteps) throw new ArgumentOutOfRangeException(nameof(maxSteps), $"Need 1 ≤ startSteps ≤ maxSteps; got {startSteps} and {maxSteps}.");
        for (int steps = startSteps; ; steps = Math.Min(steps * 2, maxSteps))
        {
            var result = Attribute(image, baseline, target, steps, batchSize, rule, output, progress, cancellation);
            if (result.RelativeDelta <= tolerance || steps >= maxSteps) return result;
            result.Dispose();
        }
    }

    /// <summary>
    /// Path images [n, H, W, C]: x′ + α_k·(x − x′) for each alpha (the tutorial's interpolate_images).
    /// α = 0 and α = 1 give x′ and x exactly (float rounding of x′ + 1·(x − x′) could move the
    /// endpoint), so F there is F(x′) and F(x) and IG needs no separate forward for them.
    /// </summary>
    public static Tensor InterpolateImages(Tensor baseline, Tensor image, ReadOnlySpan<double> alphas)
    {
        Tensor.RequireSameShape(baseline, image, "InterpolateImages (baseline vs image)");
        int size = image.Length;
        var shape = new int[image.Rank + 1];
        shape[0] = alphas.Length;
        image.Shape.CopyTo(shape.AsSpan(1));
        var path = Tensor.Uninitialized(shape);
        using var delta = Tensor.Uninitialized(image.Shape.ToArray());
        TensorPrimitives.Subtract(image.Span, baseline.Span, delta.Span);
        var p = path.Span;
        for (int k = 0; k < alphas.Length; k++)
        {
            var row = p.Slice(k * size, size);
            if (alphas[k] == 0) baseline.Span.CopyTo(row);
            else if (alphas[k] == 1) image.Span.CopyTo(row);
            else TensorPrimitives.MultiplyAdd(delta.Span, (float)alphas[k], baseline.Span, row);
        }
        return path;
    }

    /// <summary>∂F/∂images for a batch [n, H, W, C] (the tutorial's compute_gradients), and F of each image; both in host memory.</summary>
    public (Tensor Gradients, float[] Values) ComputeGradients(Tensor images, int target, TargetOutput output)
    {
        // On a device model the batch goes over, and gradients and values come back to host memory.
        using var onDevice = Model.ToModelDevice(images);
        var (gradients, values) = GradientsWhereTheModelIs(onDevice ?? images, target, output);
        if (gradients.Device is null) return (gradients, values);
        var host = gradients.ToHost();
        gradients.Dispose();
        return (host, values);
    }

    /// <summary>∂F/∂images for a batch already where the model is; the gradients stay there.</summary>
    internal (Tensor Gradients, float[] Values) GradientsWhereTheModelIs(Tensor images, int target, TargetOutput output)
    {
        using var tape = new Tape();
        var x = tape.Input(images, "images");
        var selected = tape.SelectColumn(Target(tape, x, output), target, "target");
        float[] values;
        using (var hostValues = selected.Value.ToHost()) values = hostValues.ToArray();
        using var seed = Tensor.Filled(1f, images.Dim(0));
        tape.Backward(selected, seed);
        var gradients = x.Grad ?? throw new InvalidOperationException("The model's output does not depend on its input.");
        return (gradients, values);
    }

    /// <summary>Σ_k weight_k·gradients[k] (the tutorial's integral_approximation with the rule's weights).</summary>
    public static Tensor IntegralApproximation(Tensor gradients, ReadOnlySpan<double> weights)
    {
        var sum = new double[gradients.Length / Math.Max(gradients.Dim(0), 1)];
        IntegralApproximation(gradients, weights, sum);
        var result = Tensor.Uninitialized(gradients.Shape[1..].ToArray());
        for (int i = 0; i < sum.Length; i++) result[i] = (float)sum[i];
        return result;
    }

    /// <summary>sum += Σ_k weight_k·gradients[k], in float64: the running form <see cref="AttributeAveraged(Tensor, IReadOnlyList{Tensor}, int?, IgOptions?, CancellationToken)"/> feeds chunk by chunk.</summary>
    public static void IntegralApproximation(Tensor gradients, ReadOnlySpan<double> weights, Span<double> sum)
    {
        if (gradients.Dim(0) != weights.Length)
            throw new ArgumentException($"IntegralApproximation: {gradients.Dim(0)} gradients but {weights.Length} weights.");
        int size = gradients.Length / weights.Length;
        if (sum.Length != size) throw new ArgumentException($"IntegralApproximation: a sum of {sum.Length} values for gradients of {size}.");
        var g = gradients.Span;
        for (int k = 0; k < weights.Length; k++)
        {
            var row = g.Slice(k * size, size);
            double weight = weights[k];
            for (int i = 0; i < size; i++) sum[i] += weight * row[i];
        }
    }

    /// <summary>(x − x′) ⊙ integrated gradients: the attributions.</summary>
    public static Tensor ScaleByInputDifference(Tensor integratedGradients, Tensor image, Tensor baseline)
    {
        Tensor.RequireSameShape(integratedGradients, image, "ScaleByInputDifference (gradients vs image)");
        Tensor.RequireSameShape(baseline, image, "ScaleByInputDifference (baseline vs image)");
        var result = Tensor.Uninitialized(image.Shape.ToArray());
        TensorPrimitives.Subtract(image.Span, baseline.Span, result.Span);
        TensorPrimitives.Multiply(result.Span, integratedGradients.Span, result.Span);
        return result;
    }

    /// <summary>
    /// attributions += (x − x′) ⊙ integral / <paramref name="averageOver"/>, in float64: the form
    /// <see cref="AttributeAveraged(Tensor, IReadOnlyList{Tensor}, int?, IgOptions?, CancellationToken)"/> uses to average over baselines.
    /// </summary>
    public static void ScaleByInputDifference(ReadOnlySpan<double> integral, Tensor image, Tensor baseline, Span<double> attributions, int averageOver = 1)
    {
        Tensor.RequireSameShape(baseline, image, "ScaleByInputDifference (baseline vs image)");
        if (integral.Length != image.Length || attributions.Length != image.Length)
            throw new ArgumentException($"ScaleByInputDifference: integral of {integral.Length} and attributions of {attributions.Length} values for an image of {image.Length}.");
        var x = image.Span; var xb = baseline.Span;
        for (int i = 0; i < x.Length; i++) attributions[i] += integral[i] * ((double)x[i] - xb[i]) / averageOver;
    }

    /// <summary>F for single images [H, W, C] (inference only).</summary>
    public double[] Evaluate(IReadOnlyList<Tensor> images, int target, TargetOutput output)
    {
        var shape = new[] { images.Count }.Concat(images[0].Shape.ToArray()).ToArray();
        using var batch = Tensor.Uninitialized(shape);
        int size = images[0].Length;
        for (int i = 0; i < images.Count; i++) images[i].Span.CopyTo(batch.Span.Slice(i * size, size));
        using var onDevice = Model.ToModelDevice(batch);
        using var tape = Tape.ForInference();
        var y = Target(tape, tape.Input(onDevice ?? batch, requiresGrad: false), output);
        int classes = y.Value.Dim(1);
        using var host = y.Value.ToHost();
        return Enumerable.Range(0, images.Count).Select(i => (double)host[i * classes + target]).ToArray();
    }

    private Variable Target(Tape tape, Variable images, TargetOutput output)
    {
        var logits = Model.Logits(tape, images);
        return output == TargetOutput.Probability ? tape.Softmax(logits, "prob") : logits;
    }

    /// <summary>
    /// The path in chunks of <paramref name="batchSize"/> images, except that a short remainder is
    /// shared with the chunk before it (51 images at batch 32: 32 + 19; 1001: 30 × 32 + 21 + 20), so
    /// every chunk holds between half a batch and a batch. Peak memory is then one full batch at any
    /// step count, and the smaller chunks reuse the full chunks' pooled buffers (at most 2× larger)
    /// instead of allocating their own.
    /// </summary>
    internal static IEnumerable<(int Start, int Count)> Chunks(int total, int batchSize)
    {
        int full = total / batchSize, rest = total % batchSize;
        if (rest > 0 && rest < (batchSize + 1) / 2 && full > 0)
        {
            full--;
            rest += batchSize; // split below into two near-halves
        }
        int start = 0;
        for (int i = 0; i < full; i++, start += batchSize) yield return (start, batchSize);
        if (rest > batchSize)
        {
            yield return (start, (rest + 1) / 2);
            yield return (start + (rest + 1) / 2, rest / 2);
        }
        else if (rest > 0) yield return (start, rest);
    }

    /// <summary>The most path steps one call takes (a million steps is hours of work and 32 MB of per-step arrays).</summary>
    public const int MaxSteps = 1_000_000;

    /// <summary>The most path images per forward/backward batch (each costs about 10 MB of activations on GoogLeNet).</summary>
    public const int MaxBatchSize = 1024;

    private void Validate(Tensor image, IReadOnlyList<Tensor> baselines, int target, int steps, int batchSize)
    {
        if (steps is < 1 or > MaxSteps) throw new ArgumentOutOfRangeException(nameof(steps), $"steps must be in 1…{MaxSteps}, got {steps}.");
        if (batchSize is < 1 or > MaxBatchSize) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batch size must be in 1…{MaxBatchSize}, got {batchSize}.");
        if (!image.Shape.SequenceEqual(Model.ImageShape))
            throw new ArgumentException($"The image has shape {image.ShapeString}; the model takes {Tensor.Describe(Model.ImageShape)}.");
        if (baselines.Count == 0) throw new ArgumentException("At least one baseline is needed.");
        foreach (var baseline in baselines)
            if (!baseline.SameShape(image))
                throw new ArgumentException($"The baseline has shape {baseline.ShapeString}; the image has {image.ShapeString}.");
        if ((uint)target >= (uint)Model.Classes)
            throw new ArgumentOutOfRangeException(nameof(target), $"Target class {target} is outside [0, {Model.Classes}).");
    }
}
