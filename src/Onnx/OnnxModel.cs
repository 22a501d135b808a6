using NativeIg.Autodiff;
using NativeIg.Tensors;

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
public sealed class OnnxModel : IDifferentiableModel, IDisposable
{
    private readonly OnnxGraphPlan _plan;

    private readonly Variable? _negatedMeanImage;

    private OnnxModel(OnnxGraphPlan plan, OnnxPreprocessing preprocessing, string source, ComputeDevice? device)
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

    /// <summary>Reads an .onnx file and builds its graph.</summary>
    /// <param name="path">The .onnx file (external data files are looked up beside it).</param>
    /// <param name="preprocessing">The input's size and normalisation; null: the <c>PATH.json</c> sidecar if there is one, else ImageNet's.</param>
    /// <param name="outputName">The graph output to explain (default: the first).</param>
    /// <exception cref="OnnxFormatException">The file is not a well-formed ONNX model; the message names the file and the node.</exception>
    /// <exception cref="OnnxUnsupportedException">The graph uses ops or attributes the engine does not have; the message lists every such node.</exception>
    public static OnnxModel Load(string path, OnnxPreprocessing? preprocessing = null, string? outputName = null)
    {
        var proto = OnnxReader.ReadFile(path);
        var p = OnnxGraphPlan.WithDeclaredSize(preprocessing ?? OnnxPreprocessing.FromSidecar(path) ?? new OnnxPreprocessing(), proto);
        return new OnnxModel(OnnxGraphPlan.Build(proto, path, p, outputName), p, path, null);
    }

    /// <summary>Builds a model from an .onnx file's bytes (a download, a resource); <paramref name="source"/> names it in errors. External data is not available this way.</summary>
    /// <exception cref="OnnxFormatException">The bytes are not a well-formed ONNX model.</exception>
    /// <exception cref="OnnxUnsupportedException">The graph uses ops or attributes the engine does not have.</exception>
    public static OnnxModel Load(byte[] bytes, string source = "ONNX model", OnnxPreprocessing? preprocessing = null, string? outputName = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var proto = OnnxReader.Read(bytes, source);
        var p = OnnxGraphPlan.WithDeclaredSize(preprocessing ?? new OnnxPreprocessing(), proto);
        return new OnnxModel(OnnxGraphPlan.Build(proto, source, p, outputName), p, source, null);
    }

    /// <summary>Reads an .onnx model from a stream to its end (at most the reader's size limit); see <see cref="Load(byte[], string, OnnxPreprocessing?, string?)"/>.</summary>
    public static OnnxModel Load(Stream stream, string source = "ONNX model stream", OnnxPreprocessing? preprocessing = null, string? outputName = null) =>
        Load(NativeIg.Tensors.IO.BoundedFile.ReadAll(stream, OnnxReader.MaxFileBytes, source, m => new OnnxFormatException(m)), source, preprocessing, outputName);

    /// <summary>A copy with its parameters on <paramref name="device"/> (host memory when null).</summary>
    public OnnxModel ToDevice(ComputeDevice? device) => new(_plan.ToDevice(device), Preprocessing, Source, device);

    /// <summary>Where the model came from (its path, or the source name given with its bytes), for messages.</summary>
    public string Source { get; }
    /// <summary>The input's size and normalisation in use.</summary>
    public OnnxPreprocessing Preprocessing { get; }
    /// <summary>Where the parameters live (null: host memory); see <see cref="ToDevice"/>.</summary>
    public ComputeDevice? Device { get; }
    /// <summary>[H, W, 3]: NHWC RGB in [0, 1].</summary>
    public int[] ImageShape => [Preprocessing.Height, Preprocessing.Width, 3];
    /// <summary>The number of outputs of the explained graph output.</summary>
    public int Classes => _plan.Classes;

    /// <summary>Whether the file's output was a softmax (probabilities); <see cref="Logits"/> stops before it.</summary>
    public bool EndsInSoftmax => _plan.EndsInSoftmax;

    /// <summary>What was converted while reading (float16 weights, folded layers, …).</summary>
    public IReadOnlyList<string> Notes => _plan.Notes;

    /// <summary>Multiply-adds of one image's forward pass (convolutions and fully connected layers), as measured when the graph was checked.</summary>
    public long MultiplyAddsPerImage => _plan.MultiplyAddsPerImage;

    /// <summary>Inputs, outputs, op counts, parameters and multiply-adds of one image, for <c>nativeig model</c>.</summary>
    public string Summary() => _plan.Summary(Source, Preprocessing);

    /// <summary>The graph output before any trailing softmax [N, <see cref="Classes"/>] for images [N, H, W, 3] RGB in [0, 1]; the preprocessing is the first op, so gradients are with respect to the caller's pixels.</summary>
    public Variable Logits(Tape tape, Variable images)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
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
    public Tensor PredictOutputs(Tensor images, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var limit = ComputeThreads.Limit(threads);
        using var onDevice = ((IDifferentiableModel)this).ToModelDevice(images);
        using var tape = Tape.ForInference();
        return RequireFinite(Logits(tape, tape.Input(onDevice ?? images, requiresGrad: false)).Value.ToHost());
    }

    /// <summary>Class probabilities [N, classes] for images [N, H, W, 3], keeping no activations, on at most <paramref name="threads"/> threads.</summary>
    public Tensor PredictProbabilities(Tensor images, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var limit = ComputeThreads.Limit(threads);
        using var onDevice = ((IDifferentiableModel)this).ToModelDevice(images);
        using var tape = Tape.ForInference();
        // A non-finite logit makes the softmax NaN, so the probabilities are what is checked (one host copy).
        var probabilities = tape.Softmax(Logits(tape, tape.Input(onDevice ?? images, requiresGrad: false)), "prob");
        return RequireFinite(probabilities.Value.ToHost());
    }

    /// <summary>
    /// <paramref name="outputs"/> when every value is a finite number; a NaN or infinity (an overflow in the
    /// graph, damaged weights) is an <see cref="OnnxFormatException"/>, never a "NaN%" shown as an answer.
    /// </summary>
    private Tensor RequireFinite(Tensor outputs)
    {
        var values = outputs.Span;
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
            {
                int perImage = values.Length / Math.Max(1, outputs.Dim(0));
                float bad = values[i];
                outputs.Dispose();
                throw new OnnxFormatException($"{Source}: output {i % perImage} of image {i / perImage} is {bad.ToString(System.Globalization.CultureInfo.InvariantCulture)}: the graph overflows or its weights are damaged.");
            }
        return outputs;
    }

    private int _disposed;

    /// <summary>Gives the parameters' memory back; the model must not be in use, and later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _plan.ReleaseParameters();
        if (_negatedMeanImage is not null) _negatedMeanImage.Value.Dispose();
    }
}
