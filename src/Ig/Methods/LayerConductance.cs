using System.Diagnostics;
using NativeIg.Autodiff;
using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Ig;

/// <summary>
/// Layer conductance (Dhamdhere, Sundararajan and Yan 2018; Captum's LayerConductance): how much of
/// the input path's change in F flows through each activation y_j of a layer,
/// Cond_j = ∫₀¹ ∂F/∂y_j · dy_j/dα dα along the straight input path x′ → x. It is computed on the path's
/// m+1 points with the trapezoid rule on each segment, Σ_k ½(∂F/∂y(x_k) + ∂F/∂y(x_k+1))·(y(x_k+1) − y(x_k)),
/// so Σ_j Cond_j = F(x) − F(x′) to O(1/m²), whatever the layers between the input and y do.
/// </summary>
public static class LayerConductance
{
    /// <summary>Conductance of each activation of <paramref name="layer"/> for <paramref name="target"/> (null: the predicted class), shaped like the layer for one image.</summary>
    /// <exception cref="ArgumentException">The model has no such layer, or the image does not fit.</exception>
    public static IgResult Attribute(IDifferentiableModel model, Tensor image, string layer, Tensor? baseline = null, int? target = null,
        IgOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(layer);
        options ??= IgOptions.Default;
        if (options.Steps is < 1 or > IntegratedGradients.MaxSteps) throw new ArgumentOutOfRangeException(nameof(options), $"Steps must be in 1…{IntegratedGradients.MaxSteps}, got {options.Steps}.");
        if (options.BatchSize is < 1 or > IntegratedGradients.MaxBatchSize) throw new ArgumentOutOfRangeException(nameof(options), $"BatchSize must be in 1…{IntegratedGradients.MaxBatchSize}, got {options.BatchSize}.");
        using var threads = NativeIg.Tensors.ComputeThreads.Limit(options.Threads);
        var clock = Stopwatch.StartNew();
        var gradientClock = new Stopwatch();
        var ig = new IntegratedGradients(model);
        using var black = IntegratedGradients.BlackUnless(baseline, image);
        baseline ??= black!;
        int cls = ig.TargetOrPredicted(target, image);
        Tensor.RequireSameShape(baseline, image, "LayerConductance (baseline vs image)");

        var alphas = PathRules.Linspace(0, 1, options.Steps + 1);
        var pathValues = new double[alphas.Length];
        var meanGradients = new double[alphas.Length];
        double[]? conductance = null, previousY = null, previousG = null;
        int[]? layerShape = null;
        foreach (var (start, count) in IntegratedGradients.Chunks(alphas.Length, options.BatchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            gradientClock.Start();
            using var images = IntegratedGradients.InterpolateImages(baseline, image, alphas.AsSpan(start, count));
            var (y, g, values) = LayerGradients(model, images, layer, cls, options.Output);
            gradientClock.Stop();
            using (y) using (g)
            {
                int size = y.Length / count;
                layerShape ??= y.Shape[1..].ToArray();
                conductance ??= new double[size];
                var ys = y.Span; var gs = g.Span;
                for (int j = 0; j < count; j++)
                {
                    var yj = ys.Slice(j * size, size); var gj = gs.Slice(j * size, size);
                    if (previousY is not null)
                        for (int i = 0; i < size; i++) conductance[i] += 0.5 * ((double)previousG![i] + gj[i]) * ((double)yj[i] - previousY[i]);
                    previousY ??= new double[size];
                    previousG ??= new double[size];
                    double sum = 0;
                    for (int i = 0; i < size; i++) { previousY[i] = yj[i]; previousG[i] = gj[i]; sum += gj[i]; }
                    pathValues[start + j] = values[j];
                    meanGradients[start + j] = sum / size;
                }
            }
            options.Progress?.Report(new IgProgress(start + count, alphas.Length, 0, 1));
        }
        var result = Tensor.Uninitialized(layerShape!);
        for (int i = 0; i < conductance!.Length; i++) result[i] = (float)conductance[i];
        return new IgResult
        {
            Attributions = result, Target = cls, Output = options.Output, Rule = IntegrationRule.Trapezoid, Steps = options.Steps,
            FInput = pathValues[^1], FBaseline = pathValues[0], Alphas = alphas, PathValues = pathValues, MeanPathGradients = meanGradients,
            Elapsed = clock.Elapsed, GradientTime = gradientClock.Elapsed,
        };
    }

    /// <summary>
    /// For images [n, H, W, C]: the layer's activations y [n, …], ∂F/∂y there [n, …] (host memory), and F.
    /// The layer's output is replaced by a leaf holding the same values, so the backward pass stops at it.
    /// </summary>
    internal static (Tensor Activations, Tensor Gradients, float[] Values) LayerGradients(IDifferentiableModel model, Tensor images, string layer, int target, TargetOutput output)
    {
        using var onDevice = model.ToModelDevice(images);
        using var tape = new Tape();
        Variable? leaf = null;
        tape.Intercept = v => v.Name == layer && leaf is null ? leaf = tape.Input(v.Value, layer, requiresGrad: true) : v;
        var logits = model.Logits(tape, tape.Input(onDevice ?? images, "images", requiresGrad: false));
        tape.Intercept = null;
        if (leaf is null) throw ModelLayers.NotFound(layer, ModelLayers.List(model));
        var activations = leaf.Value.ToHost(); // before Backward: the tape gives the layer's storage back then
        var f = output == TargetOutput.Probability ? tape.Softmax(logits, "prob") : logits;
        var selected = tape.SelectColumn(f, target, "target");
        float[] values;
        using (var host = selected.Value.ToHost()) values = host.ToArray();
        using var seed = Tensor.Filled(1f, images.Dim(0));
        tape.Backward(selected, seed);
        var gradient = leaf.Grad ?? throw new InvalidOperationException($"The model's output does not depend on layer {layer}.");
        var gradients = gradient.ToHost();
        gradient.Dispose();
        return (activations, gradients, values);
    }
}
