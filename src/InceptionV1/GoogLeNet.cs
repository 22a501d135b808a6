using NativeIg.Autodiff;
using NativeIg.Tensors;

using NativeIg.Tensors.IO;

namespace NativeIg.InceptionV1;

/// <summary>
/// BVLC GoogLeNet (Caffe's Inception V1) on NHWC float32 RGB images in [0, 1]. The first op maps them
/// to Caffe's input (BGR·255 − mean) inside the differentiable graph, so gradients are with respect to
/// the user's pixels and a black baseline is all zeros.
/// </summary>
public sealed class GoogLeNet : IDifferentiableModel, IDisposable
{
    /// <summary>The input images' side: 224.</summary>
    public const int InputSize = 224;
    /// <summary>The ImageNet classes: 1000.</summary>
    public const int ClassCount = 1000;

    /// <summary>Caffe's per-channel mean in B, G, R order.</summary>
    public static IReadOnlyList<float> MeanBgr { get; } = Array.AsReadOnly([104f, 117f, 123f]);

    /// <summary>
    /// The network, row by row as in table 1 of the paper: the forward pass walks it, the parameter list
    /// and the tests' layer shapes are derived from it, and every forward checks each row's output size.
    /// </summary>
    public static IReadOnlyList<Stage> Table1 { get; } =
    [
        //               name                 patch stride pad  output size, depth
        Stage.Convolution("conv1/7x7_s2",     7,    2,     3,   112, 64),
        Stage.MaxPool    ("pool1/3x3_s2",     3,    2,     0,   56,  64),
        Stage.Lrn        ("pool1/norm1",                        56,  64),
        Stage.Convolution("conv2/3x3_reduce", 1,    1,     0,   56,  64),
        Stage.Convolution("conv2/3x3",        3,    1,     1,   56,  192),
        Stage.Lrn        ("conv2/norm2",                        56,  192),
        Stage.MaxPool    ("pool2/3x3_s2",     3,    2,     0,   28,  192),
        //               name          output size  #1×1 #3×3 reduce  #3×3 #5×5 reduce  #5×5 pool proj
        Stage.Inception  ("inception_3a", 28,        64,  96,          128, 16,          32,  32),
        Stage.Inception  ("inception_3b", 28,        128, 128,         192, 32,          96,  64),
        Stage.MaxPool    ("pool3/3x3_s2",     3,    2,     0,   14,  480),
        Stage.Inception  ("inception_4a", 14,        192, 96,          208, 16,          48,  64),
        Stage.Inception  ("inception_4b", 14,        160, 112,         224, 24,          64,  64),
        Stage.Inception  ("inception_4c", 14,        128, 128,         256, 24,          64,  64),
        Stage.Inception  ("inception_4d", 14,        112, 144,         288, 32,          64,  64),
        Stage.Inception  ("inception_4e", 14,        256, 160,         320, 32,          128, 128),
        Stage.MaxPool    ("pool4/3x3_s2",     3,    2,     0,   7,   832),
        Stage.Inception  ("inception_5a", 7,         256, 160,         320, 32,          128, 128),
        Stage.Inception  ("inception_5b", 7,         384, 192,         384, 48,          128, 128),
        Stage.AvgPool    ("pool5/7x7_s1",     7,    1,          1,   1024),
        Stage.Linear     ("loss3/classifier",                             1000),
    ];

    private static readonly LrnParameters LrnSettings = new(Size: 5, Alpha: 1e-4f, Beta: 0.75f, K: 1f);

    /// <summary>Every convolution, with its input size and geometry, in forward order (57 layers; the 3×3 and 5×5 branches read their reduce layers).</summary>
    public static IReadOnlyList<ConvolutionLayer> Convolutions { get; } = BuildConvolutions();

    /// <summary>Every parameter layer: name, kernel size (0 for the classifier), input channels, output channels (58 layers).</summary>
    public static IReadOnlyList<(string Name, int Kernel, int Inputs, int Outputs)> ParameterLayers { get; } =
        [.. Convolutions.Select(c => (c.Name, c.Kernel, c.Inputs, c.Outputs)), ("loss3/classifier", 0, Table1[^2].Depth, ClassCount)];

    private readonly Dictionary<string, (Variable Weight, Variable Bias)> _layers;

    /// <summary>[224, 224, 3]: NHWC RGB in [0, 1].</summary>
    public int[] ImageShape => [InputSize, InputSize, 3];
    /// <summary>1000.</summary>
    public int Classes => ClassCount;

