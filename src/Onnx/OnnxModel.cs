using NativeIg.Autodiff;
using NativeIg.Tensors;
using NativeIg.Tensors.Gpu;

namespace NativeIg.Onnx;

/// <summary>
/// An ONNX CNN as a differentiable model of the engine: images [N, H, W, 3] RGB in [0, 1] in, logits out,
/// on the same tape and kernels as GoogLeNet, so classify, IG, the baselines and the pictures work on it
/// unchanged. The file's NCHW weights become the engine's layouts at load (HWIO filters, [in, out]
/// fully-connected weights); activations stay NHWC. Preprocessing (<see cref="OnnxPreprocessing"/>) is
/// the first op of the graph, so gradients are with respect to the user's pixels. A trailing Softmax is
/// not run by <see cref="Logits"/> (IG applies its own for probability output), and
/// <see cref="EndsInSoftmax"/> says it was there.
/// </summary>
public sealed class OnnxModel : IDifferentiableModel
{
    private readonly OnnxGraphPlan _plan;

    private readonly Variable? _negatedMeanImage;

    private OnnxModel(OnnxGraphPlan plan, OnnxPreprocessing preprocessing, string source, GpuDevice? device)
    {
        _plan = plan;
        Preprocessing = preprocessing;
        Source = source;
        Device = device;
        if (preprocessing.NegatedMeanImageHwc() is { } mean)
        {
            using var host = Tensor.FromSpan(mean, preprocessing.Height, preprocessing.Width, 3);
            _negatedMeanImage = Variable.Parameter(host.To(device), "mean_image");
        }
    }

    /// <summary>Reads <paramref name="path"/> and builds its graph; preprocessing from the argument, else the sidecar, else ImageNet's.</summary>
    /// <param name="outputName">The graph output to explain (default: the first).</param>
    public static OnnxModel Load(string path, OnnxPreprocessing? preprocessing = null, string? outputName = null)
    {
        var proto = OnnxReader.ReadFile(path);
        var p = preprocessing ?? OnnxPreprocessing.FromSidecar(path) ?? new OnnxPreprocessing();
        return new OnnxModel(OnnxGraphPlan.Build(proto, path, p, outputName), p, path, null);
    }

    /// <summary>A copy with its parameters on <paramref name="device"/> (host memory when null).</summary>
    public OnnxModel ToDevice(GpuDevice? device) => new(_plan.ToDevice(device), Preprocessing, Source, device);

    public string Source { get; }
    public OnnxPreprocessing Preprocessing { get; }
    public GpuDevice? Device { get; }
    public int[] ImageShape => [Preprocessing.Height, Preprocessing.Width, 3];
    public int Classes => _plan.Classes;

    /// <summary>Whether the file's output was a softmax (probabilities); <see cref="Logits"/> stops before it.</summary>
    public bool EndsInSoftmax => _plan.EndsInSoftmax;

    /// <summary>What was converted while reading (float16 weights, folded layers, …).</summary>
    public IReadOnlyList<string> Notes => _plan.Notes;

    /// <summary>Multiply-adds of one image's forward pass (convolutions and fully connected layers), as measured when the graph was checked.</summary>
    public long MultiplyAddsPerImage => _plan.MultiplyAddsPerImage;

    /// <summary>Inputs, outputs, op counts, parameters and multiply-adds of one image, for <c>nativeig model</c>.</summary>
    public string Summary() => _plan.Summary(Source, Preprocessing);

    public Variable Logits(Tape tape, Variable images)
    {
        var s = images.Value.Shape;
        if (s.Length != 4 || s[1] != Preprocessing.Height || s[2] != Preprocessing.Width || s[3] != 3)
            throw new ArgumentException($"{Source} expects images of shape [N, {Preprocessing.Height}, {Preprocessing.Width}, 3] (NHWC RGB in [0,1]); got {images.Value.ShapeString}.");
        var (source, scale, shift) = Preprocessing.ChannelAffine();
        var x = tape.ChannelAffine(images, source, scale, shift, "preprocess");
        if (_negatedMeanImage is not null)
        {
            var centred = tape.AddBias(x, _negatedMeanImage, "mean_image");
            tape.Free(x);
            x = centred;
        }
        return _plan.Run(tape, x);
    }

    /// <summary>The model's outputs before any softmax [N, classes] (logits, or a featurizer's features) for images [N, H, W, 3].</summary>
    public Tensor PredictOutputs(Tensor images)
    {
        using var onDevice = Device is null ? null : images.To(Device);
        using var tape = Tape.ForInference();
        return Logits(tape, tape.Input(onDevice ?? images, requiresGrad: false)).Value.ToHost();
    }

    /// <summary>Class probabilities [N, classes] for images [N, H, W, 3], keeping no activations.</summary>
    public Tensor PredictProbabilities(Tensor images)
    {
        using var onDevice = Device is null ? null : images.To(Device);
        using var tape = Tape.ForInference();
        var probabilities = tape.Softmax(Logits(tape, tape.Input(onDevice ?? images, requiresGrad: false)), "prob");
        return probabilities.Value.ToHost();
    }
}
