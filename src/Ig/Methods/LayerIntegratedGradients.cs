using NativeIg.Autodiff;
using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Ig;

/// <summary>
/// Layer Integrated Gradients (Captum's LayerIntegratedGradients): IG of the target with respect to the
/// activations a of a named layer, along the straight path between a(x′) and a(x) in that layer. It is
/// input IG applied to the rest of the network, g(a) = F(layers after the one named), so every property
/// of <see cref="IntegratedGradients"/> holds at the layer: completeness Σ attributions = F(x) − F(x′)
/// to the rule's error, batch- and thread-independent results, the same chunking and devices.
/// </summary>
public static class LayerIntegratedGradients
{
    /// <summary>
    /// Attributions of <paramref name="target"/> (null: the predicted class) to each activation of
    /// <paramref name="layer"/> (e.g. <c>inception_4d/output</c>), shaped like the layer for one image
    /// ([14, 14, 528] there). <see cref="PerChannel"/> and <see cref="Spatial"/> sum them into the two
    /// views users read.
    /// </summary>
    /// <exception cref="ArgumentException">The model has no such layer (the message lists layers it has), or the image does not fit.</exception>
    public static IgResult Attribute(IDifferentiableModel model, Tensor image, string layer, Tensor? baseline = null, int? target = null,
        IgOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(layer);
        var ig = new IntegratedGradients(model);
        using var black = IntegratedGradients.BlackUnless(baseline, image);
        baseline ??= black!;
        int cls = ig.TargetOrPredicted(target, image);
        Tensor.RequireSameShape(baseline, image, "LayerIntegratedGradients (baseline vs image)");

        // 1. The path's ends in the layer: a(x) and a(x′), one inference pass.
        using var pair = Tensor.Uninitialized([2, .. image.Shape]);
        image.Span.CopyTo(pair.Span);
        baseline.Span.CopyTo(pair.Span[image.Length..]);
        using var activations = ModelLayers.Activations(model, pair, layer);
        int size = activations.Length / 2;
        var layerShape = activations.Shape[1..].ToArray();
        using var atInput = Tensor.Uninitialized(layerShape);
        using var atBaseline = Tensor.Uninitialized(layerShape);
        activations.Span[..size].CopyTo(atInput.Span);
        activations.Span[size..].CopyTo(atBaseline.Span);

        // 2. IG of the rest of the network between them.
        var rest = new RestOfNetwork(model, image, layer, layerShape);
        return new IntegratedGradients(rest).Attribute(atInput, atBaseline, cls, options, cancellationToken);
    }

    /// <summary>Per-channel attributions: the sum over every axis but the last (for [H, W, C]: one value per channel).</summary>
    public static double[] PerChannel(Tensor layerAttributions)
    {
        ArgumentNullException.ThrowIfNull(layerAttributions);
        int channels = layerAttributions.Shape[^1];
        var sums = new double[channels];
        var a = layerAttributions.Span;
        for (int i = 0; i < a.Length; i++) sums[i % channels] += a[i];
        return sums;
    }

    /// <summary>Spatial attributions [H, W]: the sum over channels of a layer's [H, W, C] attributions.</summary>
    public static Tensor Spatial(Tensor layerAttributions)
    {
        ArgumentNullException.ThrowIfNull(layerAttributions);
        if (layerAttributions.Rank != 3) throw new ArgumentException($"Spatial attributions need a [H, W, C] layer; got {layerAttributions.ShapeString}.", nameof(layerAttributions));
        int channels = layerAttributions.Dim(2);
        var result = Tensor.Zeros(layerAttributions.Dim(0), layerAttributions.Dim(1));
        var a = layerAttributions.Span;
        var r = result.Span;
        for (int p = 0; p < r.Length; p++)
        {
            double sum = 0;
            for (int c = 0; c < channels; c++) sum += a[p * channels + c];
            r[p] = (float)sum;
        }
        return result;
    }

    /// <summary>
    /// The network after <paramref name="layer"/>, as a model whose input is that layer's activations: the
    /// model runs on copies of the image (no gradients) and the layer's output is replaced by the path's
    /// activations, which the backward pass then reaches.
    /// </summary>
    private sealed class RestOfNetwork(IDifferentiableModel model, Tensor image, string layer, int[] layerShape) : IDifferentiableModel
    {
        public int[] ImageShape => layerShape;
        public int Classes => model.Classes;
        public NativeIg.Tensors.ComputeDevice? Device => model.Device;

        public Variable Logits(Tape tape, Variable activations)
        {
            int n = activations.Value.Dim(0);
            using var images = ModelLayers.Repeat(image, n, model.Device);
            bool replaced = false;
            var previous = tape.Intercept;
            tape.Intercept = v =>
            {
                if (v.Name != layer) return v;
                if (!v.Value.SameShape(activations.Value))
                    throw new InvalidOperationException($"Layer {layer} gave {v.Value.ShapeString}; the path's activations are {activations.Value.ShapeString}.");
                replaced = true;
                return activations;
            };
            try
            {
                var logits = model.Logits(tape, tape.Input(images, "images", requiresGrad: false));
                if (!replaced) throw new ArgumentException($"The model has no layer named '{layer}'.");
                return logits;
            }
            finally { tape.Intercept = previous; }
        }
    }
}