    internal GoogLeNet(Dictionary<string, (Variable Weight, Variable Bias)> layers, ComputeDevice? device = null, bool ownsAll = true)
    {
        _layers = layers;
        Device = device;
        _owned = ownsAll ? [.. layers.Values] : [];
    }

    /// <summary>The parameters this instance gives back on <see cref="Dispose"/> (a randomised copy shares the rest with its source).</summary>
    private List<(Variable Weight, Variable Bias)> _owned;

    /// <summary>Where the parameters live (null: host memory); see <see cref="ToDevice"/>.</summary>
    public ComputeDevice? Device { get; }

    /// <summary>A copy of the model with its parameters on <paramref name="device"/> (host memory when null).</summary>
    public GoogLeNet ToDevice(ComputeDevice? device) =>
        new(_layers.ToDictionary(kv => kv.Key, kv => (
            Variable.Parameter(kv.Value.Weight.Value.To(device), kv.Value.Weight.Name),
            Variable.Parameter(kv.Value.Bias.Value.To(device), kv.Value.Bias.Name))), device);

    /// <summary>A parameter layer's weight (HWIO, or [in, out] for the classifier) and bias, by its Caffe name (for example <c>inception_4d/3x3</c>).</summary>
    public (Variable Weight, Variable Bias) Layer(string name) => _layers[name];

    /// <summary>
    /// The network's parameter blocks from the top down, the order of Adebayo et al.'s cascading
    /// randomisation: the classifier, then each inception block, then the stem convolutions.
    /// </summary>
    public static IReadOnlyList<string> BlocksTopDown { get; } =
        [.. Table1.Where(s => s.Type is StageType.Linear or StageType.Inception or StageType.Convolution).Select(s => s.Name).Reverse()];

