using NativeIg.Autodiff;
using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Ig;

/// <summary>A layer of a model: the name its op records under (GoogLeNet's are Caffe's blob names) and its output shape for one image.</summary>
public sealed record LayerInfo(string Name, IReadOnlyList<int> Shape)
{
    /// <summary>The name and shape, e.g. <c>inception_4d/output [14, 14, 528]</c>.</summary>
    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";
}

/// <summary>
/// The layers of any model of the engine, addressed by the names its ops already use, and how the
/// layer methods reach them: <see cref="Tape.Intercept"/> sees every op's output by name, so a layer is
/// watched, replaced, or the forward stopped there without the model knowing.
/// </summary>
public static class ModelLayers
{
    /// <summary>Every op output of one forward pass, in order, with its shape (one inference pass of a black image).</summary>
    public static IReadOnlyList<LayerInfo> List(IDifferentiableModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var layers = new List<LayerInfo>();
        var seen = new HashSet<string>();
        using var image = Tensor.Zeros([1, .. model.ImageShape]);
        using var onDevice = model.ToModelDevice(image);
        using var tape = Tape.ForInference();
        tape.Intercept = v =>
        {
            if (seen.Add(v.Name)) layers.Add(new LayerInfo(v.Name, v.Value.Shape[1..].ToArray()));
            return v;
        };
        model.Logits(tape, tape.Input(onDevice ?? image, requiresGrad: false));
        return layers;
    }

    /// <summary>The layer's shape for one image, or an <see cref="ArgumentException"/> that names the layers there are.</summary>
    public static LayerInfo Find(IDifferentiableModel model, string layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var layers = List(model);
        return layers.FirstOrDefault(l => l.Name == layer) ?? throw NotFound(layer, layers);
    }

    /// <summary>The error for a layer name the model does not have: what there is, so the user can pick.</summary>
    internal static ArgumentException NotFound(string layer, IReadOnlyList<LayerInfo> layers)
    {
        var outputs = layers.Where(l => l.Name.EndsWith("/output", StringComparison.Ordinal)).Select(l => l.Name).ToList();
        var names = outputs.Count > 0 ? outputs : layers.Select(l => l.Name).ToList();
        string list = string.Join(", ", names.Take(20)) + (names.Count > 20 ? $" and {names.Count - 20} more" : "");
        return new ArgumentException($"The model has no layer named '{layer}'. It has {layers.Count} layers, among them: {list}.", nameof(layer));
    }

    /// <summary>Thrown by an intercept to stop a model's forward at the layer it wanted.</summary>
    private sealed class LayerReached : Exception;

    /// <summary>
    /// Runs <paramref name="model"/> on <paramref name="images"/> until the op named <paramref name="layer"/>
    /// has recorded, and returns its output (null when the forward ended without it). Nothing after the
    /// layer runs: neuron attribution of an early layer costs only the layers before it.
    /// </summary>
    internal static Variable? RunTo(Tape tape, IDifferentiableModel model, Variable images, string layer)
    {
        Variable? found = null;
        var previous = tape.Intercept;
        tape.Intercept = v =>
        {
            if (v.Name != layer) return v;
            found = v;
            throw new LayerReached();
        };
        try { model.Logits(tape, images); }
        catch (LayerReached) { }
        finally { tape.Intercept = previous; }
        return found;
    }

    /// <summary>The activations [N, …] of <paramref name="layer"/> for images [N, H, W, C], in host memory.</summary>
    internal static Tensor Activations(IDifferentiableModel model, Tensor images, string layer)
    {
        using var onDevice = model.ToModelDevice(images);
        using var tape = Tape.ForInference();
        var found = RunTo(tape, model, tape.Input(onDevice ?? images, requiresGrad: false), layer)
            ?? throw NotFound(layer, List(model));
        return found.Value.Device is null ? found.Value.Clone() : found.Value.ToHost();
    }

    /// <summary>One image [H, W, C] repeated into a batch [n, H, W, C], where the model is.</summary>
    internal static Tensor Repeat(Tensor image, int n, NativeIg.Tensors.ComputeDevice? device)
    {
        var batch = Tensor.Uninitialized([n, .. image.Shape]);
        for (int i = 0; i < n; i++) image.Span.CopyTo(batch.Span.Slice(i * image.Length, image.Length));
        if (device is null) return batch;
        using (batch) return batch.To(device);
    }
}