    /// <summary>
    /// A copy whose parameter layers in <paramref name="blocks"/> (names from <see cref="BlocksTopDown"/>; a block
    /// is every layer whose name is it or starts with it and '/') are re-drawn from a normal distribution with
    /// each tensor's own standard deviation and mean 0, seeded; the other layers are shared with this model.
    /// Sanity checks (Adebayo et al. 2018) compare explanations of this copy with the trained model's.
    /// </summary>
    /// <exception cref="ArgumentException">A block name is not one of <see cref="BlocksTopDown"/>.</exception>
    public GoogLeNet WithRandomizedLayers(IEnumerable<string> blocks, int seed)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var chosen = blocks.ToHashSet();
        foreach (var block in chosen)
            if (!BlocksTopDown.Contains(block))
                throw new ArgumentException($"No parameter block named '{block}'; the blocks are {string.Join(", ", BlocksTopDown)}.", nameof(blocks));
        bool Randomized(string layer) => chosen.Any(b => layer == b || layer.StartsWith(b + "/", StringComparison.Ordinal));
        var layers = new Dictionary<string, (Variable Weight, Variable Bias)>();
        var random = new Random(seed);
        foreach (var (name, _, _, _) in ParameterLayers) // a fixed order, so the seed alone decides every value
        {
            var (weight, bias) = _layers[name];
            layers[name] = Randomized(name)
                ? (Variable.Parameter(Redraw(weight.Value, random).To(Device), weight.Name), Variable.Parameter(Redraw(bias.Value, random).To(Device), bias.Name))
                : (weight, bias);
        }
        return new GoogLeNet(layers, Device, ownsAll: false) { _owned = [.. layers.Where(kv => Randomized(kv.Key)).Select(kv => kv.Value)] };
    }

    /// <summary>N(0, sd(values)²) draws of the tensor's shape, in host memory.</summary>
    private static Tensor Redraw(Tensor values, Random random)
    {
        using var host = values.ToHost();
        var v = host.Span;
        double mean = 0, squares = 0;
        for (int i = 0; i < v.Length; i++) mean += v[i];
        mean /= Math.Max(v.Length, 1);
        for (int i = 0; i < v.Length; i++) squares += (v[i] - mean) * (v[i] - mean);
        double sd = Math.Sqrt(squares / Math.Max(v.Length, 1));
        var result = Tensor.Uninitialized(values.Shape.ToArray());
        var r = result.Span;
        for (int i = 0; i < r.Length; i++)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            r[i] = (float)(sd * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }
        return result;
    }

    /// <summary>The number of weights and biases: 6,998,552.</summary>
    public long ParameterCount => _layers.Values.Sum(l => (long)l.Weight.Value.Length + l.Bias.Value.Length);

    /// <summary>Loads weights from a caffemodel file (see <see cref="WeightsLoader"/>).</summary>
    public static GoogLeNet Load(string path, bool verifyChecksum = true) => WeightsLoader.Load(path, verifyChecksum);

    /// <summary>Loads the weights from a stream (read to its end); see <see cref="WeightsLoader.Load(byte[], string, bool)"/>.</summary>
    public static GoogLeNet Load(Stream stream, bool verifyChecksum = true) => WeightsLoader.Load(stream, verifyChecksum: verifyChecksum);

    /// <summary>Loads the weights from a caffemodel's bytes; see <see cref="WeightsLoader.Load(byte[], string, bool)"/>.</summary>
    public static GoogLeNet Load(byte[] bytes, bool verifyChecksum = true) => WeightsLoader.Load(bytes, verifyChecksum: verifyChecksum);

    /// <summary>Logits [N, 1000] for images [N, 224, 224, 3] RGB in [0, 1]: Caffe's preprocessing (BGR·255 − mean) is the first op, so gradients are with respect to the caller's pixels.</summary>
    public Variable Logits(Tape tape, Variable images)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var s = images.Value.Shape;
        if (s.Length != 4 || s[1] != InputSize || s[2] != InputSize || s[3] != 3)
            throw new ArgumentException($"GoogLeNet expects images of shape [N, {InputSize}, {InputSize}, 3] (NHWC RGB in [0,1]); got {images.Value.ShapeString}.");

        // RGB [0,1] → BGR·255 − mean: output channel c reads input channel 2 − c.
        var x = tape.ChannelAffine(images, [2, 1, 0], [255f, 255f, 255f], [-MeanBgr[0], -MeanBgr[1], -MeanBgr[2]], "data");
        foreach (var stage in Table1)
        {
            var output = Apply(tape, stage, x);
            RequireTableSize(stage, output);
            tape.Free(x); // on an inference tape the input of a row is dead once the row has run
            x = output;
        }
        return x;
    }

    /// <summary>One row of <see cref="Table1"/>. Every convolution is followed by a ReLU, fused.</summary>
    private Variable Apply(Tape tape, Stage stage, Variable x) => stage.Type switch
    {
        StageType.Convolution => Conv(tape, x, stage.Name, stage.Stride, stage.Pad),
        StageType.MaxPool => Pool(tape, x, stage),
        StageType.Lrn => tape.Lrn(x, LrnSettings, stage.Name),
        StageType.Inception => Inception(tape, x, stage.Block!.Value),
        // pool5/drop_7x7_s1 (dropout) follows here: the identity at inference.
        StageType.AvgPool => Pool(tape, x, stage),
        StageType.Linear => tape.FullyConnected(x, _layers[stage.Name].Weight, _layers[stage.Name].Bias, stage.Name),
        _ => throw new InvalidOperationException($"Unknown stage type {stage.Type}."),
    };

    private static void RequireTableSize(Stage stage, Variable output)
    {
        var s = output.Value.Shape;
        bool matches = stage.Type == StageType.Linear
            ? s.Length == 2 && s[1] == stage.Depth
            : s.Length == 4 && s[1] == stage.OutputSize && s[2] == stage.OutputSize && s[3] == stage.Depth;
        if (!matches)
            throw new InvalidOperationException($"{stage.Name} produced {output.Value.ShapeString}; table 1 says {stage.OutputSize}×{stage.OutputSize}×{stage.Depth}.");
    }

    /// <summary>Class probabilities [N, 1000] = softmax(logits).</summary>
    public Variable Probabilities(Tape tape, Variable images) => tape.Softmax(Logits(tape, images), "prob");

    /// <summary>
    /// Inference: probabilities [N, 1000] for images [N, 224, 224, 3], keeping no activations, on at most
    /// <paramref name="threads"/> threads (null: <see cref="ComputeThreads.Current"/>). Safe to call from many threads at once.
    /// </summary>
    public Tensor PredictProbabilities(Tensor images, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var limit = ComputeThreads.Limit(threads);
        using var onDevice = ((IDifferentiableModel)this).ToModelDevice(images);
        using var tape = Tape.ForInference();
        var probabilities = Probabilities(tape, tape.Input(onDevice ?? images, requiresGrad: false));
        return probabilities.Value.ToHost();
    }

    private int _disposed;

    /// <summary>
    /// Gives the parameters' memory back (host pool or device). The model must not be in use; later calls
    /// throw <see cref="ObjectDisposedException"/>. A copy made by <see cref="ToDevice"/> is disposed on its own.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        foreach (var (weight, bias) in _owned)
        {
            weight.ValueChanged();
            weight.Value.Dispose();
            bias.Value.Dispose();
        }
    }

    /// <summary>Four branches side by side — 1×1; 1×1 then 3×3; 1×1 then 5×5; 3×3 max pool then 1×1 — concatenated along channels.</summary>
    private Variable Inception(Tape tape, Variable x, InceptionSpec b)
    {
        var n = b.Name;
        var branch1 = Conv(tape, x, $"{n}/1x1", 1, 0);
        var branch3 = Then(tape, Conv(tape, x, $"{n}/3x3_reduce", 1, 0), t => Conv(tape, t, $"{n}/3x3", 1, 1));
        var branch5 = Then(tape, Conv(tape, x, $"{n}/5x5_reduce", 1, 0), t => Conv(tape, t, $"{n}/5x5", 1, 2));
        var branchPool = Then(tape, MaxPool(tape, x, 3, 1, 1, $"{n}/pool"), t => Conv(tape, t, $"{n}/pool_proj", 1, 0));
        var output = tape.Concat($"{n}/output", branch1, branch3, branch5, branchPool);
        foreach (var part in new[] { branch1, branch3, branch5, branchPool }) tape.Free(part);
        return output;
    }

    /// <summary>Applies the next layer of a branch and frees the branch's intermediate (a no-op when it is saved for backward).</summary>
    private static Variable Then(Tape tape, Variable input, Func<Variable, Variable> layer)
    {
        var output = layer(input);
        tape.Free(input);
        return output;
    }

    private Variable Conv(Tape tape, Variable x, string name, int stride, int pad)
    {
        var (w, b) = _layers[name];
        return tape.Conv2d(x, w, b, stride, pad, relu: true, name);
    }

    private static Variable Pool(Tape tape, Variable x, Stage stage) => stage.Type == StageType.MaxPool
        ? MaxPool(tape, x, stage.Patch, stage.Stride, stage.Pad, stage.Name)
        : tape.AvgPool(x, Geometry(x, stage.Patch, stage.Stride, stage.Pad), AvgPoolDivisor.IncludePadding, stage.Name);

    private static Variable MaxPool(Tape tape, Variable x, int kernel, int stride, int pad, string name) =>
        tape.MaxPool(x, Geometry(x, kernel, stride, pad), name);

    /// <summary>Caffe's pooling geometry: symmetric pad, output size rounded up.</summary>
    private static WindowGeometry Geometry(Variable x, int kernel, int stride, int pad)
    {
        var v = x.Value;
        return WindowGeometry.PoolCaffe(v.Dim(0), v.Dim(1), v.Dim(2), v.Dim(3), kernel, stride, pad);
    }

    /// <summary>Walks <see cref="Table1"/>: each convolution with the size and depth of what it reads.</summary>
    private static List<ConvolutionLayer> BuildConvolutions()
    {
        var layers = new List<ConvolutionLayer>();
        int size = InputSize, depth = 3;
        foreach (var stage in Table1)
        {
            if (stage.Type == StageType.Convolution)
                layers.Add(new(stage.Name, size, stage.Patch, stage.Stride, stage.Pad, depth, stage.Depth));
            if (stage.Block is { } b)
            {
                layers.Add(new($"{b.Name}/1x1", size, 1, 1, 0, depth, b.Conv1x1));
                layers.Add(new($"{b.Name}/3x3_reduce", size, 1, 1, 0, depth, b.Reduce3x3));
                layers.Add(new($"{b.Name}/3x3", size, 3, 1, 1, b.Reduce3x3, b.Conv3x3));
                layers.Add(new($"{b.Name}/5x5_reduce", size, 1, 1, 0, depth, b.Reduce5x5));
                layers.Add(new($"{b.Name}/5x5", size, 5, 1, 2, b.Reduce5x5, b.Conv5x5));
                layers.Add(new($"{b.Name}/pool_proj", size, 1, 1, 0, depth, b.PoolProj));
            }
            size = stage.OutputSize;
            depth = stage.Depth;
        }
        return layers;
    }
}

/// <summary>One convolution of the network: its input size (square), kernel, stride, pad, input and output channels.</summary>
public readonly record struct ConvolutionLayer(string Name, int InputSize, int Kernel, int Stride, int Pad, int Inputs, int Outputs);
